//! .NET (NuGet) packages: what a published application loads (`*.deps.json`, its `libraries`
//! of `type: package`), what a restore pinned (`packages.lock.json`, every target framework's
//! `Direct`/`Transitive`/`CentralTransitive` entries; `Project` references are the solution's
//! own code), and what project files reference (`*.csproj`/`*.fsproj`/`*.vbproj`
//! `<PackageReference>`, version as attribute or child element; legacy `packages.config`).
//!
//! A reference marked `PrivateAssets="all"` (analyzers, source link, build tools) does not flow
//! to consumers or the published output: it is reported as a development package.

use std::collections::HashMap;

use bulwark_analyze::{
    Analyzer, AnalyzerOutput, Fact, FileKind, FileMeta, Interest, PackageRecord,
};
use bulwark_types::Ecosystem;
use quick_xml::events::{BytesStart, Event};
use serde_json::{Map, Value};

pub struct DotnetAnalyzer;

#[derive(Clone, Copy)]
enum DotnetFile {
    DepsJson,
    LockJson,
    Project,
    PackagesConfig,
}

/// `name` ends with `suffix`, ASCII case ignored, and has something before it. No allocation:
/// `wants` runs for every entry of every layer.
fn has_suffix(name: &str, suffix: &str) -> bool {
    name.len() > suffix.len()
        && name.as_bytes()[name.len() - suffix.len()..].eq_ignore_ascii_case(suffix.as_bytes())
}

fn classify(name: &str) -> Option<DotnetFile> {
    if has_suffix(name, ".deps.json") {
        Some(DotnetFile::DepsJson)
    } else if name.eq_ignore_ascii_case("packages.lock.json") {
        Some(DotnetFile::LockJson)
    } else if [".csproj", ".fsproj", ".vbproj"]
        .iter()
        .any(|ext| has_suffix(name, ext))
    {
        Some(DotnetFile::Project)
    } else if name.eq_ignore_ascii_case("packages.config") {
        Some(DotnetFile::PackagesConfig)
    } else {
        None
    }
}

impl Analyzer for DotnetAnalyzer {
    fn id(&self) -> &'static str {
        "dotnet"
    }

    fn version(&self) -> u32 {
        2
    }

    fn wants(&self, file: &FileMeta) -> Interest {
        if file.kind != FileKind::Regular {
            return Interest::Skip;
        }
        match classify(file.file_name()) {
            Some(DotnetFile::DepsJson | DotnetFile::LockJson) => Interest::Read {
                max_bytes: 64 << 20,
            },
            Some(DotnetFile::Project | DotnetFile::PackagesConfig) => Interest::Read {
                max_bytes: 16 << 20,
            },
            None => Interest::Skip,
        }
    }

    fn analyze(&self, file: &FileMeta, content: &[u8], out: &mut AnalyzerOutput) {
        let Some(kind) = classify(file.file_name()) else {
            return;
        };
        let records = match kind {
            DotnetFile::DepsJson | DotnetFile::LockJson => {
                // deps.json files are written with a UTF-8 byte order mark by some tools.
                let content = content.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(content);
                let doc: Value = match serde_json::from_slice(content) {
                    Ok(v) => v,
                    Err(e) => {
                        out.problem(format!("not valid JSON: {e}"));
                        return;
                    }
                };
                match kind {
                    DotnetFile::DepsJson => parse_deps_json(&doc, out),
                    _ => super::declared(parse_lock_json(&doc, out)),
                }
            }
            DotnetFile::Project | DotnetFile::PackagesConfig => {
                let text = super::decode_text(content);
                let text = text.trim_start_matches('\u{feff}');
                super::declared(parse_xml(text, kind, out))
            }
        };
        if !records.is_empty() {
            out.fact(Fact::Packages { records });
        }
    }
}

fn valid(s: &str) -> bool {
    !s.is_empty() && !s.contains(|c: char| c.is_whitespace() || c.is_control())
}

/// Records keyed by (name, version) in first-seen order, merging dependencies.
#[derive(Default)]
struct Collected {
    records: Vec<PackageRecord>,
    index: HashMap<(String, String), usize>,
}

impl Collected {
    fn add(&mut self, name: &str, version: &str, deps: Option<&Map<String, Value>>) -> usize {
        let key = (name.to_string(), version.to_string());
        let i = *self.index.entry(key).or_insert_with(|| {
            self.records
                .push(PackageRecord::new(Ecosystem::NuGet, name, version));
            self.records.len() - 1
        });
        if let Some(deps) = deps {
            let list = &mut self.records[i].dependencies;
            for d in deps.keys() {
                if !list.contains(d) {
                    list.push(d.clone());
                }
            }
        }
        i
    }
}

