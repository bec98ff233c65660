//! Builders for small synthetic images written into temp dirs, and a runner for the binary.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::{json, Value};
use sha2::{Digest, Sha256};

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// One layer's tar, written entry by entry. Paths go into headers raw, so tests can write the
/// hostile names (`../x`) that `tar::Builder::append_data` would refuse.
pub struct LayerBuilder {
    builder: tar::Builder<Vec<u8>>,
}

impl Default for LayerBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl LayerBuilder {
    pub fn new() -> Self {
        LayerBuilder {
            builder: tar::Builder::new(Vec::new()),
        }
    }

    fn header(name: &str, kind: tar::EntryType, size: u64, mode: u32) -> tar::Header {
        let mut h = tar::Header::new_gnu();
        let bytes = name.as_bytes();
        assert!(bytes.len() < 100, "test paths stay short");
        h.as_gnu_mut().unwrap().name[..bytes.len()].copy_from_slice(bytes);
        h.set_entry_type(kind);
        h.set_size(size);
        h.set_mode(mode);
        h.set_mtime(1_700_000_000);
        h.set_cksum();
        h
    }

    pub fn file(mut self, name: &str, content: &[u8]) -> Self {
        let h = Self::header(name, tar::EntryType::Regular, content.len() as u64, 0o644);
        self.builder.append(&h, content).unwrap();
        self
    }

    pub fn file_mode(mut self, name: &str, content: &[u8], mode: u32) -> Self {
        let h = Self::header(name, tar::EntryType::Regular, content.len() as u64, mode);
        self.builder.append(&h, content).unwrap();
        self
    }

    pub fn dir_mode(mut self, name: &str, mode: u32) -> Self {
        let h = Self::header(name, tar::EntryType::Directory, 0, mode);
        self.builder.append(&h, std::io::empty()).unwrap();
        self
    }

    pub fn dir(mut self, name: &str) -> Self {
        let h = Self::header(name, tar::EntryType::Directory, 0, 0o755);
        self.builder.append(&h, std::io::empty()).unwrap();
        self
    }

    pub fn link(mut self, name: &str, target: &str, kind: tar::EntryType) -> Self {
        let mut h = Self::header(name, kind, 0, 0o777);
        h.set_link_name(target).unwrap();
        h.set_cksum();
        self.builder.append(&h, std::io::empty()).unwrap();
        self
    }

    pub fn symlink(self, name: &str, target: &str) -> Self {
        self.link(name, target, tar::EntryType::Symlink)
    }

    pub fn whiteout(self, path: &str) -> Self {
        let (dir, name) = path.rsplit_once('/').unwrap_or(("", path));
        let wh = if dir.is_empty() {
            format!(".wh.{name}")
        } else {
            format!("{dir}/.wh.{name}")
        };
        self.file(&wh, b"")
    }

    pub fn opaque(self, dir: &str) -> Self {
        self.file(&format!("{dir}/.wh..wh..opq"), b"")
    }

    pub fn finish(self) -> Vec<u8> {
        self.builder.into_inner().unwrap()
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Compression {
    None,
    Gzip,
    Zstd,
}

pub fn compress(tar: &[u8], c: Compression) -> Vec<u8> {
    match c {
        Compression::None => tar.to_vec(),
        Compression::Gzip => {
            let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            e.write_all(tar).unwrap();
            e.finish().unwrap()
        }
        Compression::Zstd => zstd::encode_all(tar, 3).unwrap(),
    }
}

fn media_type(c: Compression) -> &'static str {
    match c {
        Compression::None => "application/vnd.oci.image.layer.v1.tar",
        Compression::Gzip => "application/vnd.oci.image.layer.v1.tar+gzip",
        Compression::Zstd => "application/vnd.oci.image.layer.v1.tar+zstd",
    }
}

/// A synthetic image: layers, their history steps, and a platform.
pub struct ImageBuilder {
    pub layers: Vec<(Vec<u8>, Compression, String)>,
    pub arch: String,
    pub config_extra: Value,
}

/// Paths of what [`ImageBuilder::write_oci`] wrote, so tests can corrupt them.
#[allow(dead_code)]
pub struct WrittenOci {
    pub dir: PathBuf,
    pub manifest: PathBuf,
    pub config: PathBuf,
    pub layers: Vec<PathBuf>,
    pub manifest_digest: String,
}

pub fn os_release_debian() -> &'static [u8] {
    b"PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nNAME=\"Debian GNU/Linux\"\nVERSION_ID=\"12\"\nVERSION_CODENAME=bookworm\nID=debian\n"
}

