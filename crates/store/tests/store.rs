//! bulwark-store against both backends: every test body runs on a fresh SQLite file AND a
//! fresh PostgreSQL database (`bulwark_store::testing::databases()`).

use std::collections::{BTreeMap, HashSet};
use std::time::{Duration, Instant};

use bulwark_store::testing::{self, TestDatabase};
use bulwark_store::*;
use bulwark_types::{
    Ecosystem, FindingPackage, FindingStatus, LayerRef, OsFamily, OsRelease, Package,
    PackageSource, Priority, Purl, Severity, SeveritySource, VulnerabilityFinding,
};

/// Runs `body` against every backend, naming the backend in a failure.
fn each_db(body: impl Fn(&TestDatabase, Store)) {
    for db in testing::databases() {
        let store = db.open();
        assert_eq!(store.backend_name(), db.label());
        body(&db, store);
    }
}

fn admin() -> Principal {
    Principal::system("test")
}

fn debian() -> OsRelease {
    OsRelease {
        family: OsFamily::Debian,
        id: "debian".into(),
        version_id: Some("12".into()),
        version_codename: Some("bookworm".into()),
        pretty_name: None,
        source_path: "/etc/os-release".into(),
    }
}

fn package(name: &str, version: &str) -> Package {
    Package {
        ecosystem: Ecosystem::Deb,
        name: name.into(),
        version: version.into(),
        arch: Some("amd64".into()),
        source: Some(PackageSource {
            name: format!("{name}-src"),
            version: version.into(),
        }),
        licenses: vec![],
        purl: Purl::new("deb", Some("debian"), name, Some(version))
            .with_qualifier("distro", "debian-12"),
        layer: LayerRef {
            index: 0,
            diff_id: None,
            created_by: None,
        },
        found_in: vec!["/var/lib/dpkg/status".into()],
        files: vec!["/usr/bin/x".into()],
        dev: false,
        inferred: false,
        dependencies: vec![],
        evidence: Default::default(),
        role: Default::default(),
    }
}

fn component(name: &str, version: &str) -> ComponentInput {
    ComponentInput {
        package: package(name, version),
        match_keys: vec![MatchKeyInput {
            ecosystem: "Debian:12".into(),
            name: format!("{name}-src"),
            prefix: false,
        }],
    }
}

fn finding(pkg: &Package, id: &str, severity: Severity, fixed: &[&str]) -> VulnerabilityFinding {
    VulnerabilityFinding {
        id: id.into(),
        ids: vec![id.into()],
        package: FindingPackage {
            name: pkg.name.clone(),
            version: pkg.version.clone(),
            purl: pkg.purl.clone(),
            ecosystem: pkg.ecosystem,
            layer_index: 0,
            layer_created_by: None,
            advisory_ecosystem: "Debian:12".into(),
            advisory_name: format!("{}-src", pkg.name),
        },
        installed_version: pkg.version.clone(),
        fixed_versions: fixed.iter().map(|s| s.to_string()).collect(),
        status: if fixed.is_empty() {
            FindingStatus::Unfixed
        } else {
            FindingStatus::Fixed
        },
        status_note: None,
        severity,
        severity_source: SeveritySource::None,
        cvss: None,
        epss: None,
        kev: None,
        title: None,
        references: vec![],
        priority: Priority {
            kev: false,
            epss: None,
            score: 5.0,
            reason: String::new(),
        },
        in_use: None,
        reachability: None,
    }
}

fn document(
    asset: &str,
    digest: &str,
    comps: Vec<ComponentInput>,
    vulns: &[(usize, &str, Severity)],
) -> IngestDocument {
    let findings = vulns
        .iter()
        .map(|(i, id, sev)| FindingInput {
            component: *i,
            finding: finding(&comps[*i].package, id, *sev, &["9.9"]),
        })
        .collect();
    IngestDocument {
        asset: asset.into(),
        version_key: digest.into(),
        label: Some("latest".into()),
        source_kind: "bulwark-report".into(),
        os: Some(debian()),
        components: comps,
        findings,
        ..Default::default()
    }
}

#[test]
fn migrations_apply_from_empty_and_reopen_is_idempotent() {
    each_db(|db, store| {
        assert_eq!(store.ping().unwrap(), SCHEMA_VERSION, "{db:?}");
        drop(store);
        let again = db.open();
        assert_eq!(again.ping().unwrap(), SCHEMA_VERSION, "{db:?}");
        again.set_meta("k", "v1").unwrap();
        again.set_meta("k", "v2").unwrap();
        assert_eq!(again.meta("k").unwrap().as_deref(), Some("v2"));
        assert_eq!(again.meta("missing").unwrap(), None);
    });
}

#[test]
fn a_newer_schema_is_refused_with_upgrade_advice() {
    each_db(|db, store| {
        drop(store);
        // A later bulwark recorded migration SCHEMA_VERSION + 1.
        match &db.location {
            DatabaseLocation::Sqlite(p) => {
                let c = rusqlite::Connection::open(p).unwrap();
                c.execute(
                    "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?1, 'future', 0)",
                    [SCHEMA_VERSION + 1],
                )
                .unwrap();
            }
            DatabaseLocation::Postgres(url) => {
                let mut c = postgres::Client::connect(url, postgres::NoTls).unwrap();
                c.execute(
                    "INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, 'future', 0)",
                    &[&(SCHEMA_VERSION + 1)],
                )
                .unwrap();
            }
        }
        let err = Store::open(&db.location).unwrap_err();
        assert!(
            matches!(err, StoreError::SchemaTooNew { .. }),
            "{db:?}: {err}"
        );
        assert!(err.to_string().contains("upgrade bulwark"), "{err}");
    });
}

