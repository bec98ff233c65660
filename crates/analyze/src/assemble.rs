use std::collections::{BTreeMap, HashMap};

use bulwark_image::Image;
use bulwark_types::{
    Digest, Ecosystem, LayerRef, OsRelease, Package, Purl, SecretFinding, SecretLocation,
};
use serde::Serialize;

use crate::facts::{
    Diagnostic, DiagnosticLevel, Fact, FileKind, FileRecord, LayerFacts, PackageRecord,
};
use crate::walker::WalkedLayer;

/// What the report says about each layer.
#[derive(Debug, Clone, Serialize)]
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

    // Facts count only where their file is the one the final filesystem shows.
    let visible = |layer: usize, path: &str| files.get(path).is_some_and(|f| f.layer == layer);

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
        let found = layer_facts.iter().enumerate().rev().find_map(|(li, lf)| {
            lf.facts
                .iter()
                .filter(|pf| pf.path == resolved && visible(li, &pf.path))
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
        for pf in lf.facts.iter().filter(|pf| visible(li, &pf.path)) {
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

    let mut packages = Vec::new();
    for (li, lf) in layer_facts.iter().enumerate() {
        for pf in lf.facts.iter().filter(|pf| visible(li, &pf.path)) {
            for fact in &pf.facts {
                let Fact::Packages { records } = fact else {
                    continue;
                };
                for record in records {
                    let introduced = introducing_layer(&layer_facts, li, &pf.path, record);
                    let mut package =
                        to_package(record, os.as_ref(), layer_ref(introduced), &pf.path);
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
    for (li, lf) in layer_facts.iter().enumerate() {
        for pf in &lf.facts {
            for fact in &pf.facts {
                if let Fact::Secret(hit) = fact {
                    secrets.push(SecretFinding {
                        location: SecretLocation::File {
                            path: format!("/{}", pf.path),
                        },
                        layer: Some(layer_ref(li)),
                        removed_in_layer: if visible(li, &pf.path) {
                            None
                        } else {
                            removed_in(&layer_facts, li, &pf.path)
                        },
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

/// The first layer after `layer` that deletes or replaces `path`: a whiteout or opaque
/// directory over it or an ancestor, or a new entry at it or at an ancestor.
fn removed_in(layer_facts: &[LayerFacts], layer: usize, path: &str) -> Option<usize> {
    let ancestors: Vec<&str> = path.match_indices('/').map(|(i, _)| &path[..i]).collect();
    for (li, lf) in layer_facts.iter().enumerate().skip(layer + 1) {
        let whited = lf
            .whiteouts
            .iter()
            .any(|w| w == path || ancestors.contains(&w.as_str()));
        let opaque = lf
            .opaque_dirs
            .iter()
            .any(|d| ancestors.contains(&d.as_str()));
        let replaced = lf.files.iter().any(|f| {
            f.path == path || (f.kind != FileKind::Dir && ancestors.contains(&f.path.as_str()))
        });
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

/// One language package seen in several places (installed under `node_modules` and pinned in
/// the lockfile beside it) is one package with several locations, attributed to the earliest
/// layer; counting it twice would double every finding. OS packages are never merged: two
/// databases listing one name are two installations.
fn merge_language_duplicates(sorted: Vec<Package>) -> Vec<Package> {
    let mut out: Vec<Package> = Vec::with_capacity(sorted.len());
    for p in sorted {
        if let Some(last) = out.last_mut() {
            let same = !p.ecosystem.is_os()
                && last.ecosystem == p.ecosystem
                && last.name == p.name
                && last.version == p.version
                && last.purl.namespace == p.purl.namespace;
            if same {
                last.found_in.extend(p.found_in);
                last.found_in.sort();
                last.found_in.dedup();
                if p.layer.index < last.layer.index {
                    last.layer = p.layer;
                }
                // An installed manifest cannot tell dev from prod; a lockfile can.
                last.dev |= p.dev;
                last.inferred &= p.inferred;
                for l in p.licenses {
                    if !last.licenses.contains(&l) {
                        last.licenses.push(l);
                    }
                }
                for d in p.dependencies {
                    if !last.dependencies.contains(&d) {
                        last.dependencies.push(d);
                    }
                }
                last.files.extend(p.files);
                continue;
            }
        }
        out.push(p);
    }
    out
}

/// The first layer of the unbroken run of layers, ending at `visible_layer`, whose copy of the
/// database at `path` lists the package at this version. A package removed and later
/// reinstalled is attributed to the reinstalling layer.
fn introducing_layer(
    layer_facts: &[LayerFacts],
    visible_layer: usize,
    path: &str,
    record: &PackageRecord,
) -> usize {
    let mut first = visible_layer;
    for li in (0..visible_layer).rev() {
        let lf = &layer_facts[li];
        let mut db_here = false;
        let mut listed = false;
        for pf in lf.facts.iter().filter(|pf| pf.path == path) {
            for fact in &pf.facts {
                if let Fact::Packages { records } = fact {
                    db_here = true;
                    listed |= records.iter().any(|r| {
                        r.name == record.name
                            && r.version == record.version
                            && r.arch == record.arch
                    });
                }
            }
        }
        if db_here {
            if listed {
                first = li;
            } else {
                break;
            }
        } else if lf.whiteouts.iter().any(|w| w == path) {
            break;
        }
    }
    first
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
}
