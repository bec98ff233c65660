//! The checks on recorded inspect documents: the settings a sandbox cannot start (privileged,
//! host namespaces, published ports, devices, the engine socket) and a near-hardened one.

use std::collections::BTreeSet;

use bulwark_engine::Engine;
use bulwark_types::Framework;
use serde_json::Value;

fn doc(name: &str) -> Value {
    let path = format!("{}/tests/data/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn cis(f: &bulwark_types::Misconfiguration) -> String {
    f.compliance
        .iter()
        .find(|c| c.framework == Framework::CisDocker)
        .map(|c| c.control.clone())
        .unwrap_or_default()
}

#[test]
fn every_risky_setting_of_a_recorded_privileged_container_is_found_with_its_cis_id() {
    let audited =
        bulwark_runtime::audit_document(Engine::Docker, &doc("privileged.inspect.json")).unwrap();
    let found: BTreeSet<(String, String)> = audited
        .findings
        .iter()
        .map(|f| (f.check_id.clone(), cis(f)))
        .collect();
    let want: BTreeSet<(String, String)> = [
        ("BW-RT-001", "5.5"),  // privileged
        ("BW-RT-003", "5.6"),  // / mounted
        ("BW-RT-004", "5.32"), // docker.sock
        ("BW-RT-005", "5.10"),
        ("BW-RT-006", "5.16"),
        ("BW-RT-007", "5.17"),
        ("BW-RT-008", "5.21"),
        ("BW-RT-009", "5.31"),
        ("BW-RT-012", "5.26"),
        ("BW-RT-013", "5.13"),
        ("BW-RT-014", "4.1"),
        ("BW-RT-015", "5.11"),
        ("BW-RT-016", "5.12"),
        ("BW-RT-017", "5.29"),
        ("BW-RT-018", "5.15"),
        ("BW-RT-019", "5.14"),
        ("BW-RT-020", "5.28"),
        ("BW-RT-022", "5.25"),
        ("BW-RT-023", "5.3"),
    ]
    .into_iter()
    .map(|(a, b)| (a.to_string(), b.to_string()))
    .collect();
    assert_eq!(found, want);
    // Privileged covers capabilities, seccomp, AppArmor and devices: not reported again.
    for f in &audited.findings {
        assert!(
            f.compliance
                .iter()
                .any(|c| c.framework == Framework::Nist800190 && c.control.starts_with("4.")),
            "{} has a NIST SP 800-190 control",
            f.check_id
        );
        assert_eq!(f.location.path, "container:recorded-privileged");
    }
    let ports: Vec<&str> = audited
        .findings
        .iter()
        .filter(|f| f.check_id == "BW-RT-019")
        .map(|f| f.message.as_str())
        .collect();
    assert_eq!(
        ports.len(),
        1,
        "only the port on every interface: {ports:?}"
    );
    assert!(ports[0].contains("8080"));
    let root = audited
        .findings
        .iter()
        .find(|f| f.check_id == "BW-RT-003")
        .unwrap();
    assert!(root.message.contains("read-only"), "{}", root.message);
    let sock = audited
        .findings
        .iter()
        .find(|f| f.check_id == "BW-RT-004")
        .unwrap();
    assert!(sock.message.contains("writable"), "{}", sock.message);
    assert_eq!(
        audited.audit.declared_capabilities.len(),
        41,
        "privileged: every capability"
    );
    assert!(audited.audit.effective_capabilities.is_none());
    assert!(audited
        .audit
        .advice
        .docker_run
        .contains(&"--cap-drop ALL".to_string()));
}

#[test]
fn unprivileged_risks_are_reported_separately() {
    let mut d = doc("privileged.inspect.json");
    d["HostConfig"]["Privileged"] = false.into();
    let audited = bulwark_runtime::audit_document(Engine::Docker, &d).unwrap();
    let ids: BTreeSet<&str> = audited
        .findings
        .iter()
        .map(|f| f.check_id.as_str())
        .collect();
    for id in ["BW-RT-002", "BW-RT-010", "BW-RT-011", "BW-RT-021"] {
        assert!(ids.contains(id), "{id} in {ids:?}");
    }
    let caps = audited
        .findings
        .iter()
        .find(|f| f.check_id == "BW-RT-002")
        .unwrap();
    assert!(
        caps.message.contains("SYS_ADMIN") && caps.message.contains("NET_ADMIN"),
        "{}",
        caps.message
    );
    assert_eq!(
        audited.audit.advice.drop_capabilities,
        vec!["NET_ADMIN", "SYS_ADMIN"]
    );
    let k8s = &audited.audit.advice.kubernetes;
    assert!(
        k8s.contains("allowPrivilegeEscalation: false") && k8s.contains("drop: [\"ALL\"]"),
        "{k8s}"
    );
    assert!(
        !k8s.contains("SYS_ADMIN"),
        "added capabilities are not kept: {k8s}"
    );
    assert!(audited.audit.advice.compose.contains("read_only: true"));
}

#[test]
fn a_bounded_on_failure_policy_is_the_only_finding_when_retries_exceed_five() {
    let audited =
        bulwark_runtime::audit_document(Engine::Docker, &doc("onfailure.inspect.json")).unwrap();
    let ids: Vec<&str> = audited
        .findings
        .iter()
        .map(|f| f.check_id.as_str())
        .collect();
    assert_eq!(ids, vec!["BW-RT-018"], "{:#?}", audited.findings);
    let mut d = doc("onfailure.inspect.json");
    d["HostConfig"]["RestartPolicy"]["MaximumRetryCount"] = 5.into();
    let audited = bulwark_runtime::audit_document(Engine::Docker, &d).unwrap();
    assert!(audited.findings.is_empty(), "{:#?}", audited.findings);
    assert!(audited.audit.declared_capabilities.is_empty());
}

#[test]
fn documents_that_are_not_inspect_answers_are_errors_not_panics() {
    for bad in [
        serde_json::json!([]),
        serde_json::json!({"HostConfig": "x"}),
        serde_json::json!({"Mounts": {"a": 1}}),
    ] {
        assert!(
            bulwark_runtime::audit_document(Engine::Docker, &bad).is_err(),
            "{bad}"
        );
    }
    // Nulls and missing fields are fine.
    let audited = bulwark_runtime::audit_document(
        Engine::Podman,
        &serde_json::json!({"Id": "abc", "HostConfig": {"CapAdd": null, "PortBindings": {"80/tcp": null}}}),
    )
    .unwrap();
    assert_eq!(audited.audit.name, "abc");
}
