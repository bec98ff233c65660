use super::*;
use bulwark_report::ImageIdentity;

fn data(name: &str) -> Vec<Statement> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/vex")
        .join(name);
    load(&path, DEFAULT_MAX_VEX_BYTES).unwrap()
}

fn identity() -> ImageIdentity {
    ImageIdentity {
        reference: "oci:/tmp/app".into(),
        repo_tags: vec!["registry.example/team/app:1.0".into()],
        manifest_digest: Some(bulwark_types::Digest::sha256_of_hex(&"ab".repeat(32)).unwrap()),
        config_digest: None,
        platform: None,
    }
}

fn purl(s: &str) -> Purl {
    s.parse().unwrap()
}

#[test]
fn openvex_spec_example() {
    let s = data("openvex-spec-minimal.json");
    assert_eq!(s.len(), 1);
    assert_eq!(s[0].vulnerability, "CVE-2023-12345");
    assert_eq!(s[0].status, Status::Fixed);
    assert_eq!(s[0].products.len(), 2);
    let set = VexSet { statements: s };
    let id = identity();
    let git = purl("pkg:apk/wolfi/git@2.39.0-r1?arch=x86_64&distro=wolfi");
    let image = ImageContext {
        identity: &id,
        packages: vec![&git],
    };
    let ids = vec!["CVE-2023-12345".to_string()];
    assert!(set.decide(&image, &ids, &git).is_some());
    let other_arch = purl("pkg:apk/wolfi/git@2.39.0-r1?arch=aarch64");
    assert!(set.decide(&image, &ids, &other_arch).is_none());
    let newer = purl("pkg:apk/wolfi/git@2.40.0-r0?arch=x86_64");
    assert!(set.decide(&image, &ids, &newer).is_none());
}

#[test]
fn cyclonedx_examples_resolve_refs() {
    let s = data("cyclonedx-vex.json");
    assert_eq!(s.len(), 1);
    assert_eq!(s[0].status, Status::NotAffected);
    assert_eq!(s[0].justification.as_deref(), Some("code_not_reachable"));
    assert_eq!(s[0].action.as_deref(), Some("will_not_fix"));
    assert!(s[0]
        .aliases
        .contains(&"SNYK-JAVA-COMFASTERXMLJACKSONCORE-1048302".to_string()));
    let Target::Purl(p) = &s[0].products[0].product else {
        panic!("the BOM-Link resolves to the purl after #")
    };
    assert_eq!(p.purl().name, "jackson-databind");

    let s = data("cyclonedx-cisa-case1-not-affected.json");
    assert_eq!(s[0].vulnerability, "CVE-2021-44228");
    assert!(matches!(&s[0].products[0].product, Target::Other(n) if n == "ABC"));
    let set = VexSet { statements: s };
    let id = identity();
    let log4j = purl("pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1");
    let image = ImageContext {
        identity: &id,
        packages: vec![&log4j],
    };
    assert!(
        set.decide(&image, &["CVE-2021-44228".into()], &log4j)
            .is_none(),
        "product ABC is not this image"
    );
}

#[test]
fn csaf_example_keeps_impact_text() {
    let s = data("csaf-2022-evd-uc-01-na-001.json");
    assert_eq!(s.len(), 1);
    assert_eq!(s[0].status, Status::NotAffected);
    assert_eq!(s[0].format, "csaf");
    assert_eq!(
        s[0].impact.as_deref(),
        Some("Class with vulnerable code was removed before shipping.")
    );
    assert!(
        matches!(&s[0].products[0].product, Target::Other(n) if n == "Example Company ABC 4.2")
    );
}

