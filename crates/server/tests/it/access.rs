//! Tokens, scopes and teams; the layers (rate limit, headers, OpenAPI, health, metrics).

use bulwark_store::testing::databases;

use crate::common::{fixture, TestServer, ADMIN};

#[test]
fn another_teams_token_sees_nothing_of_ours() {
    for db in databases() {
        let server = TestServer::start(&db);
        let ours = server.token("ci-a", &["upload", "read", "triage"], Some("team-a"));
        let theirs = server.token("ci-b", &["upload", "read", "triage"], Some("team-b"));
        let (status, reply) = server.post(
            "/api/v1/reports?asset=app-a",
            &ours,
            &fixture("trivy-minbase.cdx.json"),
        );
        assert_eq!(status, 201, "{}: {reply}", server.db);
        let uuid = reply["asset"]["uuid"].as_str().unwrap().to_string();
        let version = reply["version"]["uuid"].as_str().unwrap().to_string();
        let (_, mine) = server.get("/api/v1/assets", &ours);
        assert_eq!(mine["total"], 1, "{}: {mine}", server.db);
        assert_eq!(mine["items"][0]["team"]["name"], "team-a", "{}", server.db);
        let (_, list) = server.get("/api/v1/assets", &theirs);
        assert_eq!(list["total"], 0, "{}: {list}", server.db);
        for path in [
            format!("/api/v1/assets/{uuid}"),
            format!("/api/v1/assets/{uuid}/findings"),
            format!("/api/v1/assets/{uuid}/versions"),
            format!("/api/v1/assets/{uuid}/vex"),
            format!("/api/v1/versions/{version}/findings"),
        ] {
            let (status, body) = server.get(&path, &theirs);
            assert!(
                status == 403 || status == 404,
                "{} {path}: {status} {body}",
                server.db
            );
        }
        // Nor can it write to our asset.
        let (status, body) = server.post(
            "/api/v1/reports?asset=app-a",
            &theirs,
            &fixture("syft-minbase.cdx.json"),
        );
        assert!(
            status == 403 || status == 404,
            "{}: {status} {body}",
            server.db
        );
        // And a token without admin cannot make tokens.
        let (status, _) = server.post_json(
            "/api/v1/tokens",
            &ours,
            &serde_json::json!({"name": "x", "scopes": ["admin"]}),
        );
        assert_eq!(status, 403, "{}", server.db);
        // Revoked: 401.
        let (_, tokens) = server.get("/api/v1/tokens", ADMIN);
        let id = tokens
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["name"] == "ci-b")
            .unwrap()["id"]
            .as_i64()
            .unwrap();
        let (status, _) = server.send("DELETE", &format!("/api/v1/tokens/{id}"), ADMIN, b"");
        assert_eq!(status, 204, "{}", server.db);
        let (status, body) = server.get("/api/v1/assets", &theirs);
        assert_eq!(status, 401, "{}: {body}", server.db);
    }
}

#[test]
fn health_metrics_headers_openapi_and_rate_limit() {
    let db = bulwark_store::testing::sqlite();
    let server = TestServer::start_with(&db, |c| {
        c.rate_limit = 1;
        c.rate_burst = 5;
    });
    let agent = ureq::Agent::new_with_config(
        ureq::config::Config::builder()
            .http_status_as_error(false)
            .build(),
    );
    let health = agent.get(format!("{}/healthz", server.url)).call().unwrap();
    assert_eq!(health.status(), 200);
    for (name, value) in [
        ("x-content-type-options", "nosniff"),
        ("x-frame-options", "DENY"),
        ("referrer-policy", "no-referrer"),
    ] {
        assert_eq!(health.headers().get(name).unwrap(), value);
    }
    assert!(health.headers().get("content-security-policy").is_some());
    let (status, ready) = server.get("/readyz", ADMIN);
    assert_eq!(status, 200, "{ready}");
    assert_eq!(ready["advisories"]["state"], "missing", "{ready}");
    let (status, openapi) = server.get("/api/openapi.json", ADMIN);
    assert_eq!(status, 200);
    assert_eq!(openapi["openapi"], "3.1.0");
    for path in [
        "/api/v1/reports",
        "/api/v1/assets",
        "/api/v1/findings/{id}/triage",
        "/api/v1/scans",
    ] {
        assert!(
            openapi["paths"][path].is_object(),
            "{path} in the OpenAPI document"
        );
    }
    let (_, metrics) = server.get("/metrics", ADMIN);
    let metrics = metrics.as_str().unwrap_or_default().to_string();
    assert!(metrics.contains("bulwark_http_requests_total"), "{metrics}");
    // The burst is spent: 429 with Retry-After.
    let mut limited = None;
    for _ in 0..20 {
        let r = agent
            .get(format!("{}/api/v1/assets", server.url))
            .header("Authorization", format!("Bearer {ADMIN}"))
            .call()
            .unwrap();
        if r.status() == 429 {
            limited = Some(r);
            break;
        }
    }
    let limited = limited.expect("a 429 once the burst is spent");
    assert!(limited.headers().get("retry-after").is_some());
}
