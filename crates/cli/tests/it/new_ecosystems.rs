//! Issue 18: the package databases and files of ecosystems bulwark had no analyzer for, read
//! end to end by `bulwark fs` from one directory holding several of them; an SBOM's entry for
//! a package a native analyzer found is that package, not a second one.

use std::collections::BTreeSet;

use serde_json::Value;

use crate::util::*;

fn scan_tree(files: &[(&str, &str)]) -> (i32, Value, String) {
    let tmp = tempfile::tempdir().unwrap();
    for (path, content) in files {
        let p = tmp.path().join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, content).unwrap();
    }
    let out = bulwark(&[
        "fs",
        &tmp.path().display().to_string(),
        "--format",
        "json",
        "--quiet",
        "--no-cache",
    ]);
    (
        out.status.code().unwrap_or(-1),
        serde_json::from_slice(&out.stdout).unwrap_or(Value::Null),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

const NIX_HASH: &str = "0a1b2c3d4f5g6h7i8j9k0l1m2n3p4q5r";

#[test]
fn issue_18_new_ecosystems_via_fs() {
    let nix_zlib = format!("nix/store/{NIX_HASH}-zlib-1.3.1/lib/libz.so.1");
    let nix_source = format!("nix/store/{NIX_HASH}-source/README");
    let sbom = r#"{"spdxVersion":"SPDX-2.3","SPDXID":"SPDXRef-DOCUMENT","packages":[
        {"SPDXID":"SPDXRef-1","name":"libxml2","versionInfo":"2.12.6-1","externalRefs":[{"referenceType":"purl","referenceLocator":"pkg:alpm/arch/libxml2@2.12.6-1?arch=x86_64"}]},
        {"SPDXID":"SPDXRef-2","name":"requests","versionInfo":"2.31.0","externalRefs":[{"referenceType":"purl","referenceLocator":"pkg:pypi/requests@2.31.0"}]},
        {"SPDXID":"SPDXRef-3","name":"only-in-sbom","versionInfo":"1.0.0","externalRefs":[{"referenceType":"purl","referenceLocator":"pkg:npm/only-in-sbom@1.0.0"}]}
    ]}"#;
    let files: Vec<(&str, &str)> = vec![
        ("etc/os-release", "NAME=\"Arch Linux\"\nID=arch\nBUILD_ID=rolling\n"),
        ("var/lib/pacman/local/libxml2-2.12.6-1/desc", "%NAME%\nlibxml2\n\n%VERSION%\n2.12.6-1\n\n%BASE%\nlibxml2\n\n%ARCH%\nx86_64\n\n%LICENSE%\nMIT\n"),
        ("var/lib/pacman/local/libxml2-2.12.6-1/files", "%FILES%\nusr/\nusr/lib/libxml2.so.2\n"),
        ("var/db/pkg/dev-libs/openssl-3.0.13-r1/PF", "openssl-3.0.13-r1\n"),
        ("opt/homebrew/Cellar/jq/1.7.1/INSTALL_RECEIPT.json", "{\"homebrew_version\":\"4.2.0\",\"runtime_dependencies\":[]}"),
        ("snap/core22/1122/meta/snap.yaml", "name: core22\nversion: '20240111'\narchitectures: [amd64]\n"),
        (nix_zlib.as_str(), "\u{7f}ELF"),
        (nix_source.as_str(), "not a package"),
        ("usr/share/bottlerocket/application-inventory.json", r#"{"Content":[{"Name":"glibc","Version":"2.38","Release":"1.br1","Architecture":"x86_64"}]}"#),
        ("opt/bitnami/redis/.spdx-redis.spdx", r#"{"spdxVersion":"SPDX-2.3","packages":[{"name":"redis","versionInfo":"7.2.4","externalRefs":[{"referenceType":"purl","referenceLocator":"pkg:bitnami/redis@7.2.4?arch=amd64"}]}]}"#),
        ("usr/share/sbom/image.spdx.json", sbom),
        ("usr/lib/python3.12/site-packages/requests-2.31.0.dist-info/METADATA", "Metadata-Version: 2.1\nName: requests\nVersion: 2.31.0\n"),
        ("opt/java/openjdk/release", "IMPLEMENTOR=\"Eclipse Adoptium\"\nJAVA_VERSION=\"17.0.9\"\n"),
        ("opt/java/openjdk/bin/java", "\u{7f}ELF"),
        ("opt/not-a-jdk/release", "JAVA_VERSION=\"11.0.1\"\n"),
        ("src/.github/workflows/ci.yml", "on: push\njobs:\n  b:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: actions/checkout@v4\n"),
        ("var/www/html/wp-content/plugins/hello-demo/hello-demo.php", "<?php\n/*\n * Plugin Name: Hello Demo\n * Version: 1.7.2\n */\n"),
        ("usr/local/lib/php/.registry/.channel.pecl.php.net/redis.reg", "a:2:{s:4:\"name\";s:5:\"redis\";s:7:\"version\";a:1:{s:7:\"release\";s:5:\"6.0.2\";}}"),
        ("src/pylock.toml", "lock-version = \"1.0\"\n\n[[packages]]\nname = \"idna\"\nversion = \"3.7\"\n"),
        ("src/build.sbt.lock", r#"{"lockVersion":1,"dependencies":[{"org":"org.typelevel","name":"cats-core_2.13","version":"2.10.0","configurations":["compile"]}]}"#),
        ("usr/lib/opkg/status", "Package: busybox\nVersion: 1.36.1-1\nStatus: install user installed\nArchitecture: x86_64\n"),
        ("var/lib/rpmmanifest/container-manifest-2", "tzdata\t2024a-1.cm2\t1700000000\t1690000000\tMicrosoft Corporation\t(none)\t1956040\tnoarch\t0\ttzdata-2024a-1.cm2.src.rpm\n"),
    ];
    let (code, report, stderr) = scan_tree(&files);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(report["os"]["family"], "arch", "{}", report["os"]);
    let purls: BTreeSet<String> = report["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["purl"].as_str().unwrap().to_string())
        .collect();
    // One directory, one OS (Arch, from os-release): every OS package's purl takes its
    // namespace and `distro` from it, whichever database listed the package.
    let want: BTreeSet<String> = [
        "pkg:alpm/arch/libxml2@2.12.6-1?arch=x86_64&distro=arch",
        "pkg:bitnami/redis@7.2.4?arch=amd64&distro=arch",
        "pkg:bottlerocket/arch/glibc@2.38?arch=x86_64&distro=arch",
        "pkg:brew/jq@1.7.1",
        "pkg:ebuild/dev-libs/openssl@3.0.13-r1",
        "pkg:generic/eclipse/temurin@17.0.9",
        "pkg:githubactions/actions/checkout@v4",
        "pkg:maven/org.typelevel/cats-core_2.13@2.10.0",
        "pkg:nix/zlib@1.3.1",
        "pkg:npm/only-in-sbom@1.0.0",
        "pkg:opkg/arch/busybox@1.36.1-1?arch=x86_64&distro=arch",
        "pkg:pecl/redis@6.0.2",
        "pkg:pypi/idna@3.7",
        "pkg:pypi/requests@2.31.0",
        "pkg:rpm/arch/tzdata@2024a-1.cm2?arch=noarch&distro=arch&upstream=tzdata-2024a-1.cm2.src.rpm",
        "pkg:snap/core22@20240111",
        "pkg:wordpress/hello-demo@1.7.2",
    ]
    .into_iter()
    .map(String::from)
    .collect();
    assert_eq!(purls, want);
    // The SBOM's entries joined the packages the database and the installed metadata show.
    let libxml2 = package(&report, "libxml2");
    assert_eq!(
        libxml2["found_in"],
        serde_json::json!([
            "/usr/share/sbom/image.spdx.json",
            "/var/lib/pacman/local/libxml2-2.12.6-1/desc"
        ])
    );
    assert_eq!(package(&report, "requests")["evidence"], Value::Null);
    assert_eq!(package(&report, "only-in-sbom")["evidence"], "declared");
}
