//! The scanner inside bulwark's single pass over an image, and over the image's metadata.

use bulwark_analyze::archive::{walk_archive, ArchiveFormat, ArchiveLimits};
use bulwark_analyze::{Analyzer, AnalyzerOutput, Fact, FileKind, FileMeta, Interest};
use bulwark_image::Image;
use bulwark_types::{LayerRef, SecretFinding, SecretHit, SecretLocation};

use crate::credential::{credential_assignments, credential_value, history_parts, StepPart};
use crate::{fingerprint, redact, Scanner, SecretMatch, SecretValue, Severity};

/// Bumped whenever the rules or the scanner change what they report, so cached layers are
/// scanned again.
const ANALYZER_VERSION: u32 = 4;

/// File name endings that are never text worth scanning; skipping them in `wants` saves
/// reading their bytes at all (content sniffing catches the rest).
const BINARY_SUFFIXES: &[&str] = &[
    ".so", ".a", ".o", ".ko", ".png", ".jpg", ".jpeg", ".gif", ".ico", ".woff", ".woff2", ".ttf",
    ".otf", ".gz", ".xz", ".bz2", ".zst", ".zip", ".jar", ".whl", ".pyc", ".mo", ".deb", ".rpm",
    ".tar", ".tgz", ".class", ".wasm", ".pdf", ".svgz", ".db", ".sqlite", ".pack", ".idx",
];

/// Largest archive (`.zip`, `.jar`, `.tar.gz`, …) read into memory to scan its members; a larger
/// one gets the walker's "over this analyzer's limit" warning. Its members are bounded by
/// [`ArchiveLimits`] (the per-member limit is the scanner's per-file one).
pub const MAX_ARCHIVE_BYTES: u64 = 256 << 20;

/// Directories of packaged documentation, compressed file by file (`changelog.gz`, man
/// pages): text about passwords and keys, not credentials, and thousands of files per image.
/// Single compressed files there stay closed; archives of members are still opened.
const DOC_DIRS: &[&str] = &["usr/share/doc/", "usr/share/man/", "usr/share/info/"];

fn binary_name(name: &str) -> bool {
    BINARY_SUFFIXES.iter().any(|s| name.ends_with(s)) || name.contains(".so.")
}

/// Runs the secret scanner on every file the walker streams, and on the members of the
/// archives among them (see [`bulwark_analyze::archive`]).
pub struct SecretAnalyzer {
    scanner: Scanner,
    archives: bool,
}

impl SecretAnalyzer {
    pub fn new(scanner: Scanner) -> Self {
        SecretAnalyzer {
            scanner,
            archives: true,
        }
    }

    /// Whether archives are opened (the default) or skipped like other binary files.
    pub fn with_archives(mut self, archives: bool) -> Self {
        self.archives = archives;
        self
    }

    /// The archive format of the file at `path`, when archives are opened and this one is
    /// worth opening.
    fn archive_format(&self, path: &str) -> Option<ArchiveFormat> {
        let format = ArchiveFormat::from_name(path).filter(|_| self.archives)?;
        let documentation = DOC_DIRS.iter().any(|d| path.starts_with(d));
        (!(format.is_single_file() && documentation)).then_some(format)
    }

    /// Scans the members of the archive `file`: the ones that could hold text (not known
    /// binary formats) and the nested archives, within the archive limits.
    fn analyze_archive(&self, file: &FileMeta, content: &[u8], out: &mut AnalyzerOutput) {
        let limits = ArchiveLimits {
            max_member_bytes: self.scanner.max_file_bytes(),
            ..ArchiveLimits::default()
        };
        let inner_path = |member: &str| format!("{}!/{member}", file.path);
        let mut wants = |member: &str| {
            let name = member.rsplit('/').next().unwrap_or(member);
            (ArchiveFormat::from_name(name).is_some() || !binary_name(name))
                && self.scanner.wants_path(&inner_path(member))
        };
        let mut visit = |member: &str, bytes: &[u8]| {
            for m in self.scanner.scan(&inner_path(member), bytes) {
                out.facts.push(Fact::SecretInArchive {
                    member: member.to_string(),
                    hit: to_hit(m),
                });
            }
        };
        let walk = walk_archive(file.path, content, &limits, &mut wants, &mut visit);
        // Limits hit and unreadable archives are warnings, as a file over the scanner's size
        // limit is: the image is not broken, the scan just did not look there.
        for problem in walk.problems {
            out.note(problem);
        }
    }
}

