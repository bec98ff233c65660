//! Misconfiguration checks end to end: `bulwark image` on synthetic and real images (the
//! image-config checks, with layers), and `bulwark config` on files (exit codes, errors with
//! file and line, gates, table output).

use serde_json::{json, Value};

use crate::util::*;

fn misconfigs(report: &Value) -> Vec<(String, String, Option<u64>, String)> {
    // An empty list is left out of the report.
    report["misconfigurations"]
        .as_array()
        .map(|a| a.as_slice())
        .unwrap_or_default()
        .iter()
        .map(|m| {
            (
                m["check_id"].as_str().unwrap().to_string(),
                m["location"]["path"].as_str().unwrap().to_string(),
                m["location"]["layer"]["index"].as_u64(),
                m["message"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn scan_misconfig(img: &ImageBuilder) -> Vec<(String, String, Option<u64>, String)> {
    let dir = tempfile::tempdir().unwrap();
    img.write_oci(dir.path());
    let reference = format!("oci:{}", dir.path().display());
    let (code, report, stderr) = scan_json(&reference, &["--scanners", "sbom,misconfig"]);
    assert_eq!(code, 0, "{stderr}");
    misconfigs(&report)
}

fn ids(found: &[(String, String, Option<u64>, String)]) -> Vec<&str> {
    let mut v: Vec<&str> = found.iter().map(|f| f.0.as_str()).collect();
    v.dedup();
    v
}

#[test]
fn every_image_check_flags_a_bad_image_with_its_layer() {
    let base = LayerBuilder::new()
        .file("etc/os-release", os_release_debian())
        .file(
            "var/lib/dpkg/status",
            format!(
                "{}{}{}",
                dpkg_stanza("base-files", "12.4", None),
                dpkg_stanza("sudo", "1.9.13p3-1", None),
                dpkg_stanza("openssh-server", "1:9.2p1-2", Some("openssh"))
            )
            .as_bytes(),
        )
        .file_mode("usr/bin/tool", b"\x7fELF", 0o4755)
        .file_mode("etc/app.conf", b"x=1\n", 0o666)
        .dir_mode("srv/shared", 0o777)
        .dir_mode("tmp", 0o1777)
        .finish();
    let second = LayerBuilder::new()
        .file(
            "var/lib/apt/lists/deb.debian.org_debian_dists_bookworm_InRelease",
            b"lists",
        )
        .file("var/lib/apt/lists/lock", b"")
        .finish();
    let mut img = ImageBuilder::new()
        .layer(base, Compression::Gzip, "ADD rootfs.tar /")
        .layer(
            second,
            Compression::Gzip,
            "|1 NPM_TOKEN=npm_b5Kq2Wm8Zx /bin/sh -c curl -fsSL https://get.example.com/install.sh | sh",
        );
    img.config_extra = json!({"config": {
        "Env": ["PATH=/usr/bin", "DB_PASSWORD=hunter2"],
        "ExposedPorts": {"22/tcp": {}, "8080/tcp": {}},
    }});
    let found = scan_misconfig(&img);
    let got = ids(&found);
    for id in [
        "BW-IMG-001",
        "BW-IMG-002",
        "BW-IMG-003",
        "BW-IMG-004",
        "BW-IMG-005",
        "BW-IMG-006",
        "BW-IMG-007",
        "BW-IMG-008",
        "BW-IMG-009",
        "BW-IMG-010",
        "BW-IMG-011",
    ] {
        assert!(got.contains(&id), "{id} missing from {found:#?}");
    }
    let one = |id: &str| found.iter().filter(|f| f.0 == id).collect::<Vec<_>>();
    assert_eq!(one("BW-IMG-003").len(), 1, "only port 22 is sensitive");
    assert!(one("BW-IMG-003")[0].3.contains("22/tcp"));
    assert_eq!(one("BW-IMG-004").len(), 1);
    assert!(
        !found.iter().any(|f| f.3.contains("hunter2")),
        "secret values never appear"
    );
    let history = one("BW-IMG-005");
    assert_eq!(history.len(), 1);
    assert_eq!(history[0].2, Some(1), "the curl | sh layer");
    let build_arg = one("BW-IMG-011");
    assert_eq!(build_arg.len(), 1);
    assert_eq!(build_arg[0].2, Some(1), "the step with the build argument");
    assert!(build_arg[0].3.contains("NPM_TOKEN"), "{build_arg:?}");
    assert!(!found.iter().any(|f| f.3.contains("npm_b5Kq2Wm8Zx")));
    let cache = one("BW-IMG-006");
    assert_eq!(cache.len(), 1);
    assert_eq!(
        (cache[0].1.as_str(), cache[0].2),
        ("/var/lib/apt/lists", Some(1))
    );
    assert!(
        cache[0].3.contains("1 file"),
        "the lock file is not a cache: {cache:?}"
    );
    let suid = one("BW-IMG-007");
    assert_eq!(suid.len(), 1);
    assert_eq!((suid[0].1.as_str(), suid[0].2), ("/usr/bin/tool", Some(0)));
    let writable: Vec<&str> = one("BW-IMG-008").iter().map(|f| f.1.as_str()).collect();
    assert_eq!(
        writable,
        vec!["/etc/app.conf", "/srv/shared"],
        "sticky /tmp is fine"
    );
    assert_eq!(one("BW-IMG-009")[0].2, Some(0));
    assert!(one("BW-IMG-010")[0].3.contains("openssh-server"));
}

#[test]
fn config_files_inside_an_image_are_checked_with_their_layer() {
    let pod = b"apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\nspec:\n  containers:\n    - name: web\n      image: nginx\n      securityContext:\n        privileged: true\n";
    let first = LayerBuilder::new()
        .file("etc/os-release", os_release_debian())
        .file("src/app/Dockerfile", b"FROM debian:12\nUSER root\n")
        .file("src/old/Dockerfile", b"FROM debian:12\nUSER root\n")
        .file("srv/deploy/pod.yaml", pod)
        // Vendored fixtures are not the image's configuration.
        .file("usr/lib/python3/dist-packages/k/fixture.yaml", pod)
        // A Helm template does not parse: a warning, not an incomplete scan.
        .file(
            "srv/chart/templates/pod.yaml",
            b"apiVersion: v1\nkind: Pod\nmetadata:\n  name: {{ .Values.name\n",
        )
        .finish();
    let second = LayerBuilder::new()
        .whiteout("src/old/Dockerfile")
        // Rewritten in layer 1: its findings come from the kept version, with layer 1.
        .file(
            "src/app/Dockerfile",
            b"FROM debian:12\nRUN apt-get install -y curl\nUSER root\n",
        )
        .finish();
    let img = ImageBuilder::new()
        .layer(first, Compression::Gzip, "COPY . /")
        .layer(second, Compression::Gzip, "COPY app /src/app");
    let found = scan_misconfig(&img);
    let at = |path: &str| {
        found
            .iter()
            .filter(|f| f.1 == path)
            .map(|f| (f.0.as_str(), f.2))
            .collect::<Vec<_>>()
    };
    let app = at("/src/app/Dockerfile");
    assert!(app.contains(&("BW-DF-001", Some(1))), "{found:#?}");
    assert!(
        app.iter().all(|(_, layer)| *layer == Some(1)),
        "only the kept version counts: {app:?}"
    );
    assert!(at("/src/old/Dockerfile").is_empty(), "deleted in layer 1");
    let pod = at("/srv/deploy/pod.yaml");
    assert!(pod.contains(&("BW-K8S-001", Some(0))), "{found:#?}");
    assert!(
        !pod.iter().any(|(id, _)| *id == "BW-K8S-042"),
        "set checks do not apply to files in images"
    );
    assert!(at("/usr/lib/python3/dist-packages/k/fixture.yaml").is_empty());
    assert!(found.iter().all(|f| !f.1.contains("chart/templates")));
}

#[test]
fn a_clean_image_passes_every_image_check() {
    let base = LayerBuilder::new()
        .file("etc/os-release", os_release_debian())
        .file(
            "var/lib/dpkg/status",
            dpkg_stanza("base-files", "12.4", None).as_bytes(),
        )
        .file_mode("usr/bin/app", b"\x7fELF", 0o755)
        .file_mode("var/lib/apt/lists/lock", b"", 0o640)
        .dir_mode("tmp", 0o1777)
        .finish();
    let mut img = ImageBuilder::new().layer(base, Compression::Gzip, "COPY app /usr/bin/app");
    img.config_extra = json!({
        "config": {"User": "10001", "Env": ["PATH=/usr/bin", "DB_PASSWORD_FILE=/run/secrets/db"], "ExposedPorts": {"8080/tcp": {}}},
        "history": [
            {"created_by": "COPY app /usr/bin/app"},
            {"created_by": "HEALTHCHECK &{[\"CMD\" \"/usr/bin/app\" \"health\"] \"30s\" \"0s\" \"0s\" \"0s\" '\\x00'}", "empty_layer": true},
        ],
    });
    let found = scan_misconfig(&img);
    assert!(found.is_empty(), "{found:#?}");
}

#[test]
fn misconfig_scanner_can_be_left_out() {
    let img = ImageBuilder::new().layer(
        LayerBuilder::new()
            .file("etc/os-release", os_release_debian())
            .finish(),
        Compression::None,
        "ADD x /",
    );
    let dir = tempfile::tempdir().unwrap();
    img.write_oci(dir.path());
    let reference = format!("oci:{}", dir.path().display());
    let (_, report, _) = scan_json(&reference, &["--scanners", "sbom"]);
    assert!(misconfigs(&report).is_empty());
    let (_, report, _) = scan_json(&reference, &[]);
    assert!(
        ids(&misconfigs(&report)).contains(&"BW-IMG-001"),
        "misconfig runs by default"
    );
}

#[test]
fn real_minbase_runs_as_root_without_healthcheck() {
    let Some(dir) = test_image("minbase", &["oci-archive.tar"]) else {
        return;
    };
    let reference = dir.join("oci-archive.tar").display().to_string();
    let (code, report, stderr) = scan_json(&reference, &["--scanners", "sbom,misconfig"]);
    assert_eq!(code, 0, "{stderr}");
    let found = misconfigs(&report);
    let got = ids(&found);
    assert!(
        got.contains(&"BW-IMG-001") && got.contains(&"BW-IMG-002"),
        "{got:?}"
    );
    // Debian's own setuid programs are reported with the base layer.
    assert!(
        found
            .iter()
            .any(|f| f.0 == "BW-IMG-007" && f.1 == "/usr/bin/su" && f.2 == Some(0)),
        "{found:#?}"
    );
}

fn write(dir: &std::path::Path, name: &str, text: &str) -> String {
    let p = dir.join(name);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(&p, text).unwrap();
    p.display().to_string()
}

#[test]
fn config_scans_every_file_and_reports_errors_with_lines() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "app/Dockerfile",
        "FROM debian:12\nRUN apt-get update && apt-get install -y curl\nUSER root\n",
    );
    write(
        dir.path(),
        "broken/Dockerfile",
        "FROM debian:12\nRUN true\n@@@ garbage\n",
    );
    write(dir.path(), "notes.txt", "not config");
    let root = dir.path().display().to_string();
    let out = bulwark(&["config", &root, "--format", "json"]);
    assert_eq!(
        out.status.code(),
        Some(3),
        "an unreadable file makes the scan incomplete"
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("broken/Dockerfile:3: unknown instruction `@@@`"),
        "{stderr}"
    );
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let found = misconfigs(&report);
    let lines: Vec<(String, u64)> = report["misconfigurations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["check_id"].as_str().unwrap().to_string(),
                m["location"]["line"].as_u64().unwrap(),
            )
        })
        .collect();
    assert!(lines.contains(&("BW-DF-001".to_string(), 3)), "{lines:?}");
    assert!(lines.contains(&("BW-DF-007".to_string(), 2)), "{lines:?}");
    assert!(found.iter().all(|f| f.1.ends_with("app/Dockerfile")));

    // The gate counts misconfigurations at the chosen severities.
    let good = write(
        dir.path(),
        "good/Dockerfile",
        "FROM debian:12@sha256:2d2b5b8e4a0b7f5e1c6a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f70\nUSER 10001\nHEALTHCHECK CMD [\"/app\", \"health\"]\nCMD [\"/app\"]\n",
    );
    let app = dir.path().join("app/Dockerfile").display().to_string();
    let out = bulwark(&[
        "config",
        &app,
        "--exit-code",
        "7",
        "--severity",
        "high",
        "-f",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(7));
    let out = bulwark(&["config", &good, "--exit-code", "7", "-f", "table"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("No misconfigurations found"));
    let out = bulwark(&["config", &app, "-f", "table"]);
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(
        table.contains("BW-DF-001") && table.contains("Dockerfile:3"),
        "{table}"
    );

    // A named file of unknown kind is an error; the command still exits, never panics.
    let txt = dir.path().join("notes.txt").display().to_string();
    let out = bulwark(&["config", &txt]);
    assert_eq!(out.status.code(), Some(3));
}

#[test]
fn config_applies_gates_ignores_and_pipeline_formats() {
    let dir = tempfile::tempdir().unwrap();
    // BW-DF-001 (USER root, high) at line 3, BW-DF-007 (apt without --no-install-recommends).
    let app = write(
        dir.path(),
        "app/Dockerfile",
        "FROM debian:12\nRUN apt-get update && apt-get install -y curl\nUSER root\n",
    );

    // A --fail-on-misconfig gate fails with exit 1 and names the check and line.
    let out = bulwark(&["config", &app, "--fail-on-misconfig", "high", "-f", "json"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("gate failed: misconfigurations") && stderr.contains("BW-DF-001"),
        "{stderr}"
    );
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let gate = report["gates"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["gate"] == "misconfigurations")
        .expect("the gate verdict is in the report");
    assert_eq!(gate["passed"], json!(false));

    // bulwark.yaml ignores the high finding with a reason: the gate passes, the suppression is
    // kept in the report, and a rule that matched nothing is warned about.
    let cfg = write(
        dir.path(),
        "bulwark.yaml",
        "gates:\n  misconfigurations: {severity: high}\nignores:\n  - check: BW-DF-001\n    path: \"**/app/Dockerfile\"\n    reason: build stage only\n  - check: BW-K8S-001\n    reason: stale\n",
    );
    let out = bulwark(&["config", &app, "--config", &cfg, "-f", "json"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("matched nothing"), "{stderr}");
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let ids: Vec<&str> = report["misconfigurations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["check_id"].as_str().unwrap())
        .collect();
    assert!(
        !ids.contains(&"BW-DF-001") && ids.contains(&"BW-DF-007"),
        "{ids:?}"
    );
    let suppressed = report["suppressed"].as_array().unwrap();
    assert!(
        suppressed
            .iter()
            .any(|s| s["id"] == "BW-DF-001" && s["reason"] == "build stage only"),
        "{suppressed:?}"
    );

    // SARIF for code scanning: the result points at the Dockerfile line.
    let out = bulwark(&[
        "config",
        &app,
        "--fail-on-misconfig",
        "critical",
        "-f",
        "sarif",
    ]);
    assert_eq!(out.status.code(), Some(0));
    let sarif: Value = serde_json::from_slice(&out.stdout).unwrap();
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    let df001 = results
        .iter()
        .find(|r| r["ruleId"] == "BW-DF-001")
        .expect("BW-DF-001 in SARIF");
    let region = &df001["locations"][0]["physicalLocation"]["region"];
    assert_eq!(region["startLine"], json!(3), "{df001}");
}

#[test]
fn config_compliance_policy_and_host_root() {
    let dir = tempfile::tempdir().unwrap();
    let df = write(
        dir.path(),
        "Dockerfile",
        "FROM debian:12\nCOPY app /app\nUSER 10001\nCMD [\"/app\"]\n",
    );
    // Compliance as JSON: 4.1 passes (USER set), 4.6 fails (no HEALTHCHECK), daemon controls
    // were not scanned, 4.5 has no check.
    let out = bulwark(&["config", &df, "--compliance", "cis-docker", "-f", "json"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let status = |id: &str| {
        report["controls"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["id"] == id)
            .map(|c| c["status"].as_str().unwrap().to_string())
            .unwrap()
    };
    assert_eq!(status("4.1"), "pass");
    assert_eq!(status("4.6"), "fail");
    assert_eq!(status("2.2"), "not-scanned");
    assert_eq!(status("4.5"), "manual");
    let out = bulwark(&["config", &df, "--compliance", "cis-docker", "-f", "table"]);
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(table.starts_with("CIS Docker Benchmark v1.6.0:"), "{table}");
    let out = bulwark(&["config", &df, "--compliance", "sox"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown compliance framework"));

    // Policies from the repository's examples.
    let policies = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../examples/policies/dockerfile"
    );
    let out = bulwark(&["config", &df, "--policy", policies, "-f", "json"]);
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(misconfigs(&report).iter().any(|f| f.0 == "ORG-DF-001"));
    let bad = dir.path().join("policies");
    write(
        &bad,
        "broken.rego",
        "package main\n\ndeny[msg] {\n  msg := \n}\n",
    );
    let out = bulwark(&["config", &df, "--policy", &bad.display().to_string()]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("broken.rego:"), "{stderr}");

    // A host root with an open docker socket and daemon.json.
    let root = dir.path().join("host");
    write(&root, "etc/docker/daemon.json", "{\n  \"icc\": true\n}\n");
    let sock = write(&root, "var/run/docker.sock", "");
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&sock, std::fs::Permissions::from_mode(0o666)).unwrap();
    let out = bulwark(&[
        "config",
        "--host-root",
        &root.display().to_string(),
        "-f",
        "json",
    ]);
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let found = misconfigs(&report);
    assert!(
        found
            .iter()
            .any(|f| f.0 == "BW-HOST-005" && f.1 == "/var/run/docker.sock"),
        "{found:#?}"
    );
    assert!(found.iter().any(|f| f.0 == "BW-DMN-001"), "{found:#?}");
}

/// Issue 13.2: `ENV A=$A$A` on 40 lines grew to 6.3 GB and aborted, in `bulwark config` and in
/// the layer pass. Expansion now stops at its budget with a warning; the file is still checked.
#[test]
fn issue_13_2_doubling_env_values_are_bounded_in_config_and_in_images() {
    let mut dockerfile = String::from("FROM debian:12\nENV A=x\n");
    for _ in 0..40 {
        dockerfile.push_str("ENV A=$A$A\n");
    }
    dockerfile.push_str("USER root\n");
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "Dockerfile", &dockerfile);
    let start = std::time::Instant::now();
    let out = bulwark(&["config", &path, "-f", "json"]);
    assert!(start.elapsed().as_secs() < 30, "{:?}", start.elapsed());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("warning:") && stderr.contains("Dockerfile:19: variable expansion stopped"),
        "{stderr}"
    );
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(ids(&misconfigs(&report)).contains(&"BW-DF-001"));

    let layer = LayerBuilder::new()
        .file("etc/os-release", os_release_debian())
        .file("src/Dockerfile", dockerfile.as_bytes())
        .finish();
    let img = ImageBuilder::new().layer(layer, Compression::Gzip, "COPY . /");
    let start = std::time::Instant::now();
    let found = scan_misconfig(&img);
    assert!(start.elapsed().as_secs() < 30, "{:?}", start.elapsed());
    assert!(
        found
            .iter()
            .any(|f| f.0 == "BW-DF-001" && f.1 == "/src/Dockerfile"),
        "{found:#?}"
    );
}

/// Issue 13.13: a self-recursive Rego function aborted the process (stack overflow); a policy
/// building a 200M-element array took 4.7 GB. Both now stop at the evaluation budget: exit 2,
/// naming the rule.
#[test]
fn issue_13_13_runaway_policies_exit_2_naming_the_policy() {
    let dir = tempfile::tempdir().unwrap();
    let dockerfile = write(dir.path(), "Dockerfile", "FROM debian:12\nUSER 10001\n");
    for (name, body) in [
        (
            "recursive",
            "f(x) := y if {\n  y := f(x + 1)\n}\n\ndeny contains msg if {\n  f(1) > 0\n  msg := \"never\"\n}\n",
        ),
        (
            "huge",
            "deny contains msg if {\n  xs := numbers.range(1, 200000000)\n  count(xs) > 0\n  msg := \"never\"\n}\n",
        ),
    ] {
        let policy_dir = dir.path().join(name);
        write(
            &policy_dir,
            "policy.rego",
            &format!("package main\n\nimport rego.v1\n\n{body}"),
        );
        let start = std::time::Instant::now();
        let out = bulwark(&[
            "config",
            &dockerfile,
            "--policy",
            &policy_dir.display().to_string(),
            "-f",
            "json",
        ]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{name}: {stderr}");
        assert!(
            stderr.contains("policy data.main.deny on") && stderr.contains("budget"),
            "{name}: {stderr}"
        );
        assert!(start.elapsed().as_secs() < 60, "{name}: {:?}", start.elapsed());
    }
}
