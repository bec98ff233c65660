//! Python packages: what is installed (`*.dist-info/METADATA`, `*.egg-info/PKG-INFO`, in
//! site-packages, dist-packages and virtualenvs anywhere) and what source trees pin
//! (`requirements*.txt`, `poetry.lock`, `Pipfile.lock`, `uv.lock`, `pdm.lock`).

use bulwark_analyze::{
    Analyzer, AnalyzerOutput, Fact, FileKind, FileMeta, Interest, PackageRecord,
};
use bulwark_types::Ecosystem;

use super::declared;
use crate::license;

pub struct PythonAnalyzer;

enum PyFile {
    Metadata,
    Requirements,
    PoetryLock,
    PipfileLock,
    UvLock,
    PdmLock,
}

fn classify(path: &str, name: &str) -> Option<PyFile> {
    if (name == "METADATA" && path.ends_with(".dist-info/METADATA"))
        || (name == "PKG-INFO"
            && (path.ends_with(".egg-info/PKG-INFO") || path.ends_with("EGG-INFO/PKG-INFO")))
        || (name.ends_with(".egg-info") && path.contains("-packages/"))
    {
        return Some(PyFile::Metadata);
    }
    // Lockfiles inside installed packages are their authors' dev environments, not this image's.
    if path.contains("site-packages/")
        || path.contains("dist-packages/")
        || path.contains("node_modules/")
    {
        return None;
    }
    match name {
        "poetry.lock" => Some(PyFile::PoetryLock),
        "Pipfile.lock" => Some(PyFile::PipfileLock),
        "uv.lock" => Some(PyFile::UvLock),
        "pdm.lock" => Some(PyFile::PdmLock),
        n if n.starts_with("requirements") && n.ends_with(".txt") => Some(PyFile::Requirements),
        _ => None,
    }
}

impl Analyzer for PythonAnalyzer {
    fn id(&self) -> &'static str {
        "python"
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
                max_bytes: 16 << 20,
            },
            None => Interest::Skip,
        }
    }

    fn analyze(&self, file: &FileMeta, content: &[u8], out: &mut AnalyzerOutput) {
        let text = String::from_utf8_lossy(content);
        let records = match classify(file.path, file.file_name()) {
            Some(PyFile::Metadata) => parse_metadata(&text).map(|r| vec![r]),
            Some(PyFile::Requirements) => Ok(declared(parse_requirements(&text))),
            Some(PyFile::PoetryLock) => parse_toml_lock(&text, TomlLock::Poetry).map(declared),
            Some(PyFile::UvLock) => parse_toml_lock(&text, TomlLock::Uv).map(declared),
            Some(PyFile::PdmLock) => parse_toml_lock(&text, TomlLock::Pdm).map(declared),
            Some(PyFile::PipfileLock) => parse_pipfile_lock(&text).map(declared),
            None => return,
        };
        match records {
            Ok(records) if records.is_empty() => {}
            Ok(records) => out.fact(Fact::Packages { records }),
            Err(e) => out.problem(e),
        }
    }
}

/// The core metadata headers (RFC 822 style, up to the first blank line).
pub(crate) fn parse_metadata(text: &str) -> Result<PackageRecord, String> {
    let mut name = None;
    let mut version = None;
    let mut license_field = None;
    let mut license_expression = None;
    let mut classifiers = Vec::new();
    let mut requires = Vec::new();
    for line in text.lines() {
        if line.is_empty() {
            break;
        }
        let Some((key, value)) = line.split_once(':') else {
            continue;
        };
        let value = value.trim();
        match key {
            "Name" => name = Some(value.to_string()),
            "Version" => version = Some(value.to_string()),
            "License" => license_field = Some(value.to_string()),
            "License-Expression" => license_expression = Some(value.to_string()),
            "Classifier" => {
                if let Some(l) = value.strip_prefix("License :: ") {
                    classifiers.push(l.to_string());
                }
            }
            // `requests (>=2.0) ; extra == "socks"`: optional extras are not dependencies.
            "Requires-Dist" if !value.contains("extra ==") => {
                let dep: String = value
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
                    .collect();
                if !dep.is_empty() {
                    requires.push(dep);
                }
            }
            _ => {}
        }
    }
    let (Some(name), Some(version)) = (name, version) else {
        return Err("metadata has no Name and Version".into());
    };
    let mut record = PackageRecord::new(Ecosystem::PyPI, name, version);
    record.licenses = licences(license_expression, license_field, &classifiers);
    record.dependencies = requires;
    Ok(record)
}

