use std::io::Read;
use std::path::Path;
use std::sync::atomic::Ordering;

use bulwark_image::engine::{EngineExport, ExportedMember};
use bulwark_image::{
    normalize_entry_path, Image, ImageContent, ImageError, Layer, LayerStream, Limits, StreamError,
};
use rayon::prelude::*;

use crate::budget::MemoryBudget;
use crate::cache::LayerCache;
use crate::facts::{
    Diagnostic, DiagnosticLevel, Fact, FileKind, FileMeta, FileRecord, Interest, LayerFacts,
    PathFacts,
};

/// A producer of facts from files.
///
/// Contract: `id` is stable across releases (it names cached results and diagnostics);
/// `version` is bumped whenever the facts it returns for the same bytes change, which
/// invalidates cached layers; `wants` looks only at metadata and must be cheap, since it runs for
/// every entry of every layer; `analyze` gets at most the bytes it asked for and reports
/// malformed input as an `Err` message (the walker attaches file and layer), never a panic.
pub trait Analyzer: Send + Sync {
    fn id(&self) -> &'static str;
    fn version(&self) -> u32;
    fn wants(&self, file: &FileMeta) -> Interest;
    fn analyze(&self, file: &FileMeta, content: &[u8], out: &mut AnalyzerOutput);
}

/// What one analyzer run produced: facts, and problems with the file (malformed input) that
/// the walker turns into diagnostics tied to the file and layer. Partial results are welcome:
/// a database with one garbled record still lists the others.
#[derive(Debug, Default)]
pub struct AnalyzerOutput {
    pub facts: Vec<Fact>,
    pub problems: Vec<String>,
    /// Files skipped for a reason that does not make the scan incomplete (a YAML template an
    /// analyzer cannot parse is not a broken image): warnings, not errors.
    pub notes: Vec<String>,
}

impl AnalyzerOutput {
    pub fn fact(&mut self, fact: Fact) {
        self.facts.push(fact);
    }

    pub fn problem(&mut self, message: impl Into<String>) {
        self.problems.push(message.into());
    }

    pub fn note(&mut self, message: impl Into<String>) {
        self.notes.push(message.into());
    }
}

/// Receives progress from the walker. The library prints nothing; the CLI draws bars.
pub trait Progress: Sync {
    fn layer_started(&self, _index: usize, _label: &str, _compressed_size: Option<u64>) {}
    fn layer_advanced(&self, _index: usize, _compressed_bytes: u64) {}
    /// `entries`: the layer's file index (entries of its tar, or of the root filesystem).
    fn layer_finished(&self, _index: usize, _from_cache: bool, _entries: usize) {}
    /// Asked before each layer and each file: `true` stops the walk with
    /// [`ScanError::Cancelled`]. Runs once per entry, so it must be as cheap as an atomic load.
    fn cancelled(&self) -> bool {
        false
    }
}

/// Progress that goes nowhere.
pub struct NoProgress;
impl Progress for NoProgress {}

/// A failure that stops the scan: the image itself cannot be trusted or read.
#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    #[error(transparent)]
    Image(#[from] ImageError),
    #[error("layer {index} ({label}) has an entry whose path {path:?} escapes the image root; refusing a hostile layer")]
    UnsafePath {
        index: usize,
        label: String,
        path: String,
    },
    #[error("layer {index} ({label}) has more than {limit} entries; refusing it as hostile")]
    TooManyEntries {
        index: usize,
        label: String,
        limit: usize,
    },
    #[error("cannot walk {path}: {message}")]
    Rootfs { path: String, message: String },
    #[error("the scan was cancelled")]
    Cancelled,
}

/// No real layer has millions of entries; a file index that large would itself be the attack.
const MAX_ENTRIES_PER_LAYER: usize = 2_000_000;

/// A reusable read buffer larger than this is dropped after use, so peak memory follows the
/// largest file being analyzed, not the largest one seen earlier.
const BUFFER_KEEP_BYTES: usize = 16 << 20;

/// Enough of a file's head for every magic number an analyzer checks (ELF, zip, Mach-O).
const MAGIC_PEEK: u64 = 16;

/// Streams an image's layers once, in parallel, through the analyzers.
pub struct Walker<'a> {
    analyzers: &'a [Box<dyn Analyzer>],
    cache: Option<&'a LayerCache>,
    limits: Limits,
    /// Extra words that change analyzer output (options), folded into cache keys.
    options_key: String,
    budget: MemoryBudget,
}

