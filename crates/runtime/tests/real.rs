//! Against real containers: a dockerd started here in a temporary root (vfs storage, no
//! iptables, no bridge; containers on `--network none`), the minbase test image loaded into
//! it, a risky and a hardened container started. Skips loudly when dockerd is not installed
//! or cannot start here (under CI, `CI` set, that is a failure: `.ci/run` installs docker.io).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

use bulwark_engine::{Client, Engine, EngineOptions};
use bulwark_runtime::procfs::ProcFs;
use bulwark_runtime::testing::Dockerd;
use bulwark_types::{Ecosystem, InUseState, Package};

fn client(daemon: &Dockerd) -> Client {
    let options = EngineOptions {
        docker_host: Some(daemon.host()),
        podman_host: None,
        timeout: Duration::from_secs(60),
        min_rate: Default::default(),
    };
    Client::connect(Engine::Docker, &options).unwrap()
}

fn minbase() -> Option<PathBuf> {
    let dir = std::env::var_os("BULWARK_TESTIMAGES")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.cache/testimages"))
        .join("minbase/docker-archive.tar");
    if dir.exists() {
        return Some(dir);
    }
    if std::env::var_os("BULWARK_SKIP_REAL_IMAGES").is_some() {
        eprintln!(
            "skipping: the minbase test image is not built and BULWARK_SKIP_REAL_IMAGES is set"
        );
        return None;
    }
    panic!("the minbase test image is missing: python3 scripts/build-test-images.py minbase");
}

/// A package with the files its dpkg list names, read from the container's root.
fn dpkg_package(root: &Path, name: &str) -> Package {
    let list = std::fs::read_to_string(root.join(format!("var/lib/dpkg/info/{name}:amd64.list")))
        .or_else(|_| std::fs::read_to_string(root.join(format!("var/lib/dpkg/info/{name}.list"))))
        .unwrap();
    Package {
        ecosystem: Ecosystem::Deb,
        name: name.to_string(),
        version: "1".into(),
        arch: None,
        source: None,
        licenses: Vec::new(),
        purl: format!("pkg:deb/debian/{name}@1").parse().unwrap(),
        layer: bulwark_types::LayerRef {
            index: 0,
            diff_id: None,
            created_by: None,
        },
        found_in: Vec::new(),
        files: list.lines().map(str::to_string).collect(),
        dev: false,
        inferred: false,
        dependencies: Vec::new(),
        evidence: Default::default(),
        role: Default::default(),
    }
}

