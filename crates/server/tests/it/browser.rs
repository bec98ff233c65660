//! The dashboard in a real browser (issue 14): Debian's Chromium, headless, driven through
//! WebDriver (`chromedriver`, package `chromium-driver`) by a small HTTP client. Logs in,
//! uploads a report through the API, finds the asset in the portfolio, finds on the asset
//! page the layer that brought the vulnerability, triages it in the page and sees it
//! suppressed in the exported VEX, reads the trend chart's numbers and compares them with the
//! API, runs axe-core (vendored, `tests/data/axe-core`) on every page (no serious or critical
//! violation), reads the browser log (no console errors) and saves a screenshot of every page
//! under `target/dashboard-screenshots/`.
//!
//! Skips, saying so, only when `chromedriver` is not installed (CI installs it).

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine as _;
use bulwark_store::testing::databases;
use serde_json::{json, Value};

use crate::common::{debian_advisory, fixture, TestServer, ADMIN};
use crate::dashboard::{start, PASSWORD};

fn find_on_path(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|p| p.join(name))
            .find(|p| p.is_file())
    })
}

struct Driver {
    child: Child,
    base: String,
    session: String,
    agent: ureq::Agent,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self
            .agent
            .delete(format!("{}/session/{}", self.base, self.session))
            .call();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Driver {
    fn start(chromedriver: &Path) -> Driver {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new(chromedriver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let base = format!("http://127.0.0.1:{port}");
        let agent = ureq::Agent::new_with_config(
            ureq::config::Config::builder()
                .http_status_as_error(false)
                .timeout_global(Some(Duration::from_secs(120)))
                .build(),
        );
        let started = Instant::now();
        loop {
            if let Ok(mut r) = agent.get(format!("{base}/status")).call() {
                let v: Value = r.body_mut().read_json().unwrap_or_default();
                if v["value"]["ready"] == true {
                    break;
                }
            }
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "chromedriver did not get ready"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        let chromium = find_on_path("chromium").unwrap_or_else(|| "/usr/bin/chromium".into());
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": chromium,
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                         "--window-size=1280,1000", "--no-first-run", "--disable-extensions"]
            },
            "goog:loggingPrefs": {"browser": "ALL"}
        }}});
        let mut r = agent
            .post(format!("{base}/session"))
            .send_json(&caps)
            .unwrap();
        let v: Value = r.body_mut().read_json().unwrap();
        let session = v["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no WebDriver session: {v}"))
            .to_string();
        Driver {
            child,
            base,
            session,
            agent,
        }
    }

    fn call(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let url = format!("{}/session/{}{path}", self.base, self.session);
        let mut r = match (method, body) {
            ("GET", _) => self.agent.get(&url).call(),
            ("POST", Some(b)) => self.agent.post(&url).send_json(&b),
            ("POST", None) => self.agent.post(&url).send_json(json!({})),
            (m, _) => panic!("method {m}"),
        }
        .unwrap();
        let status = r.status().as_u16();
        let v: Value = r.body_mut().read_json().unwrap_or_default();
        assert!(status < 300, "WebDriver {method} {path}: {status} {v}");
        v["value"].clone()
    }

    fn go(&self, url: &str) {
        self.call("POST", "/url", Some(json!({"url": url})));
    }

    fn script(&self, script: &str, args: Value) -> Value {
        self.call(
            "POST",
            "/execute/sync",
            Some(json!({"script": script, "args": args})),
        )
    }

    fn element(&self, css: &str) -> String {
        let v = self.call(
            "POST",
            "/element",
            Some(json!({"using": "css selector", "value": css})),
        );
        v.as_object()
            .and_then(|o| o.values().next())
            .and_then(Value::as_str)
            .unwrap_or_else(|| panic!("no element {css}"))
            .to_string()
    }

    fn type_into(&self, css: &str, text: &str) {
        let id = self.element(css);
        self.call(
            "POST",
            &format!("/element/{id}/value"),
            Some(json!({"text": text})),
        );
    }

    fn click(&self, css: &str) {
        let id = self.element(css);
        self.call("POST", &format!("/element/{id}/click"), None);
    }

    /// Polls `check` (a form submit navigates after the click returns) for up to 15 s.
    fn wait_until(&self, what: &str, mut check: impl FnMut(&Driver) -> bool) {
        let started = Instant::now();
        while !check(self) {
            assert!(
                started.elapsed() < Duration::from_secs(15),
                "timed out waiting for {what}: at {}: {}",
                self.current_url(),
                self.source().chars().take(3000).collect::<String>()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn current_url(&self) -> String {
        self.call("GET", "/url", None)
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    fn source(&self) -> String {
        self.call("GET", "/source", None)
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    fn screenshot(&self, dir: &Path, name: &str) {
        let png = self.call("GET", "/screenshot", None);
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(png.as_str().unwrap_or_default())
            .unwrap();
        std::fs::write(dir.join(format!("{name}.png")), bytes).unwrap();
    }

    /// axe-core's serious and critical violations of the current page (WCAG 2.0/2.1 A and AA).
    fn axe(&self, axe_source: &str) -> Vec<String> {
        self.script(&format!("{axe_source}\nreturn true;"), json!([]));
        let v = self.call(
            "POST",
            "/execute/async",
            Some(json!({"script": "const done = arguments[arguments.length - 1];\
                axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}})\
                .then(r => done(r.passes.length === 0 ? ['axe checked nothing'] : r.violations.filter(v => v.impact === 'serious' || v.impact === 'critical')\
                  .map(v => v.impact + ' ' + v.id + ': ' + v.nodes.map(n => n.target.join(' ')).slice(0, 5).join(', '))))\
                .catch(e => done(['axe failed: ' + e]));", "args": []})),
        );
        serde_json::from_value(v).unwrap_or_default()
    }

    /// Browser log entries at SEVERE level (console errors, failed loads, CSP reports).
    fn console_errors(&self) -> Vec<String> {
        let url = format!("{}/session/{}/se/log", self.base, self.session);
        let mut r = self
            .agent
            .post(&url)
            .send_json(json!({"type": "browser"}))
            .unwrap();
        let v: Value = r.body_mut().read_json().unwrap_or_default();
        assert!(v["value"].is_array(), "chromedriver's browser log: {v}");
        v["value"]
            .as_array()
            .map(|entries| {
                entries
                    .iter()
                    .filter(|e| e["level"] == "SEVERE")
                    .map(|e| e["message"].as_str().unwrap_or_default().to_string())
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// A bulwark report of the syft fixture's packages where coreutils came in its own layer
/// (`RUN apt-get install coreutils`) on top of the base layer.
fn layered_report() -> Vec<u8> {
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
    let mut v: Value = serde_json::from_slice(&out).unwrap();
    fn relayer(v: &mut Value) {
        match v {
            Value::Object(map) => {
                if map.contains_key("layer") && map.contains_key("name") {
                    let coreutils = map["name"] == "coreutils";
                    map.insert(
                        "layer".into(),
                        json!({
                            "index": if coreutils { 1 } else { 0 },
                            "created_by": if coreutils {
                                "RUN /bin/sh -c apt-get install -y coreutils"
                            } else {
                                "ADD rootfs.tar.xz / # buildkit"
                            }
                        }),
                    );
                }
                for child in map.values_mut() {
                    relayer(child);
                }
            }
            Value::Array(items) => items.iter_mut().for_each(relayer),
            _ => {}
        }
    }
    relayer(&mut v);
    serde_json::to_vec(&v).unwrap()
}

#[test]
fn dashboard_in_chromium_login_upload_layer_triage_vex_chart_axe_console() {
    let Some(chromedriver) = find_on_path("chromedriver") else {
        eprintln!(
            "SKIPPED: chromedriver is not installed (apt-get install chromium chromium-driver); the dashboard browser test did not run"
        );
        return;
    };
    let axe_source = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/axe-core/axe.min.js"),
    )
    .unwrap();
    let shots = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/dashboard-screenshots");
    std::fs::create_dir_all(&shots).unwrap();

    let db = databases().remove(0);
    let server: TestServer = start(&db);
    server.import_advisory(
        &debian_advisory("DSA-9999-8", "CVE-2099-0008", "coreutils", "9.1-2"),
        "test",
    );
    let driver = Driver::start(&chromedriver);
    let mut problems: Vec<String> = Vec::new();
    let mut check_page = |name: &str, driver: &Driver| {
        driver.screenshot(&shots, name);
        for v in driver.axe(&axe_source) {
            problems.push(format!("{name}: axe: {v}"));
        }
        for e in driver.console_errors() {
            problems.push(format!("{name}: console: {e}"));
        }
    };

    // Log in through the form.
    driver.go(&format!("{}/", server.url));
    assert!(
        driver.current_url().contains("/login"),
        "{}",
        driver.current_url()
    );
    check_page("login", &driver);
    driver.type_into("#username", "admin");
    driver.type_into("#password", PASSWORD);
    driver.click("section.login button[type=submit]");
    driver.wait_until("the login", |d| !d.current_url().contains("/login"));

    // Upload through the API; the asset appears in the portfolio.
    let (status, reply) = server.post(
        "/api/v1/reports?asset=shop%2Fweb&version=sha256:aaaa",
        ADMIN,
        &layered_report(),
    );
    assert_eq!(status, 201, "{reply}");
    let uuid = reply["asset"]["uuid"].as_str().unwrap().to_string();
    driver.go(&format!("{}/assets", server.url));
    let source = driver.source();
    assert!(source.contains("shop/web"), "portfolio lists the asset");
    check_page("portfolio", &driver);

    // The asset page: the vulnerability sits in the layer that brought coreutils.
    driver.click(&format!("a[href=\"/assets/{uuid}\"]"));
    let (_, findings) = server.get(&format!("/api/v1/assets/{uuid}/findings"), ADMIN);
    let api_layer = findings["items"][0]["finding"]["package"]["layer_index"].clone();
    assert_eq!(api_layer, 1, "{findings}");
    let layer = driver.script(
        "const row = document.querySelector('tr[data-vuln=\"CVE-2099-0008\"]');\
         const art = row && row.closest('article.layer');\
         return art ? [art.dataset.layer, art.querySelector('code.step').textContent] : null;",
        json!([]),
    );
    assert_eq!(
        layer[0], "1",
        "the page puts the finding in layer 1: {layer}"
    );
    assert!(
        layer[1]
            .as_str()
            .unwrap_or_default()
            .contains("apt-get install -y coreutils"),
        "with the Dockerfile step: {layer}"
    );
    check_page("asset", &driver);

    // The vulnerability page.
    driver.go(&format!("{}/vulns/CVE-2099-0008", server.url));
    assert!(driver.source().contains("shop/web"));
    check_page("vulnerability", &driver);

    // The chart's numbers (today) equal the API's counts, before the triage.
    driver.go(&format!("{}/", server.url));
    let today = driver.script(
        "const row = document.querySelector('#trend-data tbody tr');\
         return [...row.querySelectorAll('td')].map(td => Number(td.textContent));",
        json!([]),
    );
    let (_, assets) = server.get("/api/v1/assets", ADMIN);
    let sum = |key: &str| -> i64 {
        assets["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["counts"][key].as_i64().unwrap_or(0))
            .sum()
    };
    assert_eq!(
        today,
        json!([sum("critical"), sum("high"), sum("medium"), sum("low")]),
        "chart vs API {assets}"
    );
    assert_eq!(sum("critical"), 1, "{assets}");
    let bar = driver.script(
        "return Number(document.querySelector('svg[data-chart=now] g[data-series=critical]').dataset.value);",
        json!([]),
    );
    assert_eq!(bar, 1);
    check_page("overview", &driver);

    // Triage in the page: select the finding, NOT_AFFECTED, apply.
    driver.go(&format!("{}/assets/{uuid}", server.url));
    driver.click("tr[data-vuln=\"CVE-2099-0008\"] input[type=checkbox]");
    driver.script(
        "document.querySelector('#t-state').value = 'NOT_AFFECTED';\
         document.querySelector('#t-just').value = 'CODE_NOT_REACHABLE';",
        json!([]),
    );
    driver.type_into("#t-comment", "coreutils is never run");
    driver.click("fieldset.triage button[type=submit]");
    driver.wait_until("the triage notice", |d| {
        d.source().contains("Triaged 1 finding")
    });
    check_page("asset-after-triage", &driver);
    let (_, vex) = server.get(&format!("/api/v1/assets/{uuid}/vex?format=openvex"), ADMIN);
    let statements =
        bulwark_policy::vex::parse(&serde_json::to_vec(&vex).unwrap(), "openvex").unwrap();
    let text = format!("{statements:?}");
    assert!(
        text.contains("CVE-2099-0008") && text.contains("NotAffected"),
        "exported VEX suppresses it: {vex}"
    );
    let (_, open) = server.get(&format!("/api/v1/assets/{uuid}/findings"), ADMIN);
    assert_eq!(open["total"], 0, "{open}");

    // The finding's page shows the trail.
    let id = findings["items"][0]["id"].as_i64().unwrap();
    driver.go(&format!("{}/findings/{id}", server.url));
    assert!(driver.source().contains("coreutils is never run"));
    check_page("finding", &driver);

    driver.go(&format!("{}/settings", server.url));
    check_page("settings", &driver);

    // Compliance: a real bulwark report's image-config findings fail CIS Docker 4.1; the
    // nav leads there, and the control's evidence names the check.
    let (status, reply) = server.post(
        "/api/v1/reports?asset=minbase&version=sha256:bbbb",
        ADMIN,
        &std::fs::read(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/bulwark-minbase.json"),
        )
        .unwrap(),
    );
    assert_eq!(status, 201, "{reply}");
    driver.click("header.top nav a[href=\"/compliance\"]");
    driver.wait_until("the compliance page", |d| {
        d.current_url().contains("/compliance")
    });
    let failing = driver.script(
        "return Number(document.querySelector('tr[data-control=\"4.1\"]').dataset.failing);",
        json!([]),
    );
    assert_eq!(failing, 1);
    check_page("compliance", &driver);
    driver.go(&format!(
        "{}/compliance?framework=cis-docker&control=4.1#assets",
        server.url
    ));
    assert!(driver.source().contains("BW-IMG-001"));
    check_page("compliance-evidence", &driver);

    // Dark mode renders too (screenshot only; axe runs on the light pages above).
    driver.call(
        "POST",
        "/goog/cdp/execute",
        Some(json!({"cmd": "Emulation.setEmulatedMedia", "params": {"features": [{"name": "prefers-color-scheme", "value": "dark"}]}})),
    );
    driver.go(&format!("{}/", server.url));
    driver.screenshot(&shots, "overview-dark");
    for v in driver.axe(&axe_source) {
        problems.push(format!("overview-dark: axe: {v}"));
    }
    driver.go(&format!("{}/assets/{uuid}", server.url));
    driver.screenshot(&shots, "asset-dark");

    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
