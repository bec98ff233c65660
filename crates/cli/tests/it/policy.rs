//! Policy through the CLI: bulwark.yaml (errors, precedence), ignore rules with expiry, VEX in
//! all three formats, licence policy, and every gate's exit code and message. Vulnerabilities
//! come from the repo's real advisory test data (crates/vulndb/tests/data, see its
//! ATTRIBUTION.md): Debian's tracker says CVE-2023-5678 affects openssl 3.0.11-1~deb12u2 in
//! bookworm, so both binary packages built from it (libssl3, openssl) carry it.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use crate::util::*;

const CVE: &str = "CVE-2023-5678";

/// A token-shaped AWS key id made at run time (no secret-looking literal in the source).
fn fake_aws_key() -> String {
    let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut x: u64 = 0x9e3779b97f4a7c15;
    let mut s = String::from("AKIA");
    for _ in 0..16 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        s.push(alphabet[(x % 32) as usize] as char);
    }
    s
}

fn copyright(license: &str) -> Vec<u8> {
    format!(
        "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n\nFiles: *\nLicense: {license}\n"
    )
    .into_bytes()
}

/// A Debian 12 image: libssl3 and openssl (both from source openssl), libreadline8 (GPL-3+),
/// and an AWS key in /app/config.env. Returns the `oci:` reference and the manifest digest.
fn image(dir: &Path) -> (String, String) {
    let status = [
        dpkg_stanza("libssl3", "3.0.11-1~deb12u2", Some("openssl")),
        dpkg_stanza("openssl", "3.0.11-1~deb12u2", None),
        dpkg_stanza("libreadline8", "8.2-1.3", Some("readline")),
    ]
    .concat();
    let layer = LayerBuilder::new()
        .file("etc/os-release", os_release_debian())
        .file("var/lib/dpkg/status", status.as_bytes())
        .file(
            "var/lib/dpkg/info/libssl3:amd64.list",
            b"/.\n/usr/lib/x86_64-linux-gnu/libssl.so.3\n",
        )
        .file("var/lib/dpkg/info/openssl.list", b"/.\n/usr/bin/openssl\n")
        .file("usr/share/doc/libssl3/copyright", &copyright("Apache-2.0"))
        .file("usr/share/doc/openssl/copyright", &copyright("Apache-2.0"))
        .file("usr/share/doc/libreadline8/copyright", &copyright("GPL-3+"))
        .file(
            "app/config.env",
            format!("AWS_ACCESS_KEY_ID={}\n", fake_aws_key()).as_bytes(),
        )
        .finish();
    let oci = dir.join("oci");
    let written = ImageBuilder::new()
        .layer(layer, Compression::Gzip, "RUN apt-get install -y openssl")
        .write_oci(&oci);
    (format!("oci:{}", oci.display()), written.manifest_digest)
}

