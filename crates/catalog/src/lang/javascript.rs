//! JavaScript packages: installed `node_modules/**/package.json` (nested and scoped) and the
//! lockfiles of npm (`package-lock.json` v1–v3, `npm-shrinkwrap.json`), yarn (classic and
//! berry), pnpm (`pnpm-lock.yaml` v5–v9) and bun (`bun.lock`), with dev dependencies marked.

use bulwark_analyze::{
    Analyzer, AnalyzerOutput, Fact, FileKind, FileMeta, Interest, PackageRecord,
};
use std::collections::BTreeMap;
use std::fmt;

use bulwark_types::BorrowedText as Text;

use bulwark_types::Ecosystem;
use indexmap::IndexMap;
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use serde_json::Value;

use super::declared;
use crate::license;

pub struct NodeAnalyzer;

enum JsFile {
    InstalledManifest,
    NpmLock,
    YarnLock,
    PnpmLock,
    BunLock,
}

fn classify(path: &str, name: &str) -> Option<JsFile> {
    if name == "package.json" {
        // Only a package's own manifest: `node_modules/<name>/package.json` or
        // `node_modules/@scope/<name>/package.json`, not files deeper inside a package.
        let (_, tail) = path.rsplit_once("node_modules/")?;
        let parts: Vec<&str> = tail.split('/').collect();
        return match parts.as_slice() {
            [_, "package.json"] => Some(JsFile::InstalledManifest),
            [scope, _, "package.json"] if scope.starts_with('@') => Some(JsFile::InstalledManifest),
            _ => None,
        };
    }
    if path.contains("node_modules/") {
        return None;
    }
    match name {
        "package-lock.json" | "npm-shrinkwrap.json" => Some(JsFile::NpmLock),
        "yarn.lock" => Some(JsFile::YarnLock),
        "pnpm-lock.yaml" => Some(JsFile::PnpmLock),
        "bun.lock" => Some(JsFile::BunLock),
        _ => None,
    }
}

impl Analyzer for NodeAnalyzer {
    fn id(&self) -> &'static str {
        "node"
    }

    fn version(&self) -> u32 {
        2
    }

    fn wants(&self, file: &FileMeta) -> Interest {
        if file.kind != FileKind::Regular {
            return Interest::Skip;
        }
        match classify(file.path, file.file_name()) {
            Some(JsFile::InstalledManifest) => Interest::Read { max_bytes: 4 << 20 },
            Some(_) => Interest::Read {
                max_bytes: 64 << 20,
            },
            None => Interest::Skip,
        }
    }

    fn analyze(&self, file: &FileMeta, content: &[u8], out: &mut AnalyzerOutput) {
        let text = super::decode_text(content);
        let result = match classify(file.path, file.file_name()) {
            Some(JsFile::InstalledManifest) => {
                parse_installed(&text).map(|r| r.into_iter().collect())
            }
            Some(JsFile::NpmLock) => parse_npm_lock(&text).map(declared),
            Some(JsFile::YarnLock) => parse_yarn_lock(&text).map(declared),
            Some(JsFile::PnpmLock) => parse_pnpm_lock(&text).map(declared),
            Some(JsFile::BunLock) => parse_bun_lock(&text).map(declared),
            None => return,
        };
        match result {
            Ok(records) if records.is_empty() => {}
            Ok(records) => out.fact(Fact::Packages { records }),
            Err(e) => out.problem(e),
        }
    }
}

fn license_of(v: &Value) -> Vec<String> {
    let declared = match v.get("license") {
        Some(Value::String(s)) => Some(s.clone()),
        Some(Value::Object(o)) => o.get("type").and_then(|t| t.as_str()).map(str::to_string),
        _ => v.get("licenses").and_then(|l| l.as_array()).map(|a| {
            a.iter()
                .filter_map(|x| x.get("type").and_then(|t| t.as_str()).or(x.as_str()))
                .collect::<Vec<_>>()
                .join(" OR ")
        }),
    };
    declared
        .and_then(|d| license::expression_to_spdx(&d))
        .into_iter()
        .collect()
}

fn dependency_names(v: Option<&Value>) -> Vec<String> {
    v.and_then(|d| d.as_object())
        .map(|o| o.keys().cloned().collect())
        .unwrap_or_default()
}

