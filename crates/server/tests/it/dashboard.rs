//! The dashboard (issue 14) over HTTP, as a browser without JavaScript would use it: login
//! (CSRF, wrong password, rate limit), the redirect of anonymous page requests, the security
//! headers, every page rendered with uploaded data, triage from a page suppressing the
//! finding in the exported VEX, logout. SQLite and PostgreSQL.

use std::collections::BTreeMap;
use std::time::Duration;

use bulwark_store::testing::databases;

use crate::common::{debian_advisory, fixture, TestServer, ADMIN};

pub const PASSWORD: &str = "correct horse battery staple";

/// A cookie-keeping client that does not follow redirects.
pub struct Browser {
    base: String,
    agent: ureq::Agent,
    pub cookies: BTreeMap<String, String>,
}

pub struct Reply {
    pub status: u16,
    pub headers: ureq::http::HeaderMap,
    pub body: String,
}

impl Reply {
    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }
}

/// The value of the first `name="..." value="..."` hidden input.
pub fn hidden(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html
        .find(&marker)
        .unwrap_or_else(|| panic!("no {name} field in {html}"))
        + marker.len();
    html[start..]
        .split('"')
        .next()
        .unwrap_or_default()
        .to_string()
}

impl Browser {
    pub fn new(base: &str) -> Browser {
        Browser {
            base: base.to_string(),
            agent: ureq::Agent::new_with_config(
                ureq::config::Config::builder()
                    .http_status_as_error(false)
                    .max_redirects(0)
                    .timeout_global(Some(Duration::from_secs(60)))
                    .build(),
            ),
            cookies: BTreeMap::new(),
        }
    }

    fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    fn take(&mut self, mut r: ureq::http::Response<ureq::Body>) -> Reply {
        for v in r.headers().get_all("set-cookie") {
            let text = v.to_str().unwrap_or_default();
            let pair = text.split(';').next().unwrap_or_default();
            if let Some((k, v)) = pair.split_once('=') {
                if v.is_empty() || text.contains("Max-Age=0") {
                    self.cookies.remove(k);
                } else {
                    self.cookies.insert(k.to_string(), v.to_string());
                }
            }
        }
        Reply {
            status: r.status().as_u16(),
            headers: r.headers().clone(),
            body: r
                .body_mut()
                .with_config()
                .limit(64 << 20)
                .read_to_string()
                .unwrap_or_default(),
        }
    }

    pub fn get(&mut self, path: &str) -> Reply {
        let r = self
            .agent
            .get(format!("{}{path}", self.base))
            .header("Cookie", self.cookie_header())
            .call()
            .unwrap();
        self.take(r)
    }

    pub fn post_form(&mut self, path: &str, fields: &[(&str, &str)]) -> Reply {
        let mut s = form_urlencoded::Serializer::new(String::new());
        for (k, v) in fields {
            s.append_pair(k, v);
        }
        let r = self
            .agent
            .post(format!("{}{path}", self.base))
            .header("Cookie", self.cookie_header())
            .header("Content-Type", "application/x-www-form-urlencoded")
            .send(s.finish().as_bytes())
            .unwrap();
        self.take(r)
    }

    /// Logs in as admin through the form.
    pub fn login(&mut self) {
        let form = self.get("/login");
        let csrf = hidden(&form.body, "csrf");
        let done = self.post_form(
            "/login",
            &[
                ("csrf", &csrf),
                ("next", "/"),
                ("username", "admin"),
                ("password", PASSWORD),
            ],
        );
        assert_eq!(done.status, 303, "{}", done.body);
    }
}

pub fn start(db: &bulwark_store::testing::TestDatabase) -> TestServer {
    TestServer::start_with(db, |c| c.admin_password = Some(PASSWORD.to_string()))
}

