//! Container image sources and verified layer streams.
//!
//! A [`SourceRef`] names an image (`oci:DIR`, `oci-archive:FILE`, `docker-archive:FILE`,
//! `dir:DIR`, or a bare path whose kind is detected). [`open`] resolves it, for one
//! [`Platform`], into an [`Image`]: the manifest and config (parsed with `oci-spec`), the build
//! history, and a list of [`Layer`]s. A layer is only a promise to read: [`Layer::open_tar`]
//! streams its blob through a digest check, a decompressor chosen by magic bytes (gzip, zstd or
//! none), a `diff_id` check and size/ratio limits, and yields tar entries whose paths have been
//! made safe by [`normalize_entry_path`]. Nothing is unpacked to disk and no layer is held in
//! memory; archives are read in place through an index of their members. Remote registries plug
//! in by implementing [`OpenBlob`] for a streamed HTTP body.
#![forbid(unsafe_code)]

mod archive;
mod docker;
mod error;
mod layout;
mod model;
mod paths;
mod platform;
mod reference;
mod stream;

pub use error::ImageError;
pub use model::{HistoryStep, Image, ImageContent, Layer, OpenBlob};
pub use paths::{normalize_entry_path, UnsafePath};
pub use platform::Platform;
pub use reference::{SourceKind, SourceRef};
pub use stream::{Compression, LayerStream, Limits, StreamError};

/// Opens the image a reference names, choosing `platform` from a multi-platform index.
pub fn open(reference: &SourceRef, platform: &Platform) -> Result<Image, ImageError> {
    match reference.kind {
        SourceKind::OciLayout => layout::open_layout_dir(reference, platform),
        SourceKind::OciArchive => layout::open_layout_archive(reference, platform),
        SourceKind::DockerArchive => docker::open_docker_archive(reference),
        SourceKind::Rootfs => Ok(Image::rootfs(reference)),
    }
}
