//! Deliveries to real receivers started by each test: an HTTP server (tiny_http) and an SMTP
//! sink (std::net) on 127.0.0.1, plus rule parsing and matching.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use bulwark_notify::{
    parse_rules, verify_signature, AssetRef, DeliveryOptions, DeliveryStatus, Event, EventKind,
    Finding, Notifier, PackageRef, Publisher, Rule, RuleConfig,
};
use bulwark_types::Severity;
use serde_json::Value;

const SECRET: &str = "0123456789abcdef-test-secret";

/// One request a receiver got.
#[derive(Debug)]
struct Received {
    url: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Received {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).expect("the body is JSON")
    }
}

/// An HTTP receiver on 127.0.0.1 answering every request with `status` (and `headers`); the
/// requests arrive on the returned channel.
fn receiver(status: u16, headers: &[(&str, &str)]) -> (String, mpsc::Receiver<Received>) {
    let server = tiny_http::Server::http("127.0.0.1:0").unwrap();
    let base = format!("http://{}", server.server_addr().to_ip().unwrap());
    let headers: Vec<tiny_http::Header> = headers
        .iter()
        .map(|(k, v)| tiny_http::Header::from_bytes(k.as_bytes(), v.as_bytes()).unwrap())
        .collect();
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        for mut request in server.incoming_requests() {
            let mut body = Vec::new();
            let _ = request.as_reader().read_to_end(&mut body);
            let got = Received {
                url: request.url().to_string(),
                headers: request
                    .headers()
                    .iter()
                    .map(|h| (h.field.to_string(), h.value.to_string()))
                    .collect(),
                body,
            };
            let mut response =
                tiny_http::Response::from_string("receiver says no").with_status_code(status);
            for h in &headers {
                response.add_header(h.clone());
            }
            let _ = request.respond(response);
            if tx.send(got).is_err() {
                break;
            }
        }
    });
    (base, rx)
}

fn event(kind: EventKind) -> Event {
    Event {
        kind,
        time: time::macros::datetime!(2026-12-07 18:00:00 UTC),
        finding: Finding {
            vulnerability_id: "CVE-2024-3094".to_string(),
            aliases: vec!["GHSA-rxwq-x6h5-x525".to_string()],
            severity: Severity::Critical,
            cvss: Some(10.0),
            epss: Some(0.85),
            kev: true,
            fixed_versions: vec!["5.6.1+really5.4.5-1".to_string()],
        },
        package: PackageRef {
            name: "xz-utils".to_string(),
            version: "5.6.0-0.1".to_string(),
            purl: Some("pkg:deb/debian/xz-utils@5.6.0-0.1".to_string()),
        },
        asset: AssetRef {
            name: "registry.example.com/shop/api".to_string(),
            version: Some("1.4.2".to_string()),
            digest: Some("sha256:aaaa".to_string()),
            team: Some("payments".to_string()),
            owner: Some("alice@example.com".to_string()),
        },
        dashboard_url: Some("https://bulwark.example.com/findings/1".to_string()),
        changed: Vec::new(),
    }
}

fn one_rule(yaml: &str) -> Rule {
    let mut rules = parse_rules(yaml, "test.yaml").unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(rules.len(), 1);
    rules.remove(0)
}

fn notifier(timeout: Duration) -> Notifier {
    Notifier::new(DeliveryOptions {
        connect_timeout: timeout,
        timeout,
        ca_certs: Vec::new(),
    })
    .unwrap()
}

fn recv(rx: &mpsc::Receiver<Received>) -> Received {
    rx.recv_timeout(Duration::from_secs(10))
        .expect("the receiver got the request")
}