pub fn dpkg_stanza(name: &str, version: &str, source: Option<&str>) -> String {
    let mut s = format!(
        "Package: {name}\nStatus: install ok installed\nArchitecture: amd64\nVersion: {version}\n"
    );
    if let Some(src) = source {
        s.push_str(&format!("Source: {src}\n"));
    }
    s.push_str("Description: test\n\n");
    s
}

impl ImageBuilder {
    pub fn new() -> Self {
        ImageBuilder {
            layers: Vec::new(),
            arch: "amd64".into(),
            config_extra: json!({}),
        }
    }

    pub fn layer(mut self, tar: Vec<u8>, c: Compression, step: &str) -> Self {
        self.layers.push((tar, c, step.to_string()));
        self
    }

    pub fn config_json(&self) -> Vec<u8> {
        let diff_ids: Vec<String> = self
            .layers
            .iter()
            .map(|(t, _, _)| format!("sha256:{}", sha256_hex(t)))
            .collect();
        let history: Vec<Value> = self
            .layers
            .iter()
            .map(|(_, _, step)| json!({"created_by": step}))
            .collect();
        let mut config = json!({
            "architecture": self.arch,
            "os": "linux",
            "config": {"Env": ["PATH=/usr/bin"]},
            "rootfs": {"type": "layers", "diff_ids": diff_ids},
            "history": history,
        });
        if let Value::Object(extra) = &self.config_extra {
            for (k, v) in extra {
                config[k] = v.clone();
            }
        }
        serde_json::to_vec(&config).unwrap()
    }

    fn write_blob(dir: &Path, bytes: &[u8]) -> (String, PathBuf) {
        let hex = sha256_hex(bytes);
        let path = dir.join("blobs/sha256").join(&hex);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, bytes).unwrap();
        (format!("sha256:{hex}"), path)
    }

    /// Writes the image's blobs and manifest into an OCI layout at `dir` and returns the
    /// manifest descriptor (without platform), so several images can share one index.
    pub fn write_blobs(&self, dir: &Path) -> (Value, WrittenOci) {
        let config = self.config_json();
        let (config_digest, config_path) = Self::write_blob(dir, &config);
        let mut layer_descs = Vec::new();
        let mut layer_paths = Vec::new();
        for (tar, c, _) in &self.layers {
            let blob = compress(tar, *c);
            let (digest, path) = Self::write_blob(dir, &blob);
            layer_descs
                .push(json!({"mediaType": media_type(*c), "digest": digest, "size": blob.len()}));
            layer_paths.push(path);
        }
        let manifest = serde_json::to_vec(&json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config_digest, "size": config.len()},
            "layers": layer_descs,
        }))
        .unwrap();
        let (manifest_digest, manifest_path) = Self::write_blob(dir, &manifest);
        let desc = json!({
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "digest": manifest_digest,
            "size": manifest.len(),
        });
        (
            desc,
            WrittenOci {
                dir: dir.to_path_buf(),
                manifest: manifest_path,
                config: config_path,
                layers: layer_paths,
                manifest_digest,
            },
        )
    }

    pub fn write_oci(&self, dir: &Path) -> WrittenOci {
        let (mut desc, written) = self.write_blobs(dir);
        desc["annotations"] = json!({"org.opencontainers.image.ref.name": "latest"});
        write_index(dir, vec![desc]);
        written
    }

    /// `docker save`'s classic form: `manifest.json`, config JSON, uncompressed `layer.tar`s.
    pub fn write_docker_archive(&self, path: &Path) {
        let mut b = tar::Builder::new(std::fs::File::create(path).unwrap());
        let config = self.config_json();
        let config_name = format!("{}.json", sha256_hex(&config));
        append(&mut b, &config_name, &config);
        let mut layer_names = Vec::new();
        for (tar, _, _) in &self.layers {
            let name = format!("{}/layer.tar", sha256_hex(tar));
            append(&mut b, &name, tar);
            layer_names.push(name);
        }
        let manifest =
            json!([{"Config": config_name, "RepoTags": ["test/image:1"], "Layers": layer_names}]);
        append(
            &mut b,
            "manifest.json",
            &serde_json::to_vec(&manifest).unwrap(),
        );
        b.finish().unwrap();
    }
}

