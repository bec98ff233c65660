//! Fuzz targets for every bulwark parser that reads untrusted bytes, and a stable-Rust harness
//! that runs them.
//!
//! A [`Target`] is a name and a `fn(&[u8])` that hands the bytes to a crate's public entry
//! point the way a scan would (an image archive to `bulwark_image::open`, a lockfile to its
//! analyzer under a path it asked for, an advisory file to `bulwark_vulndb::import_paths`, and
//! so on). A target returns normally whatever the bytes are: malformed input is an `Err` or a
//! diagnostic in the crate under test, never a panic, an abort or an endless loop. [`TARGETS`]
//! lists them all, once.
//!
//! [`campaign`] runs them without nightly Rust: for each target, the seed corpus
//! (`corpus/<target>/`), the fixed regressions (`regressions/fixed/<target>/`) and, per seed,
//! inputs made by [`mutate::Mutator`] (bit flips, splices, truncation, repetition, ...), each
//! under `catch_unwind` on its own thread, with a wall-time bound, a watchdog for endless
//! loops and, when the caller can measure it, a bound on the memory one input may allocate.
//! `cargo test -p bulwark-fuzz` runs a short campaign; `scripts/fuzz.sh` a long one. The same
//! functions back the `cargo fuzz` (libFuzzer, nightly) targets in the repository's `fuzz/`.
//! See docs/fuzzing.md.
//!
//! ```ignore
//! let target = bulwark_fuzz::find("dpkg_status").unwrap();
//! (target.run)(b"Package: x\nVersion: 1\n");
//! ```
#![forbid(unsafe_code)]

pub mod campaign;
pub mod mutate;
mod targets;

pub use targets::seeds;

/// One fuzz target: a parser entry point fed arbitrary bytes.
#[derive(Clone, Copy)]
pub struct Target {
    /// Stable name: the corpus and regression directories and the `cargo fuzz` binary use it.
    pub name: &'static str,
    /// What the bytes are parsed as, for listings and docs.
    pub what: &'static str,
    pub run: fn(&[u8]),
}

impl std::fmt::Debug for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Target").field("name", &self.name).finish()
    }
}

pub use targets::TARGETS;

/// The target called `name`.
pub fn find(name: &str) -> Option<&'static Target> {
    TARGETS.iter().find(|t| t.name == name)
}

/// Runs the target called `name` on `data` (the `cargo fuzz` binaries call this).
///
/// # Panics
/// When no target has that name: a typo in a fuzz binary, not an input problem.
pub fn run(name: &str, data: &[u8]) {
    let target = find(name).unwrap_or_else(|| panic!("no fuzz target named {name:?}"));
    (target.run)(data)
}
