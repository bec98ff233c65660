//! Core engine behaviour on small images built here: layer order, whiteouts, attribution,
//! every source form, each OS package database, and the layer cache.

use std::path::Path;

use crate::util::*;

fn status(stanzas: &[(&str, &str, Option<&str>)]) -> Vec<u8> {
    stanzas
        .iter()
        .map(|(n, v, s)| dpkg_stanza(n, v, *s))
        .collect::<String>()
        .into_bytes()
}

/// Three layers: a base with three packages; a layer that installs one more and leaves a
/// directory behind; a layer that removes a package, whites out a file and makes that
/// directory opaque.
fn layered_image() -> ImageBuilder {
    let base = LayerBuilder::new()
        .dir("etc")
        .file("usr/lib/os-release", os_release_debian())
        .symlink("etc/os-release", "../usr/lib/os-release")
        .file(
            "var/lib/dpkg/status",
            &status(&[
                ("base-files", "12.4+deb12u5", None),
                ("zlib1g", "1:1.2.13.dfsg-1", Some("zlib")),
                ("curl", "7.88.1-10+deb12u5", None),
            ]),
        )
        .file("var/lib/dpkg/info/zlib1g:amd64.list", b"/.\n/usr/lib/x86_64-linux-gnu/libz.so.1\n")
        .file(
            "usr/share/doc/zlib1g/copyright",
            b"Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n\nFiles: *\nLicense: Zlib\n",
        )
        .finish();
    let install = LayerBuilder::new()
        .file(
            "var/lib/dpkg/status",
            &status(&[
                ("base-files", "12.4+deb12u5", None),
                ("zlib1g", "1:1.2.13.dfsg-1", Some("zlib")),
                ("curl", "7.88.1-10+deb12u5", None),
                ("openssl", "3.0.11-1~deb12u2", None),
            ]),
        )
        .file("opt/conf/a.conf", b"a")
        .file("opt/conf/b.conf", b"b")
        .finish();
    let remove = LayerBuilder::new()
        .file(
            "var/lib/dpkg/status",
            &status(&[
                ("base-files", "12.4+deb12u5", None),
                ("zlib1g", "1:1.2.13.dfsg-1", Some("zlib")),
                ("openssl", "3.0.11-1~deb12u2", None),
            ]),
        )
        .whiteout("usr/share/doc/zlib1g/copyright")
        .opaque("opt/conf")
        .file("opt/conf/c.conf", b"c")
        .finish();
    ImageBuilder::new()
        .layer(base, Compression::Gzip, "ADD rootfs.tar /")
        .layer(install, Compression::Zstd, "RUN apt-get install -y openssl")
        .layer(remove, Compression::None, "RUN apt-get purge -y curl")
}

#[test]
fn layers_apply_in_order_with_attribution() {
    let tmp = tempfile::tempdir().unwrap();
    layered_image().write_oci(tmp.path());
    let (code, report, stderr) = scan_json(&format!("oci:{}", tmp.path().display()), &[]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        packages(&report),
        vec![
            ("base-files".into(), "12.4+deb12u5".into(), 0),
            ("openssl".into(), "3.0.11-1~deb12u2".into(), 1),
            ("zlib1g".into(), "1:1.2.13.dfsg-1".into(), 0),
        ],
        "curl was purged in layer 2; openssl came with layer 1"
    );
    assert_eq!(
        report["os"]["id"], "debian",
        "os-release found through its symlink"
    );
    let openssl = package(&report, "openssl");
    assert_eq!(
        openssl["layer"]["created_by"],
        "RUN apt-get install -y openssl"
    );
    assert!(openssl["layer"]["diff_id"]
        .as_str()
        .unwrap()
        .starts_with("sha256:"));
    let zlib = package(&report, "zlib1g");
    assert_eq!(
        zlib["purl"],
        "pkg:deb/debian/zlib1g@1:1.2.13.dfsg-1?arch=amd64&distro=debian-12&upstream=zlib"
    );
    assert_eq!(
        zlib["files"],
        serde_json::json!(["/usr/lib/x86_64-linux-gnu/libz.so.1"])
    );
    assert!(
        zlib.get("licenses").is_none(),
        "the copyright file was whited out in layer 2, so its licence no longer applies"
    );
    assert_eq!(report["layers"].as_array().unwrap().len(), 3);
}

