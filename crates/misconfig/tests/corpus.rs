//! The benchmark corpus (`bench/misconfig/corpus`: real public Kubernetes manifests and
//! Dockerfiles, see `ATTRIBUTION.md`) scanned the way `bulwark config DIR` scans it: every file
//! is detected and parsed without error, the deliberately insecure manifests (kubernetes-goat)
//! are flagged where a reader would point, known false positives found on the corpus stay
//! fixed, and every file has exactly one attribution row.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use bulwark_misconfig::{load_paths, scan_files, scan_paths, FileKind};

fn corpus_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../bench/misconfig/corpus")
}

fn corpus() -> PathBuf {
    corpus_root().join("kubernetes")
}

/// Every file under `dir`, as a path relative to `root` with `/` separators.
fn files_under(root: &Path, dir: &Path, out: &mut Vec<String>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files_under(root, &path, out);
        } else {
            let rel = path.strip_prefix(root).unwrap();
            out.push(
                rel.components()
                    .map(|c| c.as_os_str().to_string_lossy().into_owned())
                    .collect::<Vec<_>>()
                    .join("/"),
            );
        }
    }
}

#[test]
fn every_corpus_file_has_exactly_one_attribution_row() {
    let root = corpus_root();
    let text = std::fs::read_to_string(root.join("ATTRIBUTION.md")).unwrap();
    let mut rows: BTreeMap<String, usize> = BTreeMap::new();
    for line in text.lines().filter(|l| l.starts_with("| `")) {
        let file = line[3..].split('`').next().unwrap().to_string();
        let cells = line.split(" | ").count();
        assert_eq!(cells, 5, "file, repository, path, commit, licence: {line}");
        *rows.entry(file).or_default() += 1;
    }
    let mut files = Vec::new();
    for dir in ["kubernetes", "dockerfiles"] {
        files_under(&root, &root.join(dir), &mut files);
    }
    assert!(files.len() >= 210, "{} corpus files", files.len());
    for f in &files {
        assert_eq!(rows.get(f), Some(&1), "{f}: one ATTRIBUTION.md row");
    }
    for r in rows.keys() {
        assert!(
            files.contains(r),
            "ATTRIBUTION.md row for a missing file: {r}"
        );
    }
}

/// All of the Dockerfile half is detected as Dockerfiles (whatever the name: `Dockerfile`,
/// `Dockerfile.oracle`, `x.dockerfile`), parses (heredocs, `# escape=`, Windows paths, CRLF,
/// ARG-expanded bases), and yields findings; the false positives these files once showed stay
/// fixed.
#[test]
fn the_dockerfile_corpus_scans_without_errors() {
    let dir = corpus_root().join("dockerfiles");
    let mut on_disk = Vec::new();
    files_under(&dir, &dir, &mut on_disk);
    assert!(on_disk.len() >= 110, "{} Dockerfiles", on_disk.len());
    let (files, load_errors) = load_paths(std::slice::from_ref(&dir));
    assert!(load_errors.is_empty(), "{load_errors:?}");
    assert_eq!(files.len(), on_disk.len(), "every file is detected");
    for f in &files {
        assert_eq!(f.kind, FileKind::Dockerfile, "{}", f.path);
    }
    let scan = scan_files(&files);
    assert!(
        scan.errors.is_empty(),
        "{:#?}",
        scan.errors
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
    );
    assert_eq!(scan.files_scanned, on_disk.len());
    for f in &files {
        assert!(
            scan.findings.iter().any(|x| x.location.path == f.path),
            "{}: no finding at all (none of these real files pins its base by digest and has a HEALTHCHECK)",
            f.path
        );
    }
    let ids = |file: &str| -> Vec<&str> {
        let mut v: Vec<&str> = scan
            .findings
            .iter()
            .filter(|f| f.location.path.ends_with(file))
            .map(|f| f.check_id.as_str())
            .collect();
        v.sort();
        v
    };
    // `apt-get dist-clean` removes the package lists.
    for f in [
        "buildpack-deps-noble/Dockerfile",
        "buildpack-deps-noble-curl/Dockerfile",
    ] {
        assert!(!ids(f).contains(&"BW-DF-007"), "{f}: {:?}", ids(f));
    }
    // `… | xargs apt-get install` is the install that goes with the update.
    let man = "jupyter-recipes/manpage_install.dockerfile";
    assert!(!ids(man).contains(&"BW-DF-009"), "{:?}", ids(man));
    // `apk add --no-network` fetches no index.
    let mc = "memcached-alpine/Dockerfile";
    assert!(!ids(mc).contains(&"BW-DF-010"), "{:?}", ids(mc));
    // `ADD $KEYCLOAK_DIST` after `ARG KEYCLOAK_DIST=https://…` is a download, not a local file.
    let kc = ids("keycloak-ubi9/Dockerfile");
    assert_eq!(
        kc.iter().filter(|i| **i == "BW-DF-017").count(),
        1,
        "only ADD ubi-null.sh is local: {kc:?}"
    );
    assert!(kc.contains(&"BW-DF-018"), "{kc:?}");
    // True positives on the same files.
    assert!(ids("hello-world/Dockerfile").contains(&"BW-DF-025"));
    assert!(ids("docker-27-dind/Dockerfile").contains(&"BW-DF-023"));
    assert!(ids("hadolint/Dockerfile").contains(&"BW-DF-019"));
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
            // granit-parser reports an unclosed flow collection on the line of its bracket
            // (saphyr-parser 0.3 reported the end of the input, the line after).
            ("broken.yaml".to_string(), Some(4)),
            ("compose.yaml".to_string(), Some(1)),
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
/// half-written or corrupted manifests and Dockerfiles.
#[test]
fn truncated_and_corrupted_manifests_never_panic() {
    use bulwark_misconfig::SourceFile;
    let mut scanned = 0;
    let compose_cases = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/cases/compose");
    let dirs = std::fs::read_dir(corpus())
        .unwrap()
        .map(|d| (d.unwrap().path(), FileKind::Kubernetes))
        .chain(
            std::fs::read_dir(compose_cases)
                .unwrap()
                .map(|d| (d.unwrap().path(), FileKind::Compose)),
        )
        .chain(
            std::fs::read_dir(corpus_root().join("dockerfiles"))
                .unwrap()
                .map(|d| (d.unwrap().path(), FileKind::Dockerfile)),
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