#[test]
fn login_csrf_redirect_and_security_headers() {
    for db in databases() {
        let server = start(&db);
        let mut b = Browser::new(&server.url);

        let anon = b.get("/assets?sort=kev");
        assert_eq!(anon.status, 303, "{}: {}", server.db, anon.body);
        assert_eq!(
            anon.header("location"),
            "/login?next=%2Fassets%3Fsort%3Dkev"
        );

        let form = b.get("/login");
        assert_eq!(form.status, 200);
        assert_eq!(
            form.header("content-security-policy"),
            bulwark_server::dashboard::CSP
        );
        let csp = form.header("content-security-policy");
        assert!(
            !csp.contains("unsafe-inline") && csp.contains("script-src 'self'"),
            "{csp}"
        );
        assert_eq!(form.header("x-content-type-options"), "nosniff");
        assert_eq!(form.header("referrer-policy"), "same-origin");
        assert!(form.body.contains("name=\"username\"") && form.body.contains("name=\"password\""));
        assert!(!form.body.contains("<script>"), "no inline script");
        let csrf = hidden(&form.body, "csrf");

        // No CSRF token: refused before the password is looked at.
        let forged = b.post_form("/login", &[("username", "admin"), ("password", PASSWORD)]);
        assert_eq!(forged.status, 403, "{}: {}", server.db, forged.body);
        assert!(forged.header("content-type").starts_with("text/html"));

        let wrong = b.post_form(
            "/login",
            &[
                ("csrf", &csrf),
                ("username", "admin"),
                ("password", "not the password"),
            ],
        );
        assert_eq!(wrong.status, 401, "{}", server.db);
        assert!(wrong.body.contains("Wrong username or password"));

        let ok = b.post_form(
            "/login",
            &[
                ("csrf", &csrf),
                ("next", "/assets?sort=kev"),
                ("username", "admin"),
                ("password", PASSWORD),
            ],
        );
        assert_eq!(ok.status, 303, "{}: {}", server.db, ok.body);
        assert_eq!(ok.header("location"), "/assets?sort=kev");
        let cookie = ok
            .headers
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|c| c.starts_with("bulwark_session="))
            .unwrap()
            .to_string();
        assert!(
            cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
            "{cookie}"
        );
        assert!(!cookie.contains("Secure"), "plain HTTP: {cookie}");

        // An off-site `next` is ignored.
        let mut other = Browser::new(&server.url);
        let f = other.get("/login?next=//evil.example/");
        assert!(f.body.contains("name=\"next\" value=\"/\""), "{}", f.body);

        let page = b.get("/assets?sort=kev");
        assert_eq!(page.status, 200, "{}: {}", server.db, page.body);
        assert_eq!(
            page.header("content-security-policy"),
            bulwark_server::dashboard::CSP
        );

        // Logout needs the CSRF token too, then the session is gone.
        let no_token = b.post_form("/logout", &[]);
        assert_eq!(no_token.status, 403, "{}", server.db);
        let csrf = hidden(&page.body, "csrf");
        let out = b.post_form("/logout", &[("csrf", &csrf)]);
        assert_eq!(out.status, 303);
        let after = b.get("/");
        assert_eq!(after.status, 303, "{}: logged out", server.db);

        // A stolen-then-replayed cookie of the ended session does not work either.
        let mut replay = Browser::new(&server.url);
        replay.cookies.insert(
            "bulwark_session".into(),
            cookie
                .trim_start_matches("bulwark_session=")
                .split(';')
                .next()
                .unwrap()
                .into(),
        );
        assert_eq!(replay.get("/").status, 303, "{}", server.db);

        // The static files are served with their types.
        assert!(b
            .get("/static/dashboard.css")
            .header("content-type")
            .starts_with("text/css"));
        assert_eq!(b.get("/static/nope.css").status, 404);
    }
}

