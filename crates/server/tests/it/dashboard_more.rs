//! The dashboard's compliance page, mean-time-to-remediate trend and "send test" button
//! (issue 14), over HTTP as a browser without JavaScript uses them, on SQLite and PostgreSQL.
//! The compliance input is a real bulwark report (`tests/data/bulwark-minbase.json`, see its
//! `.md`): its image-config misconfigurations fail CIS Docker 4.1, 4.6 and 4.8.

use std::time::Duration;

use bulwark_store::testing::databases;
use serde_json::{json, Value};

use crate::common::{debian_advisory, fixture, repo, ADMIN};
use crate::dashboard::{hidden, start, Browser};

fn minbase_report() -> Vec<u8> {
    std::fs::read(repo().join("crates/server/tests/data/bulwark-minbase.json")).unwrap()
}

/// The `<tr>` that starts with `marker`, up to its `</tr>`.
fn row<'a>(html: &'a str, marker: &str) -> &'a str {
    let start = html
        .find(marker)
        .unwrap_or_else(|| panic!("no row {marker} in {html}"));
    let end = html[start..].find("</tr>").unwrap_or(html.len() - start);
    &html[start..start + end]
}

#[test]
fn compliance_page_shows_controls_per_framework_from_each_assets_latest_upload() {
    for db in databases() {
        let server = start(&db);
        let (status, reply) = server.post(
            "/api/v1/reports?asset=minbase&version=sha256:aaaa",
            ADMIN,
            &minbase_report(),
        );
        assert_eq!(status, 201, "{}: {reply}", server.db);
        let uuid = reply["asset"]["uuid"].as_str().unwrap().to_string();
        let (status, reply) = server.post(
            "/api/v1/reports?asset=sbom-only&version=sha256:bbbb",
            ADMIN,
            &fixture("syft-minbase.cdx.json"),
        );
        assert_eq!(status, 201, "{}: {reply}", server.db);

        let mut b = Browser::new(&server.url);
        b.login();
        let page = b.get("/compliance");
        assert_eq!(page.status, 200, "{}: {}", server.db, page.body);
        let html = &page.body;
        assert!(
            html.contains("<a href=\"/compliance\" aria-current=\"page\">Compliance</a>"),
            "nav link"
        );
        assert!(html.contains("CIS Docker Benchmark v1.6.0"), "{html}");
        assert!(
            html.contains("data-assessed=\"1\" data-assets=\"2\""),
            "{}: the SBOM upload is not assessed: {html}",
            server.db
        );
        // The report's BW-IMG-001 (root), BW-IMG-002 (no HEALTHCHECK), BW-IMG-007 (setuid).
        for control in ["4.1", "4.6", "4.8"] {
            let r = row(html, &format!("<tr data-control=\"{control}\""));
            assert!(r.contains("data-failing=\"1\""), "{}: {r}", server.db);
            assert!(r.contains("FAIL on 1 of 1 assets"), "{r}");
        }
        // Covered by image checks and not failed: a pass. Dockerfile-only: not scanned by an
        // image upload. No check at all: manual.
        assert!(html.contains("PASS on 1 assets"), "{html}");
        assert!(row(html, "<tr data-control=\"4.5\"").contains("MANUAL"));
        assert!(html.contains("data-metric=\"fail\">3<"), "{html}");
        let asset_row = row(html, "<tr data-asset=\"minbase\"");
        assert!(
            asset_row.contains(&format!("href=\"/assets/{uuid}\"")),
            "evidence links to the asset: {asset_row}"
        );
        assert!(asset_row.contains("FAIL (3)"), "{asset_row}");
        assert!(row(html, "<tr data-asset=\"sbom-only\"").contains("NOT ASSESSED"));
        // Failing assets first.
        assert!(html.find("data-asset=\"minbase\"") < html.find("data-asset=\"sbom-only\""));

        // One control's evidence: the misconfiguration, where, and the asset.
        let evidence = b.get("/compliance?framework=cis-docker&control=4.1");
        assert_eq!(evidence.status, 200);
        assert!(
            evidence.body.contains("Assets failing 4.1 (1)"),
            "{}",
            evidence.body
        );
        let r = row(&evidence.body, "<tr data-asset=\"minbase\"");
        assert!(
            r.contains("<code>BW-IMG-001</code>") && r.contains("image-config"),
            "{r}"
        );
        assert!(!evidence.body.contains("data-asset=\"sbom-only\""));

        // Other frameworks from the same findings.
        let nist = b.get("/compliance?framework=nist-800-190");
        assert!(row(&nist.body, "<tr data-control=\"4.1.2\"").contains("data-failing=\"1\""));
        assert!(row(&nist.body, "<tr data-control=\"4.4.3\"").contains("data-failing=\"1\""));
        let pci = b.get("/compliance?framework=pci-dss");
        assert!(row(&pci.body, "<tr data-control=\"7.2.2\"").contains("data-failing=\"1\""));
        assert!(row(&pci.body, "<tr data-control=\"8.6.2\"").contains("data-failing=\"0\""));
        for fw in ["cis-k8s", "nsa", "pss-baseline", "pss-restricted"] {
            let p = b.get(&format!("/compliance?framework={fw}"));
            assert_eq!(p.status, 200, "{fw}: {}", p.body);
            assert!(
                !p.body.contains("FAIL on"),
                "{fw}: image findings fail no Kubernetes control"
            );
        }
        let bad = b.get("/compliance?framework=sox");
        assert_eq!(bad.status, 400);
        assert!(bad.body.contains("cis-docker"), "{}", bad.body);

        // A newer upload without those misconfigurations (the user fixed the image): the page
        // follows the latest version.
        let mut fixed: Value = serde_json::from_slice(&minbase_report()).unwrap();
        fixed["misconfigurations"] = json!([]);
        let (status, reply) = server.post(
            "/api/v1/reports?asset=minbase&version=sha256:cccc",
            ADMIN,
            &serde_json::to_vec(&fixed).unwrap(),
        );
        assert_eq!(status, 201, "{}: {reply}", server.db);
        let after = b.get("/compliance");
        assert!(row(&after.body, "<tr data-control=\"4.1\"").contains("data-failing=\"0\""));
        assert!(row(&after.body, "<tr data-asset=\"minbase\"").contains("PASS"));
        assert!(after.body.contains("data-metric=\"fail\">0<"));

        // Printable: the stylesheet hides the navigation and forms on paper.
        let css = b.get("/static/dashboard.css");
        assert!(css.body.contains("@media print"));
        assert!(css.body.contains("header.top, .skip, .no-print, form"));
    }
}