#[test]
fn tokens_are_hashed_scoped_and_revocable() {
    each_db(|db, store| {
        let (id, token) = store
            .create_token(&admin(), "ci", &[Scope::Upload], Some("payments"))
            .unwrap();
        let who = store.authenticate(&token).unwrap().expect("valid token");
        assert_eq!(who.scopes, vec![Scope::Upload]);
        assert_eq!(who.team.as_ref().map(|t| t.name.as_str()), Some("payments"));
        assert!(who.require(Scope::Read).is_err());
        assert!(store.authenticate("bwk_not-a-token").unwrap().is_none());
        // The plaintext is nowhere in the database.
        let listed = store.list_tokens(&admin()).unwrap();
        assert!(!format!("{listed:?}").contains(&token));
        store.revoke_token(&admin(), id).unwrap();
        assert!(store.authenticate(&token).unwrap().is_none(), "{db:?}");

        // BULWARK_ADMIN_TOKEN: idempotent.
        assert!(!store.has_admin_token().unwrap());
        let a = store
            .ensure_admin_token("an-admin-token-of-enough-length")
            .unwrap();
        let b = store
            .ensure_admin_token("an-admin-token-of-enough-length")
            .unwrap();
        assert_eq!(a, b);
        assert!(store.has_admin_token().unwrap());
        let root = store
            .authenticate("an-admin-token-of-enough-length")
            .unwrap()
            .unwrap();
        assert!(root.has(Scope::Admin) && root.team.is_none());
        assert!(store.ensure_admin_token("short").is_err());

        // Local users.
        store
            .create_user(
                &admin(),
                "alice",
                "correct horse battery",
                &[Scope::Read],
                None,
            )
            .unwrap();
        assert!(store
            .login("alice", "correct horse battery")
            .unwrap()
            .is_some());
        assert!(store
            .login("alice", "wrong password here")
            .unwrap()
            .is_none());
        assert!(store
            .login("bob", "correct horse battery")
            .unwrap()
            .is_none());
    });
}

#[test]
fn the_same_digest_twice_is_one_version_and_a_retry_is_no_duplicate() {
    each_db(|db, store| {
        let doc = || {
            let mut d = document(
                "registry.example/app",
                "sha256:aaa",
                vec![component("openssl", "3.0.1"), component("zlib", "1.2")],
                &[
                    (0, "CVE-2024-0001", Severity::High),
                    (1, "CVE-2024-0002", Severity::Low),
                ],
            );
            d.idempotency_key = Some(idempotency_key(
                "registry.example/app",
                "sha256:aaa",
                b"body",
            ));
            d
        };
        let first = store.ingest(&admin(), &doc()).unwrap();
        assert!(
            first.new_asset && first.new_version && !first.duplicate,
            "{db:?}"
        );
        assert_eq!(first.events.len(), 2);
        assert!(first
            .events
            .iter()
            .all(|e| e.kind == EventKind::New && e.id > 0));
        let retry = store.ingest(&admin(), &doc()).unwrap();
        assert!(retry.duplicate && retry.events.is_empty(), "{db:?}");
        assert_eq!(retry.version_id, first.version_id);
        // Same digest, a new upload (no key): one version, components kept, no events.
        let mut again = doc();
        again.idempotency_key = None;
        let second = store.ingest(&admin(), &again).unwrap();
        assert_eq!(second.version_id, first.version_id);
        assert!(!second.new_version && !second.components_replaced && second.events.is_empty());
        let versions = store
            .versions(&admin(), first.asset_id, Page::default())
            .unwrap();
        assert_eq!(versions.total, 1);
        assert_eq!(versions.items[0].component_count, 2);
        let f = store
            .findings(
                &admin(),
                first.version_id,
                &FindingFilter::default(),
                FindingSort::Severity,
                Page::default(),
            )
            .unwrap();
        assert_eq!(f.total, 2);
        assert_eq!(f.items[0].vuln_id, "CVE-2024-0001", "most severe first");
        assert_eq!(
            store
                .components_of_versions(&[first.version_id])
                .unwrap()
                .len(),
            2
        );
        let asset = store.asset(&admin(), first.asset_id).unwrap().unwrap();
        assert_eq!(
            (asset.counts.high, asset.counts.low, asset.counts.total),
            (1, 1, 2)
        );
        assert!(asset.latest_version.unwrap().last_seen >= first_seen(&store, first.version_id));
    });
}

fn first_seen(store: &Store, version: i64) -> i64 {
    store
        .version(&admin(), version)
        .unwrap()
        .unwrap()
        .first_seen
}

#[test]
fn a_finding_that_disappears_is_resolved_with_a_time() {
    each_db(|db, store| {
        let one = store
            .ingest(
                &admin(),
                &document(
                    "app",
                    "sha256:1",
                    vec![component("openssl", "3.0.1")],
                    &[(0, "CVE-1", Severity::High), (0, "CVE-2", Severity::Low)],
                ),
            )
            .unwrap();
        // The same digest rematched/uploaded again: CVE-2 gone, CVE-1 now critical.
        let two = store
            .ingest(
                &admin(),
                &document(
                    "app",
                    "sha256:1",
                    vec![component("openssl", "3.0.1")],
                    &[(0, "CVE-1", Severity::Critical)],
                ),
            )
            .unwrap();
        let kinds: Vec<(EventKind, &str)> = two
            .events
            .iter()
            .map(|e| (e.kind, e.vuln_id.as_str()))
            .collect();
        assert_eq!(
            kinds,
            vec![
                (EventKind::Changed, "CVE-1"),
                (EventKind::Resolved, "CVE-2")
            ],
            "{db:?}"
        );
        let resolved = store
            .findings(
                &admin(),
                one.version_id,
                &FindingFilter {
                    state: Some("resolved".into()),
                    ..Default::default()
                },
                FindingSort::VulnId,
                Page::default(),
            )
            .unwrap();
        assert_eq!(resolved.total, 1);
        assert!(resolved.items[0]
            .resolved_at
            .is_some_and(|t| t >= resolved.items[0].first_seen));
        // It comes back: a new event, open again.
        let three = store
            .ingest(
                &admin(),
                &document(
                    "app",
                    "sha256:1",
                    vec![component("openssl", "3.0.1")],
                    &[
                        (0, "CVE-1", Severity::Critical),
                        (0, "CVE-2", Severity::Low),
                    ],
                ),
            )
            .unwrap();
        assert_eq!(three.events.len(), 1);
        assert_eq!(
            (three.events[0].kind, three.events[0].vuln_id.as_str()),
            (EventKind::New, "CVE-2")
        );
        let events = store.events_since(&admin(), 0, 100).unwrap();
        assert_eq!(events.len(), 5);
        assert!(events.windows(2).all(|w| w[0].id < w[1].id));
        let counts = store
            .event_kinds(&admin(), &["resolved"], 0, i64::MAX)
            .unwrap();
        assert_eq!(counts.get("resolved"), Some(&1));
    });
}

