//! Issue 18: the ecosystems added then (Swift, CocoaPods, Conan, vcpkg, conda, Haskell, Hex,
//! Dart, Julia, LuaRocks, R, opam), end to end: a small tree with one file of each, scanned by
//! `bulwark fs`, lists every package in CycloneDX with its purl; a malformed one is a
//! diagnostic naming its analyzer (exit 3), never a package. The formats themselves are tested
//! in bulwark-catalog (`lang::<ecosystem>::tests`).

use std::collections::BTreeSet;
use std::path::Path;

use serde_json::Value;

use crate::util::*;

const FILES: &[(&str, &str)] = &[
    (
        "app/ios/Package.resolved",
        r#"{"pins": [{"identity": "swift-log", "kind": "remoteSourceControl", "location": "https://github.com/apple/swift-log.git",
  "state": {"revision": "e97a6fcb1ab07462881ac165fdbb37f067e205d5", "version": "1.5.4"}}], "version": 2}"#,
    ),
    (
        "app/ios/Pods/Manifest.lock",
        "PODS:\n  - Alamofire (5.6.1)\n\nCOCOAPODS: 1.11.3\n",
    ),
    (
        "app/native/conan.lock",
        r#"{"version": "0.5", "requires": ["zlib/1.3.1#f52e03ae3d251dec704634230cd806a2%1708593606.497"], "build_requires": []}"#,
    ),
    (
        "app/native/vcpkg_installed/vcpkg/status",
        "Package: fmt\nVersion: 10.2.1\nArchitecture: x64-linux\nStatus: install ok installed\n",
    ),
    (
        "opt/conda/conda-meta/numpy-1.26.0-py311h08b1b3b_0.json",
        r#"{"name": "numpy", "version": "1.26.0", "build": "py311h08b1b3b_0", "channel": "https://repo.anaconda.com/pkgs/main/linux-64", "subdir": "linux-64"}"#,
    ),
    (
        "app/hs/cabal.project.freeze",
        "constraints: any.aeson ==2.1.2.1,\n             any.text ==2.0.2\n",
    ),
    (
        "app/ex/mix.lock",
        "%{\n  \"jason\": {:hex, :jason, \"1.4.1\", \"af1504e35f629ddcdd6addb3513c3853991f694921b1b9368b0bd32beb9f1b63\", [:mix], [], \"hexpm\", \"fbb01ecdfd565b56261302f7e1fcc27c4fb8f32d56eab74db621fc154604a7a1\"},\n}\n",
    ),
    (
        "app/erl/rebar.lock",
        "{\"1.2.0\",\n[{<<\"cowlib\">>,{pkg,<<\"cowlib\">>,<<\"2.12.1\">>},0}]}.\n",
    ),
    (
        "app/dart/pubspec.lock",
        "packages:\n  http:\n    dependency: \"direct main\"\n    description:\n      name: http\n      url: \"https://pub.dev\"\n    source: hosted\n    version: \"1.1.0\"\nsdks:\n  dart: \">=3.0.0 <4.0.0\"\n",
    ),
    (
        "app/jl/Manifest.toml",
        "julia_version = \"1.10.0\"\nmanifest_format = \"2.0\"\n\n[[deps.JSON]]\nuuid = \"682c06a0-de6a-54ab-a142-c8b1cf79cde6\"\nversion = \"0.21.4\"\n",
    ),
    (
        "usr/local/lib/luarocks/rocks-5.4/inspect/3.1.3-0/rock_manifest",
        "rock_manifest = {\n   lua = {\n      [\"inspect.lua\"] = \"a1b2c3\"\n   }\n}\n",
    ),
    (
        "app/r/renv.lock",
        r#"{"R": {"Version": "4.3.2"}, "Packages": {"jsonlite": {"Package": "jsonlite", "Version": "1.8.8", "Source": "Repository", "Repository": "CRAN"}}}"#,
    ),
    (
        "usr/local/lib/R/site-library/cli/DESCRIPTION",
        "Package: cli\nVersion: 3.6.2\nLicense: MIT + file LICENSE\nBuilt: R 4.3.2; x86_64-pc-linux-gnu; 2024-01-10 10:00:00 UTC; unix\n",
    ),
    (
        "root/.opam/default/.opam-switch/switch-state",
        "opam-version: \"2.0\"\ninstalled: [\"dune.3.12.2\" \"yojson.2.1.2\"]\n",
    ),
];

const WANT: &[&str] = &[
    "pkg:swift/github.com/apple/swift-log@1.5.4",
    "pkg:cocoapods/Alamofire@5.6.1",
    "pkg:conan/zlib@1.3.1?rrev=f52e03ae3d251dec704634230cd806a2",
    "pkg:vcpkg/fmt@10.2.1?triplet=x64-linux",
    "pkg:conda/numpy@1.26.0?build=py311h08b1b3b_0&channel=main&subdir=linux-64",
    "pkg:hackage/aeson@2.1.2.1",
    "pkg:hackage/text@2.0.2",
    "pkg:hex/jason@1.4.1",
    "pkg:hex/cowlib@2.12.1",
    "pkg:pub/http@1.1.0",
    "pkg:julia/JSON@0.21.4?uuid=682c06a0-de6a-54ab-a142-c8b1cf79cde6",
    "pkg:luarocks/inspect@3.1.3-0",
    "pkg:cran/jsonlite@1.8.8",
    "pkg:cran/cli@3.6.2",
    "pkg:opam/dune@3.12.2",
    "pkg:opam/yojson@2.1.2",
];

fn write_tree(root: &Path, files: &[(&str, &str)]) {
    for (path, content) in files {
        let path = root.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, content).unwrap();
    }
}

fn fs_scan(root: &Path, format: &str) -> (i32, Value, String) {
    let out = bulwark(&[
        "fs",
        root.to_str().unwrap(),
        "--format",
        format,
        "--no-cache",
        "--quiet",
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let doc = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    (out.status.code().unwrap_or(-1), doc, stderr)
}

#[test]
fn issue_18_new_ecosystems_listed_in_cyclonedx() {
    let tmp = tempfile::tempdir().unwrap();
    write_tree(tmp.path(), FILES);
    let (code, bom, stderr) = fs_scan(tmp.path(), "cyclonedx");
    assert_eq!(code, 0, "{stderr}");
    let purls: BTreeSet<String> = bom["components"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["purl"].as_str().map(str::to_string))
        .collect();
    let want: BTreeSet<String> = WANT.iter().map(|s| s.to_string()).collect();
    assert_eq!(purls, want, "{bom:#}");
}

#[test]
fn issue_18_malformed_new_ecosystem_file_is_a_diagnostic_not_a_package() {
    let tmp = tempfile::tempdir().unwrap();
    write_tree(
        tmp.path(),
        &[
            ("app/mix.lock", "defmodule Broken do\n"),
            ("app/pubspec.lock", "packages: [unclosed\n"),
            (
                "app/cabal.project.freeze",
                "index-state: hackage.haskell.org 2023\n",
            ),
        ],
    );
    let (code, report, stderr) = fs_scan(tmp.path(), "json");
    assert_eq!(code, 3, "{stderr}");
    assert!(
        report["packages"].as_array().is_none_or(|p| p.is_empty()),
        "{report:#}"
    );
    let analyzers: BTreeSet<&str> = report["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|d| d["analyzer"].as_str())
        .collect();
    assert_eq!(
        analyzers,
        BTreeSet::from(["dart", "haskell", "hex"]),
        "{report:#}"
    );
}