#[test]
fn login_attempts_are_rate_limited() {
    let db = databases().remove(0);
    let server = start(&db);
    let mut b = Browser::new(&server.url);
    let csrf = hidden(&b.get("/login").body, "csrf");
    let mut statuses = Vec::new();
    for _ in 0..(bulwark_server::dashboard::session::LOGIN_PER_MINUTE + 2) {
        statuses.push(
            b.post_form(
                "/login",
                &[
                    ("csrf", &csrf),
                    ("username", "admin"),
                    ("password", "guess guess guess"),
                ],
            )
            .status,
        );
    }
    assert!(statuses.contains(&401), "{statuses:?}");
    assert_eq!(statuses.last(), Some(&429), "{statuses:?}");
}

#[test]
fn pages_render_uploaded_data_and_triage_suppresses_in_vex() {
    for db in databases() {
        let server = start(&db);
        server.import_advisory(
            &debian_advisory("DSA-9999-7", "CVE-2099-0007", "coreutils", "9.1-2"),
            "test",
        );
        let (status, reply) = server.post(
            "/api/v1/reports?asset=web%3Cscript%3E&version=sha256:1111",
            ADMIN,
            &fixture("syft-minbase.cdx.json"),
        );
        assert_eq!(status, 201, "{}: {reply}", server.db);
        let uuid = reply["asset"]["uuid"].as_str().unwrap().to_string();
        let (_, findings) = server.get(&format!("/api/v1/assets/{uuid}/findings"), ADMIN);
        let finding = findings["items"][0]["id"].as_i64().unwrap();
        assert_eq!(findings["items"][0]["vuln_id"], "CVE-2099-0007");

        let mut b = Browser::new(&server.url);
        b.login();

        let overview = b.get("/");
        assert_eq!(overview.status, 200, "{}: {}", server.db, overview.body);
        assert!(
            overview.body.contains("<svg class=\"chart\""),
            "trend chart"
        );
        assert!(
            overview.body.contains("data-metric=\"open\">1<"),
            "{}",
            overview.body
        );

        let portfolio = b.get("/assets?sort=severity");
        assert_eq!(portfolio.status, 200, "{}", server.db);
        // The name is escaped, never markup.
        assert!(
            portfolio.body.contains("web&lt;script&gt;"),
            "{}",
            portfolio.body
        );
        assert!(!portfolio.body.contains("web<script>"));
        assert!(
            portfolio.body.contains("data-count=\"critical\">1<"),
            "{}",
            portfolio.body
        );
        let filtered = b.get("/assets?q=nothing-like-this");
        assert!(
            !filtered.body.contains("web&lt;script&gt;"),
            "filter applies"
        );
        assert_eq!(b.get("/assets?sort=bogus").status, 400);

        let asset = b.get(&format!("/assets/{uuid}"));
        assert_eq!(asset.status, 200, "{}: {}", server.db, asset.body);
        assert!(asset.body.contains("class=\"layer\""), "{}", asset.body);
        assert!(asset.body.contains("CVE-2099-0007"));
        assert!(asset.body.contains("coreutils"));

        let vuln = b.get("/vulns/CVE-2099-0007");
        assert_eq!(vuln.status, 200, "{}: {}", server.db, vuln.body);
        assert!(vuln.body.contains("web&lt;script&gt;") && vuln.body.contains("CVSS"));
        assert_eq!(b.get("/vulns/CVE-1999-0001").status, 404);

        // Triage from the page: without the CSRF token refused, with it applied.
        let csrf = hidden(&asset.body, "csrf");
        let id = finding.to_string();
        let forged = b.post_form("/triage", &[("finding", &id), ("state", "NOT_AFFECTED")]);
        assert_eq!(forged.status, 403, "{}", server.db);
        let back = format!("/assets/{uuid}");
        let done = b.post_form(
            "/triage",
            &[
                ("csrf", &csrf),
                ("back", &back),
                ("finding", &id),
                ("state", "NOT_AFFECTED"),
                ("justification", "CODE_NOT_REACHABLE"),
                ("comment", "never called"),
            ],
        );
        assert_eq!(done.status, 303, "{}: {}", server.db, done.body);
        assert!(
            done.header("location").starts_with(&back),
            "{}",
            done.header("location")
        );
        let (_, open) = server.get(&format!("/api/v1/assets/{uuid}/findings"), ADMIN);
        assert_eq!(open["total"], 0, "{}: suppressed: {open}", server.db);

        let vex = b.get(&format!("/assets/{uuid}/vex?format=openvex"));
        assert_eq!(vex.status, 200, "{}", server.db);
        let statements = bulwark_policy::vex::parse(vex.body.as_bytes(), "openvex").unwrap();
        let text = format!("{statements:?}");
        assert!(
            text.contains("CVE-2099-0007") && text.contains("NotAffected"),
            "{text}"
        );
        let cdx = b.get(&format!("/assets/{uuid}/vex?format=cyclonedx"));
        assert!(bulwark_policy::vex::parse(cdx.body.as_bytes(), "cyclonedx").is_ok());

        let trail = b.get(&format!("/findings/{finding}"));
        assert_eq!(trail.status, 200, "{}", server.db);
        assert!(trail.body.contains("NOT_AFFECTED") && trail.body.contains("never called"));
        assert!(trail.body.contains("user:"), "who: {}", trail.body);

        let settings = b.get("/settings");
        assert_eq!(settings.status, 200, "{}: {}", server.db, settings.body);
        assert!(
            settings.body.contains("API tokens") && settings.body.contains("Advisory database")
        );
        assert!(
            !settings.body.contains(ADMIN),
            "no token secret on the page"
        );

        // After the triage the portfolio counts drop (the kept counts are refreshed).
        let portfolio = b.get("/assets");
        assert!(
            portfolio.body.contains("data-count=\"total\">0<"),
            "{}",
            portfolio.body
        );
    }
}

