//! `bulwark db import PATH...`: files, directories and zips, each sniffed for its format.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};

use serde::Serialize;
use serde_json::Value;

use crate::error::{io_err, Error, Result};
use crate::feeds;
use crate::model::Skips;
use crate::osv;
use crate::store::{SourceCounts, StoreBuilder};
use crate::Progress;

/// Largest single file (or zip member, or decompressed .gz) an import reads.
pub const MAX_FILE_BYTES: u64 = 512 << 20;

/// What one source contributed.
#[derive(Debug, Clone, Default, Serialize)]
pub struct SourceSummary {
    pub name: String,
    pub kind: String,
    pub location: String,
    pub counts: SourceCounts,
    /// Records left out, per reason.
    pub skipped: Skips,
}

/// What an import or update did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ImportSummary {
    pub sources: Vec<SourceSummary>,
    /// Files in imported directories that are not advisory data (READMEs, schemas...).
    pub ignored_files: Vec<PathBuf>,
    /// Sources that were unchanged upstream (HTTP 304) and kept as they were.
    pub unchanged: Vec<String>,
}

impl ImportSummary {
    /// All skipped records, per reason, over every source.
    pub fn skipped(&self) -> Skips {
        let mut all = Skips::default();
        for s in &self.sources {
            all.merge(&s.skipped);
        }
        all
    }

    /// What was imported, one line per source (with its skipped records), then the sources
    /// kept unchanged and the files ignored: what `bulwark db update`/`import` print.
    pub fn lines(&self) -> Vec<String> {
        let mut lines = Vec::new();
        for s in &self.sources {
            let c = &s.counts;
            let mut what = Vec::new();
            if c.advisories > 0 || (c.kev == 0 && c.epss == 0) {
                what.push(format!(
                    "{} advisories ({} affected packages)",
                    c.advisories, c.affected
                ));
            }
            if c.kev > 0 {
                what.push(format!("{} KEV entries", c.kev));
            }
            if c.epss > 0 {
                what.push(format!("{} EPSS scores", c.epss));
            }
            lines.push(format!("{}: {}", s.name, what.join(", ")));
            for (reason, n) in &s.skipped.0 {
                lines.push(format!("  warning: skipped {n}: {reason}"));
            }
        }
        for name in &self.unchanged {
            lines.push(format!("{name}: unchanged upstream, kept"));
        }
        if !self.ignored_files.is_empty() {
            lines.push(format!(
                "ignored {} files that are not advisory data",
                self.ignored_files.len()
            ));
        }
        lines
    }
}

/// Imports `paths` into the store in `dir`: the current store (if any) is copied, the sources
/// named by these paths are replaced, and the result is swapped in atomically. Malformed
/// records are skipped and counted; I/O errors and corrupt archives abort (the old store stays).
pub fn import_paths(
    dir: &Path,
    paths: &[PathBuf],
    progress: &dyn Progress,
) -> Result<ImportSummary> {
    let mut builder = StoreBuilder::begin(dir, true)?;
    let summary = import_into(&mut builder, paths, progress)?;
    builder.commit()?;
    Ok(summary)
}

pub(crate) fn import_into(
    builder: &mut StoreBuilder,
    paths: &[PathBuf],
    progress: &dyn Progress,
) -> Result<ImportSummary> {
    let mut sink = Sink::new(builder);
    for path in paths {
        let label = std::fs::canonicalize(path)
            .map_err(io_err(path))?
            .to_string_lossy()
            .into_owned();
        let meta = std::fs::metadata(path).map_err(io_err(path))?;
        if meta.is_dir() {
            let files: Vec<PathBuf> = walkdir::WalkDir::new(path)
                .sort_by_file_name()
                .into_iter()
                .filter_map(|e| e.ok())
                .filter(|e| e.file_type().is_file())
                .filter(|e| !e.file_name().to_string_lossy().starts_with('.'))
                .map(|e| e.into_path())
                .collect();
            progress.phase(
                &format!("importing {}", path.display()),
                Some(files.len() as u64),
            );
            for (i, f) in files.iter().enumerate() {
                sink.file(f, &label, true)?;
                progress.advance(i as u64 + 1);
            }
        } else {
            progress.phase(&format!("importing {}", path.display()), Some(1));
            sink.file(path, &label, false)?;
            progress.advance(1);
        }
        progress.done();
    }
    sink.finish()
}

