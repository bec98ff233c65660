//! User Rego policies: the shipped examples on real files, conftest's v0 and v1 syntax,
//! namespaces, and syntax errors that name the file and line.

use std::path::{Path, PathBuf};

use bulwark_misconfig::rego::Policies;
use bulwark_misconfig::{scan_paths_with, FileKind, SourceFile};
use bulwark_types::Severity;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(&p, text).unwrap();
    p
}

#[test]
fn example_dockerfile_policy_flags_unapproved_bases_at_their_line() {
    let policies = Policies::load(&[repo().join("examples/policies/dockerfile")], &[]).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let df = write(
        dir.path(),
        "Dockerfile",
        "FROM registry.example.com/base/python:3.12 AS build\nRUN true\nFROM build AS test\nFROM debian:12\nFROM scratch\n",
    );
    let scan = scan_paths_with(&[df], &policies).unwrap();
    assert!(scan.errors.is_empty(), "{:?}", scan.errors);
    let ours: Vec<_> = scan
        .findings
        .iter()
        .filter(|f| f.check_id == "ORG-DF-001")
        .collect();
    assert_eq!(ours.len(), 1, "{ours:#?}");
    assert_eq!(ours[0].location.line, Some(4));
    assert_eq!(ours[0].severity, Severity::High);
    assert!(ours[0].message.contains("debian:12"));
    // Built-in checks still run alongside.
    assert!(scan.findings.iter().any(|f| f.check_id == "BW-DF-001"));
}

#[test]
fn example_kubernetes_policy_in_conftest_v0_syntax() {
    let policies = Policies::load(&[repo().join("examples/policies/kubernetes")], &[]).unwrap();
    let file = SourceFile {
        path: "deploy.yaml".into(),
        kind: FileKind::Kubernetes,
        bytes: b"apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: 1\n  template:\n    metadata:\n      labels:\n        app: web\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: api\nspec:\n  replicas: 3\n  template:\n    metadata:\n      labels:\n        app.kubernetes.io/name: api\n".to_vec(),
    };
    let found = policies.eval(&file).unwrap();
    let mut msgs: Vec<(String, Severity)> = found
        .iter()
        .map(|f| (f.message.clone(), f.severity))
        .collect();
    msgs.sort();
    assert_eq!(
        msgs,
        vec![
            (
                "Deployment web has no app.kubernetes.io/name label on its pods".to_string(),
                Severity::High
            ),
            (
                "Deployment web runs a single replica".to_string(),
                Severity::Low
            ),
        ]
    );
    assert!(found.iter().all(|f| f.check_id == "main"));
}

#[test]
fn namespaces_choose_packages_and_violation_objects_work() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "p/daemon.rego",
        "package docker.daemon\nimport rego.v1\nviolation contains {\"msg\": \"icc must be false\", \"id\": \"ORG-DMN-1\", \"severity\": \"critical\"} if { input.icc != false }\n",
    );
    write(
        dir.path(),
        "p/ignored_test.rego",
        "package main\nthis is not rego\n",
    );
    let daemon = SourceFile {
        path: "daemon.json".into(),
        kind: FileKind::DaemonJson,
        bytes: br#"{"icc": true}"#.to_vec(),
    };
    let p = dir.path().join("p");
    let main_only = Policies::load(std::slice::from_ref(&p), &[]).unwrap();
    assert!(
        main_only.eval(&daemon).unwrap().is_empty(),
        "package docker.daemon is not main"
    );
    let docker = Policies::load(&[p], &["docker".to_string()]).unwrap();
    let found = docker.eval(&daemon).unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].check_id, "ORG-DMN-1");
    assert_eq!(found[0].severity, Severity::Critical);
}

#[test]
fn syntax_errors_name_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let bad = write(
        dir.path(),
        "bad.rego",
        "package main\nimport rego.v1\n\ndeny contains msg if {\n  msg := \n}\n",
    );
    let errors = Policies::load(&[dir.path().to_path_buf()], &[]).unwrap_err();
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].path, bad.display().to_string());
    assert!(
        errors[0].line.is_some_and(|l| (5..=6).contains(&l)),
        "{:?}",
        errors[0]
    );
    assert!(
        errors[0].message.starts_with("Rego error"),
        "{}",
        errors[0].message
    );
    let missing = Policies::load(&[dir.path().join("nope")], &[]).unwrap_err();
    assert!(missing[0].message.contains("no such policy directory"));
}

fn policy(dir: &Path, body: &str) -> Policies {
    write(
        dir,
        "policy.rego",
        &format!("package main\n\nimport rego.v1\n\n{body}"),
    );
    Policies::load(&[dir.to_path_buf()], &[]).unwrap()
}

fn dockerfile() -> SourceFile {
    SourceFile {
        path: "Dockerfile".into(),
        kind: FileKind::Dockerfile,
        bytes: b"FROM debian:12\n".to_vec(),
    }
}

/// Issue 13.13: a policy that loops for ever stops at the time budget, one that builds a huge
/// value at the memory budget; both name the rule. (Runaway recursion is tested through the
/// CLI: its thread cannot be stopped, and only a process that exits is rid of it.)
#[test]
fn issue_13_13_policies_stop_at_their_time_and_memory_budget() {
    use bulwark_misconfig::rego::{BudgetKind, EvalBudget, EvalError};
    use std::time::Duration;

    let dir = tempfile::tempdir().unwrap();
    let slow = policy(
        &dir.path().join("slow"),
        "deny contains msg if {\n  some i in numbers.range(1, 100000)\n  some j in numbers.range(1, 100000)\n  i == j + 100001\n  msg := \"never\"\n}\n",
    )
    .with_budget(EvalBudget {
        time: Duration::from_millis(500),
        memory_bytes: 1 << 30,
    });
    let start = std::time::Instant::now();
    match slow.eval(&dockerfile()) {
        Err(EvalError::Budget(e)) => {
            assert_eq!(e.policy, "data.main.deny");
            assert_eq!(e.path, "Dockerfile");
            assert!(matches!(e.kind, BudgetKind::Time(_)), "{e}");
            assert!(e.to_string().contains("time budget"), "{e}");
        }
        other => panic!("{other:?}"),
    }
    assert!(start.elapsed().as_secs() < 10, "{:?}", start.elapsed());

    let big = policy(
        &dir.path().join("big"),
        "deny contains msg if {\n  xs := numbers.range(1, 10000000)\n  count(xs) > 0\n  msg := \"never\"\n}\n",
    )
    .with_budget(EvalBudget {
        time: Duration::from_secs(60),
        memory_bytes: 32 << 20,
    });
    match big.eval(&dockerfile()) {
        Err(EvalError::Budget(e)) => {
            assert_eq!(e.policy, "data.main.deny");
            assert!(matches!(e.kind, BudgetKind::Memory(_)), "{e}");
            assert!(e.to_string().contains("32 MiB"), "{e}");
        }
        other => panic!("{other:?}"),
    }

    // An ordinary policy under the default budget is unaffected.
    let fine = policy(
        &dir.path().join("fine"),
        "deny contains msg if {\n  some ins in input\n  ins.cmd == \"from\"\n  msg := sprintf(\"base %s\", [ins.value])\n}\n",
    );
    let found = fine.eval(&dockerfile()).unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].message, "base debian:12");
}
