//! Bottlerocket's application inventory, `/usr/share/bottlerocket/application-inventory.json`:
//! `{"Content": [{"Name", "Version", "Release", "Epoch", "Architecture", "License", ...}]}`, the
//! list of packages the image was built from (Bottlerocket's `buildsys`, documented for the
//! SSM inventory in <https://github.com/bottlerocket-os/bottlerocket/blob/develop/sources/api/apiserver/README.md>).
//! The version is `Version` alone, as the distribution names its releases.

use bulwark_analyze::{
    Analyzer, AnalyzerOutput, Fact, FileKind, FileMeta, Interest, PackageRecord,
};
use bulwark_types::Ecosystem;
use serde::Deserialize;

use crate::license;

pub struct BottlerocketAnalyzer;

const INVENTORY: &str = "usr/share/bottlerocket/application-inventory.json";

#[derive(Deserialize)]
struct Inventory {
    #[serde(rename = "Content")]
    content: Vec<serde_json::Value>,
}

impl Analyzer for BottlerocketAnalyzer {
    fn id(&self) -> &'static str {
        "bottlerocket"
    }

    fn version(&self) -> u32 {
        1
    }

    fn wants(&self, file: &FileMeta) -> Interest {
        if file.kind == FileKind::Regular && file.path == INVENTORY {
            Interest::Read {
                max_bytes: 16 << 20,
            }
        } else {
            Interest::Skip
        }
    }

    fn analyze(&self, _file: &FileMeta, content: &[u8], out: &mut AnalyzerOutput) {
        let inventory: Inventory = match serde_json::from_slice(content) {
            Ok(i) => i,
            Err(e) => {
                out.problem(format!(
                    "the application inventory is not {{\"Content\": [...]}} JSON ({e}); nothing listed"
                ));
                return;
            }
        };
        let mut records = Vec::new();
        let mut malformed = 0usize;
        for entry in inventory.content {
            let text = |key: &str| {
                entry
                    .get(key)
                    .and_then(|v| v.as_str())
                    .map(str::trim)
                    .filter(|v| !v.is_empty())
            };
            let name = text("Name").filter(|n| {
                n.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '+'))
            });
            let version = text("Version").filter(|v| !v.contains(char::is_whitespace));
            let (Some(name), Some(version)) = (name, version) else {
                malformed += 1;
                continue;
            };
            let mut record = PackageRecord::new(Ecosystem::Bottlerocket, name, version);
            record.arch = text("Architecture").map(str::to_string);
            record.licenses = text("License")
                .and_then(license::expression_to_spdx)
                .into_iter()
                .collect();
            records.push(record);
        }
        if malformed > 0 {
            out.problem(format!(
                "{malformed} inventory entr(y/ies) without a valid Name and Version were skipped"
            ));
        }
        if !records.is_empty() {
            out.fact(Fact::Packages { records });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(text: &str) -> AnalyzerOutput {
        let meta = FileMeta {
            path: INVENTORY,
            kind: FileKind::Regular,
            size: text.len() as u64,
            mode: 0o644,
        };
        assert!(matches!(
            BottlerocketAnalyzer.wants(&meta),
            Interest::Read { .. }
        ));
        let mut out = AnalyzerOutput::default();
        BottlerocketAnalyzer.analyze(&meta, text.as_bytes(), &mut out);
        out
    }

    #[test]
    fn reads_inventory() {
        let text = r#"{"Content":[
            {"Name":"glibc","Publisher":"Bottlerocket","Version":"2.38","Release":"1.1700000000.0123abcd.br1","InstallTime":"2024-01-01T00:00:00Z","ApplicationType":"source","Architecture":"x86_64","Url":"http://www.gnu.org/software/glibc/","Summary":"The GNU libc libraries","License":"LGPL-2.1-or-later"},
            {"Name":"kernel-6.1","Publisher":"Bottlerocket","Version":"6.1.72","Release":"1.br1","Architecture":"x86_64","License":"GPL-2.0-only"},
            {"Name":"","Version":"1"}
        ]}"#;
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
                ("glibc", "2.38", Some("x86_64")),
                ("kernel-6.1", "6.1.72", Some("x86_64"))
            ]
        );
        assert_eq!(out.problems.len(), 1, "the nameless entry is reported");
    }

    #[test]
    fn malformed_inventory_is_a_diagnostic() {
        let out = run("{\"Content\": 3}");
        assert!(out.facts.is_empty());
        assert_eq!(out.problems.len(), 1);
    }
}
