//! Hostile and broken input: every case ends in a clear message and a non-zero exit (2 for a
//! fatal error, 3 for a finished scan with files that could not be analyzed), never a panic
//! and never a hang.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::util::{
    compress, dpkg_stanza, os_release_debian, packages, sha256_hex, write_index, Compression,
    ImageBuilder, LayerBuilder,
};

/// Generous enough for a loaded 2-core machine; a scan of these tiny images takes well under a
/// second, so reaching it means a hang.
const HANG_GUARD: Duration = Duration::from_secs(60);

struct Outcome {
    code: Option<i32>,
    stdout: Vec<u8>,
    stderr: String,
    elapsed: Duration,
}

impl Outcome {
    fn report(&self) -> Value {
        serde_json::from_slice(&self.stdout).unwrap_or(Value::Null)
    }

    /// Exit code, after checking the process neither panicked nor died of a signal.
    fn code(&self) -> i32 {
        assert!(
            !self.stderr.contains("panicked"),
            "bulwark panicked:\n{}",
            self.stderr
        );
        self.code
            .unwrap_or_else(|| panic!("bulwark died of a signal; stderr:\n{}", self.stderr))
    }

    /// Asserts a fatal error (exit 2) whose `error:` message contains every needle.
    fn assert_fatal(&self, needles: &[&str]) {
        let code = self.code();
        assert_eq!(code, 2, "expected exit 2; stderr:\n{}", self.stderr);
        assert!(
            self.stderr.starts_with("error: "),
            "the message starts with `error:`; stderr:\n{}",
            self.stderr
        );
        for needle in needles {
            assert!(
                self.stderr.contains(needle),
                "stderr should mention {needle:?}; stderr:\n{}",
                self.stderr
            );
        }
        assert_eq!(
            self.stderr.lines().count(),
            1,
            "one line of message; stderr:\n{}",
            self.stderr
        );
        assert!(
            self.stdout.is_empty(),
            "a fatal error writes no report; stdout:\n{}",
            String::from_utf8_lossy(&self.stdout)
        );
    }

    /// Asserts `phrase` occurs exactly once: the cause of an error is not repeated.
    fn assert_said_once(&self, phrase: &str) {
        assert_eq!(
            self.stderr.matches(phrase).count(),
            1,
            "{phrase:?} said once; stderr:\n{}",
            self.stderr
        );
    }
}

/// Runs the binary like `util::bulwark`, but kills it (and fails) if it runs past `limit`.
fn run_limited(program: &str, args: &[String], limit: Duration) -> Outcome {
    let started = Instant::now();
    let mut child = Command::new(program)
        .args(args)
        .env_remove("BULWARK_CACHE_DIR")
        .env("SOURCE_DATE_EPOCH", "1700000000")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the bulwark binary runs");
    let mut out_pipe = child.stdout.take().unwrap();
    let mut err_pipe = child.stderr.take().unwrap();
    let out_reader = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = out_pipe.read_to_end(&mut v);
        v
    });
    let err_reader = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = err_pipe.read_to_end(&mut v);
        v
    });
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("bulwark {args:?} still running after {limit:?}: a hang");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let elapsed = started.elapsed();
    Outcome {
        code: status.code(),
        stdout: out_reader.join().unwrap(),
        stderr: String::from_utf8_lossy(&err_reader.join().unwrap()).into_owned(),
        elapsed,
    }
}

/// `bulwark image REFERENCE --format json --no-cache [--quiet] EXTRA…` under the hang guard.
/// Without `--quiet` the diagnostics are printed on stderr too.
fn scan(reference: &str, extra: &[&str], quiet: bool) -> Outcome {
    let mut args: Vec<String> = ["image", reference, "--format", "json", "--no-cache"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    if quiet {
        args.push("--quiet".into());
    }
    args.extend(extra.iter().map(|s| s.to_string()));
    run_limited(env!("CARGO_BIN_EXE_bulwark"), &args, HANG_GUARD)
}

fn oci_ref(dir: &Path) -> String {
    format!("oci:{}", dir.display())
}

/// Deterministic incompressible bytes (xorshift), so a cut lands in the middle of an entry.
fn noise(len: usize, mut seed: u64) -> Vec<u8> {
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        out.extend_from_slice(&seed.to_le_bytes());
    }
    out.truncate(len);
    out
}

fn debian_base_layer() -> Vec<u8> {
    let status = format!(
        "{}{}",
        dpkg_stanza("base-files", "12.4+deb12u5", None),
        dpkg_stanza("zlib1g", "1:1.2.13.dfsg-1", Some("zlib"))
    );
    LayerBuilder::new()
        .dir("etc")
        .file("etc/os-release", os_release_debian())
        .file("var/lib/dpkg/status", status.as_bytes())
        .finish()
}