/// The overview's "new this week": exact up to the cap, "more than the cap" past it, per kind,
/// however many events of another kind share the range.
#[test]
fn event_kinds_count_each_kind_exactly_up_to_the_cap() {
    each_db(|db, store| {
        store
            .ingest(
                &admin(),
                &document(
                    "app",
                    "sha256:1",
                    vec![component("openssl", "3.0.1")],
                    &[(0, "CVE-1", Severity::High), (0, "CVE-2", Severity::Low)],
                ),
            )
            .unwrap();
        let kinds = ["new", "resolved"];
        let counts = store.event_kinds(&admin(), &kinds, 0, i64::MAX).unwrap();
        assert_eq!(counts.get("new"), Some(&2), "{}", db.label());
        assert_eq!(counts.get("resolved"), Some(&0), "{}", db.label());
        // Copies of that event, past the cap (dispatched, so nothing would notify them).
        let extra = bulwark_store::EVENT_COUNT_CAP + 5;
        db.execute_batch(&format!(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {extra}) \
             INSERT INTO finding_events (finding_id, version_id, asset_id, kind, detail, at, dispatched_at) \
             SELECT e.finding_id, e.version_id, e.asset_id, e.kind, e.detail, e.at, e.at \
             FROM n, (SELECT * FROM finding_events ORDER BY id LIMIT 1) e"
        ));
        let counts = store.event_kinds(&admin(), &kinds, 0, i64::MAX).unwrap();
        assert_eq!(
            counts.get("new"),
            Some(&(bulwark_store::EVENT_COUNT_CAP + 1)),
            "{}: capped",
            db.label()
        );
        assert_eq!(counts.get("resolved"), Some(&0), "{}", db.label());
        // The range still applies.
        let none = store.event_kinds(&admin(), &kinds, 0, 1).unwrap();
        assert_eq!(none.get("new"), Some(&0), "{}", db.label());
    });
}

#[test]
fn triage_is_inherited_by_a_later_digest_of_the_same_asset() {
    each_db(|db, store| {
        let v1 = store
            .ingest(
                &admin(),
                &document(
                    "app",
                    "sha256:1",
                    vec![component("openssl", "3.0.1")],
                    &[(0, "CVE-1", Severity::High)],
                ),
            )
            .unwrap();
        let f = &store
            .findings(
                &admin(),
                v1.version_id,
                &FindingFilter::default(),
                FindingSort::Severity,
                Page::default(),
            )
            .unwrap()
            .items[0];
        let (_, t) = store
            .create_token(&admin(), "triager", &[Scope::Triage, Scope::Read], None)
            .unwrap();
        let triager = store.authenticate(&t).unwrap().unwrap();
        store
            .set_triage(
                &triager,
                f.asset_id,
                &f.vuln_id,
                &f.purl,
                &TriageInput {
                    state: TriageState::NotAffected,
                    justification: Some("code_not_reachable".into()),
                    response: None,
                    comment: Some("only in tests; '; DROP TABLE triage; --".into()),
                    suppressed: true,
                },
            )
            .unwrap();
        let v2 = store
            .ingest(
                &admin(),
                &document(
                    "app",
                    "sha256:2",
                    vec![component("openssl", "3.0.1")],
                    &[(0, "CVE-1", Severity::High)],
                ),
            )
            .unwrap();
        assert_ne!(v1.version_id, v2.version_id);
        let all = store
            .findings(
                &admin(),
                v2.version_id,
                &FindingFilter {
                    include_suppressed: true,
                    ..Default::default()
                },
                FindingSort::Severity,
                Page::default(),
            )
            .unwrap();
        assert_eq!(
            all.items[0].triage_state,
            Some(TriageState::NotAffected),
            "{db:?}"
        );
        assert!(all.items[0].suppressed);
        let visible = store
            .findings(
                &admin(),
                v2.version_id,
                &FindingFilter::default(),
                FindingSort::Severity,
                Page::default(),
            )
            .unwrap();
        assert_eq!(
            visible.total, 0,
            "suppressed findings are hidden by default"
        );
        let m = store.version_metrics(&admin(), v2.version_id).unwrap();
        assert_eq!((m.counts.total, m.suppressed, m.audited), (0, 1, 1));
        let vex = store.vex_statements(&admin(), f.asset_id).unwrap();
        assert_eq!(vex.len(), 1);
        assert_eq!(vex[0].justification.as_deref(), Some("CODE_NOT_REACHABLE"));
        assert!(vex[0].comment.as_deref().unwrap().contains("DROP TABLE"));
        // An audit trail row per change.
        store
            .set_triage(
                &triager,
                f.asset_id,
                &f.vuln_id,
                &f.purl,
                &TriageInput {
                    state: TriageState::InTriage,
                    justification: None,
                    response: None,
                    comment: None,
                    suppressed: false,
                },
            )
            .unwrap();
        let history = store
            .triage_history(&admin(), f.asset_id, &f.vuln_id, &f.purl)
            .unwrap();
        assert_eq!(history.len(), 2);
        assert!(history[0].actor.contains("triager"));
        assert!(
            store
                .set_triage(
                    &triager,
                    f.asset_id,
                    &f.vuln_id,
                    &f.purl,
                    &TriageInput {
                        state: TriageState::NotAffected,
                        justification: Some("because".into()),
                        response: None,
                        comment: None,
                        suppressed: false,
                    }
                )
                .is_err(),
            "unknown justification refused"
        );
    });
}