/// An installed package's manifest. Manifests without a name or version (test fixtures inside
/// packages, private workspace roots) are not packages and are skipped quietly.
fn parse_installed(text: &str) -> Result<Option<PackageRecord>, String> {
    let v: Value = serde_json::from_str(text).map_err(|e| format!("not valid JSON: {e}"))?;
    let (Some(name), Some(version)) = (
        v.get("name").and_then(|n| n.as_str()),
        v.get("version").and_then(|n| n.as_str()),
    ) else {
        return Ok(None);
    };
    let mut r = PackageRecord::new(Ecosystem::Npm, name, version);
    r.licenses = license_of(&v);
    r.dependencies = dependency_names(v.get("dependencies"));
    Ok(Some(r))
}

/// npm lockfiles: v2/v3 list every installed path in `packages`; v1 nests `dependencies`.
/// Read typed, each `packages` entry turned into a record as it is read, so a lockfile of a
/// million entries costs its records and not a JSON tree of it. When a document has both
/// (v2), `packages` wins and a `dependencies` that follows it is skipped unread.
fn parse_npm_lock(text: &str) -> Result<Vec<PackageRecord>, String> {
    let mut de = serde_json::Deserializer::from_str(text);
    let lock = de
        .deserialize_map(NpmLockVisitor)
        .and_then(|lock| de.end().map(|()| lock))
        .map_err(|e| format!("not a valid npm lockfile: {e}"))?;
    if let Some(records) = lock.packages {
        return Ok(records);
    }
    fn walk(deps: BTreeMap<Text<'_>, V1Dependency<'_>>, out: &mut Vec<PackageRecord>) {
        for (name, entry) in deps {
            if let Some(version) = entry.version.filter(|v| !v.starts_with("file:")) {
                let mut r = PackageRecord::new(Ecosystem::Npm, &*name, &*version);
                r.dev = entry.dev == Some(true);
                r.dependencies = entry.requires.map(|k| k.0).unwrap_or_default();
                out.push(r);
            }
            if let Some(nested) = entry.dependencies {
                walk(nested, out);
            }
        }
    }
    let mut out = Vec::new();
    if let Some(deps) = lock.v1 {
        walk(deps, &mut out);
    }
    Ok(out)
}

#[derive(Default)]
struct NpmLock<'a> {
    /// From `packages`, when the document has that object.
    packages: Option<Vec<PackageRecord>>,
    /// v1's nested `dependencies` (JSON nesting is bounded by serde_json's recursion limit).
    v1: Option<BTreeMap<Text<'a>, V1Dependency<'a>>>,
}

struct NpmLockVisitor;

impl<'de> Visitor<'de> for NpmLockVisitor {
    type Value = NpmLock<'de>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a package-lock.json object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<NpmLock<'de>, A::Error> {
        let mut lock = NpmLock::default();
        while let Some(key) = map.next_key::<Text<'de>>()? {
            match &*key {
                "packages" => {
                    let mut records = Vec::new();
                    map.next_value_seed(LockPackages(&mut records))?;
                    lock.packages = Some(records);
                    lock.v1 = None;
                }
                "dependencies" if lock.packages.is_none() => lock.v1 = map.next_value()?,
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(lock)
    }
}

/// A v1 `dependencies` entry, with only the fields read.
#[derive(Deserialize)]
struct V1Dependency<'a> {
    #[serde(borrow, default)]
    version: Option<Text<'a>>,
    #[serde(default)]
    dev: Option<bool>,
    #[serde(default)]
    requires: Option<Keys>,
    #[serde(borrow, default)]
    dependencies: Option<BTreeMap<Text<'a>, V1Dependency<'a>>>,
}

/// A v2/v3 `packages` entry, with only the fields read.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct LockEntry<'a> {
    #[serde(borrow, default)]
    name: Option<Text<'a>>,
    #[serde(borrow, default)]
    version: Option<Text<'a>>,
    #[serde(default)]
    link: Option<bool>,
    #[serde(default)]
    dev: Option<bool>,
    #[serde(default)]
    dev_optional: Option<bool>,
    #[serde(default)]
    license: Option<LicenseName>,
    #[serde(default)]
    licenses: Option<Vec<LicenseName>>,
    #[serde(default)]
    dependencies: Option<Keys>,
}