fn sha256_ref(bytes: &[u8]) -> String {
    format!("sha256:{}", sha256_hex(bytes))
}

fn config_for(diff_ids: &[String]) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "architecture": "amd64",
        "os": "linux",
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
    }))
    .unwrap()
}

fn put_blob(dir: &Path, bytes: &[u8]) -> String {
    let hex = sha256_hex(bytes);
    let path = dir.join("blobs/sha256").join(&hex);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, bytes).unwrap();
    format!("sha256:{hex}")
}

/// An OCI layout from raw parts: the config bytes and already-encoded layer blobs, each
/// described by its own real digest and size, so only what the test broke is broken.
fn write_raw_oci(dir: &Path, config: &[u8], layers: &[(&[u8], &str)]) -> String {
    let config_digest = put_blob(dir, config);
    let layer_descs: Vec<Value> = layers
        .iter()
        .map(|(blob, media)| json!({"mediaType": media, "digest": put_blob(dir, blob), "size": blob.len()}))
        .collect();
    let manifest = serde_json::to_vec(&json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config_digest, "size": config.len()},
        "layers": layer_descs,
    }))
    .unwrap();
    write_manifest_blob(dir, &manifest, "application/vnd.oci.image.manifest.v1+json")
}

/// Stores `manifest` as a blob and writes an index naming it; returns its digest.
fn write_manifest_blob(dir: &Path, manifest: &[u8], media: &str) -> String {
    let digest = put_blob(dir, manifest);
    write_index(
        dir,
        vec![json!({"mediaType": media, "digest": digest, "size": manifest.len()})],
    );
    digest
}

fn blob_hex(path: &Path) -> String {
    path.file_name().unwrap().to_string_lossy().into_owned()
}

// 1 ─────────────────────────────────────────────────────────────────────────────────────────

#[test]
fn blob_digest_mismatch_is_fatal_and_names_the_layer() {
    let tmp = tempfile::tempdir().unwrap();
    let written = ImageBuilder::new()
        .layer(debian_base_layer(), Compression::None, "ADD base")
        .write_oci(tmp.path());
    let blob = &written.layers[0];
    let mut bytes = std::fs::read(blob).unwrap();
    // The last byte sits in the tar's end-of-archive zeros: the tar still parses, same size,
    // so only the digest check can notice.
    *bytes.last_mut().unwrap() ^= 0x01;
    std::fs::write(blob, &bytes).unwrap();

    let out = scan(&oci_ref(tmp.path()), &[], true);
    out.assert_fatal(&["layer 0", "digest mismatch", &blob_hex(blob)]);
    out.assert_said_once("digest mismatch");
}

// 2 ─────────────────────────────────────────────────────────────────────────────────────────

#[test]
fn diff_id_mismatch_is_fatal() {
    let tmp = tempfile::tempdir().unwrap();
    let wrong = sha256_ref(b"not this layer");
    let mut image = ImageBuilder::new().layer(debian_base_layer(), Compression::Gzip, "ADD base");
    image.config_extra = json!({"rootfs": {"type": "layers", "diff_ids": [wrong]}});
    image.write_oci(tmp.path());

    let out = scan(&oci_ref(tmp.path()), &[], true);
    out.assert_fatal(&["layer 0", "diff_id digest mismatch", &wrong]);
    out.assert_said_once("diff_id digest mismatch");
}

// 3 ─────────────────────────────────────────────────────────────────────────────────────────

#[test]
fn missing_layer_blob_is_fatal() {
    let tmp = tempfile::tempdir().unwrap();
    let written = ImageBuilder::new()
        .layer(debian_base_layer(), Compression::Gzip, "ADD base")
        .layer(
            LayerBuilder::new().file("x", b"x").finish(),
            Compression::Gzip,
            "ADD x",
        )
        .write_oci(tmp.path());
    std::fs::remove_file(&written.layers[1]).unwrap();

    let out = scan(&oci_ref(tmp.path()), &[], true);
    out.assert_fatal(&["missing", &blob_hex(&written.layers[1])]);
}

// 4 ─────────────────────────────────────────────────────────────────────────────────────────

fn layer_with_payload(payload: &[u8]) -> Vec<u8> {
    LayerBuilder::new()
        .file("etc/os-release", os_release_debian())
        .file("usr/share/payload.bin", payload)
        .file("usr/share/after", b"after")
        .finish()
}