#[test]
fn webhook_body_is_signed_with_the_rule_secret() {
    let (base, rx) = receiver(200, &[]);
    let rule = one_rule(&format!(
        "- {{type: webhook, url: '{base}/hook', secret: {SECRET}, headers: {{Authorization: Bearer t0k3n}}}}"
    ));
    let result = notifier(Duration::from_secs(10)).deliver(
        &rule.publisher,
        &event(EventKind::NewFinding),
        "delivery-1",
    );
    assert_eq!(result.status, DeliveryStatus::Delivered, "{result:?}");
    assert_eq!(result.http_status, Some(200));
    let got = recv(&rx);
    assert_eq!(got.url, "/hook");
    assert_eq!(got.header("X-Bulwark-Event"), Some("new_finding"));
    assert_eq!(got.header("X-Bulwark-Delivery"), Some("delivery-1"));
    assert_eq!(got.header("Authorization"), Some("Bearer t0k3n"));
    assert!(got
        .header("Content-Type")
        .unwrap()
        .starts_with("application/json"));
    let signature = got.header("X-Bulwark-Signature").unwrap();
    assert!(signature.starts_with("sha256="), "{signature}");
    assert!(verify_signature(SECRET.as_bytes(), &got.body, signature));
    assert!(!verify_signature(
        b"another-secret-of-16-chars",
        &got.body,
        signature
    ));
    let mut tampered = got.body.clone();
    tampered.push(b' ');
    assert!(!verify_signature(SECRET.as_bytes(), &tampered, signature));

    let body = got.json();
    assert_eq!(body["schema"], "bulwark.notification/v1");
    assert_eq!(body["delivery_id"], "delivery-1");
    assert_eq!(body["event"], "new_finding");
    assert_eq!(body["time"], "2026-12-07T18:00:00Z");
    assert_eq!(body["finding"]["vulnerability_id"], "CVE-2024-3094");
    assert_eq!(body["finding"]["aliases"][0], "GHSA-rxwq-x6h5-x525");
    assert_eq!(body["finding"]["severity"], "critical");
    assert_eq!(body["finding"]["kev"], true);
    assert_eq!(body["finding"]["fixable"], true);
    assert_eq!(body["finding"]["epss"], 0.85);
    assert_eq!(body["package"]["name"], "xz-utils");
    assert_eq!(body["package"]["version"], "5.6.0-0.1");
    assert_eq!(body["package"]["purl"], "pkg:deb/debian/xz-utils@5.6.0-0.1");
    assert_eq!(body["asset"]["name"], "registry.example.com/shop/api");
    assert_eq!(body["asset"]["digest"], "sha256:aaaa");
    assert_eq!(body["asset"]["team"], "payments");
    assert_eq!(
        body["dashboard_url"],
        "https://bulwark.example.com/findings/1"
    );
}

#[test]
fn chat_bodies_have_the_documented_shapes() {
    let notifier = notifier(Duration::from_secs(10));
    let event = event(EventKind::ResolvedFinding);

    let (base, rx) = receiver(200, &[]);
    let slack = one_rule(&format!(
        "- {{type: slack, url: '{base}/services/T0/B0/X'}}"
    ));
    let result = notifier.deliver(&slack.publisher, &event, "d-slack");
    assert_eq!(result.status, DeliveryStatus::Delivered, "{result:?}");
    let body = recv(&rx).json();
    let text = body["text"].as_str().unwrap();
    assert!(
        text.starts_with("Vulnerability resolved: CVE-2024-3094"),
        "{text}"
    );
    let blocks = body["blocks"].as_array().unwrap();
    assert_eq!(blocks[0]["type"], "header");
    assert_eq!(blocks[1]["type"], "section");
    assert!(blocks[1]["fields"].as_array().unwrap().len() <= 10);
    assert!(body.to_string().contains("xz-utils 5.6.0-0.1"));

    let (base, rx) = receiver(200, &[]);
    let teams = one_rule(&format!("- {{type: teams, url: '{base}/webhookb2/x'}}"));
    let result = notifier.deliver(&teams.publisher, &event, "d-teams");
    assert_eq!(result.status, DeliveryStatus::Delivered, "{result:?}");
    let body = recv(&rx).json();
    assert_eq!(body["type"], "message");
    let attachment = &body["attachments"][0];
    assert_eq!(
        attachment["contentType"],
        "application/vnd.microsoft.card.adaptive"
    );
    let card = &attachment["content"];
    assert_eq!(card["type"], "AdaptiveCard");
    assert_eq!(card["body"][0]["type"], "TextBlock");
    assert_eq!(card["body"][1]["type"], "FactSet");
    assert_eq!(card["actions"][0]["type"], "Action.OpenUrl");

    let (base, rx) = receiver(200, &[]);
    let mattermost = one_rule(&format!("- {{type: mattermost, url: '{base}/hooks/x'}}"));
    let result = notifier.deliver(&mattermost.publisher, &event, "d-mm");
    assert_eq!(result.status, DeliveryStatus::Delivered, "{result:?}");
    let body = recv(&rx).json();
    let text = body["text"].as_str().unwrap();
    assert!(
        text.starts_with("#### Vulnerability resolved: CVE-2024-3094"),
        "{text}"
    );
    assert!(text.contains("**Severity:** CRITICAL"), "{text}");
}