/// Per-layer outcome of a walk.
pub struct WalkedLayer {
    pub facts: LayerFacts,
    pub from_cache: bool,
}

impl WalkedLayer {
    /// A layer's facts as a fresh walk (not the cache) produced them.
    pub fn fresh(facts: LayerFacts) -> WalkedLayer {
        WalkedLayer {
            facts,
            from_cache: false,
        }
    }
}

impl<'a> Walker<'a> {
    pub fn new(analyzers: &'a [Box<dyn Analyzer>]) -> Self {
        Walker {
            analyzers,
            cache: None,
            limits: Limits::default(),
            options_key: String::new(),
            budget: MemoryBudget::default(),
        }
    }

    /// The memory budget for file contents read at once, shared by all layers of the walk.
    pub fn with_budget(mut self, budget: MemoryBudget) -> Self {
        self.budget = budget;
        self
    }

    pub fn with_cache(mut self, cache: Option<&'a LayerCache>) -> Self {
        self.cache = cache;
        self
    }

    pub fn with_limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    pub fn with_options_key(mut self, key: impl Into<String>) -> Self {
        self.options_key = key.into();
        self
    }

    fn cache_key(&self, layer: &Layer) -> Option<String> {
        let diff_id = layer.diff_id.as_ref()?;
        let mut ids: Vec<String> = self
            .analyzers
            .iter()
            .map(|a| format!("{}@{}", a.id(), a.version()))
            .collect();
        ids.sort();
        Some(LayerCache::key(diff_id, &ids, &self.options_key))
    }

    /// Walks every layer (or the root filesystem) and returns one [`WalkedLayer`] per layer.
    pub fn walk(
        &self,
        image: &Image,
        progress: &dyn Progress,
    ) -> Result<Vec<WalkedLayer>, ScanError> {
        match &image.content {
            ImageContent::Rootfs(root) => {
                progress.layer_started(0, &root.display().to_string(), None);
                let facts = self.walk_rootfs(root, progress)?;
                progress.layer_finished(0, false, facts.files.len());
                Ok(vec![WalkedLayer {
                    facts,
                    from_cache: false,
                }])
            }
            ImageContent::Layers(layers) => layers
                .par_iter()
                .map(|layer| self.walk_layer(layer, progress))
                .collect(),
            ImageContent::Exported { layers, export } => self.walk_export(layers, export, progress),
        }
    }

