//! sbt's dependency lock, `build.sbt.lock` (the sbt-dependency-lock plugin,
//! <https://stringbean.github.io/sbt-dependency-lock/file-formats/version-1.html>): JSON with
//! `dependencies: [{org, name, version, configurations}]`, each a Maven artifact. A dependency
//! only in test configurations is a dev dependency. What a lockfile names is declared.

use bulwark_analyze::{
    Analyzer, AnalyzerOutput, Fact, FileKind, FileMeta, Interest, PackageRecord,
};
use bulwark_types::Ecosystem;
use serde::Deserialize;

use super::declared;
use super::java::is_test_configuration;

pub struct SbtAnalyzer;

#[derive(Deserialize)]
struct Lock {
    dependencies: Vec<serde_json::Value>,
}

impl Analyzer for SbtAnalyzer {
    fn id(&self) -> &'static str {
        "sbt"
    }

    fn version(&self) -> u32 {
        1
    }

    fn wants(&self, file: &FileMeta) -> Interest {
        if file.kind == FileKind::Regular && file.file_name() == "build.sbt.lock" {
            Interest::Read {
                max_bytes: 16 << 20,
            }
        } else {
            Interest::Skip
        }
    }

    fn analyze(&self, _file: &FileMeta, content: &[u8], out: &mut AnalyzerOutput) {
        let lock: Lock = match serde_json::from_slice(content) {
            Ok(l) => l,
            Err(e) => {
                out.problem(format!(
                    "build.sbt.lock is not the sbt-dependency-lock JSON format ({e}); nothing listed"
                ));
                return;
            }
        };
        let mut records = Vec::new();
        let mut invalid = 0usize;
        for dep in &lock.dependencies {
            let text = |k: &str| dep.get(k).and_then(|v| v.as_str()).map(str::trim);
            let ok = |s: &&str| {
                !s.is_empty()
                    && s.chars()
                        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | '+'))
            };
            let (Some(org), Some(name), Some(version)) = (
                text("org").filter(ok),
                text("name").filter(ok),
                text("version").filter(ok),
            ) else {
                invalid += 1;
                continue;
            };
            let configurations: Vec<&str> = dep
                .get("configurations")
                .and_then(|c| c.as_array())
                .into_iter()
                .flatten()
                .filter_map(|c| c.as_str())
                .collect();
            let mut record = PackageRecord::new(Ecosystem::Maven, name, version);
            record.namespace = Some(org.to_string());
            record.dev = !configurations.is_empty()
                && configurations.iter().all(|c| is_test_configuration(c));
            records.push(record);
        }
        if invalid > 0 {
            out.problem(format!(
                "{invalid} dependenc(y/ies) without a valid org, name and version were skipped"
            ));
        }
        if !records.is_empty() {
            out.fact(Fact::Packages {
                records: declared(records),
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(text: &str) -> AnalyzerOutput {
        let meta = FileMeta {
            path: "src/app/build.sbt.lock",
            kind: FileKind::Regular,
            size: text.len() as u64,
            mode: 0o644,
        };
        let mut out = AnalyzerOutput::default();
        SbtAnalyzer.analyze(&meta, text.as_bytes(), &mut out);
        out
    }

    #[test]
    fn reads_lock_dependencies() {
        let text = r#"{"lockVersion":1,"timestamp":"2024-01-01T00:00:00Z","configurations":["compile","runtime","test"],
          "dependencies":[
            {"org":"org.scala-lang","name":"scala-library","version":"2.13.12","artifacts":[{"name":"scala-library.jar","hash":"sha1:0123"}],"configurations":["compile","runtime","test"]},
            {"org":"org.scalatest","name":"scalatest_2.13","version":"3.2.17","artifacts":[],"configurations":["test"]}
          ]}"#;
        let out = run(text);
        let Fact::Packages { records } = &out.facts[0] else {
            panic!("{out:?}")
        };
        let got: Vec<_> = records
            .iter()
            .map(|r| {
                (
                    r.namespace.as_deref().unwrap(),
                    r.name.as_str(),
                    r.version.as_str(),
                    r.dev,
                )
            })
            .collect();
        assert_eq!(
            got,
            vec![
                ("org.scala-lang", "scala-library", "2.13.12", false),
                ("org.scalatest", "scalatest_2.13", "3.2.17", true)
            ]
        );
    }

    #[test]
    fn malformed_lock_is_a_diagnostic() {
        let out = run("{\"dependencies\": 3}");
        assert!(out.facts.is_empty());
        assert_eq!(out.problems.len(), 1);
        let out =
            run("{\"dependencies\": [{\"org\": \"a\", \"name\": \"b c\", \"version\": \"1\"}]}");
        assert!(out.facts.is_empty());
        assert_eq!(out.problems.len(), 1);
    }
}
