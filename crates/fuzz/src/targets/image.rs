//! Image metadata and layers: OCI and docker-save archives opened through
//! [`bulwark_image::open`], and layer tars streamed through the real walker and assembly.
//!
//! The metadata targets are structure-aware: an OCI archive verifies every blob against the
//! digest that names it, so a mutated manifest or config inside a raw archive would only ever
//! reach the digest check. `oci_manifest` and `image_config` therefore take the document alone
//! and build a valid archive around it (recomputing the digests that point at it);
//! `oci_index` does the same for `index.json`. `oci_archive` and `docker_archive` take the
//! whole archive, for the tar and layout handling.

use std::io::{Cursor, Read, Write};
use std::sync::{Arc, OnceLock};

use bulwark_analyze::{Analyzer, NoProgress, Walker};
use bulwark_image::{Image, ImageContent, Layer, Limits, Platform, SourceRef};
use sha2::{Digest as _, Sha256};

/// Layers in fuzz inputs are small; a decompression bomb should stop well before the default
/// 64 GiB cap turns one input into minutes of inflating.
const FUZZ_LAYER_LIMITS: Limits = Limits {
    max_layer_bytes: 64 << 20,
    max_ratio: 250,
    ratio_grace_bytes: 16 << 20,
    max_extension_bytes: 1 << 20,
    max_trailing_bytes: 1 << 20,
};

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

fn tar_entry(builder: &mut tar::Builder<Vec<u8>>, path: &str, data: &[u8]) {
    let mut header = tar::Header::new_ustar();
    header.set_size(data.len() as u64);
    header.set_mode(0o644);
    header.set_mtime(0);
    header.set_entry_type(tar::EntryType::Regular);
    builder
        .append_data(&mut header, path, data)
        .expect("writing a tar to memory");
}

fn tar_link(builder: &mut tar::Builder<Vec<u8>>, kind: tar::EntryType, path: &str, target: &str) {
    let mut header = tar::Header::new_ustar();
    header.set_size(0);
    header.set_mode(0o777);
    header.set_mtime(0);
    header.set_entry_type(kind);
    builder
        .append_link(&mut header, path, target)
        .expect("writing a tar to memory");
}

/// A small, valid layer: an OS, a dpkg database, a Dockerfile, links and a whiteout.
pub(crate) fn base_layer() -> &'static [u8] {
    static LAYER: OnceLock<Vec<u8>> = OnceLock::new();
    LAYER.get_or_init(|| {
        let mut b = tar::Builder::new(Vec::new());
        tar_entry(
            &mut b,
            "etc/os-release",
            b"ID=debian\nVERSION_ID=\"12\"\nVERSION_CODENAME=bookworm\n",
        );
        tar_entry(
            &mut b,
            "var/lib/dpkg/status",
            b"Package: libc6\nStatus: install ok installed\nArchitecture: amd64\nVersion: 2.36-9\n\n",
        );
        tar_entry(&mut b, "app/Dockerfile", b"FROM debian:12\nUSER root\n");
        tar_link(&mut b, tar::EntryType::Symlink, "bin/sh", "dash");
        tar_link(&mut b, tar::EntryType::Link, "etc/os-release.bak", "etc/os-release");
        tar_entry(&mut b, "tmp/.wh.gone", b"");
        b.into_inner().expect("writing a tar to memory")
    })
}

fn image_config_json(layer: &[u8]) -> Vec<u8> {
    serde_json::to_vec_pretty(&serde_json::json!({
        "architecture": "amd64",
        "os": "linux",
        "config": {
            "User": "root",
            "Env": ["PATH=/usr/bin", "AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"],
            "ExposedPorts": {"22/tcp": {}},
            "Healthcheck": {"Test": ["CMD", "true"]}
        },
        "rootfs": {"type": "layers", "diff_ids": [format!("sha256:{}", sha256_hex(layer))]},
        "history": [{"created_by": "/bin/sh -c #(nop) ADD file:1 in /", "created": "2024-01-01T00:00:00Z"}]
    }))
    .expect("serializing JSON")
}

fn manifest_json(config: &[u8], layer: &[u8]) -> Vec<u8> {
    serde_json::to_vec_pretty(&serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {
            "mediaType": "application/vnd.oci.image.config.v1+json",
            "digest": format!("sha256:{}", sha256_hex(config)),
            "size": config.len()
        },
        "layers": [{
            "mediaType": "application/vnd.oci.image.layer.v1.tar",
            "digest": format!("sha256:{}", sha256_hex(layer)),
            "size": layer.len()
        }]
    }))
    .expect("serializing JSON")
}

fn index_json(manifest: &[u8]) -> Vec<u8> {
    serde_json::to_vec_pretty(&serde_json::json!({
        "schemaVersion": 2,
        "manifests": [{
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "digest": format!("sha256:{}", sha256_hex(manifest)),
            "size": manifest.len(),
            "platform": {"architecture": "amd64", "os": "linux"},
            "annotations": {"org.opencontainers.image.ref.name": "latest"}
        }]
    }))
    .expect("serializing JSON")
}

