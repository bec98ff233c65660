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

/// A user's secret rule file (`--secret-config`): parsed, and its rules compiled.
pub(crate) fn secrets_config(data: &[u8]) {
    if let Ok(config) = bulwark_secrets::SecretConfig::parse(&String::from_utf8_lossy(data)) {
        let _ = config.scanner();
    }
}
