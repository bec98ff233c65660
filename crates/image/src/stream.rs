use std::io::{self, BufRead, BufReader, Read};

use bulwark_types::{Digest, DigestAlgorithm};
use sha2::{Digest as _, Sha256, Sha512};

/// Bounds on what one layer may expand to. They exist because a layer is untrusted input: a
/// few megabytes of gzip can claim terabytes, and a scanner must stop with a message, not fill
/// a disk or spin for hours.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Most uncompressed bytes one layer may produce.
    pub max_layer_bytes: u64,
    /// Most uncompressed bytes per compressed byte, checked once `ratio_grace_bytes` have come
    /// out (small, highly compressible layers are normal).
    pub max_ratio: u64,
    pub ratio_grace_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_layer_bytes: 64 << 30,
            max_ratio: 250,
            ratio_grace_bytes: 1 << 30,
        }
    }
}

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

enum Hasher {
    Sha256(Sha256),
    Sha512(Sha512),
}

impl Hasher {
    fn new(alg: DigestAlgorithm) -> Hasher {
        match alg {
            DigestAlgorithm::Sha256 => Hasher::Sha256(Sha256::new()),
            DigestAlgorithm::Sha512 => Hasher::Sha512(Sha512::new()),
        }
    }

    fn update(&mut self, data: &[u8]) {
        match self {
            Hasher::Sha256(h) => h.update(data),
            Hasher::Sha512(h) => h.update(data),
        }
    }

    fn finish(self) -> Digest {
        match self {
            Hasher::Sha256(h) => Digest::new(DigestAlgorithm::Sha256, &h.finalize()),
            Hasher::Sha512(h) => Digest::new(DigestAlgorithm::Sha512, &h.finalize()),
        }
    }
}

/// Hashes and counts what passes through, and at end of stream fails unless the content has
/// the expected digest and size. A blob longer than declared fails as soon as it is.
struct Verify<R> {
    inner: R,
    what: &'static str,
    expected: Option<Digest>,
    hasher: Option<Hasher>,
    declared_size: Option<u64>,
    count: u64,
    computed: Option<Digest>,
}

impl<R: Read> Verify<R> {
    fn new(
        inner: R,
        what: &'static str,
        expected: Option<Digest>,
        declared_size: Option<u64>,
        always_hash: bool,
    ) -> Self {
        let hasher = match &expected {
            Some(d) => Some(Hasher::new(d.algorithm())),
            None if always_hash => Some(Hasher::new(DigestAlgorithm::Sha256)),
            None => None,
        };
        Verify {
            inner,
            what,
            expected,
            hasher,
            declared_size,
            count: 0,
            computed: None,
        }
    }

    fn check_end(&mut self) -> io::Result<()> {
        if let Some(declared) = self.declared_size {
            if self.count != declared {
                return Err(io::Error::other(StreamError::SizeMismatch {
                    declared,
                    actual: self.count,
                }));
            }
        }
        if let Some(hasher) = self.hasher.take() {
            let actual = hasher.finish();
            if let Some(expected) = &self.expected {
                if &actual != expected {
                    return Err(io::Error::other(StreamError::DigestMismatch {
                        what: self.what,
                        expected: expected.to_string(),
                        actual: actual.to_string(),
                    }));
                }
            }
            self.computed = Some(actual);
        }
        Ok(())
    }
}

impl<R: Read> Read for Verify<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if n == 0 {
            if !buf.is_empty() {
                self.check_end()?;
            }
            return Ok(0);
        }
        self.count += n as u64;
        if let Some(declared) = self.declared_size {
            if self.count > declared {
                return Err(io::Error::other(StreamError::SizeMismatch {
                    declared,
                    actual: self.count,
                }));
            }
        }
        if let Some(h) = &mut self.hasher {
            h.update(&buf[..n]);
        }
        Ok(n)
    }
}

/// Counts compressed bytes so the expansion ratio can be checked, and reports progress.
struct Counted<R> {
    inner: R,
    count: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count
            .fetch_add(n as u64, std::sync::atomic::Ordering::Relaxed);
        Ok(n)
    }
}

/// The uncompressed tar bytes of one layer, verified as they stream.
///
/// Read it with a tar reader, then call [`LayerStream::finish`]: digests can only be judged
/// once the whole blob has gone by, and the tar reader stops at its end-of-archive marker.
pub struct LayerStream {
    inner: Verify<Box<dyn Read + Send>>,
    compressed: std::sync::Arc<std::sync::atomic::AtomicU64>,
    compression: Compression,
    limits: Limits,
    out: u64,
}

impl LayerStream {
    pub(crate) fn new(
        blob: Box<dyn Read + Send>,
        blob_digest: Option<Digest>,
        blob_size: Option<u64>,
        diff_id: Option<Digest>,
        limits: Limits,
    ) -> io::Result<LayerStream> {
        LayerStream::with_hashing(blob, blob_digest, blob_size, diff_id, limits, false)
    }

    /// [`LayerStream::new`] that, with `always_hash`, computes the diff_id (SHA-256) even when
    /// none is expected: an engine export names some layers only by what they hash to.
    pub(crate) fn with_hashing(
        blob: Box<dyn Read + Send>,
        blob_digest: Option<Digest>,
        blob_size: Option<u64>,
        diff_id: Option<Digest>,
        limits: Limits,
        always_hash: bool,
    ) -> io::Result<LayerStream> {
        let compressed = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
        let counted = Counted {
            inner: Verify::new(blob, "blob", blob_digest, blob_size, false),
            count: compressed.clone(),
        };
        let mut buffered = BufReader::with_capacity(256 * 1024, counted);
        let head = buffered.fill_buf()?;
        let compression = if head.starts_with(&[0x1f, 0x8b]) {
            Compression::Gzip
        } else if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
            Compression::Zstd
        } else {
            Compression::None
        };
        let decoded: Box<dyn Read + Send> = match compression {
            Compression::Gzip => Box::new(flate2::bufread::MultiGzDecoder::new(buffered)),
            Compression::Zstd => Box::new(zstd::stream::read::Decoder::with_buffer(buffered)?),
            Compression::None => Box::new(buffered),
        };
        Ok(LayerStream {
            inner: Verify::new(decoded, "diff_id", diff_id, None, always_hash),
            compressed,
            compression,
            limits,
            out: 0,
        })
    }

    pub fn compression(&self) -> Compression {
        self.compression
    }

    /// Compressed bytes consumed so far (for progress).
    pub fn compressed_bytes(&self) -> std::sync::Arc<std::sync::atomic::AtomicU64> {
        self.compressed.clone()
    }

    /// Reads what the tar reader left (end-of-archive padding) and settles both digests.
    /// Returns the computed diff_id when one was expected (or asked for).
    pub fn finish(mut self) -> Result<Option<Digest>, StreamError> {
        io::copy(&mut self, &mut io::sink())
            .map_err(|e| StreamError::from_io(e, self.compression, false))?;
        Ok(self.inner.computed.take())
    }
}

impl Read for LayerStream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.out += n as u64;
        if self.out > self.limits.max_layer_bytes {
            return Err(io::Error::other(StreamError::TooLarge {
                limit: self.limits.max_layer_bytes,
            }));
        }
        if self.out > self.limits.ratio_grace_bytes {
            let inp = self
                .compressed
                .load(std::sync::atomic::Ordering::Relaxed)
                .max(1);
            if self.out / inp > self.limits.max_ratio {
                return Err(io::Error::other(StreamError::RatioExceeded {
                    ratio: self.limits.max_ratio,
                    out: self.out,
                    inp,
                }));
            }
        }
        Ok(n)
    }
}
