//! Dependency-Track's API: the real `dtrack-auditor` client, the read endpoints' shapes,
//! multipart upload, triage through `PUT /api/v1/analysis`, and bad input.

use std::path::PathBuf;
use std::process::Command;

use base64::Engine as _;
use serde_json::{json, Value};

use super::common::*;

/// The PyPI `dtrack-auditor` client in a venv under the target dir, installed on first use:
/// `python3 -m venv target/tmp/dtrack-auditor-venv && target/tmp/dtrack-auditor-venv/bin/pip
/// install dtrack-auditor==1.5.0` (what `.ci/run` would run; the test does it itself).
fn dtrack_auditor() -> Option<PathBuf> {
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _guard = LOCK.lock().unwrap_or_else(|p| p.into_inner());
    if !tools_present(&["python3"], "apt-get install python3 python3-venv") {
        return None;
    }
    let venv = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("dtrack-auditor-venv");
    let bin = venv.join("bin/dtrackauditor");
    if bin.is_file() {
        return Some(bin);
    }
    let ok = Command::new("python3")
        .arg("-m")
        .arg("venv")
        .arg(&venv)
        .status()
        .is_ok_and(|s| s.success())
        && Command::new(venv.join("bin/pip"))
            .args(["install", "--quiet", "dtrack-auditor==1.5.0"])
            .status()
            .is_ok_and(|s| s.success());
    assert!(
        ok && bin.is_file(),
        "installing dtrack-auditor into {} failed (pip install dtrack-auditor==1.5.0)",
        venv.display()
    );
    Some(bin)
}

fn auditor(bin: &PathBuf, server: &TestServer, key: &str, rules: &str) -> (i32, String) {
    let out = Command::new(bin)
        .args(["-u", &server.url, "-k", key, "-p", "minbase", "-v", "12.0"])
        .arg("-f")
        .arg(data("syft-minbase.cdx.json"))
        .args(["-a", "-w", "-r", rules])
        .env_remove("DTRACK_SERVER")
        .env_remove("DTRACK_API_KEY")
        .output()
        .expect("dtrackauditor runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code().unwrap_or(-1), text)
}

/// The auditor in auto mode: uploads the syft SBOM with autoCreate, waits on the token, finds
/// the project, reads its policy violations and findings and judges its severity rules. The
/// minbase image has low and unassigned findings (from its Debian packages) and no critical
/// one.
#[test]
fn dtrack_auditor_uploads_waits_and_judges_severity_rules() {
    let Some(bin) = dtrack_auditor() else { return };
    for server in servers() {
        let key = server.token(
            "ci",
            &[bulwark_store::Scope::Upload, bulwark_store::Scope::Read],
        );
        let (code, out) = auditor(&bin, &server, &key, "critical:1:true,high:1:true");
        assert_eq!(
            code, 0,
            "{}: a passing rule set fails:\n{out}",
            server.label
        );
        assert!(out.contains("No policy violations found."), "{out}");
        assert!(
            out.contains("Vulnerability audit resulted in no violations."),
            "{out}"
        );
        assert!(out.contains("'CRITICAL': 0"), "{out}");
        // The OS packages were matched: LOW findings exist.
        let low: u32 = out
            .split("'LOW': ")
            .nth(1)
            .and_then(|s| s.split(|c: char| !c.is_ascii_digit()).next())
            .and_then(|n| n.parse().ok())
            .unwrap_or(0);
        assert!(
            low > 0,
            "{}: no LOW findings reported:\n{out}",
            server.label
        );

        // The same upload again (the auditor checks that lastBomImport moved), then a rule
        // that the findings break.
        let (code, out) = auditor(&bin, &server, &key, "low:1:true");
        assert_eq!(code, 1, "{}: a failing rule passes:\n{out}", server.label);
        assert!(
            out.contains("Threshold for LOW severity issues exceeded"),
            "{out}"
        );
        // One project, one version, even after two uploads.
        let admin = bulwark_store::Principal::system("test");
        let asset = server
            .store
            .asset_by_name(&admin, "minbase")
            .unwrap()
            .unwrap();
        let versions = server
            .store
            .versions(&admin, asset.id, bulwark_store::Page::default())
            .unwrap();
        assert_eq!(versions.total, 1, "{}", server.label);
    }
}

/// With a vulnerability gate in the server's config file, the findings that fail it are
/// Dependency-Track policy violations: the auditor reports them and fails.
#[test]
fn dtrack_policy_violations_are_the_servers_gate_verdicts() {
    let Some(bin) = dtrack_auditor() else { return };
    let gate = "gates:\n  vulnerabilities:\n    severity: low\n";
    for db in bulwark_store::testing::databases() {
        let server = TestServer::start_with_config(db, Some(gate));
        let label = &server.label;
        let (code, out) = auditor(&bin, &server, ADMIN, "critical:1:true");
        assert_eq!(
            code, 1,
            "{label}: the gate's violations do not fail the auditor:\n{out}"
        );
        assert!(out.contains("policy violations found"), "{label}: {out}");
        assert!(out.contains("[SECURITY]"), "{label}: {out}");

        let p = api(
            &server,
            ADMIN,
            "/api/v1/project/lookup?name=minbase&version=12.0",
        )
        .json();
        let uuid = p["uuid"].as_str().unwrap();
        let violations = api(&server, ADMIN, &format!("/api/v1/violation/project/{uuid}")).json();
        let violations = violations.as_array().unwrap();
        let findings = api(&server, ADMIN, &format!("/api/v1/finding/project/{uuid}")).json();
        let low = findings
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["vulnerability"]["severity"] != "UNASSIGNED")
            .count();
        assert!(low > 0);
        assert_eq!(
            violations.len(),
            low,
            "{label}: one violation per finding at low or above"
        );
        let v = &violations[0];
        assert_eq!(v["type"], "SECURITY");
        assert_eq!(v["policyCondition"]["policy"]["violationState"], "FAIL");
        assert_eq!(v["project"]["uuid"], uuid);
        assert!(v["component"]["purl"]
            .as_str()
            .unwrap()
            .starts_with("pkg:deb/"));
        let metrics = api(
            &server,
            ADMIN,
            &format!("/api/v1/metrics/project/{uuid}/current"),
        )
        .json();
        assert_eq!(
            metrics["policyViolationsTotal"].as_u64(),
            Some(low as u64),
            "{label}"
        );
        assert_eq!(metrics["policyViolationsFail"].as_u64(), Some(low as u64));
    }
}

