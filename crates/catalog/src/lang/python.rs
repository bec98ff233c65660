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
        3
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
        let text = super::decode_text(content);
        let records = match classify(file.path, file.file_name()) {
            Some(PyFile::Metadata) => parse_metadata(&text).map(|r| vec![r]),
            Some(PyFile::Requirements) => {
                let (records, notes) = parse_requirements(&text);
                for note in notes {
                    out.note(note);
                }
                Ok(declared(records))
            }
            Some(PyFile::PoetryLock) => parse_toml_lock(&text, TomlLock::Poetry).map(declared),
            Some(PyFile::UvLock) => parse_toml_lock(&text, TomlLock::Uv).map(declared),
            Some(PyFile::PdmLock) => parse_toml_lock(&text, TomlLock::Pdm).map(declared),
            Some(PyFile::PipfileLock) => parse_pipfile_lock(&text).map(declared),
            None => return,
        };
        match records {
            Ok(records) => {
                let records = super::keep_valid_names(records, valid_name, "PEP 508", out);
                if !records.is_empty() {
                    out.fact(Fact::Packages { records });
                }
            }
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

/// Whether `name` is a valid distribution name (PEP 508: ASCII letters and digits, with `.`,
/// `-` and `_` inside). Anything else in a name position (template syntax, shell fragments,
/// a URL) is not a package.
pub(crate) fn valid_name(name: &str) -> bool {
    let bytes = name.as_bytes();
    let inner = |b: &u8| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_');
    match (bytes.first(), bytes.last()) {
        (Some(first), Some(last)) => {
            first.is_ascii_alphanumeric() && last.is_ascii_alphanumeric() && bytes.iter().all(inner)
        }
        _ => false,
    }
}

/// Whether `version` can be a PEP 440 version (its characters, not its full grammar: a
/// wildcard or a shell fragment is not one).
fn valid_version(version: &str) -> bool {
    version.starts_with(|c: char| c.is_ascii_alphanumeric())
        && version
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'+' | b'!' | b'-' | b'_'))
}

/// Requirement lines (PEP 508 names with an optional specifier). `name==1.2.3` and
/// `name===1.2.3` pin what gets installed: their version is reported. Any other requirement
/// (`~=1.4.2`, `>=1.0`, no specifier) names a package but not its version — a range is not an
/// installed version — so it is kept with the version unknown (empty), and the assembly joins
/// it to the installed copy when there is one. A line that is not a requirement (template
/// syntax such as `{{ cookiecutter.x }}` or `{% if %}`, shell fragments joined by `&&`, an
/// invalid name) is a note, never a package; options (`-r`, `--hash`), URLs and paths are
/// skipped.
fn parse_requirements(text: &str) -> (Vec<PackageRecord>, Vec<String>) {
    let mut out = Vec::new();
    let mut notes = Vec::new();
    let mut joined = String::new();
    for (number, raw) in text.lines().enumerate() {
        // A trailing backslash continues the line (hash lists).
        if let Some(head) = raw.trim_end().strip_suffix('\\') {
            joined.push_str(head);
            joined.push(' ');
            continue;
        }
        joined.push_str(raw);
        let logical = std::mem::take(&mut joined);
        // pip: `#` starts a comment at the line start or after whitespace.
        let line = match logical.find(" #").or_else(|| logical.find("\t#")) {
            Some(i) => &logical[..i],
            None if logical.trim_start().starts_with('#') => "",
            None => &logical,
        };
        let line = line.trim();
        if line.is_empty()
            || line.starts_with('-')
            || line.starts_with('.')
            || line.starts_with('/')
            || line.contains("://")
        {
            continue;
        }
        match parse_requirement(line) {
            Ok(Some(record)) => out.push(record),
            Ok(None) => {}
            Err(why) => notes.push(format!(
                "requirements line {} is not a requirement ({why}): skipped",
                number + 1
            )),
        }
    }
    (out, notes)
}

