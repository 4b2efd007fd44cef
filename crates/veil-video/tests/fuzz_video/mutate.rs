//! The mutation engine of the video fuzz harness: a seedable generator, the container header
//! fields worth overwriting (MP4 boxes, Matroska elements), and byte-wise mutations.

/// SplitMix64: tiny, seedable, good enough to pick mutations.
pub(crate) struct Rng(pub(crate) u64);

impl Rng {
    pub(crate) fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in `0..n` (`n > 0`).
    pub(crate) fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    pub(crate) fn chance(&mut self, one_in: usize) -> bool {
        self.below(one_in) == 0
    }
    pub(crate) fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len())]
    }
}

fn be32(d: &[u8], o: usize) -> Option<u32> {
    d.get(o..o + 4)
        .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
}

/// Every MP4 box header (size and type) and the 32-bit words of the boxes that describe the
/// stream (sample tables, track and media headers, the sample entry with its SPS/PPS).
pub(crate) fn mp4_fields(d: &[u8]) -> Vec<(usize, usize)> {
    fn walk(d: &[u8], start: usize, end: usize, out: &mut Vec<(usize, usize)>) {
        let mut o = start;
        while o + 8 <= end {
            let Some(size) = be32(d, o) else { return };
            let size = size as usize;
            if size < 8 || o + size > end {
                return;
            }
            let kind = &d[o + 4..o + 8];
            out.push((o, 4)); // size
            out.push((o + 4, 4)); // type
            let body = o + 8;
            match kind {
                b"moov" | b"trak" | b"mdia" | b"minf" | b"stbl" | b"edts" | b"dinf" | b"mvex" | b"moof"
                | b"traf" => walk(d, body, o + size, out),
                b"stsd" => walk(d, body + 8, o + size, out),
                b"avc1" | b"hvc1" | b"hev1" => {
                    // width and height of the sample entry, then its child boxes (avcC...)
                    out.push((body + 24, 2));
                    out.push((body + 26, 2));
                    walk(d, body + 78, o + size, out)
                }
                b"mdat" | b"free" | b"ftyp" => {}
                _ => {
                    // the box's own fields: counts, sizes, offsets, durations, timescales
                    let mut w = body;
                    while w + 4 <= o + size && w < body + 64 {
                        out.push((w, 4));
                        w += 4;
                    }
                    if kind == b"avcC" {
                        for b in body..o + size {
                            out.push((b, 1));
                        }
                    }
                }
            }
            o += size;
        }
    }
    let mut out = Vec::new();
    walk(d, 0, d.len(), &mut out);
    out
}

/// The Matroska elements that describe the stream: the IDs of the top-level and track
/// elements with the size byte after them, and the 2-byte values of PixelWidth (0xB0) and
/// PixelHeight (0xBA); plus the block headers (0xA3 SimpleBlock) of the first clusters.
pub(crate) fn mkv_fields(d: &[u8]) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let ids: [&[u8]; 7] = [
        &[0x1A, 0x45, 0xDF, 0xA3], // EBML
        &[0x18, 0x53, 0x80, 0x67], // Segment
        &[0x16, 0x54, 0xAE, 0x6B], // Tracks
        &[0x1F, 0x43, 0xB6, 0x75], // Cluster
        &[0x11, 0x4D, 0x9B, 0x74], // SeekHead
        &[0x1C, 0x53, 0xBB, 0x6B], // Cues
        &[0x15, 0x49, 0xA9, 0x66], // Info
    ];
    for o in 0..d.len().saturating_sub(8) {
        if ids.iter().any(|id| d[o..].starts_with(id)) {
            out.push((o, 4));
            out.push((o + 4, 4));
        }
        if o < 4096 {
            if (d[o] == 0xB0 || d[o] == 0xBA) && d[o + 1] == 0x82 {
                out.push((o + 2, 2));
            }
            if d[o..].starts_with(&[0x86, 0x8F]) || d[o..].starts_with(&[0x63, 0xA2]) {
                // CodecID "V_MPEG4/ISO/AVC" and CodecPrivate (the avcC)
                for b in o..(o + 48).min(d.len()) {
                    out.push((b, 1));
                }
            }
        }
        if o < 65536 && d[o] == 0xA3 && d[o + 1] & 0x80 != 0 {
            out.push((o + 1, 4));
        }
    }
    out
}

const INTERESTING32: [u32; 14] = [
    0,
    1,
    2,
    7,
    8,
    0xFF,
    0x7FFF,
    0xFFFF,
    0x8000_0000,
    0x7FFF_FFFF,
    0xFFFF_FFFF,
    0xFFFF_FFFE,
    60000 << 16,
    16385 << 16,
];

