//! Container image sources and verified layer streams.
//!
//! A [`SourceRef`] names an image (`oci:DIR`, `oci-archive:FILE`, `docker-archive:FILE`,
//! `dir:DIR`, or a bare path whose kind is detected). [`open`] resolves it, for one
//! [`Platform`], into an [`Image`]: the manifest and config (parsed with `oci-spec`), the build
//! history, and a list of [`Layer`]s. A layer is only a promise to read: [`Layer::open_tar`]
//! streams its blob through a digest check, a decompressor chosen by magic bytes (gzip, zstd or
//! none), a `diff_id` check and size/ratio limits, and yields tar entries whose paths have been
//! made safe by [`normalize_entry_path`]. Nothing is unpacked to disk and no layer is held in
//! memory; archives are read in place through an index of their members. Registry images
//! (`registry:NAME`, `docker://NAME`, or a bare name such as `nginx:1.25` that is not a local
//! path) are read through the distribution API by [`registry`], whose [`OpenBlob`] is a
//! streamed HTTP body.
#![forbid(unsafe_code)]

mod archive;
mod docker;
mod error;
mod layout;
mod model;
mod paths;
mod platform;
mod reference;
pub mod registry;
mod stream;

pub use error::ImageError;
pub use model::{HistoryStep, Image, ImageContent, Layer, OpenBlob};
pub use paths::{normalize_entry_path, UnsafePath};
pub use platform::Platform;
pub use reference::{SourceKind, SourceRef};
pub use stream::{Compression, LayerStream, Limits, StreamError};

/// Opens the image a reference names, choosing `platform` from a multi-platform index.
/// Registry images are reached with default [`registry::RegistryOptions`].
pub fn open(reference: &SourceRef, platform: &Platform) -> Result<Image, ImageError> {
    open_with(reference, platform, &registry::RegistryOptions::default())
}

/// [`open`] with explicit settings for registries (TLS trust, credentials, timeouts).
pub fn open_with(
    reference: &SourceRef,
    platform: &Platform,
    registry_options: &registry::RegistryOptions,
) -> Result<Image, ImageError> {
    match reference.kind {
        SourceKind::Registry => match &reference.registry {
            Some(name) => registry::open(name, platform, registry_options),
            None => Err(ImageError::BadReference(
                "a registry source without an image name".to_string(),
            )),
        },
        SourceKind::OciLayout => layout::open_layout_dir(reference, platform),
        SourceKind::OciArchive => layout::open_layout_archive(reference, platform),
        SourceKind::DockerArchive => docker::open_docker_archive(reference),
        SourceKind::Rootfs => Ok(Image::rootfs(reference)),
    }
}
