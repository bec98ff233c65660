use std::collections::{BTreeMap, HashMap, HashSet};

use bulwark_image::Image;
use bulwark_types::{
    Digest, Ecosystem, LayerRef, OsRelease, Package, Purl, SecretFinding, SecretLocation,
};
use bulwark_version::Scheme;
use serde::Serialize;

use crate::facts::{
    Diagnostic, DiagnosticLevel, Fact, FileKind, FileRecord, LayerFacts, PackageRecord,
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
    /// Sorted by [`Package::sort_key`].
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

    // Facts count only where their file is the one the final filesystem shows, directly or
    // through a hard link to it from the same layer.
    let links: Vec<HardLinks> = layer_facts.iter().map(HardLinks::of).collect();
    let visible = |layer: usize, path: &str| files.get(path).is_some_and(|f| f.layer == layer);
    let shown_at = |layer: usize, path: &'_ str| -> Option<String> {
        if visible(layer, path) {
            return Some(path.to_string());
        }
        links[layer]
            .to(path)
            .find(|l| visible(layer, l))
            .map(str::to_string)
    };

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

    let mut owned: HashMap<(Ecosystem, &str), Vec<String>> = HashMap::new();
    let mut licensed: HashMap<(Ecosystem, &str), Vec<String>> = HashMap::new();
    for (li, lf) in layer_facts.iter().enumerate() {
        for pf in lf
            .facts
            .iter()
            .filter(|pf| shown_at(li, &pf.path).is_some())
        {
            for fact in &pf.facts {
                match fact {
                    Fact::OwnedFiles {
                        ecosystem,
                        package,
                        files,
                    } => owned
                        .entry((*ecosystem, package.as_str()))
                        .or_default()
                        .extend(files.iter().cloned()),
                    Fact::Licenses {
                        ecosystem,
                        package,
                        licenses,
                    } => licensed
                        .entry((*ecosystem, package.as_str()))
                        .or_default()
                        .extend(licenses.iter().cloned()),
                    _ => {}
                }
            }
        }
    }

    let introduced_in = introducing_layers(&layer_facts);
    let mut packages = Vec::new();
    for (li, lf) in layer_facts.iter().enumerate() {
        for pf in &lf.facts {
            let Some(path) = shown_at(li, &pf.path) else {
                continue;
            };
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
                    let mut package = to_package(record, os.as_ref(), layer_ref(introduced), &path);
                    let key = (record.ecosystem, record.name.as_str());
                    if package.files.is_empty() {
                        if let Some(list) = owned.get(&key) {
                            package.files = list.clone();
                        }
                    }
                    if package.licenses.is_empty() {
                        if let Some(list) = licensed.get(&key) {
                            package.licenses = list.clone();
                        }
                    }
                    package.files.sort();
                    package.files.dedup();
                    package.licenses.sort();
                    package.licenses.dedup();
                    packages.push(package);
                }
            }
        }
    }
    drop_os_owned_duplicates(&mut packages);
    packages.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    packages.dedup_by(|a, b| a.sort_key() == b.sort_key());
    let packages = merge_language_duplicates(packages);
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
        packages,
        layers,
        files,
        layer_facts,
        diagnostics,
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

/// A language package whose metadata files an OS package owns (Debian's `python3-yaml` ships
/// `PyYAML-*.dist-info`) is the OS package: reporting both doubles every advisory match, the
/// false positive peers are known for. The OS package stays, matched by its distro's data.
fn drop_os_owned_duplicates(packages: &mut Vec<Package>) {
    let owned: std::collections::HashSet<&str> = packages
        .iter()
        .filter(|p| p.ecosystem.is_os())
        .flat_map(|p| p.files.iter().map(String::as_str))
        .collect();
    if owned.is_empty() {
        return;
    }
    let duplicate: Vec<bool> = packages
        .iter()
        .map(|p| !p.ecosystem.is_os() && p.found_in.iter().all(|f| owned.contains(f.as_str())))
        .collect();
    let mut flags = duplicate.into_iter();
    packages.retain(|_| !flags.next().unwrap_or(false));
}

