//! Uploads: bulwark, syft and Trivy-format documents accepted and matched server-side (OS
//! packages included), idempotency, and bad input refused with nothing stored.

use bulwark_store::testing::databases;
use serde_json::json;

use crate::common::{debian_advisory, fixture, TestServer, ADMIN};

/// A bulwark report (bulwark.report/v1) of the syft fixture's packages, as `bulwark sbom`
/// writes it.
fn bulwark_report() -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    let sbom = dir.path().join("sbom.json");
    std::fs::write(&sbom, fixture("syft-minbase.cdx.json")).unwrap();
    let scan = bulwark_scan::SbomScan {
        file: sbom,
        max_bytes: 1 << 30,
        advisories: None,
        advisories_required: false,
        policy: bulwark_scan::PolicySettings::default(),
    };
    let outcome = scan
        .run(&bulwark_scan::NoopSink, &bulwark_scan::CancelToken::new())
        .unwrap();
    let mut out = Vec::new();
    bulwark_report::write_to(
        &outcome.report,
        bulwark_report::Format::Json,
        bulwark_report::RenderOptions::default(),
        &mut out,
    )
    .unwrap();
    out
}

#[test]
fn bulwark_syft_and_trivy_documents_are_matched_server_side_os_packages_included() {
    let report = bulwark_report();
    for db in databases() {
        let server = TestServer::start(&db);
        server.import_advisory(
            &debian_advisory("DSA-9999-1", "CVE-2099-0001", "coreutils", "9.1-2"),
            "test",
        );
        let uploads: [(&str, Vec<u8>, &str); 4] = [
            ("syft-cdx", fixture("syft-minbase.cdx.json"), "cyclonedx"),
            ("syft-spdx", fixture("syft-minbase.spdx.json"), "spdx"),
            ("trivy-cdx", fixture("trivy-minbase.cdx.json"), "cyclonedx"),
            ("bulwark", report.clone(), "bulwark-report"),
        ];
        for (asset, body, format) in uploads {
            let (status, reply) =
                server.post(&format!("/api/v1/reports?asset={asset}"), ADMIN, &body);
            assert_eq!(status, 201, "{} {asset}: {reply}", server.db);
            assert_eq!(reply["format"], format, "{} {asset}", server.db);
            assert_eq!(reply["matched_by"], "server", "{} {asset}", server.db);
            assert!(
                reply.get("warning").is_none(),
                "{} {asset}: {reply}",
                server.db
            );
            assert!(
                reply["components"].as_u64().unwrap() > 50,
                "{} {asset}: {reply}",
                server.db
            );
            let uuid = reply["asset"]["uuid"].as_str().unwrap();
            let (status, findings) = server.get(&format!("/api/v1/assets/{uuid}/findings"), ADMIN);
            assert_eq!(status, 200, "{}: {findings}", server.db);
            let ids: Vec<&str> = findings["items"]
                .as_array()
                .unwrap()
                .iter()
                .filter_map(|f| f["vuln_id"].as_str())
                .collect();
            assert_eq!(
                ids,
                ["CVE-2099-0001"],
                "{} {asset}: the OS package coreutils matched",
                server.db
            );
        }
        // Idempotent: the same document again is the same version, nothing new.
        let (status, again) = server.post(
            "/api/v1/reports?asset=syft-cdx",
            ADMIN,
            &fixture("syft-minbase.cdx.json"),
        );
        assert_eq!(status, 200, "{}: {again}", server.db);
        assert_eq!(again["duplicate"], true, "{}", server.db);
        assert_eq!(again["events"], 0, "{}", server.db);
        let uuid = again["asset"]["uuid"].as_str().unwrap();
        let (_, versions) = server.get(&format!("/api/v1/assets/{uuid}/versions"), ADMIN);
        assert_eq!(versions["total"], 1, "{}: {versions}", server.db);
        // The portfolio counts it.
        let (_, assets) = server.get("/api/v1/assets?name=syft-cdx", ADMIN);
        assert_eq!(assets["total"], 1, "{}", server.db);
        assert_eq!(
            assets["items"][0]["counts"]["critical"], 1,
            "{}: {assets}",
            server.db
        );
        // Sorted worst first (the three other uploads have the same critical count; names break
        // the tie), and a sort the API does not know is a 400 naming the choices.
        let (status, worst) = server.get("/api/v1/assets?sort=severity&limit=2", ADMIN);
        assert_eq!(status, 200, "{}: {worst}", server.db);
        let names: Vec<&str> = worst["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|a| a["name"].as_str())
            .collect();
        assert_eq!(names, ["bulwark", "syft-cdx"], "{}: {worst}", server.db);
        let (status, bad) = server.get("/api/v1/assets?sort=bogus", ADMIN);
        assert_eq!(status, 400, "{}: {bad}", server.db);
        assert!(
            bad.to_string().contains("last_seen"),
            "{}: {bad}",
            server.db
        );
    }
}

/// Before any advisory import, an SBOM's zero findings is not an all-clear: the reply says it
/// was not matched (and warns); a bulwark report keeps its own findings and says so. The first
/// import rematches both.
#[test]
fn uploads_before_any_advisory_import_say_they_were_not_matched() {
    let report = bulwark_report();
    for db in databases() {
        let server = TestServer::start(&db);
        let (status, sbom) = server.post(
            "/api/v1/reports?asset=early-sbom",
            ADMIN,
            &fixture("syft-minbase.cdx.json"),
        );
        assert_eq!(status, 201, "{}: {sbom}", server.db);
        assert_eq!(sbom["findings"], 0, "{}: {sbom}", server.db);
        assert_eq!(sbom["matched_by"], "not-matched", "{}: {sbom}", server.db);
        let warning = sbom["warning"].as_str().unwrap_or_default();
        assert!(
            warning.contains("not matched") && warning.contains("advisories/import"),
            "{}: the warning tells what to do: {sbom}",
            server.db
        );
        let (status, own) = server.post("/api/v1/reports?asset=early-report", ADMIN, &report);
        assert_eq!(status, 201, "{}: {own}", server.db);
        assert_eq!(own["matched_by"], "uploaded-report", "{}: {own}", server.db);
        assert!(own["warning"].is_string(), "{}: {own}", server.db);

        server.import_advisory(
            &debian_advisory("DSA-9999-1", "CVE-2099-0001", "coreutils", "9.1-2"),
            "test",
        );
        let uuid = sbom["asset"]["uuid"].as_str().unwrap().to_string();
        server.wait_for(std::time::Duration::from_secs(30), || {
            let (_, findings) = server.get(&format!("/api/v1/assets/{uuid}/findings"), ADMIN);
            (findings["total"] == 1).then_some(())
        });
        let (_, again) = server.post(
            "/api/v1/reports?asset=early-sbom-2",
            ADMIN,
            &fixture("syft-minbase.cdx.json"),
        );
        assert_eq!(again["matched_by"], "server", "{}: {again}", server.db);
        assert_eq!(again["findings"], 1, "{}: {again}", server.db);
    }
}

#[test]
fn malformed_oversized_and_unauthorised_uploads_are_4xx_and_store_nothing() {
    for db in databases() {
        let server = TestServer::start_with(&db, |c| c.max_body_size = 128 * 1024);
        let reader = server.token("reader", &["read"], None);
        let cases: Vec<(&str, Vec<u8>, &str, u16)> = vec![
            ("not json", b"{not json".to_vec(), ADMIN, 400),
            ("empty", Vec::new(), ADMIN, 400),
            (
                "json, not an SBOM",
                br#"{"hello": "world"}"#.to_vec(),
                ADMIN,
                400,
            ),
            ("an array", b"[1, 2, 3]".to_vec(), ADMIN, 400),
            (
                "truncated CycloneDX",
                fixture("syft-minbase.cdx.json")[..2000].to_vec(),
                ADMIN,
                400,
            ),
            ("no scope", fixture("trivy-minbase.cdx.json"), &reader, 403),
            (
                "bad token",
                fixture("trivy-minbase.cdx.json"),
                "bwk_nope",
                401,
            ),
        ];
        for (what, body, token, expected) in cases {
            let (status, reply) = server.post("/api/v1/reports?asset=x", token, &body);
            assert_eq!(status, expected, "{} {what}: {reply}", server.db);
            assert!(
                reply["error"]["message"]
                    .as_str()
                    .is_some_and(|m| !m.is_empty()),
                "{} {what}: a JSON error with a message: {reply}",
                server.db
            );
        }
        // Oversized: the server answers 413 from the declared length and closes the
        // connection, so a client still writing its body may see the reset before the reply
        // (ureq did, now and then). Declare the length and send only a little of the body.
        let (status, reply) = post_declaring_length(&server.url, ADMIN, 300 * 1024);
        assert_eq!(status, 413, "{} oversized: {reply}", server.db);
        assert!(
            reply.contains("\"message\""),
            "{} oversized: a JSON error with a message: {reply}",
            server.db
        );
        let (_, assets) = server.get("/api/v1/assets", ADMIN);
        assert_eq!(
            assets["total"], 0,
            "{}: nothing stored: {assets}",
            server.db
        );
    }
}

/// A POST whose `Content-Length` says `declared` bytes, of which only 1 KiB is sent before
/// the reply is read: status and body.
fn post_declaring_length(url: &str, token: &str, declared: usize) -> (u16, String) {
    use std::io::{Read, Write};
    let addr = url.trim_start_matches("http://").trim_end_matches('/');
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(30)))
        .unwrap();
    let head = format!(
        "POST /api/v1/reports?asset=x HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: application/json\r\nContent-Length: {declared}\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).unwrap();
    stream.write_all(&[b' '; 1024]).unwrap();
    let mut answer = Vec::new();
    // The server may reset after its reply: what was read before counts.
    let _ = stream.read_to_end(&mut answer);
    let text = String::from_utf8_lossy(&answer).into_owned();
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (status, text)
}

#[test]
fn sql_looking_names_are_data() {
    for db in databases() {
        let server = TestServer::start(&db);
        let name = "x'; DROP TABLE assets; --";
        let query: String = url_encode(name);
        let (status, reply) = server.post(
            &format!("/api/v1/reports?asset={query}&team={query}"),
            ADMIN,
            &fixture("trivy-minbase.cdx.json"),
        );
        assert_eq!(status, 201, "{}: {reply}", server.db);
        assert_eq!(reply["asset"]["name"], name, "{}", server.db);
        let (_, assets) = server.get(&format!("/api/v1/assets?name={query}"), ADMIN);
        assert_eq!(assets["items"][0]["name"], name, "{}: {assets}", server.db);
        assert_eq!(
            assets["items"][0]["team"]["name"], name,
            "{}: {assets}",
            server.db
        );
        let (status, _) = server.post_json(
            "/api/v1/teams",
            ADMIN,
            &json!({"name": "'); DELETE FROM tokens; --"}),
        );
        assert_eq!(status, 201, "{}", server.db);
        let (status, _) = server.get("/api/v1/tokens", ADMIN);
        assert_eq!(status, 200, "{}: tokens still there", server.db);
    }
}

pub fn url_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}