#[test]
fn the_overview_charts_mean_time_to_remediate_from_resolved_findings() {
    for db in databases() {
        let server = start(&db);
        server.import_advisory(
            &debian_advisory("DSA-9999-8", "CVE-2099-0008", "coreutils", "9.1-2"),
            "test",
        );
        let sbom = fixture("syft-minbase.cdx.json");
        let (status, reply) = server.post(
            "/api/v1/reports?asset=shop&version=sha256:1111",
            ADMIN,
            &sbom,
        );
        assert_eq!(status, 201, "{}: {reply}", server.db);
        let uuid = reply["asset"]["uuid"].as_str().unwrap().to_string();
        std::thread::sleep(Duration::from_millis(300));
        // The same digest uploaded again without coreutils (a corrected scan): its finding is
        // resolved.
        let mut doc: Value = serde_json::from_slice(&sbom).unwrap();
        doc["components"]
            .as_array_mut()
            .unwrap()
            .retain(|c| c["name"] != "coreutils");
        let (status, reply) = server.post(
            "/api/v1/reports?asset=shop&version=sha256:1111",
            ADMIN,
            &serde_json::to_vec(&doc).unwrap(),
        );
        assert_eq!(status, 200, "{}: {reply}", server.db);
        assert_eq!(reply["new_version"], false, "{reply}");
        let (_, resolved) = server.get(
            &format!("/api/v1/assets/{uuid}/findings?state=resolved"),
            ADMIN,
        );
        let items = resolved["items"].as_array().unwrap();
        assert!(!items.is_empty(), "{}: {resolved}", server.db);
        let spans: Vec<i64> = items
            .iter()
            .map(|f| f["resolved_at"].as_i64().unwrap() - f["first_seen"].as_i64().unwrap())
            .collect();
        let expected = spans.iter().sum::<i64>() / spans.len() as i64;
        assert!(expected >= 300, "{}: {spans:?}", server.db);

        let mut b = Browser::new(&server.url);
        b.login();
        for days in ["30", "90"] {
            let page = b.get(&format!("/?days={days}"));
            assert_eq!(page.status, 200);
            let html = &page.body;
            assert!(
                html.contains(&format!("data-mttr-ms=\"{expected}\"")),
                "{}: {days} days: mean {expected} ms expected in {html}",
                server.db
            );
            assert!(html.contains(&format!("data-metric=\"resolved-window\">{}<", spans.len())));
            assert!(html.contains(&format!("Mean time to remediate, last {days} days")));
            assert!(html.contains("data-chart=\"mttr-chart\""), "charted");
            let today = bulwark_store::day_of(bulwark_store::now_ms());
            let r = row(html, &format!("<tr data-day=\"{today}\" data-resolved="));
            assert!(
                r.contains(&format!(
                    "data-resolved=\"{}\" data-mean-ms=\"{expected}\"",
                    spans.len()
                )),
                "{r}"
            );
            // Days with nothing resolved say so in words, not only a 0 on the chart.
            assert_eq!(
                html.matches("data-resolved=\"0\" data-mean-ms=\"\"")
                    .count(),
                days.parse::<usize>().unwrap() - 1
            );
        }
    }
}