/// Runs bulwark in `cwd` with only the `BULWARK_*` variables given, returns (code, stdout,
/// stderr).
fn run_in(cwd: &Path, args: &[&str], env: &[(&str, &str)]) -> (i32, String, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_bulwark"));
    cmd.current_dir(cwd).args(args);
    for (k, _) in std::env::vars() {
        if k.starts_with("BULWARK_") {
            cmd.env_remove(k);
        }
    }
    cmd.env("BULWARK_DB_DIR", cwd.join("no-db"))
        .env("BULWARK_NO_CACHE", "true")
        .env("SOURCE_DATE_EPOCH", "1700000000");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("the bulwark binary runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn json(stdout: &str) -> Value {
    serde_json::from_str(stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {stdout}"))
}

/// `(package, id)` of every reported vulnerability with id CVE.
fn cve_packages(report: &Value) -> Vec<String> {
    let mut v: Vec<String> = report["vulnerabilities"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["ids"].as_array().unwrap().iter().any(|i| i == CVE))
        .map(|f| f["package"]["name"].as_str().unwrap().to_string())
        .collect();
    v.sort();
    v
}

struct Fixture {
    tmp: tempfile::TempDir,
    reference: String,
    digest: String,
    db: PathBuf,
}

fn fixture() -> Fixture {
    let tmp = tempfile::tempdir().unwrap();
    let (reference, digest) = image(tmp.path());
    let db = advisory_db(tmp.path());
    Fixture {
        tmp,
        reference,
        digest,
        db,
    }
}

impl Fixture {
    fn dir(&self) -> &Path {
        self.tmp.path()
    }

    fn scan(&self, extra: &[&str], env: &[(&str, &str)]) -> (i32, String, String) {
        let mut args = vec![
            "image",
            self.reference.as_str(),
            "--db-dir",
            self.db.to_str().unwrap(),
        ];
        args.extend_from_slice(extra);
        run_in(self.dir(), &args, env)
    }

    fn write(&self, name: &str, text: &str) -> String {
        let p = self.dir().join(name);
        std::fs::write(&p, text).unwrap();
        p.display().to_string()
    }
}

#[test]
fn the_fixture_really_has_the_cve_on_both_packages() {
    let f = fixture();
    let (code, out, err) = f.scan(&["--format", "json"], &[]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(cve_packages(&json(&out)), vec!["libssl3", "openssl"]);
}

#[test]
fn config_errors_name_file_line_and_key_before_any_scan() {
    let f = fixture();
    let cases: &[(&str, &str)] = &[
        ("format: json\ncolour: red\n", "bulwark.yaml:2:1: colour: unknown field `colour`"),
        ("format: json\nno-cache: sometimes\n", "bulwark.yaml:2:11: no-cache: invalid type: string \"sometimes\", expected a boolean"),
        (
            "ignores:\n  - id: CVE-1\n    reason: a\n  - id: CVE-2\n    reason: b\n  - id: CVE-3\n    reason: c\n    expires: 2025-13-01\n",
            "bulwark.yaml:8:14: ignores[2].expires: invalid date \"2025-13-01\" (expected YYYY-MM-DD)",
        ),
        ("gates:\n  vulnerabilities: {severity: urgent}\n", "bulwark.yaml:2:31: gates.vulnerabilities.severity: unknown severity \"urgent\""),
        ("ignores:\n  - id: CVE-1\n", "ignores[0]: every ignore rule needs a `reason`"),
    ];
    for (text, expected) in cases {
        f.write("bulwark.yaml", text);
        let (code, out, err) = f.scan(&["--format", "json"], &[]);
        assert_eq!(code, 2, "{text}: {err}");
        assert!(
            err.contains(expected),
            "{text}\nwanted {expected}\ngot {err}"
        );
        assert!(out.is_empty(), "no scan ran: {out}");
    }
    let e = "bulwark.yaml:2:1: colour";
    f.write("bulwark.yaml", "format: json\ncolour: red\n");
    let (_, _, err) = f.scan(&[], &[]);
    assert!(err.contains("unknown field `colour`"), "{e}: {err}");
    std::fs::remove_file(f.dir().join("bulwark.yaml")).unwrap();

    let (code, _, err) = f.scan(&["--config", "missing.yaml"], &[]);
    assert_eq!(code, 2);
    assert!(
        err.contains("cannot read the config file missing.yaml"),
        "{err}"
    );

    let bad_vex = f.write("bad.vex.json", "{\"@context\": \"https://openvex.dev/ns\",\n\"statements\": [{\"vulnerability\": {\"name\": \"CVE-1\"}, \"status\": \"perhaps\"}]}");
    let (code, out, err) = f.scan(&["--vex", &bad_vex], &[]);
    assert_eq!(code, 2);
    assert!(out.is_empty());
    assert!(
        err.contains("bad.vex.json: line 2: statements[0].status: unknown variant `perhaps`"),
        "{err}"
    );
    let (code, _, err) = f.scan(&["--vex", "nope.json"], &[]);
    assert_eq!(code, 2);
    assert!(
        err.contains("cannot read the VEX document nope.json"),
        "{err}"
    );

    f.write(
        ".bulwarkignore",
        "# rules\nCVE-1 expires=2025-02-30 # reason\n",
    );
    let (code, _, err) = f.scan(&[], &[]);
    assert_eq!(code, 2);
    assert!(
        err.contains(".bulwarkignore:2:7: expires: invalid date \"2025-02-30\""),
        "{err}"
    );
}

#[test]
fn flag_beats_env_beats_config_beats_default() {
    let f = fixture();
    f.write(
        "bulwark.yaml",
        "format: table\ngates:\n  secrets: true\nexit-code: 7\n",
    );
    let (code, out, _) = f.scan(&[], &[]);
    assert_eq!(code, 7, "config");
    assert!(
        !out.starts_with('{') && out.contains("gate secrets"),
        "table from config: {out}"
    );
    let (code, out, _) = f.scan(
        &[],
        &[("BULWARK_FORMAT", "json"), ("BULWARK_EXIT_CODE", "8")],
    );
    assert_eq!(code, 8, "env over config");
    assert!(out.starts_with('{'));
    let (code, out, _) = f.scan(
        &["--format", "table", "--exit-code", "9"],
        &[("BULWARK_FORMAT", "json"), ("BULWARK_EXIT_CODE", "8")],
    );
    assert_eq!(code, 9, "flag over env");
    assert!(!out.starts_with('{'));
    // A config elsewhere, named by the variable; its relative paths are its own.
    let sub = f.dir().join("conf");
    std::fs::create_dir_all(&sub).unwrap();
    std::fs::write(sub.join("bulwark.yaml"), "format: json\noutput: out.json\n").unwrap();
    std::fs::remove_file(f.dir().join("bulwark.yaml")).unwrap();
    let (code, out, err) = f.scan(
        &[],
        &[("BULWARK_CONFIG", sub.join("bulwark.yaml").to_str().unwrap())],
    );
    assert_eq!(code, 0, "{err}");
    assert!(out.is_empty());
    let written = std::fs::read_to_string(sub.join("out.json")).unwrap();
    assert!(json(&written)["packages"].as_array().unwrap().len() == 3);
}

#[test]
fn expired_ignores_stop_applying_and_unmatched_ones_are_reported() {
    let f = fixture();
    f.write(
        "bulwark.yaml",
        &format!(
            "format: json\nignores:\n  - id: {CVE}\n    package: pkg:deb/debian/libssl3\n    reason: DH keys never generated\n    expires: 2099-12-31\n  - id: {CVE}\n    package: openssl\n    reason: old decision\n    expires: 2020-01-01\n  - package: pkg:npm/left-pad\n    reason: removed long ago\n  - fingerprint: 0000\n    reason: a key that is gone\n"
        ),
    );
    let (code, out, err) = f.scan(&[], &[]);
    assert_eq!(code, 0, "{err}");
    let report = json(&out);
    assert_eq!(
        cve_packages(&report),
        vec!["openssl"],
        "the expired rule no longer hides openssl's"
    );
    let suppressed = report["suppressed"].as_array().unwrap();
    assert_eq!(suppressed.len(), 1, "{suppressed:#?}");
    assert_eq!(suppressed[0]["id"], CVE);
    assert_eq!(suppressed[0]["source"], "ignore");
    assert_eq!(suppressed[0]["origin"], "bulwark.yaml ignores[0]");
    assert!(suppressed[0]["target"]
        .as_str()
        .unwrap()
        .starts_with("pkg:deb/debian/libssl3@"));
    let states: Vec<(&str, &str)> = report["ignore_rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["origin"].as_str().unwrap(), r["state"].as_str().unwrap()))
        .collect();
    assert_eq!(
        states,
        vec![
            ("bulwark.yaml ignores[0]", "applied"),
            ("bulwark.yaml ignores[1]", "expired"),
            ("bulwark.yaml ignores[2]", "unmatched"),
            ("bulwark.yaml ignores[3]", "unmatched"),
        ]
    );
    assert!(
        err.contains("warning: bulwark.yaml ignores[1]: ignore rule (id=CVE-2023-5678 package=openssl) expired on 2020-01-01 and no longer applies; 1 finding it matched is reported again"),
        "{err}"
    );
    assert!(err.contains("warning: bulwark.yaml ignores[2]: ignore rule (package=pkg:npm/left-pad) matched nothing"), "{err}");

    // The same through .bulwarkignore, by path glob and secret fingerprint.
    std::fs::remove_file(f.dir().join("bulwark.yaml")).unwrap();
    let (_, out, _) = f.scan(&["--format", "json"], &[]);
    let fingerprint = json(&out)["secrets"][0]["fingerprint"]
        .as_str()
        .unwrap()
        .to_string();
    f.write(
        ".bulwarkignore",
        &format!("path=/usr/bin/* id={CVE} # openssl CLI not used\nfingerprint={fingerprint} # test key\n"),
    );
    let (_, out, err) = f.scan(&["--format", "json"], &[]);
    let report = json(&out);
    assert_eq!(cve_packages(&report), vec!["libssl3"], "{err}");
    assert!(report["secrets"].as_array().unwrap().is_empty());
    assert!(!err.contains("warning: .bulwarkignore"), "{err}");
}

fn vex_documents(digest: &str) -> Vec<(&'static str, String)> {
    let openvex = format!(
        r#"{{"@context": "https://openvex.dev/ns/v0.2.0", "@id": "https://example.invalid/vex/1",
  "author": "bulwark tests", "timestamp": "2024-01-01T00:00:00Z", "version": 1,
  "statements": [{{"vulnerability": {{"name": "{CVE}"}},
    "products": [{{"@id": "pkg:oci/app@{digest}", "subcomponents": [{{"@id": "pkg:deb/debian/libssl3"}}]}}],
    "status": "not_affected", "justification": "vulnerable_code_not_in_execute_path",
    "impact_statement": "DH keys are never generated"}}]}}"#
    );
    let cyclonedx = format!(
        r#"{{"bomFormat": "CycloneDX", "specVersion": "1.6", "version": 1,
  "components": [{{"type": "library", "bom-ref": "libssl3", "name": "libssl3",
                   "purl": "pkg:deb/debian/libssl3@3.0.11-1~deb12u2?arch=amd64"}}],
  "vulnerabilities": [{{"id": "{CVE}", "analysis": {{"state": "not_affected",
     "justification": "code_not_reachable", "detail": "DH keys are never generated"}},
     "affects": [{{"ref": "libssl3"}}]}}]}}"#
    );
    let csaf = format!(
        r#"{{"document": {{"category": "csaf_vex", "csaf_version": "2.0", "title": "t",
     "publisher": {{"category": "vendor", "name": "tests", "namespace": "https://example.invalid"}},
     "tracking": {{"id": "T-1", "current_release_date": "2024-01-01T00:00:00Z"}}}},
  "product_tree": {{"branches": [{{"category": "vendor", "name": "Debian", "branches": [
     {{"category": "product_name", "name": "Debian 12", "product": {{"name": "Debian 12", "product_id": "D12",
        "product_identification_helper": {{"cpe": "cpe:/o:debian:debian_linux:12"}}}}}},
     {{"category": "product_version", "name": "libssl3", "product": {{"name": "libssl3", "product_id": "LIBSSL3",
        "product_identification_helper": {{"purl": "pkg:deb/debian/libssl3@3.0.11-1~deb12u2"}}}}}}]}}],
    "relationships": [{{"category": "default_component_of",
       "full_product_name": {{"name": "libssl3 in Debian 12", "product_id": "D12:LIBSSL3"}},
       "product_reference": "LIBSSL3", "relates_to_product_reference": "D12"}}]}},
  "vulnerabilities": [{{"cve": "{CVE}", "product_status": {{"known_not_affected": ["D12:LIBSSL3"]}},
     "flags": [{{"label": "vulnerable_code_not_in_execute_path", "product_ids": ["D12:LIBSSL3"]}}],
     "threats": [{{"category": "impact", "details": "DH keys are never generated", "product_ids": ["D12:LIBSSL3"]}}]}}]}}"#
    );
    vec![
        ("openvex", openvex),
        ("cyclonedx", cyclonedx),
        ("csaf", csaf),
    ]
}