/// The `packages` object (install path → entry), converted one entry at a time.
struct LockPackages<'r>(&'r mut Vec<PackageRecord>);

impl<'de> DeserializeSeed<'de> for LockPackages<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for LockPackages<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a map of install paths to packages")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(path) = map.next_key::<Text<'de>>()? {
            let entry: LockEntry<'de> = map.next_value()?;
            if path.is_empty() || entry.link == Some(true) {
                continue;
            }
            let Some(tail) = path.rsplit_once("node_modules/").map(|(_, t)| t) else {
                continue; // workspace member sources
            };
            let Some(version) = entry.version.as_deref() else {
                continue;
            };
            let name = entry.name.as_deref().unwrap_or(tail);
            let mut r = PackageRecord::new(Ecosystem::Npm, name, version);
            r.dev = entry.dev == Some(true) || entry.dev_optional == Some(true);
            r.licenses = declared_licenses(entry.license, entry.licenses);
            r.dependencies = entry.dependencies.map(|k| k.0).unwrap_or_default();
            self.0.push(r);
        }
        Ok(())
    }
}

/// `license: "MIT"`, `license: {type: "MIT"}`, or the older `licenses: [{type}, "MIT"]`.
fn declared_licenses(
    license: Option<LicenseName>,
    licenses: Option<Vec<LicenseName>>,
) -> Vec<String> {
    let declared = match license.and_then(|l| l.0) {
        Some(l) => Some(l),
        None => licenses.map(|all| {
            all.into_iter()
                .filter_map(|l| l.0)
                .collect::<Vec<_>>()
                .join(" OR ")
        }),
    };
    declared
        .and_then(|d| license::expression_to_spdx(&d))
        .into_iter()
        .collect()
}

/// The keys of an object (dependency names), its values skipped; anything else is no keys.
#[derive(Default)]
struct Keys(Vec<String>);

impl<'de> Deserialize<'de> for Keys {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Keys;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Keys, A::Error> {
                let mut keys = Vec::new();
                while let Some(k) = map.next_key::<String>()? {
                    map.next_value::<IgnoredAny>()?;
                    keys.push(k);
                }
                Ok(Keys(keys))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Keys, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Keys::default())
            }
            fn visit_unit<E: de::Error>(self) -> Result<Keys, E> {
                Ok(Keys::default())
            }
        }
        d.deserialize_any(V)
    }
}

/// A licence as npm metadata gives it: a string, or an object's `type`; anything else none.
struct LicenseName(Option<String>);

impl<'de> Deserialize<'de> for LicenseName {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = LicenseName;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a licence string or {\"type\": …}")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<LicenseName, E> {
                Ok(LicenseName(Some(v.to_string())))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<LicenseName, A::Error> {
                let mut found = None;
                while let Some(k) = map.next_key::<Text<'de>>()? {
                    if &*k == "type" {
                        found = map.next_value::<Option<String>>()?;
                    } else {
                        map.next_value::<IgnoredAny>()?;
                    }
                }
                Ok(LicenseName(found))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<LicenseName, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(LicenseName(None))
            }
            fn visit_unit<E: de::Error>(self) -> Result<LicenseName, E> {
                Ok(LicenseName(None))
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<LicenseName, E> {
                Ok(LicenseName(None))
            }
        }
        d.deserialize_any(V)
    }
}

/// The name in a yarn/pnpm descriptor: `@scope/name@npm:^1.0.0` → `@scope/name`.
fn descriptor_name(descriptor: &str) -> &str {
    let d = descriptor.trim().trim_matches('"');
    let search_from = usize::from(d.starts_with('@'));
    match d[search_from..].find('@') {
        Some(i) => &d[..i + search_from],
        None => d,
    }
}

