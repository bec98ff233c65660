//! Arch Linux packages from pacman's local database: one directory per installed package,
//! `/var/lib/pacman/local/<name>-<version>-<release>/`, holding `desc` (the package's fields)
//! and `files` (what it installed). Both are `%FIELD%` headers each followed by value lines
//! up to a blank line, as alpm-db-desc(5) and alpm-db-files(5) describe
//! (<https://man.archlinux.org/man/alpm-db-desc.5>).

use bulwark_analyze::{
    Analyzer, AnalyzerOutput, Fact, FileKind, FileMeta, Interest, PackageRecord,
};
use bulwark_types::{Ecosystem, PackageSource};

use crate::license;

pub struct PacmanAnalyzer;

const LOCAL: &str = "var/lib/pacman/local/";

/// `(package directory, file name)` for a file directly inside a package's directory.
fn classify(path: &str) -> Option<(&str, &str)> {
    let rest = path.strip_prefix(LOCAL)?;
    let (dir, file) = rest.split_once('/')?;
    (!file.contains('/') && matches!(file, "desc" | "files")).then_some((dir, file))
}

impl Analyzer for PacmanAnalyzer {
    fn id(&self) -> &'static str {
        "pacman"
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
        let Some((dir, kind)) = classify(file.path) else {
            return;
        };
        let text = String::from_utf8_lossy(content);
        let sections = sections(&text);
        if kind == "files" {
            // The directory is `<name>-<version>-<release>`; names contain dashes, versions
            // and releases do not.
            let Some(name) = dir.rsplitn(3, '-').nth(2) else {
                return;
            };
            let files = sections
                .iter()
                .filter(|(k, _)| *k == "FILES")
                .flat_map(|(_, v)| v.iter())
                .filter(|f| !f.ends_with('/'))
                .map(|f| format!("/{f}"))
                .collect();
            out.fact(Fact::OwnedFiles {
                ecosystem: Ecosystem::Alpm,
                package: name.to_string(),
                files,
            });
            return;
        }
        match desc_record(&sections) {
            Some(record) => out.fact(Fact::Packages {
                records: vec![record],
            }),
            None => out.problem(
                "pacman desc without a valid %NAME% and %VERSION%; the package is not listed",
            ),
        }
    }
}

/// `%KEY%` headers and their value lines.
fn sections(text: &str) -> Vec<(&str, Vec<&str>)> {
    let mut out: Vec<(&str, Vec<&str>)> = Vec::new();
    let mut open = false;
    for line in text.lines() {
        let line = line.trim_end_matches('\r');
        if let Some(key) = line
            .strip_prefix('%')
            .and_then(|l| l.strip_suffix('%'))
            .filter(|k| !k.is_empty() && k.chars().all(|c| c.is_ascii_uppercase() || c == '_'))
        {
            out.push((key, Vec::new()));
            open = true;
        } else if line.is_empty() {
            open = false;
        } else if open {
            if let Some((_, values)) = out.last_mut() {
                values.push(line);
            }
        }
    }
    out
}

fn desc_record(sections: &[(&str, Vec<&str>)]) -> Option<PackageRecord> {
    let one = |key: &str| {
        sections
            .iter()
            .find(|(k, _)| *k == key)
            .and_then(|(_, v)| v.first().copied())
    };
    let name = one("NAME").filter(|n| valid_name(n))?;
    let version = one("VERSION").filter(|v| !v.contains(char::is_whitespace) && v.contains('-'))?;
    let mut record = PackageRecord::new(Ecosystem::Alpm, name, version);
    record.arch = one("ARCH").map(str::to_string);
    record.source = one("BASE").map(|base| PackageSource {
        name: base.to_string(),
        version: version.to_string(),
    });
    record.licenses = sections
        .iter()
        .filter(|(k, _)| *k == "LICENSE")
        .flat_map(|(_, v)| v.iter())
        .filter_map(|l| license::expression_to_spdx(l))
        .collect();
    Some(record)
}

/// Arch package names: lowercase alphanumerics and `@._+-`, not starting with `-` or `.`.
fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with(['-', '.'])
        && name.chars().all(|c| {
            c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '@' | '.' | '_' | '+' | '-')
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
        assert!(matches!(PacmanAnalyzer.wants(&meta), Interest::Read { .. }));
        let mut out = AnalyzerOutput::default();
        PacmanAnalyzer.analyze(&meta, text.as_bytes(), &mut out);
        out
    }

    #[test]
    fn reads_desc_and_files() {
        let desc = "%NAME%\nlibxml2\n\n%VERSION%\n2.12.6-1\n\n%BASE%\nlibxml2\n\n%DESC%\nXML parsing library\n\n%ARCH%\nx86_64\n\n%LICENSE%\nMIT\n\n%DEPENDS%\nzlib\nxz\n";
        let out = run("var/lib/pacman/local/libxml2-2.12.6-1/desc", desc);
        let Fact::Packages { records } = &out.facts[0] else {
            panic!("{out:?}")
        };
        let r = &records[0];
        assert_eq!(
            (r.name.as_str(), r.version.as_str(), r.arch.as_deref()),
            ("libxml2", "2.12.6-1", Some("x86_64"))
        );
        assert_eq!(r.licenses, vec!["MIT"]);
        let files = "%FILES%\nusr/\nusr/lib/\nusr/lib/libxml2.so.2\n\n%BACKUP%\n";
        let out = run("var/lib/pacman/local/lib32-foo-bar-1:2.0-3/files", files);
        let Fact::OwnedFiles { package, files, .. } = &out.facts[0] else {
            panic!()
        };
        assert_eq!(package, "lib32-foo-bar");
        assert_eq!(files, &vec!["/usr/lib/libxml2.so.2".to_string()]);
    }

    #[test]
    fn malformed_desc_is_a_diagnostic_not_a_package() {
        for text in [
            "%NAME%\n\n%VERSION%\n1.0-1\n",
            "garbage\0\u{1}",
            "%NAME%\nBad Name\n\n%VERSION%\n1-1\n",
        ] {
            let out = run("var/lib/pacman/local/x-1-1/desc", text);
            assert!(out.facts.is_empty(), "{text:?}");
            assert_eq!(out.problems.len(), 1);
        }
    }
}
