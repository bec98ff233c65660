use std::collections::{BTreeMap, HashMap, HashSet};

use bulwark_image::Image;
use bulwark_types::{Digest, LayerRef, OsRelease, Package, SecretFinding, SecretLocation};
use serde::Serialize;

use crate::facts::{
    Diagnostic, DiagnosticLevel, Fact, FileKind, FileRecord, LayerFacts, PackageRecord, PathFacts,
};
use crate::walker::WalkedLayer;

/// What the report says about each layer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct LayerSummary {
    pub index: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub digest: Option<Digest>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub diff_id: Option<Digest>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_by: Option<String>,
    pub entries: usize,
    pub from_cache: bool,
}

/// A file of the final filesystem and the layer it comes from.
#[derive(Debug, Clone, Serialize)]
pub struct VisibleFile {
    pub layer: usize,
    pub record: FileRecord,
}

/// The image after its layers are applied: typed facts only, ready for every scanner.
#[derive(Debug, Clone)]
pub struct ImageFacts {
    pub os: Option<OsRelease>,
    /// Sorted by [`Package::sort_key`]. Empty until `bulwark_catalog::finalize_packages` fills
    /// it from [`ImageFacts::visible_packages`].
    pub packages: Vec<Package>,
    pub layers: Vec<LayerSummary>,
    /// The final filesystem, by image-relative path.
    pub files: BTreeMap<String, VisibleFile>,
    /// Secrets in every layer's files, including files a later layer deleted or replaced.
    pub secrets: Vec<SecretFinding>,
    /// Per-layer facts, kept for scanners that care about deleted files too.
    pub layer_facts: Vec<LayerFacts>,
    pub diagnostics: Vec<Diagnostic>,
}

/// Where the OS is described, most authoritative first; `/etc/os-release` is usually a symlink
/// to `../usr/lib/os-release`, which [`resolve_symlinks`] follows inside the image.
const OS_FILES: &[&str] = &[
    "etc/os-release",
    "usr/lib/os-release",
    "etc/alpine-release",
    "etc/redhat-release",
    "etc/centos-release",
    "etc/fedora-release",
    "etc/system-release",
    "etc/debian_version",
    "etc/lsb-release",
];

/// Resolution gives up after this many links, as Linux's path walk does (ELOOP).
const MAX_SYMLINK_HOPS: usize = 40;

/// Why a path could not be resolved inside the image.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("symlink loop (more than {MAX_SYMLINK_HOPS} links) resolving /{0}")]
pub struct SymlinkLoop(pub String);

/// Resolves every symlink in `path` against the image's own files, never the host's: absolute
/// targets restart at the image root and `..` stops at it. Bounded, so loops end in an error.
pub fn resolve_symlinks(
    files: &BTreeMap<String, VisibleFile>,
    path: &str,
) -> Result<String, SymlinkLoop> {
    let mut pending: Vec<String> = path.split('/').rev().map(str::to_string).collect();
    let mut resolved: Vec<String> = Vec::new();
    let mut hops = 0;
    while let Some(component) = pending.pop() {
        match component.as_str() {
            "" | "." => continue,
            ".." => {
                resolved.pop();
                continue;
            }
            _ => resolved.push(component),
        }
        let current = resolved.join("/");
        let Some(file) = files.get(&current) else {
            continue;
        };
        if file.record.kind != FileKind::Symlink {
            continue;
        }
        hops += 1;
        if hops > MAX_SYMLINK_HOPS {
            return Err(SymlinkLoop(path.to_string()));
        }
        let target = file.record.link.clone().unwrap_or_default();
        resolved.pop();
        if target.starts_with('/') {
            resolved.clear();
        }
        pending.extend(target.split('/').rev().map(str::to_string));
    }
    Ok(resolved.join("/"))
}

fn remove_subtree(files: &mut BTreeMap<String, VisibleFile>, dir: &str, include_self: bool) {
    if include_self {
        files.remove(dir);
    }
    if dir.is_empty() {
        files.clear();
        return;
    }
    // Children of `dir` sort between "dir/" and "dir0" ('0' follows '/').
    let start = format!("{dir}/");
    let end = format!("{dir}0");
    let doomed: Vec<String> = files.range(start..end).map(|(k, _)| k.clone()).collect();
    for key in doomed {
        files.remove(&key);
    }
}