#[test]
fn licences_come_from_copyright_files() {
    let tmp = tempfile::tempdir().unwrap();
    let mut img = layered_image();
    img.layers.truncate(1);
    img.write_oci(tmp.path());
    let (code, report, stderr) = scan_json(&format!("oci:{}", tmp.path().display()), &[]);
    assert_eq!(code, 0, "{stderr}");
    let zlib = package(&report, "zlib1g");
    assert_eq!(zlib["licenses"], serde_json::json!(["Zlib"]));
}

#[test]
fn every_source_form_gives_the_same_inventory() {
    let tmp = tempfile::tempdir().unwrap();
    let img = layered_image();
    let layout = tmp.path().join("layout");
    img.write_oci(&layout);
    let archive = tmp.path().join("docker.tar");
    img.write_docker_archive(&archive);
    let oci_archive = tmp.path().join("oci.tar");
    {
        let mut b = tar::Builder::new(std::fs::File::create(&oci_archive).unwrap());
        b.append_dir_all(".", &layout).unwrap();
        b.finish().unwrap();
    }
    let refs = [
        format!("oci:{}", layout.display()),
        format!("docker-archive:{}", archive.display()),
        format!("oci-archive:{}", oci_archive.display()),
        // Detected from contents, without a prefix.
        layout.display().to_string(),
        archive.display().to_string(),
        oci_archive.display().to_string(),
    ];
    let mut inventories = Vec::new();
    for r in &refs {
        let (code, report, stderr) = scan_json(r, &[]);
        assert_eq!(code, 0, "{r}: {stderr}");
        inventories.push(packages(&report));
    }
    for (r, inv) in refs.iter().zip(&inventories) {
        assert_eq!(inv, &inventories[0], "{r} differs");
    }
    assert_eq!(inventories[0].len(), 3);
}

#[test]
fn distroless_status_d_and_md5sums() {
    let tmp = tempfile::tempdir().unwrap();
    let layer = LayerBuilder::new()
        .file("etc/os-release", os_release_debian())
        .file(
            "var/lib/dpkg/status.d/base",
            b"Package: base-files\nVersion: 12.4+deb12u5\nArchitecture: amd64\n",
        )
        .file(
            "var/lib/dpkg/status.d/libssl3",
            b"Package: libssl3\nSource: openssl\nVersion: 3.0.11-1~deb12u2\nArchitecture: amd64\n",
        )
        .file(
            "var/lib/dpkg/status.d/libssl3.md5sums",
            b"0123456789abcdef0123456789abcdef  usr/lib/x86_64-linux-gnu/libssl.so.3\n",
        )
        .finish();
    ImageBuilder::new()
        .layer(layer, Compression::Gzip, "distroless")
        .write_oci(tmp.path());
    let (code, report, stderr) = scan_json(&format!("oci:{}", tmp.path().display()), &[]);
    assert_eq!(code, 0, "{stderr}");
    let pkgs = report["packages"].as_array().unwrap();
    assert_eq!(pkgs.len(), 2);
    let ssl = pkgs.iter().find(|p| p["name"] == "libssl3").unwrap();
    assert_eq!(ssl["source"]["name"], "openssl");
    assert_eq!(
        ssl["files"],
        serde_json::json!(["/usr/lib/x86_64-linux-gnu/libssl.so.3"])
    );
    assert_eq!(
        ssl["found_in"],
        serde_json::json!(["/var/lib/dpkg/status.d/libssl3"])
    );
}