#[test]
fn another_teams_principal_sees_nothing() {
    each_db(|db, store| {
        let (_, a) = store
            .create_token(
                &admin(),
                "a",
                &[Scope::Upload, Scope::Read, Scope::Triage],
                Some("team-a"),
            )
            .unwrap();
        let (_, b) = store
            .create_token(
                &admin(),
                "b",
                &[Scope::Upload, Scope::Read, Scope::Triage],
                Some("team-b"),
            )
            .unwrap();
        let a = store.authenticate(&a).unwrap().unwrap();
        let b = store.authenticate(&b).unwrap().unwrap();
        let out = store
            .ingest(
                &a,
                &document(
                    "a/app",
                    "sha256:1",
                    vec![component("openssl", "1")],
                    &[(0, "CVE-1", Severity::High)],
                ),
            )
            .unwrap();
        assert_eq!(
            store
                .list_assets(&a, &AssetFilter::default(), Page::default())
                .unwrap()
                .total,
            1,
            "{db:?}"
        );
        assert_eq!(
            store
                .list_assets(&b, &AssetFilter::default(), Page::default())
                .unwrap()
                .total,
            0
        );
        assert!(store.asset(&b, out.asset_id).unwrap().is_none());
        assert!(store.asset_by_uuid(&b, &out.asset_uuid).unwrap().is_none());
        assert!(store.version(&b, out.version_id).unwrap().is_none());
        assert!(store
            .findings(
                &b,
                out.version_id,
                &FindingFilter::default(),
                FindingSort::Severity,
                Page::default()
            )
            .is_err());
        assert!(store.version_metrics(&b, out.version_id).is_err());
        assert_eq!(
            store
                .affected_assets(&b, "CVE-1", Page::default())
                .unwrap()
                .total,
            0
        );
        assert_eq!(
            store
                .affected_assets(&a, "CVE-1", Page::default())
                .unwrap()
                .total,
            1
        );
        assert!(store.events_since(&b, 0, 100).unwrap().is_empty());
        assert_eq!(store.events_since(&a, 0, 100).unwrap().len(), 1);
        let finding = store
            .findings(
                &a,
                out.version_id,
                &FindingFilter::default(),
                FindingSort::Severity,
                Page::default(),
            )
            .unwrap()
            .items
            .remove(0);
        assert!(store.finding(&b, finding.id).unwrap().is_none());
        let input = TriageInput {
            state: TriageState::Exploitable,
            justification: None,
            response: None,
            comment: None,
            suppressed: false,
        };
        assert!(store
            .set_triage(&b, out.asset_id, "CVE-1", &finding.purl, &input)
            .is_err());
        // B may not upload into A's asset, nor name team A.
        let err = store
            .ingest(&b, &document("a/app", "sha256:2", vec![], &[]))
            .unwrap_err();
        assert!(matches!(err, StoreError::Forbidden(_)), "{err}");
        let mut named = document("b/app", "sha256:3", vec![], &[]);
        named.team = Some("team-a".into());
        assert!(matches!(
            store.ingest(&b, &named).unwrap_err(),
            StoreError::Forbidden(_)
        ));
        assert_eq!(store.list_teams(&b).unwrap().len(), 1);
    });
}

#[test]
fn sql_looking_strings_round_trip_as_data() {
    each_db(|db, store| {
        let evil = "'; DROP TABLE assets; --";
        let mut labels = BTreeMap::new();
        labels.insert("team".to_string(), format!("{evil} team"));
        labels.insert(
            "org.opencontainers.image.authors".to_string(),
            "\"); DELETE FROM findings; --".to_string(),
        );
        let mut doc = document(
            evil,
            "sha256:'or'1'='1",
            vec![component("pkg' OR 1=1 --", "1.0$1")],
            &[(0, "CVE-'; --", Severity::Medium)],
        );
        doc.labels = labels;
        doc.label = Some("$1 $2 ?1".into());
        let out = store.ingest(&admin(), &doc).unwrap();
        let asset = store
            .asset_by_name(&admin(), evil)
            .unwrap()
            .expect("found by its literal name");
        assert_eq!(asset.uuid, out.asset_uuid, "{db:?}");
        assert_eq!(asset.team.unwrap().name, format!("{evil} team"));
        assert_eq!(
            asset.owner.as_deref(),
            Some("\"); DELETE FROM findings; --")
        );
        let v = store.version(&admin(), out.version_id).unwrap().unwrap();
        assert_eq!(v.version_key, "sha256:'or'1'='1");
        assert_eq!(v.label.as_deref(), Some("$1 $2 ?1"));
        let f = store
            .findings(
                &admin(),
                out.version_id,
                &FindingFilter {
                    vuln_id: Some("CVE-'; --".into()),
                    ..Default::default()
                },
                FindingSort::Severity,
                Page::default(),
            )
            .unwrap();
        assert_eq!(f.total, 1);
        assert_eq!(f.items[0].package_name, "pkg' OR 1=1 --");
        let found = store
            .list_assets(
                &admin(),
                &AssetFilter {
                    name_contains: Some("drop TABLE".into()),
                    ..Default::default()
                },
                Page::default(),
            )
            .unwrap();
        assert_eq!(found.total, 1);
        let none = store
            .list_assets(
                &admin(),
                &AssetFilter {
                    name_contains: Some("%".into()),
                    ..Default::default()
                },
                Page::default(),
            )
            .unwrap();
        assert_eq!(none.total, 0, "LIKE wildcards are literal");
        store
            .create_team(&admin(), "x'); DROP TABLE teams; --")
            .unwrap();
        assert!(store
            .list_teams(&admin())
            .unwrap()
            .iter()
            .any(|t| t.name.starts_with("x');")));
        let comps = store
            .components_for_keys(&[("Debian:12".into(), "pkg' OR 1=1 ---src".into())])
            .unwrap();
        assert_eq!(comps.len(), 1);
        assert_eq!(comps[0].package.name, "pkg' OR 1=1 --");
    });
}