/// Applies the layers in order and joins their facts into [`ImageFacts`].
pub fn assemble(image: &Image, walked: Vec<WalkedLayer>) -> ImageFacts {
    let image_layers = image.layers();
    let mut files: BTreeMap<String, VisibleFile> = BTreeMap::new();
    let mut layers = Vec::with_capacity(walked.len());
    let mut diagnostics = Vec::new();
    let mut layer_facts = Vec::with_capacity(walked.len());
    for (index, w) in walked.into_iter().enumerate() {
        let lf = w.facts;
        for dir in &lf.opaque_dirs {
            remove_subtree(&mut files, dir, false);
        }
        for path in &lf.whiteouts {
            remove_subtree(&mut files, path, true);
        }
        for record in &lf.files {
            if record.kind != FileKind::Dir {
                remove_subtree(&mut files, &record.path, false);
            }
            files.insert(
                record.path.clone(),
                VisibleFile {
                    layer: index,
                    record: record.clone(),
                },
            );
        }
        let source = image_layers.get(index);
        layers.push(LayerSummary {
            index,
            digest: source.and_then(|l| l.digest.clone()),
            diff_id: source.and_then(|l| l.diff_id.clone()),
            media_type: source.and_then(|l| l.media_type.clone()),
            size: source.and_then(|l| l.size),
            created_by: source.and_then(|l| l.created_by.clone()),
            entries: lf.files.len(),
            from_cache: w.from_cache,
        });
        diagnostics.extend(lf.diagnostics.iter().cloned().map(|mut d| {
            if !image_layers.is_empty() {
                d.layer = Some(index);
            }
            d
        }));
        layer_facts.push(lf);
    }

    let layer_ref = |index: usize| LayerRef {
        index,
        diff_id: layers
            .get(index)
            .and_then(|l: &LayerSummary| l.diff_id.clone()),
        created_by: layers
            .get(index)
            .and_then(|l: &LayerSummary| l.created_by.clone()),
    };

    let visibility = Visibility::new(&files, &layer_facts);
    let shown_at = |layer: usize, path: &str| visibility.shown_at(layer, path);

    let mut os = None;
    for candidate in OS_FILES {
        let resolved = match resolve_symlinks(&files, candidate) {
            Ok(r) => r,
            Err(e) => {
                diagnostics.push(Diagnostic {
                    level: DiagnosticLevel::Error,
                    layer: None,
                    path: Some(format!("/{candidate}")),
                    analyzer: None,
                    message: e.to_string(),
                });
                continue;
            }
        };
        // The layer whose file the final filesystem shows there, and where that layer's tar
        // carried the bytes (the path itself, or a hard link's target).
        let Some(shown) = files.get(&resolved) else {
            continue;
        };
        let content_path = match (&shown.record.kind, &shown.record.link) {
            (FileKind::Hardlink, Some(target)) => target.as_str(),
            _ => resolved.as_str(),
        };
        let found = layer_facts.get(shown.layer).and_then(|lf| {
            lf.facts
                .iter()
                .filter(|pf| pf.path == content_path)
                .flat_map(|pf| pf.facts.iter())
                .find_map(|f| match f {
                    Fact::Os(o) => Some(o.clone()),
                    _ => None,
                })
        });
        if let Some(found) = found {
            os = Some(found);
            break;
        }
    }

    diagnostics.sort();
    diagnostics.dedup();

    // Secrets count in every layer, visible or not: deleting a file in a later layer leaves
    // its bytes in the image.
    let mut secrets = Vec::new();
    let mut removals: Option<Vec<Removals>> = None;
    for (li, lf) in layer_facts.iter().enumerate() {
        for pf in &lf.facts {
            if !pf.facts.iter().any(|f| matches!(f, Fact::Secret(_))) {
                continue;
            }
            let shown = shown_at(li, &pf.path);
            let removed_in_layer = match shown {
                Some(_) => None,
                None => {
                    let removals = removals
                        .get_or_insert_with(|| layer_facts.iter().map(Removals::of).collect());
                    removed_in(removals, li, &pf.path)
                }
            };
            let path = shown.unwrap_or_else(|| pf.path.clone());
            for fact in &pf.facts {
                if let Fact::Secret(hit) = fact {
                    secrets.push(SecretFinding {
                        location: SecretLocation::File {
                            path: format!("/{path}"),
                        },
                        layer: Some(layer_ref(li)),
                        removed_in_layer,
                        hit: hit.clone(),
                    });
                }
            }
        }
    }
    secrets.sort();
    secrets.dedup();

    ImageFacts {
        os,
        secrets,
        // Filled by `bulwark_catalog::finalize_packages`, which owns the package join.
        packages: Vec::new(),
        layers,
        files,
        layer_facts,
        diagnostics,
    }
}

