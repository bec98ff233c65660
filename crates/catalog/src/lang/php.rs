//! PHP packages: what a Composer project pins (`composer.lock`: `packages`, and
//! `packages-dev` as development packages) and what Composer installed
//! (`<vendor dir>/composer/installed.json`, both Composer 1's array and Composer 2's
//! `{"packages": [...], "dev-package-names": [...]}`).
//!
//! Names are `vendor/package`; the assembly splits the vendor into the purl namespace
//! (`pkg:composer/monolog/monolog@1.27.1`). Versions are kept as written (`v1.2.0` stays).

use bulwark_analyze::{
    Analyzer, AnalyzerOutput, Fact, FileKind, FileMeta, Interest, PackageRecord,
};
use bulwark_types::Ecosystem;
use serde_json::Value;

use crate::license;

pub struct PhpAnalyzer;

enum PhpFile {
    Lock,
    Installed,
}

fn classify(path: &str, name: &str) -> Option<PhpFile> {
    match name {
        // A package's own lockfile inside the vendor tree is its author's, not this image's.
        "composer.lock"
            if !path
                .split('/')
                .any(|c| c == "vendor" || c == "node_modules") =>
        {
            Some(PhpFile::Lock)
        }
        "installed.json"
            if path == "composer/installed.json" || path.ends_with("/composer/installed.json") =>
        {
            Some(PhpFile::Installed)
        }
        _ => None,
    }
}

impl Analyzer for PhpAnalyzer {
    fn id(&self) -> &'static str {
        "php"
    }

    fn version(&self) -> u32 {
        2
    }

    fn wants(&self, file: &FileMeta) -> Interest {
        if file.kind != FileKind::Regular {
            return Interest::Skip;
        }
        match classify(file.path, file.file_name()) {
            Some(_) => Interest::Read {
                max_bytes: 64 << 20,
            },
            None => Interest::Skip,
        }
    }

    fn analyze(&self, file: &FileMeta, content: &[u8], out: &mut AnalyzerOutput) {
        let Some(kind) = classify(file.path, file.file_name()) else {
            return;
        };
        let doc: Value = match serde_json::from_slice(content) {
            Ok(v) => v,
            Err(e) => {
                out.problem(format!("not valid JSON: {e}"));
                return;
            }
        };
        let records = match kind {
            PhpFile::Lock => super::declared(parse_lock(&doc, out)),
            PhpFile::Installed => parse_installed(&doc, out),
        };
        if !records.is_empty() {
            out.fact(Fact::Packages { records });
        }
    }
}

/// `composer.lock`: `packages` then `packages-dev` (development only).
fn parse_lock(doc: &Value, out: &mut AnalyzerOutput) -> Vec<PackageRecord> {
    let Some(obj) = doc.as_object() else {
        out.problem("composer.lock is not a JSON object");
        return Vec::new();
    };
    if !obj.contains_key("packages") && !obj.contains_key("packages-dev") {
        out.problem("composer.lock has neither `packages` nor `packages-dev`");
        return Vec::new();
    }
    let mut records = Vec::new();
    let mut malformed = 0usize;
    for (key, dev) in [("packages", false), ("packages-dev", true)] {
        match obj.get(key) {
            None | Some(Value::Null) => {}
            Some(Value::Array(list)) => {
                for entry in list {
                    match package(entry) {
                        Some(mut r) => {
                            r.dev = dev;
                            records.push(r);
                        }
                        None => malformed += 1,
                    }
                }
            }
            Some(_) => out.problem(format!("composer.lock `{key}` is not an array")),
        }
    }
    if malformed > 0 {
        out.problem(format!(
            "{malformed} package entries without a name and version"
        ));
    }
    records
}