const INTERESTING16: [u16; 9] = [0, 1, 2, 3, 385, 0x7FFF, 0xFFFF, 60000, 16385];

/// A position, half of the time within the first or last 8 KB (headers and indexes).
fn position(rng: &mut Rng, len: usize) -> usize {
    if len == 0 {
        return 0;
    }
    match rng.below(4) {
        0 => rng.below(len.min(8192)),
        1 => len - 1 - rng.below(len.min(8192)),
        _ => rng.below(len),
    }
}

/// Apply one to four mutations to a copy of `bytes` (a seed file, with its header `fields`
/// as (offset, width)); `others` are the files chunks may be spliced in from. Returns the
/// bytes and what was done.
pub(crate) fn mutate(
    rng: &mut Rng,
    bytes: &[u8],
    fields: &[(usize, usize)],
    others: &[&[u8]],
) -> (Vec<u8>, Vec<String>) {
    let mut d = bytes.to_vec();
    let mut log = Vec::new();
    let n = 1 + rng.below(2) + usize::from(rng.chance(3)) + usize::from(rng.chance(6));
    for _ in 0..n {
        if d.is_empty() {
            break;
        }
        let len = d.len();
        match rng.below(10) {
            0 => {
                let k = 1 + rng.below(16);
                for _ in 0..k {
                    let p = position(rng, len);
                    d[p] ^= 1 << rng.below(8);
                }
                log.push(format!("flip {k} bits"));
            }
            1 => {
                let p = position(rng, len);
                let v = *rng.pick(&[0u8, 0xFF, 0x7F, 0x80, 0x01]);
                let k = (1 + rng.below(8)).min(len - p);
                d[p..p + k].fill(v);
                log.push(format!("fill {k} bytes at {p} with {v:#x}"));
            }
            2 | 3 => {
                // a header field of the seed (the offsets hold while no earlier mutation moved
                // bytes; later ones land on whatever is there, which is fine for fuzzing)
                let &(p, w) = rng.pick(fields);
                if p + w > len {
                    continue;
                }
                match w {
                    4 => {
                        let v = if rng.chance(3) {
                            be32(&d, p)
                                .unwrap_or(0)
                                .wrapping_add(rng.below(5) as u32)
                                .wrapping_sub(2)
                        } else {
                            *rng.pick(&INTERESTING32)
                        };
                        d[p..p + 4].copy_from_slice(&v.to_be_bytes());
                        log.push(format!("u32 at {p} = {v:#x}"));
                    }
                    2 => {
                        let v = *rng.pick(&INTERESTING16);
                        d[p..p + 2].copy_from_slice(&v.to_be_bytes());
                        log.push(format!("u16 at {p} = {v}"));
                    }
                    _ => {
                        d[p] ^= 1 << rng.below(8);
                        log.push(format!("flip a bit of the byte at {p}"));
                    }
                }
            }
            4 => {
                let p = position(rng, len);
                d.truncate(p);
                log.push(format!("truncate to {p}"));
            }
            5 => {
                // copy a chunk of this file over another place of it
                let k = 1 + rng.below(4096.min(len));
                let from = rng.below(len - k + 1);
                let to = rng.below(len - k + 1);
                d.copy_within(from..from + k, to);
                log.push(format!("copy {k} bytes from {from} to {to}"));
            }
            6 => {
                // insert a chunk of another seed (or this one)
                let other = *rng.pick(others);
                let k = 1 + rng.below(8192.min(other.len()));
                let from = rng.below(other.len() - k + 1);
                let to = position(rng, len);
                d.splice(to..to, other[from..from + k].iter().copied());
                log.push(format!("insert {k} bytes of another file at {to}"));
            }
            7 => {
                let p = position(rng, len);
                let k = (1 + rng.below(4096)).min(len - p);
                d.drain(p..p + k);
                log.push(format!("delete {k} bytes at {p}"));
            }
            8 => {
                let p = position(rng, len);
                let k = 1 + rng.below(64);
                let junk: Vec<u8> = (0..k).map(|_| rng.next() as u8).collect();
                d.splice(p..p, junk);
                log.push(format!("insert {k} random bytes at {p}"));
            }
            _ => {
                let p = position(rng, len);
                let k = (1 + rng.below(256)).min(len - p);
                for b in &mut d[p..p + k] {
                    *b = rng.next() as u8;
                }
                log.push(format!("randomise {k} bytes at {p}"));
            }
        }
    }
    (d, log)
}
