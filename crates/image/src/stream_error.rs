//! How a layer stream fails, apart from the stream itself so that the tar framing check,
//! which the stream drives, can raise the same errors.

use std::io;

/// Layer compression, decided by the blob's first bytes (media types lie more often than magic).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    None,
    Gzip,
    Zstd,
}

/// Why a layer stream failed. Carried inside `io::Error` through the decompressor and the tar
/// reader, then recovered by [`StreamError::from_io`].
#[derive(Debug, thiserror::Error)]
pub enum StreamError {
    #[error("{what} digest mismatch: expected {expected}, content hashes to {actual}; the image is corrupt or was tampered with")]
    DigestMismatch {
        what: &'static str,
        expected: String,
        actual: String,
    },
    #[error("blob is {actual} bytes but the manifest declares {declared}")]
    SizeMismatch { declared: u64, actual: u64 },
    #[error(
        "expands past {limit} bytes; stopped (raise --max-layer-size if this layer is genuine)"
    )]
    TooLarge { limit: u64 },
    #[error("expands more than {ratio}x ({out} bytes from {inp}); stopped as a likely decompression bomb")]
    RatioExceeded { ratio: u64, out: u64, inp: u64 },
    #[error("{compression:?} data is corrupt or truncated: {message}")]
    Corrupt {
        compression: Compression,
        message: String,
    },
    #[error("a {kind} header in the tar stream declares {size} bytes, over the {limit}-byte limit for extension headers (genuine ones are a few KiB); the layer is corrupt or hostile")]
    ExtensionTooLarge {
        kind: &'static str,
        size: u64,
        limit: u64,
    },
    #[error("{blob} is longer than its tar archive: more than {limit} bytes follow the end-of-archive marker, so it cannot match its digest; stopped reading")]
    TrailingData { blob: String, limit: u64 },
    #[error("tar stream is corrupt or truncated: {0}")]
    Tar(String),
    #[error("read failed: {0}")]
    Io(#[source] io::Error),
}

impl StreamError {
    /// Recovers the typed error a layer reader raised, or classifies a decoder/tar error.
    pub fn from_io(err: io::Error, compression: Compression, in_tar: bool) -> StreamError {
        if err.get_ref().is_some_and(|e| e.is::<StreamError>()) {
            return *err.into_inner().unwrap().downcast::<StreamError>().unwrap();
        }
        match err.kind() {
            io::ErrorKind::InvalidData
            | io::ErrorKind::InvalidInput
            | io::ErrorKind::UnexpectedEof
                if !in_tar =>
            {
                StreamError::Corrupt {
                    compression,
                    message: err.to_string(),
                }
            }
            io::ErrorKind::Other
            | io::ErrorKind::InvalidData
            | io::ErrorKind::UnexpectedEof
            | io::ErrorKind::InvalidInput => {
                if compression != Compression::None && looks_like_decoder_error(&err) {
                    StreamError::Corrupt {
                        compression,
                        message: err.to_string(),
                    }
                } else {
                    StreamError::Tar(err.to_string())
                }
            }
            _ => StreamError::Io(err),
        }
    }
}

fn looks_like_decoder_error(err: &io::Error) -> bool {
    let msg = err.to_string().to_ascii_lowercase();
    [
        "deflate", "gzip", "header", "zstd", "frame", "checksum", "corrupt", "unknown",
    ]
    .iter()
    .any(|w| msg.contains(w))
}