/// `License-Expression` (PEP 639) is authoritative; then the classifiers, which are
/// controlled vocabulary; the free-text `License` field last, and only when it is short
/// (many packages paste the whole licence text there).
fn licences(
    expression: Option<String>,
    field: Option<String>,
    classifiers: &[String],
) -> Vec<String> {
    if let Some(e) = expression.filter(|e| !e.is_empty()) {
        return vec![e];
    }
    let from_classifiers: Vec<String> = classifiers
        .iter()
        .filter_map(|c| classifier_to_spdx(c))
        .map(str::to_string)
        .collect();
    if !from_classifiers.is_empty() {
        return from_classifiers;
    }
    field
        .filter(|f| {
            !f.is_empty()
                && f.len() < 64
                && !f.eq_ignore_ascii_case("unknown")
                && !f.eq_ignore_ascii_case("UNKNOWN")
        })
        .and_then(|f| license::expression_to_spdx(&f))
        .into_iter()
        .collect()
}

fn classifier_to_spdx(classifier: &str) -> Option<&'static str> {
    let leaf = classifier.rsplit(" :: ").next()?;
    Some(match leaf {
        "MIT License" => "MIT",
        "Apache Software License" => "Apache-2.0",
        "BSD License" => "BSD-3-Clause",
        "ISC License (ISCL)" => "ISC",
        "Mozilla Public License 2.0 (MPL 2.0)" => "MPL-2.0",
        "GNU General Public License v2 (GPLv2)" => "GPL-2.0-only",
        "GNU General Public License v2 or later (GPLv2+)" => "GPL-2.0-or-later",
        "GNU General Public License v3 (GPLv3)" => "GPL-3.0-only",
        "GNU General Public License v3 or later (GPLv3+)" => "GPL-3.0-or-later",
        "GNU Lesser General Public License v2 (LGPLv2)" => "LGPL-2.0-only",
        "GNU Lesser General Public License v2 or later (LGPLv2+)" => "LGPL-2.0-or-later",
        "GNU Lesser General Public License v3 (LGPLv3)" => "LGPL-3.0-only",
        "GNU Lesser General Public License v3 or later (LGPLv3+)" => "LGPL-3.0-or-later",
        "GNU Affero General Public License v3" => "AGPL-3.0-only",
        "Python Software Foundation License" => "PSF-2.0",
        "The Unlicense (Unlicense)" => "Unlicense",
        "zlib/libpng License" => "Zlib",
        "Historical Permission Notice and Disclaimer (HPND)" => "HPND",
        _ => return None,
    })
}

/// Pinned requirements only (`name==1.2.3`, `name[extra]===1.2.3 ; marker`): a range says
/// nothing about what gets installed.
fn parse_requirements(text: &str) -> Vec<PackageRecord> {
    let mut out = Vec::new();
    for raw in text.lines() {
        let line = raw.split('#').next().unwrap_or("").trim();
        if line.is_empty() || line.starts_with('-') {
            continue;
        }
        let line = line.split(';').next().unwrap_or("").trim();
        let line = line.split(" \\").next().unwrap_or(line).trim();
        let Some((spec, version)) = line.split_once("==") else {
            continue;
        };
        let version = version
            .trim_start_matches('=')
            .split_whitespace()
            .next()
            .unwrap_or("");
        let name = spec.split('[').next().unwrap_or("").trim();
        if name.is_empty() || version.is_empty() || version.contains('*') {
            continue;
        }
        out.push(PackageRecord::new(Ecosystem::PyPI, name, version));
    }
    out
}

#[derive(Clone, Copy)]
enum TomlLock {
    Poetry,
    Uv,
    Pdm,
}