/// Which files of each layer the final filesystem shows. Facts count only where their file is
/// the one shown, directly or through a hard link to it from the same layer.
struct Visibility<'a> {
    files: &'a BTreeMap<String, VisibleFile>,
    links: Vec<HardLinks<'a>>,
}

impl<'a> Visibility<'a> {
    fn new(files: &'a BTreeMap<String, VisibleFile>, layer_facts: &'a [LayerFacts]) -> Self {
        Visibility {
            files,
            links: layer_facts.iter().map(HardLinks::of).collect(),
        }
    }

    fn visible(&self, layer: usize, path: &str) -> bool {
        self.files.get(path).is_some_and(|f| f.layer == layer)
    }

    /// The path at which the final filesystem shows `layer`'s file `path`, if it does.
    fn shown_at(&self, layer: usize, path: &str) -> Option<String> {
        if self.visible(layer, path) {
            return Some(path.to_string());
        }
        self.links
            .get(layer)?
            .to(path)
            .find(|l| self.visible(layer, l))
            .map(str::to_string)
    }
}

impl ImageFacts {
    /// The [`LayerRef`] for a layer of this image: its index, diff_id and build step.
    pub fn layer_ref(&self, index: usize) -> LayerRef {
        let layer = self.layers.get(index);
        LayerRef {
            index,
            diff_id: layer.and_then(|l| l.diff_id.clone()),
            created_by: layer.and_then(|l| l.created_by.clone()),
        }
    }

    /// Calls `visit` with each layer's facts about a file the final filesystem shows, with
    /// the layer and the image-relative path it is shown at (a surviving hard link's path
    /// when the file's own path was deleted).
    pub fn visible_facts<'a>(&'a self, mut visit: impl FnMut(usize, &str, &'a PathFacts)) {
        let visibility = Visibility::new(&self.files, &self.layer_facts);
        for (li, lf) in self.layer_facts.iter().enumerate() {
            for pf in &lf.facts {
                if let Some(path) = visibility.shown_at(li, &pf.path) {
                    visit(li, &path, pf);
                }
            }
        }
    }

    /// Calls `visit` with every package record of a database the final filesystem shows, the
    /// layer that introduced the package (the first of the unbroken run of layers whose copy
    /// of that database lists it at this version) and the path the database is shown at.
    pub fn visible_packages<'a>(
        &'a self,
        mut visit: impl FnMut(&'a PackageRecord, LayerRef, &str),
    ) {
        let introduced_in = introducing_layers(&self.layer_facts);
        self.visible_facts(|li, path, pf| {
            let runs = introduced_in.get(&(li, pf.path.as_str()));
            for fact in &pf.facts {
                let Fact::Packages { records } = fact else {
                    continue;
                };
                for record in records {
                    let introduced = runs
                        .and_then(|r| r.get(&identity(record)))
                        .copied()
                        .unwrap_or(li);
                    visit(record, self.layer_ref(introduced), path);
                }
            }
        });
    }
}

/// The hard links of one layer, by target (a tar's hard link names an entry the same archive
/// carried earlier).
struct HardLinks<'a> {
    by_target: HashMap<&'a str, Vec<&'a str>>,
}

impl<'a> HardLinks<'a> {
    fn of(lf: &'a LayerFacts) -> Self {
        let mut by_target: HashMap<&str, Vec<&str>> = HashMap::new();
        for f in &lf.files {
            if let (FileKind::Hardlink, Some(target)) = (f.kind, &f.link) {
                if *target != f.path {
                    by_target.entry(target).or_default().push(&f.path);
                }
            }
        }
        HardLinks { by_target }
    }

    /// The paths linked to `target`, in tar order.
    fn to(&self, target: &str) -> impl Iterator<Item = &'a str> + '_ {
        self.by_target.get(target).into_iter().flatten().copied()
    }
}

