//! A new advisory imported after the upload → a finding and a signed webhook within seconds;
//! a failing receiver never blocks ingest.

use std::sync::mpsc;
use std::time::{Duration, Instant};

use bulwark_store::testing::databases;
use serde_json::json;

use crate::common::{debian_advisory, fixture, TestServer, ADMIN};

struct Received {
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

/// An HTTP receiver on 127.0.0.1:0 answering `status` to every request.
fn receiver(status: u16) -> (String, mpsc::Receiver<Received>) {
    let server = tiny_http::Server::http("127.0.0.1:0").unwrap();
    let url = format!("http://{}/hook", server.server_addr().to_ip().unwrap());
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for mut request in server.incoming_requests() {
            let mut body = Vec::new();
            let _ = request.as_reader().read_to_end(&mut body);
            let headers = request
                .headers()
                .iter()
                .map(|h| {
                    (
                        h.field.to_string().to_ascii_lowercase(),
                        h.value.to_string(),
                    )
                })
                .collect();
            let _ = tx.send(Received { headers, body });
            let _ = request.respond(tiny_http::Response::empty(status));
        }
    });
    (url, rx)
}

#[test]
fn an_advisory_imported_later_makes_a_finding_and_a_signed_webhook_within_seconds() {
    const SECRET: &str = "a-long-enough-webhook-secret";
    for db in databases() {
        let server = TestServer::start(&db);
        let (url, received) = receiver(200);
        let (status, rule) = server.post_json(
            "/api/v1/notifications/rules",
            ADMIN,
            &json!({"type": "webhook", "name": "hook", "url": url, "secret": SECRET, "on": ["new_finding"]}),
        );
        assert_eq!(status, 201, "{}: {rule}", server.db);
        assert_eq!(
            rule["rule"]["secret"], "***",
            "{}: the secret is masked",
            server.db
        );
        let (status, reply) = server.post(
            "/api/v1/reports?asset=shop",
            ADMIN,
            &fixture("syft-minbase.cdx.json"),
        );
        assert_eq!(status, 201, "{}: {reply}", server.db);
        assert_eq!(reply["findings"], 0, "{}: no advisories yet", server.db);
        let uuid = reply["asset"]["uuid"].as_str().unwrap().to_string();

        let started = Instant::now();
        server.import_advisory(
            &debian_advisory("DSA-9999-2", "CVE-2099-0002", "coreutils", "9.1-2"),
            "later",
        );
        let hook = received
            .recv_timeout(Duration::from_secs(10))
            .unwrap_or_else(|_| panic!("{}: no webhook within 10 s", server.db));
        let took = started.elapsed();
        let signature = hook
            .headers
            .iter()
            .find(|(k, _)| k == "x-bulwark-signature")
            .map(|(_, v)| v.clone())
            .expect("a signature header");
        assert!(
            bulwark_notify::verify_signature(SECRET.as_bytes(), &hook.body, &signature),
            "{}",
            server.db
        );
        assert!(!bulwark_notify::verify_signature(
            b"another-secret-entirely",
            &hook.body,
            &signature
        ));
        let body: serde_json::Value = serde_json::from_slice(&hook.body).unwrap();
        let text = body.to_string();
        assert!(text.contains("CVE-2099-0002"), "{}: {text}", server.db);
        assert!(text.contains("coreutils"), "{}: {text}", server.db);
        assert!(text.contains("shop"), "{}: {text}", server.db);
        eprintln!("{}: import → signed webhook in {took:?}", server.db);

        let (_, findings) = server.get(&format!("/api/v1/assets/{uuid}/findings"), ADMIN);
        assert_eq!(findings["total"], 1, "{}: {findings}", server.db);
        let (_, events) = server.get("/api/v1/events", ADMIN);
        assert_eq!(events[0]["kind"], "new", "{}: {events}", server.db);
        let delivered = server.wait_for(Duration::from_secs(5), || {
            let (_, log) = server.get("/api/v1/notifications/deliveries", ADMIN);
            (log["items"][0]["state"] == "delivered").then_some(log)
        });
        assert_eq!(delivered["total"], 1, "{}", server.db);

        // Withdrawn advisory (the source replaced by an empty document): resolved.
        server.import_advisory(
            &debian_advisory("DSA-9999-2", "CVE-2099-0002", "coreutils", "9.0-1"),
            "later",
        );
        server.wait_for(Duration::from_secs(10), || {
            let (_, f) = server.get(&format!("/api/v1/assets/{uuid}/findings?state=open"), ADMIN);
            (f["total"] == 0).then_some(())
        });
        // A full rematch job finishes.
        let (status, job) = server.post("/api/v1/rematch", ADMIN, b"");
        assert_eq!(status, 202, "{}: {job}", server.db);
        let id = job["job"].as_i64().unwrap();
        server.wait_for(Duration::from_secs(10), || {
            let (_, j) = server.get(&format!("/api/v1/scans/{id}"), ADMIN);
            (j["state"] == "done").then_some(())
        });
    }
}

