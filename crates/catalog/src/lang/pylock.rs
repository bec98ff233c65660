//! Python's standard lockfile, `pylock.toml` or `pylock.<name>.toml` (PEP 751,
//! <https://packaging.python.org/en/latest/specifications/pylock-toml/>): `[[packages]]`
//! with `name` and `version`. A package without a version (a VCS checkout or a local
//! directory) names no release and is not listed. What a lockfile names is declared.

use bulwark_analyze::{
    Analyzer, AnalyzerOutput, Fact, FileKind, FileMeta, Interest, PackageRecord,
};
use bulwark_types::Ecosystem;

use super::declared;

pub struct PylockAnalyzer;

fn wanted(path: &str, name: &str) -> bool {
    let named = name == "pylock.toml"
        || name
            .strip_prefix("pylock.")
            .and_then(|n| n.strip_suffix(".toml"))
            .is_some_and(|n| !n.is_empty() && !n.contains('.'));
    named && !path.contains("site-packages/") && !path.contains("node_modules/")
}

impl Analyzer for PylockAnalyzer {
    fn id(&self) -> &'static str {
        "pylock"
    }

    fn version(&self) -> u32 {
        1
    }

    fn wants(&self, file: &FileMeta) -> Interest {
        if file.kind == FileKind::Regular && wanted(file.path, file.file_name()) {
            Interest::Read {
                max_bytes: 16 << 20,
            }
        } else {
            Interest::Skip
        }
    }

    fn analyze(&self, _file: &FileMeta, content: &[u8], out: &mut AnalyzerOutput) {
        let text = String::from_utf8_lossy(content);
        match parse(&text) {
            Ok((records, invalid)) => {
                if invalid > 0 {
                    out.problem(format!(
                        "{invalid} [[packages]] entr(y/ies) with an invalid name or version were skipped"
                    ));
                }
                if !records.is_empty() {
                    out.fact(Fact::Packages {
                        records: declared(records),
                    });
                }
            }
            Err(e) => out.problem(e),
        }
    }
}

fn parse(text: &str) -> Result<(Vec<PackageRecord>, usize), String> {
    let doc: toml::Table = text
        .parse()
        .map_err(|e| format!("pylock.toml is not valid TOML ({e}); nothing listed"))?;
    let packages = doc
        .get("packages")
        .and_then(|p| p.as_array())
        .ok_or("pylock.toml has no [[packages]] array; nothing listed")?;
    let mut records = Vec::new();
    let mut invalid = 0;
    for p in packages {
        let name = p.get("name").and_then(|v| v.as_str());
        let version = p.get("version").and_then(|v| v.as_str());
        match (name, version) {
            (Some(n), Some(v))
                if valid_name(n) && !v.is_empty() && !v.contains(char::is_whitespace) =>
            {
                let mut record = PackageRecord::new(Ecosystem::PyPI, n, v);
                record.dependencies = p
                    .get("dependencies")
                    .and_then(|d| d.as_array())
                    .into_iter()
                    .flatten()
                    .filter_map(|d| d.get("name")?.as_str().map(str::to_string))
                    .collect();
                records.push(record);
            }
            // No version: a VCS or directory source, not a release.
            (Some(n), None) if valid_name(n) => {}
            _ => invalid += 1,
        }
    }
    Ok((records, invalid))
}

/// PEP 508 names: ASCII letters and digits, with `-_.` inside.
fn valid_name(n: &str) -> bool {
    n.starts_with(|c: char| c.is_ascii_alphanumeric())
        && n.ends_with(|c: char| c.is_ascii_alphanumeric())
        && n.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_packages() {
        let text = r#"lock-version = "1.0"
environments = ["sys_platform == 'linux'"]
requires-python = ">=3.12"
created-by = "uv"

[[packages]]
name = "requests"
version = "2.32.3"
dependencies = [{name = "urllib3"}, {name = "idna"}]
index = "https://pypi.org/simple"

[[packages.wheels]]
name = "requests-2.32.3-py3-none-any.whl"
url = "https://files.pythonhosted.org/packages/requests-2.32.3-py3-none-any.whl"
hashes = {sha256 = "70761cfe03c773ceb22aa2f671b4757976145ab1f0ab4b4ab2d2b8b0d7f6e2d1"}

[[packages]]
name = "urllib3"
version = "2.2.2"

[[packages]]
name = "my-app"
directory = {path = "."}
"#;
        let (records, invalid) = parse(text).unwrap();
        assert_eq!(invalid, 0);
        let got: Vec<_> = records
            .iter()
            .map(|r| (r.name.as_str(), r.version.as_str()))
            .collect();
        assert_eq!(got, vec![("requests", "2.32.3"), ("urllib3", "2.2.2")]);
        assert_eq!(records[0].dependencies, vec!["urllib3", "idna"]);
        assert!(wanted("app/pylock.dev.toml", "pylock.dev.toml"));
        assert!(!wanted("app/pylock.a.b.toml", "pylock.a.b.toml"));
    }

    #[test]
    fn malformed_lock_is_a_diagnostic() {
        assert!(parse("[[packages]\nname =").is_err());
        assert!(parse("lock-version = \"1.0\"\n").is_err());
        let (records, invalid) =
            parse("[[packages]]\nname = \"{{ cookiecutter.name }}\"\nversion = \"1\"\n").unwrap();
        assert!(records.is_empty());
        assert_eq!(invalid, 1);
    }
}
