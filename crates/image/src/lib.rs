//! Container image sources and verified layer streams.
//!
//! A [`SourceRef`] names an image (`oci:DIR`, `oci-archive:FILE`, `docker-archive:FILE`,
//! `dir:DIR`, or a bare path whose kind is detected). [`open`] resolves it, for one
//! [`Platform`], into an [`Image`]: the manifest and config (parsed with `oci-spec`), the build
//! history, and a list of [`Layer`]s. A layer is only a promise to read: [`Layer::open_tar`]
//! streams its blob through a digest check, a decompressor chosen by magic bytes (gzip, zstd or
//! none), a `diff_id` check and size/ratio limits, follows the tar framing to refuse oversized
//! extension headers and data past the end-of-archive marker ([`Limits`]), and yields tar
//! entries whose paths have been made safe by [`normalize_entry_path`]. Nothing is unpacked to disk and no layer is held in
//! memory; archives are read in place through an index of their members. Registry images
//! (`registry:NAME`, `docker://NAME`, or a bare name such as `nginx:1.25` that is not a local
//! path) are read through the distribution API by [`registry`], whose [`OpenBlob`] is a
//! streamed HTTP body held to a [`MinRate`].
//!
//! Images in a local container engine (`docker:NAME`, `docker-daemon:NAME`, `podman:NAME`)
//! are read by [`engine`] over the engine's unix socket (the Docker Engine API, which Podman
//! serves too): inspected first, then exported as one tar stream whose layers are verified and
//! handed out as they pass ([`ImageContent::Exported`]), never spooled to disk. A bare name
//! is looked for in the engines and then its registry, in the order [`open_with_sources`] is
//! given (`--source`; default docker, podman, remote).
#![forbid(unsafe_code)]

mod archive;
mod docker;
pub mod engine;
mod error;
mod layer;
mod layout;
mod model;
mod paths;
mod platform;
mod reference;
pub mod registry;
mod stream;
mod stream_error;
mod tar_frame;

pub use bulwark_engine::{MinRate, TooSlow};
pub use error::ImageError;
pub use layer::{Layer, OpenBlob};
pub use model::{HistoryStep, Image, ImageContent};
pub use paths::{normalize_entry_path, UnsafePath};
pub use platform::Platform;
pub use reference::{SourceKind, SourceRef};
pub use stream::{Compression, LayerStream, Limits, StreamError};

/// Opens the image a reference names, choosing `platform` from a multi-platform index.
/// Registry images are reached with default [`registry::RegistryOptions`], engines with
/// default [`engine::EngineOptions`], and bare names are looked for in the default order.
pub fn open(reference: &SourceRef, platform: &Platform) -> Result<Image, ImageError> {
    open_with(reference, platform, &registry::RegistryOptions::default())
}

/// [`open`] with explicit settings for registries (TLS trust, credentials, timeouts).
pub fn open_with(
    reference: &SourceRef,
    platform: &Platform,
    registry_options: &registry::RegistryOptions,
) -> Result<Image, ImageError> {
    open_with_sources(
        reference,
        platform,
        registry_options,
        &engine::EngineOptions::default(),
        &engine::Source::DEFAULT,
    )
}

/// [`open_with`] with explicit engine settings and the order in which a bare name
/// (`nginx:1.25`) is looked for: local engines whose socket is absent, that are down, or that
/// lack the image pass to the next source; `remote` is its registry.
pub fn open_with_sources(
    reference: &SourceRef,
    platform: &Platform,
    registry_options: &registry::RegistryOptions,
    engine_options: &engine::EngineOptions,
    sources: &[engine::Source],
) -> Result<Image, ImageError> {
    match reference.kind {
        SourceKind::Engine(kind) => {
            let name = reference
                .engine_name
                .clone()
                .unwrap_or_else(|| reference.path.display().to_string());
            Ok(engine::open(kind, &name, engine_options)?)
        }
        SourceKind::Registry => match &reference.registry {
            Some(name) => {
                if let Some(bare) = &reference.engine_name {
                    if let Some(image) = engine::lookup(bare, sources, engine_options)? {
                        return Ok(image);
                    }
                }
                registry::open(name, platform, registry_options)
            }
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
