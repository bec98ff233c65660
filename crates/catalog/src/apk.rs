use bulwark_analyze::{
    Analyzer, AnalyzerOutput, Fact, FileKind, FileMeta, Interest, PackageRecord,
};
use bulwark_types::{Ecosystem, PackageSource};

use crate::license;

/// Alpine (and Wolfi/Chainguard) packages from apk's installed database.
pub struct ApkAnalyzer;

const INSTALLED: &str = "lib/apk/db/installed";

impl Analyzer for ApkAnalyzer {
    fn id(&self) -> &'static str {
        "apk"
    }

    fn version(&self) -> u32 {
        1
    }

    fn wants(&self, file: &FileMeta) -> Interest {
        if file.kind == FileKind::Regular && file.path == INSTALLED {
            Interest::Read {
                max_bytes: 128 << 20,
            }
        } else {
            Interest::Skip
        }
    }

    fn analyze(&self, _file: &FileMeta, content: &[u8], out: &mut AnalyzerOutput) {
        let text = String::from_utf8_lossy(content);
        let (records, malformed) = parse_installed(&text);
        if malformed > 0 {
            out.problem(format!(
                "{malformed} package record(s) without P: and V: were skipped"
            ));
        }
        if !records.is_empty() {
            out.fact(Fact::Packages { records });
        }
    }
}

/// apk's format: one `X:value` line per field, records separated by blank lines; `F:` sets
/// the directory the following `R:` file names live in.
fn parse_installed(text: &str) -> (Vec<PackageRecord>, usize) {
    let mut records = Vec::new();
    let mut malformed = 0;
    for block in text.split("\n\n") {
        let mut name = None;
        let mut version = None;
        let mut arch = None;
        let mut origin = None;
        let mut license_field = None;
        let mut dir = String::new();
        let mut files = Vec::new();
        let mut any = false;
        for line in block.lines() {
            let Some((key, value)) = line.split_once(':') else {
                continue;
            };
            any = true;
            match key {
                "P" => name = Some(value.to_string()),
                "V" => version = Some(value.to_string()),
                "A" => arch = Some(value.to_string()),
                "o" => origin = Some(value.to_string()),
                "L" => license_field = Some(value.to_string()),
                "F" => dir = value.to_string(),
                "R" => files.push(if dir.is_empty() {
                    format!("/{value}")
                } else {
                    format!("/{dir}/{value}")
                }),
                _ => {}
            }
        }
        if !any {
            continue;
        }
        let (Some(name), Some(version)) = (name, version) else {
            malformed += 1;
            continue;
        };
        records.push(PackageRecord {
            ecosystem: Ecosystem::Apk,
            source: Some(PackageSource {
                name: origin.unwrap_or_else(|| name.clone()),
                version: version.clone(),
            }),
            name,
            version,
            arch,
            epoch: None,
            licenses: license_field
                .and_then(|l| license::expression_to_spdx(&l))
                .into_iter()
                .collect(),
            files,
            namespace: None,
            dev: false,
            inferred: false,
            dependencies: Vec::new(),
            evidence: Default::default(),
            qualifiers: Vec::new(),
            role: Default::default(),
        });
    }
    (records, malformed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_alpine_installed() {
        let text = "C:Q1abc=\nP:musl\nV:1.2.4-r2\nA:x86_64\nL:MIT\no:musl\nF:lib\nR:ld-musl-x86_64.so.1\nR:libc.musl-x86_64.so.1\n\nP:libssl3\nV:3.1.4-r1\nA:x86_64\nL:Apache-2.0\no:openssl\n\nV:9\n";
        let (records, malformed) = parse_installed(text);
        assert_eq!(records.len(), 2);
        assert_eq!(malformed, 1);
        assert_eq!(
            records[0].files,
            vec!["/lib/ld-musl-x86_64.so.1", "/lib/libc.musl-x86_64.so.1"]
        );
        assert_eq!(records[1].source.as_ref().unwrap().name, "openssl");
        assert_eq!(records[1].licenses, vec!["Apache-2.0"]);
    }
}