    /// An engine's layers arrive one after another in a single export stream: each is walked
    /// as it passes (no parallelism is possible), cached ones are not asked for at all, and the
    /// results are put back in image order.
    fn walk_export(
        &self,
        layers: &[Layer],
        export: &EngineExport,
        progress: &dyn Progress,
    ) -> Result<Vec<WalkedLayer>, ScanError> {
        let keys: Vec<Option<String>> = layers.iter().map(|l| self.cache_key(l)).collect();
        let mut cached: Vec<Option<LayerFacts>> = keys
            .iter()
            .map(|key| match (self.cache, key) {
                (Some(cache), Some(key)) => cache.load(key),
                _ => None,
            })
            .collect();
        let last = layers.len().saturating_sub(1);
        let mut visit = |member: ExportedMember<'_>, stream: &mut LayerStream| {
            let index = member.layer.map_or(member.ordinal.min(last), |l| l.index);
            let label = member.label();
            if progress.cancelled() {
                return Err(ScanError::Cancelled);
            }
            progress.layer_started(index, &label, Some(member.size));
            let facts = self.walk_tar(index, &label, stream, progress)?;
            progress.layer_finished(index, false, facts.files.len());
            Ok::<_, ScanError>(facts)
        };
        let fresh = export.read(
            layers,
            self.limits,
            &|layer: &Layer| cached[layer.index].is_some(),
            &mut visit,
        )?;
        let mut walked = Vec::with_capacity(layers.len());
        for (i, facts) in fresh.into_iter().enumerate() {
            match (cached[i].take(), facts) {
                (Some(facts), _) => {
                    progress.layer_finished(i, true, facts.files.len());
                    walked.push(WalkedLayer {
                        facts,
                        from_cache: true,
                    });
                }
                (None, Some(facts)) => {
                    if let (Some(cache), Some(key)) = (self.cache, &keys[i]) {
                        let _ = cache.store(key, &facts);
                    }
                    walked.push(WalkedLayer {
                        facts,
                        from_cache: false,
                    });
                }
                // read() returns every layer it was not told was known, or fails.
                (None, None) => {
                    return Err(ScanError::Image(ImageError::Unsupported(format!(
                        "layer {i} was neither cached nor in the engine's export"
                    ))))
                }
            }
        }
        Ok(walked)
    }

    fn walk_layer(&self, layer: &Layer, progress: &dyn Progress) -> Result<WalkedLayer, ScanError> {
        if progress.cancelled() {
            return Err(ScanError::Cancelled);
        }
        let key = self.cache_key(layer);
        if let (Some(cache), Some(key)) = (self.cache, &key) {
            if let Some(facts) = cache.load(key) {
                progress.layer_finished(layer.index, true, facts.files.len());
                return Ok(WalkedLayer {
                    facts,
                    from_cache: true,
                });
            }
        }
        progress.layer_started(layer.index, &layer.label(), layer.size);
        let facts = self.stream_layer(layer, progress)?;
        if let (Some(cache), Some(key)) = (self.cache, &key) {
            // A cache that cannot be written costs speed next time, not correctness now.
            let _ = cache.store(key, &facts);
        }
        progress.layer_finished(layer.index, false, facts.files.len());
        Ok(WalkedLayer {
            facts,
            from_cache: false,
        })
    }

    fn stream_layer(
        &self,
        layer: &Layer,
        progress: &dyn Progress,
    ) -> Result<LayerFacts, ScanError> {
        let mut stream = layer.open_tar(self.limits)?;
        let facts = self.walk_tar(layer.index, &layer.label(), &mut stream, progress)?;
        stream.finish().map_err(|source| {
            ScanError::Image(ImageError::Layer {
                index: layer.index,
                digest: layer.label(),
                source,
            })
        })?;
        Ok(facts)
    }

    /// Reads one layer's tar to its end-of-archive marker; the caller settles its digests with
    /// [`LayerStream::finish`].
    fn walk_tar(
        &self,
        index: usize,
        label: &str,
        stream: &mut LayerStream,
        progress: &dyn Progress,
    ) -> Result<LayerFacts, ScanError> {
        let compression = stream.compression();
        let counter = stream.compressed_bytes();
        let layer_err = |source: StreamError| {
            ScanError::Image(ImageError::Layer {
                index,
                digest: label.to_string(),
                source,
            })
        };
        let mut facts = LayerFacts::default();
        let mut buffer = Vec::new();
        let mut reported = 0u64;
        {
            let mut archive = tar::Archive::new(&mut *stream);
            let entries = archive
                .entries()
                .map_err(|e| layer_err(StreamError::from_io(e, compression, true)))?;
            for entry in entries {
                if progress.cancelled() {
                    return Err(ScanError::Cancelled);
                }
                let mut entry =
                    entry.map_err(|e| layer_err(StreamError::from_io(e, compression, true)))?;
                let raw_path = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
                let path = normalize_entry_path(&raw_path).map_err(|_| ScanError::UnsafePath {
                    index,
                    label: label.to_string(),
                    path: raw_path.clone(),
                })?;
                if facts.files.len() >= MAX_ENTRIES_PER_LAYER {
                    return Err(ScanError::TooManyEntries {
                        index,
                        label: label.to_string(),
                        limit: MAX_ENTRIES_PER_LAYER,
                    });
                }
                let header = entry.header();
                let kind = match header.entry_type() {
                    tar::EntryType::Regular
                    | tar::EntryType::Continuous
                    | tar::EntryType::GNUSparse => FileKind::Regular,
                    tar::EntryType::Directory => FileKind::Dir,
                    tar::EntryType::Symlink => FileKind::Symlink,
                    tar::EntryType::Link => FileKind::Hardlink,
                    _ => FileKind::Other,
                };
                let mode = header.mode().unwrap_or(0);
                let size = entry.size();
                let link = match kind {
                    FileKind::Symlink => entry
                        .link_name_bytes()
                        .map(|b| String::from_utf8_lossy(&b).into_owned()),
                    FileKind::Hardlink => entry
                        .link_name_bytes()
                        .and_then(|b| normalize_entry_path(&String::from_utf8_lossy(&b)).ok()),
                    _ => None,
                };
                if record_whiteout(&path, &mut facts) {
                    continue;
                }
                if kind == FileKind::Regular {
                    let meta = FileMeta {
                        path: &path,
                        kind,
                        size,
                        mode,
                    };
                    self.analyze_entry(&meta, &mut entry, &mut buffer, index, &mut facts)
                        .map_err(|e| layer_err(StreamError::from_io(e, compression, true)))?;
                    // One large binary should not pin its size for the rest of the layer.
                    if buffer.capacity() > BUFFER_KEEP_BYTES {
                        buffer = Vec::new();
                    }
                }
                // A hard link shares bytes the tar carried earlier in this layer: their facts
                // are recorded once, at that path, and the file index keeps the link, which the
                // assembly resolves. Copying the facts per link let a layer of tiny link
                // entries multiply one large database without bound.
                facts.files.push(FileRecord {
                    path,
                    kind,
                    size,
                    mode,
                    link,
                });
                let now = counter.load(Ordering::Relaxed);
                if now - reported > (1 << 20) {
                    progress.layer_advanced(index, now - reported);
                    reported = now;
                }
            }
        }
        let now = counter.load(Ordering::Relaxed);
        progress.layer_advanced(index, now.saturating_sub(reported));
        Ok(facts)
    }

    /// Reads the entry once (up to the largest cap any interested analyzer set) and runs each
    /// interested analyzer on the bytes. Analyzer failures become diagnostics; only read
    /// failures (the layer itself is broken) are returned.
    fn analyze_entry(
        &self,
        meta: &FileMeta,
        reader: &mut dyn Read,
        buffer: &mut Vec<u8>,
        layer: usize,
        facts: &mut LayerFacts,
    ) -> std::io::Result<()> {
        let mut interested: Vec<&dyn Analyzer> = Vec::new();
        let mut sniffers: Vec<(&dyn Analyzer, u64, &[&[u8]])> = Vec::new();
        let too_large = |analyzer: &dyn Analyzer, max_bytes: u64, facts: &mut LayerFacts| {
            facts.diagnostics.push(Diagnostic {
                level: DiagnosticLevel::Warning,
                layer: Some(layer),
                path: Some(format!("/{}", meta.path)),
                analyzer: Some(analyzer.id().to_string()),
                message: format!(
                    "file is {} bytes, over this analyzer's {max_bytes}-byte limit; skipped",
                    meta.size
                ),
            });
        };
        for analyzer in self.analyzers {
            match analyzer.wants(meta) {
                Interest::Skip => {}
                Interest::Read { max_bytes } if meta.size > max_bytes => {
                    too_large(analyzer.as_ref(), max_bytes, facts)
                }
                Interest::Read { .. } => interested.push(analyzer.as_ref()),
                Interest::ReadIfMagic { max_bytes, magic } => {
                    sniffers.push((analyzer.as_ref(), max_bytes, magic))
                }
            }
        }
        if interested.is_empty() && sniffers.is_empty() {
            return Ok(());
        }
        buffer.clear();
        let mut reader = reader.take(meta.size);
        if !sniffers.is_empty() {
            // The head decides for the sniffers; the rest is read only if someone wants it.
            (&mut reader).take(MAGIC_PEEK).read_to_end(buffer)?;
            for (analyzer, max_bytes, magic) in sniffers {
                if magic.iter().any(|m| buffer.starts_with(m)) {
                    if meta.size > max_bytes {
                        too_large(analyzer, max_bytes, facts);
                    } else {
                        interested.push(analyzer);
                    }
                }
            }
            if interested.is_empty() {
                return Ok(());
            }
        }
        // Held until the analyzers are done with the bytes; other layers wait for it.
        let Some(_held) = self.budget.reserve(meta.size) else {
            facts.diagnostics.push(Diagnostic {
                level: DiagnosticLevel::Error,
                layer: Some(layer),
                path: Some(format!("/{}", meta.path)),
                analyzer: None,
                message: format!(
                    "file is {} bytes, more than the scan's memory budget of {} bytes; skipped \
                     (raise --max-memory to analyze it)",
                    meta.size,
                    self.budget.limit()
                ),
            });
            return Ok(());
        };
        reader.read_to_end(buffer)?;
        for analyzer in interested {
            run_analyzer(analyzer, meta, buffer, Some(layer), facts);
        }
        Ok(())
    }

    /// The same analysis over an unpacked root filesystem: one pseudo-layer, links never
    /// followed (a rootfs's absolute symlinks point into the host).
    fn walk_rootfs(&self, root: &Path, progress: &dyn Progress) -> Result<LayerFacts, ScanError> {
        let mut facts = LayerFacts::default();
        if !root.is_dir() {
            return Err(ScanError::Rootfs {
                path: root.display().to_string(),
                message: "not a directory".into(),
            });
        }
        let mut buffer = Vec::new();
        for entry in walkdir::WalkDir::new(root)
            .follow_links(false)
            .sort_by_file_name()
        {
            if progress.cancelled() {
                return Err(ScanError::Cancelled);
            }
            let entry = match entry {
                Ok(e) => e,
                Err(e) => {
                    facts.diagnostics.push(Diagnostic {
                        level: DiagnosticLevel::Error,
                        layer: None,
                        path: e.path().map(|p| p.display().to_string()),
                        analyzer: None,
                        message: format!("unreadable: {e}"),
                    });
                    continue;
                }
            };
            let Ok(rel) = entry.path().strip_prefix(root) else {
                continue;
            };
            let path = rel.to_string_lossy().replace('\\', "/");
            if path.is_empty() {
                continue;
            }
            let Ok(md) = entry.metadata() else { continue };
            let ft = md.file_type();
            let kind = if ft.is_symlink() {
                FileKind::Symlink
            } else if ft.is_dir() {
                FileKind::Dir
            } else if ft.is_file() {
                FileKind::Regular
            } else {
                FileKind::Other
            };
            #[cfg(unix)]
            let mode = std::os::unix::fs::PermissionsExt::mode(&md.permissions()) & 0o7777;
            #[cfg(not(unix))]
            let mode = 0;
            let link = if kind == FileKind::Symlink {
                std::fs::read_link(entry.path())
                    .ok()
                    .map(|t| t.to_string_lossy().into_owned())
            } else {
                None
            };
            if kind == FileKind::Regular {
                let meta = FileMeta {
                    path: &path,
                    kind,
                    size: md.len(),
                    mode,
                };
                let opened = std::fs::File::open(entry.path());
                let result = opened.and_then(|mut f| {
                    self.analyze_entry(&meta, &mut f, &mut buffer, 0, &mut facts)
                });
                if let Err(e) = result {
                    facts.diagnostics.push(Diagnostic {
                        level: DiagnosticLevel::Error,
                        layer: None,
                        path: Some(format!("/{path}")),
                        analyzer: None,
                        message: format!("cannot read: {e}"),
                    });
                }
            }
            facts.files.push(FileRecord {
                path,
                kind,
                size: md.len(),
                mode,
                link,
            });
        }
        Ok(facts)
    }
}

