//! Which packages a container's processes use: the files in use (from /proc) against the
//! files each package owns (its file list in the SBOM: dpkg `.list`, apk `R:`, the rpm
//! database, language packages' records; a jar package's own jar), both resolved inside the
//! container's root.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use bulwark_types::{
    Ecosystem, InUse, InUseEvidence, InUseState, Package, Purl, VulnerabilityFinding,
};

use crate::procfs::{ContainerRoot, FilesInUse};

/// Evidence kept per vulnerable package: the first few files that prove it is loaded.
pub const MAX_EVIDENCE_PER_PACKAGE: usize = 5;
/// Files in use listed per container.
pub const MAX_IN_USE_FILES: usize = 500;

/// What the container's processes were found to use, or why that is unknown.
#[derive(Debug, Clone)]
pub enum Usage {
    Read(FilesInUse),
    Unknown(String),
}

/// The packages by purl, with the files in use that each owns.
#[derive(Debug, Default)]
pub struct Owners {
    /// Purls of the packages that have a file list at all.
    listed: BTreeSet<Purl>,
    /// Purl → (path, pid) in use.
    used: BTreeMap<Purl, BTreeSet<(String, u32)>>,
}

impl Owners {
    /// Joins the files in use with the packages' file lists, resolving each listed file's
    /// directory inside the root (so `/lib/x86_64-linux-gnu/libc.so.6` from dpkg's list
    /// meets `/usr/lib/x86_64-linux-gnu/libc.so.6` in `maps` on a merged-/usr system).
    pub fn find(packages: &[Package], in_use: &FilesInUse, root: &mut ContainerRoot) -> Owners {
        let mut owners = Owners::default();
        if in_use.is_empty() {
            for p in packages {
                if !owned_paths(p).is_empty() {
                    owners.listed.insert(p.purl.clone());
                }
            }
            return owners;
        }
        let mut by_path: HashMap<String, Vec<&Purl>> = HashMap::new();
        for p in packages {
            let paths = owned_paths(p);
            if paths.is_empty() {
                continue;
            }
            owners.listed.insert(p.purl.clone());
            for path in paths {
                let resolved = root
                    .resolve_dir_of(path)
                    .unwrap_or_else(|| path.to_string());
                by_path.entry(resolved).or_default().push(&p.purl);
            }
        }
        for (path, pids) in in_use {
            let Some(purls) = by_path.get(path) else {
                continue;
            };
            for purl in purls {
                let used = owners.used.entry((*purl).clone()).or_default();
                used.extend(pids.iter().map(|&pid| (path.clone(), pid)));
            }
        }
        owners
    }

    /// The in-use state of `package` (by purl) in `container`.
    pub fn state(&self, purl: &Purl, container: &str) -> InUse {
        if let Some(used) = self.used.get(purl) {
            let mut seen = BTreeSet::new();
            // Code first (shared objects, executables), then data files such as locales.
            let mut ordered: Vec<&(String, u32)> = used.iter().collect();
            ordered.sort_by_key(|(path, pid)| (!is_code(path), path.clone(), *pid));
            let evidence = ordered
                .into_iter()
                .filter(|(path, _)| seen.insert(path.clone()))
                .take(MAX_EVIDENCE_PER_PACKAGE)
                .map(|(path, pid)| InUseEvidence {
                    pid: *pid,
                    path: path.clone(),
                })
                .collect();
            return InUse {
                state: InUseState::Loaded,
                container: container.to_string(),
                evidence,
                reason: None,
            };
        }
        if self.listed.contains(purl) {
            return InUse {
                state: InUseState::NotLoaded,
                container: container.to_string(),
                evidence: Vec::new(),
                reason: None,
            };
        }
        unknown(container, "the scan has no file list for this package")
    }

    /// Every package file in use, with its pid, for the container's report (bounded).
    pub fn files(&self) -> Vec<InUseEvidence> {
        let mut all: BTreeSet<(String, u32)> = BTreeSet::new();
        for used in self.used.values() {
            all.extend(used.iter().cloned());
        }
        let mut seen = BTreeSet::new();
        all.into_iter()
            .filter(|(path, _)| seen.insert(path.clone()))
            .take(MAX_IN_USE_FILES)
            .map(|(path, pid)| InUseEvidence { pid, path })
            .collect()
    }
}

fn is_code(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path);
    name.contains(".so")
        || name.ends_with(".jar")
        || path.contains("/bin/")
        || path.contains("/sbin/")
}

pub fn unknown(container: &str, reason: &str) -> InUse {
    InUse {
        state: InUseState::Unknown,
        container: container.to_string(),
        evidence: Vec::new(),
        reason: Some(reason.to_string()),
    }
}

/// The files that stand for a package at run time: its owned files, or for a jar package the
/// jar it was read from (the part before `!` for nested jars).
fn owned_paths(p: &Package) -> Vec<&str> {
    if !p.files.is_empty() {
        return p.files.iter().map(String::as_str).collect();
    }
    if p.ecosystem == Ecosystem::Maven {
        return p
            .found_in
            .iter()
            .map(|f| f.split('!').next().unwrap_or(f))
            .filter(|f| f.ends_with(".jar") || f.ends_with(".war") || f.ends_with(".ear"))
            .collect();
    }
    Vec::new()
}

/// The container's copy of each finding, with its in-use state.
pub fn attach(
    findings: &[VulnerabilityFinding],
    owners: Option<&Owners>,
    container: &str,
    unknown_reason: &str,
) -> Vec<VulnerabilityFinding> {
    findings
        .iter()
        .map(|f| {
            let mut f = f.clone();
            f.in_use = Some(match owners {
                Some(o) => o.state(&f.package.purl, container),
                None => unknown(container, unknown_reason),
            });
            f
        })
        .collect()
}