#[test]
fn vex_not_affected_suppresses_only_the_named_package_in_each_format() {
    let f = fixture();
    for (format, doc) in vex_documents(&f.digest) {
        let path = f.write(&format!("{format}.vex.json"), &doc);
        let (code, out, err) = f.scan(&["--format", "json", "--vex", &path], &[]);
        assert_eq!(code, 0, "{format}: {err}");
        let report = json(&out);
        assert_eq!(
            cve_packages(&report),
            vec!["openssl"],
            "{format}: the same CVE on openssl stays"
        );
        let s: Vec<&Value> = report["suppressed"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|s| s["source"] == "vex")
            .collect();
        assert_eq!(s.len(), 1, "{format}: {s:#?}");
        assert!(s[0]["target"]
            .as_str()
            .unwrap()
            .starts_with("pkg:deb/debian/libssl3@"));
        let st = &s[0]["statement"];
        assert_eq!(st["format"], format);
        assert_eq!(st["status"], "not_affected");
        assert!(
            st["justification"].as_str().unwrap().contains("not"),
            "{format}: {st}"
        );
        assert_eq!(st["impact_statement"], "DH keys are never generated");
        assert!(st["document"]
            .as_str()
            .unwrap()
            .ends_with(&format!("{format}.vex.json")));
    }
    // An OpenVEX statement about another image does nothing here.
    let other = vex_documents(&format!("sha256:{}", "0".repeat(64)))
        .remove(0)
        .1;
    let path = f.write("other.vex.json", &other);
    let (_, out, _) = f.scan(&["--format", "json", "--vex", &path], &[]);
    assert_eq!(cve_packages(&json(&out)), vec!["libssl3", "openssl"]);
    // From bulwark.yaml, relative to it.
    f.write("bulwark.yaml", "vex: [csaf.vex.json]\nformat: json\n");
    let (_, out, _) = f.scan(&[], &[]);
    assert_eq!(cve_packages(&json(&out)), vec!["openssl"]);
}