fn run_analyzer(
    analyzer: &dyn Analyzer,
    meta: &FileMeta,
    content: &[u8],
    layer: Option<usize>,
    facts: &mut LayerFacts,
) {
    let mut out = AnalyzerOutput::default();
    analyzer.analyze(meta, content, &mut out);
    let problems = out
        .problems
        .into_iter()
        .map(|m| (DiagnosticLevel::Error, m));
    let notes = out.notes.into_iter().map(|m| (DiagnosticLevel::Warning, m));
    for (level, message) in problems.chain(notes) {
        facts.diagnostics.push(Diagnostic {
            level,
            layer,
            path: Some(format!("/{}", meta.path)),
            analyzer: Some(analyzer.id().to_string()),
            message,
        });
    }
    if !out.facts.is_empty() {
        facts.facts.push(PathFacts {
            path: meta.path.to_string(),
            analyzer: analyzer.id().to_string(),
            facts: out.facts,
        });
    }
}

/// Records `.wh.` entries; returns whether the entry was one (whiteouts are not files).
fn record_whiteout(path: &str, facts: &mut LayerFacts) -> bool {
    let (dir, name) = match path.rsplit_once('/') {
        Some((d, n)) => (d, n),
        None => ("", path),
    };
    let Some(target) = name.strip_prefix(".wh.") else {
        return false;
    };
    if target == ".wh..opq" {
        facts.opaque_dirs.push(dir.to_string());
    } else if target.starts_with(".wh.") {
        // aufs bookkeeping (`.wh..wh.plnk`, `.wh..wh.aufs`): not part of the image.
    } else if dir.is_empty() {
        facts.whiteouts.push(target.to_string());
    } else {
        facts.whiteouts.push(format!("{dir}/{target}"));
    }
    true
}