/// `kill -9` between an ingest's commit and its dispatch leaves the events stored and no
/// delivery recorded (made here by hand, the state such a kill leaves): the server started
/// again on that database sends the webhook, once.
#[test]
fn events_a_killed_server_never_dispatched_are_notified_when_it_starts_again() {
    for db in databases() {
        let (url, received) = receiver(200);
        {
            let server = TestServer::start(&db);
            server.import_advisory(
                &debian_advisory("DSA-9999-4", "CVE-2099-0004", "coreutils", "9.1-2"),
                "test",
            );
            let (status, _) = server.post_json(
                "/api/v1/notifications/rules",
                ADMIN,
                &json!({"type": "webhook", "url": url, "secret": "a-long-enough-webhook-secret", "on": ["new_finding"]}),
            );
            assert_eq!(status, 201, "{}", server.db);
            let (status, reply) = server.post(
                "/api/v1/reports?asset=crashy",
                ADMIN,
                &fixture("syft-minbase.cdx.json"),
            );
            assert_eq!(status, 201, "{}: {reply}", server.db);
            assert_eq!(reply["findings"], 1, "{}: {reply}", server.db);
            received
                .recv_timeout(Duration::from_secs(10))
                .unwrap_or_else(|_| panic!("{}: the first server's webhook", server.db));
            server.wait_for(Duration::from_secs(5), || {
                let (_, log) = server.get("/api/v1/notifications/deliveries", ADMIN);
                (log["items"][0]["state"] == "delivered").then_some(())
            });
        }
        db.execute_batch("DELETE FROM deliveries; UPDATE finding_events SET dispatched_at = NULL");
        let server = TestServer::start(&db);
        let hook = received
            .recv_timeout(Duration::from_secs(10))
            .unwrap_or_else(|_| panic!("{}: no webhook after the restart", server.db));
        let text = String::from_utf8_lossy(&hook.body).into_owned();
        assert!(text.contains("CVE-2099-0004"), "{}: {text}", server.db);
        assert!(text.contains("crashy"), "{}: {text}", server.db);
        let log = server.wait_for(Duration::from_secs(5), || {
            let (_, log) = server.get("/api/v1/notifications/deliveries", ADMIN);
            (log["items"][0]["state"] == "delivered").then_some(log)
        });
        assert_eq!(log["total"], 1, "{}: {log}", server.db);
        drop(server);
        // Dispatched now: a third start sends nothing.
        let _server = TestServer::start(&db);
        assert!(
            received.recv_timeout(Duration::from_secs(3)).is_err(),
            "{}: an event is notified once",
            db.label()
        );
    }
}

