//! The Kubernetes half of the benchmark corpus (`bench/misconfig/corpus/kubernetes`: real
//! public manifests, see `ATTRIBUTION.md`) scanned the way `bulwark config DIR` scans it: every
//! file is detected and parsed without error, and the deliberately insecure ones
//! (kubernetes-goat) are flagged where a reader would point.

use std::path::PathBuf;

use bulwark_misconfig::scan_paths;

fn corpus() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../bench/misconfig/corpus/kubernetes")
}

#[test]
fn the_kubernetes_corpus_scans_without_errors_and_flags_the_insecure_manifests() {
    let scan = scan_paths(&[corpus()]);
    assert!(
        scan.errors.is_empty(),
        "errors: {:#?}",
        scan.errors
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
    );
    let files = std::fs::read_dir(corpus())
        .unwrap()
        .flat_map(|d| std::fs::read_dir(d.unwrap().path()).unwrap())
        .count();
    assert!(
        scan.files_scanned >= 30,
        "{} of {files} files scanned",
        scan.files_scanned
    );
    assert_eq!(
        scan.files_scanned, files,
        "every corpus file is detected as a manifest"
    );

    // Per-check counts, for `cargo test --test corpus -- --nocapture`.
    let mut counts = std::collections::BTreeMap::new();
    for f in &scan.findings {
        *counts.entry(f.check_id.as_str()).or_insert(0usize) += 1;
    }
    eprintln!(
        "{} findings over {} files: {counts:?}",
        scan.findings.len(),
        scan.files_scanned
    );

    let at = |file: &str, id: &str| -> Vec<usize> {
        let mut lines: Vec<usize> = scan
            .findings
            .iter()
            .filter(|f| f.location.path.ends_with(file) && f.check_id == id)
            .filter_map(|f| f.location.line)
            .collect();
        lines.sort();
        lines
    };
    let goat = "kubernetes-goat/";
    // system-monitor: hostPID/hostIPC/hostNetwork, / mounted, privileged with escalation.
    let sm = format!("{goat}system-monitor__deployment.yaml");
    assert_eq!(at(&sm, "BW-K8S-001"), [39]);
    assert_eq!(at(&sm, "BW-K8S-002"), [25]);
    assert_eq!(at(&sm, "BW-K8S-003"), [23]);
    assert_eq!(at(&sm, "BW-K8S-004"), [24]);
    assert_eq!(at(&sm, "BW-K8S-005"), [28]);
    assert_eq!(at(&sm, "BW-K8S-032"), [29]);
    assert_eq!(at(&sm, "BW-K8S-009"), [38]);
    assert_eq!(at(&sm, "BW-K8S-023"), [32]);
    // health-check: privileged with the Docker socket mounted.
    let hc = format!("{goat}health-check__deployment.yaml");
    assert_eq!(at(&hc, "BW-K8S-001"), [25]);
    assert_eq!(at(&hc, "BW-K8S-032"), [32]);
    // insecure-rbac: cluster-admin bound to a service account.
    assert_eq!(
        at(&format!("{goat}insecure-rbac__setup.yaml"), "BW-K8S-035"),
        [14]
    );
    // docker-bench: uid 0 on the pod, AUDIT_CONTROL added.
    let db = format!("{goat}docker-bench-security__deployment.yaml");
    assert_eq!(at(&db, "BW-K8S-011"), [31]);
    assert_eq!(at(&db, "BW-K8S-007"), [47]);
    // A NodePort Service and an Ingress without TLS.
    assert_eq!(
        at(
            &format!("{goat}custom-kubernetes__ingress-bad.yaml"),
            "BW-K8S-046"
        ),
        [5]
    );
    // Literal secrets in env (the SAS token), not the token refresh interval.
    assert_eq!(
        at(&format!("{goat}deamonset.yaml"), "BW-K8S-031"),
        [79, 81, 83]
    );
    // Literal database passwords in env.
    assert_eq!(at("website/mysql-deployment.yaml", "BW-K8S-031"), [33]);
    assert_eq!(
        at("examples/javaee__mysql-pod.yaml", "BW-K8S-031"),
        [16, 20]
    );
    // The documentation's allow-all policies, on the `{}` rule.
    assert_eq!(
        at(
            "website/network-policy-allow-all-ingress.yaml",
            "BW-K8S-043"
        ),
        [10]
    );
    assert_eq!(
        at("website/network-policy-allow-all-egress.yaml", "BW-K8S-043"),
        [10]
    );
    // A hardened example stays quiet on the PSS baseline.
    for id in [
        "BW-K8S-001",
        "BW-K8S-002",
        "BW-K8S-005",
        "BW-K8S-007",
        "BW-K8S-031",
    ] {
        assert!(
            at("microservices-demo/adservice.yaml", id).is_empty(),
            "{id}"
        );
    }
    // Flow-style manifests (kubernetes/website) parse, with positions.
    assert_eq!(at("website/security-context-4.yaml", "BW-K8S-007"), [14]);
    assert_eq!(at("website/simple-clusterrole.yaml", "BW-K8S-037"), [16]);
}

