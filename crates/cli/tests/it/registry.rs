//! Registry sources against a real registry: Debian's `docker-registry` (the CNCF
//! distribution registry) started here on 127.0.0.1, with TLS from a CA these tests make with
//! `openssl`, htpasswd Basic auth (`htpasswd -B`) or the token flow (a small token server here
//! that mints real JWTs the registry verifies), and images pushed with `skopeo copy`.
//!
//! Without those programs the tests skip loudly, except under CI (`CI` set), where a missing
//! tool is a failure: `.ci/run` installs them.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::util::*;

const TOOLS: [&str; 5] = ["docker-registry", "skopeo", "htpasswd", "openssl", "curl"];

/// Whether the registry tools are here; a loud skip locally, a failure under CI.
pub(crate) fn tools_present() -> bool {
    let missing: Vec<&str> = TOOLS
        .iter()
        .copied()
        .filter(|t| {
            !std::env::var_os("PATH")
                .map(|p| std::env::split_paths(&p).any(|d| d.join(t).is_file()))
                .unwrap_or(false)
        })
        .collect();
    if missing.is_empty() {
        return true;
    }
    let ci = std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false");
    if ci {
        panic!("registry tests need {missing:?} (apt-get install docker-registry skopeo apache2-utils openssl; .ci/run does this)");
    }
    eprintln!("\n!!!!! SKIPPING registry test: {missing:?} not installed (apt-get install docker-registry skopeo apache2-utils openssl) !!!!!\n");
    false
}

pub(crate) fn run(cmd: &mut Command) -> Output {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A CA and a server certificate for 127.0.0.1/localhost, made with openssl.
pub(crate) struct Pki {
    pub(crate) ca: PathBuf,
    pub(crate) cert: PathBuf,
    pub(crate) key: PathBuf,
}

pub(crate) fn make_pki(dir: &Path) -> Pki {
    let p = |n: &str| dir.join(n);
    run(Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
        ])
        .args(["-nodes", "-days", "2", "-subj", "/CN=bulwark test CA"])
        .arg("-keyout")
        .arg(p("ca.key"))
        .arg("-out")
        .arg(p("ca.crt")));
    run(Command::new("openssl")
        .args([
            "req",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
        ])
        .args(["-nodes", "-subj", "/CN=127.0.0.1"])
        .arg("-keyout")
        .arg(p("server.key"))
        .arg("-out")
        .arg(p("server.csr")));
    std::fs::write(
        p("ext.cnf"),
        "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n",
    )
    .unwrap();
    run(Command::new("openssl")
        .args(["x509", "-req", "-days", "2", "-CAcreateserial"])
        .arg("-in")
        .arg(p("server.csr"))
        .arg("-CA")
        .arg(p("ca.crt"))
        .arg("-CAkey")
        .arg(p("ca.key"))
        .arg("-extfile")
        .arg(p("ext.cnf"))
        .arg("-out")
        .arg(p("server.crt")));
    Pki {
        ca: p("ca.crt"),
        cert: p("server.crt"),
        key: p("server.key"),
    }
}

#[derive(Default)]
pub(crate) struct RegistryConfig<'a> {
    tls: Option<&'a Pki>,
    /// Blob GETs answered with a redirect to this base URL (the `redirect` storage middleware).
    redirect: Option<String>,
    htpasswd: Option<(&'a str, &'a str)>,
    /// `(realm, service, issuer, root cert bundle)` for the token flow.
    token: Option<(String, String, String, PathBuf)>,
}

/// A running `docker-registry`; killed when dropped. Its access log is kept in a file.
pub(crate) struct Registry {
    child: Child,
    port: u16,
    storage: PathBuf,
    log: PathBuf,
}

impl Registry {
    pub(crate) fn start(dir: &Path, storage: &Path, config: RegistryConfig<'_>) -> Registry {
        let port = free_port();
        let mut yaml = format!(
            "version: 0.1\nlog:\n  level: info\nstorage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:{port}\n  secret: bulwark-test\n",
            storage.display()
        );
        if let Some(pki) = config.tls {
            yaml += &format!(
                "  tls:\n    certificate: {}\n    key: {}\n",
                pki.cert.display(),
                pki.key.display()
            );
        }
        if let Some((user, pass)) = config.htpasswd {
            let out = run(Command::new("htpasswd").args(["-Bbn", user, pass]));
            let file = dir.join(format!("htpasswd-{port}"));
            std::fs::write(&file, out.stdout).unwrap();
            yaml += &format!(
                "auth:\n  htpasswd:\n    realm: bulwark-test\n    path: {}\n",
                file.display()
            );
        }
        if let Some((realm, service, issuer, bundle)) = &config.token {
            yaml += &format!(
                "auth:\n  token:\n    realm: {realm}\n    service: {service}\n    issuer: {issuer}\n    rootcertbundle: {}\n",
                bundle.display()
            );
        }
        if let Some(base) = &config.redirect {
            yaml += &format!(
                "middleware:\n  storage:\n    - name: redirect\n      options:\n        baseurl: {base}\n"
            );
        }
        let config_path = dir.join(format!("registry-{port}.yml"));
        std::fs::write(&config_path, yaml).unwrap();
        let log = dir.join(format!("registry-{port}.log"));
        let child = Command::new("docker-registry")
            .arg("serve")
            .arg(&config_path)
            .stdout(std::fs::File::create(&log).unwrap())
            .stderr(std::fs::File::options().append(true).open(&log).unwrap())
            .spawn()
            .expect("docker-registry starts");
        let registry = Registry {
            child,
            port,
            storage: storage.to_path_buf(),
            log,
        };
        let deadline = Instant::now() + Duration::from_secs(15);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "docker-registry did not listen on {port}: {}",
                std::fs::read_to_string(&registry.log).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        registry
    }

    pub(crate) fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// `skopeo copy` from an OCI layout into this registry.
    pub(crate) fn push(&self, layout: &str, repo: &str, tls: Option<&Pki>, creds: Option<&str>) {
        let mut cmd = Command::new("skopeo");
        cmd.args(["--insecure-policy", "copy", "--quiet"]);
        match tls {
            Some(pki) => {
                let certs = pki.ca.parent().unwrap().join("skopeo-certs");
                std::fs::create_dir_all(&certs).unwrap();
                std::fs::copy(&pki.ca, certs.join("ca.crt")).unwrap();
                cmd.arg("--dest-cert-dir").arg(certs);
            }
            None => {
                cmd.arg("--dest-tls-verify=false");
            }
        }
        if let Some(c) = creds {
            cmd.args(["--dest-creds", c]);
        }
        cmd.arg(layout)
            .arg(format!("docker://{}/{repo}", self.host()));
        run(&mut cmd);
    }

    /// Lines of the access log (`"GET /v2/… HTTP/1.1" 200 …`) so far.
    fn requests(&self) -> Vec<String> {
        std::fs::read_to_string(&self.log)
            .unwrap_or_default()
            .lines()
            .filter(|l| l.contains("\"GET /v2/") || l.contains("\"HEAD /v2/"))
            .map(str::to_string)
            .collect()
    }