#[test]
fn overview_ranks_kev_then_epss_fixable_findings_first_and_the_portfolio_sorts() {
    use bulwark_store::{DatabaseLocation, Principal, Store};
    use bulwark_types::Severity;

    use crate::dashboard_seed::{document, finding};

    for db in databases() {
        let server = start(&db);
        let store = Store::open(&DatabaseLocation::parse(&db.url()).unwrap()).unwrap();
        let who = Principal::system("test");
        let mut doc = document("ranked", 1, 4, 0);
        let pkg = |i: usize| doc.components[i].package.clone();
        let (p0, p1, p2, p3) = (pkg(0), pkg(1), pkg(2), pkg(3));
        doc.findings = vec![
            // Critical but neither KEV nor likely exploited: not in the list.
            (
                0,
                finding(&p0, "CVE-2097-0001", Severity::Critical, true, false, None),
            ),
            // High EPSS, fixable.
            (
                1,
                finding(&p1, "CVE-2097-0002", Severity::Low, true, false, Some(0.9)),
            ),
            // KEV, fixable, low EPSS: first.
            (
                2,
                finding(
                    &p2,
                    "CVE-2097-0003",
                    Severity::Medium,
                    true,
                    true,
                    Some(0.01),
                ),
            ),
            // KEV but no fix: not in the list (nothing to do but wait).
            (
                3,
                finding(
                    &p3,
                    "CVE-2097-0004",
                    Severity::High,
                    false,
                    true,
                    Some(0.95),
                ),
            ),
        ]
        .into_iter()
        .map(|(component, finding)| bulwark_store::FindingInput { component, finding })
        .collect();
        store.ingest(&who, &doc).unwrap();
        store.ingest(&who, &document("quiet", 2, 3, 0)).unwrap();

        let mut b = Browser::new(&server.url);
        b.login();
        let overview = b.get("/");
        let body = &overview.body;
        let at = |id: &str| body.find(id);
        assert!(at("CVE-2097-0001").is_none(), "{}: not KEV/EPSS", server.db);
        assert!(at("CVE-2097-0004").is_none(), "{}: no fix", server.db);
        let (kev, epss) = (at("CVE-2097-0003").unwrap(), at("CVE-2097-0002").unwrap());
        assert!(kev < epss, "{}: KEV first", server.db);
        // A lower EPSS threshold is a URL away, and a higher one empties the list.
        let strict = b.get("/?epss=0.95");
        assert!(!strict.body.contains("CVE-2097-0002"), "{}", server.db);

        let by_kev = b.get("/assets?sort=kev");
        let (r, q) = (
            by_kev.body.find("data-asset=\"ranked\"").unwrap(),
            by_kev.body.find("data-asset=\"quiet\"").unwrap(),
        );
        assert!(r < q, "{}: most KEV first", server.db);
        let by_name = b.get("/assets?sort=name");
        let (r, q) = (
            by_name.body.find("data-asset=\"ranked\"").unwrap(),
            by_name.body.find("data-asset=\"quiet\"").unwrap(),
        );
        assert!(q < r, "{}: by name", server.db);
        assert!(by_name.body.contains("aria-sort=\"descending\""));
    }
}

