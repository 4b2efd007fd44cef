//! Frame views over borrowed planes with byte strides, and an owned [`Frame`].
//!
//! Every view is validated once, in its constructor: plane count, non-zero and
//! bounded size, even size for 4:2:0 formats, stride at least one row of pixels,
//! buffer long enough for `stride * (rows - 1) + row_bytes`, all in checked
//! arithmetic. Kernels rely on that validation and need no further checks.

use crate::error::FrameError;
use crate::format::{PixelFormat, PlaneLayout, MAX_DIMENSION, MAX_PIXELS};
use crate::geometry::Geometry;

/// Validate a frame's size and return the layouts of its planes.
pub(crate) fn validate_size(
    format: PixelFormat,
    width: u32,
    height: u32,
) -> Result<[Option<PlaneLayout>; 3], FrameError> {
    if width == 0 || height == 0 {
        return Err(FrameError::ZeroSize { width, height });
    }
    if width > MAX_DIMENSION || height > MAX_DIMENSION || u64::from(width) * u64::from(height) > MAX_PIXELS {
        return Err(FrameError::TooLarge {
            width,
            height,
            max: MAX_DIMENSION,
            max_pixels: MAX_PIXELS,
        });
    }
    if format.is_420() && (!width.is_multiple_of(2) || !height.is_multiple_of(2)) {
        return Err(FrameError::OddSize {
            format,
            width,
            height,
        });
    }
    Ok([0, 1, 2].map(|p| format.plane_layout(width, height, p)))
}

/// Bytes a plane needs: `stride * (rows - 1) + row_bytes`, after checking the stride.
fn plane_min_len(plane: usize, layout: &PlaneLayout, stride: usize) -> Result<usize, FrameError> {
    let row = layout.row_bytes();
    if stride < row {
        return Err(FrameError::InvalidStride {
            plane,
            stride,
            min: row,
        });
    }
    stride
        .checked_mul(layout.height as usize - 1)
        .and_then(|v| v.checked_add(row))
        .ok_or(FrameError::Overflow { plane })
}

fn check_planes(
    format: PixelFormat,
    width: u32,
    height: u32,
    lens_strides: &[(usize, usize)],
) -> Result<[Option<PlaneLayout>; 3], FrameError> {
    let layouts = validate_size(format, width, height)?;
    if lens_strides.len() != format.plane_count() {
        return Err(FrameError::PlaneCount {
            format,
            expected: format.plane_count(),
            got: lens_strides.len(),
        });
    }
    for (i, &(len, stride)) in lens_strides.iter().enumerate() {
        let Some(layout) = layouts[i] else {
            continue;
        };
        let min = plane_min_len(i, &layout, stride)?;
        if len < min {
            return Err(FrameError::BufferTooShort { plane: i, len, min });
        }
    }
    Ok(layouts)
}

/// A borrowed, validated, read-only plane.
#[derive(Debug, Clone, Copy, Default)]
pub struct PlaneRef<'a> {
    data: &'a [u8],
    width: u32,
    height: u32,
    stride: usize,
    bpp: u8,
}

/// A borrowed, validated, writable plane.
#[derive(Debug, Default)]
pub struct PlaneMut<'a> {
    data: &'a mut [u8],
    width: u32,
    height: u32,
    stride: usize,
    bpp: u8,
}

macro_rules! plane_common {
    ($t:ident) => {
        impl $t<'_> {
            /// Pixels per row.
            pub fn width(&self) -> u32 {
                self.width
            }
            /// Rows.
            pub fn height(&self) -> u32 {
                self.height
            }
            /// Bytes from one row to the next.
            pub fn stride(&self) -> usize {
                self.stride
            }
            /// Bytes per pixel.
            pub fn bytes_per_pixel(&self) -> usize {
                self.bpp as usize
            }
            /// Bytes of visible pixels in one row.
            pub fn row_bytes(&self) -> usize {
                self.width as usize * self.bpp as usize
            }
            /// The visible bytes of row `y`.
            ///
            /// # Panics
            /// If `y >= height`.
            pub fn row(&self, y: u32) -> &[u8] {
                assert!(y < self.height, "row {y} out of {}", self.height);
                let start = y as usize * self.stride;
                &self.data[start..start + self.row_bytes()]
            }
            /// The visible rows, top to bottom.
            pub fn rows(&self) -> impl ExactSizeIterator<Item = &[u8]> + '_ {
                let rb = self.row_bytes();
                (0..self.height as usize).map(move |y| &self.data[y * self.stride..y * self.stride + rb])
            }
            /// The underlying buffer (stride padding included, may end right after the last row).
            pub fn data(&self) -> &[u8] {
                self.data
            }
        }
    };
}
plane_common!(PlaneRef);
plane_common!(PlaneMut);