    /// The file holding a blob in the filesystem storage driver.
    fn blob_file(&self, digest_hex: &str) -> PathBuf {
        self.storage
            .join("docker/registry/v2/blobs/sha256")
            .join(&digest_hex[..2])
            .join(digest_hex)
            .join("data")
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs bulwark with extra environment and optional stdin; DOCKER_CONFIG points at an empty
/// directory unless the test gives one, so the developer's own logins never leak in.
pub(crate) fn bulwark_env(args: &[&str], env: &[(&str, &str)], stdin: Option<&str>) -> Output {
    let empty = std::env::temp_dir().join("bulwark-tests-empty-docker-config");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_bulwark"));
    cmd.args(args)
        .env_remove("BULWARK_CACHE_DIR")
        .env_remove("BULWARK_REGISTRY_USERNAME")
        .env_remove("BULWARK_REGISTRY_PASSWORD")
        .env_remove("BULWARK_CA_CERT")
        .env_remove("BULWARK_INSECURE")
        .env(
            "BULWARK_DB_DIR",
            std::env::temp_dir().join("bulwark-tests-no-db"),
        )
        .env("DOCKER_CONFIG", &empty)
        .env("SOURCE_DATE_EPOCH", "1700000000")
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("bulwark runs");
    if let Some(text) = stdin {
        child
            .stdin
            .take()
            .unwrap()
            .write_all(text.as_bytes())
            .unwrap();
    }
    child.wait_with_output().unwrap()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn report(out: &Output) -> Value {
    assert_eq!(
        out.status.code(),
        Some(0),
        "bulwark failed: {}",
        stderr(out)
    );
    serde_json::from_slice(&out.stdout).expect("a JSON report")
}

/// The parts of a report that describe the image's content (not how it was named, nor
/// whether a layer came from the cache).
fn content(report: &Value) -> Value {
    let mut layers = report["layers"].clone();
    for l in layers.as_array_mut().into_iter().flatten() {
        l.as_object_mut().unwrap().remove("from_cache");
    }
    serde_json::json!({
        "packages": report["packages"],
        "os": report["os"],
        "layers": layers,
        "secrets": report["secrets"],
        "manifest_digest": report["image"]["manifest_digest"],
        "config_digest": report["image"]["config_digest"],
    })
}

fn scan_args<'a>(reference: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec![
        "image",
        reference,
        "--format",
        "json",
        "--no-cache",
        "--quiet",
    ];
    args.extend_from_slice(extra);
    args
}

/// A small image with one Debian package, as an OCI layout for skopeo.
pub(crate) fn small_image(dir: &Path) -> WrittenOci {
    let status = dpkg_stanza("tiny", "1.0", None);
    let layer = LayerBuilder::new()
        .file("etc/os-release", os_release_debian())
        .file("var/lib/dpkg/status", status.as_bytes())
        .finish();
    ImageBuilder::new()
        .layer(layer, Compression::Gzip, "ADD rootfs")
        .write_oci(dir)
}

#[test]
fn tls_registry_with_docker_config_credentials_yields_the_layout_sbom() {
    if !tools_present() {
        return;
    }
    let minbase = test_image("minbase", &[]).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let pki = make_pki(tmp.path());
    let registry = Registry::start(
        tmp.path(),
        &tmp.path().join("storage"),
        RegistryConfig {
            tls: Some(&pki),
            htpasswd: Some(("alice", "wonder-land-7")),
            ..Default::default()
        },
    );
    let layout = format!("oci:{}:latest", minbase.join("oci").display());
    registry.push(
        &layout,
        "base/minbase:1.0",
        Some(&pki),
        Some("alice:wonder-land-7"),
    );

    // Credentials from a Docker config file, as `docker login` writes it.
    let docker_config = tmp.path().join("docker-config");
    std::fs::create_dir_all(&docker_config).unwrap();
    let auth = base64_std("alice:wonder-land-7");
    std::fs::write(
        docker_config.join("config.json"),
        format!(
            r#"{{"auths":{{"{}":{{"auth":"{auth}"}}}}}}"#,
            registry.host()
        ),
    )
    .unwrap();
    let docker_env = [("DOCKER_CONFIG", docker_config.to_str().unwrap())];
    let ca = pki.ca.to_str().unwrap();

    let reference = format!("{}/base/minbase:1.0", registry.host());
    let from_registry = report(&bulwark_env(
        &scan_args(&reference, &["--ca-cert", ca]),
        &docker_env,
        None,
    ));
    let layout_ref = format!("oci:{}", minbase.join("oci").display());
    let from_layout = report(&bulwark(&scan_args(&layout_ref, &[])));
    assert!(from_layout["packages"].as_array().unwrap().len() > 50);
    assert_eq!(content(&from_registry), content(&from_layout));
    assert_eq!(from_registry["image"]["reference"], reference.as_str());

    // The same by digest, through the explicit transport, with the CA from the environment.
    let digest = from_registry["image"]["manifest_digest"].as_str().unwrap();
    let by_digest = format!("docker://{}/base/minbase@{digest}", registry.host());
    let pinned = report(&bulwark_env(
        &scan_args(&by_digest, &[]),
        &[docker_env[0], ("BULWARK_CA_CERT", ca)],
        None,
    ));
    assert_eq!(content(&pinned), content(&from_layout));

    // The same credentials on the command line; the password never shows.
    let out = bulwark_env(
        &scan_args(
            &reference,
            &["--ca-cert", ca, "--username", "alice", "--password-stdin"],
        ),
        &[],
        Some("wonder-land-7\n"),
    );
    assert_eq!(content(&report(&out)), content(&from_layout));

    // Wrong password: a clear refusal, the password not echoed.
    let out = bulwark_env(
        &scan_args(
            &reference,
            &["--ca-cert", ca, "--username", "alice", "--password-stdin"],
        ),
        &[],
        Some("not-the-password"),
    );
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("rejected the credentials"), "{err}");
    assert!(!err.contains("not-the-password"), "{err}");

    // No credentials at all.
    let out = bulwark_env(&scan_args(&reference, &["--ca-cert", ca]), &[], None);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("requires authentication") && err.contains("--password-stdin"),
        "{err}"
    );

    // A CA the client does not know: refused, with what to do.
    let out = bulwark_env(&scan_args(&reference, &[]), &docker_env, None);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("TLS") && err.contains("--ca-cert"), "{err}");

    // --insecure skips verification (and still authenticates).
    let out = bulwark_env(&scan_args(&reference, &["--insecure"]), &docker_env, None);
    assert_eq!(content(&report(&out)), content(&from_layout));

    // A tag that is not there.
    let missing = format!("{}/base/minbase:nope", registry.host());
    let out = bulwark_env(&scan_args(&missing, &["--ca-cert", ca]), &docker_env, None);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("base/minbase:nope not found"), "{err}");
}

fn base64_std(s: &str) -> String {
    base64_std_bytes(s.as_bytes())
}

fn base64_std_bytes(b: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(b)
}