/// yarn classic (`# yarn lockfile v1`) and berry (YAML with `__metadata`).
fn parse_yarn_lock(text: &str) -> Result<Vec<PackageRecord>, String> {
    if text.contains("__metadata:") {
        let map: IndexMap<String, Value> =
            serde_saphyr::from_str_with_options(text, yaml_options())
                .map_err(|e| format!("not valid YAML (a yarn berry lockfile is a mapping): {e}"))?;
        let mut out = Vec::new();
        for (key, entry) in &map {
            let key = key.as_str();
            if key == "__metadata" || key.contains("@workspace:") || key.contains("@link:") {
                continue;
            }
            let first = key.split(',').next().unwrap_or(key);
            let Some(version) = entry.get("version").and_then(|v| v.as_str()) else {
                continue;
            };
            let mut r = PackageRecord::new(Ecosystem::Npm, descriptor_name(first), version);
            if let Some(deps) = entry.get("dependencies").and_then(|d| d.as_object()) {
                r.dependencies = deps.keys().cloned().collect();
            }
            out.push(r);
        }
        return Ok(out);
    }
    let mut out = Vec::new();
    let mut current: Option<String> = None;
    let mut in_deps = false;
    for line in text.lines() {
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        if !line.starts_with(' ') {
            let first = line.trim_end_matches(':').split(", ").next().unwrap_or("");
            current = Some(descriptor_name(first).to_string());
            in_deps = false;
            continue;
        }
        let trimmed = line.trim();
        if line.starts_with("    ") && in_deps {
            if let (Some(last), Some(dep)) = (out.last_mut(), trimmed.split_whitespace().next()) {
                let last: &mut PackageRecord = last;
                last.dependencies.push(dep.trim_matches('"').to_string());
            }
            continue;
        }
        in_deps = trimmed == "dependencies:";
        if let Some(v) = trimmed.strip_prefix("version ") {
            if let Some(name) = &current {
                out.push(PackageRecord::new(
                    Ecosystem::Npm,
                    name.clone(),
                    v.trim_matches('"'),
                ));
            }
        }
    }
    Ok(out)
}

/// pnpm: v5 keys `/name/1.0.0`, v6 `/name@1.0.0`, v9 `name@1.0.0` (peer suffixes in
/// parentheses or after `_` are dropped).
fn parse_pnpm_lock(text: &str) -> Result<Vec<PackageRecord>, String> {
    /// The parts of a pnpm lockfile read; `packages` keeps the file's order.
    #[derive(serde::Deserialize)]
    struct PnpmLock {
        #[serde(rename = "lockfileVersion")]
        lockfile_version: Option<Value>,
        packages: Option<IndexMap<String, Value>>,
    }
    // An empty document is an empty lockfile.
    let doc: Option<PnpmLock> = serde_saphyr::from_str_with_options(text, yaml_options())
        .map_err(|e| format!("not valid YAML: {e}"))?;
    let Some(PnpmLock {
        lockfile_version,
        packages: Some(packages),
    }) = doc
    else {
        return Ok(Vec::new());
    };
    let v5 = match lockfile_version {
        Some(Value::Number(n)) => n.as_f64().is_some_and(|v| v < 6.0),
        Some(Value::String(s)) => s.starts_with('5'),
        _ => false,
    };
    let mut out = Vec::new();
    for (key, entry) in &packages {
        let key = key.trim_start_matches('/');
        if v5 && entry.get("name").is_none() {
            // `/name/1.0.0_peer@2` or `/@scope/name/1.0.0`: the version is the last segment.
            let segments: Vec<&str> = key.split('/').collect();
            let (name, version) = match segments.as_slice() {
                [scope, name, version] if scope.starts_with('@') => {
                    (format!("{scope}/{name}"), *version)
                }
                [name, version] => (name.to_string(), *version),
                _ => continue,
            };
            let version = version.split('_').next().unwrap_or(version);
            let mut r = PackageRecord::new(Ecosystem::Npm, name, version);
            r.dev = entry.get("dev").and_then(|d| d.as_bool()).unwrap_or(false);
            out.push(r);
            continue;
        }
        let key = key.split('(').next().unwrap_or(key);
        let (name, version) = match entry.get("name").and_then(|n| n.as_str()) {
            Some(n) => (
                n.to_string(),
                entry
                    .get("version")
                    .and_then(|v| v.as_str())
                    .map(str::to_string),
            ),
            None => {
                let search_from = usize::from(key.starts_with('@'));
                match key[search_from..].find('@') {
                    Some(i) => (
                        key[..i + search_from].to_string(),
                        Some(key[i + search_from + 1..].to_string()),
                    ),
                    // v5: `/name/1.0.0` or `/@scope/name/1.0.0`
                    None => match key.rsplit_once('/') {
                        Some((n, v)) => (n.to_string(), Some(v.to_string())),
                        None => continue,
                    },
                }
            }
        };
        let Some(version) = version else { continue };
        let version = version.split('_').next().unwrap_or(&version).to_string();
        let mut r = PackageRecord::new(Ecosystem::Npm, name, version);
        r.dev = entry.get("dev").and_then(|d| d.as_bool()).unwrap_or(false);
        if let Some(deps) = entry.get("dependencies").and_then(|d| d.as_object()) {
            r.dependencies = deps.keys().cloned().collect();
        }
        out.push(r);
    }
    Ok(out)
}

