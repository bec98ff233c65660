//! Java packages: the real `lang` image (built by `scripts/build-test-images.py lang` with
//! `scripts/testdata/java.sh`) checked against the pom.properties of the real jars put in it,
//! and small synthetic images for every source (pom.properties, MANIFEST.MF, file names,
//! nested archives, pom.xml, gradle.lockfile) and for hostile archives.

use std::collections::BTreeSet;
use std::io::Write;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::util::*;

/// The `lang` image with this module's ground truth, or `None` when skipping on purpose.
fn lang_image() -> Option<PathBuf> {
    test_image("lang", &["expected/java.tsv"])
}

fn maven(report: &Value) -> Vec<&Value> {
    report["packages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["ecosystem"] == "maven")
        .collect()
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| a.iter().map(|s| s.as_str().unwrap().to_string()).collect())
        .unwrap_or_default()
}

fn java_diagnostics(report: &Value) -> Vec<String> {
    report["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["analyzer"] == "java")
        .map(|d| {
            format!(
                "{}: {}",
                d["path"].as_str().unwrap_or(""),
                d["message"].as_str().unwrap()
            )
        })
        .collect()
}

/// The one Maven package with this purl found in `outer`.
fn maven_package<'a>(report: &'a Value, purl: &str, outer: &str) -> &'a Value {
    let found: Vec<&Value> = maven(report)
        .into_iter()
        .filter(|p| p["purl"] == purl && strings(&p["found_in"]) == [outer])
        .collect();
    assert_eq!(
        found.len(),
        1,
        "{purl} in {outer}: {:#?}",
        maven(report)
            .iter()
            .map(|p| (&p["purl"], &p["found_in"]))
            .collect::<Vec<_>>()
    );
    found[0]
}