/// What one layer deletes or replaces, indexed, so that finding the layer that removed a file
/// costs a few lookups per later layer instead of a pass over each later layer's entries.
struct Removals<'a> {
    whiteouts: HashSet<&'a str>,
    opaque_dirs: HashSet<&'a str>,
    /// Every entry's path, and whether one of the entries there is not a directory (a
    /// directory entry over a directory keeps what is below it).
    entries: HashMap<&'a str, bool>,
}

impl<'a> Removals<'a> {
    fn of(lf: &'a LayerFacts) -> Self {
        let mut entries: HashMap<&str, bool> = HashMap::with_capacity(lf.files.len());
        for f in &lf.files {
            *entries.entry(f.path.as_str()).or_default() |= f.kind != FileKind::Dir;
        }
        Removals {
            whiteouts: lf.whiteouts.iter().map(String::as_str).collect(),
            opaque_dirs: lf.opaque_dirs.iter().map(String::as_str).collect(),
            entries,
        }
    }
}

/// The first layer after `layer` that deletes or replaces `path`: a whiteout or opaque
/// directory over it or an ancestor, or a new entry at it or at an ancestor.
fn removed_in(removals: &[Removals], layer: usize, path: &str) -> Option<usize> {
    let ancestors: Vec<&str> = path.match_indices('/').map(|(i, _)| &path[..i]).collect();
    for (li, r) in removals.iter().enumerate().skip(layer + 1) {
        let whited =
            r.whiteouts.contains(path) || ancestors.iter().any(|a| r.whiteouts.contains(a));
        let opaque = ancestors.iter().any(|a| r.opaque_dirs.contains(a));
        let replaced = r.entries.contains_key(path)
            || ancestors
                .iter()
                .any(|a| r.entries.get(a).copied().unwrap_or(false));
        if whited || opaque || replaced {
            return Some(li);
        }
    }
    None
}

/// What makes two entries of one database the same installed package.
type Identity<'a> = (&'a str, &'a str, Option<&'a str>);

fn identity(record: &PackageRecord) -> Identity<'_> {
    (&record.name, &record.version, record.arch.as_deref())
}

