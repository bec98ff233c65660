//! JavaScript packages: installed `node_modules/**/package.json` (nested and scoped) and the
//! lockfiles of npm (`package-lock.json` v1–v3, `npm-shrinkwrap.json`), yarn (classic and
//! berry), pnpm (`pnpm-lock.yaml` v5–v9) and bun (`bun.lock`), with dev dependencies marked.

use bulwark_analyze::{
    Analyzer, AnalyzerOutput, Fact, FileKind, FileMeta, Interest, PackageRecord,
};
use std::collections::BTreeMap;
use std::fmt;

use bulwark_types::BorrowedText as Text;

use bulwark_types::{Ecosystem, PackageRole};
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
        3
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
            Some(JsFile::YarnLock) => {
                let mut notes = Vec::new();
                let records = parse_yarn_lock_noting(&text, &mut notes).map(declared);
                for note in notes {
                    out.note(note);
                }
                records
            }
            Some(JsFile::PnpmLock) => parse_pnpm_lock(&text).map(declared),
            Some(JsFile::BunLock) => parse_bun_lock(&text).map(declared),
            None => return,
        };
        match result {
            Ok(records) => {
                let records =
                    super::keep_valid_names(records, valid_name, "npm's package name rules", out);
                if !records.is_empty() {
                    out.fact(Fact::Packages { records });
                }
            }
            Err(e) => out.problem(e),
        }
    }
}

/// Whether npm would accept `name` as a package name (validate-npm-package-name's rules, as
/// facts): 1–214 characters; no leading `.` or `_`; no spaces; `@scope/name` or `name`, each
/// part made of what `encodeURIComponent` leaves alone. Upper case and `~'!()*` are allowed
/// because npm's rules keep them valid for packages published before they were forbidden
/// (`JSONStream` is installed everywhere); `node_modules` and `favicon.ico` are reserved.
pub(crate) fn valid_name(name: &str) -> bool {
    let url_safe = |part: &str| {
        !part.is_empty()
            && part.bytes().all(|b| {
                b.is_ascii_alphanumeric()
                    || matches!(
                        b,
                        b'-' | b'_' | b'.' | b'!' | b'~' | b'*' | b'\'' | b'(' | b')'
                    )
            })
    };
    if name.is_empty() || name.len() > 214 || name.starts_with(['.', '_']) {
        return false;
    }
    if matches!(name, "node_modules" | "favicon.ico") {
        return false;
    }
    match name.strip_prefix('@') {
        Some(scoped) => match scoped.split_once('/') {
            Some((scope, rest)) => {
                url_safe(scope) && url_safe(rest) && !rest.starts_with(['.', '_'])
            }
            None => false,
        },
        None => url_safe(name),
    }
}

