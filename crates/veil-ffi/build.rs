//! Gives the shared library a versioned soname, `libveil.so.<major>`: a program linked with
//! `-lveil` then records that name, keeps working across compatible upgrades of the library,
//! and refuses an incompatible one. `make install` installs `libveil.so.<version>` with the
//! `libveil.so.<major>` and `libveil.so` links (rustc sets no soname on its own).

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    if std::env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("linux") {
        let major = std::env::var("CARGO_PKG_VERSION_MAJOR").unwrap_or_else(|_| "0".to_owned());
        println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libveil.so.{major}");
    }
}
