//! Gentoo packages from portage's installed-package database, one directory per package:
//! `/var/db/pkg/<category>/<name>-<version>/`, holding one file per variable (`PF`, the
//! name and version; `CONTENTS`, what it installed; `LICENSE`), as the Package Manager
//! Specification and portage's `vartree` write it (<https://wiki.gentoo.org/wiki/Project:Portage>,
//! <https://projects.gentoo.org/pms/8/pms.html#x1-280003.2> for the version syntax).

use bulwark_analyze::{
    Analyzer, AnalyzerOutput, Fact, FileKind, FileMeta, Interest, PackageRecord,
};
use bulwark_types::Ecosystem;

use crate::license;

pub struct PortageAnalyzer;

const VDB: &str = "var/db/pkg/";

/// `(category, package directory, file)` for the files read.
fn classify(path: &str) -> Option<(&str, &str, &str)> {
    let mut parts = path.strip_prefix(VDB)?.split('/');
    let (category, dir, file) = (parts.next()?, parts.next()?, parts.next()?);
    (parts.next().is_none() && matches!(file, "PF" | "CONTENTS" | "LICENSE"))
        .then_some((category, dir, file))
}

impl Analyzer for PortageAnalyzer {
    fn id(&self) -> &'static str {
        "portage"
    }

    fn version(&self) -> u32 {
        1
    }

    fn wants(&self, file: &FileMeta) -> Interest {
        match classify(file.path) {
            Some(_) if file.kind == FileKind::Regular => Interest::Read {
                max_bytes: 16 << 20,
            },
            _ => Interest::Skip,
        }
    }

    fn analyze(&self, file: &FileMeta, content: &[u8], out: &mut AnalyzerOutput) {
        let Some((category, dir, kind)) = classify(file.path) else {
            return;
        };
        let text = String::from_utf8_lossy(content);
        // Owned files and licences are keyed by name; the directory names the package too.
        let dir_name = split_pf(dir).map(|(n, _)| n);
        match kind {
            "PF" => match split_pf(text.trim()).filter(|_| valid_category(category)) {
                Some((name, version)) => {
                    let mut record = PackageRecord::new(Ecosystem::Ebuild, name, version);
                    record.namespace = Some(category.to_string());
                    out.fact(Fact::Packages {
                        records: vec![record],
                    });
                }
                None => out.problem(format!(
                    "portage PF {:?} is not <name>-<version>; the package is not listed",
                    text.trim().chars().take(80).collect::<String>()
                )),
            },
            "CONTENTS" => {
                let Some(name) = dir_name else { return };
                // `obj /usr/bin/x <md5> <mtime>`, `sym /a -> b <mtime>`, `dir /usr`.
                let files = text
                    .lines()
                    .filter_map(|line| {
                        let (kind, rest) = line.split_once(' ')?;
                        match kind {
                            "obj" => Some(rest.rsplitn(3, ' ').nth(2)?.to_string()),
                            "sym" => Some(rest.split_once(" -> ")?.0.to_string()),
                            _ => None,
                        }
                    })
                    .collect();
                out.fact(Fact::OwnedFiles {
                    ecosystem: Ecosystem::Ebuild,
                    package: name.to_string(),
                    files,
                });
            }
            _ => {
                let Some(name) = dir_name else { return };
                if let Some(spdx) = license::expression_to_spdx(text.trim()) {
                    out.fact(Fact::Licenses {
                        ecosystem: Ecosystem::Ebuild,
                        package: name.to_string(),
                        licenses: vec![spdx],
                    });
                }
            }
        }
    }
}

fn valid_category(c: &str) -> bool {
    !c.is_empty()
        && c.chars()
            .all(|ch| ch.is_ascii_alphanumeric() || matches!(ch, '+' | '_' | '.' | '-'))
}

/// Longest `PF` (`<name>-<version>`) considered: real ones are a few dozen bytes, and the
/// split below tries every `-`, each with a scan of the rest (quadratic in the length).
const MAX_PF_BYTES: usize = 512;

/// `openssl-3.0.13-r1` → (`openssl`, `3.0.13-r1`): the name ends at the first `-` whose rest
/// is a PMS version (names may contain `-` and digits, never a version after a `-`).
pub(crate) fn split_pf(pf: &str) -> Option<(&str, &str)> {
    if pf.len() > MAX_PF_BYTES {
        return None;
    }
    pf.match_indices('-').find_map(|(i, _)| {
        let (name, version) = (&pf[..i], &pf[i + 1..]);
        (!name.is_empty()
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '_' | '-'))
            && is_pms_version(version))
        .then_some((name, version))
    })
}