#[test]
fn plain_http_needs_insecure_and_a_warm_rescan_fetches_no_layer() {
    if !tools_present() {
        return;
    }
    let minbase = test_image("minbase", &[]).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let registry = Registry::start(
        tmp.path(),
        &tmp.path().join("storage"),
        RegistryConfig::default(),
    );
    let layout = format!("oci:{}:latest", minbase.join("oci").display());
    registry.push(&layout, "minbase:latest", None, None);
    let reference = format!("{}/minbase", registry.host());

    let out = bulwark_env(&scan_args(&reference, &[]), &[], None);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("plain HTTP") && err.contains("--insecure"),
        "{err}"
    );

    let cache = tmp.path().join("cache");
    let cached = |extra: &[&str]| {
        let mut args = vec![
            "image",
            reference.as_str(),
            "--format",
            "json",
            "--quiet",
            "--insecure",
            "--cache-dir",
            cache.to_str().unwrap(),
        ];
        args.extend_from_slice(extra);
        bulwark_env(&args, &[], None)
    };
    let blob_gets = |lines: &[String]| {
        lines
            .iter()
            .filter(|l| l.contains("\"GET /v2/minbase/blobs/"))
            .count()
    };
    let manifest_gets = |lines: &[String]| {
        lines
            .iter()
            .filter(|l| l.contains("\"GET /v2/minbase/manifests/"))
            .count()
    };
    let before = registry.requests().len();
    let cold = report(&cached(&[]));
    let cold_lines = registry.requests()[before..].to_vec();
    let layers = cold["layers"].as_array().unwrap().len();
    assert!(layers >= 2);
    // Config plus every layer, each once.
    assert_eq!(blob_gets(&cold_lines), 1 + layers, "{cold_lines:#?}");

    let before = registry.requests().len();
    let warm = report(&cached(&[]));
    let warm_lines = registry.requests()[before..].to_vec();
    assert_eq!(manifest_gets(&warm_lines), 1, "{warm_lines:#?}");
    assert_eq!(
        blob_gets(&warm_lines),
        1,
        "only the config: {warm_lines:#?}"
    );
    assert_eq!(content(&warm), content(&cold));
    // The registry and the layout share one layer cache.
    let layout_ref = format!("oci:{}", minbase.join("oci").display());
    let mut args = vec!["image", layout_ref.as_str(), "--format", "json", "--quiet"];
    args.extend(["--cache-dir", cache.to_str().unwrap()]);
    assert_eq!(
        content(&report(&bulwark_env(&args, &[], None))),
        content(&cold)
    );
}

#[test]
fn tampered_longer_and_missing_blobs_are_caught() {
    if !tools_present() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let layout_dir = tmp.path().join("layout");
    let written = small_image(&layout_dir);
    let registry = Registry::start(
        tmp.path(),
        &tmp.path().join("storage"),
        RegistryConfig::default(),
    );
    let layout = format!("oci:{}", layout_dir.display());
    for repo in ["tamper:1", "longer:1", "missing:1"] {
        registry.push(&layout, repo, None, None);
    }
    let ok = bulwark_env(
        &scan_args(&format!("{}/tamper:1", registry.host()), &["--insecure"]),
        &[],
        None,
    );
    assert!(report(&ok)["packages"].to_string().contains("tiny"));

    // Every repository shares the blob file; tamper in place (same length), then scan.
    // First the gzip header's mtime: the layer still decompresses to the same tar, so only
    // the blob digest can tell.
    let layer_hex = blob_hex(&written.layers[0]);
    let data = registry.blob_file(&layer_hex);
    let original = std::fs::read(&data).unwrap();
    assert_eq!(&original[..2], &[0x1f, 0x8b]);
    let mut bytes = original.clone();
    bytes[4] ^= 0x5a;
    std::fs::write(&data, &bytes).unwrap();
    let out = bulwark_env(
        &scan_args(&format!("{}/tamper:1", registry.host()), &["--insecure"]),
        &[],
        None,
    );
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("digest mismatch") && err.contains(&layer_hex) && err.contains("tampered"),
        "{err}"
    );
    // A flipped byte inside the compressed stream: caught too (the decoder trips first).
    let mut bytes = original.clone();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0xff;
    std::fs::write(&data, &bytes).unwrap();
    let out = bulwark_env(
        &scan_args(&format!("{}/tamper:1", registry.host()), &["--insecure"]),
        &[],
        None,
    );
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("layer 0"), "{}", stderr(&out));

    // A blob longer than its manifest says.
    let mut longer = original.clone();
    longer.extend_from_slice(b"trailing bytes the manifest does not declare");
    std::fs::write(&data, &longer).unwrap();
    let out = bulwark_env(
        &scan_args(&format!("{}/longer:1", registry.host()), &["--insecure"]),
        &[],
        None,
    );
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("but the manifest declares"), "{err}");

    // The blob gone from storage: the manifest points at nothing.
    std::fs::remove_dir_all(data.parent().unwrap()).unwrap();
    let out = bulwark_env(
        &scan_args(&format!("{}/missing:1", registry.host()), &["--insecure"]),
        &[],
        None,
    );
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("missing") && err.contains(&layer_hex), "{err}");
}

/// The hex digest of a blob written by `ImageBuilder` (its file name).
fn blob_hex(blob: &Path) -> String {
    blob.file_name().unwrap().to_str().unwrap().to_string()
}

#[test]
fn a_stalled_registry_times_out() {
    // A listener that accepts and never answers: no registry binary needed.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let held = Arc::new(std::sync::Mutex::new(Vec::new()));
    let keep = held.clone();
    std::thread::spawn(move || {
        for s in listener.incoming().flatten() {
            keep.lock().unwrap().push(s);
        }
    });
    let reference = format!("127.0.0.1:{port}/stalled/app:1");
    let start = Instant::now();
    let out = bulwark_env(
        &scan_args(
            &reference,
            &["--registry-timeout", "1", "--registry-retries", "1"],
        ),
        &[],
        None,
    );
    let took = start.elapsed();
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("timed out") && err.contains("--registry-timeout"),
        "{err}"
    );
    assert!(took < Duration::from_secs(15), "took {took:?}");
    assert!(!held.lock().unwrap().is_empty());
}

#[test]
fn a_schema1_manifest_is_refused_with_a_clear_message() {
    // A registry that still serves a Docker schema 1 manifest (signed JWS form): current
    // registries no longer accept schema 1 pushes, so a minimal server plays the old one.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for mut s in listener.incoming().flatten() {
            let mut request = Vec::new();
            let mut buf = [0u8; 1024];
            while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                match s.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => request.extend_from_slice(&buf[..n]),
                }
            }
            let line = String::from_utf8_lossy(&request);
            let (kind, body) = if line.starts_with("GET /v2/old/app/manifests/") {
                (
                    "application/vnd.docker.distribution.manifest.v1+prettyjws",
                    r#"{"schemaVersion":1,"name":"old/app","tag":"1","architecture":"amd64","fsLayers":[{"blobSum":"sha256:a3ed95caeb02ffe68cdd9fd84406680ae93d633cb16422d00e8a7c22955b46d4"}],"history":[{"v1Compatibility":"{}"}],"signatures":[]}"#,
                )
            } else {
                ("application/json", "{}")
            };
            let _ = write!(
                s,
                "HTTP/1.1 200 OK\r\nContent-Type: {kind}\r\nDocker-Distribution-API-Version: registry/2.0\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    let reference = format!("127.0.0.1:{port}/old/app:1");
    let out = bulwark_env(&scan_args(&reference, &["--insecure"]), &[], None);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("Docker schema 1 manifest") && err.contains("push the image again"),
        "{err}"
    );
}

// The Bearer token flow ───────────────────────────────────────────────────────────────────

/// A token server over TLS: checks Basic credentials and hands out a JWT, signed with a key
/// whose certificate the registry trusts (`rootcertbundle`), granting pull on `repository`.
struct TokenServer {
    port: u16,
    hits: Arc<AtomicUsize>,
}

