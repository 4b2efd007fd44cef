//! Two jobs, both about the names of the C libraries.
//!
//! 1. A versioned soname, `libveil.so.<major>`: a program linked with `-lveil` then records
//!    that name, keeps working across compatible upgrades of the library, and refuses an
//!    incompatible one. `make install` installs `libveil.so.<version>` with the
//!    `libveil.so.<major>` and `libveil.so` links (rustc sets no soname on its own).
//! 2. The file names vendors link. The Rust library is called `veil_ffi` (the root facade
//!    package's library is `veil`, and two libraries of one name collide in rustdoc and in
//!    `target/<profile>/`), so cargo writes `libveil_ffi.so` and `libveil_ffi.a`. This script
//!    puts the links `libveil.so`, `libveil.so.<major>` (the soname, for running from the
//!    build tree) and `libveil.a` next to them, in the profile directory cargo writes the
//!    libraries to. The links are relative and made before the libraries exist (a build
//!    script runs first); they resolve once cargo has written them. They are made again
//!    whenever this script runs (a change to build.rs, or a new target directory).

use std::path::{Path, PathBuf};

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    let major = std::env::var("CARGO_PKG_VERSION_MAJOR").unwrap_or_else(|_| "0".to_owned());
    if os == "linux" {
        println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libveil.so.{major}");
    }
    let Some(dir) = profile_dir() else {
        println!("cargo:warning=veil-ffi: cannot find the target profile directory; no libveil.* links made");
        return;
    };
    let so_major = format!("libveil.so.{major}");
    let links: &[(&str, &str)] = match os.as_str() {
        "windows" => return, // veil_ffi.dll / veil_ffi.lib: no lib-prefixed names to provide
        "macos" | "ios" => &[
            ("libveil.dylib", "libveil_ffi.dylib"),
            ("libveil.a", "libveil_ffi.a"),
        ],
        _ => &[
            ("libveil.so", "libveil_ffi.so"),
            (&so_major, "libveil_ffi.so"),
            ("libveil.a", "libveil_ffi.a"),
        ],
    };
    for (link, target) in links {
        if let Err(e) = relink(&dir.join(link), Path::new(target)) {
            println!(
                "cargo:warning=veil-ffi: cannot link {link} -> {target} in {}: {e}",
                dir.display()
            );
        }
    }
}

/// The directory cargo writes this package's libraries to: `OUT_DIR` is
/// `<target-dir>[/<triple>]/<profile>/build/veil-ffi-<hash>/out`.
fn profile_dir() -> Option<PathBuf> {
    let out = PathBuf::from(std::env::var_os("OUT_DIR")?);
    let dir = out.parent()?.parent()?.parent()?.to_path_buf();
    (dir.join("build").is_dir()).then_some(dir)
}

/// Make `link` a symbolic link to `target` (relative), replacing what is there.
fn relink(link: &Path, target: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        if std::fs::read_link(link).is_ok_and(|t| t == target) {
            return Ok(());
        }
        // A link (or an old copy) of another name: replace it through a temporary name, so
        // that a concurrent reader never sees the name missing.
        let tmp = link.with_extension("veil-ffi-tmp");
        let _ = std::fs::remove_file(&tmp);
        std::os::unix::fs::symlink(target, &tmp)?;
        std::fs::rename(&tmp, link)
    }
    #[cfg(not(unix))]
    {
        let _ = (link, target);
        Ok(())
    }
}
