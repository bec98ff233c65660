//! .NET (NuGet) packages: what a published application loads (`*.deps.json`, its `libraries`
//! of `type: package`), what a restore pinned (`packages.lock.json`, every target framework's
//! `Direct`/`Transitive`/`CentralTransitive` entries; `Project` references are the solution's
//! own code), and what project files reference (`*.csproj`/`*.fsproj`/`*.vbproj`
//! `<PackageReference>`, version as attribute or child element; legacy `packages.config`).
//!
//! Central package management: `Directory.Packages.props` (and any `*.props`, such as
//! `Directory.Build.props`) declares versions with `<PackageVersion Include=… Version=…/>`
//! (`<GlobalPackageReference>` and, in a `.props`, `<PackageReference Update=… Version=…/>`
//! too), each reported as a declared package; a project's `<PackageReference>` without a
//! version (or with an MSBuild property this file does not define) is declared with the
//! version unknown, and the assembly joins it to the package of that name found elsewhere
//! (the central version, or the installed copy). `VersionOverride` wins over both. Properties
//! (`$(SerilogVersion)`) are resolved from the same file's `<PropertyGroup>`s.
//!
//! A `project` library of `deps.json` is the application itself: reported (see the root rule
//! in docs/architecture.md). A `runtimepack.<Name>/<version>` library is the .NET runtime a
//! self-contained application carries, reported as the NuGet package `<Name>` so runtime
//! advisories match. Malformed XML is a problem and yields no packages: what was read
//! before the error may be a fragment of a different document.
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
    /// MSBuild `*.props` (`Directory.Packages.props`, `Directory.Build.props`).
    Props,
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
    } else if has_suffix(name, ".props") {
        Some(DotnetFile::Props)
    } else {
        None
    }
}