#[test]
fn alpine_apk_database() {
    let tmp = tempfile::tempdir().unwrap();
    let installed = "C:Q1abc=\nP:musl\nV:1.2.4-r2\nA:x86_64\nL:MIT\no:musl\nF:lib\nR:ld-musl-x86_64.so.1\n\nC:Q1def=\nP:libssl3\nV:3.1.4-r1\nA:x86_64\nL:Apache-2.0\no:openssl\nF:usr/lib\nR:libssl.so.3\n\n";
    let layer = LayerBuilder::new()
        .file("etc/alpine-release", b"3.19.1\n")
        .file(
            "etc/os-release",
            b"NAME=\"Alpine Linux\"\nID=alpine\nVERSION_ID=3.19.1\nPRETTY_NAME=\"Alpine Linux v3.19\"\n",
        )
        .file("lib/apk/db/installed", installed.as_bytes())
        .finish();
    ImageBuilder::new()
        .layer(layer, Compression::Gzip, "ADD alpine-minirootfs.tar.gz /")
        .write_oci(tmp.path());
    let (code, report, stderr) = scan_json(&format!("oci:{}", tmp.path().display()), &[]);
    assert_eq!(code, 0, "{stderr}");
    let pkgs = report["packages"].as_array().unwrap();
    let ssl = pkgs.iter().find(|p| p["name"] == "libssl3").unwrap();
    assert_eq!(
        ssl["purl"],
        "pkg:apk/alpine/libssl3@3.1.4-r1?arch=x86_64&distro=alpine-3.19.1&upstream=openssl"
    );
    assert_eq!(ssl["licenses"], serde_json::json!(["Apache-2.0"]));
    assert_eq!(ssl["files"], serde_json::json!(["/usr/lib/libssl.so.3"]));
}

fn rpm_fixture(name: &str) -> Vec<u8> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../rpmdb/tests/fixtures");
    std::fs::read(dir.join(name)).unwrap()
}

/// Real databases written by rpm (see crates/rpmdb/tests/fixtures/make-fixtures.sh), placed
/// where each distribution keeps them.
#[test]
fn rpm_databases_in_every_backend() {
    let cases = [
        (
            "rpmdb.sqlite",
            "var/lib/rpm/rpmdb.sqlite",
            "expected-sqlite.tsv",
            "rocky",
            "9.3",
        ),
        (
            "Packages.bdb-le",
            "var/lib/rpm/Packages",
            "expected-bdb-le.tsv",
            "centos",
            "7",
        ),
        (
            "Packages.db",
            "usr/lib/sysimage/rpm/Packages.db",
            "expected-ndb.tsv",
            "opensuse-leap",
            "15.5",
        ),
    ];
    for (fixture, path, expected, os_id, os_version) in cases {
        let tmp = tempfile::tempdir().unwrap();
        let os_release = format!("ID=\"{os_id}\"\nVERSION_ID=\"{os_version}\"\n");
        let layer = LayerBuilder::new()
            .file("etc/os-release", os_release.as_bytes())
            .file(path, &rpm_fixture(fixture))
            .finish();
        ImageBuilder::new()
            .layer(layer, Compression::Gzip, "rpm base")
            .write_oci(tmp.path());
        let (code, report, stderr) = scan_json(&format!("oci:{}", tmp.path().display()), &[]);
        assert_eq!(code, 0, "{fixture}: {stderr}");
        let truth = String::from_utf8(rpm_fixture(expected)).unwrap();
        let mut want: Vec<String> = truth
            .lines()
            .filter(|l| !l.starts_with("gpg-pubkey"))
            .map(|l| {
                let f: Vec<&str> = l.split('\t').collect();
                let version = if f[1] != "0" {
                    format!("{}:{}-{}", f[1], f[2], f[3])
                } else {
                    format!("{}-{}", f[2], f[3])
                };
                format!("{} {} {}", f[0], version, f[4])
            })
            .collect();
        want.sort();
        let mut got: Vec<String> = report["packages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| {
                format!(
                    "{} {} {}",
                    p["name"].as_str().unwrap(),
                    p["version"].as_str().unwrap(),
                    p["arch"].as_str().unwrap()
                )
            })
            .collect();
        got.sort();
        assert_eq!(got, want, "{fixture}");
        let libfoo = package(&report, "libfoo");
        assert_eq!(
            libfoo["purl"],
            format!("pkg:rpm/{os_id}/libfoo@0.9.1-3.el9?arch=x86_64&distro={os_id}-{os_version}&epoch=2&upstream=libfoo-0.9.1-3.el9.src.rpm")
        );
        assert!(!libfoo["files"].as_array().unwrap().is_empty() || fixture != "rpmdb.sqlite");
    }
}

