//! Java packages (Maven coordinates): what archives hold and what source trees declare.
//!
//! * Archives (`*.jar`, `*.war`, `*.ear`, `*.par`, `*.jpi`, `*.hpi`, see [`archive`]): every
//!   `META-INF/maven/<group>/<artifact>/pom.properties` is a package (a shaded jar holds
//!   several); without one, the main section of `META-INF/MANIFEST.MF`; without a usable
//!   manifest, the file name (`log4j-core-2.14.1.jar`), marked `inferred`. Nested archives
//!   (`WEB-INF/lib/*.jar`, `BOOT-INF/lib/*.jar`, wars in ears, jars in jars) are read in
//!   memory, recursively, within fixed limits against zip and nesting bombs.
//! * `pom.xml` ([`pom`]): the project and its `<dependencies>`, versions from the dependency
//!   or the pom's own `<dependencyManagement>`, `${…}` resolved from the same pom (CI-friendly
//!   `${revision}`/`${sha1}`/`${changelist}` included), parent inheritance for groupId and
//!   version; what the file cannot resolve is kept with the version unknown and a note.
//! * `gradle.lockfile` and the older `gradle/dependency-locks/*.lockfile` ([`gradle`]).
//!
//! ## Where a package was found
//!
//! The fact's path is always the file of the image (the outermost archive); the walker turns
//! it into `found_in`. Each archive record also names the archive it was read from in
//! `files`, image-absolute, with `!/` between an archive and an entry inside it, as Java's own
//! `jar:` URLs do: `/app/app.war!/WEB-INF/lib/log4j-core-2.14.1.jar` is the log4j-core jar in
//! the war's `WEB-INF/lib`; a top-level jar's packages carry just `/app/x.jar`. The same
//! coordinates met twice within one outer archive make one record with both paths.
//! Archive-internal names are only ever names (an entry called `../../x.jar` is shown as is,
//! nothing is extracted). Jars that an OS package owns (Debian's `/usr/share/java`) are
//! dropped by the assembly in favour of the OS package.

mod archive;
mod gradle;
mod pom;

pub(crate) use archive::read_first_entry;

use bulwark_analyze::{Analyzer, AnalyzerOutput, Fact, FileKind, FileMeta, Interest};

use super::declared;

pub struct JavaAnalyzer;

/// File name endings of the Java archive formats read (compared case-insensitively).
pub(crate) const ARCHIVE_EXTENSIONS: &[&str] = &[".jar", ".war", ".ear", ".par", ".jpi", ".hpi"];

/// Largest archive read from an image; bigger ones get the walker's "over the limit" warning.
const MAX_ARCHIVE_BYTES: u64 = 512 << 20;
/// Largest `pom.xml` or Gradle lockfile read.
const MAX_TEXT_BYTES: u64 = 8 << 20;

enum JavaFile {
    Archive,
    Pom,
    GradleLockfile,
    /// Gradle 4.8–6's per-configuration lock files, `gradle/dependency-locks/<conf>.lockfile`.
    LegacyGradleLock,
}

pub(crate) fn is_archive_name(name: &str) -> bool {
    let bytes = name.as_bytes();
    ARCHIVE_EXTENSIONS.iter().any(|ext| {
        bytes.len() > ext.len()
            && bytes[bytes.len() - ext.len()..].eq_ignore_ascii_case(ext.as_bytes())
    })
}

fn classify(path: &str, name: &str) -> Option<JavaFile> {
    if is_archive_name(name) {
        return Some(JavaFile::Archive);
    }
    match name {
        "pom.xml" => Some(JavaFile::Pom),
        "gradle.lockfile" => Some(JavaFile::GradleLockfile),
        n if n.ends_with(".lockfile") && path.contains("dependency-locks/") => {
            Some(JavaFile::LegacyGradleLock)
        }
        _ => None,
    }
}

impl Analyzer for JavaAnalyzer {
    fn id(&self) -> &'static str {
        "java"
    }

    fn version(&self) -> u32 {
        3
    }

    fn wants(&self, file: &FileMeta) -> Interest {
        if file.kind != FileKind::Regular {
            return Interest::Skip;
        }
        match classify(file.path, file.file_name()) {
            Some(JavaFile::Archive) => Interest::Read {
                max_bytes: MAX_ARCHIVE_BYTES,
            },
            Some(_) => Interest::Read {
                max_bytes: MAX_TEXT_BYTES,
            },
            None => Interest::Skip,
        }
    }

    fn analyze(&self, file: &FileMeta, content: &[u8], out: &mut AnalyzerOutput) {
        let records = match classify(file.path, file.file_name()) {
            Some(JavaFile::Archive) => {
                let scan = archive::scan(&format!("/{}", file.path), content);
                for problem in scan.problems {
                    out.problem(problem);
                }
                Ok(scan.records)
            }
            Some(JavaFile::Pom) => {
                pom::parse(&crate::lang::decode_text(content)).map(|(records, notes)| {
                    for note in notes {
                        out.note(note);
                    }
                    declared(records)
                })
            }
            Some(JavaFile::GradleLockfile) => Ok(declared(gradle::parse_lockfile(
                &crate::lang::decode_text(content),
                None,
            ))),
            Some(JavaFile::LegacyGradleLock) => {
                let name = file.file_name();
                let conf = name.strip_suffix(".lockfile").unwrap_or(name);
                Ok(declared(gradle::parse_lockfile(
                    &crate::lang::decode_text(content),
                    Some(conf),
                )))
            }
            None => return,
        };
        match records {
            Ok(records) if records.is_empty() => {}
            Ok(records) => out.fact(Fact::Packages { records }),
            Err(e) => out.problem(e),
        }
    }
}

/// Whether a configuration (Gradle) only serves tests.
pub(crate) fn is_test_configuration(conf: &str) -> bool {
    conf.starts_with("test") || conf.contains("Test")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wants_archives_poms_and_lockfiles() {
        let meta = |path| FileMeta {
            path,
            kind: FileKind::Regular,
            size: 10,
            mode: 0o644,
        };
        let a = JavaAnalyzer;
        for p in [
            "app/x.jar",
            "app/X.JAR",
            "opt/app.war",
            "a.ear",
            "var/jenkins/plugins/git.hpi",
            "p.jpi",
            "x.par",
            "src/pom.xml",
            "src/gradle.lockfile",
            "src/gradle/dependency-locks/compileClasspath.lockfile",
        ] {
            assert!(matches!(a.wants(&meta(p)), Interest::Read { .. }), "{p}");
        }
        for p in [
            "app/x.zip",
            "jar",
            ".jar",
            "usr/share/maven-repo/a/b/1/b-1.pom",
            "x.lockfile",
        ] {
            assert_eq!(a.wants(&meta(p)), Interest::Skip, "{p}");
        }
    }
}
