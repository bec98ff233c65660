//! Language package analyzers, one module per ecosystem.

pub mod dotnet;
pub mod golang;
pub mod java;
pub mod javascript;
pub mod php;
pub mod python;
pub mod ruby;
pub mod rust;
// Issue 18: application ecosystems without an analyzer before.
pub mod egg;
pub mod github_actions;
pub mod jvm;
pub mod pecl;
pub mod pylock;
pub mod sbt;
pub mod wordpress;

pub(crate) mod cocoapods;
pub(crate) mod conan;
pub(crate) mod conda;
pub(crate) mod dart;
pub(crate) mod format;
pub(crate) mod haskell;
pub(crate) mod hex;
pub(crate) mod julia;
pub(crate) mod lua;
pub(crate) mod opam;
pub(crate) mod r;
pub(crate) mod swift;
pub(crate) mod vcpkg;

use std::borrow::Cow;

use bulwark_analyze::PackageRecord;

/// Marks what a manifest or lockfile names as declared: what a build would install, not proof
/// that it is in the image. The assembly merges it into the installed package it names.
pub(crate) fn declared(records: Vec<PackageRecord>) -> Vec<PackageRecord> {
    records.into_iter().map(PackageRecord::declared).collect()
}

/// The records whose name is valid under the ecosystem's own rules (`valid`); each other one
/// is a note naming the rule, never a package: a name no registry accepts is a parsing
/// accident (template syntax, a shell line), and reporting it invents a package.
pub(crate) fn keep_valid_names(
    records: Vec<PackageRecord>,
    valid: fn(&str) -> bool,
    rule: &str,
    out: &mut bulwark_analyze::AnalyzerOutput,
) -> Vec<PackageRecord> {
    // In place: a second vector would double the peak of a million-entry lockfile.
    let mut records = records;
    records.retain(|r| {
        let keep = valid(&r.name);
        if !keep {
            out.note(format!(
                "{:?} is not a valid package name under {rule}: not reported as a package",
                r.name
            ));
        }
        keep
    });
    records
}

/// A text file's content as a string, whatever Unicode encoding its byte-order mark names:
/// editors on Windows save `requirements.txt` or `packages.config` as UTF-16 (LE or BE) with
/// a BOM, which read as UTF-8 is NUL-riddled noise that yields nothing. A UTF-8 BOM is
/// dropped (it would otherwise stick to the first name). Without a BOM the bytes are UTF-8,
/// invalid sequences replaced.
pub(crate) fn decode_text(content: &[u8]) -> Cow<'_, str> {
    let utf16 = |rest: &[u8], from: fn([u8; 2]) -> u16| {
        let units = rest.chunks_exact(2).map(|c| from([c[0], c[1]]));
        Cow::Owned(
            char::decode_utf16(units)
                .map(|c| c.unwrap_or(char::REPLACEMENT_CHARACTER))
                .collect(),
        )
    };
    match content {
        [0xEF, 0xBB, 0xBF, rest @ ..] => String::from_utf8_lossy(rest),
        [0xFF, 0xFE, rest @ ..] => utf16(rest, u16::from_le_bytes),
        [0xFE, 0xFF, rest @ ..] => utf16(rest, u16::from_be_bytes),
        _ => String::from_utf8_lossy(content),
    }
}

#[cfg(test)]
mod tests {
    use bulwark_analyze::{AnalyzerOutput, Fact, FileKind, FileMeta, Interest};
    use bulwark_types::Evidence;