#[test]
fn receiver_answers_decide_retry_or_failure() {
    let notifier = notifier(Duration::from_secs(10));
    let event = event(EventKind::NewFinding);
    let deliver = |status: u16, headers: &[(&str, &str)]| {
        let (base, rx) = receiver(status, headers);
        let rule = one_rule(&format!(
            "- {{type: webhook, url: '{base}/', secret: {SECRET}}}"
        ));
        let result = notifier.deliver(&rule.publisher, &event, "d");
        recv(&rx);
        result
    };

    let r = deliver(500, &[]);
    assert_eq!(r.status, DeliveryStatus::Retry { after: None }, "{r:?}");
    assert_eq!(r.http_status, Some(500));
    assert!(r
        .error
        .as_deref()
        .unwrap()
        .contains("HTTP 500: receiver says no"));

    let r = deliver(503, &[("Retry-After", "7")]);
    assert_eq!(
        r.status,
        DeliveryStatus::Retry {
            after: Some(Duration::from_secs(7))
        }
    );
    let r = deliver(429, &[]);
    assert_eq!(r.status, DeliveryStatus::Retry { after: None });
    let r = deliver(408, &[]);
    assert_eq!(r.status, DeliveryStatus::Retry { after: None });

    let r = deliver(400, &[]);
    assert_eq!(r.status, DeliveryStatus::Failed, "{r:?}");
    assert_eq!(r.http_status, Some(400));
    let r = deliver(404, &[]);
    assert_eq!(r.status, DeliveryStatus::Failed);
    let r = deliver(204, &[]);
    assert_eq!(r.status, DeliveryStatus::Delivered);
}

#[test]
fn a_receiver_that_never_answers_is_retried_after_the_timeout() {
    // Accepts connections and reads, never answers.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming().flatten() {
            held.push(stream);
        }
    });
    let rule = one_rule(&format!(
        "- {{type: webhook, url: 'http://{addr}/', secret: {SECRET}}}"
    ));
    let start = Instant::now();
    let result = notifier(Duration::from_millis(500)).deliver(
        &rule.publisher,
        &event(EventKind::NewFinding),
        "d",
    );
    let wall = start.elapsed();
    assert_eq!(
        result.status,
        DeliveryStatus::Retry { after: None },
        "{result:?}"
    );
    assert!(
        result.error.as_deref().unwrap().contains("in time"),
        "{result:?}"
    );
    assert!(
        wall >= Duration::from_millis(400) && wall < Duration::from_secs(5),
        "{wall:?}"
    );
}