/// A language package seen in several places is one package with several locations: installed
/// under `node_modules` and pinned in the lockfile beside it, or installed by pip as
/// `Django 3.2` and declared in `requirements.txt` as `Django==3.2.0`. Counting it twice
/// doubles every finding and lets a VEX statement about one copy leave the other open.
///
/// What is installed is the truth: entries with the same normalised name (PEP 503 for PyPI,
/// ASCII case ignored for Composer and NuGet) whose versions are equal under the ecosystem's
/// rules (`bulwark-version`) become one package, which keeps an installed entry's name,
/// version and purl, every location, and the earliest layer of its installed entries. A
/// declared entry with no installed counterpart stays, marked
/// [`bulwark_types::Evidence::Declared`]. OS packages are never merged: two databases listing
/// one name are two installations.
fn merge_language_duplicates(mut packages: Vec<Package>) -> Vec<Package> {
    // Grouped by sorting in place and merged back into the same buffer: a map of groups
    // holds a small Vec per name, several times the size of the package itself when, as
    // usual, most names are seen once (a 1M-entry lockfile took 2.8 GB that way).
    packages.sort_by_cached_key(group_key);
    let mut slots: Vec<Option<Package>> = packages.into_iter().map(Some).collect();
    let mut written = 0;
    let mut start = 0;
    let mut key = slots.first().and_then(|p| p.as_ref()).and_then(group_key);
    while start < slots.len() {
        let mut end = start + 1;
        let mut next_key = None;
        while end < slots.len() {
            next_key = slots[end].as_ref().and_then(group_key);
            if key.is_none() || next_key != key {
                break;
            }
            end += 1;
        }
        if end == slots.len() {
            next_key = None;
        }
        let group: Vec<Package> = slots[start..end]
            .iter_mut()
            .filter_map(Option::take)
            .collect();
        let merged = match &key {
            None => group,
            Some((ecosystem, _, _)) => merge_group(*ecosystem, group),
        };
        // Never more packages than the run held, so this only fills slots already emptied.
        for p in merged {
            slots[written] = Some(p);
            written += 1;
        }
        start = end;
        key = next_key;
    }
    slots.truncate(written);
    let mut out: Vec<Package> = slots.into_iter().flatten().collect();
    out.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    out
}

type GroupKey = (Ecosystem, Option<String>, String);

/// Which packages may be one: `None` for OS packages (two databases listing one name are two
/// installations), else the ecosystem and the normalised namespace and name.
fn group_key(p: &Package) -> Option<GroupKey> {
    if p.ecosystem.is_os() {
        return None;
    }
    let namespace = p
        .purl
        .namespace
        .as_deref()
        .map(|ns| normalized_name(p.ecosystem, ns));
    Some((
        p.ecosystem,
        namespace,
        normalized_name(p.ecosystem, &p.name),
    ))
}

/// The packages of one name, merged into one per equal version.
fn merge_group(ecosystem: Ecosystem, mut group: Vec<Package>) -> Vec<Package> {
    // Installed entries first, so they become the clusters declared ones join.
    group.sort_by(|a, b| (a.evidence, a.sort_key()).cmp(&(b.evidence, b.sort_key())));
    let scheme = version_scheme(ecosystem);
    let mut clusters: Vec<Vec<Package>> = Vec::new();
    let mut by_version: HashMap<String, usize> = HashMap::new();
    let mut comparisons = 0usize;
    for p in group {
        let found = by_version.get(&p.version).copied().or_else(|| {
            clusters.iter().position(|c| {
                if comparisons >= MAX_VERSION_COMPARISONS_PER_NAME {
                    return false;
                }
                comparisons += 1;
                bulwark_version::compare(scheme, &c[0].version, &p.version)
                    .is_ok_and(|o| o == std::cmp::Ordering::Equal)
            })
        });
        match found {
            Some(i) => {
                by_version.insert(p.version.clone(), i);
                clusters[i].push(p);
            }
            None => {
                by_version.insert(p.version.clone(), clusters.len());
                clusters.push(vec![p]);
            }
        }
    }
    clusters.into_iter().filter_map(merge_cluster).collect()
}

