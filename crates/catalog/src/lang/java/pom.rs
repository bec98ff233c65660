//! `pom.xml` in source trees: the project (groupId and version inherited from `<parent>`)
//! and its `<dependencies>`, the version written on the dependency or in this pom's own
//! `<dependencyManagement>` (which wins over a parent's, as in Maven), with `${…}` resolved
//! from the same pom (`project.*`, `parent.*`, `<properties>`, so CI-friendly
//! `${revision}`, `${sha1}`, `${changelist}` defined there too). Versions managed elsewhere
//! (a parent's or a BOM's `<dependencyManagement>`) and placeholders this pom does not
//! define (`-Drevision=` on the command line or in `.mvn/maven.config`) keep the package
//! with the version unknown and a note: reading other files would need the build's context.
//! Ranges are skipped. `<scope>test</scope>` is dev.

use std::collections::HashMap;

use bulwark_analyze::PackageRecord;
use bulwark_types::Ecosystem;
use quick_xml::events::Event;
use quick_xml::Reader;

use crate::license;

#[derive(Default)]
struct Pom {
    group: Option<String>,
    artifact: Option<String>,
    version: Option<String>,
    parent_group: Option<String>,
    parent_version: Option<String>,
    properties: HashMap<String, String>,
    dependencies: Vec<Dependency>,
    /// This pom's own `<dependencyManagement>` (not BOM imports).
    managed: Vec<Dependency>,
    licenses: Vec<String>,
}

#[derive(Default)]
struct Dependency {
    group: Option<String>,
    artifact: Option<String>,
    version: Option<String>,
    scope: Option<String>,
}

const MANAGED_DEPENDENCY: &[&str] = &[
    "project",
    "dependencyManagement",
    "dependencies",
    "dependency",
];

/// Element nesting accepted; a real pom is a dozen levels deep.
const MAX_NESTING: usize = 256;
/// Longest value `${…}` substitution may build (property chains doubling at each step).
const MAX_RESOLVED_LEN: usize = 4096;

/// The project and its dependencies, with what could not be resolved in `notes`. A version
/// this pom cannot resolve (a parent's or BOM's `<dependencyManagement>`, a CI-friendly
/// `${revision}` given on the command line or in `.mvn/maven.config`) keeps the package with
/// its version unknown: dropping it would lose the module and everything it declares.
pub(super) fn parse(text: &str) -> Result<(Vec<PackageRecord>, Vec<String>), String> {
    let pom = read(text)?;
    let mut records = Vec::new();
    let mut names = Vec::new();
    let mut unresolved = Vec::new();
    // This pom's own management wins over its parent's (which is not read), as in Maven.
    let managed: HashMap<(String, String), &Dependency> = pom
        .managed
        .iter()
        .filter(|d| d.scope.as_deref().map(str::trim) != Some("import"))
        .filter_map(|d| {
            let group = d.group.as_deref().and_then(|g| resolve(&pom, g))?;
            let artifact = d.artifact.as_deref().and_then(|a| resolve(&pom, a))?;
            Some(((group, artifact), d))
        })
        .collect();
    for dep in &pom.dependencies {
        let (Some(group), Some(artifact)) = (
            dep.group.as_deref().and_then(|g| resolve(&pom, g)),
            dep.artifact.as_deref().and_then(|a| resolve(&pom, a)),
        ) else {
            continue;
        };
        names.push(format!("{group}:{artifact}"));
        let management = managed.get(&(group.clone(), artifact.clone()));
        let written = dep
            .version
            .as_deref()
            .or_else(|| management.and_then(|m| m.version.as_deref()));
        let version = match written {
            Some(w) => match resolve(&pom, w) {
                Some(v) if v.starts_with(['[', '(']) => continue,
                Some(v) => v,
                None => {
                    unresolved.push(format!("{group}:{artifact} ({})", w.trim()));
                    String::new()
                }
            },
            // Managed by a parent or an imported BOM: not in this file.
            None => String::new(),
        };
        let scope = dep
            .scope
            .as_deref()
            .or_else(|| management.and_then(|m| m.scope.as_deref()));
        let mut record = PackageRecord::new(Ecosystem::Maven, artifact, version);
        record.namespace = Some(group);
        record.dev = scope.map(str::trim) == Some("test");
        records.push(record);
    }
    let group = pom.group.as_ref().or(pom.parent_group.as_ref());
    let version = pom.version.as_ref().or(pom.parent_version.as_ref());
    if let (Some(group), Some(artifact)) = (
        group.and_then(|g| resolve(&pom, g)),
        pom.artifact.as_deref().and_then(|a| resolve(&pom, a)),
    ) {
        let version = match version {
            Some(v) => resolve(&pom, v).unwrap_or_else(|| {
                unresolved.push(format!("the project {group}:{artifact} ({})", v.trim()));
                String::new()
            }),
            None => String::new(),
        };
        let mut project = PackageRecord::new(Ecosystem::Maven, artifact, version)
            .with_role(bulwark_types::PackageRole::Root);
        project.namespace = Some(group);
        project.dependencies = names;
        project.licenses = pom
            .licenses
            .iter()
            .filter_map(|l| maven_license(l).or_else(|| license::expression_to_spdx(l)))
            .collect();
        records.insert(0, project);
    }
    let notes = if unresolved.is_empty() {
        Vec::new()
    } else {
        vec![format!(
            "pom.xml versions not resolvable from this file (kept with the version unknown; \
             a parent pom, the command line or .mvn/maven.config defines them): {}",
            unresolved.join(", ")
        )]
    };
    Ok((records, notes))
}