struct Open {
    id: i64,
    summary: SourceSummary,
}

pub(crate) struct Sink<'a> {
    pub builder: &'a mut StoreBuilder,
    sources: BTreeMap<String, Open>,
    ignored: Vec<PathBuf>,
    validators: BTreeMap<String, (Option<String>, Option<String>)>,
}

pub(crate) fn read_capped(mut r: impl Read, what: &Path) -> Result<Vec<u8>> {
    let mut buf = Vec::new();
    r.by_ref()
        .take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut buf)
        .map_err(io_err(what))?;
    if buf.len() as u64 > MAX_FILE_BYTES {
        return Err(Error::Corrupt {
            what: what.display().to_string(),
            reason: format!("larger than {MAX_FILE_BYTES} bytes"),
        });
    }
    Ok(buf)
}

impl<'a> Sink<'a> {
    pub(crate) fn new(builder: &'a mut StoreBuilder) -> Sink<'a> {
        Sink {
            builder,
            sources: BTreeMap::new(),
            ignored: Vec::new(),
            validators: BTreeMap::new(),
        }
    }

    fn source(&mut self, name: &str, kind: &str, location: &str) -> Result<&mut Open> {
        if !self.sources.contains_key(name) {
            let id = self.builder.begin_source(name, kind, location)?;
            self.sources.insert(
                name.to_string(),
                Open {
                    id,
                    summary: SourceSummary {
                        name: name.into(),
                        kind: kind.into(),
                        location: location.into(),
                        ..SourceSummary::default()
                    },
                },
            );
        }
        Ok(self.sources.get_mut(name).expect("inserted above"))
    }

    /// Adds OSV records to source `name`.
    pub(crate) fn osv_bytes(&mut self, name: &str, location: &str, bytes: &[u8]) -> Result<()> {
        let mut skips = Skips::default();
        let advs = osv::parse_osv(bytes, &mut skips);
        self.advisories(name, "osv", location, advs, skips)
    }

    fn advisories(
        &mut self,
        name: &str,
        kind: &str,
        location: &str,
        advs: Vec<crate::model::Advisory>,
        skips: Skips,
    ) -> Result<()> {
        self.source(name, kind, location)?;
        let open = self.sources.get_mut(name).expect("opened");
        open.summary.skipped.merge(&skips);
        open.summary.counts.skipped += skips.total();
        for adv in &advs {
            self.builder
                .insert_advisory(open.id, adv, &mut open.summary.counts)?;
        }
        Ok(())
    }

    pub(crate) fn kev(&mut self, location: &str, v: &Value) -> Result<()> {
        let mut skips = Skips::default();
        let entries = feeds::parse_kev(v, &mut skips);
        let open = self.source("kev", "kev", location)?;
        let id = open.id;
        open.summary.skipped.merge(&skips);
        open.summary.counts.skipped += skips.total();
        open.summary.counts.kev += entries.len() as u64;
        for e in &entries {
            self.builder.insert_kev(id, e)?;
        }
        Ok(())
    }

    pub(crate) fn epss(&mut self, location: &str, text: &str) -> Result<()> {
        let mut skips = Skips::default();
        let scores = feeds::parse_epss(text, &mut skips);
        let open = self.source("epss", "epss", location)?;
        let id = open.id;
        open.summary.skipped.merge(&skips);
        open.summary.counts.skipped += skips.total();
        open.summary.counts.epss += scores.len() as u64;
        for s in &scores {
            self.builder.insert_epss(id, s)?;
        }
        Ok(())
    }

    /// Records of `name` parsed so far (to reject an empty download).
    pub(crate) fn records(&self, name: &str) -> u64 {
        self.sources
            .get(name)
            .map(|o| o.summary.counts.advisories + o.summary.counts.kev + o.summary.counts.epss)
            .unwrap_or(0)
    }

    pub(crate) fn set_validators(
        &mut self,
        name: &str,
        etag: Option<String>,
        last_modified: Option<String>,
    ) {
        self.validators
            .insert(name.to_string(), (etag, last_modified));
    }

    fn file(&mut self, path: &Path, label: &str, in_dir: bool) -> Result<()> {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().to_ascii_lowercase())
            .unwrap_or_default();
        let location = path.display().to_string();
        if name.ends_with(".zip") {
            return self.zip(&format!("osv:{label}"), &location, path);
        }
        let file = std::fs::File::open(path).map_err(io_err(path))?;
        let bytes = if name.ends_with(".gz") {
            read_capped(flate2::read::MultiGzDecoder::new(file), path)?
        } else {
            read_capped(file, path)?
        };
        let stem = name.trim_end_matches(".gz");
        if stem.ends_with(".csv") {
            let text = String::from_utf8_lossy(&bytes);
            return self.epss(&location, &text);
        }
        if stem.ends_with(".json") {
            let v: Value = match serde_json::from_slice(&bytes) {
                Ok(v) => v,
                Err(_) => {
                    let mut skips = Skips::default();
                    skips.add("invalid JSON file");
                    return self.advisories(
                        &format!("osv:{label}"),
                        "osv",
                        label,
                        Vec::new(),
                        skips,
                    );
                }
            };
            if feeds::is_kev(&v) {
                return self.kev(&location, &v);
            }
            if feeds::is_alpine_secdb(&v) {
                let mut skips = Skips::default();
                let advs = feeds::parse_alpine(&v, &mut skips);
                return self.advisories(
                    &format!("alpine:{label}"),
                    "alpine-secdb",
                    label,
                    advs,
                    skips,
                );
            }
            if osv::looks_like_osv(&v) {
                let mut skips = Skips::default();
                let advs = osv::parse_osv_value(v, &mut skips);
                return self.advisories(&format!("osv:{label}"), "osv", label, advs, skips);
            }
            return self.unknown(path, in_dir);
        }
        let text = String::from_utf8_lossy(&bytes);
        if feeds::is_debian_list(&text) {
            let mut skips = Skips::default();
            let advs = if text.trim_start().starts_with("CVE-") {
                feeds::parse_debian_cve_list(&text, &mut skips)
            } else {
                feeds::parse_debian_dsa_list(&text, &mut skips)
            };
            return self.advisories(
                &format!("debian:{label}"),
                "debian-tracker",
                label,
                advs,
                skips,
            );
        }
        if text.starts_with("#model_version") || text.starts_with("cve,epss") {
            return self.epss(&location, &text);
        }
        self.unknown(path, in_dir)
    }