/// Past this many version comparisons for one package name (a hostile image with thousands of
/// versions of one name), further versions are merged only when written identically.
const MAX_VERSION_COMPARISONS_PER_NAME: usize = 4096;

/// One package from entries that name the same one; the first is the one to keep (installed
/// if any is).
fn merge_cluster(cluster: Vec<Package>) -> Option<Package> {
    let mut entries = cluster.into_iter();
    let mut kept = entries.next()?;
    for p in entries {
        kept.found_in.extend(p.found_in);
        // The installed copy's layer is where the package arrived; a lockfile copied in an
        // earlier layer only announced it.
        if p.evidence == kept.evidence && p.layer.index < kept.layer.index {
            kept.layer = p.layer;
        }
        // An installed manifest cannot tell dev from prod; a lockfile can.
        kept.dev |= p.dev;
        kept.inferred &= p.inferred;
        for l in p.licenses {
            if !kept.licenses.contains(&l) {
                kept.licenses.push(l);
            }
        }
        for d in p.dependencies {
            if !kept.dependencies.contains(&d) {
                kept.dependencies.push(d);
            }
        }
        kept.files.extend(p.files);
    }
    kept.found_in.sort();
    kept.found_in.dedup();
    Some(kept)
}

/// A language package's name as its registry compares names.
fn normalized_name(ecosystem: Ecosystem, name: &str) -> String {
    match ecosystem {
        Ecosystem::PyPI => pep503_normalize(name),
        Ecosystem::Composer | Ecosystem::NuGet => name.to_ascii_lowercase(),
        _ => name.to_string(),
    }
}