    /// Issue 12.2: what an installed package's own metadata says is `installed`; what a
    /// manifest or lockfile names is `declared`, so the assembly can merge it into the
    /// installed package or keep it with lower confidence.
    #[test]
    fn issue_12_2_each_source_says_whether_it_is_installed_or_declared() {
        use Evidence::{Declared, Installed};
        let cases: &[(&str, &str, Evidence)] = &[
            ("venv/lib/python3.11/site-packages/Jinja2-2.10.dist-info/METADATA", "Name: Jinja2\nVersion: 2.10\n", Installed),
            ("app/requirements.txt", "jinja2==2.10.0\n", Declared),
            ("app/poetry.lock", "[[package]]\nname = \"jinja2\"\nversion = \"2.10.0\"\n", Declared),
            ("app/Pipfile.lock", r#"{"default": {"jinja2": {"version": "==2.10.0"}}}"#, Declared),
            ("app/node_modules/lodash/package.json", r#"{"name": "lodash", "version": "4.17.15"}"#, Installed),
            ("app/package-lock.json", r#"{"lockfileVersion": 3, "packages": {"": {"name": "app"}, "node_modules/lodash": {"version": "4.17.15"}}}"#, Declared),
            ("app/yarn.lock", "# yarn lockfile v1\n\nlodash@^4.17.0:\n  version \"4.17.15\"\n", Declared),
            ("src/go.mod", "module example.com/app\n\ngo 1.21\n\nrequire golang.org/x/net v0.17.0\n", Declared),
            ("src/Cargo.lock", "version = 3\n\n[[package]]\nname = \"serde\"\nversion = \"1.0.190\"\n", Declared),
            ("src/pom.xml", "<project><groupId>g</groupId><artifactId>a</artifactId><version>1</version><dependencies><dependency><groupId>org.x</groupId><artifactId>y</artifactId><version>2.0</version></dependency></dependencies></project>", Declared),
            ("src/gradle.lockfile", "org.x:y:2.0=runtimeClasspath\n", Declared),
            ("usr/local/bundle/specifications/rack-2.2.3.gemspec", "Gem::Specification.new do |s|\n  s.name = \"rack\".freeze\n  s.version = \"2.2.3\"\nend\n", Installed),
            ("app/Gemfile.lock", "GEM\n  remote: https://rubygems.org/\n  specs:\n    rack (2.2.3)\n\nPLATFORMS\n  ruby\n\nDEPENDENCIES\n  rack\n", Declared),
            ("app/vendor/composer/installed.json", r#"{"packages": [{"name": "monolog/monolog", "version": "1.27.1"}]}"#, Installed),
            ("app/composer.lock", r#"{"packages": [{"name": "monolog/monolog", "version": "1.27.1"}]}"#, Declared),
            ("app/App.deps.json", r#"{"libraries": {"Newtonsoft.Json/13.0.1": {"type": "package"}}}"#, Installed),
            ("src/packages.lock.json", r#"{"version": 1, "dependencies": {"net6.0": {"Newtonsoft.Json": {"type": "Direct", "resolved": "13.0.1"}}}}"#, Declared),
            ("src/App.csproj", r#"<Project><ItemGroup><PackageReference Include="Newtonsoft.Json" Version="13.0.1" /></ItemGroup></Project>"#, Declared),
            ("src/packages.config", r#"<packages><package id="Newtonsoft.Json" version="13.0.1" /></packages>"#, Declared),
        ];
        let analyzers = crate::analyzers();
        for (path, content, want) in cases {
            let meta = FileMeta {
                path,
                kind: FileKind::Regular,
                size: content.len() as u64,
                mode: 0o644,
            };
            let mut evidence = Vec::new();
            for analyzer in &analyzers {
                let wanted = match analyzer.wants(&meta) {
                    Interest::Skip => false,
                    Interest::Read { .. } => true,
                    Interest::ReadIfMagic { magic, .. } => {
                        magic.iter().any(|m| content.as_bytes().starts_with(m))
                    }
                };
                if !wanted {
                    continue;
                }
                let mut out = AnalyzerOutput::default();
                analyzer.analyze(&meta, content.as_bytes(), &mut out);
                assert!(out.problems.is_empty(), "{path}: {:?}", out.problems);
                for fact in out.facts {
                    if let Fact::Packages { records } = fact {
                        evidence.extend(records.iter().map(|r| r.evidence));
                    }
                }
            }
            assert!(!evidence.is_empty(), "{path}: no packages");
            assert!(evidence.iter().all(|e| e == want), "{path}: {evidence:?}");
        }
    }

    /// Issue 18.1: UTF-16 (both byte orders) and UTF-8 files with a byte-order mark decode to
    /// the same text as plain UTF-8.
    #[test]
    fn issue_18_1_text_with_a_byte_order_mark_is_decoded() {
        let text = "Django==3.2.0\nrequests==2.19.0\n";
        let le: Vec<u8> = [0xFF, 0xFE]
            .into_iter()
            .chain(text.encode_utf16().flat_map(u16::to_le_bytes))
            .collect();
        let be: Vec<u8> = [0xFE, 0xFF]
            .into_iter()
            .chain(text.encode_utf16().flat_map(u16::to_be_bytes))
            .collect();
        let utf8: Vec<u8> = [0xEF, 0xBB, 0xBF].into_iter().chain(text.bytes()).collect();
        for bytes in [le, be, utf8, text.as_bytes().to_vec()] {
            assert_eq!(super::decode_text(&bytes), text);
        }
        // An odd trailing byte and unpaired surrogates are replaced, never a panic.
        assert_eq!(
            super::decode_text(&[0xFF, 0xFE, 0x00, 0xD8, 0x41]),
            "\u{FFFD}"
        );
    }
}
