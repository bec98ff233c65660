//! The shape most file-format analyzers share: a path decides which of a few formats a file is,
//! one function parses it into packages, and the format says whether what it names is installed
//! (the package manager's own record) or only declared (a manifest or lockfile).

use bulwark_analyze::{
    Analyzer, AnalyzerOutput, Fact, FileKind, FileMeta, Interest, PackageRecord,
};

/// Lockfiles and package records are text of a few KiB to a few MiB; a larger file is not
/// one of them (the walker reports the skip).
pub(crate) const MAX_PACKAGE_FILE: u64 = 16 << 20;

/// One file format an analyzer reads.
pub(crate) struct Format {
    /// How problems name the file (`Package.resolved`).
    pub what: &'static str,
    /// Whether an image-relative path (no leading `/`) is this format.
    pub matches: fn(&str) -> bool,
    /// The packages the file (path, text) names; `Err` (a problem) when it is not this format.
    pub parse: fn(&str, &str) -> Result<Vec<PackageRecord>, String>,
    /// The package manager's record of what it installed, or only a manifest or lockfile.
    pub installed: bool,
}

/// An analyzer that is only a list of [`Format`]s.
pub(crate) struct FormatAnalyzer {
    pub id: &'static str,
    pub version: u32,
    pub formats: &'static [Format],
}

impl FormatAnalyzer {
    fn format(&self, path: &str) -> Option<&'static Format> {
        self.formats.iter().find(|f| (f.matches)(path))
    }
}

impl Analyzer for FormatAnalyzer {
    fn id(&self) -> &'static str {
        self.id
    }

    fn version(&self) -> u32 {
        self.version
    }

    fn wants(&self, file: &FileMeta) -> Interest {
        if file.kind != FileKind::Regular || self.format(file.path).is_none() {
            return Interest::Skip;
        }
        Interest::Read {
            max_bytes: MAX_PACKAGE_FILE,
        }
    }

    fn analyze(&self, file: &FileMeta, content: &[u8], out: &mut AnalyzerOutput) {
        let Some(format) = self.format(file.path) else {
            return;
        };
        let text = String::from_utf8_lossy(content);
        let text = text.trim_start_matches('\u{feff}');
        match (format.parse)(file.path, text) {
            Ok(records) if records.is_empty() => {}
            Ok(records) => {
                let records = if format.installed {
                    records
                } else {
                    super::declared(records)
                };
                out.fact(Fact::Packages { records });
            }
            Err(e) => out.problem(format!("{}: {e}", format.what)),
        }
    }
}

/// The path's components, without empty ones.
pub(crate) fn components(path: &str) -> Vec<&str> {
    path.split('/').filter(|c| !c.is_empty()).collect()
}

/// The file name of an image-relative path.
pub(crate) fn file_name(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

/// A name as registries allow them: ASCII letters, digits and `-_.+`, starting with a letter
/// or digit, at most 214 bytes (npm's bound, the strictest common one). Anything else in a
/// name position means the file was misread, and is never reported as a package.
pub(crate) fn plausible_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 214
        && name.starts_with(|c: char| c.is_ascii_alphanumeric())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '+'))
}

/// A version as lockfiles write resolved ones: no whitespace, no range operators, not empty.
pub(crate) fn plausible_version(version: &str) -> bool {
    !version.is_empty()
        && version.len() <= 256
        && !version.chars().any(|c| {
            c.is_whitespace()
                || c.is_control()
                || matches!(c, '<' | '>' | '=' | '*' | '^' | '~' | ',' | '|')
        })
}

/// Parses YAML with serde-saphyr's bounds on aliases, anchors and scalars (billion laughs);
/// node counts are left to the read cap, nesting stays at 128 (as for pnpm and yarn locks).
pub(crate) fn yaml<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, String> {
    let mut budget = serde_saphyr::Budget::default();
    budget.max_depth = 128;
    budget.max_nodes = usize::MAX;
    budget.max_events = usize::MAX;
    let mut options = serde_saphyr::Options::default();
    options.budget = Some(budget);
    options.with_snippet = false;
    serde_saphyr::from_str_with_options(text, options).map_err(|e| format!("not valid YAML: {e}"))
}

#[cfg(test)]
pub(crate) mod testing {
    use bulwark_analyze::{AnalyzerOutput, Fact, FileKind, FileMeta, Interest};
    use bulwark_types::Evidence;

    /// What every analyzer of the table makes of one file: `(name, version, purl)` of each
    /// package (purl as the inventory writes it), the evidence of each, and the problems.
    pub(crate) struct Scanned {
        pub packages: Vec<(String, String, String)>,
        pub evidence: Vec<Evidence>,
        pub problems: Vec<String>,
    }

    pub(crate) fn scan(path: &str, content: &str) -> Scanned {
        let meta = FileMeta {
            path,
            kind: FileKind::Regular,
            size: content.len() as u64,
            mode: 0o644,
        };
        let mut scanned = Scanned {
            packages: Vec::new(),
            evidence: Vec::new(),
            problems: Vec::new(),
        };
        for analyzer in crate::analyzers() {
            if !matches!(analyzer.wants(&meta), Interest::Read { .. }) {
                continue;
            }
            let mut out = AnalyzerOutput::default();
            analyzer.analyze(&meta, content.as_bytes(), &mut out);
            scanned.problems.extend(out.problems);
            for fact in out.facts {
                if let Fact::Packages { records } = fact {
                    for r in records {
                        let purl = crate::packages::purl_of(&r).to_string();
                        scanned.evidence.push(r.evidence);
                        scanned.packages.push((r.name, r.version, purl));
                    }
                }
            }
        }
        scanned
    }