/// `*.deps.json`: `libraries` keyed `Name/Version`; only `type: package` entries are NuGet
/// packages (`project` is the application's own code, `reference` a plain assembly,
/// `runtimepack` the runtime itself). Dependencies come from the `targets` entry of the same key.
fn parse_deps_json(doc: &Value, out: &mut AnalyzerOutput) -> Vec<PackageRecord> {
    let Some(libraries) = doc.get("libraries").and_then(Value::as_object) else {
        out.problem("deps.json has no `libraries` object");
        return Vec::new();
    };
    let targets: Vec<&Map<String, Value>> = doc
        .get("targets")
        .and_then(Value::as_object)
        .map(|t| t.values().filter_map(Value::as_object).collect())
        .unwrap_or_default();
    let mut collected = Collected::default();
    let mut malformed = 0usize;
    for (key, library) in libraries {
        let ty = library.get("type").and_then(Value::as_str).unwrap_or("");
        if !ty.eq_ignore_ascii_case("package") {
            continue;
        }
        let Some((name, version)) = key.rsplit_once('/').filter(|(n, v)| valid(n) && valid(v))
        else {
            malformed += 1;
            continue;
        };
        collected.add(name, version, None);
        for target in &targets {
            let deps = target
                .get(key)
                .and_then(|t| t.get("dependencies"))
                .and_then(Value::as_object);
            collected.add(name, version, deps);
        }
    }
    if malformed > 0 {
        out.problem(format!(
            "{malformed} package libraries not keyed `Name/Version`"
        ));
    }
    collected.records
}

/// `packages.lock.json`: `dependencies` → target framework (`net6.0`, `net6.0/linux-x64`) →
/// package name → `{type, resolved, dependencies}`.
fn parse_lock_json(doc: &Value, out: &mut AnalyzerOutput) -> Vec<PackageRecord> {
    let Some(frameworks) = doc.get("dependencies").and_then(Value::as_object) else {
        out.problem("packages.lock.json has no `dependencies` object");
        return Vec::new();
    };
    let mut collected = Collected::default();
    let mut malformed = 0usize;
    for packages in frameworks.values() {
        let Some(packages) = packages.as_object() else {
            malformed += 1;
            continue;
        };
        for (name, entry) in packages {
            let ty = entry.get("type").and_then(Value::as_str).unwrap_or("");
            if ty.eq_ignore_ascii_case("project") {
                continue;
            }
            let version = entry.get("resolved").and_then(Value::as_str).unwrap_or("");
            if !valid(name) || !valid(version) {
                malformed += 1;
                continue;
            }
            let deps = entry.get("dependencies").and_then(Value::as_object);
            collected.add(name, version, deps);
        }
    }
    if malformed > 0 {
        out.problem(format!(
            "{malformed} packages.lock.json entries without a resolved version"
        ));
    }
    collected.records
}

/// A reference being read: from attributes, completed by child elements.
#[derive(Default)]
struct Reference {
    name: String,
    version: String,
    private_all: bool,
    /// `<PackageReference Update=…>` changes metadata of a reference made elsewhere.
    skip: bool,
}

fn attributes(e: &BytesStart, kind: DotnetFile) -> Reference {
    let mut r = Reference::default();
    for attr in e.attributes().flatten() {
        let key = String::from_utf8_lossy(attr.key.local_name().as_ref()).to_ascii_lowercase();
        let value = attr
            .normalized_value(quick_xml::XmlVersion::Implicit1_0)
            .map(|v| v.trim().to_string())
            .unwrap_or_default();
        match (kind, key.as_str()) {
            (DotnetFile::PackagesConfig, "id") | (DotnetFile::Project, "include") => r.name = value,
            (DotnetFile::Project, "update") => r.skip = true,
            (_, "version") => r.version = value,
            (DotnetFile::Project, "versionoverride") => r.version = value,
            (DotnetFile::Project, "privateassets") => {
                r.private_all = value.eq_ignore_ascii_case("all")
            }
            (DotnetFile::PackagesConfig, "developmentdependency") => {
                r.private_all = value.eq_ignore_ascii_case("true")
            }
            _ => {}
        }
    }
    r
}

/// NuGet's exact-version range `[1.2.3]` is the version; other ranges and floating versions
/// stay as written. MSBuild property references (`$(SerilogVersion)`) are resolved elsewhere
/// (`Directory.Build.props`) and give no version here.
fn reference_version(v: &str) -> Option<String> {
    let v = v.trim();
    if v.is_empty() || v.contains("$(") {
        return None;
    }
    let exact = v
        .strip_prefix('[')
        .and_then(|r| r.strip_suffix(']'))
        .filter(|r| !r.contains(','));
    Some(exact.unwrap_or(v).trim().to_string())
}

