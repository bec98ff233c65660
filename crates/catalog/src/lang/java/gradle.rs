//! Gradle dependency locks: `gradle.lockfile` (`group:artifact:version=conf1,conf2`) and the
//! older per-configuration `gradle/dependency-locks/<conf>.lockfile` (`group:artifact:version`).

use bulwark_analyze::PackageRecord;
use bulwark_types::Ecosystem;

use super::is_test_configuration;

/// Parses a lock file; `configuration` is the legacy file's own configuration. A dependency
/// locked only for test configurations (`testCompileClasspath`, `testRuntimeClasspath`) is dev.
pub(super) fn parse_lockfile(text: &str, configuration: Option<&str>) -> Vec<PackageRecord> {
    let mut out = Vec::new();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (coordinates, configurations): (&str, Vec<&str>) = match configuration {
            Some(conf) => (line, vec![conf]),
            None => match line.split_once('=') {
                Some((c, confs)) => (
                    c.trim(),
                    confs
                        .split(',')
                        .map(str::trim)
                        .filter(|c| !c.is_empty())
                        .collect(),
                ),
                None => (line, Vec::new()),
            },
        };
        // `empty=annotationProcessor` lists configurations that lock nothing.
        if coordinates == "empty" {
            continue;
        }
        let mut parts = coordinates.split(':');
        let (Some(group), Some(artifact), Some(version)) =
            (parts.next(), parts.next(), parts.next())
        else {
            continue;
        };
        if group.is_empty() || artifact.is_empty() || version.is_empty() {
            continue;
        }
        let mut record = PackageRecord::new(Ecosystem::Maven, artifact, version);
        record.namespace = Some(group.to_string());
        record.dev =
            !configurations.is_empty() && configurations.iter().all(|c| is_test_configuration(c));
        out.push(record);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_lockfiles() {
        let text = "# This is a Gradle generated file for dependency locking.\n\
            com.google.guava:guava:31.1-jre=compileClasspath,runtimeClasspath\n\
            junit:junit:4.13.2=testCompileClasspath,testRuntimeClasspath\n\
            org.hamcrest:hamcrest-core:1.3=testCompileClasspath\n\
            org.slf4j:slf4j-api:2.0.7=runtimeClasspath,testRuntimeClasspath\n\
            empty=annotationProcessor\n";
        let r = parse_lockfile(text, None);
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
                ("com.google.guava", "guava", "31.1-jre", false),
                ("junit", "junit", "4.13.2", true),
                ("org.hamcrest", "hamcrest-core", "1.3", true),
                ("org.slf4j", "slf4j-api", "2.0.7", false),
            ]
        );
        let legacy = parse_lockfile("# lock\norg.x:y:1.0\n", Some("testCompileClasspath"));
        assert_eq!(legacy.len(), 1);
        assert!(legacy[0].dev);
    }
}
