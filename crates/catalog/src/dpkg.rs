use bulwark_analyze::{
    Analyzer, AnalyzerOutput, Fact, FileKind, FileMeta, Interest, PackageRecord,
};
use bulwark_types::{Ecosystem, PackageSource};

use crate::{control_stanzas, license};

/// Debian packages: the dpkg database (`status`, or distroless `status.d/`), the file lists
/// it keeps per package, and the `copyright` files packages ship.
pub struct DpkgAnalyzer;

const STATUS: &str = "var/lib/dpkg/status";
const STATUS_D: &str = "var/lib/dpkg/status.d/";
const INFO: &str = "var/lib/dpkg/info/";
const DOC: &str = "usr/share/doc/";

enum DpkgFile<'a> {
    Status,
    FileList { package: &'a str },
    Copyright { package: &'a str },
}

fn classify(path: &str) -> Option<DpkgFile<'_>> {
    if path == STATUS {
        return Some(DpkgFile::Status);
    }
    if let Some(name) = path.strip_prefix(STATUS_D) {
        if name.contains('/') {
            return None;
        }
        return match name.strip_suffix(".md5sums") {
            Some(package) => Some(DpkgFile::FileList { package }),
            None => Some(DpkgFile::Status),
        };
    }
    if let Some(name) = path.strip_prefix(INFO) {
        let package = name
            .strip_suffix(".list")
            .or_else(|| name.strip_suffix(".md5sums"));
        if let Some(package) = package.filter(|p| !p.contains('/')) {
            // `libc6:amd64.list` belongs to `libc6`.
            return Some(DpkgFile::FileList {
                package: package.split(':').next().unwrap_or(package),
            });
        }
        return None;
    }
    let rest = path.strip_prefix(DOC)?;
    let (package, file) = rest.split_once('/')?;
    (file == "copyright").then_some(DpkgFile::Copyright { package })
}

impl Analyzer for DpkgAnalyzer {
    fn id(&self) -> &'static str {
        "dpkg"
    }

    fn version(&self) -> u32 {
        1
    }

    fn wants(&self, file: &FileMeta) -> Interest {
        if file.kind != FileKind::Regular {
            return Interest::Skip;
        }
        match classify(file.path) {
            Some(DpkgFile::Status) => Interest::Read {
                max_bytes: 128 << 20,
            },
            // Prefer `.list` (every path) to `.md5sums` (regular files only) when both exist.
            Some(DpkgFile::FileList { .. })
                if file.path.starts_with(INFO) && file.path.ends_with(".md5sums") =>
            {
                Interest::Skip
            }
            Some(DpkgFile::FileList { .. }) => Interest::Read {
                max_bytes: 32 << 20,
            },
            Some(DpkgFile::Copyright { .. }) => Interest::Read { max_bytes: 1 << 20 },
            None => Interest::Skip,
        }
    }

    fn analyze(&self, file: &FileMeta, content: &[u8], out: &mut AnalyzerOutput) {
        let text = String::from_utf8_lossy(content);
        match classify(file.path) {
            Some(DpkgFile::Status) => parse_status(&text, out),
            Some(DpkgFile::FileList { package }) => {
                let md5 = file.path.ends_with(".md5sums");
                let files = text
                    .lines()
                    .filter_map(|line| {
                        // md5sums lines are `<hash>  <path without leading slash>`.
                        let path = if md5 { line.split_once("  ")?.1 } else { line };
                        let path = path.trim();
                        match path {
                            "" | "/." => None,
                            p if p.starts_with('/') => Some(p.to_string()),
                            p => Some(format!("/{p}")),
                        }
                    })
                    .collect();
                out.fact(Fact::OwnedFiles {
                    ecosystem: Ecosystem::Deb,
                    package: package.to_string(),
                    files,
                });
            }
            Some(DpkgFile::Copyright { package }) => {
                let licenses = license::from_debian_copyright(&text);
                if !licenses.is_empty() {
                    out.fact(Fact::Licenses {
                        ecosystem: Ecosystem::Deb,
                        package: package.to_string(),
                        licenses,
                    });
                }
            }
            None => {}
        }
    }
}