#[test]
fn a_failing_receiver_is_retried_and_never_blocks_ingest() {
    for db in databases() {
        let server = TestServer::start(&db);
        server.import_advisory(
            &debian_advisory("DSA-9999-3", "CVE-2099-0003", "coreutils", "9.1-2"),
            "test",
        );
        let (url, received) = receiver(500);
        let (status, _) = server.post_json(
            "/api/v1/notifications/rules",
            ADMIN,
            &json!({"type": "webhook", "url": url, "secret": "a-long-enough-webhook-secret"}),
        );
        assert_eq!(status, 201);
        let started = Instant::now();
        let (status, reply) = server.post(
            "/api/v1/reports?asset=svc",
            ADMIN,
            &fixture("trivy-minbase.cdx.json"),
        );
        assert_eq!(status, 201, "{}: {reply}", server.db);
        assert!(started.elapsed() < Duration::from_secs(10), "{}", server.db);
        received
            .recv_timeout(Duration::from_secs(10))
            .unwrap_or_else(|_| panic!("{}: the receiver was tried", server.db));
        let log = server.wait_for(Duration::from_secs(5), || {
            let (_, log) = server.get("/api/v1/notifications/deliveries", ADMIN);
            (log["items"][0]["attempts"].as_i64() >= Some(1)).then_some(log)
        });
        assert_eq!(
            log["items"][0]["state"], "pending",
            "{}: retried later: {log}",
            server.db
        );
        assert_eq!(log["items"][0]["last_status"], 500, "{}: {log}", server.db);
    }
}

/// One advisory affecting many assets: their webhooks go out concurrently (a slow receiver
/// does not serialise them), and all arrive.
#[test]
fn webhooks_of_one_advisory_are_delivered_concurrently() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    const ASSETS: usize = 16;
    const RECEIVER_DELAY: Duration = Duration::from_millis(400);
    for db in databases() {
        let server = TestServer::start(&db);
        let listener = tiny_http::Server::http("127.0.0.1:0").unwrap();
        let url = format!("http://{}/hook", listener.server_addr().to_ip().unwrap());
        let in_flight = Arc::new(AtomicUsize::new(0));
        let most = Arc::new(AtomicUsize::new(0));
        let done = Arc::new(AtomicUsize::new(0));
        {
            let (in_flight, most, done) = (in_flight.clone(), most.clone(), done.clone());
            std::thread::spawn(move || {
                for request in listener.incoming_requests() {
                    let (in_flight, most, done) = (in_flight.clone(), most.clone(), done.clone());
                    std::thread::spawn(move || {
                        let now = in_flight.fetch_add(1, Ordering::SeqCst) + 1;
                        most.fetch_max(now, Ordering::SeqCst);
                        std::thread::sleep(RECEIVER_DELAY);
                        in_flight.fetch_sub(1, Ordering::SeqCst);
                        let _ = request.respond(tiny_http::Response::empty(200));
                        done.fetch_add(1, Ordering::SeqCst);
                    });
                }
            });
        }
        let (status, _) = server.post_json(
            "/api/v1/notifications/rules",
            ADMIN,
            &json!({"type": "webhook", "url": url, "secret": "a-long-enough-webhook-secret", "on": ["new_finding"]}),
        );
        assert_eq!(status, 201);
        for i in 0..ASSETS {
            let (status, reply) = server.post(
                &format!("/api/v1/reports?asset=svc-{i}"),
                ADMIN,
                &fixture("syft-minbase.cdx.json"),
            );
            assert_eq!(status, 201, "{}: {reply}", server.db);
        }
        let started = Instant::now();
        server.import_advisory(
            &debian_advisory("DSA-9999-4", "CVE-2099-0004", "coreutils", "9.1-2"),
            "many",
        );
        server.wait_for(Duration::from_secs(60), || {
            (done.load(Ordering::SeqCst) >= ASSETS).then_some(())
        });
        let took = started.elapsed();
        let most = most.load(Ordering::SeqCst);
        eprintln!(
            "{}: {ASSETS} webhooks at {RECEIVER_DELAY:?} each in {took:?}, at most {most} at once",
            server.db
        );
        assert!(
            most >= 4,
            "{}: at most {most} deliveries at once",
            server.db
        );
        assert!(
            took < RECEIVER_DELAY * (ASSETS as u32) / 2,
            "{}: {took:?} for {ASSETS} webhooks of {RECEIVER_DELAY:?}",
            server.db
        );
    }
}
