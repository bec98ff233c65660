//! Static reachability: which packages of an image its entrypoint can load, with the chain
//! that shows it (issue 16, first increment).
//!
//! During the single pass, [`LinkageAnalyzer`] records for each ELF object its program
//! interpreter, `DT_NEEDED` libraries, `DT_RPATH`/`DT_RUNPATH` and whether it imports `dlopen`
//! or a program runner (`execve`, `system`, `posix_spawn`); for each executable script its `#!`
//! line; and the loader's `ld.so.conf` (with `include`s) and `ld.so.preload`. Nothing is read
//! twice. After assembly, [`closure`] starts from ENTRYPOINT + CMD, resolves programs through
//! the config's `PATH` and the image's symlinks, follows `env`, init wrappers (`tini`,
//! `dumb-init`, `gosu`), `sh -c` strings (the first word of each simple command, best effort),
//! shebangs to interpreters, and ELF objects to the libraries `ld.so` would load (`$ORIGIN`,
//! `LD_LIBRARY_PATH` and `LD_PRELOAD` from the config, `ld.so.conf`, the default and multiarch
//! directories), transitively. [`Verdicts`] then calls a package `reachable` when a file of it
//! is in the closure, `unreachable` only when all its code is ELF objects outside the closure
//! and nothing in the closure could load them otherwise (no interpreter running unanalysed
//! code, no `dlopen` or exec caller, not a glibc or PAM module), and `unknown` otherwise, with
//! the reason. Language packages are `unknown` (import graphs are a later increment), except
//! Go and Rust modules built into a binary, which share the binary's verdict.
#![forbid(unsafe_code)]

mod analyzer;
mod closure;
mod verdict;

pub use analyzer::{parse_shebang, read_elf, LinkageAnalyzer, ANALYZER_ID};
pub use closure::{
    closure, simple_commands, Closure, EntrypointConfig, LoadIndex, Node, OpenLoader, PluginHost,
};
pub use verdict::{PackageVerdicts, Verdicts};

use bulwark_analyze::ImageFacts;

/// The verdict of every package of `facts` (needs `facts.layer_facts` and the finalized
/// packages), for the entrypoint `config` describes.
pub fn package_verdicts(facts: &ImageFacts, config: &EntrypointConfig) -> PackageVerdicts {
    let index = LoadIndex::new(facts);
    let closure = closure(&index, config);
    Verdicts::new(&index, closure.as_ref()).packages(&facts.packages)
}