    /// `scan`'s packages, sorted, against `want` (sorted too).
    #[track_caller]
    pub(crate) fn assert_packages(path: &str, content: &str, want: &[(&str, &str, &str)]) {
        let s = scan(path, content);
        assert!(s.problems.is_empty(), "{path}: {:?}", s.problems);
        let mut got = s.packages;
        got.sort();
        let mut want: Vec<(String, String, String)> = want
            .iter()
            .map(|(n, v, p)| (n.to_string(), v.to_string(), p.to_string()))
            .collect();
        want.sort();
        assert_eq!(got, want, "{path}");
    }

    /// A malformed file of the format: a problem, and no package.
    #[track_caller]
    pub(crate) fn assert_malformed(path: &str, content: &str) {
        let s = scan(path, content);
        assert!(s.packages.is_empty(), "{path}: {:?}", s.packages);
        assert!(!s.problems.is_empty(), "{path}: no problem reported");
    }
}

#[cfg(test)]
mod tests {
    use bulwark_types::Evidence::{self, Declared, Installed};

    /// One small file of each format, with the evidence it gives.
    const CASES: &[(&str, &str, Evidence)] = &[
        (
            "Package.resolved",
            r#"{"pins": [{"location": "https://github.com/a/b.git", "state": {"version": "1.0.0"}}], "version": 2}"#,
            Declared,
        ),
        ("Podfile.lock", "PODS:\n  - A (1.0)\n", Declared),
        ("Pods/Manifest.lock", "PODS:\n  - A (1.0)\n", Installed),
        (
            "conan.lock",
            r#"{"version": "0.5", "requires": ["zlib/1.3.1"]}"#,
            Declared,
        ),
        (
            "root/.conan/data/x/1.0/_/_/package/id/conaninfo.txt",
            "[full_requires]\n    zlib/1.3.1:abc\n",
            Installed,
        ),
        (
            "vcpkg.json",
            r#"{"overrides": [{"name": "fmt", "version": "10.1.1"}]}"#,
            Declared,
        ),
        (
            "installed/vcpkg/status",
            "Package: fmt\nVersion: 10.2.1\nStatus: install ok installed\n",
            Installed,
        ),
        (
            "opt/conda/conda-meta/a-1.0-0.json",
            r#"{"name": "a", "version": "1.0", "build": "0"}"#,
            Installed,
        ),
        ("environment.yml", "dependencies:\n  - a==1.0\n", Declared),
        (
            "stack.yaml.lock",
            "packages:\n- completed:\n    hackage: a-1.0@sha256:00,1\n",
            Declared,
        ),
        (
            "cabal.project.freeze",
            "constraints: any.a ==1.0\n",
            Declared,
        ),
        (
            "lib/package.conf.d/a-1.0.conf",
            "name: a\nversion: 1.0\n",
            Installed,
        ),
        (
            "mix.lock",
            "%{\"a\": {:hex, :a, \"1.0.0\", \"00\", [:mix], [], \"hexpm\", \"00\"}}\n",
            Declared,
        ),
        (
            "rebar.lock",
            "[{<<\"a\">>,{pkg,<<\"a\">>,<<\"1.0.0\">>},0}].\n",
            Declared,
        ),
        (
            "pubspec.lock",
            "packages:\n  a:\n    source: hosted\n    version: \"1.0.0\"\n",
            Declared,
        ),
        (
            "Manifest.toml",
            "[[A]]\nuuid = \"00000000-0000-0000-0000-000000000001\"\nversion = \"1.0.0\"\n",
            Declared,
        ),
        (
            "a-1.0-1.rockspec",
            "package = \"a\"\nversion = \"1.0-1\"\n",
            Declared,
        ),
        (
            "lib/luarocks/rocks-5.4/a/1.0-1/rock_manifest",
            "rock_manifest = {}\n",
            Installed,
        ),
        (
            "renv.lock",
            r#"{"Packages": {"a": {"Package": "a", "Version": "1.0"}}}"#,
            Declared,
        ),
        (
            "usr/lib/R/site-library/a/DESCRIPTION",
            "Package: a\nVersion: 1.0\nBuilt: R 4.3.2; ; 2024-01-01; unix\n",
            Installed,
        ),
        (
            "_opam/.opam-switch/switch-state",
            "installed: [\"a.1.0\"]\n",
            Installed,
        ),
    ];

    /// Issue 18 with issue 12.2's rule: a package manager's own record of what it installed is
    /// `installed`; a manifest or lockfile is `declared`.
    #[test]
    fn issue_18_each_new_source_says_whether_it_is_installed_or_declared() {
        for (path, content, want) in CASES {
            let s = super::testing::scan(path, content);
            assert!(s.problems.is_empty(), "{path}: {:?}", s.problems);
            assert!(!s.evidence.is_empty(), "{path}: no packages");
            assert!(
                s.evidence.iter().all(|e| e == want),
                "{path}: {:?}",
                s.evidence
            );
        }
    }

    /// Damaged copies of every format: problems or packages, never a panic.
    #[test]
    fn issue_18_damaged_files_never_panic() {
        use bulwark_analyze::{AnalyzerOutput, FileKind, FileMeta, Interest};

        use crate::lang::golang::testelf::{mutate, XorShift};

        let analyzers = crate::analyzers();
        let mut rng = XorShift(0x9e37_79b9_7f4a_7c15);
        for (path, content, _) in CASES {
            for _ in 0..300 {
                let bytes = mutate(content.as_bytes(), &mut rng);
                let meta = FileMeta {
                    path,
                    kind: FileKind::Regular,
                    size: bytes.len() as u64,
                    mode: 0o644,
                };
                for analyzer in &analyzers {
                    if matches!(analyzer.wants(&meta), Interest::Read { .. }) {
                        analyzer.analyze(&meta, &bytes, &mut AnalyzerOutput::default());
                    }
                }
            }
        }
    }
}
