//! Pixel formats and the layouts of their planes.

/// Largest accepted width or height, in pixels (16K).
pub const MAX_DIMENSION: u32 = 16_384;
/// Largest accepted pixel count of one frame (a 16K x 8K frame).
pub const MAX_PIXELS: u64 = 16_384 * 8_192;

/// Pixel layouts Veil processes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u32)]
pub enum PixelFormat {
    /// Planar Y, U, V; chroma subsampled 2x2 (a.k.a. YUV420P).
    I420 = 0,
    /// Planar Y, then interleaved U/V; chroma subsampled 2x2.
    Nv12 = 1,
    /// Packed 8-bit R, G, B.
    Rgb24 = 2,
    /// Packed 8-bit B, G, R.
    Bgr24 = 3,
    /// Packed 8-bit R, G, B, A.
    Rgba = 4,
    /// One 8-bit luma plane.
    Gray8 = 5,
}

/// Geometry of one plane of a format: samples per row, rows, bytes per sample.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PlaneLayout {
    /// Pixels (sample groups) per row.
    pub width: u32,
    /// Rows.
    pub height: u32,
    /// Bytes per pixel in this plane (1 for Y/U/V, 2 for interleaved UV, 3 for RGB, 4 for RGBA).
    pub bytes_per_pixel: u8,
}

impl PlaneLayout {
    /// Bytes in one row of pixels (without stride padding).
    pub fn row_bytes(&self) -> usize {
        self.width as usize * self.bytes_per_pixel as usize
    }
}

impl PixelFormat {
    /// All formats, in declaration order.
    pub const ALL: [PixelFormat; 6] = [
        PixelFormat::I420,
        PixelFormat::Nv12,
        PixelFormat::Rgb24,
        PixelFormat::Bgr24,
        PixelFormat::Rgba,
        PixelFormat::Gray8,
    ];

    /// Number of planes.
    pub fn plane_count(self) -> usize {
        match self {
            PixelFormat::I420 => 3,
            PixelFormat::Nv12 => 2,
            _ => 1,
        }
    }

    /// Whether chroma is subsampled 2x2 (I420, NV12).
    pub fn is_420(self) -> bool {
        matches!(self, PixelFormat::I420 | PixelFormat::Nv12)
    }

    /// Layout of `plane` for a `width` x `height` frame (`None` if the plane does not exist).
    pub fn plane_layout(self, width: u32, height: u32, plane: usize) -> Option<PlaneLayout> {
        let (cw, ch) = (width.div_ceil(2), height.div_ceil(2));
        let l = |width, height, bytes_per_pixel| {
            Some(PlaneLayout {
                width,
                height,
                bytes_per_pixel,
            })
        };
        match (self, plane) {
            (PixelFormat::I420 | PixelFormat::Nv12 | PixelFormat::Gray8, 0) => l(width, height, 1),
            (PixelFormat::I420, 1 | 2) => l(cw, ch, 1),
            (PixelFormat::Nv12, 1) => l(cw, ch, 2),
            (PixelFormat::Rgb24 | PixelFormat::Bgr24, 0) => l(width, height, 3),
            (PixelFormat::Rgba, 0) => l(width, height, 4),
            _ => None,
        }
    }

    /// The value that renders as black in each plane, per byte of a pixel
    /// (Y=16 limited range is not assumed: 0 luma, 128 chroma).
    pub fn black(self, plane: usize) -> &'static [u8] {
        match (self, plane) {
            (PixelFormat::I420 | PixelFormat::Nv12 | PixelFormat::Gray8, 0) => &[0],
            (PixelFormat::I420, _) => &[128],
            (PixelFormat::Nv12, _) => &[128, 128],
            (PixelFormat::Rgba, _) => &[0, 0, 0, 255],
            _ => &[0, 0, 0],
        }
    }
}
