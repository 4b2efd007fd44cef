//! A minimal edit of an ONNX model's bytes: make the height and width of one NCHW graph
//! input symbolic, so that a fully convolutional network declared with a fixed square input
//! (NanoDet-m's 416x416) can run on the letterboxed frame's own aspect ratio instead of on
//! a square that is 40% padding for a 16:9 frame.
//!
//! ONNX files are protocol buffers. Only the messages on the path
//! `ModelProto.graph -> GraphProto.input[name] -> ValueInfoProto.type -> TypeProto.tensor_type
//! -> Tensor.shape -> dim[2], dim[3]` are rewritten (with their length prefixes); every other
//! byte is copied as it is. The SHA-256 check runs on the file before this edit, so what is
//! verified is the published model, and the edit itself is deterministic.

/// ONNX field numbers on the path (onnx.proto3).
const MODEL_GRAPH: u64 = 7;
const GRAPH_INPUT: u64 = 11;
const VALUE_INFO_NAME: u64 = 1;
const VALUE_INFO_TYPE: u64 = 2;
const TYPE_TENSOR: u64 = 1;
const TENSOR_SHAPE: u64 = 2;
const SHAPE_DIM: u64 = 1;
const DIM_PARAM: u64 = 2;

/// Wire type of length-delimited fields.
const LEN: u64 = 2;

fn read_varint(b: &[u8], pos: &mut usize) -> Option<u64> {
    let mut v = 0u64;
    for shift in (0..64).step_by(7) {
        let byte = *b.get(*pos)?;
        *pos += 1;
        v |= u64::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            return Some(v);
        }
    }
    None
}

fn write_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8 & 0x7f) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// One field of a message: number, wire type, the whole encoded field, and for
/// length-delimited fields the payload.
struct Field<'a> {
    number: u64,
    wire: u64,
    raw: &'a [u8],
    payload: &'a [u8],
}

fn fields(msg: &[u8]) -> Result<Vec<Field<'_>>, String> {
    let mut out = Vec::new();
    let mut pos = 0;
    while pos < msg.len() {
        let start = pos;
        let key = read_varint(msg, &mut pos).ok_or("truncated field key")?;
        let (number, wire) = (key >> 3, key & 7);
        let mut payload: &[u8] = &[];
        match wire {
            0 => {
                read_varint(msg, &mut pos).ok_or("truncated varint")?;
            }
            1 => pos += 8,
            5 => pos += 4,
            LEN => {
                let n = read_varint(msg, &mut pos).ok_or("truncated length")?;
                let end = usize::try_from(n)
                    .ok()
                    .and_then(|n| pos.checked_add(n))
                    .filter(|&e| e <= msg.len())
                    .ok_or("length past the end")?;
                payload = &msg[pos..end];
                pos = end;
            }
            w => return Err(format!("unsupported wire type {w}")),
        }
        if pos > msg.len() {
            return Err("field past the end".into());
        }
        out.push(Field {
            number,
            wire,
            raw: &msg[start..pos],
            payload,
        });
    }
    Ok(out)
}

/// Copy `msg`, replacing the payload of each length-delimited field for which `edit`
/// returns `Some`. Returns how many fields were replaced along with the bytes.
fn rewrite(
    msg: &[u8],
    mut edit: impl FnMut(u64, &[u8]) -> Result<Option<Vec<u8>>, String>,
) -> Result<(Vec<u8>, usize), String> {
    let mut out = Vec::with_capacity(msg.len() + 16);
    let mut n = 0;
    for f in fields(msg)? {
        let new = if f.wire == LEN {
            edit(f.number, f.payload)?
        } else {
            None
        };
        match new {
            Some(p) => {
                write_varint(&mut out, (f.number << 3) | LEN);
                write_varint(&mut out, p.len() as u64);
                out.extend_from_slice(&p);
                n += 1;
            }
            None => out.extend_from_slice(f.raw),
        }
    }
    Ok((out, n))
}

/// Rewrite exactly one field `number` of `msg` with `edit`; an error if there is none.
fn rewrite_one(
    msg: &[u8],
    number: u64,
    what: &str,
    mut edit: impl FnMut(&[u8]) -> Result<Vec<u8>, String>,
) -> Result<Vec<u8>, String> {
    let (out, n) = rewrite(msg, |num, p| {
        if num == number {
            edit(p).map(Some)
        } else {
            Ok(None)
        }
    })?;
    if n != 1 {
        return Err(format!("expected one {what}, found {n}"));
    }
    Ok(out)
}

