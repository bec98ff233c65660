//! User policies in Rego (`--policy DIR`), evaluated with `regorus`, conftest-style: in every
//! package named `main` (or under it, `main.*`, or one of the configured namespaces) the
//! rules `deny`, `violation` and `warn` are read; each value they produce is a finding. A value
//! is a string (the message) or an object with `msg` and optionally `id`, `title`,
//! `severity`, `line`, `remediation`.
//!
//! `input` is the parsed file: for a Dockerfile an array of instructions (see
//! [`dockerfile_input`] and docs/policies.md), for YAML and JSON the document itself (each
//! document of a multi-document YAML file in turn).

use std::path::{Path, PathBuf};

use bulwark_types::{MisconfigLocation, Misconfiguration, Severity};
use serde_json::{json, Value};

use crate::{FileError, FileKind, SourceFile};

/// Rule names read in each package, with the severity their findings get by default.
const RULES: &[(&str, Severity)] = &[
    ("deny", Severity::High),
    ("violation", Severity::High),
    ("warn", Severity::Low),
];

/// Loaded policies, ready to evaluate.
#[derive(Clone)]
pub struct Policies {
    engine: regorus::Engine,
    /// Packages whose rules apply (`data.main`, `data.main.docker` …).
    packages: Vec<String>,
}

impl std::fmt::Debug for Policies {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Policies")
            .field("packages", &self.packages)
            .finish()
    }
}

/// The line of a regorus error (`file:LINE:COL: error: …`).
fn error_line(path: &str, message: &str) -> Option<usize> {
    let at = message.find(path)?;
    let rest = &message[at + path.len()..];
    let rest = rest.strip_prefix(':')?;
    let end = rest.find(|c: char| !c.is_ascii_digit())?;
    rest[..end].parse().ok()
}

impl Policies {
    /// Loads every `.rego` file under `dirs` (files ending `_test.rego` are tests and are
    /// skipped). Rego v1 syntax is tried first and v0 (`deny[msg] { … }`) second, so both
    /// conftest styles load. `namespaces` default to `main`.
    pub fn load(dirs: &[PathBuf], namespaces: &[String]) -> Result<Policies, Vec<FileError>> {
        let mut engine = regorus::Engine::new();
        let mut errors = Vec::new();
        let mut files = Vec::new();
        for dir in dirs {
            if dir.is_file() {
                files.push(dir.clone());
                continue;
            }
            if !dir.is_dir() {
                errors.push(FileError::new(
                    &dir.display().to_string(),
                    None,
                    "no such policy directory",
                ));
                continue;
            }
            for e in walkdir::WalkDir::new(dir)
                .sort_by_file_name()
                .into_iter()
                .flatten()
            {
                let name = e.file_name().to_string_lossy();
                if e.file_type().is_file()
                    && name.ends_with(".rego")
                    && !name.ends_with("_test.rego")
                {
                    files.push(e.path().to_path_buf());
                }
            }
        }
        let mut packages = Vec::new();
        for path in files {
            let shown = path.display().to_string();
            let text = match std::fs::read_to_string(&path) {
                Ok(t) => t,
                Err(e) => {
                    errors.push(FileError::new(&shown, None, format!("cannot read: {e}")));
                    continue;
                }
            };
            engine.set_rego_v0(false);
            let v1 = engine.add_policy(shown.clone(), text.clone());
            let added = match v1 {
                Ok(p) => Ok(p),
                Err(e1) => {
                    engine.set_rego_v0(true);
                    match engine.add_policy(shown.clone(), text.clone()) {
                        Ok(p) => Ok(p),
                        // Report the error of the syntax the file seems to use.
                        Err(e0) => Err(
                            if text.contains("import rego.v1") || !text.contains("] {") {
                                e1
                            } else {
                                e0
                            },
                        ),
                    }
                }
            };
            match added {
                Ok(pkg) => packages.push(pkg),
                Err(e) => {
                    let message = e.to_string();
                    let line = error_line(&shown, &message);
                    let first = message.lines().next().unwrap_or("").to_string();
                    errors.push(FileError::new(
                        &shown,
                        line,
                        format!("Rego error: {}", first.trim()),
                    ));
                }
            }
        }
        if !errors.is_empty() {
            errors.sort();
            return Err(errors);
        }
        let wanted: Vec<String> = if namespaces.is_empty() {
            vec!["main".to_string()]
        } else {
            namespaces.to_vec()
        };
        packages.sort();
        packages.dedup();
        packages.retain(|p| {
            let name = p.strip_prefix("data.").unwrap_or(p);
            wanted
                .iter()
                .any(|w| name == w || name.starts_with(&format!("{w}.")))
        });
        Ok(Policies { engine, packages })
    }

    /// The packages whose rules are evaluated.
    pub fn packages(&self) -> &[String] {
        &self.packages
    }

    /// Evaluates every applicable rule on one file.
    pub fn eval(&self, file: &SourceFile) -> Result<Vec<Misconfiguration>, FileError> {
        if self.packages.is_empty() {
            return Ok(Vec::new());
        }
        let inputs = inputs(file)?;
        let mut engine = self.engine.clone();
        let mut out = Vec::new();
        for input in inputs {
            let input_value = regorus::Value::from_json_str(&input.to_string()).map_err(|e| {
                FileError::new(
                    &file.path,
                    None,
                    format!("cannot hand the file to Rego: {e}"),
                )
            })?;
            engine.set_input(input_value);
            for pkg in &self.packages {
                for (rule, severity) in RULES {
                    let query = format!("{pkg}.{rule}");
                    let value = match engine.eval_rule(query.clone()) {
                        Ok(v) => v,
                        // The package does not define this rule.
                        Err(e) if is_undefined(&e.to_string()) => continue,
                        Err(e) => {
                            return Err(FileError::new(
                                &file.path,
                                None,
                                format!(
                                    "policy {query}: {}",
                                    e.to_string().lines().next().unwrap_or("")
                                ),
                            ))
                        }
                    };
                    if value == regorus::Value::Undefined {
                        continue;
                    }
                    let json: Value = value
                        .to_json_str()
                        .ok()
                        .and_then(|s| serde_json::from_str(&s).ok())
                        .unwrap_or(Value::Null);
                    let items = match json {
                        Value::Array(a) => a,
                        Value::Null | Value::Bool(false) => Vec::new(),
                        other => vec![other],
                    };
                    for item in items {
                        out.push(to_finding(&file.path, pkg, rule, *severity, item));
                    }
                }
            }
        }
        Ok(out)
    }
}