fn upload(server: &TestServer, key: &str, body: &Value) -> Answer {
    send(
        "PUT",
        &format!("{}/api/v1/bom", server.url),
        &[("X-Api-Key", key), ("Content-Type", "application/json")],
        body.to_string().as_bytes(),
    )
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn sbom() -> Vec<u8> {
    std::fs::read(data("syft-minbase.cdx.json")).unwrap()
}

fn api(server: &TestServer, key: &str, path: &str) -> Answer {
    get(&format!("{}{path}", server.url), &[("X-Api-Key", key)])
}

#[test]
fn dtrack_read_endpoints_answer_in_dependency_tracks_shapes() {
    for server in servers() {
        let label = &server.label;
        let version = get(&format!("{}/api/version", server.url), &[]);
        assert_eq!(version.status, 200);
        assert!(version.json()["version"]
            .as_str()
            .unwrap()
            .starts_with("4."));

        let a = upload(
            &server,
            ADMIN,
            &json!({"projectName": "shop", "projectVersion": "2.1", "autoCreate": true, "bom": b64(&sbom())}),
        );
        assert_eq!(a.status, 200, "{label}: {}", a.text());
        let token = a.json()["token"].as_str().unwrap().to_string();
        for path in ["event/token", "bom/token"] {
            let t = api(&server, ADMIN, &format!("/api/v1/{path}/{token}"));
            assert_eq!(t.json(), json!({"processing": false}), "{label}");
        }

        let p = api(
            &server,
            ADMIN,
            "/api/v1/project/lookup?name=shop&version=2.1",
        );
        assert_eq!(p.status, 200, "{label}: {}", p.text());
        let project = p.json();
        let uuid = project["uuid"].as_str().unwrap().to_string();
        assert_eq!(project["name"], "shop");
        assert_eq!(project["version"], "2.1");
        assert!(project["lastBomImport"].as_i64().unwrap() > 0);

        let one = api(&server, ADMIN, &format!("/api/v1/project/{uuid}"));
        assert_eq!(one.json()["uuid"], uuid.as_str());
        let list = api(&server, ADMIN, "/api/v1/project?name=shop");
        assert_eq!(list.json().as_array().unwrap().len(), 1, "{label}");
        assert_eq!(list.header("X-Total-Count"), Some("1"));

        let findings = api(&server, ADMIN, &format!("/api/v1/finding/project/{uuid}"));
        let findings = findings.json();
        let findings = findings.as_array().unwrap();
        assert!(!findings.is_empty(), "{label}: no findings for the SBOM");
        for f in findings {
            for key in ["uuid", "name", "version", "purl", "project"] {
                assert!(
                    f["component"].get(key).is_some(),
                    "{label}: component.{key} in {f}"
                );
            }
            for key in ["uuid", "vulnId", "source", "severity", "severityRank"] {
                assert!(
                    f["vulnerability"].get(key).is_some(),
                    "{label}: vulnerability.{key} in {f}"
                );
            }
            assert_eq!(f["component"]["project"], uuid.as_str());
            assert!(
                ["NVD", "GITHUB", "OSV"].contains(&f["vulnerability"]["source"].as_str().unwrap())
            );
            assert!(["CRITICAL", "HIGH", "MEDIUM", "LOW", "INFO", "UNASSIGNED"]
                .contains(&f["vulnerability"]["severity"].as_str().unwrap()));
            assert_eq!(f["analysis"]["isSuppressed"], false);
        }
        // OS packages are matched (the image has no language packages).
        assert!(findings.iter().all(|f| f["component"]["purl"]
            .as_str()
            .unwrap()
            .starts_with("pkg:deb/debian/")));

        let metrics = api(
            &server,
            ADMIN,
            &format!("/api/v1/metrics/project/{uuid}/current"),
        )
        .json();
        let total = findings.len() as u64;
        assert_eq!(
            metrics["findingsTotal"].as_u64(),
            Some(total),
            "{label}: {metrics}"
        );
        let by_severity: u64 = ["critical", "high", "medium", "low", "unassigned"]
            .iter()
            .map(|k| metrics[k].as_u64().unwrap())
            .sum();
        assert_eq!(by_severity, total);
        // 92 components in the SBOM: 91 packages and the operating-system component.
        assert_eq!(
            metrics["components"].as_u64(),
            Some(91),
            "{label}: {metrics}"
        );
        assert_eq!(metrics["suppressed"].as_u64(), Some(0));
        assert_eq!(metrics["policyViolationsTotal"].as_u64(), Some(0));

        let violations = api(&server, ADMIN, &format!("/api/v1/violation/project/{uuid}"));
        assert_eq!(violations.status, 200);
        assert_eq!(violations.json(), json!([]));

        // Triage one finding as Dependency-Track clients do; it is then suppressed.
        let f = &findings[0];
        let (component, vulnerability) = (
            f["component"]["uuid"].as_str().unwrap(),
            f["vulnerability"]["uuid"].as_str().unwrap(),
        );
        let triager = server.token(
            "triager",
            &[bulwark_store::Scope::Triage, bulwark_store::Scope::Read],
        );
        let put = send(
            "PUT",
            &format!("{}/api/v1/analysis", server.url),
            &[
                ("X-Api-Key", &triager),
                ("Content-Type", "application/json"),
            ],
            json!({
                "project": uuid, "component": component, "vulnerability": vulnerability,
                "analysisState": "NOT_AFFECTED", "analysisJustification": "CODE_NOT_REACHABLE",
                "analysisResponse": "WILL_NOT_FIX", "comment": "not reachable in this image",
                "isSuppressed": true
            })
            .to_string()
            .as_bytes(),
        );
        assert_eq!(put.status, 200, "{label}: {}", put.text());
        let analysis = put.json();
        assert_eq!(analysis["analysisState"], "NOT_AFFECTED");
        assert_eq!(analysis["analysisJustification"], "CODE_NOT_REACHABLE");
        assert_eq!(analysis["analysisResponse"], "WILL_NOT_FIX");
        assert_eq!(analysis["isSuppressed"], true);
        assert_eq!(
            analysis["analysisComments"][0]["comment"],
            "not reachable in this image"
        );
        let again = api(
            &server,
            ADMIN,
            &format!("/api/v1/analysis?project={uuid}&component={component}&vulnerability={vulnerability}"),
        );
        assert_eq!(again.json()["analysisState"], "NOT_AFFECTED", "{label}");
        let visible = api(&server, ADMIN, &format!("/api/v1/finding/project/{uuid}")).json();
        assert_eq!(
            visible.as_array().unwrap().len(),
            findings.len() - 1,
            "{label}"
        );
        let all = api(
            &server,
            ADMIN,
            &format!("/api/v1/finding/project/{uuid}?suppressed=true"),
        )
        .json();
        assert_eq!(all.as_array().unwrap().len(), findings.len());
        let metrics = api(
            &server,
            ADMIN,
            &format!("/api/v1/metrics/project/{uuid}/current"),
        )
        .json();
        assert_eq!(
            metrics["suppressed"].as_u64(),
            Some(1),
            "{label}: {metrics}"
        );
        assert_eq!(metrics["findingsTotal"].as_u64(), Some(total - 1));
        // The decision is bulwark's triage: the store has it, with the same words.
        let admin = bulwark_store::Principal::system("test");
        let asset = server.store.asset_by_name(&admin, "shop").unwrap().unwrap();
        let stmts = server.store.vex_statements(&admin, asset.id).unwrap();
        assert_eq!(stmts.len(), 1, "{label}");
        assert_eq!(stmts[0].state, bulwark_store::TriageState::NotAffected);
        assert_eq!(
            stmts[0].justification.as_deref(),
            Some("CODE_NOT_REACHABLE")
        );

        // Upload by project UUID (no autoCreate needed) keeps the same project.
        let by_uuid = upload(
            &server,
            ADMIN,
            &json!({"project": uuid, "bom": b64(&sbom())}),
        );
        assert_eq!(by_uuid.status, 200, "{label}: {}", by_uuid.text());
        let list = api(&server, ADMIN, "/api/v1/project?name=shop").json();
        assert_eq!(list.as_array().unwrap().len(), 1);

        // A read-only token cannot triage.
        let reader = server.token("reader", &[bulwark_store::Scope::Read]);
        let denied = send(
            "PUT",
            &format!("{}/api/v1/analysis", server.url),
            &[("X-Api-Key", &reader)],
            json!({"project": uuid, "component": component, "vulnerability": vulnerability,
                   "analysisState": "EXPLOITABLE"})
            .to_string()
            .as_bytes(),
        );
        assert_eq!(denied.status, 403, "{label}");
    }
}

/// `POST /api/v1/bom` as multipart/form-data, the BOM as a file part (curl `-F bom=@bom.json`,
/// the Jenkins plugin and `DependencyTrack/gh-upload-sbom` send this).
#[test]
fn dtrack_multipart_upload_stores_the_bom() {
    for server in servers() {
        let boundary = "----bulwarkcompat7d1";
        let mut body = Vec::new();
        for (name, value) in [
            ("projectName", "api"),
            ("projectVersion", "main"),
            ("autoCreate", "true"),
        ] {
            body.extend_from_slice(
                format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n")
                    .as_bytes(),
            );
        }
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"bom\"; filename=\"bom.json\"\r\nContent-Type: application/json\r\n\r\n").as_bytes(),
        );
        body.extend_from_slice(&sbom());
        body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
        let content_type = format!("multipart/form-data; boundary={boundary}");
        let a = send(
            "POST",
            &format!("{}/api/v1/bom", server.url),
            &[("X-Api-Key", ADMIN), ("Content-Type", &content_type)],
            &body,
        );
        assert_eq!(a.status, 200, "{}: {}", server.label, a.text());
        assert!(a.json()["token"].is_string());
        let p = api(
            &server,
            ADMIN,
            "/api/v1/project/lookup?name=api&version=main",
        );
        assert_eq!(p.status, 200, "{}", server.label);
        let uuid = p.json()["uuid"].as_str().unwrap().to_string();
        let findings = api(&server, ADMIN, &format!("/api/v1/finding/project/{uuid}")).json();
        assert!(!findings.as_array().unwrap().is_empty(), "{}", server.label);
    }
}