/// serde-saphyr's defaults bound aliases (billion laughs), anchors and scalar bytes; the
/// node and event counts are lifted because the 64 MiB read cap already bounds them for a
/// lockfile, and a large monorepo's pnpm lockfile passes 250,000 nodes. Nesting stays
/// bounded (128, serde_yaml's old recursion limit).
fn yaml_options() -> serde_saphyr::Options {
    let mut budget = serde_saphyr::Budget::default();
    budget.max_depth = 128;
    budget.max_nodes = usize::MAX;
    budget.max_events = usize::MAX;
    let mut options = serde_saphyr::Options::default();
    options.budget = Some(budget);
    // One-line messages: the error ends up in a scan's problem list, not on a terminal.
    options.with_snippet = false;
    options
}

/// bun's text lockfile is JSON with trailing commas; `packages` maps a key to
/// `["name@version", registry, {deps}, integrity]`.
fn parse_bun_lock(text: &str) -> Result<Vec<PackageRecord>, String> {
    let cleaned = strip_trailing_commas(text);
    let v: Value =
        serde_json::from_str(&cleaned).map_err(|e| format!("not valid bun.lock JSON: {e}"))?;
    let mut out = Vec::new();
    if let Some(packages) = v.get("packages").and_then(|p| p.as_object()) {
        for entry in packages.values() {
            let Some(id) = entry.get(0).and_then(|i| i.as_str()) else {
                continue;
            };
            let search_from = usize::from(id.starts_with('@'));
            let Some(i) = id[search_from..].find('@') else {
                continue;
            };
            let (name, version) = (&id[..i + search_from], &id[i + search_from + 1..]);
            if version.starts_with("workspace:") || version.starts_with("link:") {
                continue;
            }
            let mut r = PackageRecord::new(Ecosystem::Npm, name, version);
            r.dependencies = dependency_names(entry.get(2).and_then(|m| m.get("dependencies")));
            out.push(r);
        }
    }
    Ok(out)
}

