//! Issue 12 item 3: a password passed as a build argument (`RUN |2 DB_PASSWORD=… /bin/sh -c`),
//! a credential-named ENV and label, and an AWS key in a file are all findings, and no output
//! format nor stderr carries any of their values.

use serde_json::{json, Value};

use crate::util::*;

const DB_PASSWORD: &str = "S3cr3tPassw0rdValue";

/// Values made at run time, so the source holds no secret-looking strings.
fn fake(prefix: &str, len: usize, seed: u64) -> String {
    const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut x = seed | 1;
    let mut s = String::from(prefix);
    for _ in 0..len {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        s.push(ALNUM[(x % ALNUM.len() as u64) as usize] as char);
    }
    s
}

struct Planted {
    api_token: String,
    aws_secret_label: String,
    aws_key: String,
}

fn planted() -> Planted {
    Planted {
        api_token: fake("tok", 29, 21),
        aws_secret_label: fake("", 40, 23),
        aws_key: format!("AKIA{}", fake("", 16, 25).to_ascii_uppercase()),
    }
}

fn build_arg_image(p: &Planted) -> ImageBuilder {
    let base = LayerBuilder::new()
        .file("etc/os-release", os_release_debian())
        .file(
            "app/config.env",
            format!("AWS_ACCESS_KEY_ID={}\n", p.aws_key).as_bytes(),
        )
        // A file over --secret-max-file-size: its path (holding the password) ends up in a
        // warning diagnostic on stderr and in the report.
        .file(&format!("opt/{DB_PASSWORD}/big.txt"), &[b'a'; 4096])
        .finish();
    let run_step = format!(
        "RUN |2 {}={DB_PASSWORD} OTHER=x /bin/sh -c ./configure --with-db && make install # buildkit",
        "DB_PASSWORD"
    );
    // A package from the RUN step: SBOM formats then show that step as its layer's origin.
    let built = LayerBuilder::new()
        .file(
            "var/lib/dpkg/status",
            dpkg_stanza("app", "1.0-1", None).as_bytes(),
        )
        .finish();
    let mut img = ImageBuilder::new()
        .layer(base, Compression::Gzip, "COPY . /")
        .layer(built, Compression::Gzip, &run_step);
    img.config_extra = json!({
        "config": {
            "Env": ["PATH=/usr/bin", format!("API_TOKEN={}", p.api_token)],
            "Labels": {"maintainer": "ops", "aws_secret": p.aws_secret_label},
        },
        "history": [
            {"created_by": "COPY . /"},
            {"created_by": "ARG DB_PASSWORD", "empty_layer": true},
            {"created_by": format!("ENV API_TOKEN={}", p.api_token), "empty_layer": true},
            {"created_by": format!("LABEL aws_secret={}", p.aws_secret_label), "empty_layer": true},
            {"created_by": run_step},
        ],
    });
    img
}

fn find<'a>(secrets: &'a [Value], rule: &str) -> &'a Value {
    secrets
        .iter()
        .find(|s| s["rule_id"] == rule)
        .unwrap_or_else(|| panic!("no {rule} finding in {secrets:#?}"))
}

#[test]
fn issue_12_build_args_env_and_labels_are_findings() {
    let p = planted();
    let tmp = tempfile::tempdir().unwrap();
    build_arg_image(&p).write_oci(tmp.path());
    let (code, report, stderr) = scan_json(
        &format!("oci:{}", tmp.path().display()),
        &["--scanners", "sbom,secret,misconfig"],
    );
    assert_eq!(code, 0, "{stderr}");
    let secrets = report["secrets"].as_array().unwrap();
    let arg = find(secrets, "build-arg-credential");
    assert_eq!(arg["location"], json!({"kind": "history", "step": 4}));
    assert_eq!(arg["layer"]["index"], 1, "the RUN step's layer");
    assert_eq!(arg["redacted"], "S3cr****");
    let env = find(secrets, "env-credential");
    assert!(
        secrets.iter().any(|s| s["rule_id"] == "env-credential"
            && s["location"] == json!({"kind": "env", "name": "API_TOKEN"})),
        "{env:#?}"
    );
    // A 40-character value under an AWS secret name is the specific AWS rule's, which wins
    // over the name, in the config and in the history's LABEL step alike.
    assert!(secrets
        .iter()
        .any(|s| s["location"] == json!({"kind": "label", "key": "aws_secret"})));
    assert!(secrets
        .iter()
        .any(|s| s["location"] == json!({"kind": "history", "step": 3})));
    assert!(secrets
        .iter()
        .any(|s| s["location"] == json!({"kind": "file", "path": "/app/config.env"})));

    let checks: Vec<(&str, &str)> = report["misconfigurations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["check_id"].as_str().unwrap(),
                m["message"].as_str().unwrap(),
            )
        })
        .collect();
    assert!(
        checks
            .iter()
            .any(|(id, m)| *id == "BW-IMG-011" && m.contains("DB_PASSWORD")),
        "{checks:#?}"
    );
    assert!(checks
        .iter()
        .any(|(id, m)| *id == "BW-IMG-004" && m.contains("ENV API_TOKEN")));
    assert!(checks
        .iter()
        .any(|(id, m)| *id == "BW-IMG-004" && m.contains("LABEL aws_secret")));
}

#[test]
fn issue_12_no_output_format_carries_a_detected_secret() {
    let p = planted();
    let tmp = tempfile::tempdir().unwrap();
    build_arg_image(&p).write_oci(tmp.path());
    let reference = format!("oci:{}", tmp.path().display());
    let values = [
        DB_PASSWORD,
        p.api_token.as_str(),
        p.aws_secret_label.as_str(),
        p.aws_key.as_str(),
    ];
    for format in [
        "table",
        "json",
        "sarif",
        "cyclonedx",
        "spdx",
        "junit",
        "html",
        "markdown",
    ] {
        let out = bulwark(&[
            "image",
            &reference,
            "--format",
            format,
            "--no-cache",
            "--secret-max-file-size",
            "1024",
        ]);
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{format}: {stderr}");
        assert!(
            stderr.contains("big.txt"),
            "{format}: the size warning is printed: {stderr}"
        );
        assert!(
            stdout.contains("S3cr****"),
            "{format}: the build argument is reported"
        );
        for value in values {
            let half = &value[value.len() / 2..];
            for (stream, text) in [("stdout", &stdout), ("stderr", &stderr)] {
                assert!(
                    !text.contains(value) && !text.contains(half),
                    "{format} {stream} carries a secret ({}…): {text}",
                    &value[..4]
                );
            }
        }
    }
}
