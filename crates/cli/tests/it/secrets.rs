//! Secrets planted in several layers, a deleted file, ENV, labels and history: each is found
//! with the right rule and layer, and no output ever contains a whole secret.

use crate::util::*;

/// Token-shaped test values made at run time, so the source holds no secret-looking strings.
fn fake(prefix: &str, len: usize, alphabet: &[u8], seed: u64) -> String {
    let mut x = seed | 1;
    let mut s = String::from(prefix);
    for _ in 0..len {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        s.push(alphabet[(x % alphabet.len() as u64) as usize] as char);
    }
    s
}

const UPPER_DIGITS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

struct Planted {
    aws_key: String,
    github: String,
    slack_webhook: String,
    stripe: String,
    private_key_body: String,
}

fn planted() -> Planted {
    Planted {
        aws_key: fake("AKIA", 16, UPPER_DIGITS, 7),
        github: {
            // GitHub's format: 30 random characters, then their base62 CRC32.
            let entropy = fake("", 30, ALNUM, 11);
            let sum = bulwark_secrets::validate::base62_crc32(entropy.as_bytes());
            format!("ghp_{entropy}{sum}")
        },
        slack_webhook: format!(
            "https://hooks.slack.com/services/{}/{}/{}",
            fake("T", 8, UPPER_DIGITS, 3),
            fake("B", 8, UPPER_DIGITS, 5),
            fake("", 24, ALNUM, 9)
        ),
        stripe: fake(&format!("{}_live_", "sk"), 24, ALNUM, 13),
        private_key_body: (0..6)
            .map(|i| fake("", 64, ALNUM, 100 + i))
            .collect::<Vec<_>>()
            .join("\n"),
    }
}

fn secret_image(p: &Planted) -> ImageBuilder {
    let pem = format!(
        "-----BEGIN RSA PRIVATE KEY-----\n{}\n-----END RSA PRIVATE KEY-----\n",
        p.private_key_body
    );
    let layer0 = LayerBuilder::new()
        .file("etc/os-release", os_release_debian())
        .file("root/.ssh/id_rsa", pem.as_bytes())
        .file(
            "app/config.env",
            format!("AWS_ACCESS_KEY_ID={}\n", p.aws_key).as_bytes(),
        )
        .finish();
    let layer1 = LayerBuilder::new()
        .file(
            "app/notify.sh",
            format!("#!/bin/sh\ncurl -X POST {}\n", p.slack_webhook).as_bytes(),
        )
        .finish();
    // The build removes the key, but its bytes stay in layer 0.
    let layer2 = LayerBuilder::new().whiteout("root/.ssh/id_rsa").finish();
    let mut img = ImageBuilder::new()
        .layer(layer0, Compression::Gzip, "COPY . /")
        .layer(layer1, Compression::Gzip, "COPY notify.sh /app/")
        .layer(layer2, Compression::Gzip, "RUN rm /root/.ssh/id_rsa");
    img.layers[1].2 = format!(
        "RUN /bin/sh -c git clone https://x:{}@github.com/org/repo",
        p.github
    );
    img.config_extra = serde_json::json!({
        "config": {
            "Env": ["PATH=/usr/bin", format!("STRIPE_KEY={}", p.stripe)],
            "Labels": {"maintainer": "ops", "deploy.token": p.github.clone()},
        }
    });
    img
}

#[test]
fn planted_secrets_are_found_with_rule_and_layer() {
    let p = planted();
    let tmp = tempfile::tempdir().unwrap();
    secret_image(&p).write_oci(tmp.path());
    let (code, report, stderr) = scan_json(&format!("oci:{}", tmp.path().display()), &[]);
    assert_eq!(code, 0, "{stderr}");
    let secrets = report["secrets"].as_array().unwrap();
    let find = |kind: &str, key: &str, value: &str| {
        secrets
            .iter()
            .find(|s| s["location"]["kind"] == kind && s["location"][key] == value)
            .unwrap_or_else(|| panic!("no secret at {kind} {value}: {secrets:#?}"))
            .clone()
    };
    let key = find("file", "path", "/root/.ssh/id_rsa");
    assert_eq!(key["rule_id"], "private-key-rsa");
    assert_eq!(key["layer"]["index"], 0);
    assert_eq!(
        key["removed_in_layer"], 2,
        "deleted in layer 2 but still in layer 0's bytes"
    );
    let aws = find("file", "path", "/app/config.env");
    assert_eq!(aws["rule_id"], "aws-access-key-id");
    assert_eq!(aws["line"], 1);
    assert!(aws.get("removed_in_layer").is_none());
    let slack = find("file", "path", "/app/notify.sh");
    assert_eq!(slack["layer"]["index"], 1);
    assert!(slack["rule_id"].as_str().unwrap().starts_with("slack"));
    let env = find("env", "name", "STRIPE_KEY");
    assert!(env["rule_id"].as_str().unwrap().starts_with("stripe"));
    let label = find("label", "key", "deploy.token");
    assert_eq!(label["rule_id"], "github-pat");
    let history = secrets
        .iter()
        .find(|s| s["location"]["kind"] == "history")
        .expect("history secret");
    assert_eq!(history["location"]["step"], 1);
}