#[test]
fn the_reverse_index_finds_components_and_rematch_touches_only_them() {
    each_db(|db, store| {
        let mut rh = component("httpd", "2.4");
        rh.match_keys = vec![MatchKeyInput {
            ecosystem: "Red Hat:".into(),
            name: "httpd".into(),
            prefix: true,
        }];
        let out = store
            .ingest(
                &admin(),
                &document(
                    "app",
                    "sha256:1",
                    vec![component("openssl", "3.0.1"), component("zlib", "1.2"), rh],
                    &[(0, "CVE-1", Severity::High), (1, "CVE-2", Severity::Low)],
                ),
            )
            .unwrap();
        let hits = store
            .components_for_keys(&[("Debian:12".into(), "openssl-src".into())])
            .unwrap();
        assert_eq!(hits.len(), 1, "{db:?}");
        assert_eq!(hits[0].package.name, "openssl");
        assert!(hits[0].package.files.is_empty(), "files are not stored");
        assert_eq!(hits[0].os.as_ref().map(|o| o.id.as_str()), Some("debian"));
        assert!(store
            .components_for_keys(&[("Debian:11".into(), "openssl-src".into())])
            .unwrap()
            .is_empty());
        let prefixed = store
            .components_for_keys(&[(
                "Red Hat:enterprise_linux:9::appstream".into(),
                "httpd".into(),
            )])
            .unwrap();
        assert_eq!(prefixed.len(), 1);
        assert!(store
            .components_for_keys(&[("Red Hat:".into(), "openssl-src".into())])
            .unwrap()
            .is_empty());

        // A new advisory for openssl: CVE-1 gone, CVE-3 new; zlib's CVE-2 untouched.
        let pkg = &hits[0].package;
        let events = store
            .apply_rematch(
                &admin(),
                out.version_id,
                &[hits[0].id],
                &[(hits[0].id, finding(pkg, "CVE-3", Severity::Critical, &[]))],
            )
            .unwrap();
        let kinds: HashSet<(EventKind, String)> =
            events.iter().map(|e| (e.kind, e.vuln_id.clone())).collect();
        assert_eq!(
            kinds,
            HashSet::from([
                (EventKind::New, "CVE-3".to_string()),
                (EventKind::Resolved, "CVE-1".to_string())
            ])
        );
        let open = store
            .findings(
                &admin(),
                out.version_id,
                &FindingFilter {
                    state: Some("open".into()),
                    ..Default::default()
                },
                FindingSort::VulnId,
                Page::default(),
            )
            .unwrap();
        let ids: Vec<&str> = open.items.iter().map(|f| f.vuln_id.as_str()).collect();
        assert_eq!(ids, vec!["CVE-2", "CVE-3"]);
        assert!(store
            .apply_rematch(
                &admin(),
                out.version_id,
                &[],
                &[(hits[0].id, finding(pkg, "CVE-4", Severity::Low, &[]))]
            )
            .is_err());
        // A batch is all or nothing: a version that does not exist rolls back the others.
        let batch = [
            VersionRematch {
                version_id: out.version_id,
                component_ids: vec![hits[0].id],
                findings: vec![],
            },
            VersionRematch {
                version_id: out.version_id + 1000,
                component_ids: vec![],
                findings: vec![],
            },
        ];
        assert!(store.apply_rematches(&admin(), &batch).is_err());
        let still = store
            .findings(
                &admin(),
                out.version_id,
                &FindingFilter {
                    state: Some("open".into()),
                    ..Default::default()
                },
                FindingSort::VulnId,
                Page::default(),
            )
            .unwrap();
        assert_eq!(
            still.items.len(),
            2,
            "{db:?}: CVE-3 was not resolved by the failed batch"
        );
        let events = store.apply_rematches(&admin(), &batch[..1]).unwrap();
        assert_eq!(
            events.len(),
            1,
            "{db:?}: CVE-3 resolved by the batch of one"
        );
        assert_eq!(
            store.all_versions_batched(0, 10).unwrap(),
            vec![out.version_id]
        );
        assert!(store
            .all_versions_batched(out.version_id, 10)
            .unwrap()
            .is_empty());
    });
}

#[test]
fn jobs_are_claimed_once_and_an_expired_lease_is_claimed_again() {
    each_db(|db, store| {
        let low = store
            .enqueue("scan", &serde_json::json!({"image": "a"}), 0)
            .unwrap();
        let high = store
            .enqueue("scan", &serde_json::json!({"image": "b"}), 10)
            .unwrap();
        let first = store
            .claim("w1", &["scan"], Duration::from_millis(200))
            .unwrap()
            .unwrap();
        assert_eq!(first.id, high, "{db:?}: priority first");
        assert_eq!(first.attempts, 1);
        let second = store
            .claim("w2", &[], Duration::from_secs(60))
            .unwrap()
            .unwrap();
        assert_eq!(second.id, low);
        assert!(store
            .claim("w3", &[], Duration::from_secs(60))
            .unwrap()
            .is_none());
        assert!(store
            .claim("w3", &["other"], Duration::from_secs(60))
            .unwrap()
            .is_none());
        // w1 "dies": its lease runs out and w3 resumes the job.
        std::thread::sleep(Duration::from_millis(300));
        let resumed = store
            .claim("w3", &[], Duration::from_secs(60))
            .unwrap()
            .unwrap();
        assert_eq!(
            (resumed.id, resumed.attempts, resumed.worker.as_deref()),
            (high, 2, Some("w3"))
        );
        assert!(
            !store
                .complete_job(high, "w1", &serde_json::json!({}))
                .unwrap(),
            "w1 lost it"
        );
        assert!(store
            .complete_job(high, "w3", &serde_json::json!({"ok": true}))
            .unwrap());
        assert_eq!(store.job(high).unwrap().unwrap().state, JobState::Done);
        assert!(store
            .fail_job(low, "w2", "registry down", Some(Duration::ZERO))
            .unwrap());
        let retried = store
            .claim("w2", &[], Duration::from_secs(60))
            .unwrap()
            .unwrap();
        assert_eq!(
            (retried.id, retried.attempts, retried.error.as_deref()),
            (low, 2, Some("registry down"))
        );
        assert!(store.fail_job(low, "w2", "bad image", None).unwrap());
        assert_eq!(store.job(low).unwrap().unwrap().state, JobState::Failed);
        assert_eq!(store.jobs(None, Page::default()).unwrap().total, 2);
    });
}

