//! JUnit XML, HTML, Markdown and the table over the sample report.

use std::path::{Path, PathBuf};
use std::process::Command;

use quick_xml::events::Event;

use crate::common::*;

/// A tool the test needs from the system: skipped with a note when absent, except in CI
/// (`CI` set), where `.ci/run` installs it and its absence is a failure.
pub fn tool(name: &str, candidates: &[&str]) -> Option<PathBuf> {
    for c in candidates {
        let p = Path::new(c);
        if p.is_absolute() && p.exists() {
            return Some(p.to_path_buf());
        }
        if let Some(paths) = std::env::var_os("PATH") {
            for dir in std::env::split_paths(&paths) {
                if dir.join(c).is_file() {
                    return Some(dir.join(c));
                }
            }
        }
    }
    if std::env::var_os("CI").is_some() {
        panic!("{name} is not installed; .ci/run installs it");
    }
    eprintln!("skipping the {name} check: not installed (.ci/run installs it)");
    None
}

/// (suite name, tests, failures, skipped) and every failure's (type, message).
struct Junit {
    suites: Vec<(String, usize, usize, usize)>,
    failures: Vec<(String, String)>,
    testcase_names: Vec<String>,
    texts: String,
}

fn parse_junit(xml: &str) -> Junit {
    let mut reader = quick_xml::Reader::from_str(xml);
    let mut out = Junit {
        suites: Vec::new(),
        failures: Vec::new(),
        testcase_names: Vec::new(),
        texts: String::new(),
    };
    let attr = |e: &quick_xml::events::BytesStart, name: &str| -> String {
        e.try_get_attribute(name)
            .unwrap()
            .map(|a| {
                a.normalized_value(quick_xml::XmlVersion::Implicit1_0)
                    .unwrap()
                    .into_owned()
            })
            .unwrap_or_default()
    };
    loop {
        match reader.read_event().expect("well-formed XML") {
            Event::Eof => break,
            Event::Start(e) | Event::Empty(e) => match e.name().as_ref() {
                b"testsuite" => out.suites.push((
                    attr(&e, "name"),
                    attr(&e, "tests").parse().unwrap(),
                    attr(&e, "failures").parse().unwrap(),
                    attr(&e, "skipped").parse().unwrap(),
                )),
                b"testcase" => out.testcase_names.push(attr(&e, "name")),
                b"failure" => out.failures.push((attr(&e, "type"), attr(&e, "message"))),
                _ => {}
            },
            Event::Text(t) => out.texts.push_str(&t.decode().unwrap()),
            // Entity references arrive between text events (quick-xml 0.38+).
            Event::GeneralRef(r) => match r.resolve_char_ref().unwrap() {
                Some(c) => out.texts.push(c),
                None => out.texts.push_str(
                    quick_xml::escape::resolve_predefined_entity(&String::from_utf8_lossy(&r))
                        .expect("a predefined entity"),
                ),
            },
            _ => {}
        }
    }
    out
}

#[test]
fn junit_has_a_suite_per_scanner_and_a_failure_per_finding() {
    let report = sample_report();
    let xml = render(&report, Format::Junit);
    let j = parse_junit(&xml);
    let names: Vec<&str> = j.suites.iter().map(|s| s.0.as_str()).collect();
    assert_eq!(
        names,
        [
            "vulnerabilities",
            "secrets",
            "misconfigurations",
            "licenses",
            "gates"
        ]
    );
    // (tests, failures, skipped): 3 vulnerabilities + 2 suppressed, 2 secrets, 4 checks,
    // 1 licence, 2 gates of which 1 failed.
    let counts: Vec<(usize, usize, usize)> = j.suites.iter().map(|s| (s.1, s.2, s.3)).collect();
    assert_eq!(
        counts,
        [(5, 3, 2), (2, 2, 0), (4, 4, 0), (1, 1, 0), (2, 1, 0)]
    );
    assert!(j
        .failures
        .iter()
        .any(|(t, m)| t == "critical" && m.contains("CVE-2023-0001")));
    // Hostile text survives as text: escaped in the file, intact once parsed.
    assert!(!xml.contains("<script>"));
    assert!(j.testcase_names.iter().any(|n| n.contains(HOSTILE)));
    assert!(j.texts.contains("fix: fixed in 3.0.13-1"));
}