#[test]
fn lang_image_java_archives_match_their_pom_properties() {
    let Some(dir) = lang_image() else { return };
    let (code, report, stderr) = scan_json(&format!("oci:{}", dir.join("oci").display()), &[]);
    assert!(code == 0 || code == 3, "exit {code}: {stderr}");
    assert!(
        java_diagnostics(&report).is_empty(),
        "{:#?}",
        java_diagnostics(&report)
    );
    let java_layer = report["layers"]
        .as_array()
        .unwrap()
        .iter()
        .position(|l| {
            l["created_by"]
                .as_str()
                .is_some_and(|c| c.contains("COPY java archives"))
        })
        .expect("the java layer");

    // Ground truth: every archive under /app, read from the real jars' pom.properties.
    let tsv = std::fs::read_to_string(dir.join("expected/java.tsv")).unwrap();
    let mut want = BTreeSet::new();
    let mut outers = BTreeSet::new();
    for line in tsv.lines().skip(1) {
        let f: Vec<&str> = line.split('\t').collect();
        let (path, group, artifact, version, evidence) = (f[0], f[1], f[2], f[3], f[4]);
        let outer = path.split("!/").next().unwrap().to_string();
        outers.insert(outer.clone());
        // A bare file name cannot tell the groupId.
        let group = if evidence == "filename" { "" } else { group };
        want.insert((
            path.to_string(),
            group.to_string(),
            artifact.to_string(),
            version.to_string(),
        ));
    }
    assert!(want.len() >= 10, "{want:?}");
    let mut got = BTreeSet::new();
    for p in maven(&report) {
        let found_in = strings(&p["found_in"]);
        let coordinates = p["purl"]
            .as_str()
            .unwrap()
            .strip_prefix("pkg:maven/")
            .unwrap();
        let group = match coordinates.split_once('/') {
            Some((g, _)) => g.to_string(),
            None => String::new(),
        };
        for file in strings(&p["files"]) {
            let outer = file.split("!/").next().unwrap().to_string();
            if !outers.contains(&outer) {
                continue;
            }
            assert!(found_in.contains(&outer), "{p}");
            assert_eq!(p["layer"]["index"], java_layer, "{p}");
            got.insert((
                file,
                group.clone(),
                p["name"].as_str().unwrap().to_string(),
                p["version"].as_str().unwrap().to_string(),
            ));
        }
    }
    let missing: Vec<_> = want.difference(&got).collect();
    let extra: Vec<_> = got.difference(&want).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "missing {missing:#?}\nextra {extra:#?}"
    );

    // log4j-core, two archives deep in the war, by its exact purl and in the java layer.
    let core_line = tsv
        .lines()
        .find(|l| l.contains("!/WEB-INF/lib/log4j-core-"))
        .unwrap();
    let version = core_line.split('\t').nth(3).unwrap();
    let core = maven_package(
        &report,
        &format!("pkg:maven/org.apache.logging.log4j/log4j-core@{version}"),
        "/app/app.war",
    );
    assert_eq!(core["layer"]["index"], java_layer);
    assert_eq!(
        strings(&core["files"]),
        [format!(
            "/app/app.war!/WEB-INF/lib/log4j-core-{version}.jar"
        )]
    );
    assert!(core.get("inferred").is_none_or(|i| i == false));
    // The file-name-only jar is marked as a guess.
    let jcl = maven(&report)
        .into_iter()
        .find(|p| {
            strings(&p["found_in"])
                .iter()
                .any(|f| f.starts_with("/app/lib/log4j-jcl-"))
        })
        .expect("the name-only log4j-jcl jar");
    assert_eq!(jcl["inferred"], true, "{jcl}");
    assert!(
        jcl["purl"]
            .as_str()
            .unwrap()
            .starts_with("pkg:maven/log4j-jcl@"),
        "{jcl}"
    );

    // Debian's jars are the deb package, never Maven packages as well.
    let debian = std::fs::read_to_string(dir.join("expected/java-debian.tsv")).unwrap();
    let jars: Vec<&str> = debian
        .lines()
        .skip(1)
        .filter_map(|l| l.split('\t').nth(2))
        .collect();
    assert!(
        jars.iter().any(|j| j.ends_with("/log4j-core.jar")),
        "{debian}"
    );
    let deb_version = debian.lines().nth(1).unwrap().split('\t').nth(1).unwrap();
    let deb = package(&report, "liblog4j2-java");
    assert_eq!(deb["version"], deb_version);
    assert_eq!(deb["ecosystem"], "deb");
    assert_eq!(deb["layer"]["index"], java_layer);
    for p in maven(&report) {
        let found_in = strings(&p["found_in"]);
        assert!(
            !found_in[0].starts_with("/usr/share/java/")
                && !found_in[0].starts_with("/usr/share/maven-repo/"),
            "a Debian-owned jar reported as Maven: {p}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// synthetic images

/// One entry of a hand-made zip: stored, deflated, or with a lying size header.
struct Entry {
    name: String,
    payload: Vec<u8>,
    method: u16,
    crc: u32,
    size: u32,
}

fn stored(name: &str, data: &[u8]) -> Entry {
    let mut crc = flate2::Crc::new();
    crc.update(data);
    Entry {
        name: name.into(),
        payload: data.to_vec(),
        method: 0,
        crc: crc.sum(),
        size: data.len() as u32,
    }
}

/// `repeat` copies of `chunk`, deflated without ever holding the whole.
fn deflated_repeat(name: &str, chunk: &[u8], repeat: usize) -> Entry {
    let mut crc = flate2::Crc::new();
    let mut enc = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::best());
    for _ in 0..repeat {
        crc.update(chunk);
        enc.write_all(chunk).unwrap();
    }
    Entry {
        name: name.into(),
        payload: enc.finish().unwrap(),
        method: 8,
        crc: crc.sum(),
        size: (chunk.len() * repeat) as u32,
    }
}

fn zip(entries: Vec<Entry>) -> Vec<u8> {
    let mut out = Vec::new();
    let mut central = Vec::new();
    for e in &entries {
        let offset = out.len() as u32;
        let common = |b: &mut Vec<u8>| {
            b.extend_from_slice(&20u16.to_le_bytes()); // version needed
            b.extend_from_slice(&0u16.to_le_bytes()); // flags
            b.extend_from_slice(&e.method.to_le_bytes());
            b.extend_from_slice(&0u16.to_le_bytes()); // time
            b.extend_from_slice(&0x21u16.to_le_bytes()); // date: 1980-01-01
            b.extend_from_slice(&e.crc.to_le_bytes());
            b.extend_from_slice(&(e.payload.len() as u32).to_le_bytes());
            b.extend_from_slice(&e.size.to_le_bytes());
            b.extend_from_slice(&(e.name.len() as u16).to_le_bytes());
            b.extend_from_slice(&0u16.to_le_bytes()); // extra
        };
        out.extend_from_slice(b"PK\x03\x04");
        common(&mut out);
        out.extend_from_slice(e.name.as_bytes());
        out.extend_from_slice(&e.payload);
        central.extend_from_slice(b"PK\x01\x02");
        central.extend_from_slice(&20u16.to_le_bytes()); // version made by
        common(&mut central);
        central.extend_from_slice(&[0; 6]); // comment length, disk, internal attributes
        central.extend_from_slice(&0u32.to_le_bytes()); // external attributes
        central.extend_from_slice(&offset.to_le_bytes());
        central.extend_from_slice(e.name.as_bytes());
    }
    let cd_offset = out.len() as u32;
    out.extend_from_slice(&central);
    out.extend_from_slice(b"PK\x05\x06\0\0\0\0");
    out.extend_from_slice(&(entries.len() as u16).to_le_bytes());
    out.extend_from_slice(&(entries.len() as u16).to_le_bytes());
    out.extend_from_slice(&(central.len() as u32).to_le_bytes());
    out.extend_from_slice(&cd_offset.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out
}

fn pom_properties(group: &str, artifact: &str, version: &str) -> Entry {
    stored(
        &format!("META-INF/maven/{group}/{artifact}/pom.properties"),
        format!(
            "#Created by Apache Maven\ngroupId={group}\nartifactId={artifact}\nversion={version}\n"
        )
        .as_bytes(),
    )
}

fn scan_layer(layer: Vec<u8>) -> (i32, Value, String, Duration) {
    let tmp = tempfile::tempdir().unwrap();
    ImageBuilder::new()
        .layer(layer, Compression::Gzip, "COPY java")
        .write_oci(tmp.path());
    let start = Instant::now();
    let (code, report, stderr) = scan_json(&format!("oci:{}", tmp.path().display()), &[]);
    (code, report, stderr, start.elapsed())
}

const POM: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <parent>
    <groupId>com.example</groupId>
    <artifactId>parent</artifactId>
    <version>2.1.0</version>
  </parent>
  <artifactId>service</artifactId>
  <properties><log4j.version>2.14.1</log4j.version></properties>
  <dependencies>
    <dependency>
      <groupId>org.apache.logging.log4j</groupId>
      <artifactId>log4j-core</artifactId>
      <version>${log4j.version}</version>
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
    <dependency><groupId>org.managed</groupId><artifactId>managed</artifactId></dependency>
  </dependencies>
</project>
"#;

const GRADLE_LOCK: &str = "# This is a Gradle generated file for dependency locking.
com.google.guava:guava:32.1.2-jre=compileClasspath,runtimeClasspath
junit:junit:4.13.1=testCompileClasspath,testRuntimeClasspath
org.hamcrest:hamcrest-core:1.3=testCompileClasspath
empty=annotationProcessor
";

#[test]
fn archives_poms_and_lockfiles_in_a_synthetic_image() {
    let shaded = zip(vec![
        stored("META-INF/MANIFEST.MF", b"Manifest-Version: 1.0\r\n\r\n"),
        pom_properties("com.acme", "shaded", "1.0"),
        pom_properties("com.google.guava", "guava", "31.1-jre"),
        stored("com/acme/Main.class", b"\xca\xfe\xba\xbe"),
    ]);
    // 72-byte manifest lines: the symbolic name continues on the next line.
    let manifest_only = zip(vec![stored(
        "META-INF/MANIFEST.MF",
        b"Manifest-Version: 1.0\r\nImplementation-Title: Jackson-core\r\nImplementation-Version: 2.13.4\r\nBundle-SymbolicName: com.fasterxml.jackson.core.jackson-databi\r\n nd\r\n\r\nName: com/fasterxml/\r\nImplementation-Version: 9.9\r\n\r\n",
    )]);
    let name_only = zip(vec![stored(
        "org/apache/logging/log4j/core/Logger.class",
        b"\xca\xfe",
    )]);
    let inner = zip(vec![pom_properties("org.inner", "inner", "3.0")]);
    let outer = zip(vec![
        pom_properties("org.outer", "outer", "2.0"),
        stored("lib/inner-3.0.jar", &inner),
    ]);
    let war = zip(vec![
        pom_properties("com.acme", "site", "1.0"),
        stored("WEB-INF/web.xml", b"<web-app/>"),
        stored("WEB-INF/lib/outer-2.0.jar", &outer),
    ]);
    let layer = LayerBuilder::new()
        .dir("app")
        .file("app/shaded-1.0.jar", &shaded)
        .file("app/lib/jackson-databind.jar", &manifest_only)
        .file("app/lib/log4j-core-2.15.0.jar", &name_only)
        .file("app/site.war", &war)
        .file("src/pom.xml", POM.as_bytes())
        .file("src/gradle.lockfile", GRADLE_LOCK.as_bytes())
        .finish();
    let (code, report, stderr, _) = scan_layer(layer);
    assert_eq!(code, 0, "{stderr}");

    // Shaded: both pom.properties, both at the jar itself.
    for purl in [
        "pkg:maven/com.acme/shaded@1.0",
        "pkg:maven/com.google.guava/guava@31.1-jre",
    ] {
        let p = maven_package(&report, purl, "/app/shaded-1.0.jar");
        assert_eq!(strings(&p["files"]), ["/app/shaded-1.0.jar"]);
        assert!(p.get("inferred").is_none());
        assert_eq!(p["layer"]["index"], 0);
    }
    // MANIFEST.MF only: main section, continuation joined, groupId from the symbolic name.
    let p = maven_package(
        &report,
        "pkg:maven/com.fasterxml.jackson.core/jackson-databind@2.13.4",
        "/app/lib/jackson-databind.jar",
    );
    assert!(p.get("inferred").is_none());
    // File name only: a guess, and said to be one.
    let p = maven_package(
        &report,
        "pkg:maven/log4j-core@2.15.0",
        "/app/lib/log4j-core-2.15.0.jar",
    );
    assert_eq!(p["inferred"], true);
    // Jar in jar in war: each at its own nested path, all found in the war.
    for (purl, file) in [
        ("pkg:maven/com.acme/site@1.0", "/app/site.war"),
        (
            "pkg:maven/org.outer/outer@2.0",
            "/app/site.war!/WEB-INF/lib/outer-2.0.jar",
        ),
        (
            "pkg:maven/org.inner/inner@3.0",
            "/app/site.war!/WEB-INF/lib/outer-2.0.jar!/lib/inner-3.0.jar",
        ),
    ] {
        let p = maven_package(&report, purl, "/app/site.war");
        assert_eq!(strings(&p["files"]), [file], "{purl}");
    }
    // pom.xml: the project (groupId and version from the parent), properties resolved,
    // test scope as dev, managed versions skipped.
    let in_pom: BTreeSet<(String, bool)> = maven(&report)
        .into_iter()
        .filter(|p| strings(&p["found_in"]).contains(&"/src/pom.xml".to_string()))
        .map(|p| (p["purl"].as_str().unwrap().to_string(), p["dev"] == true))
        .collect();
    let want: BTreeSet<(String, bool)> = [
        ("pkg:maven/com.example/service@2.1.0", false),
        (
            "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1",
            false,
        ),
        ("pkg:maven/com.example/common@2.1.0", false),
        ("pkg:maven/junit/junit@4.13.2", true),
        // Managed by a parent: kept with the version unknown (issue 18.3).
        ("pkg:maven/org.managed/managed", false),
    ]
    .into_iter()
    .map(|(p, d)| (p.to_string(), d))
    .collect();
    assert_eq!(in_pom, want);
    // gradle.lockfile: test-only configurations are dev.
    let in_lock: BTreeSet<(String, bool)> = maven(&report)
        .into_iter()
        .filter(|p| strings(&p["found_in"]).contains(&"/src/gradle.lockfile".to_string()))
        .map(|p| (p["purl"].as_str().unwrap().to_string(), p["dev"] == true))
        .collect();
    let want: BTreeSet<(String, bool)> = [
        ("pkg:maven/com.google.guava/guava@32.1.2-jre", false),
        ("pkg:maven/junit/junit@4.13.1", true),
        ("pkg:maven/org.hamcrest/hamcrest-core@1.3", true),
    ]
    .into_iter()
    .map(|(p, d)| (p.to_string(), d))
    .collect();
    assert_eq!(in_lock, want);
}

#[test]
fn jars_owned_by_a_deb_are_the_deb_only() {
    let jar = zip(vec![pom_properties(
        "org.apache.logging.log4j",
        "log4j-core",
        "2.19.0",
    )]);
    let status = dpkg_stanza("liblog4j2-java", "2.19.0-2", None);
    let layer = LayerBuilder::new()
        .file("etc/os-release", os_release_debian())
        .file("var/lib/dpkg/status", status.as_bytes())
        .file(
            "var/lib/dpkg/info/liblog4j2-java.list",
            b"/.\n/usr\n/usr/share\n/usr/share/java\n/usr/share/java/log4j-core.jar\n",
        )
        .file("usr/share/java/log4j-core.jar", &jar)
        .symlink("usr/share/java/log4j-core-2.19.0.jar", "log4j-core.jar")
        .file("opt/app/log4j-core-2.19.0.jar", &jar)
        .finish();
    let (code, report, stderr, _) = scan_layer(layer);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(package(&report, "liblog4j2-java")["ecosystem"], "deb");
    let found: Vec<Vec<String>> = maven(&report)
        .iter()
        .map(|p| strings(&p["found_in"]))
        .collect();
    assert_eq!(found, [["/opt/app/log4j-core-2.19.0.jar"]]);
}

#[test]
fn hostile_archives_are_diagnosed_in_bounded_time() {
    let good = zip(vec![pom_properties("org.good", "good", "1.0")]);
    let mut truncated = good.clone();
    truncated.truncate(good.len() - 30);
    let mut garbage = Vec::new();
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    for _ in 0..(1 << 18) {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        garbage.extend_from_slice(&seed.to_le_bytes());
    }
    // 100 MiB of zeros in a ~100 KiB war, honest about its size ...
    let zeros = vec![0u8; 1 << 20];
    let bomb = zip(vec![deflated_repeat(
        "WEB-INF/lib/zeros-1.0.jar",
        &zeros,
        100,
    )]);
    // ... and lying about it.
    let mut entry = deflated_repeat("WEB-INF/lib/zeros-1.0.jar", &zeros, 100);
    entry.size = 1000;
    let liar = zip(vec![entry]);
    // A jar in a jar ... eight deep, the innermost one identified.
    let mut nest = zip(vec![pom_properties("org.deep", "deep", "1.0")]);
    for level in 0..8 {
        nest = zip(vec![stored(&format!("lib/level{level}.jar"), &nest)]);
    }
    // Names that climb out: names only, nothing is ever extracted.
    let evil = zip(vec![
        stored(
            "../../../../etc/evil-6.6.jar",
            &zip(vec![pom_properties("org.evil", "evil", "6.6")]),
        ),
        stored("../../../../etc/passwd", b"root:x:0:0::/root:/bin/sh\n"),
    ]);
    let layer = LayerBuilder::new()
        .file("app/truncated.jar", &truncated)
        .file("app/garbage.war", &garbage)
        .file("app/bomb.war", &bomb)
        .file("app/liar.war", &liar)
        .file("app/nest.jar", &nest)
        .file("app/evil.ear", &evil)
        .file("app/good-1.0.jar", &good)
        .finish();
    let (code, report, stderr, elapsed) = scan_layer(layer);
    assert_eq!(code, 3, "{stderr}");
    assert!(elapsed < Duration::from_secs(60), "{elapsed:?}");
    let diags = java_diagnostics(&report);
    let said = |path: &str, needle: &str| {
        assert!(
            diags
                .iter()
                .any(|d| d.starts_with(&format!("{path}: ")) && d.contains(needle)),
            "{path}: {needle:?} not in {diags:#?}"
        )
    };
    said("/app/truncated.jar", "not a readable zip archive");
    said("/app/garbage.war", "not a readable zip archive");
    said("/app/bomb.war", "zip bomb");
    said("/app/liar.war", "decompresses to over 100 times");
    said("/app/nest.jar", "nested more than 4 levels deep");
    assert_eq!(diags.len(), 5, "{diags:#?}");
    assert!(
        stderr.is_empty() || !stderr.contains("panicked"),
        "{stderr}"
    );

    // The rest of the scan went on: the good jar and the climbing names.
    maven_package(&report, "pkg:maven/org.good/good@1.0", "/app/good-1.0.jar");
    let evil = maven_package(&report, "pkg:maven/org.evil/evil@6.6", "/app/evil.ear");
    assert_eq!(
        strings(&evil["files"]),
        ["/app/evil.ear!/../../../../etc/evil-6.6.jar"]
    );
    assert!(maven(&report)
        .iter()
        .all(|p| !p["name"].as_str().unwrap().contains("zeros")));
    assert!(maven(&report).iter().all(|p| p["name"] != "deep"));
}

#[test]
fn one_artifact_name_in_two_groups_is_two_packages() {
    let one = zip(vec![pom_properties("org.one", "x", "1.0")]);
    let two = zip(vec![pom_properties("org.two", "x", "1.0")]);
    let layer = LayerBuilder::new()
        .file("app/a/x-1.0.jar", &one)
        .file("app/b/x-1.0.jar", &two)
        .finish();
    let (code, report, stderr, _) = scan_layer(layer);
    assert_eq!(code, 0, "{stderr}");
    maven_package(&report, "pkg:maven/org.one/x@1.0", "/app/a/x-1.0.jar");
    maven_package(&report, "pkg:maven/org.two/x@1.0", "/app/b/x-1.0.jar");
}