#[test]
fn openvex_subcomponents_need_the_product_to_be_this_image() {
    let doc = br#"{"@context": "https://openvex.dev/ns/v0.2.0", "@id": "x", "author": "a",
      "timestamp": "2024-01-01T00:00:00Z", "version": 1,
      "statements": [{"vulnerability": {"name": "CVE-1", "aliases": ["GHSA-1"]},
        "products": [{"@id": "pkg:oci/app@sha256:abababababababababababababababababababababababababababababababab",
                      "subcomponents": [{"@id": "pkg:deb/debian/libssl3"}]}],
        "status": "not_affected", "justification": "vulnerable_code_not_in_execute_path"},
       {"vulnerability": {"name": "CVE-2"},
        "products": [{"@id": "pkg:oci/other@sha256:cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd",
                      "subcomponents": [{"@id": "pkg:deb/debian/libssl3"}]}],
        "status": "not_affected", "justification": "component_not_present"},
       {"vulnerability": {"name": "CVE-3"},
        "products": [{"@id": "pkg:oci/app?tag=1.0"}], "status": "fixed"}]}"#;
    let set = VexSet {
        statements: parse(doc, "doc.json").unwrap(),
    };
    let id = identity();
    let libssl = purl("pkg:deb/debian/libssl3@3.0.11-1?arch=amd64");
    let openssl = purl("pkg:deb/debian/openssl@3.0.11-1?arch=amd64");
    let image = ImageContext {
        identity: &id,
        packages: vec![&libssl, &openssl],
    };
    // By alias too.
    assert!(set.decide(&image, &["GHSA-1".into()], &libssl).is_some());
    assert!(set.decide(&image, &["CVE-1".into()], &openssl).is_none());
    assert!(
        set.decide(&image, &["CVE-2".into()], &libssl).is_none(),
        "another image"
    );
    assert!(
        set.decide(&image, &["CVE-3".into()], &openssl).is_some(),
        "the whole image by name and tag"
    );
    let json = set.statements[0].to_json();
    assert_eq!(json["justification"], "vulnerable_code_not_in_execute_path");
    assert_eq!(json["status"], "not_affected");
}

#[test]
fn csaf_relationships_name_a_package_in_a_platform() {
    let doc = br#"{"document": {"category": "csaf_vex", "csaf_version": "2.0", "title": "t",
        "tracking": {"id": "T-1", "current_release_date": "2024-01-01T00:00:00Z"}},
      "product_tree": {
        "branches": [{"category": "vendor", "name": "Debian", "branches": [
          {"category": "product_name", "name": "Debian 12",
           "product": {"name": "Debian 12", "product_id": "DEB12",
                       "product_identification_helper": {"cpe": "cpe:/o:debian:debian_linux:12"}}},
          {"category": "product_version", "name": "libssl3",
           "product": {"name": "libssl3 3.0.11-1", "product_id": "LIBSSL3",
                       "product_identification_helper": {"purl": "pkg:deb/debian/libssl3@3.0.11-1"}}}]}],
        "relationships": [{"category": "default_component_of",
          "full_product_name": {"name": "libssl3 in Debian 12", "product_id": "DEB12:LIBSSL3"},
          "product_reference": "LIBSSL3", "relates_to_product_reference": "DEB12"}]},
      "vulnerabilities": [{"cve": "CVE-1",
        "product_status": {"known_not_affected": ["DEB12:LIBSSL3"]},
        "flags": [{"label": "vulnerable_code_not_present", "product_ids": ["DEB12:LIBSSL3"]}]}]}"#;
    let s = parse(doc, "csaf.json").unwrap();
    assert_eq!(
        s[0].justification.as_deref(),
        Some("vulnerable_code_not_present")
    );
    let set = VexSet { statements: s };
    let id = identity();
    let libssl = purl("pkg:deb/debian/libssl3@3.0.11-1?arch=amd64&distro=debian-12");
    let openssl = purl("pkg:deb/debian/openssl@3.0.11-1?arch=amd64");
    let image = ImageContext {
        identity: &id,
        packages: vec![&libssl, &openssl],
    };
    assert!(set.decide(&image, &["CVE-1".into()], &libssl).is_some());
    assert!(set.decide(&image, &["CVE-1".into()], &openssl).is_none());
}

