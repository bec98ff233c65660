//! Homebrew formulae: each installed keg is `<prefix>/Cellar/<formula>/<version>/` with the
//! `INSTALL_RECEIPT.json` brew writes at install time (<https://docs.brew.sh/Formula-Cookbook>,
//! `Tab` in Homebrew/brew's `Library/Homebrew/tab.rb`). The formula and version are the keg's
//! path (`1.2.3_1` carries brew's revision); the receipt must be a JSON object for the keg to
//! count as installed.

use bulwark_analyze::{
    Analyzer, AnalyzerOutput, Fact, FileKind, FileMeta, Interest, PackageRecord,
};
use bulwark_types::Ecosystem;

pub struct HomebrewAnalyzer;

const RECEIPT: &str = "INSTALL_RECEIPT.json";

/// `(formula, version)` from `…/Cellar/<formula>/<version>/INSTALL_RECEIPT.json`.
fn classify(path: &str) -> Option<(&str, &str)> {
    let mut parts = path.rsplit('/');
    let (file, version, formula, cellar) =
        (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
    (file == RECEIPT && cellar == "Cellar").then_some((formula, version))
}

impl Analyzer for HomebrewAnalyzer {
    fn id(&self) -> &'static str {
        "homebrew"
    }

    fn version(&self) -> u32 {
        1
    }

    fn wants(&self, file: &FileMeta) -> Interest {
        if file.kind == FileKind::Regular
            && file.file_name() == RECEIPT
            && classify(file.path).is_some()
        {
            Interest::Read { max_bytes: 4 << 20 }
        } else {
            Interest::Skip
        }
    }

    fn analyze(&self, file: &FileMeta, content: &[u8], out: &mut AnalyzerOutput) {
        let Some((formula, version)) = classify(file.path) else {
            return;
        };
        let receipt: serde_json::Value = match serde_json::from_slice(content) {
            Ok(v @ serde_json::Value::Object(_)) => v,
            Ok(_) => {
                out.problem("INSTALL_RECEIPT.json is not a JSON object; the keg is not listed");
                return;
            }
            Err(e) => {
                out.problem(format!(
                    "INSTALL_RECEIPT.json is not valid JSON ({e}); the keg is not listed"
                ));
                return;
            }
        };
        if !valid(formula) || !valid(version) {
            out.problem(format!(
                "Cellar path {formula}/{version} is not a formula and version; not listed"
            ));
            return;
        }
        let mut record = PackageRecord::new(Ecosystem::Brew, formula, version);
        record.dependencies = receipt
            .get("runtime_dependencies")
            .and_then(|d| d.as_array())
            .into_iter()
            .flatten()
            .filter_map(|d| d.get("full_name")?.as_str().map(str::to_string))
            .collect();
        out.fact(Fact::Packages {
            records: vec![record],
        });
    }
}

fn valid(s: &str) -> bool {
    !s.is_empty()
        && !s.starts_with('.')
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '+' | '@'))
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
            HomebrewAnalyzer.wants(&meta),
            Interest::Read { .. }
        ));
        let mut out = AnalyzerOutput::default();
        HomebrewAnalyzer.analyze(&meta, text.as_bytes(), &mut out);
        out
    }

    #[test]
    fn reads_kegs() {
        let receipt = r#"{"homebrew_version":"4.2.0","used_options":[],"built_as_bottle":true,"poured_from_bottle":true,"installed_as_dependency":false,"installed_on_request":true,"time":1700000000,"runtime_dependencies":[{"full_name":"ca-certificates","version":"2023-12-12"}],"source":{"spec":"stable","versions":{"stable":"3.2.0"}}}"#;
        for (path, name, version) in [
            (
                "opt/homebrew/Cellar/openssl@3/3.2.0_1/INSTALL_RECEIPT.json",
                "openssl@3",
                "3.2.0_1",
            ),
            (
                "home/linuxbrew/.linuxbrew/Cellar/jq/1.7.1/INSTALL_RECEIPT.json",
                "jq",
                "1.7.1",
            ),
        ] {
            let out = run(path, receipt);
            let Fact::Packages { records } = &out.facts[0] else {
                panic!("{out:?}")
            };
            assert_eq!(
                (records[0].name.as_str(), records[0].version.as_str()),
                (name, version)
            );
            assert_eq!(records[0].dependencies, vec!["ca-certificates"]);
        }
    }

    #[test]
    fn malformed_receipt_is_a_diagnostic() {
        let out = run(
            "usr/local/Cellar/jq/1.7.1/INSTALL_RECEIPT.json",
            "{not json",
        );
        assert!(out.facts.is_empty());
        assert_eq!(out.problems.len(), 1);
        let meta = FileMeta {
            path: "usr/local/jq/1.7.1/INSTALL_RECEIPT.json",
            kind: FileKind::Regular,
            size: 2,
            mode: 0o644,
        };
        assert_eq!(HomebrewAnalyzer.wants(&meta), Interest::Skip);
    }
}