/// `model` with the last two dimensions (height, width) of the 4-D graph input `input`
/// replaced by the symbolic dimensions `H` and `W`.
///
/// # Errors
/// A description of what was not as expected (not a protocol buffer, no such input, not 4-D).
pub(crate) fn symbolic_hw(model: &[u8], input: &str) -> Result<Vec<u8>, String> {
    let shape = |p: &[u8]| -> Result<Vec<u8>, String> {
        let mut i = 0usize;
        let (out, _) = rewrite(p, |num, _| {
            if num != SHAPE_DIM {
                return Ok(None);
            }
            i += 1;
            let name = match i {
                3 => "H",
                4 => "W",
                _ => return Ok(None),
            };
            let mut d = Vec::with_capacity(3);
            write_varint(&mut d, (DIM_PARAM << 3) | LEN);
            write_varint(&mut d, name.len() as u64);
            d.extend_from_slice(name.as_bytes());
            Ok(Some(d))
        })?;
        if i != 4 {
            return Err(format!("input `{input}` has {i} dimensions, expected 4"));
        }
        Ok(out)
    };
    let value_info = |p: &[u8]| -> Result<Option<Vec<u8>>, String> {
        let named = fields(p)?
            .iter()
            .any(|f| f.number == VALUE_INFO_NAME && f.wire == LEN && f.payload == input.as_bytes());
        if !named {
            return Ok(None);
        }
        rewrite_one(p, VALUE_INFO_TYPE, "input type", |t| {
            rewrite_one(t, TYPE_TENSOR, "tensor type", |tt| {
                rewrite_one(tt, TENSOR_SHAPE, "input shape", &shape)
            })
        })
        .map(Some)
    };
    rewrite_one(model, MODEL_GRAPH, "graph", |g| {
        let (out, n) = rewrite(g, |num, p| {
            if num == GRAPH_INPUT {
                value_info(p)
            } else {
                Ok(None)
            }
        })?;
        if n != 1 {
            return Err(format!("graph input `{input}` found {n} times"));
        }
        Ok(out)
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn len_field(number: u64, payload: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        write_varint(&mut out, (number << 3) | LEN);
        write_varint(&mut out, payload.len() as u64);
        out.extend_from_slice(payload);
        out
    }

    fn dim_value(v: u64) -> Vec<u8> {
        let mut d = vec![0x08];
        write_varint(&mut d, v);
        len_field(SHAPE_DIM, &d)
    }

    /// A model with an opset-like varint field, two inputs and a 4-D shape on the second.
    fn model(dims: &[u64]) -> Vec<u8> {
        let shape: Vec<u8> = dims.iter().flat_map(|&d| dim_value(d)).collect();
        let tensor = [vec![0x08, 0x01], len_field(TENSOR_SHAPE, &shape)].concat();
        let ty = len_field(TYPE_TENSOR, &tensor);
        let other = [
            len_field(VALUE_INFO_NAME, b"weights"),
            len_field(VALUE_INFO_TYPE, &ty),
        ]
        .concat();
        let input = [
            len_field(VALUE_INFO_NAME, b"input_1:0"),
            len_field(VALUE_INFO_TYPE, &ty),
        ]
        .concat();
        let graph = [
            len_field(GRAPH_INPUT, &other),
            len_field(GRAPH_INPUT, &input),
            len_field(1, b"node"),
        ]
        .concat();
        [vec![0x08, 0x07], len_field(MODEL_GRAPH, &graph)].concat()
    }

    #[test]
    fn only_the_named_inputs_height_and_width_change() {
        let m = model(&[1, 3, 416, 416]);
        let out = symbolic_hw(&m, "input_1:0").unwrap();
        let h = len_field(SHAPE_DIM, &len_field(DIM_PARAM, b"H"));
        let w = len_field(SHAPE_DIM, &len_field(DIM_PARAM, b"W"));
        let shape = [dim_value(1), dim_value(3), h, w].concat();
        let tensor = [vec![0x08, 0x01], len_field(TENSOR_SHAPE, &shape)].concat();
        let ty = len_field(TYPE_TENSOR, &tensor);
        let old_ty = len_field(
            TYPE_TENSOR,
            &[
                vec![0x08, 0x01],
                len_field(
                    TENSOR_SHAPE,
                    &[dim_value(1), dim_value(3), dim_value(416), dim_value(416)].concat(),
                ),
            ]
            .concat(),
        );
        let other = [
            len_field(VALUE_INFO_NAME, b"weights"),
            len_field(VALUE_INFO_TYPE, &old_ty),
        ]
        .concat();
        let input = [
            len_field(VALUE_INFO_NAME, b"input_1:0"),
            len_field(VALUE_INFO_TYPE, &ty),
        ]
        .concat();
        let graph = [
            len_field(GRAPH_INPUT, &other),
            len_field(GRAPH_INPUT, &input),
            len_field(1, b"node"),
        ]
        .concat();
        assert_eq!(out, [vec![0x08, 0x07], len_field(MODEL_GRAPH, &graph)].concat());
    }

    #[test]
    fn unexpected_models_are_errors() {
        assert!(symbolic_hw(&model(&[1, 3, 416]), "input_1:0").is_err());
        assert!(symbolic_hw(&model(&[1, 3, 416, 416]), "other").is_err());
        assert!(symbolic_hw(&[0x3a, 0x05, 0x01], "input_1:0").is_err());
        assert!(symbolic_hw(&[], "input_1:0").is_err());
        assert!(symbolic_hw(&[0xff; 12], "input_1:0").is_err());
    }
}