#[test]
fn truncated_gzip_layer_is_fatal() {
    let tmp = tempfile::tempdir().unwrap();
    let tar = layer_with_payload(&noise(256 * 1024, 7));
    let gz = compress(&tar, Compression::Gzip);
    let cut = &gz[..gz.len() / 2];
    write_raw_oci(
        tmp.path(),
        &config_for(&[sha256_ref(&tar)]),
        &[(cut, "application/vnd.oci.image.layer.v1.tar+gzip")],
    );

    let out = scan(&oci_ref(tmp.path()), &[], true);
    out.assert_fatal(&["layer 0"]);
    let lower = out.stderr.to_ascii_lowercase();
    assert!(
        lower.contains("gzip") && (lower.contains("corrupt") || lower.contains("truncated")),
        "the message says the gzip stream is broken: {}",
        out.stderr
    );
}

// 5 ─────────────────────────────────────────────────────────────────────────────────────────

#[test]
fn corrupt_zstd_layer_is_fatal() {
    let tmp = tempfile::tempdir().unwrap();
    // Compressible text, so the middle of the frame is entropy-coded data, not a raw block.
    let text: String = (0..20_000)
        .map(|i| format!("line {i} of a compressible file {}\n", i * 7919 % 1000))
        .collect();
    let tar = layer_with_payload(text.as_bytes());
    let mut zst = compress(&tar, Compression::Zstd);
    let mid = zst.len() / 2;
    for b in &mut zst[mid..mid + 32] {
        *b ^= 0xa5;
    }
    write_raw_oci(
        tmp.path(),
        &config_for(&[sha256_ref(&tar)]),
        &[(&zst, "application/vnd.oci.image.layer.v1.tar+zstd")],
    );

    let out = scan(&oci_ref(tmp.path()), &[], true);
    out.assert_fatal(&["layer 0"]);
    // A decoder error names zstd; garbage that still decodes fails the diff_id check instead.
    assert!(
        out.stderr.contains("Zstd data is corrupt") || out.stderr.contains("diff_id"),
        "{}",
        out.stderr
    );
}

// 6 ─────────────────────────────────────────────────────────────────────────────────────────

#[test]
fn truncated_tar_layer_is_fatal() {
    let tmp = tempfile::tempdir().unwrap();
    let tar = layer_with_payload(&noise(64 * 1024, 11));
    // Cut in the middle of payload.bin's data (headers are 512 bytes, os-release < 512).
    let cut = &tar[..512 + 512 + 512 + 30 * 1024];
    // Blob digest and diff_id both describe the cut bytes: only the tar structure is broken.
    write_raw_oci(
        tmp.path(),
        &config_for(&[sha256_ref(cut)]),
        &[(cut, "application/vnd.oci.image.layer.v1.tar")],
    );

    let out = scan(&oci_ref(tmp.path()), &[], true);
    out.assert_fatal(&["layer 0", "tar stream is corrupt or truncated"]);
    out.assert_said_once("unexpected EOF");
}

// 7 ─────────────────────────────────────────────────────────────────────────────────────────

#[test]
fn index_json_that_is_not_json_is_fatal() {
    let tmp = tempfile::tempdir().unwrap();
    ImageBuilder::new()
        .layer(debian_base_layer(), Compression::Gzip, "ADD base")
        .write_oci(tmp.path());
    std::fs::write(tmp.path().join("index.json"), b"{ this is not json").unwrap();

    let out = scan(&oci_ref(tmp.path()), &[], true);
    out.assert_fatal(&["index.json", "not a valid image index"]);
}

#[test]
fn manifest_that_is_not_json_is_fatal() {
    let tmp = tempfile::tempdir().unwrap();
    let digest = write_manifest_blob(
        tmp.path(),
        b"<html>502 Bad Gateway</html>",
        "application/vnd.oci.image.manifest.v1+json",
    );
    let out = scan(&oci_ref(tmp.path()), &[], true);
    out.assert_fatal(&["not a valid image manifest", &digest]);
}

#[test]
fn config_without_rootfs_is_fatal() {
    let tmp = tempfile::tempdir().unwrap();
    let tar = debian_base_layer();
    let config = serde_json::to_vec(&json!({"architecture": "amd64", "os": "linux"})).unwrap();
    write_raw_oci(
        tmp.path(),
        &config,
        &[(&tar, "application/vnd.oci.image.layer.v1.tar")],
    );
    let out = scan(&oci_ref(tmp.path()), &[], true);
    out.assert_fatal(&["not a valid image config", "rootfs", &sha256_ref(&config)]);
}