#[test]
fn no_output_contains_a_whole_secret() {
    let p = planted();
    let tmp = tempfile::tempdir().unwrap();
    secret_image(&p).write_oci(tmp.path());
    let reference = format!("oci:{}", tmp.path().display());
    let whole = [&p.aws_key, &p.github, &p.slack_webhook, &p.stripe];
    let key_line = p.private_key_body.lines().next().unwrap().to_string();
    for format in ["table", "json", "cyclonedx", "spdx"] {
        let out = bulwark(&["image", &reference, "--format", format, "--no-cache"]);
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        for secret in whole.iter().map(|s| s.as_str()).chain([key_line.as_str()]) {
            assert!(!text.contains(secret), "{format} output leaks a secret");
            assert!(
                !text.contains(&secret[secret.len() / 2..]),
                "{format} output leaks half a secret"
            );
        }
    }
}

#[test]
fn fingerprints_are_stable_across_scans_and_cache() {
    let p = planted();
    let tmp = tempfile::tempdir().unwrap();
    let layout = tmp.path().join("layout");
    secret_image(&p).write_oci(&layout);
    let cache = tmp.path().join("cache").display().to_string();
    let reference = format!("oci:{}", layout.display());
    let run = || {
        let out = bulwark(&[
            "image",
            &reference,
            "--format",
            "json",
            "--quiet",
            "--cache-dir",
            &cache,
        ]);
        let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        r["secrets"].clone()
    };
    let cold = run();
    let warm = run();
    assert_eq!(
        cold, warm,
        "a warm scan reports the same secrets from the cache"
    );
    assert!(cold
        .as_array()
        .unwrap()
        .iter()
        .all(|s| s["fingerprint"].as_str().unwrap().starts_with("sha256:")));
}

#[test]
fn scanners_flag_turns_secret_scanning_off() {
    let p = planted();
    let tmp = tempfile::tempdir().unwrap();
    secret_image(&p).write_oci(tmp.path());
    let (code, report, _) = scan_json(
        &format!("oci:{}", tmp.path().display()),
        &["--scanners", "sbom"],
    );
    assert_eq!(code, 0);
    assert!(report["secrets"].as_array().unwrap().is_empty());
}

#[test]
fn secrets_in_a_source_tree_via_fs() {
    let p = planted();
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(
        tmp.path().join(".env"),
        format!("GITHUB_TOKEN={}\n", p.github),
    )
    .unwrap();
    std::fs::write(tmp.path().join("README.md"), "password=changeme\n").unwrap();
    let out = bulwark(&[
        "fs",
        &tmp.path().display().to_string(),
        "--scanners",
        "secret",
        "--format",
        "json",
        "--quiet",
        "--no-cache",
    ]);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let secrets = report["secrets"].as_array().unwrap();
    assert_eq!(
        secrets.len(),
        1,
        "the placeholder password is not a secret: {secrets:#?}"
    );
    assert_eq!(secrets[0]["rule_id"], "github-pat");
    assert_eq!(secrets[0]["location"]["path"], "/.env");
}