pub fn write_index(dir: &Path, manifests: Vec<Value>) {
    std::fs::write(dir.join("oci-layout"), br#"{"imageLayoutVersion":"1.0.0"}"#).unwrap();
    let index = json!({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": manifests});
    std::fs::write(dir.join("index.json"), serde_json::to_vec(&index).unwrap()).unwrap();
}

pub fn append(b: &mut tar::Builder<impl Write>, name: &str, data: &[u8]) {
    let mut h = tar::Header::new_gnu();
    h.set_size(data.len() as u64);
    h.set_mode(0o644);
    h.set_cksum();
    b.append_data(&mut h, name, data).unwrap();
}

/// Runs the real binary with a private cache dir unless the test passes its own.
pub fn bulwark(args: &[&str]) -> Output {
    let out = Command::new(env!("CARGO_BIN_EXE_bulwark"))
        .args(args)
        .env_remove("BULWARK_CACHE_DIR")
        // Never the developer's own advisory database: tests that want one pass --db-dir.
        .env(
            "BULWARK_DB_DIR",
            std::env::temp_dir().join("bulwark-tests-no-db"),
        )
        .env("SOURCE_DATE_EPOCH", "1700000000")
        .output()
        .expect("the bulwark binary runs");
    // Every JSON report any test makes is also read back and written again.
    assert_report_round_trips(&args.join(" "), &out.stdout);
    out
}

/// When `output` is a bulwark JSON report: reading it back and writing it again gives the
/// same bytes (the report is data a server can store, not only a rendering).
pub fn assert_report_round_trips(what: &str, output: &[u8]) {
    let is_report = serde_json::from_slice::<Value>(output)
        .is_ok_and(|v| v["schema"] == bulwark_report::REPORT_SCHEMA);
    if !is_report {
        return;
    }
    let report = bulwark_report::read_report(output)
        .unwrap_or_else(|e| panic!("{what}: the JSON report does not read back: {e}"));
    let again = bulwark_report::render(&report, bulwark_report::Format::Json);
    if again.as_bytes() != output {
        let first = String::from_utf8_lossy(output);
        let line = first
            .lines()
            .zip(again.lines())
            .position(|(a, b)| a != b)
            .unwrap_or(0);
        panic!(
            "{what}: the report read back writes different bytes, first at line {}:\n  written: {:?}\n  again:   {:?}",
            line + 1,
            first.lines().nth(line),
            again.lines().nth(line)
        );
    }
}

/// Scans and returns (exit code, parsed JSON report or Null, stderr).
pub fn scan_json(reference: &str, extra: &[&str]) -> (i32, Value, String) {
    let mut args = vec![
        "image",
        reference,
        "--format",
        "json",
        "--no-cache",
        "--quiet",
    ];
    args.extend_from_slice(extra);
    let out = bulwark(&args);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let report = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    (out.status.code().unwrap_or(-1), report, stderr)
}

/// `(name, version, layer)` of every package in a report, sorted.
pub fn packages(report: &Value) -> Vec<(String, String, u64)> {
    let mut v: Vec<_> = report["packages"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|p| {
                    (
                        p["name"].as_str().unwrap().to_string(),
                        p["version"].as_str().unwrap().to_string(),
                        p["layer"]["index"].as_u64().unwrap(),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

/// The package called `name` in a report; panics with the inventory when it is absent.
pub fn package<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["packages"]
        .as_array()
        .and_then(|a| a.iter().find(|p| p["name"] == name))
        .unwrap_or_else(|| panic!("no package {name:?} in {:?}", packages(report)))
}

/// A real test image built by `scripts/build-test-images.py` (in `.cache/testimages`, or
/// `$BULWARK_TESTIMAGES`), checked for the ground-truth files a test needs. Missing, it fails
/// with the command to run, unless `BULWARK_SKIP_REAL_IMAGES` says to skip on purpose.
pub fn test_image(name: &str, required: &[&str]) -> Option<std::path::PathBuf> {
    let dir = std::env::var_os("BULWARK_TESTIMAGES")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| {
            std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../.cache/testimages")
        })
        .join(name);
    let present = std::iter::once("oci/index.json")
        .chain(required.iter().copied())
        .all(|f| dir.join(f).exists());
    if present {
        return Some(dir);
    }
    if std::env::var_os("BULWARK_SKIP_REAL_IMAGES").is_some() {
        eprintln!(
            "skipping: the {name} test image is not built and BULWARK_SKIP_REAL_IMAGES is set"
        );
        return None;
    }
    panic!(
        "the {name} test image (with {required:?}) is missing in {}; build it with `python3 scripts/build-test-images.py {name}` (or set BULWARK_SKIP_REAL_IMAGES=1 to skip)",
        dir.display()
    );
}

/// An advisory store imported from the repo's advisory test data (crates/vulndb/tests/data,
/// see its ATTRIBUTION.md) into `tmp/db`.
pub fn advisory_db(tmp: &Path) -> PathBuf {
    let db = tmp.join("db");
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("../vulndb/tests/data");
    let out = bulwark(&[
        "db",
        "import",
        "--db-dir",
        db.to_str().unwrap(),
        data.to_str().unwrap(),
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    db
}