fn oci_archive_bytes(index: &[u8], blobs: &[&[u8]]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    tar_entry(&mut b, "oci-layout", br#"{"imageLayoutVersion":"1.0.0"}"#);
    tar_entry(&mut b, "index.json", index);
    for blob in blobs {
        tar_entry(&mut b, &format!("blobs/sha256/{}", sha256_hex(blob)), blob);
    }
    b.into_inner().expect("writing a tar to memory")
}

/// The three documents of the valid base image: (index, manifest, config).
pub(crate) fn base_documents() -> (Vec<u8>, Vec<u8>, Vec<u8>) {
    let config = image_config_json(base_layer());
    let manifest = manifest_json(&config, base_layer());
    let index = index_json(&manifest);
    (index, manifest, config)
}

/// A valid OCI archive of the base image.
pub(crate) fn base_oci_archive() -> Vec<u8> {
    let (index, manifest, config) = base_documents();
    oci_archive_bytes(&index, &[&manifest, &config, base_layer()])
}

/// A valid `docker save` archive of the base image.
pub(crate) fn base_docker_archive() -> Vec<u8> {
    let (_, _, config) = base_documents();
    let manifest = serde_json::to_vec(&serde_json::json!([{
        "Config": "config.json",
        "RepoTags": ["fuzz:latest"],
        "Layers": ["layer/layer.tar"]
    }]))
    .expect("serializing JSON");
    let mut b = tar::Builder::new(Vec::new());
    tar_entry(&mut b, "manifest.json", &manifest);
    tar_entry(&mut b, "config.json", &config);
    tar_entry(&mut b, "layer/layer.tar", base_layer());
    b.into_inner().expect("writing a tar to memory")
}

fn platform() -> Platform {
    Platform {
        os: "linux".into(),
        architecture: "amd64".into(),
        variant: None,
    }
}

fn scan_analyzers() -> &'static [Box<dyn Analyzer>] {
    static ANALYZERS: OnceLock<Vec<Box<dyn Analyzer>>> = OnceLock::new();
    ANALYZERS.get_or_init(|| {
        let mut all = bulwark_catalog::analyzers();
        all.push(Box::new(bulwark_secrets::SecretAnalyzer::new(
            secret_scanner().clone(),
        )));
        all.push(Box::new(bulwark_misconfig::in_image::ConfigFileAnalyzer));
        all
    })
}

pub(crate) fn secret_scanner() -> &'static bulwark_secrets::Scanner {
    static SCANNER: OnceLock<bulwark_secrets::Scanner> = OnceLock::new();
    SCANNER.get_or_init(bulwark_secrets::Scanner::builtin)
}

/// What a scan does with an opened image: walk its layers with every analyzer, assemble the
/// facts, and run the checks that read the image config.
fn scan_image(image: &Image) {
    let walker = Walker::new(scan_analyzers()).with_limits(FUZZ_LAYER_LIMITS);
    let Ok(walked) = walker.walk(image, &NoProgress) else {
        return;
    };
    let facts = bulwark_catalog::finalize_packages(bulwark_analyze::assemble(image, walked));
    let _ = bulwark_misconfig::in_image::findings(&facts);
    let _ = bulwark_misconfig::image_config::scan(image, &facts);
    let _ = bulwark_secrets::scan_image_config(secret_scanner(), image);
}

/// Writes `archive` to a temporary file and opens it as `kind` (`oci-archive`,
/// `docker-archive`), then scans what opened.
fn open_archive(kind: &str, archive: &[u8]) {
    let Ok(mut file) = tempfile::Builder::new().prefix("bulwark-fuzz-").tempfile() else {
        return;
    };
    if file.write_all(archive).and_then(|_| file.flush()).is_err() {
        return;
    }
    let Ok(reference) = SourceRef::parse(&format!("{kind}:{}", file.path().display())) else {
        return;
    };
    if let Ok(image) = bulwark_image::open(&reference, &platform()) {
        scan_image(&image);
    }
}

pub(crate) fn oci_archive(data: &[u8]) {
    open_archive("oci-archive", data)
}

pub(crate) fn docker_archive(data: &[u8]) {
    open_archive("docker-archive", data)
}

pub(crate) fn oci_index(data: &[u8]) {
    let (_, manifest, config) = base_documents();
    open_archive(
        "oci-archive",
        &oci_archive_bytes(data, &[&manifest, &config, base_layer()]),
    )
}

pub(crate) fn oci_manifest(data: &[u8]) {
    let (_, _, config) = base_documents();
    let index = index_json(data);
    open_archive(
        "oci-archive",
        &oci_archive_bytes(&index, &[data, &config, base_layer()]),
    )
}

pub(crate) fn image_config(data: &[u8]) {
    let manifest = manifest_json(data, base_layer());
    let index = index_json(&manifest);
    open_archive(
        "oci-archive",
        &oci_archive_bytes(&index, &[&manifest, data, base_layer()]),
    )
}

/// A layer blob (plain, gzip or zstd tar) on top of the base layer, through the walker with
/// every analyzer a scan runs, then assembled (whiteouts, links, overwrites).
pub(crate) fn layer_tar(data: &[u8]) {
    let blob: Arc<[u8]> = Arc::from(data);
    let base: Arc<[u8]> = Arc::from(base_layer());
    let opener = |bytes: Arc<[u8]>| {
        move || -> std::io::Result<Box<dyn Read + Send>> {
            Ok(Box::new(Cursor::new(bytes.clone())))
        }
    };
    let image = Image {
        source: "fuzz".into(),
        repo_tags: Vec::new(),
        manifest_digest: None,
        config_digest: None,
        config: None,
        platform: None,
        history: Vec::new(),
        content: ImageContent::Layers(vec![
            Layer::new(0, Arc::new(opener(base))),
            Layer::new(1, Arc::new(opener(blob))),
        ]),
    };
    scan_image(&image);
}

/// A registry's `WWW-Authenticate` challenge (a header any registry, or a man in the middle
/// of a plain-HTTP one, chooses).
pub(crate) fn registry_challenge(data: &[u8]) {
    let _ = bulwark_image::registry::Challenge::parse(&String::from_utf8_lossy(data));
}