/// Malformed requests get a 4xx with Dependency-Track's problem-details body, and nothing is
/// stored.
#[test]
fn dtrack_bad_uploads_are_refused_and_store_nothing() {
    for server in servers() {
        let label = &server.label;
        let xml = b"<?xml version=\"1.0\"?><bom xmlns=\"http://cyclonedx.org/schema/bom/1.5\"/>";
        let cases: Vec<(Value, u16, &str)> = vec![
            (
                json!({"projectName": "x", "projectVersion": "1", "autoCreate": true, "bom": "%%% not base64"}),
                400,
                "base64",
            ),
            (
                json!({"projectName": "x", "projectVersion": "1", "autoCreate": true, "bom": b64(xml)}),
                400,
                "XML",
            ),
            (
                json!({"projectName": "x", "projectVersion": "1", "autoCreate": true, "bom": b64(b"name,version\n")}),
                400,
                "not JSON",
            ),
            (
                json!({"projectName": "x", "projectVersion": "1", "autoCreate": true, "bom": b64(b"{\"hello\": 1}")}),
                400,
                "CycloneDX",
            ),
            (
                json!({"projectName": "x", "projectVersion": "1", "autoCreate": true}),
                400,
                "bom",
            ),
            (
                json!({"projectName": "x", "projectVersion": "1", "bom": b64(&sbom())}),
                404,
                "could not be found",
            ),
            (
                json!({"project": "3fa85f64-5717-4562-b3fc-2c963f66afa6", "bom": b64(&sbom())}),
                404,
                "could not be found",
            ),
            (
                json!({"project": "not-a-uuid", "bom": b64(&sbom())}),
                400,
                "UUID",
            ),
            (json!({"bom": b64(&sbom())}), 400, "projectName"),
            (
                json!({"projectName": "'; DROP TABLE assets; --", "projectVersion": "1", "autoCreate": true, "bom": b64(b"{")}),
                400,
                "JSON",
            ),
        ];
        for (body, status, says) in cases {
            let a = upload(&server, ADMIN, &body);
            assert_eq!(a.status, status, "{label}: {body} → {}", a.text());
            assert_eq!(
                a.header("content-type"),
                Some("application/problem+json"),
                "{label}"
            );
            let problem = a.json();
            assert_eq!(problem["status"].as_u64(), Some(u64::from(status)));
            assert!(problem["title"].is_string());
            assert!(
                problem["detail"].as_str().unwrap().contains(says),
                "{label}: {body} → {problem} should say {says:?}"
            );
        }
        let not_json = send(
            "PUT",
            &format!("{}/api/v1/bom", server.url),
            &[("X-Api-Key", ADMIN)],
            b"projectName=x",
        );
        assert_eq!(not_json.status, 400, "{label}");
        // Unknown project UUIDs on the read endpoints.
        for path in [
            "/api/v1/project/3fa85f64-5717-4562-b3fc-2c963f66afa6",
            "/api/v1/finding/project/3fa85f64-5717-4562-b3fc-2c963f66afa6",
            "/api/v1/metrics/project/3fa85f64-5717-4562-b3fc-2c963f66afa6/current",
            "/api/v1/violation/project/3fa85f64-5717-4562-b3fc-2c963f66afa6",
            "/api/v1/project/lookup?name=nothing&version=1",
        ] {
            let a = api(&server, ADMIN, path);
            assert_eq!(a.status, 404, "{label}: {path}");
            assert_eq!(a.json()["status"].as_u64(), Some(404));
        }
        assert_eq!(api(&server, ADMIN, "/api/v1/project/nope").status, 400);
        // Authentication: no key → 401, a read-only key cannot upload → 403.
        let body = json!({"projectName": "x", "projectVersion": "1", "autoCreate": true, "bom": b64(&sbom())});
        let anonymous = send(
            "PUT",
            &format!("{}/api/v1/bom", server.url),
            &[],
            body.to_string().as_bytes(),
        );
        assert_eq!(anonymous.status, 401, "{label}");
        let reader = server.token("reader", &[bulwark_store::Scope::Read]);
        assert_eq!(upload(&server, &reader, &body).status, 403, "{label}");
        // Nothing was stored.
        let admin = bulwark_store::Principal::system("test");
        let assets = server
            .store
            .list_assets(
                &admin,
                &bulwark_store::AssetFilter::default(),
                bulwark_store::Page::default(),
            )
            .unwrap();
        assert_eq!(
            assets.total,
            0,
            "{label}: {:?}",
            assets.items.iter().map(|a| &a.name).collect::<Vec<_>>()
        );
        assert_eq!(api(&server, ADMIN, "/api/v1/project").json(), json!([]));
    }
}