/// PMS 3.2: `1.2.3[a-z]?(_(alpha|beta|pre|rc|p)N?)*(-rN)?`.
fn is_pms_version(v: &str) -> bool {
    let v = match v.rsplit_once("-r") {
        Some((v, r)) if !r.is_empty() && r.bytes().all(|b| b.is_ascii_digit()) => v,
        _ => v,
    };
    let mut parts = v.split('_');
    let Some(numbers) = parts.next() else {
        return false;
    };
    let numbers = numbers
        .strip_suffix(|c: char| c.is_ascii_lowercase())
        .unwrap_or(numbers);
    if numbers.is_empty()
        || !numbers
            .split('.')
            .all(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
    {
        return false;
    }
    parts.all(|suffix| {
        ["alpha", "beta", "pre", "rc", "p"].iter().any(|s| {
            suffix
                .strip_prefix(s)
                .is_some_and(|n| n.bytes().all(|b| b.is_ascii_digit()))
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(path: &str, text: &str) -> AnalyzerOutput {
        let meta = FileMeta {
            path,
            kind: FileKind::Regular,
            size: text.len() as u64,
            mode: 0o644,
        };
        assert!(matches!(
            PortageAnalyzer.wants(&meta),
            Interest::Read { .. }
        ));
        let mut out = AnalyzerOutput::default();
        PortageAnalyzer.analyze(&meta, text.as_bytes(), &mut out);
        out
    }

    #[test]
    fn splits_names_and_versions() {
        for (pf, name, version) in [
            ("openssl-3.0.13-r1", "openssl", "3.0.13-r1"),
            ("gtk+-3.24.41", "gtk+", "3.24.41"),
            ("python-3.12.3_p1", "python", "3.12.3_p1"),
            ("font-adobe-100dpi-1.0.4", "font-adobe-100dpi", "1.0.4"),
            ("libfoo-2-1.0b_rc2-r10", "libfoo-2", "1.0b_rc2-r10"),
        ] {
            assert_eq!(split_pf(pf), Some((name, version)), "{pf}");
        }
        assert_eq!(split_pf("noversion"), None);
        assert_eq!(split_pf("x-1.0_bogus"), None);
    }

    #[test]
    fn reads_pf_contents_and_license() {
        let out = run(
            "var/db/pkg/dev-libs/openssl-3.0.13-r1/PF",
            "openssl-3.0.13-r1\n",
        );
        let Fact::Packages { records } = &out.facts[0] else {
            panic!("{out:?}")
        };
        assert_eq!(
            (
                records[0].namespace.as_deref(),
                records[0].name.as_str(),
                records[0].version.as_str()
            ),
            (Some("dev-libs"), "openssl", "3.0.13-r1")
        );
        let contents = "dir /usr\nobj /usr/bin/openssl 0123456789abcdef0123456789abcdef 1700000000\nsym /usr/lib64/libssl.so -> libssl.so.3 1700000000\nobj /usr/share/doc/a b.txt 0123456789abcdef0123456789abcdef 1700000000\n";
        let out = run("var/db/pkg/dev-libs/openssl-3.0.13-r1/CONTENTS", contents);
        let Fact::OwnedFiles { package, files, .. } = &out.facts[0] else {
            panic!()
        };
        assert_eq!(package, "openssl");
        assert_eq!(
            files,
            &vec![
                "/usr/bin/openssl".to_string(),
                "/usr/lib64/libssl.so".to_string(),
                "/usr/share/doc/a b.txt".to_string()
            ]
        );
        let out = run(
            "var/db/pkg/dev-libs/openssl-3.0.13-r1/LICENSE",
            "Apache-2.0\n",
        );
        assert!(
            matches!(&out.facts[0], Fact::Licenses { licenses, .. } if licenses == &vec!["Apache-2.0".to_string()])
        );
    }

    #[test]
    fn a_huge_pf_is_refused_in_linear_time() {
        // The fuzz campaign's input: 256 KiB of `openssl-21474836enssl-…` took 32 s.
        let pf = "openssl-21474836en".repeat(15_000);
        let started = std::time::Instant::now();
        assert_eq!(split_pf(&pf), None);
        let out = run("var/db/pkg/dev-libs/openssl-3.0.13/PF", &pf);
        assert!(started.elapsed() < std::time::Duration::from_secs(1));
        assert!(!out.problems.is_empty());
    }

    #[test]
    fn malformed_pf_is_a_diagnostic() {
        let out = run("var/db/pkg/dev-libs/x-1/PF", "\0garbage\n");
        assert!(out.facts.is_empty());
        assert_eq!(out.problems.len(), 1);
    }
}
