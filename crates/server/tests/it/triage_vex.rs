//! Triage: per finding, bulk, history, inheritance by a later digest, and the VEX export
//! (OpenVEX and CycloneDX) read back by bulwark's own VEX reader.

use bulwark_store::testing::databases;
use serde_json::json;

use crate::common::{debian_advisory, fixture, TestServer, ADMIN};

#[test]
fn triage_is_audited_inherited_and_exported_as_vex_bulwark_reads() {
    for db in databases() {
        let server = TestServer::start(&db);
        server.import_advisory(
            &debian_advisory("DSA-9999-4", "CVE-2099-0004", "coreutils", "9.1-2"),
            "test",
        );
        let triager = server.token("triager", &["read", "triage"], None);
        let (_, reply) = server.post(
            "/api/v1/reports?asset=web&version=sha256:1111",
            ADMIN,
            &fixture("syft-minbase.cdx.json"),
        );
        let uuid = reply["asset"]["uuid"].as_str().unwrap().to_string();
        let (_, findings) = server.get(&format!("/api/v1/assets/{uuid}/findings"), ADMIN);
        let finding = findings["items"][0]["id"].as_i64().unwrap();
        let purl = findings["items"][0]["purl"].as_str().unwrap().to_string();

        let (status, _) = server.send(
            "PUT",
            &format!("/api/v1/findings/{finding}/triage"),
            &triager,
            &serde_json::to_vec(&json!({"state": "IN_TRIAGE", "comment": "looking"})).unwrap(),
        );
        assert_eq!(status, 200, "{}", server.db);
        let (status, entry) = server.send(
            "PUT",
            &format!("/api/v1/findings/{finding}/triage"),
            &triager,
            &serde_json::to_vec(&json!({"state": "NOT_AFFECTED", "justification": "CODE_NOT_REACHABLE", "comment": "never called"})).unwrap(),
        );
        assert_eq!(status, 200, "{}: {entry}", server.db);
        let (status, bad) = server.send(
            "PUT",
            &format!("/api/v1/findings/{finding}/triage"),
            &triager,
            &serde_json::to_vec(&json!({"state": "MAYBE"})).unwrap(),
        );
        assert_eq!(status, 422, "{}: {bad}", server.db);
        let (_, history) = server.get(&format!("/api/v1/findings/{finding}/triage/history"), ADMIN);
        let states: Vec<&str> = history
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|h| h["state"].as_str())
            .collect();
        assert_eq!(states.len(), 2, "{}: {history}", server.db);
        assert!(
            history.to_string().contains("triager"),
            "{}: who: {history}",
            server.db
        );

        // A later digest of the same asset inherits the decision (suppressed).
        let (_, later) = server.post(
            "/api/v1/reports?asset=web&version=sha256:2222",
            ADMIN,
            &fixture("syft-minbase.spdx.json"),
        );
        assert_eq!(later["new_version"], true, "{}: {later}", server.db);
        let (_, open) = server.get(&format!("/api/v1/assets/{uuid}/findings"), ADMIN);
        assert_eq!(
            open["total"], 0,
            "{}: suppressed by inherited triage: {open}",
            server.db
        );
        let (_, all) = server.get(
            &format!("/api/v1/assets/{uuid}/findings?include_suppressed=true"),
            ADMIN,
        );
        assert_eq!(
            all["items"][0]["triage_state"], "NOT_AFFECTED",
            "{}: {all}",
            server.db
        );

        for format in ["openvex", "cyclonedx"] {
            let (status, vex) =
                server.get(&format!("/api/v1/assets/{uuid}/vex?format={format}"), ADMIN);
            assert_eq!(status, 200, "{} {format}: {vex}", server.db);
            let statements = bulwark_policy::vex::parse(&serde_json::to_vec(&vex).unwrap(), format)
                .unwrap_or_else(|e| panic!("{} {format}: bulwark reads it: {e}\n{vex}", server.db));
            assert_eq!(
                statements.len(),
                1,
                "{} {format}: {statements:?}",
                server.db
            );
            let text = format!("{statements:?}");
            assert!(
                text.contains("CVE-2099-0004"),
                "{} {format}: {text}",
                server.db
            );
            assert!(
                text.contains("NotAffected"),
                "{} {format}: {text}",
                server.db
            );
            assert!(
                text.contains(&purl.split('?').next().unwrap().to_string()),
                "{} {format}: {text}",
                server.db
            );
        }

        // Bulk triage.
        let (status, bulk) = server.post_json(
            "/api/v1/triage",
            &triager,
            &json!({"findings": [finding, 999_999], "state": "EXPLOITABLE", "response": "UPDATE"}),
        );
        assert_eq!(status, 200, "{}: {bulk}", server.db);
        assert_eq!(bulk["updated"], 1, "{}: {bulk}", server.db);
        assert_eq!(
            bulk["errors"][0]["finding"], 999_999,
            "{}: {bulk}",
            server.db
        );
    }
}
