use std::io::{self, BufRead, BufReader, Read};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use bulwark_types::{Digest, DigestAlgorithm};
use sha2::{Digest as _, Sha256, Sha512};

pub use crate::stream_error::{Compression, StreamError};
use crate::tar_frame::{Observed, TarFraming};

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
    /// Most bytes of one tar extension header (GNU long name or link, PAX records): the tar
    /// reader holds each whole in memory before the entry it describes, and genuine ones are a
    /// few KiB.
    pub max_extension_bytes: u64,
    /// Most bytes a blob may carry after its tar's end-of-archive marker (record padding is
    /// up to 10 KiB). The declared blob size is the source's word, so it cannot bound this.
    pub max_trailing_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_layer_bytes: 64 << 30,
            max_ratio: 250,
            ratio_grace_bytes: 1 << 30,
            max_extension_bytes: 1 << 20,
            max_trailing_bytes: 1 << 20,
        }
    }
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

/// Counts compressed bytes so the expansion ratio can be checked, and reports progress. Once
/// the tar has ended it also stops the blob at `ceiling`: trailing compressed data that
/// decompresses to nothing (empty gzip members, say) never reaches the tar-level count.
struct Counted<R> {
    inner: R,
    count: Arc<AtomicU64>,
    ceiling: Arc<AtomicU64>,
    blob: String,
    max_trailing_bytes: u64,
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        let count = self.count.fetch_add(n as u64, Ordering::Relaxed) + n as u64;
        if count > self.ceiling.load(Ordering::Relaxed) {
            return Err(io::Error::other(StreamError::TrailingData {
                blob: self.blob.clone(),
                limit: self.max_trailing_bytes,
            }));
        }
        Ok(n)
    }
}

/// Compressed bytes read ahead of the decompressor; the trailing-data ceiling allows for them.
const READ_AHEAD: usize = 256 * 1024;

