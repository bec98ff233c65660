//! Local engine sources against a real engine: Podman's Docker-compatible API service
//! (`podman system service`), started here on a socket in a temporary directory with its own
//! storage, holding the real minbase test image. The `docker:` source is the same API, so it
//! is tested by pointing DOCKER_HOST at the Podman socket.
//!
//! Failures Podman cannot be made to produce (a cut-off export, a layer that is not the one
//! inspected, Docker 25's OCI-layout export, older Docker's `<id>/layer.tar` export) are served
//! by a small engine here that answers the same three API calls with real archives.
//!
//! Without podman the real-engine tests skip loudly, except under CI (`CI` set), where a
//! missing podman is a failure: `.ci/run` installs it.

use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::util::*;

fn podman_present() -> bool {
    let found = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).any(|d| d.join("podman").is_file()))
        .unwrap_or(false);
    if found {
        return true;
    }
    let ci = std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false");
    if ci {
        panic!("engine tests need podman (apt-get install podman; .ci/run does this)");
    }
    eprintln!(
        "\n!!!!! SKIPPING engine test: podman not installed (apt-get install podman) !!!!!\n"
    );
    false
}

/// A Podman API service with private storage, stopped on drop.
struct Podman {
    dir: tempfile::TempDir,
    child: Child,
}

impl Podman {
    fn command(dir: &Path) -> Command {
        let mut cmd = Command::new("podman");
        cmd.arg("--root")
            .arg(dir.join("root"))
            .arg("--runroot")
            .arg(dir.join("run"))
            .arg("--tmpdir")
            .arg(dir.join("tmp"))
            .args(["--storage-driver", "vfs", "--events-backend", "file"]);
        cmd
    }