#[test]
fn a_team_limited_user_sees_only_its_team_and_no_settings() {
    use bulwark_store::{DatabaseLocation, Principal, Scope, Store};

    use crate::dashboard_seed::document;

    for db in databases() {
        let server = start(&db);
        let store = Store::open(&DatabaseLocation::parse(&db.url()).unwrap()).unwrap();
        let who = Principal::system("test");
        let mut red = document("red-app", 3, 2, 2);
        red.team = Some("red".into());
        // Both fail CIS Docker 4.1: the compliance page must count only alice's team's.
        red.misconfigurations = Some(crate::dashboard_seed::misconfigurations(1));
        let mut blue = document("blue-app", 4, 2, 2);
        blue.team = Some("blue".into());
        store.ingest(&who, &red).unwrap();
        store.ingest(&who, &blue).unwrap();
        store
            .create_user(
                &who,
                "alice",
                PASSWORD,
                &[Scope::Read, Scope::Triage],
                Some("blue"),
            )
            .unwrap();
        let red_uuid = store.asset_by_name(&who, "red-app").unwrap().unwrap().uuid;

        let mut b = Browser::new(&server.url);
        let csrf = hidden(&b.get("/login").body, "csrf");
        let ok = b.post_form(
            "/login",
            &[
                ("csrf", &csrf),
                ("username", "alice"),
                ("password", PASSWORD),
            ],
        );
        assert_eq!(ok.status, 303, "{}", server.db);
        let portfolio = b.get("/assets");
        assert!(portfolio.body.contains("blue-app"), "{}", server.db);
        assert!(
            !portfolio.body.contains("red-app"),
            "{}: other team hidden",
            server.db
        );
        assert!(
            !portfolio.body.contains("href=\"/settings\""),
            "no settings link"
        );
        assert_eq!(
            b.get(&format!("/assets/{red_uuid}")).status,
            404,
            "{}",
            server.db
        );
        assert_eq!(
            b.get(&format!("/assets/{red_uuid}/vex")).status,
            404,
            "{}",
            server.db
        );
        assert_eq!(b.get("/settings").status, 403, "{}", server.db);
        let overview = b.get("/");
        assert!(!overview.body.contains("red-app"), "{}", server.db);
        let compliance = b.get("/compliance?framework=cis-docker&control=4.1");
        assert_eq!(compliance.status, 200, "{}", server.db);
        assert!(compliance.body.contains("blue-app"), "{}", compliance.body);
        assert!(
            !compliance.body.contains("red-app"),
            "{}: other team hidden",
            server.db
        );
        assert!(compliance
            .body
            .contains("data-assessed=\"1\" data-assets=\"1\""));
        assert!(compliance
            .body
            .contains("<tr data-control=\"4.1\" data-failing=\"1\""));
    }
}