fn version_scheme(ecosystem: Ecosystem) -> Scheme {
    match ecosystem {
        Ecosystem::Deb => Scheme::Dpkg,
        Ecosystem::Apk => Scheme::Apk,
        Ecosystem::Rpm => Scheme::Rpm,
        Ecosystem::PyPI => Scheme::Pep440,
        Ecosystem::Npm | Ecosystem::Cargo => Scheme::SemVer,
        Ecosystem::Go => Scheme::Go,
        Ecosystem::Maven => Scheme::Maven,
        Ecosystem::Gem => Scheme::RubyGems,
        Ecosystem::Composer => Scheme::Composer,
        Ecosystem::NuGet => Scheme::NuGet,
    }
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

fn to_package(
    record: &PackageRecord,
    os: Option<&OsRelease>,
    layer: LayerRef,
    path: &str,
) -> Package {
    Package {
        ecosystem: record.ecosystem,
        name: record.name.clone(),
        version: record.version.clone(),
        arch: record.arch.clone(),
        source: record.source.clone(),
        licenses: record.licenses.clone(),
        purl: purl_for(record, os),
        layer,
        found_in: vec![format!("/{path}")],
        files: record.files.clone(),
        dev: record.dev,
        inferred: record.inferred,
        dependencies: record.dependencies.clone(),
        evidence: record.evidence,
    }
}

/// The purl peers write for each OS package type: namespace from os-release `ID`, `arch` and
/// `distro` qualifiers, rpm's epoch as a qualifier, and the source package as `upstream`.
fn purl_for(record: &PackageRecord, os: Option<&OsRelease>) -> Purl {
    let ty = record.ecosystem.purl_type();
    let os_ns = |default: &str| {
        os.map(|o| o.id.clone())
            .unwrap_or_else(|| default.to_string())
    };
    let upstream = record.source.as_ref().and_then(|s| {
        if s.name == record.name && s.version == record.version {
            None
        } else if s.version.is_empty() || s.version == record.version {
            Some(s.name.clone())
        } else {
            Some(format!("{}@{}", s.name, s.version))
        }
    });
    let distro = os.map(|o| o.purl_distro()).unwrap_or_default();
    let arch = record.arch.clone().unwrap_or_default();
    match record.ecosystem {
        Ecosystem::Deb | Ecosystem::Apk => {
            let ns = os_ns(if record.ecosystem == Ecosystem::Deb {
                "debian"
            } else {
                "alpine"
            });
            Purl::new(ty, Some(&ns), &record.name, Some(&record.version))
                .with_qualifier("arch", arch)
                .with_qualifier("distro", distro)
                .with_qualifier("upstream", upstream.unwrap_or_default())
        }
        Ecosystem::Rpm => {
            let version = match record.version.split_once(':') {
                Some((_, rest)) if record.epoch.is_some() => rest.to_string(),
                _ => record.version.clone(),
            };
            let source_rpm = record
                .source
                .as_ref()
                // The source rpm's file name, as syft writes `upstream` for rpm.
                .map(|s| format!("{}-{}.src.rpm", s.name, s.version))
                .unwrap_or_default();
            Purl::new(ty, Some(&os_ns("redhat")), &record.name, Some(&version))
                .with_qualifier("arch", arch)
                .with_qualifier(
                    "epoch",
                    record.epoch.map(|e| e.to_string()).unwrap_or_default(),
                )
                .with_qualifier("distro", distro)
                .with_qualifier("upstream", source_rpm)
        }
        _ => {
            let (namespace, name) = match (&record.namespace, record.ecosystem) {
                (Some(ns), _) => (Some(ns.clone()), record.name.clone()),
                (None, Ecosystem::Npm | Ecosystem::Composer | Ecosystem::Go) => {
                    match record.name.rsplit_once('/') {
                        Some((ns, n)) => (Some(ns.to_string()), n.to_string()),
                        None => (None, record.name.clone()),
                    }
                }
                (None, _) => (None, record.name.clone()),
            };
            // The purl spec normalizes PyPI names the way PEP 503 does.
            let name = if record.ecosystem == Ecosystem::PyPI {
                pep503_normalize(&name)
            } else {
                name
            };
            Purl::new(ty, namespace.as_deref(), &name, Some(&record.version))
        }
    }
}

/// Lowercase, with every run of `-`, `_` and `.` made one `-` (PEP 503).
pub(crate) fn pep503_normalize(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut in_run = false;
    for c in name.chars() {
        if matches!(c, '-' | '_' | '.') {
            if !in_run {
                out.push('-');
            }
            in_run = true;
        } else {
            out.push(c.to_ascii_lowercase());
            in_run = false;
        }
    }
    out
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

    use std::io::Cursor;
    use std::sync::Arc;
    use std::time::{Duration, Instant};

    use bulwark_image::{ImageContent, Layer};
    use bulwark_types::{Evidence, SecretHit, Severity};

    use crate::facts::{FileMeta, Interest, PathFacts};
    use crate::walker::{Analyzer, AnalyzerOutput, NoProgress, Walker};

    fn image(layers: Vec<Layer>) -> Image {
        Image {
            source: "test".into(),
            repo_tags: Vec::new(),
            manifest_digest: None,
            config_digest: None,
            config: None,
            platform: None,
            history: Vec::new(),
            content: ImageContent::Layers(layers),
        }
    }

    fn walked(layers: Vec<LayerFacts>) -> Vec<WalkedLayer> {
        layers
            .into_iter()
            .map(|facts| WalkedLayer {
                facts,
                from_cache: false,
            })
            .collect()
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

    fn deb(name: &str, version: &str) -> PackageRecord {
        PackageRecord::new(Ecosystem::Deb, name, version)
    }

    fn database(path: &str, records: Vec<PackageRecord>) -> PathFacts {
        PathFacts {
            path: path.into(),
            analyzer: "list".into(),
            facts: vec![Fact::Packages { records }],
        }
    }

    /// Reads `name version` lines as the dpkg database (and distroless `status.d/*` files).
    struct ListAnalyzer;

    impl Analyzer for ListAnalyzer {
        fn id(&self) -> &'static str {
            "list"
        }
        fn version(&self) -> u32 {
            1
        }
        fn wants(&self, file: &FileMeta) -> Interest {
            if file.path == "var/lib/dpkg/status" || file.path.starts_with("var/lib/dpkg/status.d/")
            {
                Interest::Read { max_bytes: 1 << 30 }
            } else {
                Interest::Skip
            }
        }
        fn analyze(&self, _: &FileMeta, content: &[u8], out: &mut AnalyzerOutput) {
            let records = String::from_utf8_lossy(content)
                .lines()
                .filter_map(|l| l.split_once(' '))
                .map(|(n, v)| deb(n, v))
                .collect();
            out.fact(Fact::Packages { records });
        }
    }

    fn tar_layer(build: impl FnOnce(&mut tar::Builder<Vec<u8>>)) -> Layer {
        let mut b = tar::Builder::new(Vec::new());
        build(&mut b);
        let bytes = Arc::new(b.into_inner().unwrap());
        let open =
            move || Ok(Box::new(Cursor::new(bytes.to_vec())) as Box<dyn std::io::Read + Send>);
        Layer::new(0, Arc::new(open))
    }

    fn add_file(b: &mut tar::Builder<Vec<u8>>, path: &str, content: &[u8]) {
        let mut h = tar::Header::new_gnu();
        h.set_size(content.len() as u64);
        h.set_mode(0o644);
        h.set_cksum();
        b.append_data(&mut h, path, content).unwrap();
    }

    fn add_hard_link(b: &mut tar::Builder<Vec<u8>>, path: &str, target: &str) {
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(tar::EntryType::Link);
        h.set_size(0);
        h.set_mode(0o644);
        b.append_link(&mut h, path, target).unwrap();
    }

    fn record_count(lf: &LayerFacts) -> usize {
        lf.facts
            .iter()
            .flat_map(|pf| &pf.facts)
            .map(|f| match f {
                Fact::Packages { records } => records.len(),
                _ => 0,
            })
            .sum()
    }

    /// Issue 13.1: a dpkg status plus thousands of hard links to it (some at paths the
    /// database analyzer reads) took memory per link. The facts are recorded once.
    #[test]
    fn issue_13_1_hard_links_do_not_multiply_facts() {
        const PACKAGES: usize = 200;
        const LINKS: usize = 5_000;
        let status: String = (0..PACKAGES).map(|i| format!("pkg{i} 1.{i}\n")).collect();
        let layer = tar_layer(|b| {
            add_file(b, "var/lib/dpkg/status", status.as_bytes());
            for i in 0..LINKS {
                let path = if i % 2 == 0 {
                    format!("var/lib/dpkg/status.d/l{i}")
                } else {
                    format!("links/l{i}")
                };
                add_hard_link(b, &path, "var/lib/dpkg/status");
            }
        });
        let analyzers: Vec<Box<dyn Analyzer>> = vec![Box::new(ListAnalyzer)];
        let image = image(vec![layer]);
        let layers = Walker::new(&analyzers).walk(&image, &NoProgress).unwrap();
        assert_eq!(
            layers[0].facts.files.len(),
            1 + LINKS,
            "every link is in the file index"
        );
        assert_eq!(
            record_count(&layers[0].facts),
            PACKAGES,
            "facts recorded once"
        );
        let facts = assemble(&image, layers);
        assert_eq!(facts.packages.len(), PACKAGES);
        assert!(facts
            .packages
            .iter()
            .all(|p| p.found_in == ["/var/lib/dpkg/status"]));
    }

    /// A database whose path a later layer deletes still counts where a hard link to it stays.
    #[test]
    fn facts_stay_visible_through_a_surviving_hard_link() {
        let mut base = LayerFacts::default();
        base.files
            .push(record("var/lib/dpkg/status.d/a", FileKind::Regular));
        base.files.push(FileRecord {
            link: Some("var/lib/dpkg/status.d/a".into()),
            ..record("var/lib/dpkg/status.d/b", FileKind::Hardlink)
        });
        base.facts.push(database(
            "var/lib/dpkg/status.d/a",
            vec![deb("zlib1g", "1.2")],
        ));
        let upper = LayerFacts {
            whiteouts: vec!["var/lib/dpkg/status.d/a".into()],
            ..Default::default()
        };
        let facts = assemble(&image(Vec::new()), walked(vec![base, upper]));
        assert_eq!(facts.packages.len(), 1);
        assert_eq!(facts.packages[0].found_in, ["/var/lib/dpkg/status.d/b"]);
    }

    /// Issue 13.7: the same large database in several layers; each package's introducing
    /// layer was found by rescanning earlier layers (packages² × layers).
    #[test]
    fn issue_13_7_introducing_layers_are_found_in_linear_time() {
        const PACKAGES: usize = 30_000;
        let listed = |versions: &dyn Fn(usize) -> Option<String>| -> LayerFacts {
            let records = (0..PACKAGES)
                .filter_map(|i| versions(i).map(|v| deb(&format!("pkg{i}"), &v)))
                .collect();
            LayerFacts {
                files: vec![record("var/lib/dpkg/status", FileKind::Regular)],
                facts: vec![database("var/lib/dpkg/status", records)],
                ..Default::default()
            }
        };
        // pkg0 is upgraded in layer 2; pkg1 is removed in layer 1 and reinstalled in layer 2.
        let layers = vec![
            listed(&|_| Some("1".into())),
            listed(&|i| (i != 1).then(|| "1".into())),
            listed(&|i| Some(if i == 0 { "2".into() } else { "1".into() })),
        ];
        let started = Instant::now();
        let facts = assemble(&image(Vec::new()), walked(layers));
        let took = started.elapsed();
        assert_eq!(facts.packages.len(), PACKAGES);
        let layer_of = |name: &str| {
            facts
                .packages
                .iter()
                .find(|p| p.name == name)
                .map(|p| p.layer.index)
        };
        assert_eq!(layer_of("pkg0"), Some(2), "upgraded");
        assert_eq!(layer_of("pkg1"), Some(2), "removed, then reinstalled");
        assert_eq!(layer_of("pkg2"), Some(0));
        assert!(
            took < Duration::from_secs(10),
            "{PACKAGES} packages in 3 layers took {took:?}"
        );
    }

    fn secret_hit() -> SecretHit {
        SecretHit {
            rule_id: "test".into(),
            title: "test".into(),
            severity: Severity::High,
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

    fn language_layer(entries: &[(&str, PackageRecord)]) -> LayerFacts {
        let mut lf = LayerFacts::default();
        for (path, r) in entries {
            lf.files.push(record(path, FileKind::Regular));
            lf.facts.push(PathFacts {
                path: path.to_string(),
                analyzer: "lang".into(),
                facts: vec![Fact::Packages {
                    records: vec![r.clone()],
                }],
            });
        }
        lf
    }

    fn lang(ecosystem: Ecosystem, name: &str, version: &str) -> PackageRecord {
        PackageRecord::new(ecosystem, name, version)
    }

    /// Issue 12.2: what a manifest or lockfile declares merges into the installed package it
    /// names (same normalised name, equal version under the ecosystem's rules); what has no
    /// installed counterpart stays, marked declared.
    #[test]
    fn issue_12_2_declared_entries_merge_into_installed_packages() {
        use Ecosystem::*;
        /// (ecosystem, installed at, installed name and version, declared at, declared name
        /// and version)
        type Case = (
            Ecosystem,
            &'static str,
            (&'static str, &'static str),
            &'static str,
            (&'static str, &'static str),
        );
        let cases: &[Case] = &[
            (
                PyPI,
                "venv/django-3.2.dist-info/METADATA",
                ("Django", "3.2"),
                "app/requirements.txt",
                ("django", "3.2.0"),
            ),
            (
                PyPI,
                "venv/zope.interface-5.0.dist-info/METADATA",
                ("zope.interface", "5.0"),
                "app/poetry.lock",
                ("Zope_Interface", "5.0.0"),
            ),
            (
                Npm,
                "app/node_modules/@babel/core/package.json",
                ("@babel/core", "7.1.0"),
                "app/package-lock.json",
                ("@babel/core", "7.1.0"),
            ),
            (
                Go,
                "usr/bin/app",
                ("golang.org/x/net", "v0.17.0"),
                "src/go.mod",
                ("golang.org/x/net", "v0.17.0"),
            ),
            (
                Cargo,
                "usr/bin/tool",
                ("serde", "1.0.190"),
                "src/Cargo.lock",
                ("serde", "1.0.190"),
            ),
            (
                Maven,
                "app/lib/log4j-core.jar",
                ("log4j-core", "2.14"),
                "src/pom.xml",
                ("log4j-core", "2.14.0"),
            ),
            (
                Gem,
                "gems/specifications/rack-2.2.3.gemspec",
                ("rack", "2.2.3"),
                "app/Gemfile.lock",
                ("rack", "2.2.3.0"),
            ),
            (
                Composer,
                "app/vendor/composer/installed.json",
                ("monolog/monolog", "v1.27.1"),
                "app/composer.lock",
                ("Monolog/Monolog", "1.27.1"),
            ),
            (
                NuGet,
                "app/App.deps.json",
                ("Newtonsoft.Json", "13.0.1"),
                "src/packages.lock.json",
                ("newtonsoft.json", "13.0.1.0"),
            ),
        ];
        for (eco, at, (name, version), declared_at, (dname, dversion)) in cases {
            let mut installed = lang(*eco, name, version);
            let mut declared = lang(*eco, dname, dversion).declared();
            if *eco == Maven {
                installed.namespace = Some("org.apache.logging.log4j".into());
                declared.namespace = Some("org.apache.logging.log4j".into());
            }
            let orphan = lang(*eco, "only-declared", "1.0.0").declared();
            let mut other_version = declared.clone();
            other_version.version = "9.9.9".into();
            // The lockfile arrives first (COPY before RUN install): the installing layer
            // counts. Beside it, a name nothing installs and another version of the same name.
            let layers = vec![
                language_layer(&[
                    (declared_at, declared.clone()),
                    ("x/lock", orphan),
                    ("y/lock", other_version),
                ]),
                language_layer(&[(at, installed)]),
            ];
            let packages = assemble(&image(Vec::new()), walked(layers)).packages;
            assert_eq!(packages.len(), 3, "{eco}: {packages:#?}");
            let merged: Vec<&Package> = packages
                .iter()
                .filter(|p| p.version != "9.9.9" && p.name != "only-declared")
                .collect();
            assert_eq!(merged.len(), 1, "{eco}: {packages:#?}");
            let p = merged[0];
            assert_eq!(
                (p.name.as_str(), p.version.as_str()),
                (*name, *version),
                "{eco}: the installed identity"
            );
            assert_eq!(p.evidence, Evidence::Installed, "{eco}");
            assert_eq!(
                p.layer.index, 1,
                "{eco}: attributed to the installing layer"
            );
            let mut want = vec![format!("/{at}"), format!("/{declared_at}")];
            want.sort();
            assert_eq!(p.found_in, want, "{eco}: both locations kept");
            for stays in ["/x/lock", "/y/lock"] {
                let left: Vec<&Package> =
                    packages.iter().filter(|p| p.found_in == [stays]).collect();
                assert_eq!(left.len(), 1, "{eco} {stays}: {packages:#?}");
                assert_eq!(left[0].evidence, Evidence::Declared, "{eco} {stays}");
            }
        }
    }

    #[test]
    fn equal_versions_of_a_name_merge_within_a_bounded_number_of_comparisons() {
        // Thousands of distinct versions of one name: the comparisons stop at the bound and
        // the rest merge only when written the same.
        let mut lf = LayerFacts::default();
        let mut records = Vec::new();
        for i in 0..5_000 {
            records.push(lang(Ecosystem::PyPI, "p", &format!("1.{i}")).declared());
        }
        records.push(lang(Ecosystem::PyPI, "p", "1.0.0").declared());
        lf.files
            .push(record("a/requirements.txt", FileKind::Regular));
        lf.facts.push(PathFacts {
            path: "a/requirements.txt".into(),
            analyzer: "lang".into(),
            facts: vec![Fact::Packages { records }],
        });
        let started = Instant::now();
        let facts = assemble(&image(Vec::new()), walked(vec![lf]));
        assert!(started.elapsed() < Duration::from_secs(10));
        assert_eq!(facts.packages.len(), 5_000, "1.0.0 joined 1.0");
    }
}