    fn start() -> Podman {
        let dir = tempfile::tempdir().unwrap();
        let socket = dir.path().join("podman.sock");
        let child = Self::command(dir.path())
            .args(["system", "service", "--time=0"])
            .arg(format!("unix://{}", socket.display()))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("podman system service starts");
        let podman = Podman { dir, child };
        let deadline = Instant::now() + Duration::from_secs(30);
        while UnixStream::connect(&socket).is_err() {
            assert!(
                Instant::now() < deadline,
                "podman's API socket never came up"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        podman
    }

    fn socket(&self) -> PathBuf {
        self.dir.path().join("podman.sock")
    }

    fn host(&self) -> String {
        format!("unix://{}", self.socket().display())
    }

    fn run(&self, args: &[&str]) -> Output {
        let out = Self::command(self.dir.path()).args(args).output().unwrap();
        assert!(
            out.status.success(),
            "podman {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out
    }
}

impl Drop for Podman {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs bulwark with the engine variables the test sets, and none of the developer's.
fn bulwark_engine(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_bulwark"));
    cmd.args(args)
        .env_remove("BULWARK_CACHE_DIR")
        .env_remove("DOCKER_HOST")
        .env_remove("CONTAINER_HOST")
        .env_remove("BULWARK_SOURCE")
        .env("XDG_RUNTIME_DIR", "/nonexistent-bulwark-test")
        .env(
            "DOCKER_CONFIG",
            std::env::temp_dir().join("bulwark-tests-empty-docker-config"),
        )
        .env(
            "BULWARK_DB_DIR",
            std::env::temp_dir().join("bulwark-tests-no-db"),
        )
        .env("SOURCE_DATE_EPOCH", "1700000000")
        .stdin(Stdio::null());
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("bulwark runs")
}

fn json_scan(reference: &str, extra: &[&str], env: &[(&str, &str)]) -> Value {
    let mut args = vec!["image", reference, "--format", "json", "--quiet"];
    args.extend_from_slice(extra);
    if !extra.contains(&"--cache-dir") {
        args.push("--no-cache");
    }
    let out = bulwark_engine(&args, env);
    assert_eq!(
        out.status.code(),
        Some(0),
        "bulwark {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("a JSON report")
}

fn failure(reference: &str, extra: &[&str], env: &[(&str, &str)]) -> String {
    let mut args = vec!["image", reference, "--format", "json", "--no-cache"];
    args.extend_from_slice(extra);
    let started = Instant::now();
    let out = bulwark_engine(&args, env);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(2), "{reference}: {stderr}");
    assert!(
        started.elapsed() < Duration::from_secs(60),
        "{reference} took {:?}",
        started.elapsed()
    );
    stderr
}

/// What a report says about the image's content: the same whichever source read it.
fn content(report: &Value) -> Value {
    let layers: Vec<Value> = report["layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| json!({"diff_id": l["diff_id"], "created_by": l["created_by"], "entries": l["entries"]}))
        .collect();
    let mut misconfig: Vec<String> = report["misconfigurations"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|m| format!("{} {}", m["check_id"], m["message"]))
                .collect()
        })
        .unwrap_or_default();
    misconfig.sort();
    json!({
        "packages": packages(report),
        "os": report["os"],
        "layers": layers,
        "secrets": report["secrets"],
        "misconfigurations": misconfig,
    })
}

#[test]
fn podman_and_docker_api_sources_give_the_layout_sbom() {
    if !podman_present() {
        return;
    }
    let Some(minbase) = test_image("minbase", &["docker-archive.tar"]) else {
        return;
    };
    let podman = Podman::start();
    let archive = minbase.join("docker-archive.tar");
    podman.run(&["load", "-i", archive.to_str().unwrap()]);
    let loaded = String::from_utf8(podman.run(&["images", "-q"]).stdout).unwrap();
    let id = loaded
        .lines()
        .next()
        .expect("an image id")
        .trim()
        .to_string();
    podman.run(&["tag", &id, "localhost/bulwark-test/minbase:1"]);

    let layout = format!("oci:{}", minbase.join("oci").display());
    let expected = json_scan(&layout, &[], &[]);
    assert!(
        packages(&expected).len() > 50,
        "minbase has a Debian inventory"
    );
    let want = content(&expected);
    let host = podman.host();
    let name = "localhost/bulwark-test/minbase:1";

    let via_podman = json_scan(&format!("podman:{name}"), &[], &[("CONTAINER_HOST", &host)]);
    assert_eq!(content(&via_podman), want);
    assert!(via_podman["image"]["reference"]
        .as_str()
        .unwrap()
        .starts_with("podman:"));

    // Docker's API is the one Podman serves.
    let via_docker = json_scan(&format!("docker:{name}"), &[], &[("DOCKER_HOST", &host)]);
    assert_eq!(content(&via_docker), want);

    // A bare name: Docker's socket is absent, so it is skipped, and Podman has the image.
    let absent = format!("unix://{}/docker.sock", podman.dir.path().display());
    let bare = json_scan(
        name,
        &["--source", "docker,podman,remote"],
        &[("DOCKER_HOST", &absent), ("CONTAINER_HOST", &host)],
    );
    assert_eq!(content(&bare), want);
    assert!(bare["image"]["reference"]
        .as_str()
        .unwrap()
        .starts_with("podman:"));

    // A warm rescan answers from the cache after the inspect alone.
    let cache = tempfile::tempdir().unwrap();
    let cache_dir = cache.path().to_str().unwrap();
    let flags = ["--cache-dir", cache_dir];
    let env = [("BULWARK_PODMAN_HOST", host.as_str())];
    let cold = json_scan(&format!("podman:{name}"), &flags, &env);
    let warm = json_scan(&format!("podman:{name}"), &flags, &env);
    assert_eq!(content(&warm), want);
    assert!(cold["layers"]
        .as_array()
        .unwrap()
        .iter()
        .all(|l| l["from_cache"] == false));
    assert!(warm["layers"]
        .as_array()
        .unwrap()
        .iter()
        .all(|l| l["from_cache"] == true));

    // Bad input against the real engine.
    let e = failure(
        "podman:localhost/no-such-image:1",
        &[],
        &[("CONTAINER_HOST", &host)],
    );
    assert!(
        e.contains("Podman has no image") && e.contains("podman pull localhost/no-such-image:1"),
        "{e}"
    );
    let e = failure(
        "localhost/no-such-image:1",
        &["--source", "docker,podman"],
        &[("DOCKER_HOST", &absent), ("CONTAINER_HOST", &host)],
    );
    assert!(
        e.contains("no source has the image")
            && e.contains("no socket at")
            && e.contains("has no image"),
        "{e}"
    );
    permission_denied(&podman, name);
}

/// An unprivileged user may not use root's socket: a clear error, not a fall-through.
fn permission_denied(podman: &Podman, name: &str) {
    let is_root = Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false);
    if !is_root || Command::new("setpriv").arg("--version").output().is_err() {
        eprintln!("skipping the permission check: needs root and setpriv");
        return;
    }
    // The socket's directory must be reachable for the socket's own mode to be what refuses.
    let mut perms = std::fs::metadata(podman.dir.path()).unwrap().permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut perms, 0o755);
    std::fs::set_permissions(podman.dir.path(), perms).unwrap();
    let out = Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
        .arg(env!("CARGO_BIN_EXE_bulwark"))
        .args([
            "image",
            &format!("podman:{name}"),
            "--no-cache",
            "--format",
            "json",
        ])
        .env("CONTAINER_HOST", podman.host())
        .output()
        .unwrap();
    let e = String::from_utf8_lossy(&out.stderr);
    if e.contains("Permission denied") && e.contains("bulwark") && !e.contains("socket") {
        // The binary itself is not reachable by nobody here (a private target dir).
        eprintln!("skipping the permission check: {e}");
        return;
    }
    assert_eq!(out.status.code(), Some(2), "{e}");
    assert!(e.contains("permission denied on Podman's socket"), "{e}");
}

#[test]
fn engine_addresses_that_cannot_work_fail_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let e = failure(
        "docker:nginx:1.25",
        &[],
        &[("DOCKER_HOST", "tcp://127.0.0.1:2375")],
    );
    assert!(
        e.contains("not a unix socket") && e.contains("docker save"),
        "{e}"
    );
    let missing = format!("unix://{}/none.sock", dir.path().display());
    let e = failure("podman:app:1", &[], &[("CONTAINER_HOST", &missing)]);
    assert!(
        e.contains("Podman is not running here: no socket at"),
        "{e}"
    );
    // A socket file nobody listens on any more.
    let stale = dir.path().join("stale.sock");
    drop(UnixListener::bind(&stale).unwrap());
    let e = failure(
        "docker:app:1",
        &["--docker-host", &format!("unix://{}", stale.display())],
        &[],
    );
    assert!(e.contains("connection refused"), "{e}");
    // An engine that accepts and never answers.
    let stalled = dir.path().join("stalled.sock");
    let listener = UnixListener::bind(&stalled).unwrap();
    let _keep = std::thread::spawn(move || {
        let mut held = Vec::new();
        for s in listener.incoming().flatten() {
            held.push(s);
        }
    });
    let e = failure(
        "docker:app:1",
        &["--engine-timeout", "2"],
        &[("DOCKER_HOST", &format!("unix://{}", stalled.display()))],
    );
    assert!(e.contains("did not answer within 2s"), "{e}");
}