fn b64url(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// Mints an RS256 JWT the distribution registry accepts (x5c header, access claims).
fn mint_token(
    dir: &Path,
    signer_key: &Path,
    signer_der: &[u8],
    service: &str,
    issuer: &str,
    repo: &str,
) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let header =
        serde_json::json!({"typ": "JWT", "alg": "RS256", "x5c": [base64_std_bytes(signer_der)]});
    let claims = serde_json::json!({
        "iss": issuer, "sub": "alice", "aud": service,
        "exp": now + 3600, "nbf": now - 60, "iat": now - 60, "jti": format!("bulwark-{now}"),
        "access": [{"type": "repository", "name": repo, "actions": ["pull"]}],
    });
    let signing_input = format!(
        "{}.{}",
        b64url(header.to_string().as_bytes()),
        b64url(claims.to_string().as_bytes())
    );
    let input = dir.join("jwt-input");
    std::fs::write(&input, &signing_input).unwrap();
    let sig = run(Command::new("openssl")
        .args(["dgst", "-sha256", "-sign"])
        .arg(signer_key)
        .arg(&input))
    .stdout;
    format!("{signing_input}.{}", b64url(&sig))
}

impl TokenServer {
    fn start(pki: &Pki, user: &'static str, pass: &'static str, token: String) -> TokenServer {
        use rustls_pki_types::pem::PemObject;
        let certs: Vec<_> = rustls_pki_types::CertificateDer::pem_file_iter(&pki.cert)
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        let key = rustls_pki_types::PrivateKeyDer::from_pem_file(&pki.key).unwrap();
        let config = Arc::new(
            rustls::ServerConfig::builder_with_provider(Arc::new(
                rustls::crypto::ring::default_provider(),
            ))
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(certs, key)
            .unwrap(),
        );
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let hits = Arc::new(AtomicUsize::new(0));
        let counter = hits.clone();
        let expected = format!("Basic {}", base64_std(&format!("{user}:{pass}")));
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let config = config.clone();
                let expected = expected.clone();
                let token = token.clone();
                let counter = counter.clone();
                std::thread::spawn(move || {
                    let conn = rustls::ServerConnection::new(config).unwrap();
                    let mut tls = rustls::StreamOwned::new(conn, stream);
                    let mut reader = BufReader::new(&mut tls);
                    let mut authorized = false;
                    let mut line = String::new();
                    loop {
                        line.clear();
                        if reader.read_line(&mut line).unwrap_or(0) == 0 {
                            return;
                        }
                        let l = line.trim_end();
                        if l.is_empty() {
                            break;
                        }
                        if let Some((k, v)) = l.split_once(':') {
                            if k.eq_ignore_ascii_case("authorization") && v.trim() == expected {
                                authorized = true;
                            }
                        }
                    }
                    counter.fetch_add(1, Ordering::SeqCst);
                    let (status, body) = if authorized {
                        (
                            "200 OK",
                            format!(r#"{{"token":"{token}","expires_in":3600}}"#),
                        )
                    } else {
                        (
                            "401 Unauthorized",
                            r#"{"details":"bad credentials"}"#.to_string(),
                        )
                    };
                    let response = format!(
                        "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                        body.len()
                    );
                    let _ = tls.write_all(response.as_bytes());
                    let _ = tls.flush();
                    tls.conn.send_close_notify();
                    let _ = tls.flush();
                    let mut rest = Vec::new();
                    let _ = tls.sock.set_read_timeout(Some(Duration::from_millis(200)));
                    let _ = tls.sock.read_to_end(&mut rest);
                });
            }
        });
        TokenServer { port, hits }
    }
}