#[test]
fn a_refused_connection_is_retried_and_the_error_hides_the_chat_url() {
    let port = {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let rule = one_rule(&format!(
        "- {{type: slack, url: 'http://127.0.0.1:{port}/services/T0/B0/SECRETPATH'}}"
    ));
    let result = notifier(Duration::from_secs(5)).deliver(
        &rule.publisher,
        &event(EventKind::NewFinding),
        "d",
    );
    assert_eq!(
        result.status,
        DeliveryStatus::Retry { after: None },
        "{result:?}"
    );
    let error = result.error.unwrap();
    assert!(!error.contains("SECRETPATH"), "{error}");
}

#[test]
fn redirects_are_followed_only_to_the_same_origin() {
    let notifier = notifier(Duration::from_secs(10));
    let event = event(EventKind::NewFinding);

    // 308 to the same host and port: followed, the body signed as sent.
    let server = tiny_http::Server::http("127.0.0.1:0").unwrap();
    let base = format!("http://{}", server.server_addr().to_ip().unwrap());
    let (tx, got) = mpsc::channel();
    thread::spawn(move || {
        for mut request in server.incoming_requests() {
            let mut body = Vec::new();
            let _ = request.as_reader().read_to_end(&mut body);
            let url = request.url().to_string();
            let response = if url == "/old" {
                tiny_http::Response::from_string("")
                    .with_status_code(308)
                    .with_header(tiny_http::Header::from_bytes("Location", "/new").unwrap())
            } else {
                tiny_http::Response::from_string("ok")
            };
            let _ = request.respond(response);
            let _ = tx.send((url, body));
        }
    });
    let rule = one_rule(&format!(
        "- {{type: webhook, url: '{base}/old', secret: {SECRET}}}"
    ));
    let result = notifier.deliver(&rule.publisher, &event, "d");
    assert_eq!(result.status, DeliveryStatus::Delivered, "{result:?}");
    let (first, first_body) = got.recv_timeout(Duration::from_secs(5)).unwrap();
    let (second, second_body) = got.recv_timeout(Duration::from_secs(5)).unwrap();
    assert_eq!((first.as_str(), second.as_str()), ("/old", "/new"));
    assert_eq!(first_body, second_body);

    // 307 to another origin (localhost is not 127.0.0.1): not followed.
    let (elsewhere, elsewhere_rx) = receiver(200, &[]);
    let elsewhere = elsewhere.replace("127.0.0.1", "localhost");
    let (base, rx) = receiver(307, &[("Location", &format!("{elsewhere}/steal"))]);
    let rule = one_rule(&format!(
        "- {{type: webhook, url: '{base}/', secret: {SECRET}}}"
    ));
    let result = notifier.deliver(&rule.publisher, &event, "d");
    recv(&rx);
    assert_eq!(result.status, DeliveryStatus::Failed, "{result:?}");
    assert!(result.error.unwrap().contains("another host"));
    assert!(elsewhere_rx
        .recv_timeout(Duration::from_millis(300))
        .is_err());

    // A 302 (which would turn the POST into a GET): not followed.
    let (base, rx) = receiver(302, &[("Location", "/x")]);
    let rule = one_rule(&format!("- {{type: slack, url: '{base}/hook'}}"));
    let result = notifier.deliver(&rule.publisher, &event, "d");
    recv(&rx);
    assert_eq!(result.status, DeliveryStatus::Failed, "{result:?}");
    assert_eq!(result.http_status, Some(302));
}

/// A minimal SMTP server: answers the client's commands, records AUTH and the DATA, and
/// answers `RCPT TO` with `rcpt_reply`.
fn smtp_sink(rcpt_reply: &'static str) -> (u16, mpsc::Receiver<(Vec<String>, String)>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let tx = tx.clone();
            thread::spawn(move || {
                let _ = smtp_session(stream, rcpt_reply, &tx);
            });
        }
    });
    (port, rx)
}

fn smtp_session(
    stream: TcpStream,
    rcpt_reply: &str,
    tx: &mpsc::Sender<(Vec<String>, String)>,
) -> std::io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    let mut out = stream.try_clone()?;
    let mut reader = BufReader::new(stream);
    let mut commands = Vec::new();
    out.write_all(b"220 sink ESMTP\r\n")?;
    let mut line = String::new();
    loop {
        line.clear();
        if reader.read_line(&mut line)? == 0 {
            return Ok(());
        }
        let command = line.trim_end().to_string();
        commands.push(command.clone());
        let upper = command.to_ascii_uppercase();
        if upper.starts_with("EHLO") {
            out.write_all(b"250-sink\r\n250-AUTH PLAIN LOGIN\r\n250 8BITMIME\r\n")?;
        } else if upper.starts_with("AUTH") {
            out.write_all(b"235 2.7.0 ok\r\n")?;
        } else if upper.starts_with("RCPT") {
            out.write_all(format!("{rcpt_reply}\r\n").as_bytes())?;
        } else if upper == "DATA" {
            out.write_all(b"354 go ahead\r\n")?;
            let mut data = String::new();
            loop {
                line.clear();
                if reader.read_line(&mut line)? == 0 {
                    return Ok(());
                }
                if line == ".\r\n" {
                    break;
                }
                data.push_str(&line);
            }
            out.write_all(b"250 2.0.0 queued\r\n")?;
            let _ = tx.send((commands.clone(), data));
        } else if upper == "QUIT" {
            out.write_all(b"221 bye\r\n")?;
            return Ok(());
        } else {
            out.write_all(b"250 ok\r\n")?;
        }
    }
}