#[test]
fn deliveries_are_queued_once_per_event_and_retried() {
    each_db(|db, store| {
        let rule = store
            .put_rule(
                &admin(),
                "hook",
                None,
                &serde_json::json!({"type": "webhook", "url": "http://127.0.0.1:1/"}),
                true,
            )
            .unwrap();
        let again = store
            .put_rule(
                &admin(),
                "hook",
                None,
                &serde_json::json!({"type": "webhook", "url": "http://127.0.0.1:2/"}),
                true,
            )
            .unwrap();
        assert_eq!(rule.id, again.id, "{db:?}");
        let d = store
            .enqueue_delivery(rule.id, Some(7), &serde_json::json!({"x": 1}))
            .unwrap();
        assert!(d.is_some());
        assert!(store
            .enqueue_delivery(rule.id, Some(7), &serde_json::json!({"x": 1}))
            .unwrap()
            .is_none());
        let claimed = store.claim_deliveries(10, Duration::from_secs(30)).unwrap();
        assert_eq!(claimed.len(), 1);
        assert!(
            store
                .claim_deliveries(10, Duration::from_secs(30))
                .unwrap()
                .is_empty(),
            "leased"
        );
        store
            .record_delivery_attempt(
                claimed[0].id,
                Err((Some(500), "server error".into())),
                Some(0),
            )
            .unwrap();
        let retry = store.claim_deliveries(10, Duration::from_secs(30)).unwrap();
        assert_eq!(
            (retry.len(), retry[0].attempts, retry[0].last_status),
            (1, 1, Some(500))
        );
        store
            .record_delivery_attempt(retry[0].id, Ok(Some(200)), None)
            .unwrap();
        let log = store
            .deliveries(&admin(), Some(rule.id), Page::default())
            .unwrap();
        assert_eq!(log.items[0].state, DeliveryState::Delivered);
        assert_eq!(store.rules(&admin()).unwrap().len(), 1);
        store.delete_rule(&admin(), rule.id).unwrap();
        assert!(store.rules(&admin()).unwrap().is_empty());
    });
}

#[test]
fn daily_snapshots_record_counts_per_asset_and_sum_per_team() {
    each_db(|db, store| {
        let mut a = document(
            "a",
            "sha256:1",
            vec![component("openssl", "1")],
            &[(0, "CVE-1", Severity::Critical)],
        );
        a.team = Some("t".into());
        let mut b = document(
            "b",
            "sha256:2",
            vec![component("zlib", "1")],
            &[(0, "CVE-2", Severity::High)],
        );
        b.team = Some("t".into());
        let out = store.ingest(&admin(), &a).unwrap();
        store.ingest(&admin(), &b).unwrap();
        assert_eq!(store.record_snapshot("2026-12-07").unwrap(), 2, "{db:?}");
        assert_eq!(
            store.record_snapshot("2026-12-07").unwrap(),
            2,
            "idempotent per day"
        );
        let one = store
            .snapshots(
                &admin(),
                Some(out.asset_id),
                None,
                "2026-12-01",
                "2026-12-31",
            )
            .unwrap();
        assert_eq!(one.len(), 1);
        assert_eq!(one[0].counts.critical, 1);
        let team = store
            .snapshots(&admin(), None, Some("t"), "2026-12-01", "2026-12-31")
            .unwrap();
        assert_eq!(
            (team.len(), team[0].counts.critical, team[0].counts.high),
            (1, 1, 1)
        );
        assert!(store.record_snapshot("12/07/2026").is_err());
    });
}

#[test]
fn changed_components_of_the_same_version_are_replaced() {
    each_db(|db, store| {
        let one = store
            .ingest(
                &admin(),
                &document(
                    "app",
                    "v1",
                    vec![component("a", "1")],
                    &[(0, "CVE-1", Severity::Low)],
                ),
            )
            .unwrap();
        let two = store
            .ingest(
                &admin(),
                &document(
                    "app",
                    "v1",
                    vec![component("a", "2"), component("b", "1")],
                    &[],
                ),
            )
            .unwrap();
        assert_eq!(one.version_id, two.version_id, "{db:?}");
        assert!(two.components_replaced);
        assert_eq!(
            store
                .components_of_versions(&[one.version_id])
                .unwrap()
                .len(),
            2
        );
        assert_eq!(two.events.len(), 1);
        assert_eq!(two.events[0].kind, EventKind::Resolved);
        assert!(
            store
                .components_for_keys(&[("Debian:12".into(), "b-src".into())])
                .unwrap()
                .len()
                == 1
        );
    });
}

/// The process's peak resident set (`VmHWM`), in MiB.
fn peak_rss_mib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<u64>().ok())
        })
        .map_or(0, |kb| kb >> 10)
}

fn big_document(n: usize) -> IngestDocument {
    let comps: Vec<ComponentInput> = (0..n)
        .map(|i| component(&format!("pkg{i}"), "1.0-1"))
        .collect();
    let vulns: Vec<(usize, String)> = (0..n)
        .step_by(10)
        .map(|i| (i, format!("CVE-2024-{i}")))
        .collect();
    let findings = vulns
        .iter()
        .map(|(i, id)| FindingInput {
            component: *i,
            finding: finding(&comps[*i].package, id, Severity::Medium, &[]),
        })
        .collect();
    IngestDocument {
        asset: "big".into(),
        version_key: "sha256:big".into(),
        source_kind: "cyclonedx".into(),
        os: Some(debian()),
        components: comps,
        findings,
        ..Default::default()
    }
}

/// 100,000 components (and 10,000 findings) in one ingest: bounded time and memory. Run with
/// `--nocapture` to see the figures.
#[test]
fn a_hundred_thousand_components_ingest_in_bounded_time() {
    let doc = big_document(100_000);
    eprintln!(
        "peak RSS with the 100k document built: {} MiB",
        peak_rss_mib()
    );
    each_db(|db, store| {
        let rss_before = memory_stats::memory_stats().map_or(0, |m| m.physical_mem);
        let t = Instant::now();
        let out = store.ingest(&admin(), &doc).unwrap();
        let took = t.elapsed();
        let rss_after = memory_stats::memory_stats().map_or(0, |m| m.physical_mem);
        eprintln!(
            "{}: 100k components + 10k findings ingested in {:.2} s, RSS +{} MiB",
            db.label(),
            took.as_secs_f64(),
            rss_after.saturating_sub(rss_before) >> 20
        );
        assert_eq!(out.component_count, 100_000);
        assert_eq!(out.open_findings, 10_000);
        // Generous for a debug build on 2 shared cores; minutes would mean row-at-a-time.
        assert!(took < Duration::from_secs(120), "{}: {took:?}", db.label());
        let t = Instant::now();
        let again = store.ingest(&admin(), &doc).unwrap();
        assert!(again.events.is_empty() && !again.components_replaced);
        eprintln!(
            "{}: the same 100k again in {:.2} s; peak RSS so far {} MiB (meaningful when run alone)",
            db.label(),
            t.elapsed().as_secs_f64(),
            peak_rss_mib()
        );
        let hits = store
            .components_for_keys(&[("Debian:12".into(), "pkg99999-src".into())])
            .unwrap();
        assert_eq!(hits.len(), 1);
    });
}