/// A small engine: answers inspect, history and export for one image from files.
struct FakeEngine {
    dir: tempfile::TempDir,
}

impl FakeEngine {
    /// `inspect` is the inspect answer; the export is `archive`'s bytes, cut to `cut` bytes
    /// (then the connection drops mid-body).
    fn start(inspect: Value, archive: Vec<u8>, cut: Option<usize>) -> FakeEngine {
        let dir = tempfile::tempdir().unwrap();
        let listener = UnixListener::bind(dir.path().join("engine.sock")).unwrap();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let inspect = inspect.clone();
                let archive = archive.clone();
                std::thread::spawn(move || serve(stream, &inspect, &archive, cut));
            }
        });
        FakeEngine { dir }
    }

    fn host(&self) -> String {
        format!("unix://{}", self.dir.path().join("engine.sock").display())
    }
}

fn serve(stream: UnixStream, inspect: &Value, archive: &[u8], cut: Option<usize>) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut line = String::new();
    reader.read_line(&mut line).unwrap();
    let path = line.split_whitespace().nth(1).unwrap_or("").to_string();
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h).unwrap() == 0 || h.trim().is_empty() {
            break;
        }
    }
    let mut out = stream;
    let respond = |out: &mut UnixStream, status: &str, body: &[u8]| {
        let _ = write!(
            out,
            "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
            body.len()
        );
        let _ = out.write_all(body);
    };
    if path == "/images/app:1/json" {
        respond(&mut out, "200 OK", inspect.to_string().as_bytes());
    } else if path.ends_with("/history") {
        respond(&mut out, "200 OK", b"[]");
    } else if path.ends_with("/get") {
        let _ = write!(
            out,
            "HTTP/1.1 200 OK\r\nContent-Type: application/x-tar\r\nTransfer-Encoding: chunked\r\n\r\n"
        );
        let end = cut.unwrap_or(archive.len());
        for chunk in archive[..end].chunks(100_000) {
            let _ = write!(out, "{:x}\r\n", chunk.len());
            let _ = out.write_all(chunk);
            let _ = out.write_all(b"\r\n");
        }
        if cut.is_none() {
            let _ = out.write_all(b"0\r\n\r\n");
        }
    } else {
        respond(&mut out, "404 Not Found", br#"{"message":"No such image"}"#);
    }
}