/// Parses a status file: installed packages only (`Status: … installed`), as `dpkg -l`'s `ii`
/// lines; packages removed but with configuration left (`deinstall ok config-files`) are not
/// installed software. Distroless `status.d/` files have no Status field and are all installed.
fn parse_status(text: &str, out: &mut AnalyzerOutput) {
    let mut records = Vec::new();
    let mut malformed = 0usize;
    for stanza in control_stanzas(text) {
        let get = |key: &str| {
            stanza
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(key))
                .map(|(_, v)| v.as_str())
        };
        let (Some(name), Some(version)) = (get("Package"), get("Version")) else {
            malformed += 1;
            continue;
        };
        if let Some(status) = get("Status") {
            if status.split_whitespace().nth(2) != Some("installed") {
                continue;
            }
        }
        if !valid_name(name) || version.is_empty() || version.contains(char::is_whitespace) {
            malformed += 1;
            continue;
        }
        // `Source: openssl (3.0.11-1~deb12u2)` names a source version different from the binary's.
        let source = get("Source").map(|s| {
            let mut parts = s.split_whitespace();
            let src_name = parts.next().unwrap_or(name).to_string();
            let src_version = parts
                .next()
                .map(|v| v.trim_matches(|c| c == '(' || c == ')').to_string())
                .unwrap_or_else(|| version.to_string());
            PackageSource {
                name: src_name,
                version: src_version,
            }
        });
        records.push(PackageRecord {
            ecosystem: Ecosystem::Deb,
            name: name.to_string(),
            version: version.to_string(),
            arch: get("Architecture").map(str::to_string),
            source: source.or_else(|| {
                Some(PackageSource {
                    name: name.to_string(),
                    version: version.to_string(),
                })
            }),
            epoch: None,
            licenses: Vec::new(),
            files: Vec::new(),
            namespace: None,
            dev: false,
            inferred: false,
            dependencies: Vec::new(),
            evidence: Default::default(),
            qualifiers: Vec::new(),
            role: Default::default(),
        });
    }
    if malformed > 0 {
        out.problem(format!(
            "{malformed} stanza(s) without a valid Package and Version were skipped"
        ));
    }
    if !records.is_empty() {
        out.fact(Fact::Packages { records });
    }
}

/// Debian policy: lowercase letters, digits, `+ - .`, at least two characters, starting alnum.
fn valid_name(name: &str) -> bool {
    name.len() >= 2
        && name.starts_with(|c: char| c.is_ascii_alphanumeric())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '+' | '-' | '.'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_installed_and_skips_config_files_and_garbage() {
        let text = "Package: openssl\nStatus: install ok installed\nArchitecture: amd64\nSource: openssl (3.0.11-1~deb12u2)\nVersion: 3.0.11-1~deb12u2\nDescription: x\n more\n\nPackage: old\nStatus: deinstall ok config-files\nVersion: 1.0\n\nPackage: zlib1g\nStatus: install ok installed\nSource: zlib\nVersion: 1:1.2.13.dfsg-1\n\n\u{0}\u{1}garbage without colon\nVersion: 1\n";
        let mut out = AnalyzerOutput::default();
        parse_status(text, &mut out);
        let Fact::Packages { records } = &out.facts[0] else {
            panic!()
        };
        assert_eq!(records.len(), 2);
        assert_eq!(
            records[0].source.as_ref().unwrap().version,
            "3.0.11-1~deb12u2"
        );
        assert_eq!(records[1].version, "1:1.2.13.dfsg-1");
        assert_eq!(records[1].source.as_ref().unwrap().name, "zlib");
        assert_eq!(out.problems.len(), 1, "the garbage stanza is reported");
    }

    #[test]
    fn classifies_paths() {
        assert!(matches!(
            classify("var/lib/dpkg/info/libc6:amd64.list"),
            Some(DpkgFile::FileList { package: "libc6" })
        ));
        assert!(matches!(
            classify("usr/share/doc/bash/copyright"),
            Some(DpkgFile::Copyright { package: "bash" })
        ));
        assert!(matches!(
            classify("var/lib/dpkg/status.d/base"),
            Some(DpkgFile::Status)
        ));
        assert!(classify("var/lib/dpkg/status-old").is_none());
    }
}
