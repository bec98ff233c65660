//! A layer of an image before it is read: its digests and a way to open its blob once.

use std::fmt;
use std::io::{self, Read};
use std::sync::Arc;

use bulwark_types::Digest;

use crate::stream::{Compression, LayerStream, Limits, StreamError};
use crate::ImageError;

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
        .map_err(|e| wrap(StreamError::from_io(e, Compression::None, false)))
    }
}