impl Analyzer for DotnetAnalyzer {
    fn id(&self) -> &'static str {
        "dotnet"
    }

    fn version(&self) -> u32 {
        3
    }

    fn wants(&self, file: &FileMeta) -> Interest {
        if file.kind != FileKind::Regular {
            return Interest::Skip;
        }
        match classify(file.file_name()) {
            Some(DotnetFile::DepsJson | DotnetFile::LockJson) => Interest::Read {
                max_bytes: 64 << 20,
            },
            Some(DotnetFile::Project | DotnetFile::PackagesConfig | DotnetFile::Props) => {
                Interest::Read {
                    max_bytes: 16 << 20,
                }
            }
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
                    DotnetFile::DepsJson => {
                        let name = file.file_name();
                        let app = &name[..name.len() - ".deps.json".len()];
                        parse_deps_json(&doc, app, out)
                    }
                    _ => super::declared(parse_lock_json(&doc, out)),
                }
            }
            DotnetFile::Project | DotnetFile::PackagesConfig | DotnetFile::Props => {
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

/// `*.deps.json`: `libraries` keyed `Name/Version`: `package` entries, `project`s (the
/// application itself, named like the file, and the solution's projects it references) and `runtimepack.<Name>` (the runtime of a self-contained app, reported
/// as `<Name>`); `reference` (a plain assembly) is skipped. Dependencies come from the
/// `targets` entry of the same key.
fn parse_deps_json(doc: &Value, app: &str, out: &mut AnalyzerOutput) -> Vec<PackageRecord> {
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
        let runtime_pack = ty.eq_ignore_ascii_case("runtimepack");
        if !(ty.eq_ignore_ascii_case("package")
            || ty.eq_ignore_ascii_case("project")
            || runtime_pack)
        {
            continue;
        }
        let Some((name, version)) = key.rsplit_once('/').filter(|(n, v)| valid(n) && valid(v))
        else {
            malformed += 1;
            continue;
        };
        let name = match name.strip_prefix("runtimepack.") {
            Some(runtime) if runtime_pack && valid(runtime) => runtime,
            _ => name,
        };
        let i = collected.add(name, version, None);
        // The project named like the file (`app` in `app.deps.json`) is the application;
        // other projects are the solution's libraries it references: members.
        if ty.eq_ignore_ascii_case("project") {
            collected.records[i].role = if name.eq_ignore_ascii_case(app) {
                bulwark_types::PackageRole::Root
            } else {
                bulwark_types::PackageRole::Member
            };
        }
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
    /// `VersionOverride`: wins over the central version.
    version_override: String,
    private_all: bool,
    /// `<PackageReference Update=…>` in a project changes metadata of a reference made
    /// elsewhere; in a `.props` with a version it is the central version of that package.
    update: bool,
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
            (DotnetFile::PackagesConfig, "id")
            | (DotnetFile::Project | DotnetFile::Props, "include") => r.name = value,
            (DotnetFile::Project | DotnetFile::Props, "update") => {
                r.update = true;
                r.name = value;
            }
            (_, "version") => r.version = value,
            (DotnetFile::Project | DotnetFile::Props, "versionoverride") => {
                r.version_override = value
            }
            (DotnetFile::Project | DotnetFile::Props, "privateassets") => {
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

/// `$(Name)` replaced from the file's properties; `None` when one is not defined here.
fn expand(value: &str, properties: &HashMap<String, String>) -> Option<String> {
    let mut current = value.trim().to_string();
    // Bounded: a property may refer to another, never to itself for ever.
    for _ in 0..16 {
        let Some(start) = current.find("$(") else {
            return Some(current);
        };
        let end = start + current[start..].find(')')?;
        let key = current[start + 2..end].to_ascii_lowercase();
        let replacement = properties.get(&key)?;
        current = format!(
            "{}{}{}",
            &current[..start],
            replacement,
            &current[end + 1..]
        );
        if current.len() > 1024 {
            return None;
        }
    }
    None
}

/// NuGet's exact-version range `[1.2.3]` is the version; other ranges and floating versions
/// stay as written; empty is unknown.
fn reference_version(v: &str) -> String {
    let v = v.trim();
    let exact = v
        .strip_prefix('[')
        .and_then(|r| r.strip_suffix(']'))
        .filter(|r| !r.contains(','));
    exact.unwrap_or(v).trim().to_string()
}

fn finish(
    r: Reference,
    kind: DotnetFile,
    properties: &HashMap<String, String>,
    out: &mut Vec<PackageRecord>,
) {
    if !valid(&r.name) || (r.update && !matches!(kind, DotnetFile::Props)) {
        return;
    }
    let written = if r.version_override.is_empty() {
        &r.version
    } else {
        &r.version_override
    };
    // A version this file cannot resolve (a property defined elsewhere) is unknown here.
    let version = expand(written, properties)
        .map(|v| reference_version(&v))
        .unwrap_or_default();
    if !version.is_empty() && !valid(&version) {
        return;
    }
    if out.iter().any(|p| p.name == r.name && p.version == version) {
        return;
    }
    let mut record = PackageRecord::new(Ecosystem::NuGet, r.name, version);
    record.dev = r.private_all;
    out.push(record);
}

/// Project files (`<PackageReference Include=… Version=…/>` or with `<Version>` and
/// `<PrivateAssets>` children), `*.props` (`<PackageVersion>`, `<GlobalPackageReference>`,
/// `<PackageReference>`) and `packages.config` (`<package id=… version=…/>`).
fn parse_xml(text: &str, kind: DotnetFile, out: &mut AnalyzerOutput) -> Vec<PackageRecord> {
    let is_item = |name: &[u8]| match kind {
        DotnetFile::PackagesConfig => name == b"package",
        _ => matches!(
            name,
            b"PackageReference" | b"PackageVersion" | b"GlobalPackageReference"
        ),
    };
    let mut reader = quick_xml::Reader::from_str(text);
    reader.config_mut().trim_text(true);
    let mut references = Vec::new();
    let mut properties: HashMap<String, String> = HashMap::new();
    let mut stack: Vec<String> = Vec::new();
    let mut open: Option<Reference> = None;
    let mut child: Option<String> = None;
    let mut saw_root = false;
    loop {
        match reader.read_event() {
            Ok(Event::Empty(e)) => {
                saw_root = true;
                if is_item(e.local_name().as_ref()) {
                    references.push(attributes(&e, kind));
                }
            }
            Ok(Event::Start(e)) => {
                saw_root = true;
                let name = String::from_utf8_lossy(e.local_name().as_ref()).into_owned();
                if is_item(e.local_name().as_ref()) {
                    open = Some(attributes(&e, kind));
                } else if open.is_some() {
                    child = Some(name.to_ascii_lowercase());
                }
                stack.push(name);
            }
            Ok(Event::Text(t)) => {
                // Entity references arrive as separate events (quick-xml 0.38+); names,
                // versions and properties do not use them.
                let value = t.decode().map(|v| v.trim().to_string()).unwrap_or_default();
                if let (Some(r), Some(name)) = (open.as_mut(), child.as_deref()) {
                    match name {
                        "version" => r.version = value,
                        "versionoverride" => r.version_override = value,
                        "privateassets" => r.private_all = value.eq_ignore_ascii_case("all"),
                        _ => {}
                    }
                } else if let [.., group, property] = stack.as_slice() {
                    if group == "PropertyGroup" {
                        properties.insert(property.to_ascii_lowercase(), value);
                    }
                }
            }
            Ok(Event::End(e)) => {
                if is_item(e.local_name().as_ref()) {
                    references.extend(open.take());
                }
                child = None;
                stack.pop();
            }
            Ok(Event::Eof) => break,
            Ok(_) => {}
            Err(e) => {
                out.problem(format!(
                    "malformed XML at byte {}: {e}; no packages read from it",
                    reader.error_position()
                ));
                return Vec::new();
            }
        }
    }
    if !saw_root {
        out.problem("not an XML document: no root element");
        return Vec::new();
    }
    if !stack.is_empty() {
        out.problem(format!(
            "malformed XML: <{}> is never closed; no packages read from it",
            stack.join("> <")
        ));
        return Vec::new();
    }
    let mut records = Vec::new();
    for r in references {
        finish(r, kind, &properties, &mut records);
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
                ("Serilog.Sinks.Console".into(), "4.1.0".into(), false),
                ("app".into(), "1.0.0".into(), false),
                (
                    "Microsoft.NETCore.App.Runtime.linux-x64".into(),
                    "6.0.0".into(),
                    false
                ),
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
                ("Central".into(), String::new(), false),
                ("Prop".into(), String::new(), false),
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
        assert!(rows.is_empty(), "{rows:?}");
        assert_eq!(problems.len(), 1, "{problems:?}");
        let (rows, _, problems) = run("a/App.csproj", "\0\u{1}binary");
        assert!(rows.is_empty());
        assert_eq!(problems.len(), 1);
    }

    /// Issue 18.4: a self-contained app's deps.json (the shape `dotnet publish
    /// --self-contained -r linux-x64` writes) keeps the runtime pack as the runtime package
    /// and the project itself; reference assemblies stay out.
    #[test]
    fn issue_18_4_deps_json_runtime_pack_and_project() {
        let (rows, records, problems) = run(
            "app/WebApp.deps.json",
            r#"{
  "runtimeTarget": {"name": ".NETCoreApp,Version=v8.0/linux-x64", "signature": ""},
  "compilationOptions": {},
  "targets": {
    ".NETCoreApp,Version=v8.0": {},
    ".NETCoreApp,Version=v8.0/linux-x64": {
      "WebApp/1.4.0": {
        "dependencies": {"Serilog": "3.1.1", "Microsoft.NETCore.App.Runtime.linux-x64": "8.0.1"},
        "runtime": {"WebApp.dll": {}}
      },
      "runtimepack.Microsoft.NETCore.App.Runtime.linux-x64/8.0.1": {
        "runtime": {"System.Private.CoreLib.dll": {"assemblyVersion": "8.0.0.0", "fileVersion": "8.0.123.58001"}}
      },
      "Serilog/3.1.1": {"runtime": {"lib/net7.0/Serilog.dll": {}}},
      "Legacy.Interop/1.0.0.0": {"runtime": {"Legacy.Interop.dll": {}}}
    }
  },
  "libraries": {
    "WebApp/1.4.0": {"type": "project", "serviceable": false, "sha512": ""},
    "Shared/1.4.0": {"type": "project", "serviceable": false, "sha512": ""},
    "runtimepack.Microsoft.NETCore.App.Runtime.linux-x64/8.0.1": {"type": "runtimepack", "serviceable": false, "sha512": ""},
    "Serilog/3.1.1": {"type": "package", "serviceable": true, "sha512": "sha512-AAAA", "path": "serilog/3.1.1", "hashPath": "serilog.3.1.1.nupkg.sha512"},
    "Legacy.Interop/1.0.0.0": {"type": "reference", "serviceable": false, "sha512": ""}
  }
}"#,
        );
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(
            rows,
            vec![
                ("Serilog".into(), "3.1.1".into(), false),
                ("Shared".into(), "1.4.0".into(), false),
                ("WebApp".into(), "1.4.0".into(), false),
                (
                    "Microsoft.NETCore.App.Runtime.linux-x64".into(),
                    "8.0.1".into(),
                    false
                ),
            ]
        );
        let role = |n: &str| records.iter().find(|r| r.name == n).map(|r| r.role);
        assert_eq!(role("WebApp"), Some(bulwark_types::PackageRole::Root));
        assert_eq!(role("Shared"), Some(bulwark_types::PackageRole::Member));
    }

    /// Issue 18.4: central package management. `Directory.Packages.props` declares the
    /// versions (properties of the same file resolved); a project's references without one
    /// are declared with the version unknown (the assembly joins them to the central
    /// version); `VersionOverride` wins; a `Directory.Build.props` `Update` sets a version.
    #[test]
    fn issue_18_4_central_package_management() {
        let (rows, _, problems) = run(
            "src/Directory.Packages.props",
            r#"<Project>
  <PropertyGroup>
    <ManagePackageVersionsCentrally>true</ManagePackageVersionsCentrally>
    <SerilogVersion>3.1.1</SerilogVersion>
  </PropertyGroup>
  <ItemGroup>
    <PackageVersion Include="Newtonsoft.Json" Version="13.0.3" />
    <PackageVersion Include="Serilog" Version="$(SerilogVersion)" />
    <PackageVersion Include="Undefined" Version="$(Nowhere)" />
    <GlobalPackageReference Include="Nerdbank.GitVersioning" Version="3.6.133" />
  </ItemGroup>
</Project>"#,
        );
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(
            rows,
            vec![
                ("Newtonsoft.Json".into(), "13.0.3".into(), false),
                ("Serilog".into(), "3.1.1".into(), false),
                ("Undefined".into(), String::new(), false),
                ("Nerdbank.GitVersioning".into(), "3.6.133".into(), false),
            ]
        );
        let (rows, records, _) = run(
            "src/App/App.csproj",
            r#"<Project Sdk="Microsoft.NET.Sdk">
  <ItemGroup>
    <PackageReference Include="Newtonsoft.Json" />
    <PackageReference Include="Serilog" VersionOverride="3.0.1" />
  </ItemGroup>
</Project>"#,
        );
        assert_eq!(
            rows,
            vec![
                ("Newtonsoft.Json".into(), String::new(), false),
                ("Serilog".into(), "3.0.1".into(), false),
            ]
        );
        assert!(records
            .iter()
            .all(|r| r.evidence == bulwark_types::Evidence::Declared));
        let (rows, _, _) = run(
            "src/Directory.Build.props",
            r#"<Project><ItemGroup><PackageReference Update="Polly" Version="7.2.4" /></ItemGroup></Project>"#,
        );
        assert_eq!(rows, vec![("Polly".into(), "7.2.4".into(), false)]);
    }

    /// Issue 18.4: malformed XML yields a problem and no packages, even where the part
    /// before the error looked like a project.
    #[test]
    fn issue_18_4_malformed_xml_yields_no_packages() {
        for text in [
            r#"<Project><ItemGroup><PackageReference Include="A" Version="1.0.0"/></ItemGroup>"#,
            r#"<Project><ItemGroup><PackageReference Include="A" Version="1.0.0"/></ItemGroup></Projekt>"#,
            r#"<packages><package id="jQuery" version="3.6.0" /><package id="x" version="1" <"#,
        ] {
            for path in [
                "a/App.csproj",
                "a/packages.config",
                "a/Directory.Packages.props",
            ] {
                let (rows, _, problems) = run(path, text);
                assert!(rows.is_empty(), "{path} {text}: {rows:?}");
                assert_eq!(problems.len(), 1, "{path} {text}: {problems:?}");
            }
        }
    }
}
