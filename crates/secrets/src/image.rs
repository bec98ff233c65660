//! The scanner inside bulwark's single pass over an image, and over the image's metadata.

use bulwark_analyze::{Analyzer, AnalyzerOutput, Fact, FileKind, FileMeta, Interest};
use bulwark_image::Image;
use bulwark_types::{SecretFinding, SecretHit, SecretLocation};

use crate::{Scanner, SecretMatch, Severity};

/// Bumped whenever the rules or the scanner change what they report, so cached layers are
/// scanned again.
const ANALYZER_VERSION: u32 = 1;

/// File name endings that are never text worth scanning; skipping them in `wants` saves
/// reading their bytes at all (content sniffing catches the rest).
const BINARY_SUFFIXES: &[&str] = &[
    ".so", ".a", ".o", ".ko", ".png", ".jpg", ".jpeg", ".gif", ".ico", ".woff", ".woff2", ".ttf",
    ".otf", ".gz", ".xz", ".bz2", ".zst", ".zip", ".jar", ".whl", ".pyc", ".mo", ".deb", ".rpm",
    ".tar", ".tgz", ".class", ".wasm", ".pdf", ".svgz", ".db", ".sqlite", ".pack", ".idx",
];

/// Runs the secret scanner on every file the walker streams.
pub struct SecretAnalyzer {
    scanner: Scanner,
}

impl SecretAnalyzer {
    pub fn new(scanner: Scanner) -> Self {
        SecretAnalyzer { scanner }
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
        if BINARY_SUFFIXES.iter().any(|s| name.ends_with(s)) || name.contains(".so.") {
            return Interest::Skip;
        }
        if !self.scanner.wants_path(file.path) {
            return Interest::Skip;
        }
        Interest::Read {
            max_bytes: self.scanner.max_file_bytes(),
        }
    }

    fn analyze(&self, file: &FileMeta, content: &[u8], out: &mut AnalyzerOutput) {
        for m in self.scanner.scan(file.path, content) {
            out.fact(Fact::Secret(to_hit(m)));
        }
    }
}

/// Secrets in the image config itself: `ENV` values, labels, and the build history's
/// `created_by` steps (build arguments and `RUN echo $TOKEN` land there).
pub fn scan_image_config(scanner: &Scanner, image: &Image) -> Vec<SecretFinding> {
    let mut out = Vec::new();
    if let Some(config) = image.config.as_ref().and_then(|c| c.config().as_ref()) {
        for env in config.env().iter().flatten() {
            let name = env.split('=').next().unwrap_or(env).to_string();
            for m in scanner.scan_text(&format!("config:env:{name}"), env) {
                out.push(SecretFinding {
                    location: SecretLocation::Env { name: name.clone() },
                    layer: None,
                    removed_in_layer: None,
                    hit: to_hit(m),
                });
            }
        }
        if let Some(labels) = config.labels() {
            for (key, value) in labels {
                let text = format!("{key}={value}");
                for m in scanner.scan_text(&format!("config:label:{key}"), &text) {
                    out.push(SecretFinding {
                        location: SecretLocation::Label { key: key.clone() },
                        layer: None,
                        removed_in_layer: None,
                        hit: to_hit(m),
                    });
                }
            }
        }
    }
    for (step, h) in image.history.iter().enumerate() {
        let Some(created_by) = &h.created_by else {
            continue;
        };
        for m in scanner.scan_text(&format!("history:{step}"), created_by) {
            out.push(SecretFinding {
                location: SecretLocation::History { step },
                layer: None,
                removed_in_layer: None,
                hit: to_hit(m),
            });
        }
    }
    out.sort();
    out.dedup();
    out
}