fn two_layer_image() -> ImageBuilder {
    let base = LayerBuilder::new()
        .file("etc/os-release", os_release_debian())
        .file(
            "var/lib/dpkg/status",
            format!(
                "{}{}",
                dpkg_stanza("tiny", "1.0", None),
                dpkg_stanza("other", "2.0", None)
            )
            .as_bytes(),
        )
        .finish();
    let top = LayerBuilder::new()
        .file("app/hello.txt", b"hello\n")
        .finish();
    ImageBuilder::new()
        .layer(base, Compression::Gzip, "ADD rootfs /")
        .layer(top, Compression::Gzip, "COPY hello.txt /app/")
}

fn inspect_for(config: &[u8]) -> Value {
    let c: Value = serde_json::from_slice(config).unwrap();
    json!({
        "Id": format!("sha256:{}", sha256_hex(config)),
        "RepoTags": ["app:1"],
        "Architecture": c["architecture"],
        "Os": c["os"],
        "Config": c["config"],
        "RootFS": {"Type": "layers", "Layers": c["rootfs"]["diff_ids"]},
    })
}

/// Docker 25+'s export: an OCI layout inside the tar, here with gzip layers (as the containerd
/// image store keeps them), so layers are known only by what they decompress to.
fn oci_layout_tar(dir: &Path) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    let mut files: Vec<PathBuf> = walk(dir);
    files.sort();
    for f in files {
        let name = f.strip_prefix(dir).unwrap().to_str().unwrap().to_string();
        append(&mut b, &name, &std::fs::read(&f).unwrap());
    }
    b.into_inner().unwrap()
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        if e.path().is_dir() {
            out.extend(walk(&e.path()));
        } else {
            out.push(e.path());
        }
    }
    out
}

#[test]
fn docker_export_forms_stream_and_bad_exports_fail() {
    let image = two_layer_image();
    let tmp = tempfile::tempdir().unwrap();
    let layout = tmp.path().join("oci");
    image.write_oci(&layout);
    let expected = json_scan(&format!("oci:{}", layout.display()), &[], &[]);
    let want = packages(&expected);
    assert_eq!(want.len(), 2);
    let config = image.config_json();
    let inspect = inspect_for(&config);

    // Older Docker: `<id>/layer.tar` members, identified by their content.
    let archive_path = tmp.path().join("docker.tar");
    image.write_docker_archive(&archive_path);
    let classic = std::fs::read(&archive_path).unwrap();
    let engine = FakeEngine::start(inspect.clone(), classic.clone(), None);
    let report = json_scan("docker:app:1", &[], &[("DOCKER_HOST", &engine.host())]);
    assert_eq!(packages(&report), want);

    // Docker 25+: the OCI layout inside the export, gzip blobs.
    let engine = FakeEngine::start(inspect.clone(), oci_layout_tar(&layout), None);
    let report = json_scan("docker:app:1", &[], &[("DOCKER_HOST", &engine.host())]);
    assert_eq!(packages(&report), want);
    assert_eq!(
        report["layers"][1]["diff_id"],
        inspect["RootFS"]["Layers"][1]
    );

    // Cut off in the middle of the first layer.
    let engine = FakeEngine::start(inspect.clone(), classic.clone(), Some(1500));
    let e = failure("docker:app:1", &[], &[("DOCKER_HOST", &engine.host())]);
    assert!(
        e.contains("stopped in the middle") || e.contains("ended"),
        "{e}"
    );

    // Inspect says one set of layers, the export carries another.
    let mut wrong = inspect.clone();
    wrong["RootFS"]["Layers"][0] = json!(format!("sha256:{}", "ab".repeat(32)));
    let engine = FakeEngine::start(wrong, classic, None);
    let e = failure("docker:app:1", &[], &[("DOCKER_HOST", &engine.host())]);
    assert!(
        e.contains("not one of the layers the engine's inspect listed"),
        "{e}"
    );

    // An engine without the image, in a bare-name lookup that names no registry.
    let e = failure(
        "other:2",
        &["--source", "docker"],
        &[("DOCKER_HOST", &engine.host())],
    );
    assert!(e.contains("Docker has no image \"other:2\""), "{e}");
}