/// One requirement (`name[extras] specifier ; marker`, options after it ignored): `Ok(None)`
/// for a requirement that names no package of an index (a URL after `@`).
fn parse_requirement(line: &str) -> Result<Option<PackageRecord>, &'static str> {
    if ["{{", "}}", "{%", "%}", "{#"]
        .iter()
        .any(|t| line.contains(t))
    {
        return Err("template syntax");
    }
    if ["&&", "||", "`", "$(", "|"]
        .iter()
        .any(|t| line.contains(t))
    {
        return Err("a shell fragment");
    }
    let line = line.split(';').next().unwrap_or("");
    // Per-requirement options (`--hash=…`, `--global-option`) follow the specifier.
    let line = line.split(" --").next().unwrap_or(line).trim();
    let name_end = line
        .find(|c: char| c.is_whitespace() || "[(<>=!~@;".contains(c))
        .unwrap_or(line.len());
    let name = &line[..name_end];
    if !valid_name(name) {
        return Err("not a valid PEP 508 name");
    }
    let mut rest = line[name_end..].trim_start();
    if let Some(after) = rest.strip_prefix('[') {
        let Some(close) = after.find(']') else {
            return Err("unclosed extras");
        };
        rest = after[close + 1..].trim_start();
    }
    if rest.starts_with('@') {
        return Ok(None);
    }
    let rest = rest
        .strip_prefix('(')
        .and_then(|r| r.strip_suffix(')'))
        .unwrap_or(rest)
        .trim();
    let specs: Vec<&str> = rest
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect();
    let mut pinned = None;
    for spec in &specs {
        let op_len = spec
            .find(|c: char| !"<>=!~".contains(c))
            .ok_or("a specifier without a version")?;
        let (op, version) = (&spec[..op_len], spec[op_len..].trim());
        if !matches!(op, "==" | "===" | "~=" | ">=" | "<=" | ">" | "<" | "!=") {
            return Err("not a version specifier");
        }
        let exact = version.strip_suffix(".*").unwrap_or(version);
        if !valid_version(exact) {
            return Err("not a version");
        }
        if matches!(op, "==" | "===") && exact == version && specs.len() == 1 {
            pinned = Some(version);
        }
    }
    Ok(Some(PackageRecord::new(
        Ecosystem::PyPI,
        name,
        pinned.unwrap_or(""),
    )))
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
        let mut record = PackageRecord::new(Ecosystem::PyPI, name, version);
        if let TomlLock::Uv = kind {
            // The project itself (`editable = "."`) and workspace members (other editable or
            // virtual sources) are the project's own code.
            let local = p.get("source").and_then(|s| {
                s.get("editable")
                    .or_else(|| s.get("virtual"))
                    .and_then(|v| v.as_str())
            });
            record.role = match local {
                Some(".") => bulwark_types::PackageRole::Root,
                Some(_) => bulwark_types::PackageRole::Member,
                None => bulwark_types::PackageRole::Dependency,
            };
        }
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

    fn requirements(text: &str) -> Vec<(String, String)> {
        parse_requirements(text)
            .0
            .into_iter()
            .map(|r| (r.name, r.version))
            .collect()
    }

    #[test]
    fn reads_requirements_pins_and_names() {
        let text = "# comment\nDjango==3.2.0\nrequests[socks]==2.19.0 ; python_version >= '3'\nflask>=1.0\n-r other.txt\nurllib3===1.24.1 \\\n    --hash=sha256:abc\n";
        assert_eq!(
            requirements(text),
            vec![
                ("Django".into(), "3.2.0".into()),
                ("requests".into(), "2.19.0".into()),
                ("flask".into(), String::new()),
                ("urllib3".into(), "1.24.1".into())
            ]
        );
    }

    /// Issue 18.1: a cookiecutter template's requirements file, a Dockerfile-style line joined
    /// by `&&`, and names no index accepts produce notes and no packages; `~=` and `===`
    /// requirements are kept (`~=` with the version unknown: it is a range); the same file in
    /// UTF-16 with a BOM reads the same.
    #[test]
    fn issue_18_1_requirements_templates_shell_lines_and_compatible_pins() {
        let text = "\
{%- if cookiecutter.use_celery == 'y' %}
celery==5.3.6
{%- endif %}
{{ cookiecutter.project_slug }}==0.1.0
Django~=4.2.7
attrs===23.1.0
foo,bar&&foobar==1.2.3
pip install -U pip && pip install gunicorn==21.2.0
gunicorn==21.2.0 && echo done
-e git+https://github.com/example/pkg.git#egg=pkg
https://example.com/pkg-1.0.tar.gz
requests[security] == 2.31.0   # pinned for CVE
-invalid name==1.0
_private==1.0
";
        let (records, notes) = parse_requirements(text);
        let got: Vec<(&str, &str)> = records
            .iter()
            .map(|r| (r.name.as_str(), r.version.as_str()))
            .collect();
        assert_eq!(
            got,
            vec![
                ("celery", "5.3.6"),
                ("Django", ""),
                ("attrs", "23.1.0"),
                ("requests", "2.31.0"),
            ]
        );
        // The two template directives, the templated name, three shell lines, `_private`.
        assert_eq!(notes.len(), 7, "{notes:#?}");
        assert!(notes
            .iter()
            .any(|n| n.contains("line 4") && n.contains("template")));

        let analyze = |bytes: &[u8]| {
            let meta = FileMeta {
                path: "app/requirements.txt",
                kind: FileKind::Regular,
                size: bytes.len() as u64,
                mode: 0o644,
            };
            let mut out = AnalyzerOutput::default();
            PythonAnalyzer.analyze(&meta, bytes, &mut out);
            let mut names = Vec::new();
            for fact in out.facts {
                if let Fact::Packages { records } = fact {
                    names.extend(records.into_iter().map(|r| (r.name, r.version)));
                }
            }
            (names, out.notes.len(), out.problems)
        };
        let plain = analyze(text.as_bytes());
        assert_eq!(plain.0.len(), 4);
        let utf16le: Vec<u8> = [0xFF, 0xFE]
            .into_iter()
            .chain(text.encode_utf16().flat_map(u16::to_le_bytes))
            .collect();
        let utf16be: Vec<u8> = [0xFE, 0xFF]
            .into_iter()
            .chain(text.encode_utf16().flat_map(u16::to_be_bytes))
            .collect();
        assert_eq!(analyze(&utf16le), plain);
        assert_eq!(analyze(&utf16be), plain);
    }

    /// Issue 18.1, the class: every Python source drops names PEP 508 rejects, with a note.
    #[test]
    fn issue_18_1_invalid_names_from_any_python_source_are_notes() {
        let poetry = "[[package]]\nname = \"{{ cookiecutter.name }}\"\nversion = \"1.0\"\n\n[[package]]\nname = \"idna\"\nversion = \"3.7\"\n";
        let meta = FileMeta {
            path: "app/poetry.lock",
            kind: FileKind::Regular,
            size: poetry.len() as u64,
            mode: 0o644,
        };
        let mut out = AnalyzerOutput::default();
        PythonAnalyzer.analyze(&meta, poetry.as_bytes(), &mut out);
        let Some(Fact::Packages { records }) = out.facts.first() else {
            panic!("no packages: {out:?}");
        };
        assert_eq!(records.len(), 1);
        assert_eq!(records[0].name, "idna");
        assert_eq!(out.notes.len(), 1);
        for good in [
            "a",
            "Django",
            "zope.interface",
            "ruamel.yaml.clib",
            "A_b-c.1",
        ] {
            assert!(valid_name(good), "{good}");
        }
        for bad in ["", "-a", "a-", "_a", "foo,bar", "a b", "{{x}}", "ü"] {
            assert!(!valid_name(bad), "{bad}");
        }
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
        assert_eq!(r.len(), 2);
        assert_eq!(r[0].role, bulwark_types::PackageRole::Root);
        let pipfile = r#"{"_meta": {}, "default": {"django": {"version": "==3.2.0"}}, "develop": {"pytest": {"version": "==7.0.0"}}}"#;
        let r = parse_pipfile_lock(pipfile).unwrap();
        assert_eq!((r[0].version.as_str(), r[1].dev), ("3.2.0", true));
        assert!(parse_toml_lock("not [ toml", TomlLock::Poetry).is_err());
    }
}