#[test]
fn bearer_token_flow_with_a_real_token_service() {
    if !tools_present() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let pki = make_pki(tmp.path());
    let storage = tmp.path().join("storage");
    let layout_dir = tmp.path().join("layout");
    small_image(&layout_dir);
    {
        // Seed the storage through an open registry, then serve it behind the token flow.
        let open = Registry::start(tmp.path(), &storage, RegistryConfig::default());
        open.push(
            &format!("oci:{}", layout_dir.display()),
            "team/app:1",
            None,
            None,
        );
    }
    // The token signer: an RSA key and a self-signed certificate the registry trusts.
    let signer_key = tmp.path().join("signer.key");
    let signer_crt = tmp.path().join("signer.crt");
    run(Command::new("openssl")
        .args([
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
        ])
        .args(["-subj", "/CN=bulwark test token signer"])
        .arg("-keyout")
        .arg(&signer_key)
        .arg("-out")
        .arg(&signer_crt));
    let der = run(Command::new("openssl")
        .args(["x509", "-outform", "DER", "-in"])
        .arg(&signer_crt))
    .stdout;
    let (service, issuer) = ("bulwark-test-registry", "bulwark-test-issuer");
    let token = mint_token(tmp.path(), &signer_key, &der, service, issuer, "team/app");
    let server = TokenServer::start(&pki, "bob", "token-pass-9", token);
    let realm = format!("https://127.0.0.1:{}/token", server.port);
    let registry = Registry::start(
        tmp.path(),
        &storage,
        RegistryConfig {
            tls: Some(&pki),
            token: Some((realm, service.into(), issuer.into(), signer_crt.clone())),
            ..Default::default()
        },
    );
    let reference = format!("{}/team/app:1", registry.host());
    let ca = pki.ca.to_str().unwrap();
    let out = bulwark_env(
        &scan_args(&reference, &["--ca-cert", ca]),
        &[
            ("BULWARK_REGISTRY_USERNAME", "bob"),
            ("BULWARK_REGISTRY_PASSWORD", "token-pass-9"),
        ],
        None,
    );
    let r = report(&out);
    assert!(r["packages"].to_string().contains("tiny"));
    // One token for the repository's pull scope, reused for the manifest and every blob.
    assert_eq!(server.hits.load(Ordering::SeqCst), 1);

    // The token service refuses a wrong password: said clearly.
    let out = bulwark_env(
        &scan_args(&reference, &["--ca-cert", ca]),
        &[
            ("BULWARK_REGISTRY_USERNAME", "bob"),
            ("BULWARK_REGISTRY_PASSWORD", "wrong"),
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("token service") && err.contains("refused"),
        "{err}"
    );
}

/// `(check id, severity)` of every finding in an audit report.
fn audit_ids(out: &Output) -> Vec<String> {
    let r = report(out);
    // An empty list is left out of the JSON report.
    let mut ids: Vec<String> = r["misconfigurations"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|m| {
            assert!(!m["compliance"].as_array().unwrap().is_empty(), "{m}");
            m["check_id"].as_str().unwrap().to_string()
        })
        .collect();
    ids.sort();
    ids
}

#[test]
fn registry_audit_finds_weak_registries_and_passes_a_hardened_one() {
    if !tools_present() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let layout_dir = tmp.path().join("layout");
    small_image(&layout_dir);

    // Weak: plain HTTP, no authentication, one image.
    let weak = Registry::start(
        tmp.path(),
        &tmp.path().join("weak"),
        RegistryConfig::default(),
    );
    weak.push(
        &format!("oci:{}", layout_dir.display()),
        "open/app:1",
        None,
        None,
    );
    let out = bulwark_env(
        &["registry", "audit", &weak.host(), "-f", "json"],
        &[],
        None,
    );
    assert_eq!(
        audit_ids(&out),
        ["BW-REG-001", "BW-REG-004", "BW-REG-005", "BW-REG-006"]
    );
    let r = report(&out);
    let text = r["misconfigurations"].to_string();
    assert!(
        text.contains("open/app:1 can be pulled without credentials"),
        "{text}"
    );
    assert!(text.contains("nist"), "{text}");
    // --exit-code turns findings into a failing pipeline.
    let out = bulwark_env(
        &[
            "registry",
            "audit",
            &weak.host(),
            "-f",
            "json",
            "--exit-code",
            "4",
        ],
        &[],
        None,
    );
    assert_eq!(out.status.code(), Some(4));

    // Basic auth without TLS.
    let basic = Registry::start(
        tmp.path(),
        &tmp.path().join("basic"),
        RegistryConfig {
            htpasswd: Some(("u", "p")),
            ..Default::default()
        },
    );
    let url = format!("http://{}", basic.host());
    let out = bulwark_env(&["registry", "audit", &url, "-f", "json"], &[], None);
    assert_eq!(audit_ids(&out), ["BW-REG-001", "BW-REG-007"]);

    // Hardened: TLS from a trusted CA and htpasswd: nothing to report.
    let pki = make_pki(tmp.path());
    let strong = Registry::start(
        tmp.path(),
        &tmp.path().join("strong"),
        RegistryConfig {
            tls: Some(&pki),
            htpasswd: Some(("u", "p")),
            ..Default::default()
        },
    );
    let url = format!("https://{}", strong.host());
    let ca = pki.ca.to_str().unwrap();
    let out = bulwark_env(
        &["registry", "audit", &url, "-f", "json", "--ca-cert", ca],
        &[],
        None,
    );
    assert_eq!(audit_ids(&out), Vec::<String>::new());
    // The same registry seen by a client without the CA: the certificate does not verify.
    let out = bulwark_env(&["registry", "audit", &url, "-f", "json"], &[], None);
    assert_eq!(audit_ids(&out), ["BW-REG-002"]);

    // Nothing listening: an error, not an empty report.
    let port = free_port();
    let out = bulwark_env(
        &[
            "registry",
            "audit",
            &format!("127.0.0.1:{port}"),
            "-f",
            "json",
        ],
        &[],
        None,
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("cannot audit"), "{}", stderr(&out));
}

// Signatures ──────────────────────────────────────────────────────────────────────────────

fn curl(args: &[&str]) -> Vec<u8> {
    run(Command::new("curl").args(["-sSf"]).args(args)).stdout
}

#[test]
fn cosign_format_signatures_verify_and_a_changed_image_fails() {
    if !tools_present() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let layout_dir = dir.join("layout");
    small_image(&layout_dir);
    let registry = Registry::start(dir, &dir.join("storage"), RegistryConfig::default());
    registry.push(
        &format!("oci:{}", layout_dir.display()),
        "app:1",
        None,
        None,
    );
    let reference = format!("{}/app:1", registry.host());
    let key = |name: &str| dir.join(name).to_str().unwrap().to_string();
    for (name, args) in [
        (
            "ec",
            vec!["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"],
        ),
        ("ed", vec!["-algorithm", "ed25519"]),
        (
            "rsa",
            vec!["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"],
        ),
        (
            "other",
            vec!["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"],
        ),
    ] {
        run(Command::new("openssl")
            .arg("genpkey")
            .args(&args)
            .args(["-out", &key(&format!("{name}.pem"))]));
        run(Command::new("openssl").args([
            "pkey",
            "-in",
            &key(&format!("{name}.pem")),
            "-pubout",
            "-out",
            &key(&format!("{name}.pub")),
        ]));
    }

    // Unsigned: verification fails (exit 1), saying why.
    let out = bulwark_env(
        &["verify", &reference, "--key", &key("ec.pub"), "--insecure"],
        &[],
        None,
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("has no signature"),
        "{}",
        stderr(&out)
    );

    for k in ["ec", "ed", "rsa"] {
        let out = bulwark_env(
            &[
                "sign",
                &reference,
                "--key",
                &key(&format!("{k}.pem")),
                "--insecure",
            ],
            &[],
            None,
        );
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    }
    let mut digest = String::new();
    for k in ["ec", "ed", "rsa"] {
        let out = bulwark_env(
            &[
                "verify",
                &reference,
                "--key",
                &key(&format!("{k}.pub")),
                "--insecure",
            ],
            &[],
            None,
        );
        assert_eq!(out.status.code(), Some(0), "{k}: {}", stderr(&out));
        digest = String::from_utf8_lossy(&out.stdout).trim().to_string();
        assert!(digest.starts_with("sha256:"), "{digest}");
    }
    let out = bulwark_env(
        &[
            "verify",
            &reference,
            "--key",
            &key("other.pub"),
            "--insecure",
        ],
        &[],
        None,
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("does not verify"), "{}", stderr(&out));

    // The format, checked by other tools: the tag, the simple-signing payload, and an ECDSA
    // signature that openssl itself verifies.
    let base = format!("http://{}/v2/app", registry.host());
    let sig_tag = digest.replace(':', "-") + ".sig";
    let manifest: Value = serde_json::from_slice(&curl(&[
        "-H",
        "Accept: application/vnd.oci.image.manifest.v1+json",
        &format!("{base}/manifests/{sig_tag}"),
    ]))
    .unwrap();
    let layers = manifest["layers"].as_array().unwrap();
    assert_eq!(layers.len(), 3);
    let first = &layers[0];
    assert_eq!(
        first["mediaType"],
        "application/vnd.dev.cosign.simplesigning.v1+json"
    );
    let payload = curl(&[&format!(
        "{base}/blobs/{}",
        first["digest"].as_str().unwrap()
    )]);
    let claims: Value = serde_json::from_slice(&payload).unwrap();
    assert_eq!(
        claims["critical"]["image"]["docker-manifest-digest"],
        digest.as_str()
    );
    assert_eq!(
        claims["critical"]["type"],
        "cosign container image signature"
    );
    assert_eq!(
        claims["critical"]["identity"]["docker-reference"],
        format!("{}/app", registry.host())
    );
    use base64::Engine as _;
    let sig = base64::engine::general_purpose::STANDARD
        .decode(
            first["annotations"]["dev.cosignproject.cosign/signature"]
                .as_str()
                .unwrap(),
        )
        .unwrap();
    std::fs::write(dir.join("payload"), &payload).unwrap();
    std::fs::write(dir.join("sig.der"), &sig).unwrap();
    let ok = run(Command::new("openssl").args([
        "dgst",
        "-sha256",
        "-verify",
        &key("ec.pub"),
        "-signature",
        &key("sig.der"),
        &key("payload"),
    ]));
    assert!(String::from_utf8_lossy(&ok.stdout).contains("Verified OK"));

    // The --require-signature gate: scans the verified digest, refuses a wrong key.
    let out = bulwark_env(
        &scan_args(
            &reference,
            &["--insecure", "--require-signature", &key("ed.pub")],
        ),
        &[],
        None,
    );
    let r = report(&out);
    assert_eq!(r["image"]["manifest_digest"], digest.as_str());
    assert!(r["image"]["reference"].as_str().unwrap().ends_with(&digest));
    let out = bulwark_env(
        &scan_args(
            &reference,
            &["--insecure", "--require-signature", &key("other.pub")],
        ),
        &[],
        None,
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("signature required"),
        "{}",
        stderr(&out)
    );

    // The image changes under the same tag: its new digest has no signature...
    let changed = dir.join("changed");
    let layer = LayerBuilder::new()
        .file("etc/os-release", os_release_debian())
        .file(
            "var/lib/dpkg/status",
            dpkg_stanza("evil", "6.6", None).as_bytes(),
        )
        .finish();
    ImageBuilder::new()
        .layer(layer, Compression::Gzip, "ADD rootfs")
        .write_oci(&changed);
    registry.push(&format!("oci:{}", changed.display()), "app:1", None, None);
    let out = bulwark_env(
        &["verify", &reference, "--key", &key("ec.pub"), "--insecure"],
        &[],
        None,
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("has no signature"),
        "{}",
        stderr(&out)
    );

    // ...and the old signature copied onto it does not verify either.
    let new_digest = {
        let head = run(Command::new("curl").args([
            "-sSfI",
            "-H",
            "Accept: application/vnd.oci.image.manifest.v1+json",
            &format!("{base}/manifests/1"),
        ]))
        .stdout;
        String::from_utf8_lossy(&head)
            .lines()
            .find_map(|l| {
                l.to_ascii_lowercase()
                    .strip_prefix("docker-content-digest:")
                    .map(|d| d.trim().to_string())
            })
            .unwrap()
    };
    assert_ne!(new_digest, digest);
    std::fs::write(dir.join("sig-manifest.json"), manifest.to_string()).unwrap();
    curl(&[
        "-X",
        "PUT",
        "-H",
        "Content-Type: application/vnd.oci.image.manifest.v1+json",
        "--data-binary",
        &format!("@{}", key("sig-manifest.json")),
        &format!("{base}/manifests/{}.sig", new_digest.replace(':', "-")),
    ]);
    let out = bulwark_env(
        &["verify", &reference, "--key", &key("ec.pub"), "--insecure"],
        &[],
        None,
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("another image"), "{}", stderr(&out));
    let out = bulwark_env(
        &scan_args(
            &reference,
            &["--insecure", "--require-signature", &key("ec.pub")],
        ),
        &[],
        None,
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("another image"), "{}", stderr(&out));

    // A local image cannot be signed.
    let out = bulwark_env(
        &[
            "sign",
            &format!("oci:{}", layout_dir.display()),
            "--key",
            &key("ec.pem"),
        ],
        &[],
        None,
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("not a registry image"),
        "{}",
        stderr(&out)
    );
}

// Redirects and credential helpers ─────────────────────────────────────────────────────────

#[test]
fn credentials_never_follow_a_redirect_to_another_host() {
    if !tools_present() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let storage = tmp.path().join("storage");
    // The blob host: serves the registry's storage files and records what it was sent.
    let server = tiny_http::Server::http("127.0.0.1:0").unwrap();
    let blob_port = server.server_addr().to_ip().unwrap().port();
    let seen = Arc::new(std::sync::Mutex::new(Vec::<(String, bool)>::new()));
    let log = seen.clone();
    let root = storage.clone();
    std::thread::spawn(move || {
        for req in server.incoming_requests() {
            let auth = req.headers().iter().any(|h| h.field.equiv("Authorization"));
            let path = req.url().split('?').next().unwrap_or("").to_string();
            log.lock().unwrap().push((path.clone(), auth));
            let file = root.join(path.trim_start_matches('/'));
            let resp = match std::fs::read(&file) {
                Ok(bytes) => tiny_http::Response::from_data(bytes),
                Err(_) => tiny_http::Response::from_data(Vec::new()).with_status_code(404),
            };
            let _ = req.respond(resp);
        }
    });
    let layout_dir = tmp.path().join("layout");
    small_image(&layout_dir);
    {
        let open = Registry::start(tmp.path(), &storage, RegistryConfig::default());
        open.push(
            &format!("oci:{}", layout_dir.display()),
            "app:1",
            None,
            None,
        );
    }
    // "localhost" is another host than "127.0.0.1" for the client, as a CDN would be.
    let registry = Registry::start(
        tmp.path(),
        &storage,
        RegistryConfig {
            htpasswd: Some(("carol", "redirect-secret")),
            redirect: Some(format!("http://localhost:{blob_port}")),
            ..Default::default()
        },
    );
    let reference = format!("{}/app:1", registry.host());
    let out = bulwark_env(
        &scan_args(
            &reference,
            &["--insecure", "--username", "carol", "--password-stdin"],
        ),
        &[],
        Some("redirect-secret"),
    );
    let r = report(&out);
    assert!(r["packages"].to_string().contains("tiny"));
    let seen = seen.lock().unwrap().clone();
    // The config and the layer came from the blob host, without the registry's credentials.
    assert_eq!(seen.len(), 2, "{seen:?}");
    assert!(
        seen.iter().all(|(p, auth)| p.ends_with("/data") && !auth),
        "{seen:?}"
    );
}

#[test]
fn credentials_from_a_docker_credential_helper() {
    if !tools_present() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let layout_dir = tmp.path().join("layout");
    small_image(&layout_dir);
    let registry = Registry::start(
        tmp.path(),
        &tmp.path().join("storage"),
        RegistryConfig {
            htpasswd: Some(("dave", "helper-secret")),
            ..Default::default()
        },
    );
    registry.push(
        &format!("oci:{}", layout_dir.display()),
        "app:1",
        None,
        Some("dave:helper-secret"),
    );
    // A credential helper speaking Docker's protocol: server URL on stdin, JSON on stdout.
    let bin = tmp.path().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let helper = bin.join("docker-credential-bulwarktest");
    std::fs::write(
        &helper,
        format!(
            "#!/bin/sh\n[ \"$1\" = get ] || exit 1\nread server\necho \"$server\" >> {}\nif [ \"$server\" = \"{}\" ]; then echo '{{\"ServerURL\":\"'$server'\",\"Username\":\"dave\",\"Secret\":\"helper-secret\"}}'; else echo 'credentials not found in native keychain'; exit 1; fi\n",
            tmp.path().join("asked").display(),
            registry.host()
        ),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&helper, std::fs::Permissions::from_mode(0o755)).unwrap();
    let config = tmp.path().join("docker");
    std::fs::create_dir_all(&config).unwrap();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let reference = format!("{}/app:1", registry.host());
    for json in [
        format!(
            r#"{{"credHelpers":{{"{}":"bulwarktest"}}}}"#,
            registry.host()
        ),
        r#"{"credsStore":"bulwarktest"}"#.to_string(),
    ] {
        std::fs::write(config.join("config.json"), json).unwrap();
        let out = bulwark_env(
            &scan_args(&reference, &["--insecure"]),
            &[("DOCKER_CONFIG", config.to_str().unwrap()), ("PATH", &path)],
            None,
        );
        assert!(report(&out)["packages"].to_string().contains("tiny"));
    }
    let asked = std::fs::read_to_string(tmp.path().join("asked")).unwrap();
    assert!(asked.lines().all(|l| l == registry.host()), "{asked}");
    // A helper that is not installed: said plainly.
    std::fs::write(
        config.join("config.json"),
        r#"{"credsStore":"bulwark-absent"}"#,
    )
    .unwrap();
    let out = bulwark_env(
        &scan_args(&reference, &["--insecure"]),
        &[("DOCKER_CONFIG", config.to_str().unwrap())],
        None,
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("docker-credential-bulwark-absent"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn registry_scan_walks_the_catalog_and_scans_each_image() {
    if !tools_present() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let layout_dir = tmp.path().join("layout");
    small_image(&layout_dir);
    let registry = Registry::start(
        tmp.path(),
        &tmp.path().join("storage"),
        RegistryConfig::default(),
    );
    for repo in ["a/one:1", "a/one:2", "b/two:latest"] {
        registry.push(&format!("oci:{}", layout_dir.display()), repo, None, None);
    }
    // A signature tag is not an image to scan.
    run(Command::new("openssl")
        .args(["genpkey", "-algorithm", "ed25519", "-out"])
        .arg(tmp.path().join("k.pem")));
    let out = bulwark_env(
        &[
            "sign",
            &format!("{}/a/one:1", registry.host()),
            "--key",
            tmp.path().join("k.pem").to_str().unwrap(),
            "--insecure",
        ],
        &[],
        None,
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let reports = tmp.path().join("reports");
    let out = bulwark_env(
        &[
            "registry",
            "scan",
            &registry.host(),
            "--insecure",
            "--format",
            "json",
            "--jobs",
            "2",
            "--output-dir",
            reports.to_str().unwrap(),
            "--cache-dir",
            tmp.path().join("cache").to_str().unwrap(),
        ],
        &[],
        None,
    );
    let summary = report(&out);
    let images = summary["images"].as_array().unwrap();
    let names: Vec<&str> = images
        .iter()
        .map(|i| i["reference"].as_str().unwrap())
        .collect();
    let host = registry.host();
    assert_eq!(
        names,
        [
            format!("{host}/a/one:1"),
            format!("{host}/a/one:2"),
            format!("{host}/b/two:latest")
        ]
    );
    assert!(
        images
            .iter()
            .all(|i| i["packages"] == 1 && i["exit_code"] == 0),
        "{summary}"
    );
    assert_eq!(std::fs::read_dir(&reports).unwrap().count(), 3);
}

#[test]
fn a_multi_platform_index_resolves_to_the_chosen_platform() {
    if !tools_present() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let layout = tmp.path().join("multi");
    std::fs::create_dir_all(&layout).unwrap();
    let mut manifests = Vec::new();
    for arch in ["amd64", "arm64"] {
        let status = dpkg_stanza(&format!("only-{arch}"), "1.0", None);
        let layer = LayerBuilder::new()
            .file("etc/os-release", os_release_debian())
            .file("var/lib/dpkg/status", status.as_bytes())
            .finish();
        let mut image = ImageBuilder::new().layer(layer, Compression::Gzip, "ADD");
        image.arch = arch.to_string();
        let (mut desc, _) = image.write_blobs(&layout);
        desc["platform"] = serde_json::json!({"os": "linux", "architecture": arch});
        manifests.push(desc);
    }
    // One named entry in index.json pointing at the multi-platform index, as skopeo wants.
    let inner = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": manifests,
    }))
    .unwrap();
    let inner_hex = sha256_hex(&inner);
    std::fs::write(layout.join("blobs/sha256").join(&inner_hex), &inner).unwrap();
    write_index(
        &layout,
        vec![serde_json::json!({
            "mediaType": "application/vnd.oci.image.index.v1+json",
            "digest": format!("sha256:{inner_hex}"),
            "size": inner.len(),
            "annotations": {"org.opencontainers.image.ref.name": "1"},
        })],
    );
    let registry = Registry::start(
        tmp.path(),
        &tmp.path().join("storage"),
        RegistryConfig::default(),
    );
    let mut cmd = Command::new("skopeo");
    cmd.args([
        "--insecure-policy",
        "copy",
        "--quiet",
        "--all",
        "--dest-tls-verify=false",
    ])
    .arg(format!("oci:{}:1", layout.display()))
    .arg(format!("docker://{}/multi:1", registry.host()));
    run(&mut cmd);
    let reference = format!("{}/multi:1", registry.host());
    for arch in ["amd64", "arm64"] {
        let platform = format!("linux/{arch}");
        let out = bulwark_env(
            &scan_args(&reference, &["--insecure", "--platform", &platform]),
            &[],
            None,
        );
        let r = report(&out);
        assert_eq!(r["image"]["platform"], platform.as_str());
        let names: Vec<&str> = r["packages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, [format!("only-{arch}")]);
    }
    let out = bulwark_env(
        &scan_args(&reference, &["--insecure", "--platform", "linux/s390x"]),
        &[],
        None,
    );
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("linux/amd64, linux/arm64") && err.contains("--platform"),
        "{err}"
    );
}

/// A front for a real registry that answers 429, then 503, to every third request before
/// forwarding it: the overloaded registry retries must ride out.
fn flaky_front(upstream: String) -> (u16, Arc<AtomicUsize>) {
    let server = tiny_http::Server::http("127.0.0.1:0").unwrap();
    let port = server.server_addr().to_ip().unwrap().port();
    let refused = Arc::new(AtomicUsize::new(0));
    let count = refused.clone();
    std::thread::spawn(move || {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .max_redirects(0)
            .max_redirects_will_error(false)
            .http_status_as_error(false)
            .build()
            .into();
        for (n, req) in server.incoming_requests().enumerate() {
            match n % 3 {
                0 => {
                    count.fetch_add(1, Ordering::SeqCst);
                    let r = tiny_http::Response::from_string("slow down")
                        .with_status_code(429)
                        .with_header(tiny_http::Header::from_bytes("Retry-After", "0").unwrap());
                    let _ = req.respond(r);
                    continue;
                }
                1 => {
                    count.fetch_add(1, Ordering::SeqCst);
                    let _ =
                        req.respond(tiny_http::Response::from_string("busy").with_status_code(503));
                    continue;
                }
                _ => {}
            }
            let mut fwd = ureq::http::Request::builder()
                .method(req.method().as_str())
                .uri(format!("{upstream}{}", req.url()));
            for h in req.headers() {
                let name = h.field.as_str().as_str();
                if ["accept", "authorization"].contains(&name.to_ascii_lowercase().as_str()) {
                    fwd = fwd.header(name, h.value.as_str());
                }
            }
            let mut resp = agent
                .run(fwd.body(()).unwrap())
                .unwrap_or_else(|e| panic!("forwarding failed: {e}"));
            let status = resp.status().as_u16();
            let mut headers = Vec::new();
            for name in [
                "Content-Type",
                "Docker-Content-Digest",
                "Www-Authenticate",
                "Docker-Distribution-Api-Version",
            ] {
                if let Some(v) = resp.headers().get(name) {
                    headers.push(tiny_http::Header::from_bytes(name, v.as_bytes()).unwrap());
                }
            }
            let mut body = Vec::new();
            resp.body_mut().as_reader().read_to_end(&mut body).unwrap();
            let mut r = tiny_http::Response::from_data(body).with_status_code(status);
            for h in headers {
                r = r.with_header(h);
            }
            let _ = req.respond(r);
        }
    });
    (port, refused)
}

#[test]
fn retries_ride_out_429_and_503() {
    if !tools_present() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let layout_dir = tmp.path().join("layout");
    small_image(&layout_dir);
    let registry = Registry::start(
        tmp.path(),
        &tmp.path().join("storage"),
        RegistryConfig::default(),
    );
    registry.push(
        &format!("oci:{}", layout_dir.display()),
        "app:1",
        None,
        None,
    );
    let (port, refused) = flaky_front(format!("http://{}", registry.host()));
    let reference = format!("127.0.0.1:{port}/app:1");
    // tiny_http never answers a TLS handshake: the short timeout ends the HTTPS probe.
    let out = bulwark_env(
        &scan_args(&reference, &["--insecure", "--registry-timeout", "2"]),
        &[],
        None,
    );
    assert!(report(&out)["packages"].to_string().contains("tiny"));
    // manifest, config and layer: each refused twice before it went through
    assert!(
        refused.load(Ordering::SeqCst) >= 6,
        "{}",
        refused.load(Ordering::SeqCst)
    );

    let out = bulwark_env(
        &scan_args(
            &reference,
            &[
                "--insecure",
                "--registry-timeout",
                "2",
                "--registry-retries",
                "0",
            ],
        ),
        &[],
        None,
    );
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("gave up after 1 attempts"), "{err}");
}

/// `bulwark k8s`: each running image digest is scanned once from a real registry (two
/// workloads run it), with credentials from the pods' imagePullSecret only under
/// `--use-pull-secrets`; without them the image cannot be read and the run says so.
#[test]
fn k8s_scans_each_running_digest_once_with_pull_secret_credentials() {
    if !tools_present() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let pki = make_pki(tmp.path());
    let registry = Registry::start(
        tmp.path(),
        &tmp.path().join("storage"),
        RegistryConfig {
            tls: Some(&pki),
            htpasswd: Some(("puller", "pull-pass-8")),
            ..Default::default()
        },
    );
    let layout_dir = tmp.path().join("layout");
    small_image(&layout_dir);
    let creds = "puller:pull-pass-8";
    registry.push(
        &format!("oci:{}", layout_dir.display()),
        "team/app:1",
        Some(&pki),
        Some(creds),
    );
    let ca = pki.ca.to_str().unwrap();
    let host = registry.host();
    let scanned = report(&bulwark_env(
        &scan_args(
            &format!("{host}/team/app:1"),
            &["--ca-cert", ca, "--username", "puller"],
        ),
        &[("BULWARK_REGISTRY_PASSWORD", "pull-pass-8")],
        None,
    ));
    let digest = scanned["image"]["manifest_digest"]
        .as_str()
        .unwrap()
        .to_string();
    let image_id = format!("{host}/team/app@{digest}");

    let dockerconfig = format!(
        r#"{{"auths":{{"{host}":{{"auth":"{}"}}}}}}"#,
        base64_std(creds)
    );
    let mut objects = vec![
        serde_json::json!({
            "apiVersion": "v1", "kind": "Namespace",
            "metadata": {"name": "shop", "uid": "n-1", "labels": {"owner": "team-shop"}}
        }),
        serde_json::json!({
            "apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/dockerconfigjson",
            "metadata": {"name": "regcred", "namespace": "shop", "uid": "s-1"},
            "data": {".dockerconfigjson": base64_std(&dockerconfig)}
        }),
    ];
    for (i, name) in ["web", "worker"].iter().enumerate() {
        let spec = serde_json::json!({"imagePullSecrets": [{"name": "regcred"}],
            "containers": [{"name": "app", "image": format!("{host}/team/app:1")}]});
        objects.push(
            serde_json::json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": name, "namespace": "shop", "uid": format!("d-{i}")},
            "spec": {"template": {"spec": spec.clone()}}}),
        );
        objects.push(serde_json::json!({"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": format!("{name}-1"), "namespace": "shop", "uid": format!("p-{i}"),
                "ownerReferences": [{"kind": "ReplicaSet", "name": format!("{name}-5d"), "uid": format!("r-{i}"), "controller": true}]},
            "spec": spec,
            "status": {"containerStatuses": [{"name": "app", "image": format!("{host}/team/app:1"), "imageID": image_id}]}}));
    }
    let server = bulwark_k8s::testing::ApiServer::start(bulwark_k8s::testing::Spec {
        objects,
        ..Default::default()
    });
    let kubeconfig = server.kubeconfig.to_str().unwrap();
    // A stand-in for `bulwark server`: records each upload's query.
    let uploads = tiny_http::Server::http("127.0.0.1:0").unwrap();
    let upload_url = format!("http://{}", uploads.server_addr().to_ip().unwrap());
    let recorder = std::thread::spawn(move || {
        let mut seen = Vec::new();
        while let Ok(Some(request)) = uploads.recv_timeout(std::time::Duration::from_secs(20)) {
            seen.push(request.url().to_string());
            let reply = r#"{"asset":{"name":"x"},"version":{"uuid":"u"},"findings":0}"#;
            let _ = request.respond(tiny_http::Response::from_string(reply));
            if seen.len() == 2 {
                break;
            }
        }
        seen
    });
    let before = registry.requests().len();
    let out = bulwark_env(
        &[
            "k8s",
            "--kubeconfig",
            kubeconfig,
            "--format",
            "json",
            "--ca-cert",
            ca,
            "--use-pull-secrets",
            "--no-cache",
            "--upload",
            &upload_url,
            "--token",
            "upload-token",
        ],
        &[],
        None,
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    // One upload per workload that runs the image, named k8s://<cluster>/<namespace>/<workload>.
    let mut seen = recorder.join().unwrap();
    seen.sort();
    assert_eq!(seen.len(), 2, "{seen:?}");
    assert!(
        seen[0].contains("asset=k8s%3A%2F%2Ftest-ctx%2Fshop%2Fweb"),
        "{seen:?}"
    );
    assert!(
        seen[1].contains("asset=k8s%3A%2F%2Ftest-ctx%2Fshop%2Fworker"),
        "{seen:?}"
    );
    assert!(
        seen.iter().all(|u| u.contains("team=team-shop")),
        "{seen:?}"
    );
    let manifests = registry.requests()[before..]
        .iter()
        .filter(|l| l.contains(&format!("GET /v2/team/app/manifests/{digest}")))
        .cloned()
        .collect::<Vec<_>>();
    // Read once (an unauthenticated try answered 401 first, as for any scan).
    let read = manifests.iter().filter(|l| l.contains("\" 200 ")).count();
    assert_eq!(
        read, 1,
        "one digest, two workloads: scanned once: {manifests:#?}"
    );
    // Only the named pull secret was read with its value.
    let secret_gets: Vec<_> = server
        .log()
        .into_iter()
        .filter(|l| l.path.contains("/secrets"))
        .map(|l| (l.path, l.accept.contains("as=PartialObjectMetadataList")))
        .collect();
    assert!(
        secret_gets.contains(&("/api/v1/namespaces/shop/secrets/regcred".to_string(), false)),
        "{secret_gets:?}"
    );
    assert!(
        secret_gets
            .iter()
            .all(|(p, meta)| *meta || p.ends_with("/regcred")),
        "{secret_gets:?}"
    );

    // Without --use-pull-secrets the registry refuses: the image is reported as not scanned.
    let out = bulwark_env(
        &[
            "k8s",
            "--kubeconfig",
            kubeconfig,
            "--format",
            "json",
            "--ca-cert",
            ca,
            "--no-cache",
        ],
        &[],
        None,
    );
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(
        stderr(&out).contains(&format!("{image_id}: cannot be scanned")),
        "{}",
        stderr(&out)
    );
}