/// `installed.json`: Composer 1 wrote the package array itself; Composer 2 an object with
/// `packages` and the names of the development packages in `dev-package-names`.
fn parse_installed(doc: &Value, out: &mut AnalyzerOutput) -> Vec<PackageRecord> {
    let (list, dev_names): (&Vec<Value>, Vec<&str>) = match doc {
        Value::Array(list) => (list, Vec::new()),
        Value::Object(obj) => {
            let Some(list) = obj.get("packages").and_then(Value::as_array) else {
                out.problem("installed.json has no `packages` array");
                return Vec::new();
            };
            let dev = obj
                .get("dev-package-names")
                .and_then(Value::as_array)
                .map(|a| a.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            (list, dev)
        }
        _ => {
            out.problem("installed.json is neither a package array nor an object");
            return Vec::new();
        }
    };
    let mut records = Vec::new();
    let mut malformed = 0usize;
    for entry in list {
        match package(entry) {
            Some(mut r) => {
                r.dev = dev_names.iter().any(|d| d.eq_ignore_ascii_case(&r.name));
                records.push(r);
            }
            None => malformed += 1,
        }
    }
    if malformed > 0 {
        out.problem(format!(
            "{malformed} package entries without a name and version"
        ));
    }
    records
}

/// One package object, as both files write it.
fn package(entry: &Value) -> Option<PackageRecord> {
    let name = entry.get("name")?.as_str()?.trim();
    let version = entry.get("version")?.as_str()?.trim();
    let valid = |s: &str| !s.is_empty() && !s.contains(char::is_whitespace);
    if !valid(name) || !valid(version) {
        return None;
    }
    let mut record = PackageRecord::new(Ecosystem::Composer, name, version);
    let declared: Vec<&str> = match entry.get("license") {
        Some(Value::String(s)) => vec![s.as_str()],
        Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    for l in declared {
        if let Some(spdx) = license::expression_to_spdx(l) {
            if !record.licenses.contains(&spdx) {
                record.licenses.push(spdx);
            }
        }
    }
    // Platform requirements (`php`, `ext-json`, `composer-plugin-api`) have no vendor.
    if let Some(Value::Object(require)) = entry.get("require") {
        record.dependencies = require
            .keys()
            .filter(|k| k.contains('/'))
            .cloned()
            .collect();
    }
    Some(record)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(path: &str, content: &str) -> AnalyzerOutput {
        let meta = FileMeta {
            path,
            kind: FileKind::Regular,
            size: content.len() as u64,
            mode: 0o644,
        };
        assert!(matches!(PhpAnalyzer.wants(&meta), Interest::Read { .. }));
        let mut out = AnalyzerOutput::default();
        PhpAnalyzer.analyze(&meta, content.as_bytes(), &mut out);
        out
    }

    fn records(out: &AnalyzerOutput) -> Vec<(String, String, bool)> {
        out.facts
            .iter()
            .flat_map(|f| match f {
                Fact::Packages { records } => records.clone(),
                _ => Vec::new(),
            })
            .map(|r| (r.name, r.version, r.dev))
            .collect()
    }

    #[test]
    fn lock() {
        let out = run(
            "app/composer.lock",
            r#"{"packages":[{"name":"monolog/monolog","version":"1.27.1","license":["MIT"],"require":{"php":">=5.3.0","psr/log":"~1.0"}},{"name":"symfony/yaml","version":"v5.4.3","license":"MIT"}],
               "packages-dev":[{"name":"phpunit/phpunit","version":"9.5.10","license":["BSD-3-Clause"]}]}"#,
        );
        assert!(out.problems.is_empty(), "{:?}", out.problems);
        assert_eq!(
            records(&out),
            vec![
                ("monolog/monolog".into(), "1.27.1".into(), false),
                ("symfony/yaml".into(), "v5.4.3".into(), false),
                ("phpunit/phpunit".into(), "9.5.10".into(), true),
            ]
        );
        let Fact::Packages { records } = &out.facts[0] else {
            panic!()
        };
        assert_eq!(records[0].dependencies, vec!["psr/log"]);
        assert_eq!(records[0].licenses, vec!["MIT"]);
    }

    #[test]
    fn installed_both_forms() {
        let v1 = run(
            "var/www/vendor/composer/installed.json",
            r#"[{"name":"psr/log","version":"1.1.4","version_normalized":"1.1.4.0"}]"#,
        );
        assert_eq!(
            records(&v1),
            vec![("psr/log".into(), "1.1.4".into(), false)]
        );
        let v2 = run(
            "var/www/vendor/composer/installed.json",
            r#"{"packages":[{"name":"psr/log","version":"1.1.4"},{"name":"phpunit/phpunit","version":"9.5.10"}],"dev":true,"dev-package-names":["phpunit/phpunit"]}"#,
        );
        assert_eq!(
            records(&v2),
            vec![
                ("psr/log".into(), "1.1.4".into(), false),
                ("phpunit/phpunit".into(), "9.5.10".into(), true)
            ]
        );
    }

    #[test]
    fn malformed() {
        let out = run("app/composer.lock", "{\"packages\": [");
        assert!(out.facts.is_empty());
        assert_eq!(out.problems.len(), 1);
        let out = run(
            "app/composer.lock",
            r#"{"packages":[{"name":"a/b"},{"name":"c/d","version":"1.0.0"}]}"#,
        );
        assert_eq!(records(&out), vec![("c/d".into(), "1.0.0".into(), false)]);
        assert_eq!(out.problems.len(), 1);
        let out = run("app/vendor/composer/installed.json", "42");
        assert_eq!(out.problems.len(), 1);
    }

    #[test]
    fn paths() {
        assert!(classify("app/vendor/foo/bar/composer.lock", "composer.lock").is_none());
        assert!(classify("app/installed.json", "installed.json").is_none());
        assert!(matches!(
            classify("composer.lock", "composer.lock"),
            Some(PhpFile::Lock)
        ));
    }
}
