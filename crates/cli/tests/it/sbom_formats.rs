//! CycloneDX 1.6 and SPDX 2.3 output, validated against the official JSON schemas vendored in
//! `schemas/`, plus the content a consumer relies on and byte-for-byte determinism.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::util::{
    bulwark, dpkg_stanza, os_release_debian, Compression, ImageBuilder, LayerBuilder,
};

const ZLIB_PURL: &str =
    "pkg:deb/debian/zlib1g@1:1.2.13.dfsg-1?arch=amd64&distro=debian-12&upstream=zlib";
/// A source version that differs goes into `upstream` as `name@version`, with the `@`
/// percent-encoded as qualifier values require (packageurl-python and -go write `%40` too).
const LIBSSL_PURL: &str = "pkg:deb/debian/libssl3@3.0.11-1~deb12u2?arch=amd64&distro=debian-12&upstream=openssl%403.0.11-1~deb12u1";
const UNKNOWN_LICENSE: &str = "LicenseRef-Acme-Proprietary-1.0";

fn schema_path(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../schemas")
        .join(rel)
}

fn load_json(path: &Path) -> Value {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_slice(&bytes).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Every error from validating `instance` against the schema at `main`, with `extra` schemas
/// registered under their `$id` (no network: the crate's HTTP and file resolvers are compiled
/// out, so an unregistered `$ref` fails to compile rather than being fetched).
fn schema_errors(main: &str, extra: &[&str], instance: &Value) -> Vec<String> {
    let schema = load_json(&schema_path(main));
    let mut options = jsonschema::options().should_validate_formats(true);
    for rel in extra {
        let contents = load_json(&schema_path(rel));
        let id = contents["$id"]
            .as_str()
            .unwrap_or_else(|| panic!("{rel} has an $id"))
            .to_string();
        let resource = jsonschema::Resource::from_contents(contents)
            .unwrap_or_else(|e| panic!("{rel} is a schema: {e}"));
        options = options.with_resource(id, resource);
    }
    let validator = options
        .build(&schema)
        .unwrap_or_else(|e| panic!("{main} compiles: {e}"));
    validator
        .iter_errors(instance)
        .map(|e| format!("  at {}: {e}", e.instance_path))
        .collect()
}

/// Fails listing every validation error.
fn validate(what: &str, main: &str, extra: &[&str], instance: &Value) {
    let errors = schema_errors(main, extra, instance);
    assert!(
        errors.is_empty(),
        "the {what} document does not validate against {main} ({} errors):\n{}\n--- document:\n{instance:#}",
        errors.len(),
        errors.join("\n")
    );
}

const CDX_MAIN: &str = "cyclonedx/bom-1.6.schema.json";
const CDX_EXTRA: &[&str] = &[
    "cyclonedx/spdx.schema.json",
    "cyclonedx/jsf-0.82.schema.json",
];
const SPDX_MAIN: &str = "spdx/spdx-schema-2.3.json";

fn validate_cyclonedx(bom: &Value) {
    validate("CycloneDX", CDX_MAIN, CDX_EXTRA, bom);
}

fn validate_spdx(doc: &Value) {
    validate("SPDX", SPDX_MAIN, &[], doc);
}

fn copyright(license: &str) -> String {
    format!(
        "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n\nFiles: *\nCopyright: 2024 Someone\nLicense: {license}\n"
    )
}

/// A Debian-like image in two layers: the base (os-release, a dpkg status with an epoch
/// version, `Source:` lines with and without a version, DEP-5 copyright files with a known
/// licence, an expression and an unknown name), and a second layer that installs curl.
fn debian_image(dir: &Path) {
    let base_packages = [
        dpkg_stanza("base-files", "12.4+deb12u5", None),
        dpkg_stanza("zlib1g", "1:1.2.13.dfsg-1", Some("zlib")),
        dpkg_stanza(
            "libssl3",
            "3.0.11-1~deb12u2",
            Some("openssl (3.0.11-1~deb12u1)"),
        ),
        dpkg_stanza("perl-base", "5.36.0-7+deb12u1", Some("perl")),
        dpkg_stanza("libacme1", "2.0-1", None),
    ]
    .concat();
    let base = LayerBuilder::new()
        .dir("etc")
        .file("etc/os-release", os_release_debian())
        .file("var/lib/dpkg/status", base_packages.as_bytes())
        .file(
            "usr/share/doc/base-files/copyright",
            copyright("GPL-2+").as_bytes(),
        )
        .file(
            "usr/share/doc/zlib1g/copyright",
            copyright("Zlib").as_bytes(),
        )
        .file(
            "usr/share/doc/perl-base/copyright",
            copyright("GPL-1+ or Artistic").as_bytes(),
        )
        .file(
            "usr/share/doc/libacme1/copyright",
            copyright("Acme-Proprietary-1.0").as_bytes(),
        )
        .finish();
    let with_curl = format!(
        "{base_packages}{}",
        dpkg_stanza("curl", "7.88.1-10+deb12u5", None)
    );
    let second = LayerBuilder::new()
        .file("var/lib/dpkg/status", with_curl.as_bytes())
        .file("usr/share/doc/curl/copyright", copyright("curl").as_bytes())
        .file(
            "var/lib/dpkg/info/curl.list",
            b"/.\n/usr\n/usr/bin\n/usr/bin/curl\n",
        )
        .file("usr/bin/curl", b"\x7fELF")
        .finish();
    ImageBuilder::new()
        .layer(base, Compression::Gzip, "ADD rootfs.tar /")
        .layer(second, Compression::Zstd, "RUN apt-get install -y curl")
        .write_oci(dir);
}

/// Runs a scan in `format`; returns the raw bytes of standard output.
fn render(dir: &Path, format: &str) -> Vec<u8> {
    let reference = format!("oci:{}", dir.display());
    let out = bulwark(&[
        "image",
        &reference,
        "--format",
        format,
        "--no-cache",
        "--quiet",
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    out.stdout
}

fn parse(bytes: &[u8]) -> Value {
    serde_json::from_slice(bytes).expect("the output is JSON")
}

/// name → purl from bulwark's own JSON report, the reference the SBOMs must agree with.
fn report_purls(dir: &Path) -> BTreeMap<String, String> {
    let report = parse(&render(dir, "json"));
    report["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["name"].as_str().unwrap().to_string(),
                p["purl"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn property<'a>(component: &'a Value, name: &str) -> Vec<&'a str> {
    component["properties"]
        .as_array()
        .map(|props| {
            props
                .iter()
                .filter(|p| p["name"] == name)
                .map(|p| p["value"].as_str().unwrap())
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn cyclonedx_validates_and_describes_the_image() {
    let tmp = tempfile::tempdir().unwrap();
    debian_image(tmp.path());
    let bom = parse(&render(tmp.path(), "cyclonedx"));
    validate_cyclonedx(&bom);

    assert_eq!(bom["bomFormat"], "CycloneDX");
    assert_eq!(bom["specVersion"], "1.6");
    assert_eq!(bom["metadata"]["timestamp"], "2023-11-14T22:13:20Z");
    let image = &bom["metadata"]["component"];
    assert_eq!(image["type"], "container", "{image:#}");
    assert!(image["version"].as_str().unwrap().starts_with("sha256:"));

    let components = bom["components"].as_array().unwrap();
    let os = components
        .iter()
        .find(|c| c["type"] == "operating-system")
        .expect("an operating-system component");
    assert_eq!(
        (os["name"].as_str(), os["version"].as_str()),
        (Some("debian"), Some("12"))
    );

    let libraries: BTreeMap<&str, &Value> = components
        .iter()
        .filter(|c| c["type"] == "library")
        .map(|c| (c["name"].as_str().unwrap(), c))
        .collect();
    let expected: BTreeSet<&str> = [
        "base-files",
        "curl",
        "libacme1",
        "libssl3",
        "perl-base",
        "zlib1g",
    ]
    .into_iter()
    .collect();
    assert_eq!(libraries.keys().copied().collect::<BTreeSet<_>>(), expected);

    // purls, the same as the JSON report's, with the epoch kept and the source as `upstream`.
    assert_eq!(libraries["zlib1g"]["purl"], ZLIB_PURL);
    assert_eq!(libraries["zlib1g"]["version"], "1:1.2.13.dfsg-1");
    assert_eq!(libraries["libssl3"]["purl"], LIBSSL_PURL);
    let purls = report_purls(tmp.path());
    for (name, c) in &libraries {
        assert_eq!(
            c["purl"].as_str(),
            purls.get(*name).map(String::as_str),
            "{name}"
        );
    }

    // The introducing layer, as a property.
    for (name, c) in &libraries {
        let want = if *name == "curl" { "1" } else { "0" };
        assert_eq!(
            property(c, "bulwark:layer:index"),
            vec![want],
            "{name}: {c:#}"
        );
        assert_eq!(property(c, "bulwark:layer:diff_id").len(), 1, "{name}");
    }
    assert_eq!(
        property(libraries["curl"], "bulwark:layer:created_by"),
        vec!["RUN apt-get install -y curl"]
    );
    assert_eq!(
        property(libraries["libssl3"], "bulwark:package:source_version"),
        vec!["3.0.11-1~deb12u1"]
    );

    // Licences: SPDX ids, an expression, and a name for what has no id.
    assert_eq!(
        libraries["base-files"]["licenses"],
        serde_json::json!([{"license": {"id": "GPL-2.0-or-later"}}])
    );
    assert_eq!(
        libraries["zlib1g"]["licenses"],
        serde_json::json!([{"license": {"id": "Zlib"}}])
    );
    assert_eq!(
        libraries["perl-base"]["licenses"],
        serde_json::json!([{"expression": "GPL-1.0-or-later OR Artistic-1.0-Perl"}])
    );
    assert_eq!(
        libraries["libacme1"]["licenses"],
        serde_json::json!([{"license": {"name": UNKNOWN_LICENSE}}])
    );
    assert!(libraries["libssl3"].get("licenses").is_none());

    // bom-refs are unique, and the image depends on every component.
    let refs: Vec<&str> = components
        .iter()
        .map(|c| c["bom-ref"].as_str().unwrap())
        .collect();
    let unique: BTreeSet<&str> = refs.iter().copied().collect();
    assert_eq!(unique.len(), refs.len(), "{refs:?}");
    let deps = bom["dependencies"].as_array().unwrap();
    let image_deps = deps
        .iter()
        .find(|d| d["ref"] == image["bom-ref"])
        .expect("the image's dependency entry");
    let depends: BTreeSet<&str> = image_deps["dependsOn"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(depends, unique);
}

#[test]
fn spdx_validates_and_accounts_for_every_package_and_license() {
    let tmp = tempfile::tempdir().unwrap();
    debian_image(tmp.path());
    let doc = parse(&render(tmp.path(), "spdx"));
    validate_spdx(&doc);

    assert_eq!(doc["spdxVersion"], "SPDX-2.3");
    assert_eq!(doc["creationInfo"]["created"], "2023-11-14T22:13:20Z");
    let packages = doc["packages"].as_array().unwrap();
    let ids: Vec<&str> = packages
        .iter()
        .map(|p| p["SPDXID"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids.iter().copied().collect::<BTreeSet<_>>().len(),
        ids.len(),
        "SPDXIDs are unique: {ids:?}"
    );
    let image = packages
        .iter()
        .find(|p| p["primaryPackagePurpose"] == "CONTAINER")
        .expect("a CONTAINER package for the image");
    let image_id = image["SPDXID"].as_str().unwrap();
    assert_eq!(doc["documentDescribes"], serde_json::json!([image_id]));

    let relationships = doc["relationships"].as_array().unwrap();
    let has = |from: &str, kind: &str, to: &str| {
        relationships.iter().any(|r| {
            r["spdxElementId"] == from
                && r["relationshipType"] == kind
                && r["relatedSpdxElement"] == to
        })
    };
    assert!(has("SPDXRef-DOCUMENT", "DESCRIBES", image_id));
    let os = packages
        .iter()
        .find(|p| p["primaryPackagePurpose"] == "OPERATING_SYSTEM")
        .expect("an OPERATING_SYSTEM package");
    assert_eq!(
        (os["name"].as_str(), os["versionInfo"].as_str()),
        (Some("debian"), Some("12"))
    );
    assert!(has(image_id, "CONTAINS", os["SPDXID"].as_str().unwrap()));

    // Every inventory package: a purl externalRef agreeing with the JSON report, and CONTAINS.
    let purls = report_purls(tmp.path());
    let libraries: Vec<&Value> = packages
        .iter()
        .filter(|p| p["primaryPackagePurpose"] == "LIBRARY")
        .collect();
    assert_eq!(libraries.len(), purls.len());
    for p in &libraries {
        let name = p["name"].as_str().unwrap();
        let refs: Vec<&Value> = p["externalRefs"]
            .as_array()
            .unwrap_or_else(|| panic!("{name} has externalRefs"))
            .iter()
            .filter(|r| r["referenceType"] == "purl")
            .collect();
        assert_eq!(refs.len(), 1, "{name}: {p:#}");
        assert_eq!(refs[0]["referenceCategory"], "PACKAGE-MANAGER");
        assert_eq!(
            refs[0]["referenceLocator"].as_str(),
            purls.get(name).map(String::as_str)
        );
        let id = p["SPDXID"].as_str().unwrap();
        assert!(has(image_id, "CONTAINS", id), "{image_id} CONTAINS {id}");
    }
    let zlib = libraries.iter().find(|p| p["name"] == "zlib1g").unwrap();
    assert_eq!(zlib["versionInfo"], "1:1.2.13.dfsg-1");
    assert_eq!(zlib["externalRefs"][0]["referenceLocator"], ZLIB_PURL);
    assert_eq!(zlib["licenseDeclared"], "Zlib");
    let perl = libraries.iter().find(|p| p["name"] == "perl-base").unwrap();
    assert_eq!(
        perl["licenseDeclared"],
        "GPL-1.0-or-later OR Artistic-1.0-Perl"
    );
    let acme = libraries.iter().find(|p| p["name"] == "libacme1").unwrap();
    assert_eq!(acme["licenseDeclared"], UNKNOWN_LICENSE);

    // Every LicenseRef used anywhere is defined, and only those.
    let mut used = BTreeSet::new();
    for p in packages {
        for field in ["licenseDeclared", "licenseConcluded"] {
            if let Some(expr) = p[field].as_str() {
                for word in expr.split(|c: char| c.is_whitespace() || c == '(' || c == ')') {
                    if word.starts_with("LicenseRef-") {
                        used.insert(word.to_string());
                    }
                }
            }
        }
    }
    assert!(used.contains(UNKNOWN_LICENSE), "{used:?}");
    let defined: BTreeSet<String> = doc["hasExtractedLicensingInfos"]
        .as_array()
        .expect("hasExtractedLicensingInfos")
        .iter()
        .map(|l| {
            assert!(!l["extractedText"].as_str().unwrap().is_empty());
            l["licenseId"].as_str().unwrap().to_string()
        })
        .collect();
    assert_eq!(defined, used);
}

#[test]
fn sbom_outputs_are_byte_for_byte_deterministic() {
    let tmp = tempfile::tempdir().unwrap();
    debian_image(tmp.path());
    for format in ["cyclonedx", "spdx", "json"] {
        let first = render(tmp.path(), format);
        let second = render(tmp.path(), format);
        assert!(!first.is_empty());
        assert!(
            first == second,
            "two {format} renderings differ:\n{}\n---\n{}",
            String::from_utf8_lossy(&first),
            String::from_utf8_lossy(&second)
        );
    }
    // Document ids are derived from content, not random, which is what makes this possible.
    let bom = parse(&render(tmp.path(), "cyclonedx"));
    let serial = bom["serialNumber"].as_str().unwrap();
    assert!(
        serial.starts_with("urn:uuid:") && serial.len() == 45,
        "{serial}"
    );
}

#[test]
fn sboms_of_an_image_without_os_or_packages_still_validate() {
    let tmp = tempfile::tempdir().unwrap();
    ImageBuilder::new()
        .layer(
            LayerBuilder::new().file("hello", b"world").finish(),
            Compression::Gzip,
            "COPY hello /",
        )
        .write_oci(tmp.path());
    let bom = parse(&render(tmp.path(), "cyclonedx"));
    validate_cyclonedx(&bom);
    assert_eq!(bom["components"], serde_json::json!([]));
    let doc = parse(&render(tmp.path(), "spdx"));
    validate_spdx(&doc);
    assert!(doc.get("hasExtractedLicensingInfos").is_none());
}

/// The SPDX project's own validator, when installed (`pip install spdx-tools`).
#[test]
fn spdx_passes_pyspdxtools_when_available() {
    let probe = std::process::Command::new("pyspdxtools")
        .arg("--help")
        .output();
    if !probe.map(|o| o.status.success()).unwrap_or(false) {
        eprintln!("skipped: pyspdxtools is not installed (pip install spdx-tools)");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let image = tmp.path().join("image");
    debian_image(&image);
    let file = tmp.path().join("sbom.spdx.json");
    std::fs::write(&file, render(&image, "spdx")).unwrap();
    let out = std::process::Command::new("pyspdxtools")
        .arg("-i")
        .arg(&file)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "pyspdxtools rejects the document:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The validation above is not vacuous: documents broken in ways the schemas forbid (a
/// licence id that is not SPDX's, checked through the referenced spdx.schema.json; a bad
/// timestamp format; a bad package purpose) are rejected.
#[test]
fn schema_validation_rejects_broken_documents() {
    let tmp = tempfile::tempdir().unwrap();
    debian_image(tmp.path());

    let mut bom = parse(&render(tmp.path(), "cyclonedx"));
    let zlib = bom["components"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|c| c["name"] == "zlib1g")
        .unwrap();
    zlib["licenses"][0]["license"]["id"] = "Not-A-Licence".into();
    bom["metadata"]["timestamp"] = "yesterday".into();
    let errors = schema_errors(CDX_MAIN, CDX_EXTRA, &bom);
    assert!(
        errors
            .iter()
            .any(|e| e.contains("/licenses:") && e.contains("Not-A-Licence")),
        "{errors:#?}"
    );
    assert!(
        errors.iter().any(|e| e.contains("/metadata/timestamp")),
        "{errors:#?}"
    );

    let mut doc = parse(&render(tmp.path(), "spdx"));
    doc["packages"][0]["primaryPackagePurpose"] = "OPERATING-SYSTEM".into();
    doc["packages"][1].as_object_mut().unwrap().remove("SPDXID");
    let errors = schema_errors(SPDX_MAIN, &[], &doc);
    assert!(
        errors
            .iter()
            .any(|e| e.contains("/packages/0/primaryPackagePurpose")),
        "{errors:#?}"
    );
    assert!(errors.iter().any(|e| e.contains("SPDXID")), "{errors:#?}");
}