#[test]
fn junit_has_a_passing_case_for_a_clean_scanner() {
    let mut report = sample_report();
    report.secrets.clear();
    let j = parse_junit(&render(&report, Format::Junit));
    let secrets = j.suites.iter().find(|s| s.0 == "secrets").unwrap();
    assert_eq!((secrets.1, secrets.2), (1, 0), "one passing test case");
    assert!(j.testcase_names.iter().any(|n| n == "no secrets found"));
}

#[test]
fn junit_validates_against_the_ant_junit_schema() {
    let Some(xmllint) = tool("xmllint", &["xmllint"]) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let mut clean = sample_report();
    clean.vulnerabilities.clear();
    clean.gates.clear();
    for (name, report) in [("full", sample_report()), ("clean", clean)] {
        let file = dir.path().join(format!("{name}.xml"));
        std::fs::write(&file, render(&report, Format::Junit)).unwrap();
        let out = Command::new(&xmllint)
            .arg("--noout")
            .arg("--schema")
            .arg(schema_path("junit/JUnit.xsd"))
            .arg(&file)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// Every place an HTML document could load something: none may name a host.
pub fn assert_self_contained(html: &str) {
    let lower = html.to_ascii_lowercase();
    for banned in [
        "<script", "<link", "<img", "<iframe", "<object", "<embed", "@import", "url(",
    ] {
        assert!(!lower.contains(banned), "the report contains {banned}");
    }
    // `http(s)://` only as the target of a plain link.
    for (i, _) in lower.match_indices("http") {
        let rest = &lower[i..];
        if !(rest.starts_with("http://") || rest.starts_with("https://")) {
            continue;
        }
        let before = &lower[..i];
        assert!(
            before.ends_with("<a href=\""),
            "a URL outside a link: …{}…",
            &html[i.saturating_sub(60)..(i + 60).min(html.len())]
        );
    }
    assert!(lower.contains("content-security-policy"));
    assert!(lower.contains("default-src 'none'"));
}

#[test]
fn html_is_self_contained_and_escaped() {
    let report = sample_report();
    let html = render(&report, Format::Html);
    assert_self_contained(&html);
    assert!(!html.contains(HOSTILE), "the hostile name is escaped");
    assert!(html.contains("&lt;script&gt;alert(&#39;pwned&#39;)&lt;/script&gt;"));
    assert!(!html.contains("javascript:"), "only http(s) links");
    assert!(html.contains("<a href=\"https://example.org/advisories/CVE-2023-0001\""));
    assert!(html.contains("<svg"), "charts");
    assert!(html.contains("Findings by layer and severity"));
    assert!(html.contains("Gates: failed"));
    assert!(html.contains("AKIA****************"));
    assert!(html.contains("deploy/Dockerfile:7:1"));
    assert!(html.contains("GPL-3.0-only"));
}

/// Renders the page in headless Chromium and returns the DOM it built and its log.
pub fn chromium_dom(html_file: &Path) -> Option<(String, String)> {
    let chromium = tool(
        "chromium",
        &["chromium", "chromium-browser", "google-chrome"],
    )?;
    let profile = tempfile::tempdir().unwrap();
    let out = Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-dev-shm-usage",
            "--no-first-run",
            "--enable-logging=stderr",
            "--v=0",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg("--dump-dom")
        .arg(format!("file://{}", html_file.display()))
        .output()
        .expect("chromium runs");
    let dom = String::from_utf8_lossy(&out.stdout).into_owned();
    let log = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "chromium failed: {log}");
    Some((dom, log))
}

/// Console messages Chromium logged for the page (`CONSOLE(…)` lines), e.g. a CSP refusal.
pub fn console_messages(log: &str) -> Vec<&str> {
    log.lines().filter(|l| l.contains("CONSOLE")).collect()
}

#[test]
fn html_renders_in_headless_chromium_without_errors() {
    let report = sample_report();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("report.html");
    std::fs::write(&file, render(&report, Format::Html)).unwrap();
    let Some((dom, log)) = chromium_dom(&file) else {
        return;
    };
    assert_eq!(
        console_messages(&log),
        Vec::<&str>::new(),
        "no console output"
    );
    assert!(dom.contains("registry.example/app:1.2"), "{dom}");
    assert!(dom.contains("CVE-2023-0001"));
    assert!(dom.contains("<svg"), "the charts are in the DOM");
    // The hostile name is text in a cell, not an element.
    assert!(
        dom.contains("&lt;script&gt;alert('pwned')&lt;/script&gt;"),
        "{dom}"
    );
    assert!(!dom.contains("<script>alert"));

    // The check itself catches a page that injects markup: the CSP refusal is logged.
    let bad = dir.path().join("bad.html");
    std::fs::write(
        &bad,
        render(&report, Format::Html).replace("</body>", &format!("{HOSTILE}</body>")),
    )
    .unwrap();
    let (_, log) = chromium_dom(&bad).unwrap();
    assert!(
        !console_messages(&log).is_empty(),
        "an injected script is noticed"
    );
}

#[test]
fn markdown_summarises_and_escapes() {
    let report = sample_report();
    let md = render(&report, Format::Markdown);
    assert!(md.contains("**Gates: ❌ failed**"));
    assert!(
        md.contains("| Vulnerabilities | 2 | 1 | 0 | 0 | 0 | **3** |"),
        "{md}"
    );
    assert!(md.contains("### Top findings"));
    assert!(md.contains("<details><summary>Vulnerabilities (3)</summary>"));
    assert!(md.contains("2 findings suppressed (1 by ignore rules, 1 by VEX)"));
    assert!(!md.contains("<script>"), "no raw HTML from the image");
    assert!(md.contains("&lt;script&gt;"));
    // The hostile `|` cannot split a table row.
    for line in md.lines().filter(|l| l.contains("&lt;script&gt;")) {
        assert!(line.contains("\\|"), "{line}");
    }
}

#[test]
fn markdown_stays_within_the_comment_limit() {
    let mut report = sample_report();
    let template = report.vulnerabilities[2].clone();
    for i in 0..5000 {
        let mut f = template.clone();
        f.id = format!("GHSA-{i:04}-xxxx-yyyy");
        f.ids = vec![f.id.clone()];
        report.vulnerabilities.push(f);
    }
    let md = bulwark_report::markdown::render(&report);
    assert!(md.chars().count() <= bulwark_report::markdown::COMMENT_LIMIT);
    assert!(md.contains("more not shown to keep this comment within its size limit"));
    assert!(
        md.contains("| Vulnerabilities | 2 | 5001 |"),
        "the summary counts all"
    );
    // Even a tiny limit is honoured.
    let tiny = bulwark_report::markdown::render_within(&report, 500);
    assert!(tiny.chars().count() <= 500);
    assert!(tiny.contains("Cut to fit"));
}

#[test]
fn table_shows_every_kind_and_colours_only_when_asked() {
    let report = sample_report();
    let plain = render(&report, Format::Table);
    assert!(!plain.contains('\x1b'), "no escape codes without colour");
    for needle in [
        "VULNERABILITIES (3)",
        "SECRETS (2)",
        "MISCONFIGURATIONS (4)",
        "LICENSES (1)",
        "suppressed: 2 (1 by ignore rules, 1 by VEX",
        "gate vulnerabilities",
        "FAIL",
        "BW-DF-002",
        "deploy/Dockerfile:7:1",
    ] {
        assert!(plain.contains(needle), "{needle} in\n{plain}");
    }
    let coloured = bulwark_report::render_with(
        &report,
        Format::Table,
        bulwark_report::RenderOptions { color: true },
    );
    assert!(coloured.contains("\x1b[1;35mCRITICAL"));
    assert!(!plain.contains(SECRET_VALUE));
}