/// The real package behind an npm alias version (`npm:debug@4.3.4`, as package-lock v1 and
/// yarn write `foo-debug@npm:debug@4`): `(name, version or range)`.
fn npm_alias(spec: &str) -> Option<(&str, &str)> {
    let target = spec.trim().trim_matches('"').strip_prefix("npm:")?;
    let from = usize::from(target.starts_with('@'));
    let at = target[from..].find('@')? + from;
    Some((&target[..at], &target[at + 1..]))
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
                // An alias (`"foo-debug": {"version": "npm:debug@4.3.4"}`) installs the real
                // package under another directory name: report the real one.
                let (name, version) = npm_alias(&version).unwrap_or((&name, &version));
                let mut r = PackageRecord::new(Ecosystem::Npm, name, version);
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
            if entry.link == Some(true) {
                continue;
            }
            let Some(tail) = path.rsplit_once("node_modules/").map(|(_, t)| t) else {
                // `""` is the project itself, other paths outside `node_modules` its
                // workspace members' sources: reported by their own name, with their role.
                if let Some(name) = entry.name.as_deref() {
                    let role = if path.is_empty() {
                        PackageRole::Root
                    } else {
                        PackageRole::Member
                    };
                    let version = entry.version.as_deref().unwrap_or("");
                    let mut r = PackageRecord::new(Ecosystem::Npm, name, version).with_role(role);
                    r.dependencies = entry.dependencies.map(|k| k.0).unwrap_or_default();
                    self.0.push(r);
                }
                continue;
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

/// The name in a yarn/pnpm descriptor: `@scope/name@npm:^1.0.0` → `@scope/name`; for an
/// alias (`foo-debug@npm:debug@4`) the real package, `debug`.
fn descriptor_name(descriptor: &str) -> &str {
    let d = descriptor.trim().trim_matches('"');
    let search_from = usize::from(d.starts_with('@'));
    match d[search_from..].find('@') {
        Some(i) => match npm_alias(&d[i + search_from + 1..]) {
            Some((real, _)) => real,
            None => &d[..i + search_from],
        },
        None => d,
    }
}

/// yarn berry's lockfile as a mapping. A key written twice (a hand-merged lockfile) is an
/// error under YAML's rules and would lose the whole file: the first entry of each key is
/// kept instead, and the duplicate named in a note.
fn yarn_berry_map(text: &str) -> Result<(IndexMap<String, Value>, Option<String>), String> {
    let context = "not valid YAML (a yarn berry lockfile is a mapping)";
    match serde_saphyr::from_str_with_options(text, yaml_options()) {
        Ok(map) => Ok((map, None)),
        Err(first) => {
            let mut options = yaml_options();
            options.duplicate_keys = serde_saphyr::DuplicateKeyPolicy::FirstWins;
            let map = serde_saphyr::from_str_with_options(text, options)
                .map_err(|_| format!("{context}: {first}"))?;
            Ok((
                map,
                Some(format!(
                    "{first}: the first entry of each duplicated key was read"
                )),
            ))
        }
    }
}

/// yarn classic (`# yarn lockfile v1`, also as npm writes it, every key and field quoted)
/// and berry (YAML with `__metadata`).
#[cfg(test)]
fn parse_yarn_lock(text: &str) -> Result<Vec<PackageRecord>, String> {
    parse_yarn_lock_noting(text, &mut Vec::new())
}

/// [`parse_yarn_lock`], with what was read around (a duplicated berry key) added to `notes`.
fn parse_yarn_lock_noting(
    text: &str,
    notes: &mut Vec<String>,
) -> Result<Vec<PackageRecord>, String> {
    if text.contains("__metadata:") {
        let (map, note) = yarn_berry_map(text)?;
        notes.extend(note);
        let mut out = Vec::new();
        for (key, entry) in &map {
            let key = key.as_str();
            if key == "__metadata" || key.contains("@link:") {
                continue;
            }
            if let Some(at) = key.find("@workspace:") {
                // `app@workspace:.` is the project, `pkg@workspace:packages/pkg` a member;
                // berry writes their version as `0.0.0-use.local`, i.e. unknown.
                let role = if key[at..].trim_end_matches('"') == "@workspace:." {
                    PackageRole::Root
                } else {
                    PackageRole::Member
                };
                let version = entry
                    .get("version")
                    .and_then(|v| v.as_str())
                    .filter(|v| *v != "0.0.0-use.local")
                    .unwrap_or("");
                let mut r =
                    PackageRecord::new(Ecosystem::Npm, descriptor_name(&key[..at]), version)
                        .with_role(role);
                if let Some(deps) = entry.get("dependencies").and_then(|d| d.as_object()) {
                    r.dependencies = deps.keys().cloned().collect();
                }
                out.push(r);
                continue;
            }
            let first = key.split(',').next().unwrap_or(key);
            let Some(version) = entry.get("version").and_then(|v| v.as_str()) else {
                continue;
            };
            // `resolution: "debug@npm:4.3.4"` names the package installed, whatever alias
            // the descriptor used.
            let name = entry
                .get("resolution")
                .and_then(|r| r.as_str())
                .map(descriptor_name)
                .unwrap_or_else(|| descriptor_name(first));
            let mut r = PackageRecord::new(Ecosystem::Npm, name, version);
            if let Some(deps) = entry.get("dependencies").and_then(|d| d.as_object()) {
                r.dependencies = deps.keys().cloned().collect();
            }
            out.push(r);
        }
        return Ok(out);
    }
    // One stanza at a time, emitted at its end: npm writes the fields in alphabetical order
    // (`"dependencies"` before `"version"`), yarn writes `version` first.
    struct Stanza {
        name: String,
        version: Option<String>,
        dependencies: Vec<String>,
    }
    fn finish(stanza: Option<Stanza>, out: &mut Vec<PackageRecord>) {
        if let Some(Stanza {
            name,
            version: Some(version),
            dependencies,
        }) = stanza
        {
            let mut r = PackageRecord::new(Ecosystem::Npm, name, version);
            r.dependencies = dependencies;
            out.push(r);
        }
    }
    let mut out = Vec::new();
    let mut current: Option<Stanza> = None;
    let mut in_deps = false;
    for line in text.lines() {
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        if !line.starts_with(' ') {
            finish(current.take(), &mut out);
            let first = line.trim_end_matches(':').split(", ").next().unwrap_or("");
            current = Some(Stanza {
                name: descriptor_name(first).to_string(),
                version: None,
                dependencies: Vec::new(),
            });
            in_deps = false;
            continue;
        }
        let Some(stanza) = current.as_mut() else {
            continue;
        };
        let trimmed = line.trim();
        let (field, value) = match trimmed.split_once(char::is_whitespace) {
            Some((f, v)) => (f.trim_matches('"'), v.trim().trim_matches('"')),
            None => (trimmed.trim_end_matches(':').trim_matches('"'), ""),
        };
        if line.starts_with("    ") && in_deps {
            stanza.dependencies.push(field.to_string());
            continue;
        }
        in_deps = value.is_empty() && field == "dependencies";
        if field == "version" && !value.is_empty() {
            stanza.version = Some(value.to_string());
        }
    }
    finish(current, &mut out);
    Ok(out)
}

/// pnpm: v5 keys `/name/1.0.0`, v6 `/name@1.0.0`, v9 `name@1.0.0` (peer suffixes in
/// parentheses or after `_` are dropped). Every YAML document is read: pnpm with
/// `manage-package-manager-versions` writes the package manager's own lock as a first
/// document before the project's. A version is what the entry's `version:` field or the key
/// says; a key naming a tarball URL, a git host or a `file:` path without a `version:` field
/// keeps the package with its version unknown, and `link:` entries (workspace links) are not
/// packages. v9 keeps dependencies in `snapshots:`, which are joined in.
fn parse_pnpm_lock(text: &str) -> Result<Vec<PackageRecord>, String> {
    /// The parts of a pnpm lockfile read; `packages` keeps the file's order.
    #[derive(serde::Deserialize)]
    struct PnpmLock {
        #[serde(rename = "lockfileVersion")]
        lockfile_version: Option<Value>,
        packages: Option<IndexMap<String, Value>>,
        snapshots: Option<IndexMap<String, Value>>,
    }
    // An empty document is an empty lockfile.
    let docs: Vec<Option<PnpmLock>> =
        serde_saphyr::from_multiple_with_options(text, yaml_options())
            .map_err(|e| format!("not valid YAML: {e}"))?;
    let mut out = Vec::new();
    for doc in docs.into_iter().flatten() {
        if let Some(packages) = doc.packages {
            read_pnpm_packages(doc.lockfile_version, packages, doc.snapshots, &mut out);
        }
    }
    Ok(out)
}

/// The dependency names of a pnpm entry; an alias (`foo-debug: debug@4.3.4`, v9's
/// snapshots) is the real package.
fn pnpm_dependencies(entry: &Value) -> Vec<String> {
    let Some(deps) = entry.get("dependencies").and_then(|d| d.as_object()) else {
        return Vec::new();
    };
    deps.iter()
        .map(|(name, spec)| {
            let real = spec
                .as_str()
                .filter(|s| !s.starts_with(|c: char| c.is_ascii_digit()))
                .map(|s| s.split('(').next().unwrap_or(s))
                .and_then(|s| {
                    let from = usize::from(s.starts_with('@'));
                    s[from..].find('@').map(|i| &s[..i + from])
                })
                .filter(|n| valid_name(n));
            real.unwrap_or(name).to_string()
        })
        .collect()
}

/// Whether a pnpm key's version part is a real version rather than where the package came
/// from (`https://codeload.github.com/…/tar.gz/v0.4.0`, `file:../pkg`, `github.com/…`).
fn is_registry_version(version: &str) -> bool {
    !version.contains([':', '/']) && version.starts_with(|c: char| c.is_ascii_alphanumeric())
}

fn read_pnpm_packages(
    lockfile_version: Option<Value>,
    packages: IndexMap<String, Value>,
    snapshots: Option<IndexMap<String, Value>>,
    out: &mut Vec<PackageRecord>,
) {
    let v5 = match lockfile_version {
        Some(Value::Number(n)) => n.as_f64().is_some_and(|v| v < 6.0),
        Some(Value::String(s)) => s.starts_with('5'),
        _ => false,
    };
    let mut snapshot_deps: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (key, entry) in snapshots.iter().flatten() {
        let key = key.split('(').next().unwrap_or(key);
        let deps = snapshot_deps.entry(key.to_string()).or_default();
        for d in pnpm_dependencies(entry) {
            if !deps.contains(&d) {
                deps.push(d);
            }
        }
    }
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
        let field_version = entry.get("version").and_then(|v| v.as_str());
        let (name, key_version) = match entry.get("name").and_then(|n| n.as_str()) {
            Some(n) => (n.to_string(), None),
            None => {
                let search_from = usize::from(key.starts_with('@'));
                match key[search_from..].find('@') {
                    Some(i) => (
                        key[..i + search_from].to_string(),
                        Some(&key[i + search_from + 1..]),
                    ),
                    // v5: `/name/1.0.0` or `/@scope/name/1.0.0`
                    None => match key.rsplit_once('/') {
                        Some((n, v)) => (n.to_string(), Some(v)),
                        None => continue,
                    },
                }
            }
        };
        if key_version.is_some_and(|v| v.starts_with("link:")) && field_version.is_none() {
            continue;
        }
        let version = match (field_version, key_version) {
            (Some(v), _) => v.to_string(),
            (None, Some(v)) if is_registry_version(v) => {
                v.split('_').next().unwrap_or(v).to_string()
            }
            _ => String::new(),
        };
        let mut r = PackageRecord::new(Ecosystem::Npm, name, version);
        r.dev = entry.get("dev").and_then(|d| d.as_bool()).unwrap_or(false);
        r.dependencies = match snapshot_deps.get(key) {
            Some(deps) => deps.clone(),
            None => pnpm_dependencies(entry),
        };
        out.push(r);
    }
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
    use bulwark_analyze::{AnalyzerOutput, FileKind, FileMeta};

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
            vec![
                "@scope/x@1.0.0 dev",
                "app@",
                "lodash@4.17.15",
                "lodash@4.17.21"
            ]
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
        let r = parse_yarn_lock(berry).unwrap();
        assert_eq!(names(&r), vec!["app@", "lodash@4.17.21"]);
        assert_eq!(r[1].role, PackageRole::Root);
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
            assert_eq!(names(&records), vec!["a@2.0.0", "app@", "b@1.0.0"], "{doc}");
            assert_eq!(records[0].role, PackageRole::Root);
            assert_eq!(records[1].licenses, vec!["MIT"]);
            assert_eq!(records[1].dependencies, vec!["b"]);
            assert_eq!(records[2].licenses, vec!["MIT OR Apache-2.0"]);
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
        assert_eq!(records.len(), 200_001, "the entries and the project");
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

    fn analyze_file(path: &str, content: &str) -> (Vec<String>, AnalyzerOutput) {
        let meta = FileMeta {
            path,
            kind: FileKind::Regular,
            size: content.len() as u64,
            mode: 0o644,
        };
        let mut out = AnalyzerOutput::default();
        NodeAnalyzer.analyze(&meta, content.as_bytes(), &mut out);
        let mut records = Vec::new();
        for fact in &out.facts {
            if let Fact::Packages { records: r } = fact {
                records.extend(r.iter().cloned());
            }
        }
        (names(&records), out)
    }

    /// Issue 18.2: a pnpm 9 lockfile (generated by pnpm 9.15.9) with an alias, a `file:`
    /// dependency and a tarball URL, and the same lock behind the package manager's own
    /// document (`---`-separated, as pnpm 10 writes it): every document is read, no URL or
    /// path is a version, aliases are the real package, v9 snapshots give dependencies.
    #[test]
    fn issue_18_2_pnpm_v9_versions_aliases_and_documents() {
        let single = include_str!("../../testdata/js/pnpm-v9-alias-file-tarball.yaml");
        let records = parse_pnpm_lock(single).unwrap();
        assert_eq!(
            names(&records),
            vec![
                "debug@4.3.4",
                "is-number@7.0.0",
                "localpkg@",
                "ms@2.1.2",
                "ms@2.1.3"
            ]
        );
        let debug = records.iter().find(|r| r.name == "debug").unwrap();
        assert_eq!(debug.dependencies, vec!["ms"]);

        let multi = include_str!("../../testdata/js/pnpm-multi-document.yaml");
        let (got, out) = analyze_file("app/pnpm-lock.yaml", multi);
        assert!(out.problems.is_empty(), "{:?}", out.problems);
        assert_eq!(
            got,
            vec![
                "debug@4.3.4",
                "is-number@7.0.0",
                "left-pad@1.3.0",
                "localpkg@",
                "ms@2.1.2",
                "ms@2.1.3",
                "pnpm@10.34.9"
            ]
        );
        assert!(got
            .iter()
            .all(|g| !g.contains("http") && !g.contains("file:")));

        // pnpm 6's keys for the same cases, written from its format.
        let v6 = "lockfileVersion: '6.0'\npackages:\n  /ms@2.1.3:\n    dev: false\n  file:localpkg:\n    resolution: {directory: localpkg, type: directory}\n    name: localpkg\n    version: 0.3.1\n    dev: false\n  '@codeload.github.com/left-pad/left-pad/tar.gz/v1.3.0':\n    resolution: {tarball: https://codeload.github.com/left-pad/left-pad/tar.gz/v1.3.0}\n    name: left-pad\n    version: 1.3.0\n    dev: false\n  /workspace-b@link:../b:\n    dev: false\n";
        assert_eq!(
            names(&parse_pnpm_lock(v6).unwrap()),
            vec!["left-pad@1.3.0", "localpkg@0.3.1", "ms@2.1.3"]
        );
    }

    /// Issue 18.2: yarn.lock as npm writes it (npm 11.19.1 output; and npm 7's, with every
    /// field quoted and in alphabetical order) reads, aliases as the real package.
    #[test]
    fn issue_18_2_yarn_lock_written_by_npm() {
        let npm11 = include_str!("../../testdata/js/yarn-by-npm11.lock");
        let r = parse_yarn_lock(npm11).unwrap();
        assert_eq!(names(&r), vec!["debug@4.3.4", "ms@2.1.2", "ms@2.1.3"]);
        assert_eq!(r[0].dependencies, vec!["ms"]);
        let npm7 = "# THIS IS AN AUTOGENERATED FILE. DO NOT EDIT THIS FILE DIRECTLY.\n# yarn lockfile v1\n\n\n\"foo-debug@npm:debug@4.3.4\":\n  \"dependencies\":\n    \"ms\" \"2.1.2\"\n  \"integrity\" \"sha512-AAAA\"\n  \"resolved\" \"https://registry.npmjs.org/debug/-/debug-4.3.4.tgz\"\n  \"version\" \"4.3.4\"\n\n\"ms@2.1.2\":\n  \"integrity\" \"sha512-BBBB\"\n  \"resolved\" \"https://registry.npmjs.org/ms/-/ms-2.1.2.tgz\"\n  \"version\" \"2.1.2\"\n";
        let r = parse_yarn_lock(npm7).unwrap();
        assert_eq!(names(&r), vec!["debug@4.3.4", "ms@2.1.2"]);
        assert_eq!(r[0].dependencies, vec!["ms"]);
    }

    /// Issue 18.2: a yarn berry lock with one key written twice keeps every other package
    /// (the first of the duplicates too) and says so in a note; a berry alias is the real
    /// package; npm lock v1 aliases too.
    #[test]
    fn issue_18_2_berry_duplicate_keys_and_aliases() {
        let berry = "# This file is generated by running \"yarn install\" inside your project.\n\n__metadata:\n  version: 8\n  cacheKey: 10c0\n\n\"foo-debug@npm:debug@4\":\n  version: 4.3.4\n  resolution: \"debug@npm:4.3.4\"\n  dependencies:\n    ms: \"npm:2.1.2\"\n  checksum: 10c0/aaaa\n  languageName: node\n  linkType: hard\n\n\"ms@npm:2.1.2\":\n  version: 2.1.2\n  resolution: \"ms@npm:2.1.2\"\n  languageName: node\n  linkType: hard\n\n\"ms@npm:2.1.2\":\n  version: 2.1.2\n  resolution: \"ms@npm:2.1.2\"\n  languageName: node\n  linkType: hard\n\n\"lodash@npm:^4.17.21\":\n  version: 4.17.21\n  resolution: \"lodash@npm:4.17.21\"\n  languageName: node\n  linkType: hard\n";
        let (got, out) = analyze_file("app/yarn.lock", berry);
        assert!(out.problems.is_empty(), "{:?}", out.problems);
        assert_eq!(got, vec!["debug@4.3.4", "lodash@4.17.21", "ms@2.1.2"]);
        assert_eq!(out.notes.len(), 1, "{:?}", out.notes);
        let v1 = r#"{"lockfileVersion": 1, "dependencies": {"foo-debug": {"version": "npm:debug@4.3.4"}, "@x/y": {"version": "npm:@scope/real@1.0.0"}}}"#;
        assert_eq!(
            names(&parse_npm_lock(v1).unwrap()),
            vec!["@scope/real@1.0.0", "debug@4.3.4"]
        );
    }

    /// Issue 18.6: a manifest whose name npm would refuse is a note, never a package, from
    /// every npm source; names npm still accepts for old packages stay.
    #[test]
    fn issue_18_6_invalid_npm_names_are_notes() {
        for bad in [
            "@invalid/packageName/",
            ".hidden",
            "_private",
            "has space",
            " lead",
            "@scope",
            "@/x",
            "node_modules",
            "a/b",
            "{{name}}",
        ] {
            let manifest = format!(r#"{{"name": {bad:?}, "version": "1.0.0"}}"#);
            let (got, out) = analyze_file("app/node_modules/x/package.json", &manifest);
            assert!(got.is_empty(), "{bad}: {got:?}");
            assert_eq!(out.notes.len(), 1, "{bad}");
        }
        let long = "a".repeat(215);
        assert!(!valid_name(&long));
        assert!(valid_name(&"a".repeat(214)));
        for good in [
            "lodash",
            "@babel/core",
            "JSONStream",
            "left-pad",
            "a.b",
            "@x/y.z",
        ] {
            assert!(valid_name(good), "{good}");
        }
        let lock = r#"{"lockfileVersion": 3, "packages": {"": {"name": "app"}, "node_modules/ok": {"version": "1.0.0"}, "node_modules/bad": {"name": "Bad Name", "version": "1.0.0"}}}"#;
        let (got, out) = analyze_file("app/package-lock.json", lock);
        assert_eq!(got, vec!["app@", "ok@1.0.0"]);
        assert_eq!(out.notes.len(), 1);
    }

    /// Issue 18.7: a package-lock's root package is the project (role root, its declared
    /// dependencies kept) and workspace members are members; npm writes them so for a
    /// workspace project (`npm install` with `"workspaces": ["packages/*"]`).
    #[test]
    fn issue_18_7_npm_lock_root_and_workspace_members() {
        let lock = r#"{
  "name": "monorepo",
  "version": "2.0.0",
  "lockfileVersion": 3,
  "requires": true,
  "packages": {
    "": {"name": "monorepo", "version": "2.0.0", "workspaces": ["packages/*"], "dependencies": {"ms": "2.1.3"}},
    "node_modules/ms": {"version": "2.1.3", "license": "MIT"},
    "node_modules/web": {"resolved": "packages/web", "link": true},
    "packages/web": {"name": "web", "version": "0.1.0", "dependencies": {"ms": "^2"}}
  }
}"#;
        let records = parse_npm_lock(lock).unwrap();
        let got: Vec<(&str, &str, PackageRole)> = records
            .iter()
            .map(|r| (r.name.as_str(), r.version.as_str(), r.role))
            .collect();
        assert_eq!(
            got,
            vec![
                ("monorepo", "2.0.0", PackageRole::Root),
                ("ms", "2.1.3", PackageRole::Dependency),
                ("web", "0.1.0", PackageRole::Member),
            ]
        );
        assert_eq!(records[0].dependencies, vec!["ms"]);
    }
}
