//! The single pass over an image, and what it leaves behind.
//!
//! An [`Analyzer`] declares cheaply, per tar entry, whether it wants the file
//! ([`Analyzer::wants`]) and turns the bytes it asked for into typed [`Fact`]s. The [`Walker`]
//! streams every layer exactly once (layers in parallel, one thread each), hands each entry only
//! to the analyzers that want it, and records a [`LayerFacts`]: the layer's file index,
//! whiteouts, facts per path and diagnostics. [`LayerCache`] stores those per `diff_id` and
//! analyzer versions, so a rescan reads only layers it has not seen. [`assemble`] then applies
//! the layers in order (whiteouts, opaque directories, overwrites, symlinks resolved inside the
//! image) and joins the facts into [`ImageFacts`]: the OS, the visible file tree, secrets with
//! the layer that removed them, and, through [`ImageFacts::visible_packages`], each database
//! record the final filesystem shows with its introducing layer. Turning those records into the
//! package inventory (purls, owned files, de-duplication) is `bulwark-catalog`'s
//! `finalize_packages`. Nothing after assembly touches the image again. Analyzers that look
//! inside archives among the files (the secret scanner, Java cataloging) share [`archive`]: its
//! bounded, in-memory walk over zip, tar and compressed members.
#![forbid(unsafe_code)]

pub mod archive;
mod assemble;
mod budget;
mod cache;
mod facts;
mod walker;

pub use assemble::{assemble, resolve_symlinks, ImageFacts, LayerSummary, VisibleFile};
pub use budget::{MemoryBudget, Reservation};
pub use cache::{CacheError, LayerCache};
pub use facts::{
    Diagnostic, DiagnosticLevel, ElfLinks, Fact, FileKind, FileMeta, FileRecord, Interest,
    LayerFacts, PackageRecord, PathFacts,
};
pub use walker::{Analyzer, AnalyzerOutput, NoProgress, Progress, ScanError, WalkedLayer, Walker};