// 8 ─────────────────────────────────────────────────────────────────────────────────────────

#[test]
fn docker_schema1_manifest_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let layer = put_blob(
        tmp.path(),
        &compress(&debian_base_layer(), Compression::Gzip),
    );
    let manifest = serde_json::to_vec(&json!({
        "schemaVersion": 1,
        "name": "library/old",
        "tag": "latest",
        "architecture": "amd64",
        "fsLayers": [{"blobSum": layer}],
        "history": [{"v1Compatibility": "{\"id\":\"abc\"}"}],
    }))
    .unwrap();
    write_manifest_blob(
        tmp.path(),
        &manifest,
        "application/vnd.docker.distribution.manifest.v1+prettyjws",
    );
    let out = scan(&oci_ref(tmp.path()), &[], true);
    out.assert_fatal(&["schema 1"]);
}

// 9 ─────────────────────────────────────────────────────────────────────────────────────────

#[test]
fn entry_escaping_the_root_is_fatal_and_names_the_layer() {
    let tmp = tempfile::tempdir().unwrap();
    let hostile = LayerBuilder::new()
        .file("tmp/ok", b"fine")
        .file("../etc/passwd", b"root::0:0::/:/bin/sh\n")
        .finish();
    let written = ImageBuilder::new()
        .layer(debian_base_layer(), Compression::Gzip, "ADD base")
        .layer(hostile.clone(), Compression::Gzip, "ADD evil")
        .write_oci(tmp.path());
    let out = scan(&oci_ref(tmp.path()), &[], true);
    // The layer is named by index and by its (short) diff_id.
    let diff_id_hex = sha256_hex(&hostile);
    out.assert_fatal(&[
        "escapes the image root",
        "layer 1",
        "\"../etc/passwd\"",
        &diff_id_hex[..12],
    ]);
    assert!(written.layers.len() == 2);
}

#[test]
fn absolute_entry_paths_are_normalized() {
    let tmp = tempfile::tempdir().unwrap();
    let layer = LayerBuilder::new()
        .file("/etc/os-release", os_release_debian())
        .file(
            "/var/lib/dpkg/status",
            dpkg_stanza("bash", "5.2.15-2+b2", None).as_bytes(),
        )
        .finish();
    ImageBuilder::new()
        .layer(layer, Compression::Gzip, "ADD abs")
        .write_oci(tmp.path());
    let out = scan(&oci_ref(tmp.path()), &[], true);
    assert_eq!(out.code(), 0, "{}", out.stderr);
    let report = out.report();
    assert_eq!(report["os"]["id"], "debian");
    assert_eq!(
        packages(&report),
        vec![("bash".to_string(), "5.2.15-2+b2".to_string(), 0)]
    );
}

// 10 ────────────────────────────────────────────────────────────────────────────────────────

#[test]
fn symlink_loop_is_a_diagnostic_not_a_failure() {
    let tmp = tempfile::tempdir().unwrap();
    let status = format!(
        "{}{}",
        dpkg_stanza("libc6", "2.36-9+deb12u4", Some("glibc")),
        dpkg_stanza("zlib1g", "1:1.2.13.dfsg-1", Some("zlib"))
    );
    // etc/os-release → a (etc/a) → b (etc/b) → /etc/os-release → …
    let layer = LayerBuilder::new()
        .dir("etc")
        .symlink("etc/os-release", "a")
        .symlink("etc/a", "b")
        .symlink("etc/b", "/etc/os-release")
        .file("var/lib/dpkg/status", status.as_bytes())
        .finish();
    ImageBuilder::new()
        .layer(layer, Compression::Gzip, "ADD loop")
        .write_oci(tmp.path());

    let out = scan(&oci_ref(tmp.path()), &[], false);
    assert_eq!(out.code(), 3, "{}", out.stderr);
    assert!(
        out.stderr.contains("symlink loop") && out.stderr.contains("/etc/os-release"),
        "the diagnostic is printed: {}",
        out.stderr
    );
    let report = out.report();
    let diags = report["diagnostics"].as_array().unwrap();
    assert!(
        diags.iter().any(|d| d["level"] == "error"
            && d["path"] == "/etc/os-release"
            && d["message"].as_str().unwrap().contains("symlink loop")),
        "{diags:#?}"
    );
    assert_eq!(
        packages(&report),
        vec![
            ("libc6".to_string(), "2.36-9+deb12u4".to_string(), 0),
            ("zlib1g".to_string(), "1:1.2.13.dfsg-1".to_string(), 0),
        ]
    );
}

