use std::path::PathBuf;

use bulwark_types::Digest;
use oci_spec::image::ImageConfiguration;

use crate::engine::EngineExport;
use crate::layer::Layer;
use crate::{ImageError, Platform, SourceRef};

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
        export: EngineExport,
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
    /// An image of these layers and no metadata: what tests and callers assembling layers
    /// they read themselves start from.
    pub fn from_layers(source: impl Into<String>, layers: Vec<Layer>) -> Image {
        Image {
            source: source.into(),
            repo_tags: Vec::new(),
            manifest_digest: None,
            config_digest: None,
            config: None,
            platform: None,
            history: Vec::new(),
            content: ImageContent::Layers(layers),
        }
    }

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