/// For every (layer, database path) that lists packages: each package's introducing layer,
/// the first layer of the unbroken run of layers whose copy of the database at that path lists
/// it at this version. A layer without a copy continues the run unless it whites the path out;
/// a copy that does not list the package ends it, so a package removed and later reinstalled
/// is attributed to the reinstalling layer.
///
/// One pass over the layers in order, with a hash map per database copy: linear in the number
/// of records, where asking each package's history separately cost packages² × layers.
fn introducing_layers(
    layer_facts: &[LayerFacts],
) -> HashMap<(usize, &str), HashMap<Identity<'_>, usize>> {
    // Each database path's copies, in layer order, and the layers that white the path out.
    let mut copies: HashMap<&str, Vec<(usize, Vec<&PackageRecord>)>> = HashMap::new();
    for (li, lf) in layer_facts.iter().enumerate() {
        for pf in &lf.facts {
            for fact in &pf.facts {
                let Fact::Packages { records } = fact else {
                    continue;
                };
                let layers = copies.entry(&pf.path).or_default();
                match layers.last_mut() {
                    Some((last, listed)) if *last == li => listed.extend(records),
                    _ => layers.push((li, records.iter().collect())),
                }
            }
        }
    }
    let mut whiteouts: HashMap<&str, Vec<usize>> = HashMap::new();
    for (li, lf) in layer_facts.iter().enumerate() {
        for w in &lf.whiteouts {
            if copies.contains_key(w.as_str()) {
                whiteouts.entry(w).or_default().push(li);
            }
        }
    }
    let mut runs: HashMap<(usize, &str), HashMap<Identity, usize>> = HashMap::new();
    for (path, layers) in copies {
        if layers.len() == 1 {
            // One copy: every package it lists was introduced by its own layer, which is what a
            // caller assumes for a database without a run; a map of a million entries (a
            // single lockfile) would only say so again.
            continue;
        }
        let deletions = whiteouts.get(path).map(Vec::as_slice).unwrap_or(&[]);
        let mut previous: Option<usize> = None;
        for (li, listed) in layers {
            let deleted_between =
                previous.is_some_and(|p| deletions.iter().any(|&d| p < d && d < li));
            let before = previous
                .filter(|_| !deleted_between)
                .and_then(|p| runs.get(&(p, path)));
            let mut run: HashMap<Identity, usize> = HashMap::with_capacity(listed.len());
            for record in listed {
                let id = identity(record);
                let first = before.and_then(|b| b.get(&id)).copied().unwrap_or(li);
                run.entry(id).or_insert(first);
            }
            runs.insert((li, path), run);
            previous = Some(li);
        }
    }
    runs
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(path: &str, kind: FileKind, link: Option<&str>) -> (String, VisibleFile) {
        (
            path.to_string(),
            VisibleFile {
                layer: 0,
                record: FileRecord {
                    path: path.to_string(),
                    kind,
                    size: 0,
                    mode: 0o644,
                    link: link.map(str::to_string),
                },
            },
        )
    }

    #[test]
    fn resolves_relative_absolute_and_loops() {
        let files: BTreeMap<_, _> = [
            file(
                "etc/os-release",
                FileKind::Symlink,
                Some("../usr/lib/os-release"),
            ),
            file("usr/lib/os-release", FileKind::Regular, None),
            file("lib", FileKind::Symlink, Some("/usr/lib")),
            file("a", FileKind::Symlink, Some("b")),
            file("b", FileKind::Symlink, Some("/a")),
            file("escape", FileKind::Symlink, Some("../../../../etc/shadow")),
        ]
        .into_iter()
        .collect();
        assert_eq!(
            resolve_symlinks(&files, "etc/os-release").unwrap(),
            "usr/lib/os-release"
        );
        assert_eq!(
            resolve_symlinks(&files, "lib/os-release").unwrap(),
            "usr/lib/os-release"
        );
        assert_eq!(resolve_symlinks(&files, "escape").unwrap(), "etc/shadow");
        assert!(resolve_symlinks(&files, "a/x").is_err());
    }

    use std::time::{Duration, Instant};

    use bulwark_image::Layer;
    use bulwark_types::{SecretHit, Severity};

    use crate::facts::PathFacts;

    fn image(layers: Vec<Layer>) -> Image {
        Image::from_layers("test", layers)
    }

    fn walked(layers: Vec<LayerFacts>) -> Vec<WalkedLayer> {
        layers.into_iter().map(WalkedLayer::fresh).collect()
    }

    fn record(path: &str, kind: FileKind) -> FileRecord {
        FileRecord {
            path: path.into(),
            kind,
            size: 1,
            mode: 0o644,
            link: None,
        }
    }

    fn secret_hit() -> SecretHit {
        SecretHit {
            rule_id: "test".into(),
            title: "test".into(),
            severity: Severity::High,
            confidence: bulwark_types::Confidence::High,
            line: 1,
            column: 1,
            redacted: "AKIA****".into(),
            fingerprint: "f".into(),
        }
    }

    /// Issue 13.12: many secret-bearing files deleted by a later layer; finding the deleting
    /// layer rescanned every later layer's entries per secret.
    #[test]
    fn issue_13_12_removed_in_layer_is_found_in_linear_time() {
        const FILES: usize = 30_000;
        let mut base = LayerFacts::default();
        let mut upper = LayerFacts::default();
        let mut last = LayerFacts::default();
        for i in 0..FILES {
            let path = format!("d{}/s{i}", i % 3);
            base.files.push(record(&path, FileKind::Regular));
            base.facts.push(PathFacts {
                path: path.clone(),
                analyzer: "secrets".into(),
                facts: vec![Fact::Secret(secret_hit())],
            });
            if i % 3 == 0 {
                upper.whiteouts.push(path);
            }
        }
        // d1 is replaced by a file in layer 1; d2's contents are hidden by layer 2.
        upper.files.push(record("d1", FileKind::Regular));
        last.opaque_dirs.push("d2".into());
        let started = Instant::now();
        let facts = assemble(&image(Vec::new()), walked(vec![base, upper, last]));
        let took = started.elapsed();
        assert_eq!(facts.secrets.len(), FILES);
        for s in &facts.secrets {
            let SecretLocation::File { path } = &s.location else {
                panic!("{s:?}");
            };
            let want = if path.starts_with("/d2/") { 2 } else { 1 };
            assert_eq!(s.removed_in_layer, Some(want), "{path}");
        }
        assert!(
            took < Duration::from_secs(10),
            "{FILES} deleted secrets took {took:?}"
        );
    }
}