#[test]
fn each_gate_fails_with_its_code_and_says_why() {
    let f = fixture();
    // Secrets.
    let (code, _, err) = f.scan(&["--format", "json", "--fail-on-secret"], &[]);
    assert_eq!(code, 1, "gates default to exit 1: {err}");
    assert!(
        err.contains("bulwark: gate failed: secrets: 1 secret at any severity: aws-access-key-id at /app/config.env:1 (exit 1)"),
        "{err}"
    );
    // Vulnerabilities, with a fix, named.
    let (code, out, err) = f.scan(
        &[
            "--format",
            "json",
            "--fail-on-vuln",
            "unknown",
            "--fail-on-fixable",
            "--exit-code",
            "4",
        ],
        &[],
    );
    assert_eq!(code, 4, "{err}");
    assert!(
        err.contains("bulwark: gate failed: vulnerabilities: "),
        "{err}"
    );
    assert!(err.contains("with a fix"), "{err}");
    assert!(
        err.contains("in libssl3 3.0.11-1~deb12u2") || err.contains("in openssl 3.0.11-1~deb12u2"),
        "{err}"
    );
    let report = json(&out);
    assert_eq!(report["gates"][0]["gate"], "vulnerabilities");
    assert_eq!(report["gates"][0]["passed"], false);
    // KEV: none of these are in the catalog; the gate passes and the scan exits 0.
    let (code, out, err) = f.scan(&["--format", "json", "--fail-on-kev"], &[]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(json(&out)["gates"][0]["passed"], true);
    // EPSS: a threshold nothing reaches passes; 0 catches everything scored.
    let (code, _, _) = f.scan(&["--format", "json", "--fail-on-epss", "1.0"], &[]);
    assert_eq!(code, 0);
    let (code, _, err) = f.scan(&["--format", "json", "--fail-on-epss", "2"], &[]);
    assert_eq!(code, 2, "{err}");
    // Licences: readline's GPL-3.0-or-later is denied by flag or config.
    let (code, out, err) = f.scan(
        &[
            "--format",
            "json",
            "--license-deny",
            "GPL-3.0-or-later",
            "--fail-on-license",
        ],
        &[],
    );
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("bulwark: gate failed: licenses: 1 package with a forbidden licence: libreadline8 8.2-1.3 (GPL-3.0-or-later)"),
        "{err}"
    );
    let report = json(&out);
    let lf = report["license_findings"].as_array().unwrap();
    assert_eq!(lf.len(), 1);
    assert_eq!(lf[0]["category"], "forbidden");
    assert_eq!(lf[0]["reason"], "denied: GPL-3.0-or-later");
    f.write(
        "bulwark.yaml",
        "licenses:\n  allow: [Apache-2.0, MIT]\ngates:\n  licenses: true\nexit-code: 6\n",
    );
    let (code, _, err) = f.scan(&["--format", "json"], &[]);
    assert_eq!(code, 6, "{err}");
    assert!(
        err.contains("not in the allow list") || err.contains("libreadline8"),
        "{err}"
    );
    std::fs::remove_file(f.dir().join("bulwark.yaml")).unwrap();
    // Misconfigurations: the image sets no USER (BW-IMG-001, high), so a high gate fails and
    // names it; nothing is critical, so a critical gate passes and says so.
    let (code, _, err) = f.scan(&["--format", "json", "--fail-on-misconfig", "high"], &[]);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("bulwark: gate failed: misconfigurations: ") && err.contains("BW-IMG-001"),
        "{err}"
    );
    let (code, out, err) = f.scan(
        &["--format", "json", "--fail-on-misconfig", "critical"],
        &[],
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        json(&out)["gates"][0]["reason"],
        "no misconfigurations at critical or above"
    );
    // Report-only: --exit-code 0 with a gate.
    let (code, _, err) = f.scan(
        &["--format", "json", "--fail-on-secret", "--exit-code", "0"],
        &[],
    );
    assert_eq!(code, 0);
    assert!(err.contains("(reported only: exit code 0)"), "{err}");
    // The original --exit-code/--severity gate still stands alone.
    let (code, _, err) = f.scan(
        &[
            "--format",
            "json",
            "--exit-code",
            "5",
            "--severity",
            "high,critical",
        ],
        &[],
    );
    assert_eq!(code, 5, "{err}");
    assert!(
        err.contains("gate failed: secrets: 1 secret at high, critical"),
        "{err}"
    );
    let (code, _, err) = f.scan(
        &["--format", "json", "--exit-code", "5", "--severity", "low"],
        &[],
    );
    assert_eq!(code, 0, "{err}");
}