fn to_types_severity(s: Severity) -> bulwark_types::Severity {
    match s {
        Severity::Low => bulwark_types::Severity::Low,
        Severity::Medium => bulwark_types::Severity::Medium,
        Severity::High => bulwark_types::Severity::High,
        Severity::Critical => bulwark_types::Severity::Critical,
    }
}

fn to_hit(m: SecretMatch) -> SecretHit {
    SecretHit {
        rule_id: m.rule_id,
        title: m.title,
        severity: to_types_severity(m.severity),
        confidence: m.confidence,
        line: m.line,
        column: m.column,
        redacted: m.redacted,
        fingerprint: m.fingerprint,
    }
}

impl Analyzer for SecretAnalyzer {
    fn id(&self) -> &'static str {
        "secrets"
    }

    fn version(&self) -> u32 {
        ANALYZER_VERSION
    }

    fn wants(&self, file: &FileMeta) -> Interest {
        if file.kind != FileKind::Regular || file.size == 0 {
            return Interest::Skip;
        }
        let name = file.file_name();
        if !self.scanner.wants_path(file.path) {
            return Interest::Skip;
        }
        if self.archive_format(file.path).is_some() {
            return Interest::Read {
                max_bytes: MAX_ARCHIVE_BYTES,
            };
        }
        if binary_name(name) {
            return Interest::Skip;
        }
        Interest::Read {
            max_bytes: self.scanner.max_file_bytes(),
        }
    }

    fn analyze(&self, file: &FileMeta, content: &[u8], out: &mut AnalyzerOutput) {
        match self.archive_format(file.path) {
            Some(format) if format.matches_magic(content) => {
                return self.analyze_archive(file, content, out)
            }
            // Named like a compressed file but not one (dpkg keeps plain text named
            // `builtins.7.gz`): scanned as any file.
            _ => {}
        }
        for m in self.scanner.scan(file.path, content) {
            out.fact(Fact::Secret(to_hit(m)));
        }
    }
}

/// Rule ids of the secrets found by a credential name rather than by shape (see
/// [`crate::credential`]), with their titles.
pub const BUILD_ARG_CREDENTIAL: (&str, &str) =
    ("build-arg-credential", "Credential in a build argument");
pub const ENV_CREDENTIAL: (&str, &str) = ("env-credential", "Credential in an ENV variable");
pub const LABEL_CREDENTIAL: (&str, &str) = ("label-credential", "Credential in a label");
pub const COMMAND_CREDENTIAL: (&str, &str) = (
    "command-credential",
    "Credential assigned in a build command",
);

/// What [`scan_image_config`] found: the findings for the report, and the secret values
/// themselves (in memory only) for the [`Redactor`](crate::Redactor).
#[derive(Debug, Default)]
pub struct ConfigSecrets {
    pub findings: Vec<SecretFinding>,
    pub values: Vec<SecretValue>,
}

/// 1-based line and byte column of `offset` in `text`.
fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let before = &text.as_bytes()[..offset];
    let line = 1 + memchr::memchr_iter(b'\n', before).count();
    let line_start = memchr::memrchr(b'\n', before).map_or(0, |i| i + 1);
    (line, offset - line_start + 1)
}

/// A credential-named value in a text: rule (id, title) and the value's byte range.
type NamedValue<'r> = ((&'r str, &'r str), std::ops::Range<usize>);

/// One text of the image's metadata and what was found in it.
struct TextScan<'a> {
    scanner: &'a Scanner,
    location: SecretLocation,
    layer: Option<LayerRef>,
    out: &'a mut ConfigSecrets,
}