const CRASH_CHILD: &str = "BULWARK_STORE_CRASH_CHILD";
const CRASH_READY: &str = "BULWARK_STORE_CRASH_READY";
const CRASH_COMPONENTS: usize = 20_000;

/// The child role of `a_killed_ingest_leaves_nothing_or_everything`: ingests new versions of
/// one asset until it is killed. Without its environment variable it does nothing.
#[test]
fn crash_child() {
    let (Ok(url), Ok(ready)) = (std::env::var(CRASH_CHILD), std::env::var(CRASH_READY)) else {
        return;
    };
    let store = Store::open(&DatabaseLocation::parse(&url).unwrap()).unwrap();
    let mut doc = big_document(CRASH_COMPONENTS);
    std::fs::write(&ready, b"ready").unwrap();
    for i in 0.. {
        doc.version_key = format!("sha256:{i}");
        store.ingest(&admin(), &doc).unwrap();
    }
}

/// `kill -9` in the middle of an ingest: the database holds whole ingests only.
#[test]
fn a_killed_ingest_leaves_nothing_or_everything() {
    for db in testing::databases() {
        drop(db.open());
        for delay_ms in [300u64, 1300, 2100] {
            let dir = tempfile::tempdir().unwrap();
            let ready = dir.path().join("ready");
            let mut child = std::process::Command::new(std::env::current_exe().unwrap())
                .args(["--exact", "crash_child", "--nocapture", "--test-threads=1"])
                .env(CRASH_CHILD, db.url())
                .env(CRASH_READY, &ready)
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .spawn()
                .unwrap();
            let start = Instant::now();
            while !ready.exists() {
                assert!(
                    start.elapsed() < Duration::from_secs(60),
                    "the child never got ready"
                );
                std::thread::sleep(Duration::from_millis(10));
            }
            std::thread::sleep(Duration::from_millis(delay_ms));
            child.kill().unwrap(); // SIGKILL
            child.wait().unwrap();

            if let DatabaseLocation::Sqlite(p) = &db.location {
                let c = rusqlite::Connection::open(p).unwrap();
                let check: String = c
                    .query_row("PRAGMA integrity_check", [], |r| r.get(0))
                    .unwrap();
                assert_eq!(check, "ok");
            }
            let store = db.open();
            let Some(asset) = store.asset_by_name(&admin(), "big").unwrap() else {
                continue; // Killed inside the first ingest: nothing is there. Fine.
            };
            let versions = store
                .versions(&admin(), asset.id, Page::new(1000, 0))
                .unwrap();
            for v in &versions.items {
                let comps = store.components_of_versions(&[v.id]).unwrap();
                assert_eq!(
                    comps.len(),
                    CRASH_COMPONENTS,
                    "{}: version {} is half-written",
                    db.label(),
                    v.version_key
                );
                let open = store
                    .findings(
                        &admin(),
                        v.id,
                        &FindingFilter::default(),
                        FindingSort::VulnId,
                        Page::new(1, 0),
                    )
                    .unwrap()
                    .total;
                assert_eq!(
                    open,
                    (CRASH_COMPONENTS / 10) as i64,
                    "{}: findings of {}",
                    db.label(),
                    v.version_key
                );
            }
            let latest = asset
                .latest_version
                .expect("an asset row comes with its version");
            assert!(versions.items.iter().any(|v| v.id == latest.id));
            eprintln!(
                "{}: killed after {delay_ms} ms: {} whole versions",
                db.label(),
                versions.total
            );
        }
    }
}

/// Connections the server dropped (as on a PostgreSQL restart) cost no request: the pool
/// discards them and starts the transaction on a fresh one.
#[test]
fn dropped_postgres_connections_are_replaced() {
    let db = testing::postgres();
    let store = db.open();
    store.set_meta("k", "v").unwrap();
    let DatabaseLocation::Postgres(url) = &db.location else {
        unreachable!()
    };
    let mut admin_conn = postgres::Client::connect(url, postgres::NoTls).unwrap();
    let killed = admin_conn
        .query(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()",
            &[],
        )
        .unwrap()
        .len();
    assert!(killed >= 1, "the store's pooled connection was terminated");
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(store.meta("k").unwrap().as_deref(), Some("v"));
    store.set_meta("k", "w").unwrap();
    assert_eq!(store.meta("k").unwrap().as_deref(), Some("w"));
}

/// A PostgreSQL that is not there: a clear error naming it, quickly.
#[test]
fn an_unreachable_postgres_is_a_clear_error() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("postgres://bulwark:secret-pw@127.0.0.1:{port}/bulwark");
    let t = Instant::now();
    let err = Store::open(&DatabaseLocation::parse(&url).unwrap()).unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains(&format!("127.0.0.1:{port}/bulwark")) && text.contains("is it running"),
        "{text}"
    );
    assert!(!text.contains("secret-pw"), "{text}");
    assert!(t.elapsed() < Duration::from_secs(10));
    let tls = Store::open(&DatabaseLocation::parse(&format!("{url}?sslmode=require")).unwrap())
        .unwrap_err();
    assert!(tls.to_string().contains("not supported yet"), "{tls}");
    let missing = Store::open(&DatabaseLocation::Sqlite(
        "/nonexistent-dir/x/bulwark.sqlite".into(),
    ))
    .unwrap_err();
    assert!(missing.to_string().contains("does not exist"), "{missing}");
}

/// Concurrent uploads of one new asset and digest (a CI retrying while the first is still
/// running): every one succeeds, and there is one version with each finding once.
#[test]
fn concurrent_ingests_of_one_asset_do_not_conflict() {
    each_db(|db, store| {
        let doc = document(
            "shared",
            "sha256:same",
            (0..200).map(|i| component(&format!("p{i}"), "1")).collect(),
            &[(0, "CVE-1", Severity::High), (5, "CVE-2", Severity::Low)],
        );
        let outcomes: Vec<IngestOutcome> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..6)
                .map(|_| s.spawn(|| store.ingest(&admin(), &doc)))
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().unwrap().unwrap())
                .collect()
        });
        assert!(
            outcomes
                .iter()
                .all(|o| o.version_id == outcomes[0].version_id),
            "{db:?}"
        );
        assert_eq!(outcomes.iter().filter(|o| o.new_asset).count(), 1);
        assert_eq!(outcomes.iter().filter(|o| o.new_version).count(), 1);
        let new_events: usize = outcomes.iter().map(|o| o.events.len()).sum();
        assert_eq!(new_events, 2, "each finding is new once");
        assert_eq!(
            store
                .components_of_versions(&[outcomes[0].version_id])
                .unwrap()
                .len(),
            200
        );
    });
}