#[test]
fn sbom_scans_apply_the_same_policy() {
    let f = fixture();
    let sbom = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/syft-debian-mini.cdx.json");
    let sbom = sbom.to_str().unwrap();
    let db = f.db.to_str().unwrap();
    let (code, out, err) = run_in(
        f.dir(),
        &["sbom", sbom, "--db-dir", db, "--format", "json"],
        &[],
    );
    assert_eq!(code, 0, "{err}");
    let before = json(&out);
    let first = &before["vulnerabilities"][0];
    let id = first["id"]
        .as_str()
        .expect("the Debian data matches this SBOM");
    let purl = first["package"]["purl"].as_str().unwrap();
    let name_only = purl.split('@').next().unwrap();
    let count = |r: &Value| {
        r["vulnerabilities"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|v| v["id"] == id)
            .count()
    };
    let vex = f.write(
        "sbom.vex.json",
        &format!(
            r#"{{"@context": "https://openvex.dev/ns/v0.2.0", "@id": "x", "author": "t", "timestamp": "2024-01-01T00:00:00Z", "version": 1,
  "statements": [{{"vulnerability": {{"name": "{id}"}}, "products": [{{"@id": "{name_only}"}}], "status": "fixed"}}]}}"#
        ),
    );
    let (code, out, err) = run_in(
        f.dir(),
        &[
            "sbom",
            sbom,
            "--db-dir",
            db,
            "--format",
            "json",
            "--vex",
            &vex,
            "--fail-on-vuln",
            "unknown",
            "--exit-code",
            "9",
        ],
        &[],
    );
    let after = json(&out);
    assert_eq!(
        count(&after),
        count(&before) - 1,
        "only {name_only}'s {id} went"
    );
    assert_eq!(after["suppressed"][0]["statement"]["status"], "fixed");
    assert_eq!(code, 9, "the gate judges what is left: {err}");
}