/// The uncompressed tar bytes of one layer, verified as they stream.
///
/// Read it with a tar reader, then call [`LayerStream::finish`]: digests can only be judged
/// once the whole blob has gone by, and the tar reader stops at its end-of-archive marker.
pub struct LayerStream {
    inner: Verify<Box<dyn Read + Send>>,
    compressed: Arc<AtomicU64>,
    /// Where [`Counted`] stops the blob; set once the tar's end has gone by.
    compressed_ceiling: Arc<AtomicU64>,
    framing: TarFraming,
    blob: String,
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
        let compressed = Arc::new(AtomicU64::new(0));
        let compressed_ceiling = Arc::new(AtomicU64::new(u64::MAX));
        let blob_name = match (&blob_digest, &diff_id) {
            (Some(d), _) => format!("blob {d}"),
            (None, Some(d)) => format!("the blob of the layer with diff_id {d}"),
            (None, None) => "the blob".to_string(),
        };
        let counted = Counted {
            inner: Verify::new(blob, "blob", blob_digest, blob_size, false),
            count: compressed.clone(),
            ceiling: compressed_ceiling.clone(),
            blob: blob_name.clone(),
            max_trailing_bytes: limits.max_trailing_bytes,
        };
        let mut buffered = BufReader::with_capacity(READ_AHEAD, counted);
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
            compressed_ceiling,
            framing: TarFraming::new(limits.max_extension_bytes, limits.max_trailing_bytes),
            blob: blob_name,
            compression,
            limits,
            out: 0,
        })
    }

    pub fn compression(&self) -> Compression {
        self.compression
    }

    /// Compressed bytes consumed so far (for progress).
    pub fn compressed_bytes(&self) -> Arc<AtomicU64> {
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
            let inp = self.compressed.load(Ordering::Relaxed).max(1);
            if self.out / inp > self.limits.max_ratio {
                return Err(io::Error::other(StreamError::RatioExceeded {
                    ratio: self.limits.max_ratio,
                    out: self.out,
                    inp,
                }));
            }
        }
        match self.framing.observe(&buf[..n]) {
            Ok(Observed::ReachedEnd) => {
                let at_end = self.compressed.load(Ordering::Relaxed);
                let ceiling = at_end
                    .saturating_add(self.limits.max_trailing_bytes)
                    .saturating_add(READ_AHEAD as u64);
                self.compressed_ceiling.store(ceiling, Ordering::Relaxed);
            }
            Ok(_) => {}
            Err(StreamError::TrailingData { limit, .. }) => {
                return Err(io::Error::other(StreamError::TrailingData {
                    blob: self.blob.clone(),
                    limit,
                }))
            }
            Err(e) => return Err(io::Error::other(e)),
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use std::io::{Cursor, Write};

    use super::*;

    /// A raw 512-byte header: `name`, `typeflag`, `size` in octal, GNU magic, valid checksum.
    fn header(name: &str, typeflag: u8, size: u64) -> [u8; 512] {
        let mut h = [0u8; 512];
        h[..name.len()].copy_from_slice(name.as_bytes());
        h[100..107].copy_from_slice(b"0000644");
        h[108..115].copy_from_slice(b"0000000");
        h[116..123].copy_from_slice(b"0000000");
        h[124..135].copy_from_slice(format!("{size:011o}").as_bytes());
        h[136..147].copy_from_slice(b"00000000000");
        h[156] = typeflag;
        h[257..265].copy_from_slice(b"ustar  \0");
        h[148..156].copy_from_slice(b"        ");
        let sum: u32 = h.iter().map(|&b| u32::from(b)).sum();
        h[148..155].copy_from_slice(format!("{sum:06o}\0").as_bytes());
        h
    }

    fn member(out: &mut Vec<u8>, name: &str, typeflag: u8, data: &[u8]) {
        out.extend_from_slice(&header(name, typeflag, data.len() as u64));
        out.extend_from_slice(data);
        out.resize(out.len().div_ceil(512) * 512, 0);
    }

    fn end(out: &mut Vec<u8>) {
        out.extend_from_slice(&[0u8; 1024]);
    }

    fn stream(blob: Vec<u8>, digest: Option<Digest>, size: Option<u64>) -> LayerStream {
        LayerStream::new(
            Box::new(Cursor::new(blob)),
            digest,
            size,
            None,
            Limits::default(),
        )
        .unwrap()
    }

    /// Reads every entry's path and data, as the walker does.
    fn walk(stream: &mut LayerStream) -> Result<Vec<String>, StreamError> {
        let mut archive = tar::Archive::new(stream);
        let mut paths = Vec::new();
        let entries = archive
            .entries()
            .map_err(|e| StreamError::from_io(e, Compression::None, true))?;
        for entry in entries {
            let mut entry = entry.map_err(|e| StreamError::from_io(e, Compression::None, true))?;
            paths.push(String::from_utf8_lossy(&entry.path_bytes()).into_owned());
            io::copy(&mut entry, &mut io::sink())
                .map_err(|e| StreamError::from_io(e, Compression::None, true))?;
        }
        Ok(paths)
    }

    fn sha256(bytes: &[u8]) -> Digest {
        Digest::new(DigestAlgorithm::Sha256, &Sha256::digest(bytes))
    }

    /// Issue 13.4: a first entry with a 900 MiB GNU long-name (or PAX) header made the tar
    /// reader hold all of it in memory (3.7 GB peak). Scaled down: 8 MiB against the 1 MiB
    /// limit; the layer fails at the header, having read little more than the header itself.
    #[test]
    fn issue13_4_oversized_extension_headers_fail_the_layer_before_their_body_is_read() {
        for (typeflag, kind) in [
            (b'L', "GNU long-name"),
            (b'K', "GNU long-link"),
            (b'x', "PAX extended"),
        ] {
            let mut tar = Vec::new();
            member(&mut tar, "././@LongLink", typeflag, &vec![b'a'; 8 << 20]);
            member(&mut tar, "etc/passwd", b'0', b"root:x:0:0::/root:/bin/sh\n");
            end(&mut tar);
            let mut s = stream(tar, None, None);
            let err = walk(&mut s).expect_err("an 8 MiB extension header is refused");
            assert!(
                matches!(err, StreamError::ExtensionTooLarge { size, limit, .. } if size == 8 << 20 && limit == 1 << 20),
                "{err}"
            );
            let message = err.to_string();
            assert!(
                message.contains(kind) && message.contains("1048576"),
                "{message}"
            );
            assert!(s.out < 1 << 20, "read {} bytes before stopping", s.out);
        }
    }

    #[test]
    fn extension_headers_under_the_limit_and_pax_sizes_are_followed() {
        let long = format!("usr/{}/file", "d".repeat(300));
        let mut tar = Vec::new();
        member(
            &mut tar,
            "././@LongLink",
            b'L',
            format!("{long}\0").as_bytes(),
        );
        member(&mut tar, "ignored", b'0', b"long-named");
        // A PAX `size` record overrides the header's size (0 here): the framing must skip
        // 1000 bytes of data, not read them as a header.
        let record = "13 size=1000\n";
        member(&mut tar, "PaxHeader", b'x', record.as_bytes());
        tar.extend_from_slice(&header("big", b'0', 0));
        tar.extend_from_slice(&[b'z'; 1000]);
        tar.resize(tar.len().div_ceil(512) * 512, 0);
        end(&mut tar);
        let archive_len = tar.len();
        // Record padding, as tar writes it, is fine.
        tar.resize(archive_len.div_ceil(10240) * 10240, 0);
        let digest = sha256(&tar);
        let mut s = stream(tar.clone(), Some(digest.clone()), Some(tar.len() as u64));
        assert_eq!(walk(&mut s).unwrap(), vec![long.clone(), "big".to_string()]);
        s.finish().unwrap();

        // The same archive then 2 MiB more: only found if the framing kept its place.
        tar.truncate(archive_len);
        tar.extend_from_slice(&vec![0u8; 2 << 20]);
        let mut s = stream(tar, Some(digest), None);
        walk(&mut s).unwrap();
        assert!(matches!(s.finish(), Err(StreamError::TrailingData { .. })));
    }

    /// Issue 13.9: a manifest declared a 2^50-byte layer whose blob never ends; bulwark read on
    /// past the tar's end up to the 64 GiB limit. Now 1 MiB after the end is all it reads.
    #[test]
    fn issue13_9_a_blob_that_goes_on_after_its_tar_ends_is_stopped() {
        let mut tar = Vec::new();
        member(&mut tar, "etc/os-release", b'0', b"ID=debian\n");
        end(&mut tar);
        let digest = sha256(&tar);
        // Endless: the reader never returns 0.
        let endless = Cursor::new(tar).chain(io::repeat(0));
        let mut s = LayerStream::new(
            Box::new(endless),
            Some(digest.clone()),
            Some(1 << 50),
            None,
            Limits::default(),
        )
        .unwrap();
        walk(&mut s).unwrap();
        let err = s.finish().expect_err("the endless blob is stopped");
        let message = err.to_string();
        assert!(
            message.contains("longer than its tar archive")
                && message.contains(&digest.to_string())
                && message.contains("1048576"),
            "{message}"
        );
    }

    #[test]
    fn issue13_9_compressed_data_after_the_tar_end_is_bounded_too() {
        let mut tar = Vec::new();
        member(&mut tar, "etc/os-release", b'0', b"ID=debian\n");
        end(&mut tar);
        let gzip = |data: &[u8]| {
            let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            e.write_all(data).unwrap();
            e.finish().unwrap()
        };
        let mut blob = gzip(&tar);
        // Empty gzip members decompress to nothing: only the compressed count sees them.
        let empty = gzip(b"");
        while blob.len() < 3 << 20 {
            blob.extend_from_slice(&empty);
        }
        let mut s = stream(blob, None, None);
        assert_eq!(s.compression(), Compression::Gzip);
        walk(&mut s).unwrap();
        let err = s.finish().expect_err("the trailing members are stopped");
        assert!(matches!(err, StreamError::TrailingData { .. }), "{err}");
    }
}