impl TextScan<'_> {
    /// Shape rules first, then credential-named values (`by_name`: rule, byte range of the
    /// value). A specific rule's match inside a named value wins over the name; the name wins
    /// over a generic rule's match at the same place.
    fn run(self, text: &str, by_name: Vec<NamedValue<'_>>) {
        // (line, column, rule, range) of each named value.
        let named: Vec<(usize, usize, NamedValue<'_>)> = by_name
            .into_iter()
            .map(|(rule, range)| {
                let (line, col) = line_column(text, range.start);
                (line, col, (rule, range))
            })
            .collect();
        let inside = |line: usize, column: usize| {
            named
                .iter()
                .find(|(l, c, (_, r))| *l == line && column >= *c && column < *c + r.len())
        };
        let mut specific_at = Vec::new();
        for (m, value) in self.scanner.scan_text_values(text) {
            let generic = self.scanner.is_generic(&m.rule_id);
            if generic && inside(m.line, m.column).is_some() {
                continue;
            }
            if !generic {
                specific_at.push((m.line, m.column));
            }
            self.out.values.push(value);
            self.out.findings.push(SecretFinding {
                location: self.location.clone(),
                layer: self.layer.clone(),
                removed_in_layer: None,
                hit: to_hit(m),
            });
        }
        for (line, column, ((rule_id, title), range)) in named {
            if specific_at
                .iter()
                .any(|&(l, c)| l == line && c >= column && c < column + range.len())
            {
                continue;
            }
            let value = &text[range];
            self.out.values.push(SecretValue::new(value));
            self.out.findings.push(SecretFinding {
                location: self.location.clone(),
                layer: self.layer.clone(),
                removed_in_layer: None,
                hit: SecretHit {
                    rule_id: rule_id.to_string(),
                    title: title.to_string(),
                    severity: bulwark_types::Severity::High,
                    // A value under a credential-naming key, with placeholders filtered out.
                    confidence: crate::Confidence::Medium,
                    line,
                    column,
                    redacted: redact(value),
                    fingerprint: fingerprint(rule_id, value),
                },
            });
        }
    }
}

/// Secrets in the image config itself: `ENV` values, labels, and the build history's
/// `created_by` steps (build arguments and `RUN echo $TOKEN` land there), found by the
/// scanner's rules and by credential names (`DB_PASSWORD=…`). A history step that made a
/// layer carries that layer.
pub fn scan_image_config(scanner: &Scanner, image: &Image) -> ConfigSecrets {
    let mut out = ConfigSecrets::default();
    if let Some(config) = image.config.as_ref().and_then(|c| c.config().as_ref()) {
        for env in config.env().iter().flatten() {
            let (name, value) = env.split_once('=').unwrap_or((env, ""));
            let by_name = if credential_value(name, value) {
                vec![(ENV_CREDENTIAL, name.len() + 1..env.len())]
            } else {
                Vec::new()
            };
            TextScan {
                scanner,
                location: SecretLocation::Env {
                    name: name.to_string(),
                },
                layer: None,
                out: &mut out,
            }
            .run(env, by_name);
        }
        if let Some(labels) = config.labels() {
            for (key, value) in labels {
                let text = format!("{key}={value}");
                let by_name = if credential_value(key, value) {
                    vec![(LABEL_CREDENTIAL, key.len() + 1..text.len())]
                } else {
                    Vec::new()
                };
                TextScan {
                    scanner,
                    location: SecretLocation::Label { key: key.clone() },
                    layer: None,
                    out: &mut out,
                }
                .run(&text, by_name);
            }
        }
    }
    let layers = image.layers();
    let mut layer_at = 0;
    for (step, h) in image.history.iter().enumerate() {
        let layer = if h.empty_layer {
            None
        } else {
            layer_at += 1;
            layers.get(layer_at - 1).map(|l| LayerRef {
                index: l.index,
                diff_id: l.diff_id.clone(),
                created_by: l.created_by.clone(),
            })
        };
        let Some(created_by) = &h.created_by else {
            continue;
        };
        let (args, part) = history_parts(created_by);
        let by_name = credential_assignments(created_by)
            .into_iter()
            .map(|a| {
                let in_args = args
                    .as_ref()
                    .is_some_and(|r| r.start <= a.value.start && a.value.end <= r.end);
                let rule = match part {
                    _ if in_args => BUILD_ARG_CREDENTIAL,
                    StepPart::BuildArg => BUILD_ARG_CREDENTIAL,
                    StepPart::Env => ENV_CREDENTIAL,
                    StepPart::Label => LABEL_CREDENTIAL,
                    StepPart::Command => COMMAND_CREDENTIAL,
                };
                (rule, a.value)
            })
            .collect();
        TextScan {
            scanner,
            location: SecretLocation::History { step },
            layer,
            out: &mut out,
        }
        .run(created_by, by_name);
    }
    out.findings.sort();
    out.findings.dedup();
    out
}
