//! OpenWrt packages from opkg's status file, `/usr/lib/opkg/status`: dpkg-style stanzas
//! (`Package:`, `Version:`, `Status: install user installed`, `Architecture:`), as opkg's
//! `libopkg/pkg_parse.c` reads them (<https://git.openwrt.org/?p=project/opkg-lede.git>).

use bulwark_analyze::{
    Analyzer, AnalyzerOutput, Fact, FileKind, FileMeta, Interest, PackageRecord,
};
use bulwark_types::Ecosystem;

use crate::{control_stanzas, license};

pub struct OpkgAnalyzer;

const STATUS: &[&str] = &["usr/lib/opkg/status", "var/lib/opkg/status"];

impl Analyzer for OpkgAnalyzer {
    fn id(&self) -> &'static str {
        "opkg"
    }

    fn version(&self) -> u32 {
        1
    }

    fn wants(&self, file: &FileMeta) -> Interest {
        if file.kind == FileKind::Regular && STATUS.contains(&file.path) {
            Interest::Read {
                max_bytes: 64 << 20,
            }
        } else {
            Interest::Skip
        }
    }

    fn analyze(&self, _file: &FileMeta, content: &[u8], out: &mut AnalyzerOutput) {
        let text = String::from_utf8_lossy(content);
        let mut records = Vec::new();
        let mut malformed = 0usize;
        for stanza in control_stanzas(&text) {
            let get = |key: &str| {
                stanza
                    .iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case(key))
                    .map(|(_, v)| v.as_str())
            };
            if let Some(status) = get("Status") {
                // `install user installed`; `not-installed` and `half-installed` are not.
                if status.split_whitespace().nth(2) != Some("installed") {
                    continue;
                }
            }
            let (Some(name), Some(version)) = (get("Package"), get("Version")) else {
                malformed += 1;
                continue;
            };
            if !valid_name(name) || version.is_empty() || version.contains(char::is_whitespace) {
                malformed += 1;
                continue;
            }
            let mut record = PackageRecord::new(Ecosystem::Opkg, name, version);
            record.arch = get("Architecture").map(str::to_string);
            record.licenses = get("License")
                .and_then(license::expression_to_spdx)
                .into_iter()
                .collect();
            records.push(record);
        }
        if malformed > 0 {
            out.problem(format!(
                "{malformed} opkg stanza(s) without a valid Package and Version were skipped"
            ));
        }
        if !records.is_empty() {
            out.fact(Fact::Packages { records });
        }
    }
}

/// OpenWrt package names: alphanumerics and `+-._`, starting alphanumeric.
fn valid_name(name: &str) -> bool {
    name.starts_with(|c: char| c.is_ascii_alphanumeric())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.' | '_'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(text: &str) -> AnalyzerOutput {
        let meta = FileMeta {
            path: "usr/lib/opkg/status",
            kind: FileKind::Regular,
            size: text.len() as u64,
            mode: 0o644,
        };
        let mut out = AnalyzerOutput::default();
        OpkgAnalyzer.analyze(&meta, text.as_bytes(), &mut out);
        out
    }

    #[test]
    fn reads_installed_packages() {
        let text = "Package: libc\nVersion: 1.2.4-4\nDepends: libgcc1\nStatus: install user installed\nArchitecture: x86_64\nInstalled-Time: 1700000000\n\nPackage: dropbear\nVersion: 2022.82-6\nStatus: install user installed\nArchitecture: x86_64\nConffiles:\n /etc/config/dropbear 0123\n\nPackage: gone\nVersion: 1.0-1\nStatus: deinstall hold not-installed\n";
        let out = run(text);
        let Fact::Packages { records } = &out.facts[0] else {
            panic!("{out:?}")
        };
        let got: Vec<_> = records
            .iter()
            .map(|r| (r.name.as_str(), r.version.as_str(), r.arch.as_deref()))
            .collect();
        assert_eq!(
            got,
            vec![
                ("libc", "1.2.4-4", Some("x86_64")),
                ("dropbear", "2022.82-6", Some("x86_64"))
            ]
        );
        assert!(out.problems.is_empty());
    }

    #[test]
    fn malformed_stanzas_are_diagnostics() {
        let out = run("Package: no version\nStatus: install user installed\n\nVersion: 1\n");
        assert!(out.facts.is_empty());
        assert_eq!(out.problems.len(), 1);
    }
}