fn is_undefined(message: &str) -> bool {
    let m = message.to_ascii_lowercase();
    m.contains("not a valid rule path")
        || m.contains("undefined")
        || m.contains("no rule")
        || m.contains("not found")
}

fn to_finding(
    path: &str,
    pkg: &str,
    rule: &str,
    severity: Severity,
    item: Value,
) -> Misconfiguration {
    let package = pkg.strip_prefix("data.").unwrap_or(pkg).to_string();
    let (msg, obj) = match &item {
        Value::String(s) => (s.clone(), None),
        Value::Object(o) => (
            o.get("msg")
                .and_then(|m| m.as_str())
                .map(String::from)
                .unwrap_or_else(|| item.to_string()),
            Some(o),
        ),
        other => (other.to_string(), None),
    };
    let field = |k: &str| {
        obj.and_then(|o| o.get(k))
            .and_then(|v| v.as_str())
            .map(String::from)
    };
    let line = obj
        .and_then(|o| o.get("line"))
        .and_then(|v| v.as_u64())
        .map(|l| l as usize);
    let severity = field("severity")
        .and_then(|s| s.to_ascii_lowercase().parse::<Severity>().ok())
        .unwrap_or(severity);
    Misconfiguration {
        check_id: field("id").unwrap_or_else(|| package.clone()),
        title: field("title").unwrap_or_else(|| format!("Policy {package} ({rule})")),
        severity,
        message: msg,
        remediation: field("remediation").unwrap_or_default(),
        references: Vec::new(),
        compliance: Vec::new(),
        location: MisconfigLocation {
            path: path.to_string(),
            line,
            column: None,
            end_line: None,
            resource: Some(format!("policy {package}.{rule}")),
            layer: None,
        },
    }
}

/// The `input` documents for a file.
pub fn inputs(file: &SourceFile) -> Result<Vec<Value>, FileError> {
    match file.kind {
        FileKind::Dockerfile => {
            let df = crate::dockerfile::parse(&file.bytes)
                .map_err(|e| FileError::new(&file.path, Some(e.line), e.message))?;
            Ok(vec![dockerfile_input(&df)])
        }
        FileKind::DaemonJson => {
            let v: Value = serde_json::from_slice(&file.bytes).map_err(|e| {
                FileError::new(&file.path, Some(e.line()), format!("invalid JSON: {e}"))
            })?;
            Ok(vec![v])
        }
        FileKind::Kubernetes | FileKind::Compose => {
            let text = std::str::from_utf8(&file.bytes)
                .map_err(|_| FileError::new(&file.path, None, "not UTF-8 text"))?;
            let mut docs = Vec::new();
            for doc in serde_yaml::Deserializer::from_str(text) {
                let v: Value = serde::Deserialize::deserialize(doc).map_err(|e| {
                    FileError::new(
                        &file.path,
                        e.location().map(|l| l.line()),
                        format!("invalid YAML: {e}"),
                    )
                })?;
                if !v.is_null() {
                    docs.push(v);
                }
            }
            Ok(docs)
        }
        FileKind::Rego => Ok(Vec::new()),
    }
}

/// A Dockerfile as Rego sees it: one object per instruction. Keys in lower case are
/// bulwark's; `Cmd`, `Value`, `Flags`, `JSON`, `Original`, `Stage` repeat them under
/// conftest's names so its Dockerfile policies run unchanged.
pub fn dockerfile_input(df: &crate::dockerfile::Dockerfile) -> Value {
    let items: Vec<Value> = df
        .instructions
        .iter()
        .map(|i| {
            let cmd = i.cmd.to_ascii_lowercase();
            let args = i.words();
            let flags: Vec<String> = i
                .flags
                .iter()
                .map(|f| match &f.value {
                    Some(v) => format!("--{}={v}", f.name),
                    None => format!("--{}", f.name),
                })
                .collect();
            let stage = i.stage;
            let stage_name = stage.and_then(|s| df.stages[s].name.clone());
            let original = format!(
                "{}{}{}",
                i.cmd,
                if flags.is_empty() { String::new() } else { format!(" {}", flags.join(" ")) },
                format_args!(" {}", i.value)
            );
            json!({
                "cmd": cmd,
                "args": args,
                "value": i.value,
                "flags": flags,
                "json": i.exec.is_some(),
                "stage": stage,
                "stage_name": stage_name,
                "line": i.line,
                "end_line": i.end_line,
                "heredocs": i.heredocs.iter().map(|h| json!({"name": h.name, "body": h.body, "line": h.line})).collect::<Vec<_>>(),
                "Cmd": cmd,
                "Value": args,
                "Flags": flags,
                "JSON": i.exec.is_some(),
                "Original": original,
                "Stage": stage.unwrap_or(0),
            })
        })
        .collect();
    Value::Array(items)
}

/// Loads policies for one test or command from a single directory.
pub fn load_dir(dir: &Path) -> Result<Policies, Vec<FileError>> {
    Policies::load(&[dir.to_path_buf()], &[])
}