#[test]
fn bad_documents_say_where() {
    let e = parse(b"{\"@context\": \"https://openvex.dev/ns\",\n \"statements\": [{\"vulnerability\": {\"name\": \"CVE-1\"},\n \"status\": \"maybe\"}]}", "v.json")
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with("VEX document v.json: line 3: statements[0].status: unknown variant `maybe`"),
        "{e}"
    );
    let e = parse(b"{\"bomFormat\": \"CycloneDX\", \"vulnerabilities\": [{\"id\": \"CVE-1\", \"analysis\": {\"state\": \"nope\"}}]}", "c.json")
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("vulnerabilities[0].analysis.state: unknown variant `nope`"),
        "{e}"
    );
    let e = parse(b"{\"document\": {\"csaf_version\": \"2.0\"}, \"vulnerabilities\": [{\"cve\": \"CVE-1\", \"product_status\": {\"fixed\": [\"P9\"]}}]}", "s.json")
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("vulnerabilities[0].product_status.fixed[0]: product id \"P9\" is not defined"),
        "{e}"
    );
    let e = parse(b"{\"statements\": [", "t.json")
        .unwrap_err()
        .to_string();
    assert!(e.contains("not JSON") && e.contains("line 1"), "{e}");
    let e = parse(b"{\"hello\": 1}", "u.json").unwrap_err().to_string();
    assert!(e.contains("not a VEX format"), "{e}");
    let e = load(Path::new("/nonexistent/vex.json"), DEFAULT_MAX_VEX_BYTES)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("cannot read the VEX document /nonexistent/vex.json"),
        "{e}"
    );
}

#[test]
fn the_newest_statement_wins() {
    let doc = br#"{"@context": "https://openvex.dev/ns/v0.2.0", "@id": "x", "author": "a",
      "timestamp": "2024-01-01T00:00:00Z", "version": 2,
      "statements": [
       {"vulnerability": {"name": "CVE-1"}, "products": [{"@id": "pkg:npm/a"}],
        "status": "affected", "timestamp": "2024-03-01T00:00:00+01:00"},
       {"vulnerability": {"name": "CVE-1"}, "products": [{"@id": "pkg:npm/a"}],
        "status": "not_affected", "justification": "component_not_present",
        "timestamp": "2024-02-01T00:00:00Z"},
       {"vulnerability": {"name": "CVE-2"}, "products": [{"@id": "pkg:npm/a"}],
        "status": "under_investigation", "timestamp": "2024-01-01T00:00:00Z"},
       {"vulnerability": {"name": "CVE-2"}, "products": [{"@id": "pkg:npm/a"}],
        "status": "fixed", "timestamp": "2024-01-02T00:00:00-05:00"}]}"#;
    let set = VexSet {
        statements: parse(doc, "d.json").unwrap(),
    };
    let id = identity();
    let a = purl("pkg:npm/a@1.0.0");
    let image = ImageContext {
        identity: &id,
        packages: vec![&a],
    };
    let one = set.decide(&image, &["CVE-1".into()], &a).unwrap();
    assert_eq!(one.status, Status::Affected, "listed first but newer");
    let two = set.decide(&image, &["CVE-2".into()], &a).unwrap();
    assert_eq!(two.status, Status::Fixed);
}

/// Issue 13.10: a VEX file is capped before it is read, and a document is never held as a
/// JSON tree: what the formats do not use (here 8 MiB of zeros) is skipped, not stored.
#[test]
fn large_documents_are_capped_and_unused_parts_skipped() {
    let dir = tempfile::tempdir().unwrap();
    let big = dir.path().join("big.json");
    std::fs::write(&big, vec![b' '; 4096]).unwrap();
    let e = load(&big, 1024).unwrap_err().to_string();
    assert!(
        e.contains("big.json")
            && e.contains("larger than the 1K limit")
            && e.contains("--max-vex-size"),
        "{e}"
    );
    let zeros = format!("[{}0]", "0,".repeat(4 << 20));
    let e = parse(zeros.as_bytes(), "zeros.json")
        .unwrap_err()
        .to_string();
    assert!(e.contains("not a VEX format"), "{e}");
    let doc = format!(
        r#"{{"@context": "https://openvex.dev/ns/v0.2.0", "@id": "x", "padding": [{}0],
          "statements": [{{"vulnerability": {{"name": "CVE-1"}},
            "products": [{{"@id": "pkg:npm/a"}}], "status": "not_affected",
            "justification": "component_not_present"}}]}}"#,
        "0,".repeat(4 << 20)
    );
    let statements = parse(doc.as_bytes(), "padded.json").unwrap();
    assert_eq!(statements.len(), 1);
}