fn parse_toml_lock(text: &str, kind: TomlLock) -> Result<Vec<PackageRecord>, String> {
    let doc: toml::Table = text.parse().map_err(|e| format!("not valid TOML: {e}"))?;
    let packages = doc
        .get("package")
        .and_then(|p| p.as_array())
        .ok_or("no [[package]] entries")?;
    let mut out = Vec::new();
    for p in packages {
        let get = |k: &str| p.get(k).and_then(|v| v.as_str());
        let (Some(name), Some(version)) = (get("name"), get("version")) else {
            continue;
        };
        if let TomlLock::Uv = kind {
            // The project itself and workspace members are sources, not dependencies.
            let source = p.get("source");
            if source.is_some_and(|s| s.get("editable").is_some() || s.get("virtual").is_some()) {
                continue;
            }
        }
        let mut record = PackageRecord::new(Ecosystem::PyPI, name, version);
        record.dev = match kind {
            TomlLock::Poetry => get("category") == Some("dev"),
            TomlLock::Pdm => p
                .get("groups")
                .and_then(|g| g.as_array())
                .is_some_and(|g| !g.is_empty() && g.iter().all(|x| x.as_str() != Some("default"))),
            TomlLock::Uv => false,
        };
        if let Some(deps) = p.get("dependencies") {
            record.dependencies = match deps {
                toml::Value::Table(t) => t.keys().cloned().collect(),
                toml::Value::Array(a) => a
                    .iter()
                    .filter_map(|d| match d {
                        toml::Value::Table(t) => {
                            t.get("name").and_then(|n| n.as_str()).map(str::to_string)
                        }
                        toml::Value::String(s) => s
                            .split(|c: char| {
                                !(c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.')
                            })
                            .next()
                            .map(str::to_string),
                        _ => None,
                    })
                    .collect(),
                _ => Vec::new(),
            };
        }
        out.push(record);
    }
    Ok(out)
}

fn parse_pipfile_lock(text: &str) -> Result<Vec<PackageRecord>, String> {
    let doc: serde_json::Value =
        serde_json::from_str(text).map_err(|e| format!("not valid JSON: {e}"))?;
    let mut out = Vec::new();
    for (section, dev) in [("default", false), ("develop", true)] {
        let Some(entries) = doc.get(section).and_then(|s| s.as_object()) else {
            continue;
        };
        for (name, entry) in entries {
            let Some(version) = entry.get("version").and_then(|v| v.as_str()) else {
                continue;
            };
            let mut record =
                PackageRecord::new(Ecosystem::PyPI, name, version.trim_start_matches("=="));
            record.dev = dev;
            out.push(record);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_core_metadata() {
        let text = "Metadata-Version: 2.1\nName: Jinja2\nVersion: 2.10\nLicense: BSD\nClassifier: License :: OSI Approved :: BSD License\nRequires-Dist: MarkupSafe (>=0.23)\nRequires-Dist: Babel (>=0.8) ; extra == 'i18n'\n\nLicense: not a header any more\n";
        let r = parse_metadata(text).unwrap();
        assert_eq!((r.name.as_str(), r.version.as_str()), ("Jinja2", "2.10"));
        assert_eq!(r.licenses, vec!["BSD-3-Clause"]);
        assert_eq!(r.dependencies, vec!["MarkupSafe"]);
        assert!(parse_metadata("garbage").is_err());
    }

    #[test]
    fn reads_pinned_requirements_only() {
        let text = "# comment\nDjango==3.2.0\nrequests[socks]==2.19.0 ; python_version >= '3'\nflask>=1.0\n-r other.txt\nurllib3===1.24.1 \\\n    --hash=sha256:abc\n";
        let got: Vec<(String, String)> = parse_requirements(text)
            .into_iter()
            .map(|r| (r.name, r.version))
            .collect();
        assert_eq!(
            got,
            vec![
                ("Django".into(), "3.2.0".into()),
                ("requests".into(), "2.19.0".into()),
                ("urllib3".into(), "1.24.1".into())
            ]
        );
    }

    #[test]
    fn reads_lockfiles() {
        let poetry = "[[package]]\nname = \"requests\"\nversion = \"2.19.0\"\ncategory = \"main\"\n\n[package.dependencies]\nurllib3 = \">=1.21.1\"\n\n[[package]]\nname = \"pytest\"\nversion = \"7.0.0\"\ncategory = \"dev\"\n";
        let r = parse_toml_lock(poetry, TomlLock::Poetry).unwrap();
        assert_eq!(r.len(), 2);
        assert_eq!(r[0].dependencies, vec!["urllib3"]);
        assert!(r[1].dev);
        let uv = "version = 1\n[[package]]\nname = \"app\"\nversion = \"0.1.0\"\nsource = { editable = \".\" }\n\n[[package]]\nname = \"idna\"\nversion = \"3.7\"\nsource = { registry = \"https://pypi.org/simple\" }\n";
        let r = parse_toml_lock(uv, TomlLock::Uv).unwrap();
        assert_eq!(r.len(), 1);
        let pipfile = r#"{"_meta": {}, "default": {"django": {"version": "==3.2.0"}}, "develop": {"pytest": {"version": "==7.0.0"}}}"#;
        let r = parse_pipfile_lock(pipfile).unwrap();
        assert_eq!((r[0].version.as_str(), r[1].dev), ("3.2.0", true));
        assert!(parse_toml_lock("not [ toml", TomlLock::Poetry).is_err());
    }
}