#[test]
fn email_reaches_an_smtp_sink_with_subject_and_body() {
    let (port, rx) = smtp_sink("250 ok");
    let rule = one_rule(&format!(
        "- type: email\n  smtp: {{host: 127.0.0.1, port: {port}, tls: none, username: bulwark, password: hunter2-smtp}}\n  from: Bulwark <bulwark@example.com>\n  to: [sec@example.com, ops@example.com]\n"
    ));
    let result = notifier(Duration::from_secs(10)).deliver(
        &rule.publisher,
        &event(EventKind::NewFinding),
        "mail-1",
    );
    assert_eq!(result.status, DeliveryStatus::Delivered, "{result:?}");
    let (commands, data) = rx.recv_timeout(Duration::from_secs(10)).unwrap();
    assert!(
        commands.iter().any(|c| c.starts_with("AUTH")),
        "{commands:?}"
    );
    assert!(commands.iter().any(
        |c| c.eq_ignore_ascii_case("MAIL FROM:<bulwark@example.com>")
            || c.starts_with("MAIL FROM:<bulwark@example.com>")
    ));
    assert_eq!(
        commands
            .iter()
            .filter(|c| c.starts_with("RCPT TO:"))
            .count(),
        2
    );
    // Long header lines are folded: unfold before comparing.
    let unfolded = data.replace("\r\n ", " ").replace("\r\n\t", " ");
    let subject = unfolded
        .lines()
        .find_map(|l| l.strip_prefix("Subject: "))
        .expect("a Subject header");
    assert_eq!(
        subject,
        "[bulwark] CRITICAL CVE-2024-3094 in registry.example.com/shop/api:1.4.2 (xz-utils 5.6.0-0.1)"
    );
    assert!(unfolded.contains("Content-Type: text/plain"), "{unfolded}");
    let (_, body) = unfolded.split_once("\r\n\r\n").unwrap();
    assert!(
        body.contains("New vulnerability: CVE-2024-3094 (CRITICAL) in xz-utils"),
        "{body}"
    );
    assert!(body.contains("Known exploited (KEV)  yes"), "{body}");
    assert!(
        body.contains("https://bulwark.example.com/findings/1"),
        "{body}"
    );
    assert!(body.contains("delivery mail-1"), "{body}");
}