/// The licence names poms commonly carry, which are prose rather than SPDX ids.
fn maven_license(name: &str) -> Option<String> {
    let n = name.to_ascii_lowercase();
    let has = |w: &str| n.contains(w);
    let id = if has("apache") && (has("2.0") || has("version 2")) {
        "Apache-2.0"
    } else if has("mit license") || n.trim() == "mit" {
        "MIT"
    } else if has("eclipse public license") && has("2.0") {
        "EPL-2.0"
    } else if has("eclipse public license") && has("1.0") {
        "EPL-1.0"
    } else if has("eclipse distribution license")
        || (has("bsd") && (has("3-clause") || has("3 clause") || has("new")))
    {
        "BSD-3-Clause"
    } else if has("bsd") && (has("2-clause") || has("2 clause") || has("simplified")) {
        "BSD-2-Clause"
    } else if has("lesser general public license") && has("2.1") {
        "LGPL-2.1-only"
    } else if has("common development and distribution license") && has("1.0") {
        "CDDL-1.0"
    } else {
        return None;
    };
    Some(id.to_string())
}

fn read(text: &str) -> Result<Pom, String> {
    let mut reader = Reader::from_str(text);
    reader.config_mut().trim_text(true);
    let mut pom = Pom::default();
    let mut stack: Vec<String> = Vec::new();
    let mut text_buf = String::new();
    let mut dep: Option<Dependency> = None;
    let mut saw_project = false;
    loop {
        let event = reader
            .read_event()
            .map_err(|e| format!("malformed pom.xml at byte {}: {e}", reader.error_position()))?;
        match event {
            Event::Start(e) => {
                let name = String::from_utf8_lossy(e.local_name().as_ref()).into_owned();
                if stack.is_empty() {
                    if name != "project" {
                        return Err(format!("not a Maven POM: the root element is <{name}>"));
                    }
                    saw_project = true;
                }
                stack.push(name);
                if stack.len() > MAX_NESTING {
                    return Err(format!("pom.xml nests elements over {MAX_NESTING} deep"));
                }
                if is(&stack, &["project", "dependencies", "dependency"])
                    || is(&stack, MANAGED_DEPENDENCY)
                {
                    dep = Some(Dependency::default());
                }
                text_buf.clear();
            }
            // `<sha1/>`: a property defined as empty (CI-friendly versions use this).
            Event::Empty(e) if is(&stack, &["project", "properties"]) => {
                let name = String::from_utf8_lossy(e.local_name().as_ref()).into_owned();
                pom.properties.insert(name, String::new());
            }
            Event::Text(t) => {
                let t = t.decode().map_err(|e| format!("malformed pom.xml: {e}"))?;
                text_buf.push_str(&t);
            }
            // Entity references arrive between text events (quick-xml 0.38+).
            Event::GeneralRef(r) => {
                let resolved = match r.resolve_char_ref() {
                    Ok(Some(c)) => Some(c),
                    Ok(None) => match &*r {
                        b"amp" => Some('&'),
                        b"lt" => Some('<'),
                        b"gt" => Some('>'),
                        b"quot" => Some('"'),
                        b"apos" => Some('\''),
                        _ => None,
                    },
                    Err(e) => return Err(format!("malformed pom.xml: {e}")),
                };
                if let Some(c) = resolved {
                    text_buf.push(c);
                }
            }
            Event::CData(c) => text_buf.push_str(&String::from_utf8_lossy(&c.into_inner())),
            Event::End(_) => {
                let value = std::mem::take(&mut text_buf).trim().to_string();
                let path: Vec<&str> = stack.iter().map(String::as_str).collect();
                match path.as_slice() {
                    ["project", "groupId"] => pom.group = Some(value),
                    ["project", "artifactId"] => pom.artifact = Some(value),
                    ["project", "version"] => pom.version = Some(value),
                    ["project", "parent", "groupId"] => pom.parent_group = Some(value),
                    ["project", "parent", "version"] => pom.parent_version = Some(value),
                    ["project", "properties", key] => {
                        pom.properties.insert(key.to_string(), value);
                    }
                    ["project", "licenses", "license", "name"] => pom.licenses.push(value),
                    ["project", "dependencies", "dependency"] => {
                        pom.dependencies.extend(dep.take());
                    }
                    ["project", "dependencyManagement", "dependencies", "dependency"] => {
                        pom.managed.extend(dep.take());
                    }
                    ["project", "dependencies", "dependency", field]
                    | ["project", "dependencyManagement", "dependencies", "dependency", field] => {
                        if let Some(d) = dep.as_mut() {
                            let slot = match *field {
                                "groupId" => &mut d.group,
                                "artifactId" => &mut d.artifact,
                                "version" => &mut d.version,
                                "scope" => &mut d.scope,
                                _ => &mut None,
                            };
                            *slot = Some(value);
                        }
                    }
                    _ => {}
                }
                stack.pop();
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if !saw_project {
        return Err("not a Maven POM: no <project> element".into());
    }
    Ok(pom)
}

fn is(stack: &[String], path: &[&str]) -> bool {
    stack.len() == path.len() && stack.iter().zip(path).all(|(a, b)| a == b)
}

/// Replaces every `${name}`; `None` if one cannot be resolved from this pom.
fn resolve(pom: &Pom, value: &str) -> Option<String> {
    let mut current = value.trim().to_string();
    for _ in 0..32 {
        let Some(start) = current.find("${") else {
            return Some(current).filter(|v| !v.is_empty());
        };
        let end = start + current[start..].find('}')?;
        let key = &current[start + 2..end];
        let replacement = lookup(pom, key)?;
        current = format!(
            "{}{}{}",
            &current[..start],
            replacement,
            &current[end + 1..]
        );
        if current.len() > MAX_RESOLVED_LEN {
            return None;
        }
    }
    None
}

fn lookup<'a>(pom: &'a Pom, key: &str) -> Option<&'a str> {
    let field =
        |own: &'a Option<String>, parent: &'a Option<String>| own.as_deref().or(parent.as_deref());
    match key {
        "project.version" | "pom.version" | "version" => field(&pom.version, &pom.parent_version),
        "project.groupId" | "pom.groupId" | "groupId" => field(&pom.group, &pom.parent_group),
        "project.artifactId" | "pom.artifactId" | "artifactId" => pom.artifact.as_deref(),
        "project.parent.version" | "parent.version" => pom.parent_version.as_deref(),
        "project.parent.groupId" | "parent.groupId" => pom.parent_group.as_deref(),
        other => pom.properties.get(other).map(String::as_str),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const POM: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <parent>
    <groupId>com.example</groupId>
    <artifactId>parent</artifactId>
    <version>2.1.0</version>
  </parent>
  <artifactId>service</artifactId>
  <licenses><license><name>Apache License, Version 2.0</name></license></licenses>
  <properties>
    <log4j.version>2.14.1</log4j.version>
    <jackson.version>${jackson.major}.4</jackson.version>
    <jackson.major>2.13</jackson.major>
    <loop>${loop}</loop>
  </properties>
  <dependencies>
    <dependency>
      <groupId>org.apache.logging.log4j</groupId>
      <artifactId>log4j-core</artifactId>
      <version>${log4j.version}</version>
    </dependency>
    <dependency>
      <groupId>com.fasterxml.jackson.core</groupId>
      <artifactId>jackson-databind</artifactId>
      <version>${jackson.version}</version>
    </dependency>
    <dependency>
      <groupId>${project.groupId}</groupId>
      <artifactId>common</artifactId>
      <version>${project.version}</version>
    </dependency>
    <dependency>
      <groupId>junit</groupId><artifactId>junit</artifactId><version>4.13.2</version>
      <scope>test</scope>
    </dependency>
    <dependency><groupId>org.managed</groupId><artifactId>no-version</artifactId></dependency>
    <dependency><groupId>org.x</groupId><artifactId>ranged</artifactId><version>[1.0,2.0)</version></dependency>
    <dependency><groupId>org.x</groupId><artifactId>unknown</artifactId><version>${nope}</version></dependency>
    <dependency><groupId>org.x</groupId><artifactId>looping</artifactId><version>${loop}</version></dependency>
  </dependencies>
  <dependencyManagement><dependencies><dependency>
    <groupId>org.bom</groupId><artifactId>bom</artifactId><version>1</version><scope>import</scope>
  </dependency></dependencies></dependencyManagement>
  <build><plugins><plugin><dependencies><dependency>
    <groupId>org.plugin</groupId><artifactId>dep</artifactId><version>1</version>
  </dependency></dependencies></plugin></plugins></build>
</project>"#;

    #[test]
    fn project_dependencies_properties_and_parent() {
        let (r, notes) = parse(POM).unwrap();
        assert_eq!(notes.len(), 1, "{notes:?}");
        assert!(notes[0].contains("org.x:unknown (${nope})"), "{notes:?}");
        let got: Vec<_> = r
            .iter()
            .map(|r| {
                (
                    r.namespace.as_deref().unwrap(),
                    r.name.as_str(),
                    r.version.as_str(),
                    r.dev,
                )
            })
            .collect();
        assert_eq!(
            got,
            vec![
                ("com.example", "service", "2.1.0", false),
                ("org.apache.logging.log4j", "log4j-core", "2.14.1", false),
                (
                    "com.fasterxml.jackson.core",
                    "jackson-databind",
                    "2.13.4",
                    false
                ),
                ("com.example", "common", "2.1.0", false),
                ("junit", "junit", "4.13.2", true),
                ("org.managed", "no-version", "", false),
                ("org.x", "unknown", "", false),
                ("org.x", "looping", "", false),
            ]
        );
        assert_eq!(r[0].licenses, vec!["Apache-2.0".to_string()]);
        assert!(r[0]
            .dependencies
            .contains(&"org.apache.logging.log4j:log4j-core".to_string()));
        assert_eq!(r[0].dependencies.len(), 8);
    }

    #[test]
    fn rejects_what_is_not_a_pom() {
        assert!(parse("<settings></settings>")
            .unwrap_err()
            .contains("not a Maven POM"));
        assert!(parse("<project><dependencies></project>").is_err());
        assert!(parse("").is_err());
        let deep = format!("<project>{}", "<a>".repeat(300));
        assert!(parse(&deep).is_err());
    }

    fn rows(text: &str) -> Vec<(String, String, String, bool)> {
        parse(text)
            .unwrap()
            .0
            .into_iter()
            .map(|r| (r.namespace.unwrap_or_default(), r.name, r.version, r.dev))
            .collect()
    }

    /// Issue 18.3: a module's own `<dependencyManagement>` and properties decide versions
    /// its dependencies leave out (the parent's, not readable here, would lose in Maven too).
    #[test]
    fn issue_18_3_the_modules_own_dependency_management_wins() {
        let child = r#"<?xml version="1.0" encoding="UTF-8"?>
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <parent>
    <groupId>com.acme</groupId>
    <artifactId>acme-parent</artifactId>
    <version>3.0.0</version>
  </parent>
  <artifactId>billing</artifactId>
  <properties>
    <!-- overrides the parent's jackson.version -->
    <jackson.version>2.15.3</jackson.version>
  </properties>
  <dependencyManagement>
    <dependencies>
      <dependency>
        <groupId>com.fasterxml.jackson.core</groupId>
        <artifactId>jackson-databind</artifactId>
        <version>${jackson.version}</version>
      </dependency>
      <dependency>
        <groupId>org.junit.jupiter</groupId>
        <artifactId>junit-jupiter</artifactId>
        <version>5.10.1</version>
        <scope>test</scope>
      </dependency>
      <dependency>
        <groupId>org.springframework.boot</groupId>
        <artifactId>spring-boot-dependencies</artifactId>
        <version>3.2.0</version>
        <type>pom</type>
        <scope>import</scope>
      </dependency>
    </dependencies>
  </dependencyManagement>
  <dependencies>
    <dependency>
      <groupId>com.fasterxml.jackson.core</groupId>
      <artifactId>jackson-databind</artifactId>
    </dependency>
    <dependency>
      <groupId>org.junit.jupiter</groupId>
      <artifactId>junit-jupiter</artifactId>
    </dependency>
  </dependencies>
</project>"#;
        assert_eq!(
            rows(child),
            vec![
                ("com.acme".into(), "billing".into(), "3.0.0".into(), false),
                (
                    "com.fasterxml.jackson.core".into(),
                    "jackson-databind".into(),
                    "2.15.3".into(),
                    false
                ),
                (
                    "org.junit.jupiter".into(),
                    "junit-jupiter".into(),
                    "5.10.1".into(),
                    true
                ),
            ]
        );
    }

    /// Issue 18.3: CI-friendly versions. Defined in the pom's properties they resolve (the
    /// module and what uses `${project.version}`); defined only on the command line or in
    /// `.mvn/maven.config` the module and its dependencies stay, version unknown, with a note.
    #[test]
    fn issue_18_3_ci_friendly_versions() {
        let pom = |properties: &str| {
            format!(
                r#"<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>com.acme</groupId>
  <artifactId>api</artifactId>
  <version>${{revision}}${{sha1}}${{changelist}}</version>
  <properties>{properties}</properties>
  <dependencies>
    <dependency><groupId>com.acme</groupId><artifactId>model</artifactId><version>${{project.version}}</version></dependency>
    <dependency><groupId>org.slf4j</groupId><artifactId>slf4j-api</artifactId><version>2.0.9</version></dependency>
  </dependencies>
</project>"#
            )
        };
        let defined = pom("<revision>1.4.0</revision><sha1/><changelist>-SNAPSHOT</changelist>");
        let got = rows(&defined);
        assert_eq!(got[0].2, "1.4.0-SNAPSHOT");
        assert_eq!(got[1].2, "1.4.0-SNAPSHOT");
        assert_eq!(got[2].2, "2.0.9");

        let (records, notes) = parse(&pom("")).unwrap();
        let got: Vec<(&str, &str)> = records
            .iter()
            .map(|r| (r.name.as_str(), r.version.as_str()))
            .collect();
        assert_eq!(
            got,
            vec![("api", ""), ("model", ""), ("slf4j-api", "2.0.9")]
        );
        assert_eq!(records[0].dependencies.len(), 2);
        assert_eq!(notes.len(), 1);
        assert!(notes[0].contains("maven.config"), "{notes:?}");
    }
}