#[test]
fn user_rules_and_allowlists_from_a_config_file() {
    let tmp = tempfile::tempdir().unwrap();
    let tree = tmp.path().join("tree");
    std::fs::create_dir_all(tree.join("fixtures")).unwrap();
    let token = fake("acme_", 32, b"abcdef0123456789", 21);
    std::fs::write(tree.join("app.conf"), format!("token: {token}\n")).unwrap();
    std::fs::write(
        tree.join("fixtures/sample.conf"),
        format!("token: {token}\n"),
    )
    .unwrap();
    let config = tmp.path().join("secrets.yaml");
    std::fs::write(
        &config,
        "rules:\n  - id: acme-token\n    title: ACME API token\n    severity: high\n    keywords: [acme_]\n    pattern: '(acme_[0-9a-f]{32})'\nallow:\n  paths: ['fixtures/**']\n",
    )
    .unwrap();
    let cache = tmp.path().join("cache").display().to_string();
    let run = |extra: &[&str]| {
        let mut args = vec![
            "fs",
            tree.to_str().unwrap(),
            "--scanners",
            "secret",
            "--format",
            "json",
            "--quiet",
            "--cache-dir",
            &cache,
        ];
        args.extend_from_slice(extra);
        let out = bulwark(&args);
        (
            out.status.code(),
            serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap_or_default(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (code, report, stderr) = run(&["--secret-config", config.to_str().unwrap()]);
    assert_eq!(code, Some(0), "{stderr}");
    let secrets = report["secrets"].as_array().unwrap();
    assert_eq!(secrets.len(), 1, "{secrets:#?}");
    assert_eq!(secrets[0]["rule_id"], "acme-token");
    assert_eq!(
        secrets[0]["location"]["path"], "/app.conf",
        "fixtures/ is allowlisted"
    );
    let (_, plain, _) = run(&[]);
    let plain = plain["secrets"].as_array().unwrap();
    assert!(
        plain.iter().all(|s| s["rule_id"] != "acme-token"),
        "without the config the rule is unknown"
    );
    assert!(
        plain.iter().any(|s| s["location"]["path"] == "/fixtures/sample.conf"),
        "without the config nothing is allowlisted (the generic token rule sees both files): {plain:#?}"
    );

    std::fs::write(&config, "rules:\n  - id: Bad Id\n    title: x\n    severity: high\n    keywords: [x]\n    pattern: x\n").unwrap();
    let (code, _, stderr) = run(&["--secret-config", config.to_str().unwrap()]);
    assert_eq!(code, Some(2));
    assert!(
        stderr.contains("secrets.yaml") && stderr.contains("Bad Id"),
        "{stderr}"
    );
    std::fs::write(&config, "rules: [\nunknown_key: 1\n").unwrap();
    let (code, _, stderr) = run(&["--secret-config", config.to_str().unwrap()]);
    assert_eq!(code, Some(2));
    assert!(stderr.contains("line"), "YAML errors say where: {stderr}");
}

#[test]
fn exit_code_gate_fails_on_findings_at_the_chosen_severities() {
    let p = planted();
    let tmp = tempfile::tempdir().unwrap();
    secret_image(&p).write_oci(tmp.path());
    let reference = format!("oci:{}", tmp.path().display());
    let run = |extra: &[&str]| {
        let mut args = vec![
            "image",
            reference.as_str(),
            "--format",
            "json",
            "--no-cache",
        ];
        args.extend_from_slice(extra);
        let out = bulwark(&args);
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (code, _) = run(&[]);
    assert_eq!(code, Some(0), "findings alone never fail a scan");
    let (code, stderr) = run(&["--exit-code", "5"]);
    assert_eq!(code, Some(5));
    assert!(
        stderr.contains("gate failed") && stderr.contains("secret"),
        "{stderr}"
    );
    let (code, _) = run(&["--exit-code", "5", "--severity", "low"]);
    assert_eq!(code, Some(0), "no planted secret is low severity");
    let (code, stderr) = run(&["--exit-code", "5", "--severity", "high,critical"]);
    assert_eq!(code, Some(5));
    assert!(stderr.contains("high, critical"), "{stderr}");
    let (code, stderr) = run(&["--exit-code", "5", "--severity", "urgent"]);
    assert_eq!(
        code,
        Some(2),
        "an unknown severity is a usage error: {stderr}"
    );
}

/// Issue 12.1, the same class in gates: a secrets gate runs the secret scanner (and reports
/// what it judged) even when --scanners does not name it, while `--exit-code N` alone judges
/// only the scanners chosen.
#[test]
fn a_secret_gate_runs_the_secret_scanner_it_needs() {
    let p = planted();
    let tmp = tempfile::tempdir().unwrap();
    secret_image(&p).write_oci(tmp.path());
    let reference = format!("oci:{}", tmp.path().display());
    let (code, report, stderr) = scan_json(&reference, &["--scanners", "sbom", "--fail-on-secret"]);
    assert_eq!(code, 1, "{stderr}");
    assert!(!report["secrets"].as_array().unwrap().is_empty());
    let (code, report, stderr) = scan_json(&reference, &["--scanners", "sbom", "--exit-code", "1"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(report["secrets"].as_array().unwrap().is_empty());
}