#[test]
fn smtp_answers_decide_retry_or_failure() {
    let mail_rule = |port: u16| {
        one_rule(&format!(
            "- {{type: email, smtp: {{host: 127.0.0.1, port: {port}, tls: none}}, from: a@example.com, to: [b@example.com]}}"
        ))
    };
    let notifier = notifier(Duration::from_secs(5));
    let event = event(EventKind::NewFinding);

    let (port, _rx) = smtp_sink("550 5.1.1 no such user");
    let result = notifier.deliver(&mail_rule(port).publisher, &event, "d");
    assert_eq!(result.status, DeliveryStatus::Failed, "{result:?}");
    assert!(result.error.unwrap().contains("no such user"));

    let (port, _rx) = smtp_sink("451 4.3.0 try later");
    let result = notifier.deliver(&mail_rule(port).publisher, &event, "d");
    assert_eq!(
        result.status,
        DeliveryStatus::Retry { after: None },
        "{result:?}"
    );

    let closed = {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let result = notifier.deliver(&mail_rule(closed).publisher, &event, "d");
    assert_eq!(
        result.status,
        DeliveryStatus::Retry { after: None },
        "{result:?}"
    );
}

/// A matching-table row: the rule's filters, how the event differs from [`event`], the answer.
type MatchCase = (&'static str, fn(&mut Event), bool);

/// Rules from the config shape against events.
#[test]
fn rule_matching_table() {
    let base = format!("type: webhook, url: 'https://h.example.com/', secret: {SECRET}");
    let cases: &[MatchCase] = &[
        ("", |_| {}, true),
        ("", |e| e.kind = EventKind::ResolvedFinding, false),
        ("", |e| e.kind = EventKind::Test, true),
        ("on: [resolved_finding]", |e| e.kind = EventKind::ResolvedFinding, true),
        ("on: [resolved_finding]", |_| {}, false),
        ("on: [new_finding, changed_finding]", |e| e.kind = EventKind::ChangedFinding, true),
        ("min_severity: high", |_| {}, true),
        ("min_severity: high", |e| e.finding.severity = Severity::High, true),
        ("min_severity: high", |e| e.finding.severity = Severity::Medium, false),
        ("min_severity: low", |e| e.finding.severity = Severity::Unknown, false),
        ("kev_only: true", |_| {}, true),
        ("kev_only: true", |e| e.finding.kev = false, false),
        ("kev_only: false", |e| e.finding.kev = false, true),
        ("epss_threshold: 0.5", |_| {}, true),
        ("epss_threshold: 0.85", |_| {}, true),
        ("epss_threshold: 0.9", |_| {}, false),
        ("epss_threshold: 0.1", |e| e.finding.epss = None, false),
        ("fixable_only: true", |_| {}, true),
        ("fixable_only: true", |e| e.finding.fixed_versions.clear(), false),
        ("team: payments", |_| {}, true),
        ("team: payments", |e| e.asset.team = Some("search".into()), false),
        ("team: payments", |e| e.asset.team = None, false),
        ("enabled: false", |_| {}, false),
        ("enabled: false", |e| e.kind = EventKind::Test, false),
        // Filters do not apply to the test event.
        ("min_severity: critical, kev_only: true, team: x", |e| {
            e.kind = EventKind::Test;
            e.finding.severity = Severity::Low;
            e.finding.kev = false;
        }, true),
        ("min_severity: critical, kev_only: true, fixable_only: true, team: payments, epss_threshold: 0.8", |_| {}, true),
        ("min_severity: critical, kev_only: true, fixable_only: true, team: payments, epss_threshold: 0.8",
         |e| e.finding.fixed_versions.clear(), false),
    ];
    for (filters, change, expected) in cases {
        let sep = if filters.is_empty() { "" } else { ", " };
        let rule = one_rule(&format!("- {{{base}{sep}{filters}}}"));
        let mut e = event(EventKind::NewFinding);
        change(&mut e);
        assert_eq!(rule.matches(&e), *expected, "rule {{{filters}}} on {e:?}");
    }
}

/// Each bad config names the key at fault.
#[test]
fn config_errors_name_the_key() {
    let cases: &[(&str, &str)] = &[
        ("- {type: webhook, url: 'https://h.example.com/'}", "secret: missing"),
        ("- {type: webhook, url: 'https://h.example.com/', secret: short}", "secret: too short"),
        ("- {type: webhook, secret: 0123456789abcdef0}", "url: missing"),
        ("- {type: webhook, url: 'ftp://h.example.com/', secret: 0123456789abcdef0}", "url: the scheme is `ftp`"),
        ("- {type: webhook, url: 'not a url', secret: 0123456789abcdef0}", "url: not a valid URL"),
        ("- {type: pager, url: 'https://h.example.com/'}", "type: unknown publisher `pager`"),
        ("- {url: 'https://h.example.com/'}", "type: missing"),
        ("- {type: slack, url: 'https://h.example.com/', urll: x}", "unknown field `urll`"),
        ("- {type: slack, url: 'https://h.example.com/', secret: 0123456789abcdef0}", "secret: not a setting of a `slack` rule"),
        ("- {type: slack, url: 'https://h.example.com/', min_severity: hgh}", "hgh"),
        ("- {type: slack, url: 'https://h.example.com/', on: [new_findings]}", "new_findings"),
        ("- {type: slack, url: 'https://h.example.com/', on: []}", "on: empty"),
        ("- {type: slack, url: 'https://h.example.com/', epss_threshold: 2}", "epss_threshold: 2 is not a probability"),
        ("- {type: webhook, url: 'https://h.example.com/', secret: 0123456789abcdef0, headers: {X-Bulwark-Event: x}}", "headers.X-Bulwark-Event: set by bulwark itself"),
        ("- {type: email, from: a@example.com, to: [b@example.com]}", "smtp: missing"),
        ("- {type: email, smtp: {port: 25}, from: a@example.com, to: [b@example.com]}", "smtp.host: missing"),
        ("- {type: email, smtp: {host: h, hots: x}, from: a@example.com, to: [b@example.com]}", "unknown field `hots`"),
        ("- {type: email, smtp: {host: h}, to: [b@example.com]}", "from: missing"),
        ("- {type: email, smtp: {host: h}, from: a@example.com}", "to: missing"),
        ("- {type: email, smtp: {host: h}, from: a@example.com, to: [b@example.com, not-an-address]}", "to[1]: not an e-mail address"),
        ("- {type: email, smtp: {host: h, username: u}, from: a@example.com, to: [b@example.com]}", "smtp.password: missing"),
        ("- {type: email, smtp: {host: mail.example.com, tls: none, username: u, password: p}, from: a@example.com, to: [b@example.com]}", "smtp.tls: `none` would send smtp.password in plain text"),
        ("- {type: email, smtp: {host: h, tls: ssl}, from: a@example.com, to: [b@example.com]}", "ssl"),
    ];
    for (yaml, expected) in cases {
        let error = parse_rules(yaml, "bulwark.yaml")
            .expect_err(yaml)
            .to_string();
        assert!(error.starts_with("bulwark.yaml"), "{yaml}: {error}");
        assert!(
            error.contains(expected),
            "{yaml}: {error} (expected `{expected}`)"
        );
        assert!(!error.contains("0123456789abcdef0"), "{error}");
    }
    // The position of the bad rule in the list is named too.
    let error = parse_rules(
        "- {type: slack, url: 'https://a.example.com/'}\n- {type: slack}\n",
        "bulwark.yaml",
    )
    .unwrap_err();
    assert!(error.to_string().contains("url: missing"), "{error}");
    assert_eq!(error.line, Some(2), "{error}");
}

#[test]
fn secrets_never_show_in_debug_or_serialized_rules() {
    let rules = parse_rules(
        "- {type: webhook, url: 'https://h.example.com/hook?token=QUERYSECRET', secret: WEBHOOKSECRET-0123, headers: {Authorization: HEADERSECRET}}
- {type: slack, url: 'https://hooks.slack.com/services/T0/B0/SLACKSECRET'}
- {type: teams, url: 'https://example.webhook.office.com/webhookb2/TEAMSSECRET'}
- {type: mattermost, url: 'https://mm.example.com/hooks/MMSECRET'}
- {type: email, smtp: {host: smtp.example.com, username: u, password: SMTPSECRET}, from: a@example.com, to: [b@example.com]}
",
        "bulwark.yaml",
    )
    .unwrap();
    let secrets = [
        "QUERYSECRET",
        "WEBHOOKSECRET",
        "HEADERSECRET",
        "SLACKSECRET",
        "TEAMSSECRET",
        "MMSECRET",
        "SMTPSECRET",
    ];
    let debug = format!("{rules:?} {rules:#?}");
    let json = serde_json::to_string(&rules).unwrap();
    let targets: Vec<String> = rules.iter().map(|r| r.publisher.target()).collect();
    let names: Vec<&str> = rules.iter().map(|r| r.name.as_str()).collect();
    let configs = format!(
        "{:?}",
        rules.iter().map(Rule::to_config).collect::<Vec<_>>()
    );
    for secret in secrets {
        assert!(!debug.contains(secret), "{secret} in {debug}");
        assert!(!json.contains(secret), "{secret} in {json}");
        assert!(
            !format!("{targets:?} {names:?}").contains(secret),
            "{secret}"
        );
        assert!(!configs.contains(secret), "{secret} in {configs}");
    }
    assert!(json.contains("https://hooks.slack.com/***"), "{json}");

    // The storage form keeps everything and reads back to the same rules.
    for rule in &rules {
        let stored = serde_json::to_string(&rule.to_config()).unwrap();
        let back: Rule = serde_json::from_str(&stored).unwrap();
        assert_eq!(&back, rule);
    }
    // A masked rule sent back (API read-modify-write) keeps the stored secrets.
    for rule in &rules {
        let mut echoed: RuleConfig =
            serde_json::from_value(serde_json::to_value(rule).unwrap()).unwrap();
        echoed.name = Some("renamed".to_string());
        echoed.keep_secrets_from(rule);
        let updated = echoed.validate().unwrap();
        assert_eq!(updated.name, "renamed");
        assert_eq!(updated.publisher, rule.publisher);
    }
}

#[test]
fn a_rule_from_the_api_deserializes_from_json_too() {
    let rule: Rule = serde_json::from_str(&format!(
        r#"{{"type":"webhook","url":"https://h.example.com/","secret":"{SECRET}","on":["resolved_finding","new_finding","new_finding"],"min_severity":"medium"}}"#
    ))
    .unwrap();
    assert_eq!(
        rule.on,
        vec![EventKind::NewFinding, EventKind::ResolvedFinding]
    );
    assert_eq!(rule.name, "webhook https://h.example.com/");
    assert!(matches!(rule.publisher, Publisher::Webhook { .. }));
    let error =
        serde_json::from_str::<Rule>(r#"{"type":"webhook","url":"https://h.example.com/"}"#)
            .unwrap_err()
            .to_string();
    assert!(error.contains("secret: missing"), "{error}");
}
