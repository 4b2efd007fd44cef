//! CPU feature levels for SIMD dispatch.
//!
//! The level defaults to the best one the CPU supports. The environment variable
//! `VEIL_CPU_LEVEL=scalar` lowers it (for testing the reference path, or to rule out a SIMD
//! bug in the field); it can never raise it above what the CPU supports.

use std::sync::OnceLock;

/// An instruction-set level, ordered from the portable reference upwards.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum CpuLevel {
    /// Portable Rust: the reference every SIMD path is tested against.
    Scalar,
    /// x86-64 AVX2.
    Avx2,
}

impl CpuLevel {
    /// Whether this machine can run code of this level.
    pub fn is_supported(self) -> bool {
        match self {
            CpuLevel::Scalar => true,
            #[cfg(target_arch = "x86_64")]
            CpuLevel::Avx2 => std::arch::is_x86_feature_detected!("avx2"),
            #[cfg(not(target_arch = "x86_64"))]
            CpuLevel::Avx2 => false,
        }
    }

    /// Every level this machine supports, lowest first.
    pub fn supported() -> Vec<CpuLevel> {
        [CpuLevel::Scalar, CpuLevel::Avx2]
            .into_iter()
            .filter(|l| l.is_supported())
            .collect()
    }

    /// The best supported level, lowered by `VEIL_CPU_LEVEL` if set (read once).
    pub fn detect() -> CpuLevel {
        static LEVEL: OnceLock<CpuLevel> = OnceLock::new();
        *LEVEL.get_or_init(|| {
            let best = CpuLevel::supported()
                .into_iter()
                .max()
                .unwrap_or(CpuLevel::Scalar);
            let cap = match std::env::var("VEIL_CPU_LEVEL").ok().as_deref() {
                Some("scalar") | Some("rust") => CpuLevel::Scalar,
                _ => CpuLevel::Avx2,
            };
            best.min(cap)
        })
    }
}

impl Default for CpuLevel {
    fn default() -> Self {
        CpuLevel::detect()
    }
}
