//! `bulwark image --reachability` end to end: an OCI image built here from this machine's real
//! bzip2, libbz2, glibc and libexpat, with a dpkg database naming their Debian source packages,
//! matched against the repository's Debian advisory excerpt (glibc and expat entries).

use std::collections::BTreeSet;

use serde_json::{json, Value};

use crate::util::*;

const LIB: &str = "usr/lib/x86_64-linux-gnu";

fn host(path: &str) -> Option<Vec<u8>> {
    std::fs::read(std::fs::canonicalize(path).ok()?).ok()
}

/// Layer 1: the usr-merged tree and dpkg database; the entrypoint runs bzip2.
fn image(dir: &std::path::Path) -> Option<()> {
    let bzip2 = host("/usr/bin/bzip2")?;
    let mut layer = LayerBuilder::new()
        .symlink("lib", "usr/lib")
        .symlink("lib64", "usr/lib64")
        .symlink("bin", "usr/bin")
        .file("etc/os-release", os_release_debian())
        .file_mode("usr/bin/bzip2", &bzip2, 0o755)
        .symlink(
            "usr/lib64/ld-linux-x86-64.so.2",
            "../lib/x86_64-linux-gnu/ld-linux-x86-64.so.2",
        );
    for lib in [
        "libbz2.so.1.0",
        "libc.so.6",
        "ld-linux-x86-64.so.2",
        "libexpat.so.1",
    ] {
        layer = layer.file(
            &format!("{LIB}/{lib}"),
            &host(&format!("/lib/x86_64-linux-gnu/{lib}"))?,
        );
    }
    let packages: [(&str, &str, &str, &[&str]); 4] = [
        ("bzip2", "1.0.8-5+b1", "bzip2", &["/bin/bzip2"]),
        (
            "libbz2-1.0",
            "1.0.8-5+b1",
            "bzip2",
            &["/lib/x86_64-linux-gnu/libbz2.so.1.0"],
        ),
        (
            "libc6",
            "2.36-9+deb12u4",
            "glibc",
            &[
                "/lib/x86_64-linux-gnu/libc.so.6",
                "/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2",
            ],
        ),
        (
            "libexpat1",
            "2.5.0-1",
            "expat",
            &["/lib/x86_64-linux-gnu/libexpat.so.1"],
        ),
    ];
    let mut status = String::new();
    for (name, version, source, files) in packages {
        status.push_str(&dpkg_stanza(name, version, Some(source)));
        layer = layer.file(
            &format!("var/lib/dpkg/info/{name}.list"),
            format!("/.\n{}\n", files.join("\n")).as_bytes(),
        );
    }
    let layer = layer
        .file("var/lib/dpkg/status", status.as_bytes())
        .finish();
    let mut builder = ImageBuilder::new().layer(layer, Compression::Gzip, "COPY rootfs /");
    builder.config_extra = json!({"config": {
        "Env": ["PATH=/usr/local/bin:/usr/bin:/bin"],
        "Entrypoint": ["bzip2"],
        "Cmd": ["-d"],
    }});
    builder.write_oci(dir);
    Some(())
}

fn verdicts(report: &Value) -> Vec<(String, String, Value)> {
    report["vulnerabilities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["package"]["name"].as_str().unwrap().to_string(),
                f["id"].as_str().unwrap().to_string(),
                f["reachability"].clone(),
            )
        })
        .collect()
}

#[test]
fn reachability_marks_linked_packages_reachable_and_unlinked_ones_unreachable() {
    let tmp = tempfile::tempdir().unwrap();
    if image(&tmp.path().join("oci")).is_none() {
        eprintln!("skipped: needs this machine's x86_64 bzip2, glibc and libexpat");
        return;
    }
    let db = advisory_db(tmp.path());
    let reference = format!("oci:{}", tmp.path().join("oci").display());
    let db_args = ["--db-dir", db.to_str().unwrap()];

    let (code, plain, stderr) = scan_json(&reference, &db_args);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        verdicts(&plain).iter().all(|(_, _, r)| r.is_null()),
        "off by default: reports stay as they were"
    );

    let mut args = db_args.to_vec();
    args.push("--reachability");
    let (code, report, stderr) = scan_json(&reference, &args);
    assert_eq!(code, 0, "{stderr}");
    let found = verdicts(&report);
    let of = |pkg: &str| -> Vec<&Value> {
        found
            .iter()
            .filter(|(p, _, _)| p == pkg)
            .map(|(_, _, r)| r)
            .collect()
    };
    let glibc = of("libc6");
    let expat = of("libexpat1");
    assert!(!glibc.is_empty() && !expat.is_empty(), "{found:?}");
    for r in glibc {
        assert_eq!(r["verdict"], "reachable", "{r}");
        let chain: Vec<&str> = r["chain"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c.as_str().unwrap())
            .collect();
        assert_eq!(chain[0], "entrypoint: bzip2 -d");
        assert_eq!(chain[1], "/usr/bin/bzip2");
        assert!(
            chain.last().unwrap().starts_with("pkg:deb/debian/libc6@"),
            "{chain:?}"
        );
    }
    for r in expat {
        assert_eq!(r["verdict"], "unreachable", "{r}");
        assert!(r.get("chain").is_none(), "{r}");
    }

    // The table shows the verdict once per package.
    let out = bulwark(&[
        "image",
        &reference,
        "--no-cache",
        "--quiet",
        "--format",
        "table",
        "--reachability",
        "--db-dir",
        db.to_str().unwrap(),
    ]);
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(
        table.contains("reachability: reachable (entrypoint: bzip2 -d → /usr/bin/bzip2 →"),
        "{table}"
    );
    assert!(
        table.contains("reachability: unreachable (none of its 1 ELF object"),
        "{table}"
    );
}