/// Two components with one purl (the same jar at two paths): rematching only the second keeps
/// the finding the first one had, instead of failing on the (version, vulnerability, purl) key.
#[test]
fn rematching_one_of_two_components_with_one_purl_updates_the_shared_finding() {
    each_db(|db, store| {
        let out = store
            .ingest(
                &admin(),
                &document(
                    "app",
                    "sha256:1",
                    vec![component("lib", "1"), component("lib", "1")],
                    &[(0, "CVE-1", Severity::High)],
                ),
            )
            .unwrap();
        let comps = store.components_of_versions(&[out.version_id]).unwrap();
        assert_eq!(comps.len(), 2);
        let second = &comps[1];
        let events = store
            .apply_rematch(
                &admin(),
                out.version_id,
                &[second.id],
                &[(
                    second.id,
                    finding(&second.package, "CVE-1", Severity::High, &["9.9"]),
                )],
            )
            .unwrap();
        assert!(events.is_empty(), "{db:?}: {events:?}");
        let open = store
            .findings(
                &admin(),
                out.version_id,
                &FindingFilter::default(),
                FindingSort::VulnId,
                Page::default(),
            )
            .unwrap();
        assert_eq!(open.total, 1);
        assert_eq!(open.items[0].component_id, Some(second.id));
    });
}

/// The portfolio's counts are kept on the asset row: right after an ingest, a rematch and a
/// suppressing triage; sortable worst-first; and an older database gets them backfilled by
/// migration 0002.
#[test]
fn portfolio_counts_follow_ingest_rematch_and_triage_and_sort_worst_first() {
    each_db(|db, store| {
        let ingest = |asset: &str, vulns: &[(usize, &str, Severity)]| {
            store
                .ingest(
                    &admin(),
                    &document(
                        asset,
                        &format!("sha256:{asset}"),
                        vec![component("openssl", "3.0.1"), component("zlib", "1.2")],
                        vulns,
                    ),
                )
                .unwrap()
        };
        let quiet = ingest("quiet", &[(1, "CVE-L", Severity::Low)]);
        let loud = ingest(
            "loud",
            &[
                (0, "CVE-C", Severity::Critical),
                (1, "CVE-H", Severity::High),
            ],
        );
        ingest("middle", &[(0, "CVE-H2", Severity::High)]);
        let order = |store: &Store, sort: AssetSort| -> Vec<(String, i64, i64)> {
            store
                .list_assets(
                    &admin(),
                    &AssetFilter {
                        sort,
                        ..Default::default()
                    },
                    Page::default(),
                )
                .unwrap()
                .items
                .into_iter()
                .map(|a| (a.name, a.counts.critical, a.counts.total))
                .collect()
        };
        assert_eq!(
            order(&store, AssetSort::Severity),
            [
                ("loud".to_string(), 1, 2),
                ("middle".to_string(), 0, 1),
                ("quiet".to_string(), 0, 1)
            ],
            "{db:?}"
        );
        // A rematch gives quiet two critical findings: it moves first.
        let hits = store
            .components_for_keys(&[("Debian:12".into(), "openssl-src".into())])
            .unwrap();
        let mine = hits
            .iter()
            .find(|h| h.version_id == quiet.version_id)
            .unwrap();
        store
            .apply_rematch(
                &admin(),
                quiet.version_id,
                &[mine.id],
                &[
                    (
                        mine.id,
                        finding(&mine.package, "CVE-C2", Severity::Critical, &["9"]),
                    ),
                    (
                        mine.id,
                        finding(&mine.package, "CVE-C3", Severity::Critical, &[]),
                    ),
                ],
            )
            .unwrap();
        let by_severity = order(&store, AssetSort::Severity);
        assert_eq!(
            by_severity[0],
            ("quiet".to_string(), 2, 3),
            "{db:?}: {by_severity:?}"
        );
        // Suppressing loud's critical finding drops its count at once.
        let purl = package("openssl", "3.0.1").purl.to_string();
        store
            .set_triage(
                &admin(),
                loud.asset_id,
                "CVE-C",
                &purl,
                &TriageInput {
                    state: TriageState::NotAffected,
                    justification: Some("code_not_reachable".into()),
                    response: None,
                    comment: None,
                    suppressed: true,
                },
            )
            .unwrap();
        let loud_now = order(&store, AssetSort::Name)
            .into_iter()
            .find(|a| a.0 == "loud")
            .unwrap();
        assert_eq!((loud_now.1, loud_now.2), (0, 1), "{db:?}");
        let expected = order(&store, AssetSort::Name);

        // A database from before migration 0002: the columns are gone, then restored and
        // backfilled on open.
        drop(store);
        let undo: Vec<String> = [
            "open_critical",
            "open_high",
            "open_medium",
            "open_low",
            "open_unknown",
            "open_kev",
            "open_fixable",
            "open_total",
        ]
        .iter()
        .map(|c| format!("ALTER TABLE assets DROP COLUMN {c}"))
        .chain(["DELETE FROM schema_migrations WHERE version = 2".to_string()])
        .collect();
        match &db.location {
            DatabaseLocation::Sqlite(p) => {
                let c = rusqlite::Connection::open(p).unwrap();
                for sql in &undo {
                    c.execute(sql, []).unwrap();
                }
            }
            DatabaseLocation::Postgres(url) => {
                let mut c = postgres::Client::connect(url, postgres::NoTls).unwrap();
                for sql in &undo {
                    c.execute(sql.as_str(), &[]).unwrap();
                }
            }
        }
        let reopened = db.open();
        assert_eq!(
            order(&reopened, AssetSort::Name),
            expected,
            "{db:?}: backfilled"
        );
    });
}