fn finish(r: Reference, out: &mut Vec<PackageRecord>) {
    if r.skip || !valid(&r.name) {
        return;
    }
    let Some(version) = reference_version(&r.version).filter(|v| valid(v)) else {
        return;
    };
    if out.iter().any(|p| p.name == r.name && p.version == version) {
        return;
    }
    let mut record = PackageRecord::new(Ecosystem::NuGet, r.name, version);
    record.dev = r.private_all;
    out.push(record);
}

/// Project files (`<PackageReference Include=… Version=…/>` or with `<Version>` and
/// `<PrivateAssets>` children) and `packages.config` (`<package id=… version=…/>`).
fn parse_xml(text: &str, kind: DotnetFile, out: &mut AnalyzerOutput) -> Vec<PackageRecord> {
    let element: &[u8] = match kind {
        DotnetFile::PackagesConfig => b"package",
        _ => b"PackageReference",
    };
    let mut reader = quick_xml::Reader::from_str(text);
    reader.config_mut().trim_text(true);
    let mut records = Vec::new();
    let mut open: Option<Reference> = None;
    let mut child: Option<String> = None;
    let mut saw_root = false;
    loop {
        match reader.read_event() {
            Ok(Event::Empty(e)) => {
                saw_root = true;
                if e.local_name().as_ref() == element {
                    finish(attributes(&e, kind), &mut records);
                }
            }
            Ok(Event::Start(e)) => {
                saw_root = true;
                if e.local_name().as_ref() == element {
                    open = Some(attributes(&e, kind));
                } else if open.is_some() {
                    child =
                        Some(String::from_utf8_lossy(e.local_name().as_ref()).to_ascii_lowercase());
                }
            }
            Ok(Event::Text(t)) => {
                if let (Some(r), Some(name)) = (open.as_mut(), child.as_deref()) {
                    let value = t
                        // Entity references arrive as separate events (quick-xml 0.38+);
                        // names and versions do not use them.
                        .decode()
                        .map(|v| v.trim().to_string())
                        .unwrap_or_default();
                    match name {
                        "version" | "versionoverride" => r.version = value,
                        "privateassets" => r.private_all = value.eq_ignore_ascii_case("all"),
                        _ => {}
                    }
                }
            }
            Ok(Event::End(e)) => {
                if e.local_name().as_ref() == element {
                    if let Some(r) = open.take() {
                        finish(r, &mut records);
                    }
                }
                child = None;
            }
            Ok(Event::Eof) => break,
            Ok(_) => {}
            Err(e) => {
                out.problem(format!(
                    "malformed XML at byte {}: {e}",
                    reader.error_position()
                ));
                return records;
            }
        }
    }
    if !saw_root {
        out.problem("not an XML document: no root element");
    }
    records
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (name, version, dev) rows, the records, and the problems of one analyzer run.
    type Run = (Vec<(String, String, bool)>, Vec<PackageRecord>, Vec<String>);

    fn run(path: &str, content: &str) -> Run {
        let meta = FileMeta {
            path,
            kind: FileKind::Regular,
            size: content.len() as u64,
            mode: 0o644,
        };
        assert!(
            matches!(DotnetAnalyzer.wants(&meta), Interest::Read { .. }),
            "{path}"
        );
        let mut out = AnalyzerOutput::default();
        DotnetAnalyzer.analyze(&meta, content.as_bytes(), &mut out);
        let records: Vec<PackageRecord> = out
            .facts
            .iter()
            .flat_map(|f| match f {
                Fact::Packages { records } => records.clone(),
                _ => Vec::new(),
            })
            .collect();
        let rows = records
            .iter()
            .map(|r| (r.name.clone(), r.version.clone(), r.dev))
            .collect();
        (rows, records, out.problems)
    }

    #[test]
    fn deps_json() {
        let (rows, records, problems) = run(
            "app/app.deps.json",
            r#"{"targets":{".NETCoreApp,Version=v6.0":{"app/1.0.0":{"dependencies":{"Newtonsoft.Json":"13.0.1"}},"Serilog.Sinks.Console/4.1.0":{"dependencies":{"Serilog":"2.12.0"}}}},
               "libraries":{"app/1.0.0":{"type":"project"},"Newtonsoft.Json/13.0.1":{"type":"package","serviceable":true},"Serilog.Sinks.Console/4.1.0":{"type":"package"},"runtimepack.Microsoft.NETCore.App.Runtime.linux-x64/6.0.0":{"type":"runtimepack"}}}"#,
        );
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(
            rows,
            vec![
                ("Newtonsoft.Json".into(), "13.0.1".into(), false),
                ("Serilog.Sinks.Console".into(), "4.1.0".into(), false)
            ]
        );
        assert_eq!(records[1].dependencies, vec!["Serilog"]);
    }

    #[test]
    fn lock_json() {
        let (rows, _, problems) = run(
            "src/packages.lock.json",
            r#"{"version":1,"dependencies":{"net6.0":{"Newtonsoft.Json":{"type":"Direct","requested":"[13.0.1, )","resolved":"13.0.1"},"Serilog":{"type":"Transitive","resolved":"2.12.0"},"Common":{"type":"Project"}},
               "net6.0/linux-x64":{"Serilog":{"type":"Transitive","resolved":"2.12.0"},"Polly":{"type":"CentralTransitive","requested":"[7.2.3, )","resolved":"7.2.3"}}}}"#,
        );
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(
            rows,
            vec![
                ("Newtonsoft.Json".into(), "13.0.1".into(), false),
                ("Serilog".into(), "2.12.0".into(), false),
                ("Polly".into(), "7.2.3".into(), false)
            ]
        );
    }

    #[test]
    fn project_files() {
        let (rows, _, problems) = run(
            "src/App/App.csproj",
            r#"<Project Sdk="Microsoft.NET.Sdk">
  <ItemGroup>
    <PackageReference Include="Newtonsoft.Json" Version="13.0.1" />
    <PackageReference Include="Serilog">
      <Version>2.12.0</Version>
    </PackageReference>
    <PackageReference Include="StyleCop.Analyzers" Version="1.1.118">
      <PrivateAssets>all</PrivateAssets>
    </PackageReference>
    <PackageReference Include="Exact" Version="[1.0.0]" />
    <PackageReference Include="Central" />
    <PackageReference Include="Prop" Version="$(PropVersion)" />
    <PackageReference Update="Newtonsoft.Json" Version="12.0.0" />
  </ItemGroup>
</Project>"#,
        );
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(
            rows,
            vec![
                ("Newtonsoft.Json".into(), "13.0.1".into(), false),
                ("Serilog".into(), "2.12.0".into(), false),
                ("StyleCop.Analyzers".into(), "1.1.118".into(), true),
                ("Exact".into(), "1.0.0".into(), false),
            ]
        );
        let (rows, _, _) = run(
            "x/Lib.fsproj",
            r#"<Project><ItemGroup><PackageReference Include="FSharp.Core" Version="6.0.7"/></ItemGroup></Project>"#,
        );
        assert_eq!(rows, vec![("FSharp.Core".into(), "6.0.7".into(), false)]);
        let (rows, _, _) = run(
            "x/packages.config",
            r#"<?xml version="1.0" encoding="utf-8"?><packages><package id="jQuery" version="3.6.0" targetFramework="net48" /><package id="NUnit" version="3.13.3" developmentDependency="true" /></packages>"#,
        );
        assert_eq!(
            rows,
            vec![
                ("jQuery".into(), "3.6.0".into(), false),
                ("NUnit".into(), "3.13.3".into(), true)
            ]
        );
    }

    #[test]
    fn names() {
        assert!(matches!(classify("App.CSPROJ"), Some(DotnetFile::Project)));
        assert!(matches!(
            classify("x.deps.json"),
            Some(DotnetFile::DepsJson)
        ));
        assert!(classify(".deps.json").is_none());
        assert!(classify(".csproj").is_none());
        assert!(classify("package.json").is_none());
        assert!(classify("é.csprojé").is_none());
    }

    #[test]
    fn malformed() {
        let (rows, _, problems) = run("a/app.deps.json", "{\"libraries\": {");
        assert!(rows.is_empty());
        assert_eq!(problems.len(), 1);
        let (_, _, problems) = run("a/packages.lock.json", "{\"version\": 1}");
        assert_eq!(problems.len(), 1);
        let (rows, _, problems) = run(
            "a/App.csproj",
            r#"<Project><ItemGroup><PackageReference Include="A" Version="1.0.0"/></ItemGroup><ItemGroup><PackageReference Include="B" Version="2.0"></Project>"#,
        );
        assert_eq!(rows, vec![("A".into(), "1.0.0".into(), false)]);
        assert_eq!(problems.len(), 1, "{problems:?}");
        let (rows, _, problems) = run("a/App.csproj", "\0\u{1}binary");
        assert!(rows.is_empty());
        assert_eq!(problems.len(), 1);
    }
}