/// Bad input in a directory: each broken file is reported with its line, the good ones are
/// still checked, and nothing panics or blows up memory.
#[test]
fn broken_files_are_reported_and_the_rest_still_scanned() {
    let dir = std::env::temp_dir().join(format!("bulwark-mk8s-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut bomb = String::from(
        "apiVersion: v1\nkind: ConfigMap\na: &a [lol,lol,lol,lol,lol,lol,lol,lol,lol,lol]\n",
    );
    for (prev, next) in ["a", "b", "c", "d", "e", "f", "g", "h", "i"]
        .windows(2)
        .map(|w| (w[0], w[1]))
    {
        bomb.push_str(&format!("{next}: &{next} [*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev}]\n"));
    }
    let files = [
        ("bomb.yaml", bomb.as_str()),
        ("broken.yaml", "apiVersion: v1\nkind: Pod\nspec:\n  containers: [\n"),
        (
            "deep.json",
            &format!(
                "{{\n\"apiVersion\": \"v1\",\n\"kind\": \"Pod\",\n\"x\": {}{}}}",
                "[".repeat(300),
                "]".repeat(300)
            ),
        ),
        ("pod.yaml", "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: x}\nspec:\n  hostPID: true\n  containers: [{name: c, image: nginx}]\n"),
        ("docker-compose.yml", "services:\n  db:\n    image: postgres:16\n    privileged: true\n"),
        ("compose.yaml", "services: [\n"),
    ];
    for (name, text) in files {
        std::fs::write(dir.join(name), text).unwrap();
    }
    let scan = scan_paths(std::slice::from_ref(&dir));
    std::fs::remove_dir_all(&dir).unwrap();
    let errors: Vec<(String, Option<usize>)> = scan
        .errors
        .iter()
        .map(|e| (e.path.rsplit('/').next().unwrap().to_string(), e.line))
        .collect();
    assert_eq!(
        errors,
        [
            ("bomb.yaml".to_string(), Some(7)),
            ("broken.yaml".to_string(), Some(5)),
            ("compose.yaml".to_string(), Some(2)),
            ("deep.json".to_string(), Some(4)),
        ],
        "{:#?}",
        scan.errors
    );
    assert!(
        scan.errors[0].message.contains("billion laughs"),
        "{}",
        scan.errors[0]
    );
    let ids: Vec<&str> = scan.findings.iter().map(|f| f.check_id.as_str()).collect();
    assert!(ids.contains(&"BW-K8S-003"), "{ids:?}");
    assert!(ids.contains(&"BW-CMP-001"), "{ids:?}");
}

/// Every prefix (at a stride) of every corpus file, and each with a byte flipped, is either
/// scanned or reported as an error with a line: the parser and the checks never panic on
/// half-written or corrupted manifests.
#[test]
fn truncated_and_corrupted_manifests_never_panic() {
    use bulwark_misconfig::{scan_files, FileKind, SourceFile};
    let mut scanned = 0;
    let compose_cases = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/cases/compose");
    let dirs = std::fs::read_dir(corpus())
        .unwrap()
        .map(|d| (d.unwrap().path(), FileKind::Kubernetes))
        .chain(
            std::fs::read_dir(compose_cases)
                .unwrap()
                .map(|d| (d.unwrap().path(), FileKind::Compose)),
        );
    for (dir, kind) in dirs.filter(|(d, _)| d.is_dir()) {
        for file in std::fs::read_dir(dir).unwrap() {
            let bytes = std::fs::read(file.unwrap().path()).unwrap();
            for cut in (0..bytes.len()).step_by(23) {
                let mut variants = vec![bytes[..cut].to_vec()];
                let mut flipped = bytes.clone();
                flipped[cut] = match flipped[cut] {
                    b':' => b' ',
                    b' ' => b'[',
                    b'-' => b'{',
                    _ => b':',
                };
                variants.push(flipped);
                for bytes in variants {
                    let scan = scan_files(&[SourceFile {
                        path: "m.yaml".into(),
                        kind,
                        bytes,
                    }]);
                    assert!(
                        scan.errors.iter().all(|e| e.line.is_some()),
                        "{:?}",
                        scan.errors
                    );
                    scanned += 1;
                }
            }
        }
    }
    assert!(scanned > 1000, "{scanned}");
}