#[test]
fn legacy_docker_save_form() {
    let tmp = tempfile::tempdir().unwrap();
    let base = LayerBuilder::new()
        .file("etc/os-release", os_release_debian())
        .file(
            "var/lib/dpkg/status",
            &status(&[("bash", "5.2.15-2+b2", None)]),
        )
        .finish();
    let top = LayerBuilder::new()
        .file(
            "var/lib/dpkg/status",
            &status(&[("bash", "5.2.15-2+b2", None), ("gzip", "1.12-1", None)]),
        )
        .finish();
    let path = tmp.path().join("legacy.tar");
    let mut b = tar::Builder::new(std::fs::File::create(&path).unwrap());
    let base_id = "a".repeat(64);
    let top_id = "b".repeat(64);
    append(&mut b, &format!("{base_id}/VERSION"), b"1.0");
    append(&mut b, &format!("{base_id}/json"), format!(r##"{{"id":"{base_id}","container_config":{{"Cmd":["/bin/sh","-c","#(nop) ADD file:x in /"]}}}}"##).as_bytes());
    append(&mut b, &format!("{base_id}/layer.tar"), &base);
    append(&mut b, &format!("{top_id}/json"), format!(r#"{{"id":"{top_id}","parent":"{base_id}","os":"linux","architecture":"amd64","config":{{"User":"app"}},"container_config":{{"Cmd":["/bin/sh","-c","apt-get install gzip"]}}}}"#).as_bytes());
    append(&mut b, &format!("{top_id}/layer.tar"), &top);
    append(
        &mut b,
        "repositories",
        format!(r#"{{"test":{{"latest":"{top_id}"}}}}"#).as_bytes(),
    );
    b.finish().unwrap();
    drop(b);
    let (code, report, stderr) = scan_json(&format!("docker-archive:{}", path.display()), &[]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        packages(&report),
        vec![
            ("bash".into(), "5.2.15-2+b2".into(), 0),
            ("gzip".into(), "1.12-1".into(), 1)
        ]
    );
    let gzip = package(&report, "gzip");
    assert_eq!(
        gzip["layer"]["created_by"],
        "/bin/sh -c apt-get install gzip"
    );
}

#[test]
fn warm_cache_reads_no_layer_and_gives_the_same_report() {
    let tmp = tempfile::tempdir().unwrap();
    let layout = tmp.path().join("layout");
    let written = layered_image().write_oci(&layout);
    let cache = tmp.path().join("cache");
    let cache_arg = cache.display().to_string();
    let reference = format!("oci:{}", layout.display());
    let run = || {
        let out = bulwark(&[
            "image",
            &reference,
            "--format",
            "json",
            "--quiet",
            "--cache-dir",
            &cache_arg,
        ]);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()
    };
    let cold = run();
    assert!(cold["layers"]
        .as_array()
        .unwrap()
        .iter()
        .all(|l| l["from_cache"] == false));
    let entries = std::fs::read_dir(cache.join("layers")).unwrap().count();
    assert_eq!(entries, 3, "one cache entry per layer");
    // Prove the warm scan does not read layer blobs: make them unreadable garbage.
    for layer in &written.layers {
        std::fs::write(layer, b"not a layer any more").unwrap();
    }
    // Sizes changed, so restore sizes by padding: the manifest check compares sizes first.
    let warm_out = bulwark(&[
        "image",
        &reference,
        "--format",
        "json",
        "--quiet",
        "--cache-dir",
        &cache_arg,
    ]);
    let stderr = String::from_utf8_lossy(&warm_out.stderr);
    assert_eq!(
        warm_out.status.code(),
        Some(2),
        "a size mismatch is still caught from the manifest: {stderr}"
    );
    layered_image().write_oci(&layout);
    let warm = run();
    assert!(warm["layers"]
        .as_array()
        .unwrap()
        .iter()
        .all(|l| l["from_cache"] == true));
    assert_eq!(packages(&warm), packages(&cold));
    assert_eq!(warm["packages"], cold["packages"]);
}

#[test]
fn warm_scan_does_not_open_layer_blobs() {
    let tmp = tempfile::tempdir().unwrap();
    let layout = tmp.path().join("layout");
    let written = layered_image().write_oci(&layout);
    let cache = tmp.path().join("cache");
    let cache_arg = cache.display().to_string();
    let reference = format!("oci:{}", layout.display());
    let args = [
        "image",
        &reference,
        "--format",
        "json",
        "--quiet",
        "--cache-dir",
        &cache_arg,
    ];
    assert_eq!(bulwark(&args).status.code(), Some(0));
    // Same size, different bytes: a cold scan would fail the digest check.
    for layer in &written.layers {
        let len = std::fs::metadata(layer).unwrap().len() as usize;
        std::fs::write(layer, vec![0u8; len]).unwrap();
    }
    let out = bulwark(&args);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let cold_args = [
        "image",
        &reference,
        "--format",
        "json",
        "--quiet",
        "--no-cache",
    ];
    assert_eq!(
        bulwark(&cold_args).status.code(),
        Some(2),
        "without the cache the tampering is caught"
    );
}

#[test]
fn concurrent_scans_share_one_cache() {
    let tmp = tempfile::tempdir().unwrap();
    let layout = tmp.path().join("layout");
    layered_image().write_oci(&layout);
    let cache = tmp.path().join("cache").display().to_string();
    let reference = format!("oci:{}", layout.display());
    let handles: Vec<_> = (0..4)
        .map(|_| {
            let (r, c) = (reference.clone(), cache.clone());
            std::thread::spawn(move || {
                bulwark(&[
                    "image",
                    &r,
                    "--format",
                    "json",
                    "--quiet",
                    "--cache-dir",
                    &c,
                ])
            })
        })
        .collect();
    let mut outputs = Vec::new();
    for h in handles {
        let out = h.join().unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        outputs.push(packages(&report));
    }
    assert!(outputs.iter().all(|o| o == &outputs[0] && o.len() == 3));
}

#[test]
fn rootfs_directory_never_follows_links_out() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    std::fs::create_dir_all(root.join("etc")).unwrap();
    std::fs::create_dir_all(root.join("var/lib/dpkg")).unwrap();
    std::fs::write(
        root.join("var/lib/dpkg/status"),
        dpkg_stanza("bash", "5.2.15-2+b2", None),
    )
    .unwrap();
    // On the host, /etc/os-release is the machine's; inside the image it must resolve to
    // the image's own (absent) file, not the host's.
    std::os::unix::fs::symlink("/usr/lib/os-release", root.join("etc/os-release")).unwrap();
    assert!(
        Path::new("/usr/lib/os-release").exists(),
        "the host has the link's target"
    );
    let (code, report, stderr) = scan_json(&format!("dir:{}", root.display()), &[]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        report["os"].is_null(),
        "the host's os-release leaked in: {}",
        report["os"]
    );
    assert_eq!(
        packages(&report),
        vec![("bash".into(), "5.2.15-2+b2".into(), 0)]
    );
}

/// The README's first command scans this bundled example; keep it true.
#[test]
fn bundled_example_scans_offline() {
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/debian-mini");
    let (code, report, stderr) = scan_json(&example.display().to_string(), &[]);
    assert_eq!(code, 0, "{stderr}");
    let pkgs = packages(&report);
    assert_eq!(pkgs.len(), 91);
    assert!(pkgs
        .iter()
        .any(|(n, _, l)| n == "ca-certificates" && *l == 1));
    assert!(
        !pkgs.iter().any(|(n, _, _)| n == "curl"),
        "curl is purged in layer 2"
    );
}
