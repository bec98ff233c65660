//! Documents users hand to bulwark that other tools wrote (SBOMs, VEX), files whose contents a
//! scan searches (secrets), and the user's own policy files.

pub(crate) fn sbom(data: &[u8]) {
    let _ = bulwark_report::import::read_sbom(data);
}

pub(crate) fn vex(data: &[u8]) {
    let _ = bulwark_policy::vex::parse(data, "fuzz.vex.json");
}

pub(crate) fn ignore_file(data: &[u8]) {
    let _ = bulwark_policy::parse_ignore_file(&String::from_utf8_lossy(data), ".bulwarkignore");
}

/// Any file of an image, through the built-in secret rules.
pub(crate) fn secrets_scan(data: &[u8]) {
    let scanner = super::image::secret_scanner();
    let _ = scanner.scan("app/.env", data);
}

/// An archive in an image, its members scanned for secrets: the first byte picks the file name
/// (and so the format), the rest is the archive.
pub(crate) fn secrets_archive(data: &[u8]) {
    use bulwark_analyze::{Analyzer, AnalyzerOutput, FileKind, FileMeta};
    const NAMES: &[&str] = &[
        "app/a.zip",
        "app/a.jar",
        "app/a.tar",
        "app/a.tar.gz",
        "app/a.tar.xz",
        "app/a.tar.bz2",
        "app/a.tar.zst",
        "app/a.env.gz",
        "app/a.env.xz",
        "app/a.env.bz2",
        "app/a.env.zst",
    ];
    let Some((&pick, bytes)) = data.split_first() else {
        return;
    };
    let path = NAMES[usize::from(pick) % NAMES.len()];
    static ANALYZER: std::sync::OnceLock<bulwark_secrets::SecretAnalyzer> =
        std::sync::OnceLock::new();
    let analyzer = ANALYZER.get_or_init(|| {
        bulwark_secrets::SecretAnalyzer::new(super::image::secret_scanner().clone())
    });
    let meta = FileMeta {
        path,
        kind: FileKind::Regular,
        size: bytes.len() as u64,
        mode: 0o644,
    };
    let mut out = AnalyzerOutput::default();
    analyzer.analyze(&meta, bytes, &mut out);
}

/// A user's secret rule file (`--secret-config`): parsed, and its rules compiled.
pub(crate) fn secrets_config(data: &[u8]) {
    if let Ok(config) = bulwark_secrets::SecretConfig::parse(&String::from_utf8_lossy(data)) {
        let _ = config.scanner();
    }
}