/// The minbase image's layout again, with its config's entrypoint replaced (blobs hard-linked,
/// a new config and manifest written): the layers, and so the packages, stay the real ones.
fn with_entrypoint(oci: &std::path::Path, out: &std::path::Path, argv: &[&str]) {
    let blobs = out.join("blobs/sha256");
    std::fs::create_dir_all(&blobs).unwrap();
    for entry in std::fs::read_dir(oci.join("blobs/sha256")).unwrap() {
        let entry = entry.unwrap();
        let to = blobs.join(entry.file_name());
        if std::fs::hard_link(entry.path(), &to).is_err() {
            std::fs::copy(entry.path(), &to).unwrap();
        }
    }
    std::fs::copy(oci.join("oci-layout"), out.join("oci-layout")).unwrap();
    let read = |digest: &str| -> Value {
        let hex = digest.trim_start_matches("sha256:");
        serde_json::from_slice(&std::fs::read(blobs.join(hex)).unwrap()).unwrap()
    };
    let put = |value: &Value| -> (String, usize) {
        let bytes = serde_json::to_vec(value).unwrap();
        let hex = sha256_hex(&bytes);
        std::fs::write(blobs.join(&hex), &bytes).unwrap();
        (format!("sha256:{hex}"), bytes.len())
    };
    let mut index: Value =
        serde_json::from_slice(&std::fs::read(oci.join("index.json")).unwrap()).unwrap();
    let mut manifest = read(index["manifests"][0]["digest"].as_str().unwrap());
    let mut config = read(manifest["config"]["digest"].as_str().unwrap());
    config["config"]["Entrypoint"] = json!(argv);
    config["config"]["Cmd"] = Value::Null;
    let (digest, size) = put(&config);
    manifest["config"]["digest"] = json!(digest);
    manifest["config"]["size"] = json!(size);
    let (digest, size) = put(&manifest);
    index["manifests"][0]["digest"] = json!(digest);
    index["manifests"][0]["size"] = json!(size);
    std::fs::write(out.join("index.json"), serde_json::to_vec(&index).unwrap()).unwrap();
}

/// Ground truth from a real run: `sleep` started in the minbase root filesystem (chroot), its
/// `/proc/PID/maps` read; no package marked unreachable owns a file the process maps, and the
/// ones that do are reachable.
#[test]
fn no_package_marked_unreachable_is_mapped_by_the_real_entrypoint() {
    let Some(minbase) = test_image("minbase", &["rootfs/usr/bin/sleep"]) else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let oci = tmp.path().join("oci");
    with_entrypoint(&minbase.join("oci"), &oci, &["sleep", "30"]);
    let db = advisory_db(tmp.path());
    let reference = format!("oci:{}", oci.display());
    let (code, report, stderr) = scan_json(
        &reference,
        &[
            "--db-dir",
            db.to_str().unwrap(),
            "--reachability",
            "--scanners",
            "sbom,vuln",
        ],
    );
    assert_eq!(code, 0, "{stderr}");

    let Ok(mut child) = std::process::Command::new("chroot")
        .arg(minbase.join("rootfs"))
        .args(["/usr/bin/sleep", "30"])
        .spawn()
    else {
        eprintln!("skipped the real run: chroot is not available");
        return;
    };
    let maps_path = format!("/proc/{}/maps", child.id());
    let root = std::fs::canonicalize(minbase.join("rootfs"))
        .unwrap()
        .display()
        .to_string();
    let mut maps = String::new();
    for _ in 0..50 {
        std::thread::sleep(std::time::Duration::from_millis(20));
        maps = std::fs::read_to_string(&maps_path).unwrap_or_default();
        if maps.contains("libc.so") {
            break;
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    if !maps.contains("libc.so") {
        eprintln!("skipped the real run: chroot is not permitted here");
        return;
    }
    let mapped: BTreeSet<String> = maps
        .lines()
        .filter_map(|l| l.split_whitespace().nth(5))
        .filter(|p| (p.starts_with('/') && p.contains(".so")) || p.ends_with("/sleep"))
        // Read from outside the chroot, the paths carry the root's own path.
        .map(|p| p.strip_prefix(root.as_str()).unwrap_or(p).to_string())
        .collect();
    assert!(mapped.len() >= 3, "{mapped:?}");

    // Package files as the report lists them (`/lib/...` on this usr-merged tree is `/usr/lib`).
    let owners = |file: &str| -> Vec<String> {
        report["packages"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|p| {
                p["files"].as_array().is_some_and(|fs| {
                    fs.iter()
                        .filter_map(Value::as_str)
                        .any(|f| f == file || format!("/usr{f}") == file)
                })
            })
            .map(|p| p["purl"].as_str().unwrap().to_string())
            .collect()
    };
    let mut verdict_of: std::collections::HashMap<String, String> = Default::default();
    for f in report["vulnerabilities"].as_array().unwrap() {
        verdict_of.insert(
            f["package"]["purl"].as_str().unwrap().to_string(),
            f["reachability"]["verdict"].as_str().unwrap().to_string(),
        );
    }
    let unreachable = verdict_of.values().filter(|v| *v == "unreachable").count();
    assert!(
        unreachable >= 5,
        "a pause container leaves most libraries unloaded: {verdict_of:?}"
    );
    for file in &mapped {
        let owned_by = owners(file);
        assert!(!owned_by.is_empty(), "{file} has an owner");
        for purl in owned_by {
            if let Some(v) = verdict_of.get(&purl) {
                assert_eq!(
                    v, "reachable",
                    "{purl} owns {file}, which the real run maps"
                );
            }
        }
    }
}
