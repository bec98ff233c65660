use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use bulwark_types::Digest;
use sha2::{Digest as _, Sha256};

use crate::facts::LayerFacts;

/// Bumped when [`LayerFacts`]' shape changes, so old entries are ignored rather than misread.
const CACHE_FORMAT: u32 = 2;

#[derive(Debug, thiserror::Error)]
pub enum CacheError {
    #[error("cannot use cache directory {path}: {source}. Pass --cache-dir DIR or --no-cache")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// Per-layer facts on disk, keyed by layer `diff_id`, analyzer ids and versions, and options.
///
/// Entries are written to a temporary file in the same directory and renamed into place, so
/// a reader sees a whole entry or none, and two scans sharing the cache can both write the
/// same key: the last rename wins with identical content.
#[derive(Debug, Clone)]
pub struct LayerCache {
    dir: PathBuf,
}

impl LayerCache {
    pub fn open(dir: impl Into<PathBuf>) -> Result<LayerCache, CacheError> {
        let dir = dir.into().join("layers");
        std::fs::create_dir_all(&dir).map_err(|source| CacheError::Io {
            path: dir.clone(),
            source,
        })?;
        Ok(LayerCache { dir })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn key(diff_id: &Digest, analyzer_versions: &[String], options: &str) -> String {
        let mut h = Sha256::new();
        h.update(format!("bulwark-layer-cache/{CACHE_FORMAT}\n{diff_id}\n"));
        for a in analyzer_versions {
            h.update(a.as_bytes());
            h.update(b"\n");
        }
        h.update(options.as_bytes());
        hex::encode(h.finalize())
    }

    fn path(&self, key: &str) -> PathBuf {
        self.dir.join(format!("{key}.json.zst"))
    }

    /// The cached facts, or `None` when absent or unreadable (a damaged entry is a miss).
    pub fn load(&self, key: &str) -> Option<LayerFacts> {
        let file = File::open(self.path(key)).ok()?;
        // Decompress whole, then parse: serde_json reading through the decoder asks for a few
        // bytes at a time, and each small read costs a zstd call (most of a warm rescan).
        let mut json = Vec::new();
        zstd::stream::read::Decoder::new(BufReader::new(file))
            .ok()?
            .read_to_end(&mut json)
            .ok()?;
        serde_json::from_slice(&json).ok()
    }

    pub fn store(&self, key: &str, facts: &LayerFacts) -> Result<(), CacheError> {
        let io_err = |source| CacheError::Io {
            path: self.dir.clone(),
            source,
        };
        let tmp = tempfile::NamedTempFile::new_in(&self.dir).map_err(io_err)?;
        {
            let mut encoder = zstd::stream::write::Encoder::new(BufWriter::new(tmp.as_file()), 3)
                .map_err(io_err)?;
            serde_json::to_writer(&mut encoder, facts).map_err(|e| io_err(e.into()))?;
            encoder.finish().map_err(io_err)?.flush().map_err(io_err)?;
        }
        tmp.persist(self.path(key)).map_err(|e| io_err(e.error))?;
        Ok(())
    }
}
