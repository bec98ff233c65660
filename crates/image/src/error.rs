use std::path::PathBuf;

use crate::stream::StreamError;

/// Everything that can go wrong turning a reference into an image and its layers.
///
/// Messages name the file, blob or layer at fault and, where it helps, what to do next.
#[derive(Debug, thiserror::Error)]
pub enum ImageError {
    #[error("cannot read {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{0}")]
    BadReference(String),
    #[error("{path} is not a valid {what}: {reason}")]
    Malformed {
        path: String,
        what: &'static str,
        reason: String,
    },
    #[error("blob {digest} is missing from {location}")]
    MissingBlob { digest: String, location: String },
    #[error("{what} {digest} has a digest mismatch: the content hashes to {actual}; the image is corrupt or was tampered with")]
    DigestMismatch {
        what: &'static str,
        digest: String,
        actual: String,
    },
    #[error("no image for platform {wanted} in {location}; available: {available}. Choose one with --platform")]
    PlatformNotFound {
        wanted: String,
        location: String,
        available: String,
    },
    #[error("{location} holds several images ({names}); name one, e.g. oci:DIR:TAG")]
    AmbiguousImage { location: String, names: String },
    #[error("no image named {name:?} in {location}; available: {names}")]
    TagNotFound {
        name: String,
        location: String,
        names: String,
    },
    #[error(
        "{path} is truncated: member {member} needs {needed} bytes but the file ends at {len}"
    )]
    TruncatedArchive {
        path: PathBuf,
        member: String,
        needed: u64,
        len: u64,
    },
    #[error("{0}")]
    Unsupported(String),
    #[error(transparent)]
    Registry(#[from] crate::registry::RegistryError),
    #[error(transparent)]
    Engine(#[from] bulwark_engine::EngineError),
    #[error("layer {index} ({digest}): {source}")]
    Layer {
        index: usize,
        digest: String,
        #[source]
        source: StreamError,
    },
}

impl ImageError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        ImageError::Io {
            path: path.into(),
            source,
        }
    }

    pub(crate) fn malformed(
        path: impl ToString,
        what: &'static str,
        reason: impl ToString,
    ) -> Self {
        ImageError::Malformed {
            path: path.to_string(),
            what,
            reason: reason.to_string(),
        }
    }
}