#[test]
fn risky_and_hardened_containers_on_a_real_dockerd() {
    let Some(archive) = minbase() else { return };
    if !cfg!(target_arch = "x86_64") {
        eprintln!("skipping: the minbase image is amd64");
        return;
    }
    let Some(daemon) = Dockerd::start() else {
        return;
    };
    daemon.start_risky_and_hardened(&archive);
    let client = client(&daemon);
    let ids = bulwark_runtime::containers(&client, &[]).unwrap();
    assert_eq!(ids.len(), 2, "{ids:?}");
    let proc = ProcFs::default();

    let mut risky = bulwark_runtime::audit_container(&client, "risky", &proc).unwrap();
    let cis: BTreeSet<(String, String)> = risky
        .findings
        .iter()
        .map(|f| {
            let control = f
                .compliance
                .iter()
                .find(|c| c.framework == bulwark_types::Framework::CisDocker)
                .map(|c| c.control.clone())
                .unwrap_or_default();
            (f.check_id.clone(), control)
        })
        .collect();
    for (id, control) in [
        ("BW-RT-002", "5.4"),  // --cap-add SYS_ADMIN
        ("BW-RT-003", "5.6"),  // -v /etc:/host-etc
        ("BW-RT-006", "5.16"), // --pid host
        ("BW-RT-012", "5.26"),
        ("BW-RT-013", "5.13"),
        ("BW-RT-014", "4.1"), // -u 0
        ("BW-RT-015", "5.11"),
        ("BW-RT-016", "5.12"),
        ("BW-RT-017", "5.29"),
        ("BW-RT-020", "5.28"),
        ("BW-RT-024", "5.13"), // the executable dropped after start
    ] {
        assert!(
            cis.contains(&(id.to_string(), control.to_string())),
            "{id} ({control}) in {cis:?}"
        );
    }
    let etc = risky
        .findings
        .iter()
        .find(|f| f.check_id == "BW-RT-003")
        .unwrap();
    assert!(
        etc.message.contains("/etc") && etc.message.contains("writable"),
        "{}",
        etc.message
    );
    let audit = &risky.audit;
    assert!(audit
        .declared_capabilities
        .contains(&"SYS_ADMIN".to_string()));
    let effective = audit
        .effective_capabilities
        .as_ref()
        .expect("/proc is readable here");
    assert!(
        effective.contains(&"SYS_ADMIN".to_string()),
        "{effective:?}"
    );
    assert!(effective.contains(&"CHOWN".to_string()));
    assert!(!effective.contains(&"SYS_MODULE".to_string()));
    let drift: Vec<(&str, bool)> = audit
        .drift
        .iter()
        .map(|d| (d.path.as_str(), d.executable))
        .collect();
    assert!(
        drift.contains(&("/tmp/written-after-start", false)),
        "{drift:?}"
    );
    assert!(
        drift.contains(&("/usr/local/bin/dropped", true)),
        "{drift:?}"
    );
    assert!(
        !drift.iter().any(|(p, _)| p.starts_with("/host-etc")),
        "mounts are not drift: {drift:?}"
    );
    assert!(audit
        .advice
        .drop_capabilities
        .contains(&"SYS_ADMIN".to_string()));
    assert!(
        audit
            .advice
            .docker_run
            .contains(&"-v /etc:/host-etc:ro".to_string()),
        "{:?}",
        audit.advice.docker_run
    );

    // In use: sleep maps libc (libc6), not zlib.
    let pid = audit.pid.unwrap();
    let root = PathBuf::from(format!("/proc/{pid}/root"));
    let packages = vec![dpkg_package(&root, "libc6"), dpkg_package(&root, "zlib1g")];
    let finding_for = |name: &str| {
        let p = packages.iter().find(|p| p.name == name).unwrap();
        bulwark_types::VulnerabilityFinding {
            id: format!("TEST-{name}"),
            ids: vec![format!("TEST-{name}")],
            package: bulwark_types::FindingPackage {
                name: name.into(),
                version: "1".into(),
                purl: p.purl.clone(),
                ecosystem: Ecosystem::Deb,
                layer_index: 0,
                layer_created_by: None,
                advisory_ecosystem: "Debian:12".into(),
                advisory_name: name.into(),
            },
            installed_version: "1".into(),
            fixed_versions: Vec::new(),
            status: bulwark_types::FindingStatus::Unfixed,
            status_note: None,
            severity: bulwark_types::Severity::High,
            severity_source: bulwark_types::SeveritySource::SourceRating,
            cvss: None,
            epss: None,
            kev: None,
            title: None,
            references: Vec::new(),
            priority: bulwark_types::Priority {
                kev: false,
                epss: None,
                score: 8.0,
                reason: String::new(),
            },
            in_use: None,
            reachability: None,
        }
    };
    let findings = vec![finding_for("libc6"), finding_for("zlib1g")];
    let marked = risky.attach(&packages, &findings);
    let libc = marked[0].in_use.as_ref().unwrap();
    assert_eq!(libc.state, InUseState::Loaded, "{libc:?}");
    assert!(
        libc.evidence.iter().any(|e| e.path.ends_with("/libc.so.6")),
        "{libc:?}"
    );
    assert_eq!(
        marked[1].in_use.as_ref().unwrap().state,
        InUseState::NotLoaded
    );
    assert!(risky
        .audit
        .in_use_files
        .iter()
        .any(|e| e.path.ends_with("/libc.so.6")));

    // Seen from another machine's /proc (an empty one here): the effective capabilities and
    // the in-use states are unknown, with a warning that says why.
    let elsewhere = tempfile::tempdir().unwrap();
    let mut remote =
        bulwark_runtime::audit_container(&client, "risky", &ProcFs::new(elsewhere.path())).unwrap();
    assert!(remote.audit.effective_capabilities.is_none());
    assert!(
        remote.audit.warnings.iter().any(|w| w.contains("unknown")),
        "{:?}",
        remote.audit.warnings
    );
    for f in remote.attach(&packages, &findings) {
        let in_use = f.in_use.unwrap();
        assert_eq!(in_use.state, InUseState::Unknown);
        assert!(in_use.reason.is_some());
    }

    let hardened = bulwark_runtime::audit_container(&client, "hardened", &proc).unwrap();
    assert!(
        hardened.findings.is_empty(),
        "a hardened container has no findings: {:#?}",
        hardened.findings
    );
    assert!(hardened.audit.declared_capabilities.is_empty());
    assert_eq!(
        hardened.audit.effective_capabilities.as_deref(),
        Some(&[][..])
    );
    assert!(
        hardened.audit.drift.is_empty(),
        "{:?}",
        hardened.audit.drift
    );
    assert!(
        hardened.audit.warnings.is_empty(),
        "{:?}",
        hardened.audit.warnings
    );

    // A container that is gone is the engine's error, by name.
    let err = bulwark_runtime::audit_container(&client, "no-such-container", &proc).unwrap_err();
    assert!(err.to_string().contains("no-such-container"), "{err}");
}