fn strip_trailing_commas(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut in_string = false;
    let mut escaped = false;
    let chars: Vec<char> = text.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        if in_string {
            out.push(c);
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => in_string = false,
                _ => {}
            }
            continue;
        }
        if c == '"' {
            in_string = true;
        }
        if c == ',' {
            let next = chars[i + 1..].iter().find(|c| !c.is_whitespace());
            if matches!(next, Some('}') | Some(']')) {
                continue;
            }
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(records: &[PackageRecord]) -> Vec<String> {
        let mut v: Vec<String> = records
            .iter()
            .map(|r| {
                format!(
                    "{}@{}{}",
                    r.name,
                    r.version,
                    if r.dev { " dev" } else { "" }
                )
            })
            .collect();
        v.sort();
        v
    }

    #[test]
    fn classifies_manifests() {
        assert!(matches!(
            classify("app/node_modules/@types/node/package.json", "package.json"),
            Some(JsFile::InstalledManifest)
        ));
        assert!(matches!(
            classify(
                "app/node_modules/a/node_modules/b/package.json",
                "package.json"
            ),
            Some(JsFile::InstalledManifest)
        ));
        assert!(classify("app/node_modules/a/lib/package.json", "package.json").is_none());
        assert!(classify("app/package.json", "package.json").is_none());
        assert!(classify("app/node_modules/a/package-lock.json", "package-lock.json").is_none());
    }

    #[test]
    fn npm_lock_v1_and_v3() {
        let v3 = r#"{"lockfileVersion": 3, "packages": {"": {"name": "app"}, "node_modules/lodash": {"version": "4.17.15", "license": "MIT"}, "node_modules/@scope/x": {"version": "1.0.0", "dev": true}, "node_modules/a/node_modules/lodash": {"version": "4.17.21"}, "packages/ws": {"version": "0.0.1"}, "node_modules/ws-link": {"resolved": "packages/ws", "link": true}}}"#;
        assert_eq!(
            names(&parse_npm_lock(v3).unwrap()),
            vec!["@scope/x@1.0.0 dev", "lodash@4.17.15", "lodash@4.17.21"]
        );
        let v1 = r#"{"lockfileVersion": 1, "dependencies": {"express": {"version": "4.16.0", "requires": {"debug": "2.6.9"}, "dependencies": {"debug": {"version": "2.6.9"}}}, "mocha": {"version": "1.0.0", "dev": true}}}"#;
        assert_eq!(
            names(&parse_npm_lock(v1).unwrap()),
            vec!["debug@2.6.9", "express@4.16.0", "mocha@1.0.0 dev"]
        );
    }

    #[test]
    fn yarn_classic_and_berry() {
        let classic = "# yarn lockfile v1\n\n\"@babel/code-frame@^7.0.0\", \"@babel/code-frame@^7.10.4\":\n  version \"7.12.13\"\n  dependencies:\n    \"@babel/highlight\" \"^7.12.13\"\n\nlodash@^4.17.15:\n  version \"4.17.21\"\n";
        let r = parse_yarn_lock(classic).unwrap();
        assert_eq!(
            names(&r),
            vec!["@babel/code-frame@7.12.13", "lodash@4.17.21"]
        );
        assert_eq!(r[0].dependencies, vec!["@babel/highlight"]);
        let berry = "__metadata:\n  version: 6\n\n\"lodash@npm:^4.17.15\":\n  version: 4.17.21\n  resolution: \"lodash@npm:4.17.21\"\n\n\"app@workspace:.\":\n  version: 0.0.0-use.local\n";
        assert_eq!(
            names(&parse_yarn_lock(berry).unwrap()),
            vec!["lodash@4.17.21"]
        );
    }

    #[test]
    fn pnpm_versions() {
        let v5 = "lockfileVersion: 5.4\npackages:\n  /lodash/4.17.15:\n    dev: false\n  /@scope/pkg/1.0.0_react@18.0.0:\n    dev: true\n";
        assert_eq!(
            names(&parse_pnpm_lock(v5).unwrap()),
            vec!["@scope/pkg@1.0.0 dev", "lodash@4.17.15"]
        );
        let v6 = "lockfileVersion: '6.0'\npackages:\n  /minimist@1.2.0:\n    dev: false\n";
        assert_eq!(names(&parse_pnpm_lock(v6).unwrap()), vec!["minimist@1.2.0"]);
        let v9 = "lockfileVersion: '9.0'\npackages:\n  express@4.16.0:\n    resolution: {integrity: sha512-x}\n  '@types/node@20.1.0':\n    resolution: {integrity: sha512-y}\nsnapshots:\n  express@4.16.0: {}\n";
        assert_eq!(
            names(&parse_pnpm_lock(v9).unwrap()),
            vec!["@types/node@20.1.0", "express@4.16.0"]
        );
    }

    #[test]
    fn bun_lock() {
        let text = "{\n  \"lockfileVersion\": 1,\n  \"workspaces\": {\"\": {\"name\": \"app\",},},\n  \"packages\": {\n    \"lodash\": [\"lodash@4.17.15\", \"\", {}, \"sha512-x\"],\n    \"@types/bun\": [\"@types/bun@1.1.0\", \"\", {\"dependencies\": {\"bun-types\": \"1.1.0\"}}, \"sha512-y\"],\n  },\n}\n";
        let r = parse_bun_lock(text).unwrap();
        assert_eq!(names(&r), vec!["@types/bun@1.1.0", "lodash@4.17.15"]);
    }

    #[test]
    fn npm_lock_v2_prefers_packages_whichever_comes_first() {
        let packages = r#""packages": {"": {"name": "app"}, "node_modules/a": {"version": "2.0.0", "license": {"type": "MIT"}, "dependencies": {"b": "^1"}}, "node_modules/b": {"version": "1.0.0", "licenses": [{"type": "MIT"}, "Apache-2.0"]}}"#;
        let deps = r#""dependencies": {"a": {"version": "1.0.0"}}"#;
        for doc in [
            format!("{{\"lockfileVersion\": 2, {packages}, {deps}}}"),
            format!("{{\"lockfileVersion\": 2, {deps}, {packages}}}"),
        ] {
            let records = parse_npm_lock(&doc).unwrap();
            assert_eq!(names(&records), vec!["a@2.0.0", "b@1.0.0"], "{doc}");
            assert_eq!(records[0].licenses, vec!["MIT"]);
            assert_eq!(records[0].dependencies, vec!["b"]);
            assert_eq!(records[1].licenses, vec!["MIT OR Apache-2.0"]);
        }
        let escaped = r#"{"packages": {"node_modules/\u0061b": {"version": "1.0.0"}}}"#;
        assert_eq!(names(&parse_npm_lock(escaped).unwrap()), vec!["ab@1.0.0"]);
    }

    /// serde-saphyr's budget refuses a "billion laughs" pnpm or yarn lockfile (nine levels of
    /// ten aliases each: 10^9 nodes if expanded) quickly instead of expanding it; and a large
    /// lockfile (300,000 nodes, past serde-saphyr's default node budget) still parses.
    #[test]
    fn yaml_lockfiles_refuse_alias_bombs_and_take_large_files() {
        let mut bomb = String::from(
            "lockfileVersion: '9.0'\na: &a [lol,lol,lol,lol,lol,lol,lol,lol,lol,lol]\n",
        );
        for (prev, next) in ["a", "b", "c", "d", "e", "f", "g", "h", "i"]
            .windows(2)
            .map(|w| (w[0], w[1]))
        {
            bomb.push_str(&format!(
                "{next}: &{next} [*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev}]\n"
            ));
        }
        bomb.push_str("packages:\n  x@1.0.0: {resolution: *i}\n");
        let started = std::time::Instant::now();
        assert!(parse_pnpm_lock(&bomb).is_err());
        let berry = format!(
            "__metadata:\n  version: 8\n{}",
            &bomb["lockfileVersion: '9.0'\n".len()..]
        );
        assert!(parse_yarn_lock(&berry).is_err());
        // Unbudgeted, the bomb expands to 10^10 nodes (hours); budgeted it is refused in well
        // under a second. The bound is loose so a loaded CI machine cannot trip it.
        assert!(started.elapsed() < std::time::Duration::from_secs(30));

        let mut large = String::from("lockfileVersion: '9.0'\npackages:\n");
        for i in 0..60_000 {
            large.push_str(&format!(
                "  p{i}@1.0.{i}:\n    resolution: {{integrity: sha512-AAAA}}\n    dependencies:\n      q: 1.0.0\n"
            ));
        }
        assert_eq!(parse_pnpm_lock(&large).unwrap().len(), 60_000);
    }

    /// Issue 13.11: a lockfile is read typed, one `packages` entry at a time, never as a JSON
    /// tree. 200,000 entries (a scaled-down million) parse well inside this debug-build bound;
    /// the `Value` tree took about 40x the input in memory and several times as long.
    #[test]
    fn a_large_npm_lock_parses_typed_and_quickly() {
        let mut doc = String::from(
            r#"{"name": "app", "lockfileVersion": 3, "packages": {"": {"name": "app"}"#,
        );
        for i in 0..200_000 {
            doc.push_str(&format!(
                r#", "node_modules/p{i}": {{"version": "1.0.{i}", "resolved": "https://registry.npmjs.org/p{i}/-/p{i}-1.0.{i}.tgz", "integrity": "sha512-AAAA", "license": "MIT", "dependencies": {{"q": "^1"}}}}"#
            ));
        }
        doc.push_str("}}");
        let started = std::time::Instant::now();
        let records = parse_npm_lock(&doc).unwrap();
        let took = started.elapsed();
        assert_eq!(records.len(), 200_000);
        assert!(
            took < std::time::Duration::from_secs(20),
            "200k lockfile entries took {took:?}"
        );
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        assert!(parse_npm_lock("{").is_err());
        assert!(
            parse_pnpm_lock(": : :\n\t-").is_err()
                || parse_pnpm_lock(": : :\n\t-").unwrap().is_empty()
        );
        assert!(parse_installed("[1,2]").unwrap().is_none());
        assert_eq!(descriptor_name("@"), "@");
    }
}
