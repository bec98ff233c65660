use bulwark_analyze::{
    Analyzer, AnalyzerOutput, Fact, FileKind, FileMeta, Interest, PackageRecord,
};
use bulwark_types::{Ecosystem, PackageSource};

use crate::license;

/// Red Hat family and SUSE packages from the rpm database, whichever backend wrote it.
pub struct RpmAnalyzer;

const DIRS: &[&str] = &["var/lib/rpm/", "usr/lib/sysimage/rpm/", "usr/share/rpm/"];
const FILES: &[&str] = &["rpmdb.sqlite", "Packages", "Packages.db"];

impl Analyzer for RpmAnalyzer {
    fn id(&self) -> &'static str {
        "rpm"
    }

    fn version(&self) -> u32 {
        1
    }

    fn wants(&self, file: &FileMeta) -> Interest {
        if file.kind != FileKind::Regular {
            return Interest::Skip;
        }
        let wanted = DIRS.iter().any(|dir| {
            file.path
                .strip_prefix(dir)
                .is_some_and(|name| FILES.contains(&name))
        });
        if wanted {
            Interest::Read {
                max_bytes: 512 << 20,
            }
        } else {
            Interest::Skip
        }
    }

    fn analyze(&self, _file: &FileMeta, content: &[u8], out: &mut AnalyzerOutput) {
        let packages = match bulwark_rpmdb::read_packages(content) {
            Ok(p) => p,
            Err(e) => {
                out.problem(format!("cannot read the rpm database: {e}"));
                return;
            }
        };
        let records = packages
            .into_iter()
            .map(|p| {
                let version = match p.epoch {
                    Some(e) if e > 0 => format!("{e}:{}-{}", p.version, p.release),
                    _ => format!("{}-{}", p.version, p.release),
                };
                PackageRecord {
                    ecosystem: Ecosystem::Rpm,
                    source: p.source_rpm.as_deref().and_then(split_source_rpm),
                    licenses: p
                        .license
                        .as_deref()
                        .and_then(license::expression_to_spdx)
                        .into_iter()
                        .collect(),
                    name: p.name,
                    version,
                    arch: p.arch,
                    epoch: p.epoch.filter(|e| *e > 0),
                    files: p.files,
                    namespace: None,
                    dev: false,
                    inferred: false,
                    dependencies: Vec::new(),
                    evidence: Default::default(),
                    qualifiers: Vec::new(),
                    role: Default::default(),
                }
            })
            .collect::<Vec<_>>();
        if !records.is_empty() {
            out.fact(Fact::Packages { records });
        }
    }
}

/// `bash-5.1.8-6.el9.src.rpm` → (`bash`, `5.1.8-6.el9`): name-version-release, split from the
/// right because names contain dashes and versions and releases do not.
fn split_source_rpm(file: &str) -> Option<PackageSource> {
    let stem = file
        .strip_suffix(".src.rpm")
        .or_else(|| file.strip_suffix(".nosrc.rpm"))?;
    let (rest, release) = stem.rsplit_once('-')?;
    let (name, version) = rest.rsplit_once('-')?;
    Some(PackageSource {
        name: name.to_string(),
        version: format!("{version}-{release}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_source_rpm_names() {
        let s = split_source_rpm("python3-libs-3.9.18-1.el9.src.rpm").unwrap();
        assert_eq!(
            (s.name.as_str(), s.version.as_str()),
            ("python3-libs", "3.9.18-1.el9")
        );
        assert!(split_source_rpm("garbage").is_none());
    }
}