// 11 ────────────────────────────────────────────────────────────────────────────────────────

fn zeros_image(dir: &Path) {
    let layer = LayerBuilder::new()
        .file("etc/os-release", os_release_debian())
        .file("zeros", &vec![0u8; 30 << 20])
        .finish();
    ImageBuilder::new()
        .layer(layer, Compression::Gzip, "ADD zeros")
        .write_oci(dir);
}

#[test]
fn layer_over_max_layer_size_is_fatal() {
    let tmp = tempfile::tempdir().unwrap();
    zeros_image(tmp.path());
    let out = scan(&oci_ref(tmp.path()), &["--max-layer-size", "10M"], true);
    out.assert_fatal(&["layer 0", "expands past 10485760 bytes", "--max-layer-size"]);
    out.assert_said_once("expands past");
}

#[test]
fn expansion_ratio_limit_stops_a_decompression_bomb() {
    use bulwark_analyze::{NoProgress, Walker};
    use bulwark_image::{Limits, Platform, SourceRef};

    let tmp = tempfile::tempdir().unwrap();
    zeros_image(tmp.path());
    let reference = SourceRef::parse(&oci_ref(tmp.path())).unwrap();
    let image = bulwark_image::open(&reference, &Platform::host()).unwrap();
    let analyzers = bulwark_catalog::analyzers();

    let strict = Limits {
        max_layer_bytes: 1 << 40,
        max_ratio: 10,
        ratio_grace_bytes: 1 << 20,
        ..Limits::default()
    };
    let err = Walker::new(&analyzers)
        .with_limits(strict)
        .walk(&image, &NoProgress)
        .err()
        .expect("a 30 MiB layer of zeros expands more than 10x");
    let msg = err.to_string();
    assert!(msg.contains("decompression bomb"), "{msg}");
    assert!(
        msg.contains("layer 0") && msg.contains("more than 10x"),
        "{msg}"
    );

    // The same layer is fine under the default limits (its 30 MiB is under the 1 GiB grace).
    let walked = Walker::new(&analyzers)
        .walk(&image, &NoProgress)
        .unwrap_or_else(|e| panic!("default limits accept the layer: {e}"));
    assert_eq!(walked.len(), 1);
}

// 12 ────────────────────────────────────────────────────────────────────────────────────────

/// Writes `value` as zero-padded octal filling `field`, NUL-terminated when there is room; as
/// GNU tar does, a value needing every byte of the field (10 GiB needs 12 digits) is written
/// without the terminator.
fn octal(field: &mut [u8], value: u64) {
    let digits = format!("{value:0width$o}", width = field.len() - 1);
    assert!(
        digits.len() <= field.len(),
        "{value} fits in {} bytes",
        field.len()
    );
    field[..digits.len()].copy_from_slice(digits.as_bytes());
    if digits.len() < field.len() {
        field[digits.len()] = 0;
    }
}

/// One old-GNU sparse member (typeflag 'S'): `data` stored at offset 0 of a file whose real
/// size is `real_size`, the rest a hole. Layout per GNU tar's `struct oldgnu_header`:
/// sparse[4] of {offset[12], numbytes[12]} at 386, isextended at 482, realsize[12] at 483.
/// As GNU tar writes it, the trailing hole is closed by an empty chunk at offset `real_size`.
fn gnu_sparse_member(name: &str, data: &[u8], real_size: u64) -> Vec<u8> {
    let mut h = [0u8; 512];
    h[..name.len()].copy_from_slice(name.as_bytes());
    octal(&mut h[100..108], 0o644); // mode
    octal(&mut h[108..116], 0); // uid
    octal(&mut h[116..124], 0); // gid
    octal(&mut h[124..136], data.len() as u64); // size: the bytes stored in the archive
    octal(&mut h[136..148], 1_700_000_000); // mtime
    h[156] = b'S';
    h[257..263].copy_from_slice(b"ustar ");
    h[263..265].copy_from_slice(b" \0");
    // sparse[0] = {0, len(data)}, sparse[1] = {real_size, 0}
    octal(&mut h[386..398], 0);
    octal(&mut h[398..410], data.len() as u64);
    octal(&mut h[410..422], real_size);
    octal(&mut h[422..434], 0);
    h[482] = 0; // isextended
    octal(&mut h[483..495], real_size);
    // Checksum: sum of the header with the checksum field as spaces, six octal digits, NUL, space.
    h[148..156].copy_from_slice(b"        ");
    let sum: u32 = h.iter().map(|&b| b as u32).sum();
    h[148..154].copy_from_slice(format!("{sum:06o}").as_bytes());
    h[154] = 0;
    h[155] = b' ';
    let mut out = h.to_vec();
    out.extend_from_slice(data);
    out.resize(512 + data.len().div_ceil(512) * 512, 0);
    out
}

