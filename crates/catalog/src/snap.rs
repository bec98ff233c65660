//! Snap packages: each installed revision is mounted at `/snap/<name>/<revision>/` and carries
//! its `meta/snap.yaml` (`name`, `version`, `architectures`), as snapcraft documents it
//! (<https://snapcraft.io/docs/the-snap-format>).

use bulwark_analyze::{
    Analyzer, AnalyzerOutput, Fact, FileKind, FileMeta, Interest, PackageRecord,
};
use bulwark_types::Ecosystem;
use serde::Deserialize;

pub struct SnapAnalyzer;

/// `snap/<name>/<revision>/meta/snap.yaml`, at the root or under `var/lib/snapd/snap`.
fn wanted(path: &str) -> bool {
    let mut parts = path.rsplit('/');
    let (file, meta, _revision, _name, snap) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    );
    file == Some("snap.yaml") && meta == Some("meta") && snap == Some("snap")
}

#[derive(Deserialize)]
struct SnapYaml {
    name: Option<String>,
    version: Option<serde_yaml_value::Scalar>,
    #[serde(default)]
    architectures: Vec<String>,
}

mod serde_yaml_value {
    use serde::Deserialize;

    /// A YAML scalar written as a string or a number (`version: 1.0` is a float to YAML).
    #[derive(Deserialize)]
    #[serde(untagged)]
    pub enum Scalar {
        Text(String),
        Int(i64),
        Float(f64),
    }

    impl Scalar {
        pub fn into_string(self) -> String {
            match self {
                Scalar::Text(s) => s,
                Scalar::Int(i) => i.to_string(),
                Scalar::Float(f) => f.to_string(),
            }
        }
    }
}

impl Analyzer for SnapAnalyzer {
    fn id(&self) -> &'static str {
        "snap"
    }

    fn version(&self) -> u32 {
        1
    }

    fn wants(&self, file: &FileMeta) -> Interest {
        if file.kind == FileKind::Regular && file.file_name() == "snap.yaml" && wanted(file.path) {
            Interest::Read { max_bytes: 1 << 20 }
        } else {
            Interest::Skip
        }
    }

    fn analyze(&self, _file: &FileMeta, content: &[u8], out: &mut AnalyzerOutput) {
        let text = String::from_utf8_lossy(content);
        let parsed: SnapYaml = match serde_saphyr::from_str(&text) {
            Ok(p) => p,
            Err(e) => {
                out.problem(format!("snap.yaml is not readable YAML ({e}); not listed"));
                return;
            }
        };
        let name = parsed.name.filter(|n| valid_name(n));
        let version = parsed
            .version
            .map(serde_yaml_value::Scalar::into_string)
            .filter(|v| !v.is_empty() && !v.contains(char::is_whitespace));
        let (Some(name), Some(version)) = (name, version) else {
            out.problem("snap.yaml without a valid name and version; not listed");
            return;
        };
        let mut record = PackageRecord::new(Ecosystem::Snap, name, version);
        record.arch = parsed.architectures.into_iter().next();
        out.fact(Fact::Packages {
            records: vec![record],
        });
    }
}

/// snapd: lowercase letters, digits and `-`, at most 40 characters, a letter somewhere.
fn valid_name(n: &str) -> bool {
    !n.is_empty()
        && n.len() <= 40
        && n.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && n.chars().any(|c| c.is_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(text: &str) -> AnalyzerOutput {
        let meta = FileMeta {
            path: "snap/core22/1122/meta/snap.yaml",
            kind: FileKind::Regular,
            size: text.len() as u64,
            mode: 0o644,
        };
        assert!(matches!(SnapAnalyzer.wants(&meta), Interest::Read { .. }));
        let mut out = AnalyzerOutput::default();
        SnapAnalyzer.analyze(&meta, text.as_bytes(), &mut out);
        out
    }

    #[test]
    fn reads_snap_yaml() {
        let out = run("name: core22\nversion: '20240111'\nsummary: Runtime environment based on Ubuntu 22.04\narchitectures:\n  - amd64\nbase: none\ntype: base\n");
        let Fact::Packages { records } = &out.facts[0] else {
            panic!("{out:?}")
        };
        assert_eq!(
            (
                records[0].name.as_str(),
                records[0].version.as_str(),
                records[0].arch.as_deref()
            ),
            ("core22", "20240111", Some("amd64"))
        );
        let out = run("name: jq\nversion: 1.5\n");
        let Fact::Packages { records } = &out.facts[0] else {
            panic!("{out:?}")
        };
        assert_eq!(records[0].version, "1.5");
    }

    #[test]
    fn malformed_snap_yaml_is_a_diagnostic() {
        for text in [
            "name: [unclosed\n",
            "summary: no name\n",
            "name: Bad Name\nversion: 1\n",
        ] {
            let out = run(text);
            assert!(out.facts.is_empty(), "{text}");
            assert_eq!(out.problems.len(), 1, "{text}");
        }
    }
}
