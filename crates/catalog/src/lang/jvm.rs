//! A Java runtime itself: the `release` file at the root of every JDK and JRE since Java 9
//! (and most 8 builds), `KEY="value"` lines with `JAVA_VERSION` and `IMPLEMENTOR`
//! (<https://openjdk.org/jeps/220>, "release file"). A file called `release` is no proof, so
//! the record is kept only if the same directory has `bin/java` or `lib/modules` (checked by
//! the assembly, which sees the whole file index: [`has_runtime_beside`]).
//!
//! No package ecosystem or OSV ecosystem covers Java runtimes; it is reported as
//! `pkg:generic/<vendor>/<product>@<JAVA_VERSION>`, the vendor and product from
//! `IMPLEMENTOR` (`Eclipse Adoptium` → `eclipse/temurin`, `Oracle Corporation` →
//! `oracle/openjdk`, `Azul Systems, Inc.` → `azul/zulu`...). A JDK a distribution package
//! installed is that package's file, and the OS package stays the one reported.

use std::collections::BTreeMap;

use bulwark_analyze::{
    Analyzer, AnalyzerOutput, Fact, FileKind, FileMeta, Interest, PackageRecord, VisibleFile,
};
use bulwark_types::Ecosystem;

pub struct JvmReleaseAnalyzer;

impl Analyzer for JvmReleaseAnalyzer {
    fn id(&self) -> &'static str {
        "jvm-release"
    }

    fn version(&self) -> u32 {
        1
    }

    fn wants(&self, file: &FileMeta) -> Interest {
        if file.kind == FileKind::Regular
            && file.file_name() == "release"
            && file.path.contains('/')
        {
            Interest::Read {
                max_bytes: 64 << 10,
            }
        } else {
            Interest::Skip
        }
    }

    fn analyze(&self, _file: &FileMeta, content: &[u8], out: &mut AnalyzerOutput) {
        let text = String::from_utf8_lossy(content);
        let fields = parse(&text);
        // Other software ships files called `release` too: only a Java one is read.
        let Some(version) = fields.get("JAVA_VERSION") else {
            return;
        };
        if !valid_version(version) {
            out.problem(format!(
                "Java release file with an invalid JAVA_VERSION {:?}; not listed",
                version.chars().take(40).collect::<String>()
            ));
            return;
        }
        let (vendor, product) = vendor_product(
            fields.get("IMPLEMENTOR").map(String::as_str),
            fields.contains_key("GRAALVM_VERSION"),
        );
        let mut record = PackageRecord::new(Ecosystem::Generic, product, version.as_str());
        record.namespace = Some(vendor.to_string());
        record.arch = fields.get("OS_ARCH").cloned();
        out.fact(Fact::Packages {
            records: vec![record],
        });
    }
}

fn parse(text: &str) -> BTreeMap<&str, String> {
    text.lines()
        .filter_map(|line| {
            let (k, v) = line.split_once('=')?;
            let k = k.trim();
            let v = v.trim().trim_matches('"').to_string();
            (!k.is_empty() && k.chars().all(|c| c.is_ascii_uppercase() || c == '_'))
                .then_some((k, v))
        })
        .collect()
}

fn valid_version(v: &str) -> bool {
    v.starts_with(|c: char| c.is_ascii_digit())
        && v.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '+'))
}

fn vendor_product(implementor: Option<&str>, graalvm: bool) -> (&'static str, &'static str) {
    let i = implementor.unwrap_or("").to_ascii_lowercase();
    if graalvm {
        ("oracle", "graalvm")
    } else if i.contains("adoptium") || i.contains("temurin") {
        ("eclipse", "temurin")
    } else if i.contains("adoptopenjdk") {
        ("adoptopenjdk", "openjdk")
    } else if i.contains("azul") {
        ("azul", "zulu")
    } else if i.contains("amazon") {
        ("amazon", "corretto")
    } else if i.contains("bellsoft") {
        ("bellsoft", "liberica")
    } else if i.contains("microsoft") {
        ("microsoft", "openjdk")
    } else if i.contains("red hat") {
        ("redhat", "openjdk")
    } else if i.contains("sap") {
        ("sap", "sapmachine")
    } else if i.contains("ibm") || i.contains("eclipse openj9") {
        ("ibm", "semeru")
    } else {
        // Oracle's builds, distribution builds and unknown builders: OpenJDK as Oracle
        // publishes it, the name advisories (Oracle's CPU) use.
        ("oracle", "openjdk")
    }
}

/// Whether `release_path` (image-relative, `…/release`) sits at the root of a Java runtime:
/// `bin/java` or `lib/modules` beside it in the final filesystem.
pub(crate) fn has_runtime_beside(
    files: &BTreeMap<String, VisibleFile>,
    release_path: &str,
) -> bool {
    let path = release_path.trim_start_matches('/');
    let Some(root) = path.strip_suffix("release") else {
        return false;
    };
    ["bin/java", "lib/modules", "jre/bin/java"]
        .iter()
        .any(|f| files.contains_key(&format!("{root}{f}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(text: &str) -> AnalyzerOutput {
        let meta = FileMeta {
            path: "opt/java/openjdk/release",
            kind: FileKind::Regular,
            size: text.len() as u64,
            mode: 0o644,
        };
        assert!(matches!(
            JvmReleaseAnalyzer.wants(&meta),
            Interest::Read { .. }
        ));
        let mut out = AnalyzerOutput::default();
        JvmReleaseAnalyzer.analyze(&meta, text.as_bytes(), &mut out);
        out
    }

    #[test]
    fn reads_release_files() {
        for (text, vendor, product, version) in [
            ("IMPLEMENTOR=\"Eclipse Adoptium\"\nIMPLEMENTOR_VERSION=\"Temurin-17.0.9+9\"\nJAVA_RUNTIME_VERSION=\"17.0.9+9\"\nJAVA_VERSION=\"17.0.9\"\nJAVA_VERSION_DATE=\"2023-10-17\"\nMODULES=\"java.base java.logging\"\nOS_ARCH=\"x86_64\"\nOS_NAME=\"Linux\"\n", "eclipse", "temurin", "17.0.9"),
            ("IMPLEMENTOR=\"Oracle Corporation\"\nJAVA_VERSION=\"21.0.2\"\n", "oracle", "openjdk", "21.0.2"),
            ("JAVA_VERSION=\"1.8.0_392\"\nOS_NAME=\"Linux\"\n", "oracle", "openjdk", "1.8.0_392"),
            ("IMPLEMENTOR=\"Azul Systems, Inc.\"\nJAVA_VERSION=\"11.0.21\"\n", "azul", "zulu", "11.0.21"),
        ] {
            let out = run(text);
            let Fact::Packages { records } = &out.facts[0] else {
                panic!("{out:?}")
            };
            let r = &records[0];
            assert_eq!(
                (r.namespace.as_deref(), r.name.as_str(), r.version.as_str()),
                (Some(vendor), product, version)
            );
        }
    }

    #[test]
    fn other_release_files_are_ignored_and_bad_versions_reported() {
        let out = run("VERSION=1.2\nNAME=something\n");
        assert!(out.facts.is_empty() && out.problems.is_empty());
        let out = run("JAVA_VERSION=\"$(version)\"\n");
        assert!(out.facts.is_empty());
        assert_eq!(out.problems.len(), 1);
    }
}