#[test]
fn huge_sparse_file_is_skipped_quickly_with_a_warning() {
    const REAL_SIZE: u64 = 10 << 30;
    let tmp = tempfile::tempdir().unwrap();
    let mut tar = LayerBuilder::new()
        .file("etc/os-release", os_release_debian())
        .finish();
    // Drop the two end-of-archive blocks, add the sparse member and one more file.
    assert!(tar[tar.len() - 1024..].iter().all(|&b| b == 0));
    tar.truncate(tar.len() - 1024);
    let stanza = dpkg_stanza("sparse", "1.0", None);
    tar.extend(gnu_sparse_member(
        "var/lib/dpkg/status",
        stanza.as_bytes(),
        REAL_SIZE,
    ));
    let tail = LayerBuilder::new().file("etc/after-sparse", b"x").finish();
    tar.extend_from_slice(&tail);
    ImageBuilder::new()
        .layer(tar, Compression::Gzip, "ADD sparse")
        .write_oci(tmp.path());

    // Under a 2 GiB address-space cap, so reading the 10 GiB file into memory could only abort.
    let bin = env!("CARGO_BIN_EXE_bulwark");
    let script = format!(
        "ulimit -v 2097152 && exec \"$0\" image {} --format json --no-cache",
        oci_ref(tmp.path())
    );
    let out = run_limited(
        "sh",
        &["-c".to_string(), script, bin.to_string()],
        HANG_GUARD,
    );
    // Exit 0: a file over an analyzer's size cap is skipped by design and reported as a
    // warning; warnings do not make a scan incomplete (only error diagnostics give exit 3).
    assert_eq!(out.code(), 0, "{}", out.stderr);
    assert!(
        out.elapsed < Duration::from_secs(20),
        "took {:?}",
        out.elapsed
    );
    assert!(
        out.stderr
            .contains("warning: layer 0: /var/lib/dpkg/status:"),
        "{}",
        out.stderr
    );
    let report = out.report();
    let diags = report["diagnostics"].as_array().unwrap();
    assert!(
        diags.iter().any(|d| d["level"] == "warning"
            && d["path"] == "/var/lib/dpkg/status"
            && d["analyzer"] == "dpkg"
            && d["message"]
                .as_str()
                .unwrap()
                .contains(&format!("file is {REAL_SIZE} bytes, over"))),
        "{diags:#?}"
    );
    assert_eq!(report["os"]["id"], "debian");
    assert!(packages(&report).is_empty());
    // The walk went on past the sparse member.
    assert_eq!(report["layers"][0]["entries"], 3, "{:#}", report["layers"]);
}

// 13 ────────────────────────────────────────────────────────────────────────────────────────

#[test]
fn garbage_in_dpkg_status_keeps_the_valid_packages() {
    let tmp = tempfile::tempdir().unwrap();
    let mut status = Vec::new();
    status.extend_from_slice(dpkg_stanza("base-files", "12.4+deb12u5", None).as_bytes());
    status.extend_from_slice(b"\x00\x01\x02\xff\xfe\x7f binary junk\n\xc3\x28:\x00\x9f\x92\n\n");
    status.extend_from_slice(
        b"Package: noversion\nStatus: install ok installed\nArchitecture: amd64\n\n",
    );
    status.extend_from_slice(b"Package: bad name!\nStatus: install ok installed\nVersion: 1.0\n\n");
    status.extend_from_slice(dpkg_stanza("zlib1g", "1:1.2.13.dfsg-1", Some("zlib")).as_bytes());
    let layer = LayerBuilder::new()
        .file("etc/os-release", os_release_debian())
        .file("var/lib/dpkg/status", &status)
        .finish();
    ImageBuilder::new()
        .layer(layer, Compression::Gzip, "ADD status")
        .write_oci(tmp.path());

    let out = scan(&oci_ref(tmp.path()), &[], false);
    assert_eq!(out.code(), 3, "{}", out.stderr);
    assert!(
        out.stderr
            .contains("error: layer 0: /var/lib/dpkg/status: 3 stanza(s) without a valid"),
        "{}",
        out.stderr
    );
    let report = out.report();
    assert_eq!(
        packages(&report),
        vec![
            ("base-files".to_string(), "12.4+deb12u5".to_string(), 0),
            ("zlib1g".to_string(), "1:1.2.13.dfsg-1".to_string(), 0),
        ]
    );
    let diags = report["diagnostics"].as_array().unwrap();
    assert!(
        diags.iter().any(|d| d["level"] == "error"
            && d["path"] == "/var/lib/dpkg/status"
            && d["analyzer"] == "dpkg"
            && d["layer"] == 0),
        "{diags:#?}"
    );
}