#[test]
fn send_test_delivers_through_the_rules_publisher_with_csrf() {
    for db in databases() {
        let server = start(&db);
        let listener = tiny_http::Server::http("127.0.0.1:0").unwrap();
        let url = format!("http://{}/hook", listener.server_addr().to_ip().unwrap());
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for mut request in listener.incoming_requests() {
                let mut body = String::new();
                let _ = request.as_reader().read_to_string(&mut body);
                let _ = tx.send(body);
                let _ = request.respond(tiny_http::Response::empty(202));
            }
        });
        let (status, rule) = server.post_json(
            "/api/v1/notifications/rules",
            ADMIN,
            &json!({"type": "webhook", "name": "ops hook", "url": url, "secret": "a-long-enough-webhook-secret", "on": ["new_finding"]}),
        );
        assert_eq!(status, 201, "{}: {rule}", server.db);
        let id = rule["id"].as_i64().unwrap();

        let mut b = Browser::new(&server.url);
        b.login();
        let settings = b.get("/settings");
        assert_eq!(settings.status, 200);
        let form = row(&settings.body, &format!("<tr data-rule=\"{id}\""));
        assert!(
            form.contains(&format!("action=\"/settings/rules/{id}/test\"")),
            "{form}"
        );
        assert!(
            !settings.body.contains("a-long-enough-webhook-secret"),
            "no secret rendered"
        );
        let csrf = hidden(form, "csrf");

        let forged = b.post_form(&format!("/settings/rules/{id}/test"), &[("csrf", "forged")]);
        assert_eq!(forged.status, 403, "{}", server.db);
        assert!(
            rx.recv_timeout(Duration::from_millis(300)).is_err(),
            "nothing sent without CSRF"
        );

        let sent = b.post_form(&format!("/settings/rules/{id}/test"), &[("csrf", &csrf)]);
        assert_eq!(sent.status, 303, "{}: {}", server.db, sent.body);
        let body = rx
            .recv_timeout(Duration::from_secs(10))
            .expect("the test event arrives");
        assert!(body.contains("bulwark test notification"), "{body}");
        let back = b.get(sent.header("location"));
        assert_eq!(back.status, 200);
        assert!(
            back.body
                .contains(&format!("Test event to rule {id}: delivered, HTTP 202")),
            "{}",
            back.body
        );

        let missing = b.post_form("/settings/rules/999999/test", &[("csrf", &csrf)]);
        assert_eq!(missing.status, 404, "{}", missing.body);
    }
}
