//! Makes cargo rebuild the tests when a suite is added or removed, so that
//! `tests/suites.rs` (rstest's `#[files("suites/**/*.toml")]`, expanded at
//! compile time) picks it up without touching Rust code.

fn main() {
    println!("cargo::rerun-if-changed=suites");
    println!("cargo::rerun-if-changed=build.rs");
}
