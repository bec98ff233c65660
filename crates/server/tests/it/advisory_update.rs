//! The scheduled advisory update (`--db-update-every`): the server downloads its advisory
//! store from an OSV mirror by itself, rematches what it holds, records when it ran (so a
//! restart does not download again before it is due), and a failing mirror keeps the
//! previous advisories and shows the error on `/readyz`.

use std::io::Write;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bulwark_server::state::AdvisoryUpdate;
use bulwark_store::testing::databases;

use crate::common::{debian_advisory, fixture, TestServer, ADMIN};

/// An OSV mirror on 127.0.0.1 serving `Debian:12/all.zip` (one advisory for coreutils);
/// answers 500 while `failing` is set. Counts downloads.
struct Mirror {
    url: String,
    downloads: Arc<AtomicUsize>,
    failing: Arc<AtomicBool>,
}

fn mirror() -> Mirror {
    let mut zip_bytes = Vec::new();
    {
        let mut zip = zip::ZipWriter::new(std::io::Cursor::new(&mut zip_bytes));
        zip.start_file("DSA-9999-1.json", zip::write::SimpleFileOptions::default())
            .unwrap();
        zip.write_all(&debian_advisory(
            "DSA-9999-1",
            "CVE-2099-0001",
            "coreutils",
            "9.1-2",
        ))
        .unwrap();
        zip.finish().unwrap();
    }
    let server = tiny_http::Server::http("127.0.0.1:0").unwrap();
    let url = format!("http://{}", server.server_addr().to_ip().unwrap());
    let downloads = Arc::new(AtomicUsize::new(0));
    let failing = Arc::new(AtomicBool::new(false));
    let (count, fail) = (downloads.clone(), failing.clone());
    std::thread::spawn(move || {
        for request in server.incoming_requests() {
            let response = if fail.load(Ordering::SeqCst) {
                tiny_http::Response::from_data(b"mirror down".to_vec()).with_status_code(500)
            } else if request.url() == "/Debian%3A12/all.zip" {
                count.fetch_add(1, Ordering::SeqCst);
                tiny_http::Response::from_data(zip_bytes.clone())
            } else {
                tiny_http::Response::from_data(b"not here".to_vec()).with_status_code(404)
            };
            let _ = request.respond(response);
        }
    });
    Mirror {
        url,
        downloads,
        failing,
    }
}

fn schedule(mirror: &Mirror, every: Duration) -> AdvisoryUpdate {
    AdvisoryUpdate {
        every,
        options: bulwark_vulndb::UpdateOptions {
            ecosystems: vec!["Debian:12".into()],
            osv_base_url: mirror.url.clone(),
            kev_url: None,
            epss_url: None,
            ..Default::default()
        },
    }
}

#[test]
fn the_server_updates_its_advisories_on_schedule_and_rematches() {
    let mirror = mirror();
    for db in databases() {
        let before = mirror.downloads.load(Ordering::SeqCst);
        let server = TestServer::start_with(&db, |c| {
            c.advisory_update = Some(schedule(&mirror, Duration::from_secs(3600)));
        });
        // Uploaded before or after the first update: either way the finding appears.
        let (_, sbom) = server.post(
            "/api/v1/reports?asset=scheduled",
            ADMIN,
            &fixture("syft-minbase.cdx.json"),
        );
        let uuid = sbom["asset"]["uuid"].as_str().unwrap().to_string();
        server.wait_for(Duration::from_secs(60), || {
            let (_, ready) = server.get("/readyz", ADMIN);
            ready["advisories"]["scheduled_update"]["last_success"].as_i64()
        });
        server.wait_for(Duration::from_secs(30), || {
            let (_, findings) = server.get(&format!("/api/v1/assets/{uuid}/findings"), ADMIN);
            (findings["total"] == 1).then_some(())
        });
        let (_, ready) = server.get("/readyz", ADMIN);
        let advisories = &ready["advisories"];
        assert_eq!(advisories["state"], "ready", "{}: {ready}", server.db);
        let scheduled = &advisories["scheduled_update"];
        assert_eq!(scheduled["every_hours"], 1.0, "{}: {ready}", server.db);
        assert!(scheduled["last_success"].is_i64(), "{}: {ready}", server.db);
        assert!(
            scheduled.get("last_error").is_none_or(|e| e.is_null()),
            "{}: {ready}",
            server.db
        );
        assert!(
            scheduled["next_at"].as_i64().unwrap() > scheduled["last_success"].as_i64().unwrap(),
            "{}: {ready}",
            server.db
        );
        assert_eq!(
            mirror.downloads.load(Ordering::SeqCst),
            before + 1,
            "{}: one download at startup",
            server.db
        );
    }
}

#[test]
fn a_failing_mirror_keeps_the_previous_advisories_and_reports_the_error() {
    let mirror = mirror();
    mirror.failing.store(true, Ordering::SeqCst);
    for db in databases() {
        // Due every minute (the shortest); the first attempt at startup fails.
        let server = TestServer::start_with(&db, |c| {
            c.advisory_update = Some(schedule(&mirror, Duration::from_secs(60)));
        });
        server.import_advisory(
            &debian_advisory("DSA-9999-2", "CVE-2099-0002", "coreutils", "9.1-2"),
            "manual",
        );
        let error = server.wait_for(Duration::from_secs(60), || {
            let (_, ready) = server.get("/readyz", ADMIN);
            ready["advisories"]["scheduled_update"]["last_error"]
                .as_str()
                .map(str::to_string)
        });
        assert!(error.contains("500"), "{}: {error}", server.db);
        let (_, ready) = server.get("/readyz", ADMIN);
        assert_eq!(
            ready["advisories"]["state"], "ready",
            "{}: {ready}",
            server.db
        );
        assert!(
            ready["advisories"]["advisories"].as_u64().unwrap() >= 1,
            "{}: the imported advisory is still there: {ready}",
            server.db
        );
    }
}
