//! Configuration files (`bulwark config`, and the same files found inside images): each kind
//! through `bulwark_misconfig::scan_files`, which parses it and runs every built-in check, and
//! through the conversion into Rego input that user policies see.

use bulwark_misconfig::{FileKind, SourceFile};

fn scan_as(kind: FileKind, path: &str, data: &[u8]) {
    let file = SourceFile {
        path: path.to_string(),
        kind,
        bytes: data.to_vec(),
    };
    let _ = bulwark_misconfig::scan_files(std::slice::from_ref(&file));
    let _ = bulwark_misconfig::rego::inputs(&file);
}

pub(crate) fn dockerfile(data: &[u8]) {
    scan_as(FileKind::Dockerfile, "/src/Dockerfile", data)
}

pub(crate) fn kubernetes(data: &[u8]) {
    scan_as(FileKind::Kubernetes, "/src/deploy.yaml", data)
}

pub(crate) fn compose(data: &[u8]) {
    scan_as(FileKind::Compose, "/src/compose.yaml", data)
}

pub(crate) fn daemon_json(data: &[u8]) {
    scan_as(FileKind::DaemonJson, "/etc/docker/daemon.json", data)
}

/// The line-keeping YAML loader every YAML check builds on, and kind detection by content.
pub(crate) fn yaml(data: &[u8]) {
    let _ = bulwark_misconfig::detect::detect(std::path::Path::new("deploy.yaml"), data);
    let _ = bulwark_misconfig::yaml::load_stream(&String::from_utf8_lossy(data));
}