    fn unknown(&mut self, path: &Path, in_dir: bool) -> Result<()> {
        if in_dir {
            self.ignored.push(path.to_path_buf());
            Ok(())
        } else {
            Err(Error::UnknownFormat(path.to_path_buf()))
        }
    }

    /// A zip of OSV JSON files (OSV's `all.zip`). A zip that does not open is an error.
    pub(crate) fn zip(&mut self, name: &str, location: &str, path: &Path) -> Result<()> {
        let file = std::fs::File::open(path).map_err(io_err(path))?;
        let mut archive = zip::ZipArchive::new(file).map_err(|e| Error::Corrupt {
            what: location.to_string(),
            reason: e.to_string(),
        })?;
        self.source(name, "osv", location)?;
        for i in 0..archive.len() {
            let mut entry = archive.by_index(i).map_err(|e| Error::Corrupt {
                what: location.to_string(),
                reason: format!("member {i}: {e}"),
            })?;
            if !entry.is_file() || !entry.name().ends_with(".json") {
                continue;
            }
            let mut buf = Vec::with_capacity(entry.size().min(8 << 20) as usize);
            (&mut entry)
                .take(MAX_FILE_BYTES)
                .read_to_end(&mut buf)
                .map_err(|e| Error::Corrupt {
                    what: location.to_string(),
                    reason: format!("member {}: {e}", entry.name()),
                })?;
            self.osv_bytes(name, location, &buf)?;
        }
        Ok(())
    }

    pub(crate) fn finish(self) -> Result<ImportSummary> {
        let Sink {
            builder,
            sources,
            ignored,
            mut validators,
        } = self;
        let mut summary = ImportSummary {
            ignored_files: ignored,
            ..ImportSummary::default()
        };
        for (name, open) in sources {
            let (etag, lm) = validators.remove(&name).unwrap_or_default();
            builder.finish_source(
                open.id,
                &open.summary.counts,
                etag.as_deref(),
                lm.as_deref(),
            )?;
            summary.sources.push(open.summary);
        }
        Ok(summary)
    }
}