// 14 ────────────────────────────────────────────────────────────────────────────────────────

#[test]
fn truncated_docker_archive_is_fatal() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("image.tar");
    ImageBuilder::new()
        .layer(debian_base_layer(), Compression::None, "ADD base")
        .layer(
            layer_with_payload(&noise(256 * 1024, 3)),
            Compression::None,
            "ADD payload",
        )
        .write_docker_archive(&path);
    let bytes = std::fs::read(&path).unwrap();
    std::fs::write(&path, &bytes[..bytes.len() / 2]).unwrap();
    let shown = path.display().to_string();

    let out = scan(&format!("docker-archive:{shown}"), &[], true);
    out.assert_fatal(&["truncated", &shown, "layer.tar"]);
    // Detected from the bare path, the same message.
    let out = scan(&shown, &[], true);
    out.assert_fatal(&["truncated", &shown]);
}

// 15 ────────────────────────────────────────────────────────────────────────────────────────

#[test]
fn random_file_is_not_an_image() {
    let tmp = tempfile::tempdir().unwrap();
    let big = tmp.path().join("random.bin");
    std::fs::write(&big, noise(4096, 99)).unwrap();
    let small = tmp.path().join("small.bin");
    std::fs::write(&small, noise(100, 5)).unwrap();

    let out = scan(&big.display().to_string(), &[], true);
    out.assert_fatal(&[&big.display().to_string(), "is not a tar archive"]);
    let out = scan(&small.display().to_string(), &[], true);
    out.assert_fatal(&["neither a directory nor a tar archive"]);
    let out = scan(&format!("docker-archive:{}", big.display()), &[], true);
    out.assert_fatal(&[&big.display().to_string(), "not a valid image archive"]);
}

#[test]
fn empty_directory_scans_as_an_empty_rootfs() {
    let tmp = tempfile::tempdir().unwrap();
    let out = scan(&format!("dir:{}", tmp.path().display()), &[], true);
    assert_eq!(out.code(), 0, "{}", out.stderr);
    let report = out.report();
    assert_eq!(report["packages"], json!([]));
    assert!(report.get("os").is_none());
}

#[test]
fn nonexistent_path_gets_a_helpful_message() {
    let tmp = tempfile::tempdir().unwrap();
    let missing: PathBuf = tmp.path().join("no-such-image");
    let shown = missing.display().to_string();

    let out = scan(&shown, &[], true);
    out.assert_fatal(&[&shown, "oci:DIR", "docker-archive:FILE"]);
    let out = scan(&format!("oci:{shown}"), &[], true);
    out.assert_fatal(&[&shown, "no oci-layout"]);
    let out = scan(&format!("docker-archive:{shown}"), &[], true);
    out.assert_fatal(&[&shown, "No such file"]);
    out.assert_said_once("No such file");
    let out = scan(&format!("dir:{shown}"), &[], true);
    out.assert_fatal(&[&shown, "not a directory"]);
}

// 16, 17 ────────────────────────────────────────────────────────────────────────────────────

fn multi_platform(dir: &Path) {
    let mut manifests = Vec::new();
    for arch in ["amd64", "arm64"] {
        let status = dpkg_stanza(&format!("only-{arch}"), "1.0", None);
        let layer = LayerBuilder::new()
            .file("etc/os-release", os_release_debian())
            .file("var/lib/dpkg/status", status.as_bytes())
            .finish();
        let mut image = ImageBuilder::new().layer(layer, Compression::Gzip, "ADD");
        image.arch = arch.to_string();
        let (mut desc, _) = image.write_blobs(dir);
        desc["platform"] = json!({"os": "linux", "architecture": arch});
        manifests.push(desc);
    }
    write_index(dir, manifests);
}

#[test]
fn platform_flag_picks_from_a_multi_platform_index() {
    let tmp = tempfile::tempdir().unwrap();
    multi_platform(tmp.path());
    for arch in ["arm64", "amd64"] {
        let platform = format!("linux/{arch}");
        let out = scan(&oci_ref(tmp.path()), &["--platform", &platform], true);
        assert_eq!(out.code(), 0, "{}", out.stderr);
        let report = out.report();
        assert_eq!(report["image"]["platform"], platform.as_str());
        assert_eq!(
            packages(&report),
            vec![(format!("only-{arch}"), "1.0".to_string(), 0)]
        );
    }
}