impl<'a> PlaneMut<'a> {
    /// The visible bytes of row `y`, writable.
    ///
    /// # Panics
    /// If `y >= height`.
    pub fn row_mut(&mut self, y: u32) -> &mut [u8] {
        assert!(y < self.height, "row {y} out of {}", self.height);
        let start = y as usize * self.stride;
        let rb = self.row_bytes();
        &mut self.data[start..start + rb]
    }
    /// The underlying buffer, writable.
    pub fn data_mut(&mut self) -> &mut [u8] {
        self.data
    }
    /// A read-only view of this plane.
    pub fn as_ref(&self) -> PlaneRef<'_> {
        PlaneRef {
            data: self.data,
            width: self.width,
            height: self.height,
            stride: self.stride,
            bpp: self.bpp,
        }
    }
    /// A shorter-lived writable view of this plane.
    pub fn reborrow(&mut self) -> PlaneMut<'_> {
        PlaneMut {
            data: self.data,
            width: self.width,
            height: self.height,
            stride: self.stride,
            bpp: self.bpp,
        }
    }
}

/// A borrowed, validated, read-only frame.
#[derive(Debug, Clone, Copy)]
pub struct FrameRef<'a> {
    format: PixelFormat,
    width: u32,
    height: u32,
    planes: [PlaneRef<'a>; 3],
}

/// A borrowed, validated, writable frame.
#[derive(Debug)]
pub struct FrameMut<'a> {
    format: PixelFormat,
    width: u32,
    height: u32,
    planes: [PlaneMut<'a>; 3],
}

