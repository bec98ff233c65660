use std::fmt;
use std::io::{self, Read};
use std::path::PathBuf;
use std::sync::Arc;

use bulwark_types::Digest;
use oci_spec::image::ImageConfiguration;

use crate::stream::{LayerStream, Limits, StreamError};
use crate::{ImageError, Platform, SourceRef};

/// Opens a blob for one streaming read. Local sources open a file window; a registry source
/// returns the HTTP body. Called once per layer per scan, from any thread.
pub trait OpenBlob: Send + Sync {
    fn open(&self) -> io::Result<Box<dyn Read + Send>>;
}

impl<F> OpenBlob for F
where
    F: Fn() -> io::Result<Box<dyn Read + Send>> + Send + Sync,
{
    fn open(&self) -> io::Result<Box<dyn Read + Send>> {
        self()
    }
}

/// One layer of an image, not yet read.
#[derive(Clone)]
pub struct Layer {
    pub index: usize,
    pub media_type: Option<String>,
    /// The blob's digest (compressed), verified while streaming when known.
    pub digest: Option<Digest>,
    pub size: Option<u64>,
    /// The uncompressed tar's digest from the config's `rootfs.diff_ids`; the cache key.
    pub diff_id: Option<Digest>,
    /// The history step that made the layer.
    pub created_by: Option<String>,
    pub(crate) opener: Arc<dyn OpenBlob>,
}

impl fmt::Debug for Layer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Layer")
            .field("index", &self.index)
            .field("media_type", &self.media_type)
            .field("digest", &self.digest)
            .field("size", &self.size)
            .field("diff_id", &self.diff_id)
            .field("created_by", &self.created_by)
            .finish()
    }
}

impl Layer {
    pub fn new(index: usize, opener: Arc<dyn OpenBlob>) -> Layer {
        Layer {
            index,
            media_type: None,
            digest: None,
            size: None,
            diff_id: None,
            created_by: None,
            opener,
        }
    }

    /// A short name for messages: the diff_id or blob digest, else the index.
    pub fn label(&self) -> String {
        self.diff_id
            .as_ref()
            .or(self.digest.as_ref())
            .map(|d| format!("{}:{}", d.algorithm().as_str(), d.short()))
            .unwrap_or_else(|| format!("#{}", self.index))
    }

    /// Starts streaming the layer's uncompressed tar, verified against its digests.
    pub fn open_tar(&self, limits: Limits) -> Result<LayerStream, ImageError> {
        let wrap = |source: StreamError| ImageError::Layer {
            index: self.index,
            digest: self.label(),
            source,
        };
        let blob = self.opener.open().map_err(|e| wrap(StreamError::Io(e)))?;
        LayerStream::new(
            blob,
            self.digest.clone(),
            self.size,
            self.diff_id.clone(),
            limits,
        )
        .map_err(|e| wrap(StreamError::from_io(e, crate::Compression::None, false)))
    }
}

/// One build step from the config's history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryStep {
    pub created_by: Option<String>,
    pub created: Option<String>,
    pub comment: Option<String>,
    pub empty_layer: bool,
}

/// What an image is made of.
#[derive(Debug, Clone)]
pub enum ImageContent {
    Layers(Vec<Layer>),
    /// Layers that come together, in one stream, from a container engine's image export:
    /// they cannot be opened one by one ([`Layer::open_tar`] fails), only read with
    /// [`EngineExport::read`](crate::engine::EngineExport::read), in the order the stream
    /// carries them.
    Exported {
        layers: Vec<Layer>,
        export: crate::engine::EngineExport,
    },
    /// An unpacked root filesystem, read in place (never following links out of it).
    Rootfs(PathBuf),
}

/// An opened image: metadata read and checked, layers ready to stream.
#[derive(Debug, Clone)]
pub struct Image {
    /// How the user named it, for reports.
    pub source: String,
    pub repo_tags: Vec<String>,
    pub manifest_digest: Option<Digest>,
    pub config_digest: Option<Digest>,
    pub config: Option<ImageConfiguration>,
    pub platform: Option<Platform>,
    pub history: Vec<HistoryStep>,
    pub content: ImageContent,
}

impl Image {
    pub(crate) fn rootfs(reference: &SourceRef) -> Image {
        Image {
            source: reference.display_name(),
            repo_tags: Vec::new(),
            manifest_digest: None,
            config_digest: None,
            config: None,
            platform: None,
            history: Vec::new(),
            content: ImageContent::Rootfs(reference.path.clone()),
        }
    }

    pub fn layers(&self) -> &[Layer] {
        match &self.content {
            ImageContent::Layers(layers) => layers,
            ImageContent::Exported { layers, .. } => layers,
            ImageContent::Rootfs(_) => &[],
        }
    }
}

/// Reads the history out of a config and pairs each non-empty step with its layer, in order,
/// the way `docker history` does.
pub(crate) fn history_of(config: &ImageConfiguration) -> Vec<HistoryStep> {
    config
        .history()
        .as_ref()
        .map(|steps| {
            steps
                .iter()
                .map(|h| HistoryStep {
                    created_by: h.created_by().clone(),
                    created: h.created().clone(),
                    comment: h.comment().clone(),
                    empty_layer: h.empty_layer().unwrap_or(false),
                })
                .collect()
        })
        .unwrap_or_default()
}

pub(crate) fn attach_history(layers: &mut [Layer], history: &[HistoryStep]) {
    let mut steps = history.iter().filter(|h| !h.empty_layer);
    for layer in layers.iter_mut() {
        match steps.next() {
            Some(step) => layer.created_by = step.created_by.clone(),
            None => break,
        }
    }
}

/// Checks the config's diff_ids against the manifest's layers and attaches them.
pub(crate) fn attach_diff_ids(
    layers: &mut [Layer],
    config: &ImageConfiguration,
    location: &str,
) -> Result<(), ImageError> {
    let diff_ids = config.rootfs().diff_ids();
    if diff_ids.len() != layers.len() {
        return Err(ImageError::malformed(
            location,
            "image",
            format!(
                "the manifest lists {} layers but the config's rootfs.diff_ids has {}",
                layers.len(),
                diff_ids.len()
            ),
        ));
    }
    for (layer, id) in layers.iter_mut().zip(diff_ids) {
        let digest: Digest = id.parse().map_err(|e| {
            ImageError::malformed(location, "image config", format!("bad diff_id: {e}"))
        })?;
        layer.diff_id = Some(digest);
    }
    Ok(())
}

pub(crate) fn parse_config(bytes: &[u8], location: &str) -> Result<ImageConfiguration, ImageError> {
    serde_json::from_slice(bytes)
        .map_err(|e| ImageError::malformed(location, "image config", e.to_string()))
}
