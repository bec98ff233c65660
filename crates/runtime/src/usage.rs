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

/// Most bytes read of one Python package's `RECORD` (or `installed-files.txt`).
pub const MAX_RECORD_BYTES: u64 = 4 << 20;

/// How much of a package /proc can show.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Visibility {
    /// Native code (a distribution package's libraries and programs, a binary, a jar the JVM
    /// holds open): used means mapped or open, so absence means not loaded.
    Full,
    /// Interpreted code (a pure-Python package): an imported module leaves no trace in
    /// /proc, so absence proves nothing.
    Partial,
}

/// The packages by purl, with the files in use that each owns.
#[derive(Debug, Default)]
pub struct Owners {
    /// Purls of the packages that have a file list, and how much of them /proc shows.
    listed: BTreeMap<Purl, Visibility>,
    /// Purl → (path, pid) in use.
    used: BTreeMap<Purl, BTreeSet<(String, u32)>>,
}

impl Owners {
    /// Joins the files in use with the packages' file lists, resolving each listed file's
    /// directory inside the root (so `/lib/x86_64-linux-gnu/libc.so.6` from dpkg's list
    /// meets `/usr/lib/x86_64-linux-gnu/libc.so.6` in `maps` on a merged-/usr system).
    pub fn find(packages: &[Package], in_use: &FilesInUse, root: &mut ContainerRoot) -> Owners {
        let mut owners = Owners::default();
        let mut by_path: HashMap<String, Vec<&Purl>> = HashMap::new();
        for p in packages {
            let Some((paths, visibility)) = owned_paths(p, root) else {
                continue;
            };
            let visibility = match owners.listed.get(&p.purl) {
                Some(Visibility::Partial) | None => visibility,
                Some(Visibility::Full) => Visibility::Full,
            };
            owners.listed.insert(p.purl.clone(), visibility);
            if in_use.is_empty() {
                continue;
            }
            for path in paths {
                let resolved = root.resolve_dir_of(&path).unwrap_or(path);
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
        match self.listed.get(purl) {
            Some(Visibility::Full) => InUse {
                state: InUseState::NotLoaded,
                container: container.to_string(),
                evidence: Vec::new(),
                reason: None,
            },
            Some(Visibility::Partial) => unknown(
                container,
                "pure-Python package: imported modules leave no trace in /proc",
            ),
            None => unknown(container, "the scan has no file list for this package"),
        }
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

/// The files that stand for a package at run time, and how much /proc can show of them:
/// its owned files from the SBOM; for a jar, Go or Rust package the artifact it was read
/// from (the part before `!` for nested jars); for an installed Python package the files its
/// `RECORD` (or `installed-files.txt`) lists, read through the container's root.
fn owned_paths(p: &Package, root: &mut ContainerRoot) -> Option<(Vec<String>, Visibility)> {
    if !p.files.is_empty() {
        return Some((p.files.clone(), Visibility::Full));
    }
    if !p.evidence.is_installed() {
        return None;
    }
    match p.ecosystem {
        Ecosystem::Maven | Ecosystem::Go | Ecosystem::Cargo => {
            let artifacts: Vec<String> = p
                .found_in
                .iter()
                .map(|f| f.split('!').next().unwrap_or(f).to_string())
                .filter(|f| {
                    p.ecosystem != Ecosystem::Maven
                        || f.ends_with(".jar")
                        || f.ends_with(".war")
                        || f.ends_with(".ear")
                })
                .filter(|f| !f.ends_with("go.mod") && !f.ends_with("Cargo.lock"))
                .collect();
            (!artifacts.is_empty()).then_some((artifacts, Visibility::Full))
        }
        Ecosystem::PyPI => {
            let files = python_record(p, root)?;
            // An extension module is mapped once imported; without one, imports are invisible.
            let native = files.iter().any(|f| {
                let name = f.rsplit('/').next().unwrap_or(f);
                name.ends_with(".so") || name.contains(".so.")
            });
            let visibility = if native {
                Visibility::Full
            } else {
                Visibility::Partial
            };
            Some((files, visibility))
        }
        _ => None,
    }
}

/// The files of an installed Python package from its `.dist-info/RECORD` (paths relative to
/// the directory holding `.dist-info`) or `.egg-info/installed-files.txt` (relative to the
/// `.egg-info` directory), read through the root, bounded.
fn python_record(p: &Package, root: &mut ContainerRoot) -> Option<Vec<String>> {
    for found in &p.found_in {
        let Some((info_dir, _)) = found.rsplit_once('/') else {
            continue;
        };
        let (list, base) = if info_dir.ends_with(".dist-info") {
            (
                format!("{info_dir}/RECORD"),
                info_dir.rsplit_once('/')?.0.to_string(),
            )
        } else if info_dir.ends_with(".egg-info") {
            (
                format!("{info_dir}/installed-files.txt"),
                info_dir.to_string(),
            )
        } else {
            continue;
        };
        let resolved = root.resolve(&list)?;
        let Ok(text) = crate::procfs::read_bounded(&root.host_path(&resolved), MAX_RECORD_BYTES)
        else {
            continue;
        };
        let files: Vec<String> = String::from_utf8_lossy(&text)
            .lines()
            .filter_map(|line| {
                // RECORD is CSV (path,hash,size); a path with a comma is quoted.
                let path = match line.strip_prefix('"') {
                    Some(rest) => rest.split('"').next()?,
                    None => line.split(',').next()?,
                };
                (!path.is_empty()).then(|| normalize(&format!("{base}/{path}")))
            })
            .collect();
        if !files.is_empty() {
            return Some(files);
        }
    }
    None
}

/// `a/b/../c` → `a/c` (RECORD paths of scripts climb out of site-packages).
fn normalize(path: &str) -> String {
    let mut out: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                out.pop();
            }
            p => out.push(p),
        }
    }
    format!("/{}", out.join("/"))
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

#[cfg(test)]
mod tests {
    use super::*;
    use bulwark_types::{Evidence, LayerRef};

    fn package(ecosystem: Ecosystem, name: &str, files: &[&str], found_in: &[&str]) -> Package {
        Package {
            ecosystem,
            name: name.to_string(),
            version: "1".into(),
            arch: None,
            source: None,
            licenses: Vec::new(),
            purl: format!("pkg:generic/{name}@1").parse().unwrap(),
            layer: LayerRef {
                index: 0,
                diff_id: None,
                created_by: None,
            },
            found_in: found_in.iter().map(|s| s.to_string()).collect(),
            files: files.iter().map(|s| s.to_string()).collect(),
            dev: false,
            inferred: false,
            dependencies: Vec::new(),
            evidence: Evidence::Installed,
            role: Default::default(),
        }
    }

    #[test]
    fn python_records_jars_and_os_files_give_each_package_its_state() {
        let dir = tempfile::tempdir().unwrap();
        let r = dir.path();
        let site = "usr/lib/python3/dist-packages";
        for (pkg, record) in [
            ("fastlib-1.0.dist-info", "fastlib/__init__.py,sha256=x,1\nfastlib/_speed.cpython-311-x86_64-linux-gnu.so,sha256=y,2\n../../../bin/fastlib,,\n"),
            ("purelib-2.0.dist-info", "purelib/__init__.py,,\n\"purelib/a,b.py\",,\n"),
        ] {
            std::fs::create_dir_all(r.join(site).join(pkg)).unwrap();
            std::fs::write(r.join(site).join(pkg).join("RECORD"), record).unwrap();
        }
        let packages = vec![
            package(
                Ecosystem::PyPI,
                "fastlib",
                &[],
                &[&format!("/{site}/fastlib-1.0.dist-info/METADATA")],
            ),
            package(
                Ecosystem::PyPI,
                "purelib",
                &[],
                &[&format!("/{site}/purelib-2.0.dist-info/METADATA")],
            ),
            package(
                Ecosystem::Maven,
                "log4j-core",
                &[],
                &["/app/lib/log4j-core-2.14.jar"],
            ),
            package(
                Ecosystem::Maven,
                "unused",
                &[],
                &["/app/lib/unused.jar!/BOOT-INF/lib/x.jar"],
            ),
            package(Ecosystem::Deb, "libc6", &["/lib/libc.so.6"], &[]),
            package(
                Ecosystem::Npm,
                "lodash",
                &[],
                &["/app/node_modules/lodash/package.json"],
            ),
        ];
        let mut in_use = FilesInUse::new();
        in_use
            .entry(format!(
                "/{site}/fastlib/_speed.cpython-311-x86_64-linux-gnu.so"
            ))
            .or_default()
            .insert(7);
        in_use
            .entry("/app/lib/log4j-core-2.14.jar".into())
            .or_default()
            .insert(8);
        let mut root = ContainerRoot::at(r);
        let owners = Owners::find(&packages, &in_use, &mut root);
        let state = |name: &str| {
            let p = packages.iter().find(|p| p.name == name).unwrap();
            owners.state(&p.purl, "c").state
        };
        assert_eq!(state("fastlib"), InUseState::Loaded);
        assert_eq!(state("log4j-core"), InUseState::Loaded);
        assert_eq!(state("unused"), InUseState::NotLoaded);
        assert_eq!(state("libc6"), InUseState::NotLoaded);
        assert_eq!(
            state("purelib"),
            InUseState::Unknown,
            "pure Python: imports are invisible"
        );
        assert_eq!(state("lodash"), InUseState::Unknown);
        let log4j = owners.state(&packages[2].purl, "c");
        assert_eq!(log4j.evidence[0].path, "/app/lib/log4j-core-2.14.jar");
        assert_eq!(log4j.evidence[0].pid, 8);
        assert_eq!(
            normalize("/usr/lib/python3/dist-packages/../../../bin/fastlib"),
            "/usr/bin/fastlib"
        );
    }
}