impl<'a> FrameRef<'a> {
    /// A view over `planes`, each `(buffer, stride in bytes)`, in the format's plane order.
    ///
    /// # Errors
    /// [`FrameError`] when the size, plane count, strides or buffer lengths do not fit the format.
    pub fn new(
        format: PixelFormat,
        width: u32,
        height: u32,
        planes: &[(&'a [u8], usize)],
    ) -> Result<Self, FrameError> {
        let ls: Vec<(usize, usize)> = planes.iter().map(|(d, s)| (d.len(), *s)).collect();
        let layouts = check_planes(format, width, height, &ls)?;
        let mut out = [PlaneRef::default(); 3];
        for (i, &(data, stride)) in planes.iter().enumerate() {
            if let Some(l) = layouts[i] {
                out[i] = PlaneRef {
                    data,
                    width: l.width,
                    height: l.height,
                    stride,
                    bpp: l.bytes_per_pixel,
                };
            }
        }
        Ok(FrameRef {
            format,
            width,
            height,
            planes: out,
        })
    }

    /// A view over raw plane pointers, as handed out by a decoder or a C caller.
    ///
    /// # Errors
    /// As [`FrameRef::new`], plus [`FrameError::NullPlane`].
    ///
    /// # Safety
    /// For each plane, `ptr` must be valid for reads of `stride * (rows - 1) + row_bytes`
    /// bytes for the lifetime `'a`, and not be written through another alias meanwhile.
    pub unsafe fn from_raw_parts(
        format: PixelFormat,
        width: u32,
        height: u32,
        planes: &[(*const u8, usize)],
    ) -> Result<Self, FrameError> {
        let layouts = validate_size(format, width, height)?;
        if planes.len() != format.plane_count() {
            return Err(FrameError::PlaneCount {
                format,
                expected: format.plane_count(),
                got: planes.len(),
            });
        }
        let mut slices: Vec<(&'a [u8], usize)> = Vec::with_capacity(planes.len());
        for (i, &(ptr, stride)) in planes.iter().enumerate() {
            let Some(l) = layouts[i] else { continue };
            if ptr.is_null() {
                return Err(FrameError::NullPlane { plane: i });
            }
            let len = plane_min_len(i, &l, stride)?;
            // SAFETY: the caller guarantees `ptr` is readable for this many bytes for 'a.
            slices.push((unsafe { std::slice::from_raw_parts(ptr, len) }, stride));
        }
        Self::new(format, width, height, &slices)
    }

    /// Pixel format.
    pub fn format(&self) -> PixelFormat {
        self.format
    }
    /// Width in pixels.
    pub fn width(&self) -> u32 {
        self.width
    }
    /// Height in pixels.
    pub fn height(&self) -> u32 {
        self.height
    }
    /// Format and size.
    pub fn geometry(&self) -> Geometry {
        Geometry::new(self.format, self.width, self.height)
    }
    /// Plane `i`, if the format has it.
    pub fn plane(&self, i: usize) -> Option<&PlaneRef<'a>> {
        (i < self.format.plane_count()).then(|| &self.planes[i])
    }
    /// The format's planes.
    pub fn planes(&self) -> &[PlaneRef<'a>] {
        &self.planes[..self.format.plane_count()]
    }
}

impl<'a> FrameMut<'a> {
    /// A writable view over `planes`, each `(buffer, stride in bytes)`, in the format's plane order.
    ///
    /// # Errors
    /// [`FrameError`] when the size, plane count, strides or buffer lengths do not fit the format.
    pub fn new(
        format: PixelFormat,
        width: u32,
        height: u32,
        planes: impl IntoIterator<Item = (&'a mut [u8], usize)>,
    ) -> Result<Self, FrameError> {
        let planes: Vec<(&'a mut [u8], usize)> = planes.into_iter().collect();
        let ls: Vec<(usize, usize)> = planes.iter().map(|(d, s)| (d.len(), *s)).collect();
        let layouts = check_planes(format, width, height, &ls)?;
        let mut out: [PlaneMut<'a>; 3] = Default::default();
        for (i, (data, stride)) in planes.into_iter().enumerate() {
            if let Some(l) = layouts[i] {
                out[i] = PlaneMut {
                    data,
                    width: l.width,
                    height: l.height,
                    stride,
                    bpp: l.bytes_per_pixel,
                };
            }
        }
        Ok(FrameMut {
            format,
            width,
            height,
            planes: out,
        })
    }

    /// A writable view over raw plane pointers, as handed out by a decoder or a C caller.
    ///
    /// # Errors
    /// As [`FrameMut::new`], plus [`FrameError::NullPlane`].
    ///
    /// # Safety
    /// For each plane, `ptr` must be valid for reads and writes of
    /// `stride * (rows - 1) + row_bytes` bytes for the lifetime `'a`, the planes must not
    /// overlap, and nothing else may access that memory meanwhile.
    pub unsafe fn from_raw_parts(
        format: PixelFormat,
        width: u32,
        height: u32,
        planes: &[(*mut u8, usize)],
    ) -> Result<Self, FrameError> {
        let layouts = validate_size(format, width, height)?;
        if planes.len() != format.plane_count() {
            return Err(FrameError::PlaneCount {
                format,
                expected: format.plane_count(),
                got: planes.len(),
            });
        }
        let mut slices: Vec<(&'a mut [u8], usize)> = Vec::with_capacity(planes.len());
        for (i, &(ptr, stride)) in planes.iter().enumerate() {
            let Some(l) = layouts[i] else { continue };
            if ptr.is_null() {
                return Err(FrameError::NullPlane { plane: i });
            }
            let len = plane_min_len(i, &l, stride)?;
            // SAFETY: the caller guarantees exclusive, valid access to this many bytes for 'a.
            slices.push((unsafe { std::slice::from_raw_parts_mut(ptr, len) }, stride));
        }
        Self::new(format, width, height, slices)
    }

    /// Pixel format.
    pub fn format(&self) -> PixelFormat {
        self.format
    }
    /// Width in pixels.
    pub fn width(&self) -> u32 {
        self.width
    }
    /// Height in pixels.
    pub fn height(&self) -> u32 {
        self.height
    }
    /// Format and size.
    pub fn geometry(&self) -> Geometry {
        Geometry::new(self.format, self.width, self.height)
    }
    /// The format's planes, writable.
    pub fn planes_mut(&mut self) -> &mut [PlaneMut<'a>] {
        let n = self.format.plane_count();
        &mut self.planes[..n]
    }
    /// Plane `i`, writable, if the format has it.
    pub fn plane_mut(&mut self, i: usize) -> Option<&mut PlaneMut<'a>> {
        let n = self.format.plane_count();
        (i < n).then(|| &mut self.planes[i])
    }
    /// A read-only view of this frame.
    pub fn as_ref(&self) -> FrameRef<'_> {
        let mut planes = [PlaneRef::default(); 3];
        for (o, p) in planes.iter_mut().zip(self.planes.iter()) {
            *o = p.as_ref();
        }
        FrameRef {
            format: self.format,
            width: self.width,
            height: self.height,
            planes,
        }
    }
    /// A shorter-lived writable view of this frame.
    pub fn reborrow(&mut self) -> FrameMut<'_> {
        let [a, b, c] = &mut self.planes;
        FrameMut {
            format: self.format,
            width: self.width,
            height: self.height,
            planes: [a.reborrow(), b.reborrow(), c.reborrow()],
        }
    }
    /// Set every byte of every plane to the format's black.
    pub fn fill_black(&mut self) {
        let format = self.format;
        for (i, p) in self.planes_mut().iter_mut().enumerate() {
            let black = format.black(i);
            for y in 0..p.height() {
                for px in p.row_mut(y).chunks_exact_mut(black.len()) {
                    px.copy_from_slice(black);
                }
            }
        }
    }
}

/// An owned frame with tightly packed planes whose strides are rounded up to 64 bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    format: PixelFormat,
    width: u32,
    height: u32,
    buf: Vec<u8>,
    offsets: [usize; 3],
    strides: [usize; 3],
}

impl Frame {
    /// A zero-filled frame.
    ///
    /// # Errors
    /// [`FrameError`] for zero, odd (4:2:0) or too large sizes.
    pub fn new(format: PixelFormat, width: u32, height: u32) -> Result<Self, FrameError> {
        let layouts = validate_size(format, width, height)?;
        let mut offsets = [0usize; 3];
        let mut strides = [0usize; 3];
        let mut total = 0usize;
        for (i, l) in layouts.iter().enumerate() {
            let Some(l) = l else { continue };
            let stride = l.row_bytes().div_ceil(64) * 64;
            offsets[i] = total;
            strides[i] = stride;
            total = stride
                .checked_mul(l.height as usize)
                .and_then(|b| b.checked_add(total))
                .ok_or(FrameError::Overflow { plane: i })?;
        }
        Ok(Frame {
            format,
            width,
            height,
            buf: vec![0; total],
            offsets,
            strides,
        })
    }

    /// A copy of `src` (stride padding is not copied).
    pub fn from_ref(src: &FrameRef<'_>) -> Self {
        // The source was validated, so the same geometry is valid here.
        let mut f = match Frame::new(src.format(), src.width(), src.height()) {
            Ok(f) => f,
            Err(e) => unreachable!("validated geometry rejected: {e}"),
        };
        let mut dst = f.as_mut();
        for (d, s) in dst.planes_mut().iter_mut().zip(src.planes()) {
            for (y, row) in s.rows().enumerate() {
                d.row_mut(y as u32).copy_from_slice(row);
            }
        }
        f
    }

    /// Pixel format.
    pub fn format(&self) -> PixelFormat {
        self.format
    }
    /// Width in pixels.
    pub fn width(&self) -> u32 {
        self.width
    }
    /// Height in pixels.
    pub fn height(&self) -> u32 {
        self.height
    }
    /// Stride of plane `i` in bytes (0 if absent).
    pub fn stride(&self, i: usize) -> usize {
        self.strides.get(i).copied().unwrap_or(0)
    }

    fn plane_len(&self, i: usize) -> usize {
        let n = self.format.plane_count();
        if i + 1 < n {
            self.offsets[i + 1] - self.offsets[i]
        } else {
            self.buf.len() - self.offsets[i]
        }
    }

    /// A read-only view.
    pub fn as_ref(&self) -> FrameRef<'_> {
        let n = self.format.plane_count();
        let planes: Vec<(&[u8], usize)> = (0..n)
            .map(|i| {
                let o = self.offsets[i];
                (&self.buf[o..o + self.plane_len(i)], self.strides[i])
            })
            .collect();
        match FrameRef::new(self.format, self.width, self.height, &planes) {
            Ok(f) => f,
            Err(e) => unreachable!("owned frame geometry rejected: {e}"),
        }
    }

    /// A writable view.
    pub fn as_mut(&mut self) -> FrameMut<'_> {
        let n = self.format.plane_count();
        let lens: Vec<usize> = (0..n).map(|i| self.plane_len(i)).collect();
        let strides = self.strides;
        let mut rest: &mut [u8] = &mut self.buf;
        let mut planes = Vec::with_capacity(n);
        for (i, len) in lens.into_iter().enumerate() {
            let (p, r) = rest.split_at_mut(len);
            rest = r;
            planes.push((p, strides[i]));
        }
        match FrameMut::new(self.format, self.width, self.height, planes) {
            Ok(f) => f,
            Err(e) => unreachable!("owned frame geometry rejected: {e}"),
        }
    }

    /// The whole buffer (all planes, with stride padding).
    pub fn as_bytes(&self) -> &[u8] {
        &self.buf
    }
}

#[cfg(test)]
mod tests;