#[test]
fn unavailable_platform_lists_the_available_ones() {
    let tmp = tempfile::tempdir().unwrap();
    multi_platform(tmp.path());
    let out = scan(&oci_ref(tmp.path()), &["--platform", "linux/s390x"], true);
    out.assert_fatal(&[
        "linux/s390x",
        "available: linux/amd64, linux/arm64",
        "--platform",
    ]);
}

#[test]
fn malformed_platform_shows_the_expected_form() {
    let tmp = tempfile::tempdir().unwrap();
    multi_platform(tmp.path());
    for bad in ["garbage", "linux/", "a/b/c/d"] {
        let out = scan(&oci_ref(tmp.path()), &["--platform", bad], true);
        out.assert_fatal(&[&format!("{bad:?}"), "os/arch or os/arch/variant"]);
    }
}

// Memory budget ─────────────────────────────────────────────────────────────────────────────

#[test]
fn a_file_over_the_memory_budget_is_skipped_with_an_error_not_read() {
    let tmp = tempfile::tempdir().unwrap();
    let status: String = (0..4000)
        .map(|i| dpkg_stanza(&format!("pkg{i}"), "1.0-1", None))
        .collect();
    assert!(status.len() > 200 << 10);
    let layer = LayerBuilder::new()
        .file("etc/os-release", os_release_debian())
        .file("var/lib/dpkg/status", status.as_bytes())
        .finish();
    ImageBuilder::new()
        .layer(layer, Compression::Gzip, "ADD status")
        .write_oci(tmp.path());

    let out = scan(&oci_ref(tmp.path()), &["--max-memory", "100K"], false);
    assert_eq!(out.code(), 3, "{}", out.stderr);
    assert!(
        out.stderr.contains("/var/lib/dpkg/status")
            && out.stderr.contains("memory budget")
            && out.stderr.contains("--max-memory"),
        "{}",
        out.stderr
    );
    let report = out.report();
    // Files that fit are still analyzed; the one that did not is not half-read.
    assert_eq!(report["os"]["id"], "debian");
    assert!(packages(&report).is_empty());

    let out = scan(&oci_ref(tmp.path()), &["--max-memory", "1M"], true);
    assert_eq!(out.code(), 0, "{}", out.stderr);
    assert_eq!(packages(&out.report()).len(), 4000);
}

// Issue 13.4 ─────────────────────────────────────────────────────────────────────────────────

/// A GNU long-name header (typeflag 'L') declaring `size` bytes, followed by that many bytes
/// of name (zeros, which compress to almost nothing).
fn gnu_long_name_member(size: u64) -> Vec<u8> {
    let mut h = [0u8; 512];
    h[..13].copy_from_slice(b"././@LongLink");
    octal(&mut h[100..108], 0o644);
    octal(&mut h[108..116], 0);
    octal(&mut h[116..124], 0);
    octal(&mut h[124..136], size);
    octal(&mut h[136..148], 0);
    h[156] = b'L';
    h[257..263].copy_from_slice(b"ustar ");
    h[263..265].copy_from_slice(b" \0");
    h[148..156].copy_from_slice(b"        ");
    let sum: u32 = h.iter().map(|&b| b as u32).sum();
    h[148..154].copy_from_slice(format!("{sum:06o}").as_bytes());
    h[154] = 0;
    h[155] = b' ';
    let mut out = h.to_vec();
    out.resize(512 + (size as usize).div_ceil(512) * 512, 0);
    out
}

/// Issue 13.4: a small layer whose first entry had a 900 MiB long-name header made the tar
/// reader hold the whole name (3.7 GB) and the scan then exit 0. Scaled down to 16 MiB: the
/// header is over the 1 MiB limit for extension headers, and the layer fails like any
/// corrupt layer (exit 2, naming the layer), having read little of it.
#[test]
fn issue13_4_a_huge_long_name_header_fails_the_layer() {
    let tmp = tempfile::tempdir().unwrap();
    let mut tar = gnu_long_name_member(16 << 20);
    tar.extend_from_slice(
        &LayerBuilder::new()
            .file("etc/os-release", os_release_debian())
            .finish(),
    );
    ImageBuilder::new()
        .layer(tar, Compression::Gzip, "ADD name")
        .write_oci(tmp.path());
    let out = scan(&oci_ref(tmp.path()), &[], true);
    out.assert_fatal(&["layer 0", "GNU long-name", "16777216", "1048576"]);
}
