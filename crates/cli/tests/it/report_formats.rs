//! Every report format from a real scan: the `python` test image matched against the repo's
//! advisory test data (crates/vulndb/tests/data, see its ATTRIBUTION.md). SARIF and CycloneDX
//! (with its `vulnerabilities`) and SPDX validate against the official schemas vendored in
//! `schemas/`; SPDX also passes the SPDX project's validator (spdx-tools' `pyspdxtools`);
//! SARIF also passes Microsoft's SARIF Multitool with GitHub's ingestion rules,
//! JUnit the Ant JUnit XSD (xmllint), and the HTML report renders in headless Chromium.
//! Each format is rendered by two runs and compared byte for byte.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use crate::util::*;

fn schema_path(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../schemas")
        .join(rel)
}

fn load_json(path: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).unwrap())
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn validate(main: &str, extra: &[&str], instance: &Value) {
    let mut options = jsonschema::options().should_validate_formats(true);
    for rel in extra {
        let contents = load_json(&schema_path(rel));
        let id = contents["$id"].as_str().unwrap().to_string();
        options = options.with_resource(id, jsonschema::Resource::from_contents(contents).unwrap());
    }
    let validator = options.build(&load_json(&schema_path(main))).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(instance)
        .map(|e| format!("  at {}: {e}", e.instance_path))
        .collect();
    assert!(
        errors.is_empty(),
        "does not validate against {main}:\n{}",
        errors.join("\n")
    );
}

/// A system tool: skipped with a note when absent, a failure in CI (`.ci/run` installs it).
fn tool(name: &str, path: Option<PathBuf>) -> Option<PathBuf> {
    let found = path.filter(|p| p.is_file()).or_else(|| {
        std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())
            .map(|d| d.join(name))
            .find(|p| p.is_file())
    });
    if found.is_none() {
        assert!(
            std::env::var_os("CI").is_none(),
            "{name} is missing; .ci/run installs it"
        );
        eprintln!("skipping the {name} check: not installed (.ci/run installs it)");
    }
    found
}

/// Scans the python image in `format` into `dir/<name>`, twice, and checks both runs wrote
/// the same bytes.
fn scan_to(dir: &Path, db: &Path, format: &str) -> PathBuf {
    let image = test_image("python", &[]).expect("the python test image");
    let reference = format!("oci:{}", image.join("oci").display());
    let mut outputs = Vec::new();
    for run in 0..2 {
        let file = dir.join(format!("report-{run}.{format}"));
        let out = bulwark(&[
            "image",
            &reference,
            "--db-dir",
            db.to_str().unwrap(),
            "--no-cache",
            "--quiet",
            "--format",
            format,
            "--output",
            file.to_str().unwrap(),
        ]);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{format}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        outputs.push((file.clone(), std::fs::read(&file).unwrap()));
    }
    assert!(
        outputs[0].1 == outputs[1].1,
        "{format}: two runs wrote different reports"
    );
    outputs.remove(0).0
}

#[test]
fn python_image_in_every_format_validates_and_is_deterministic() {
    if test_image("python", &[]).is_none() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let db = advisory_db(tmp.path());

    // SARIF: the official schema, GitHub's needs, and the SARIF Multitool.
    let file = scan_to(tmp.path(), &db, "sarif");
    let sarif = load_json(&file);
    validate("sarif/sarif-schema-2.1.0.json", &[], &sarif);
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    assert!(results.len() >= 10, "the image has known vulnerabilities");
    let mut image_checks = 0;
    for r in results {
        let loc = &r["locations"][0]["physicalLocation"];
        if r["ruleId"].as_str().unwrap().starts_with("BW-IMG-") {
            // Image-config findings (the image runs as root, setuid files) point at the
            // image file or the config they are about.
            image_checks += 1;
            assert!(
                !loc["artifactLocation"]["uri"].as_str().unwrap().is_empty(),
                "{r}"
            );
        } else {
            assert_eq!(
                loc["artifactLocation"]["uri"], "var/lib/dpkg/status",
                "Debian packages point at the dpkg database"
            );
        }
        assert!(r["partialFingerprints"]["bulwark/v1"].is_string());
    }
    assert!(image_checks > 0, "the python image runs as root");
    let rules = sarif["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .unwrap();
    assert!(rules
        .iter()
        .all(|r| r["properties"]["security-severity"].is_string() && r["helpUri"].is_string()));
    // Where .ci/run installs it, unless BULWARK_SARIF_MULTITOOL says otherwise.
    let multitool = tool(
        "Sarif.Multitool",
        std::env::var_os("BULWARK_SARIF_MULTITOOL")
            .map(PathBuf::from)
            .or_else(|| {
                let cache = std::env::var_os("XDG_CACHE_HOME")
                    .map(PathBuf::from)
                    .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".cache")))?;
                Some(cache.join("bulwark-ci/sarif-multitool/node_modules/@microsoft/sarif-multitool-linux/Sarif.Multitool"))
            }),
    );
    if let Some(multitool) = multitool {
        let out = Command::new(multitool)
            .args(["validate", "--rule-kind", "Sarif;Gh", "--output"])
            .arg(tmp.path().join("validation.sarif"))
            .arg(&file)
            .env("DOTNET_SYSTEM_GLOBALIZATION_INVARIANT", "1")
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            stdout.contains("Analysis completed successfully"),
            "{stdout}"
        );
        let problems: Vec<&str> = stdout
            .lines()
            .filter(|l| l.contains("): error ") || l.contains("): warning "))
            .collect();
        assert!(problems.is_empty(), "{}", problems.join("\n"));
    }

    // CycloneDX with its vulnerabilities section.
    let bom = load_json(&scan_to(tmp.path(), &db, "cyclonedx"));
    validate(
        "cyclonedx/bom-1.6.schema.json",
        &[
            "cyclonedx/spdx.schema.json",
            "cyclonedx/jsf-0.82.schema.json",
        ],
        &bom,
    );
    let refs: BTreeSet<&str> = bom["components"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["bom-ref"].as_str().unwrap())
        .collect();
    let vulns = bom["vulnerabilities"].as_array().expect("vulnerabilities");
    assert!(!vulns.is_empty());
    for v in vulns {
        assert!(v["id"].is_string() && v["source"]["name"].is_string());
        for a in v["affects"].as_array().unwrap() {
            assert!(refs.contains(a["ref"].as_str().unwrap()), "{a}");
        }
    }
    assert!(vulns.iter().any(|v| v["id"] == "CVE-2024-2961"));

    // SPDX unchanged and valid: the schema, then the SPDX project's own validator (spdx-tools),
    // which also checks what a schema cannot (licence expressions, element references).
    let spdx_file = scan_to(tmp.path(), &db, "spdx");
    validate("spdx/spdx-schema-2.3.json", &[], &load_json(&spdx_file));
    let pyspdxtools = tool(
        "pyspdxtools",
        std::env::var_os("BULWARK_PYSPDXTOOLS")
            .map(PathBuf::from)
            .or_else(|| {
                let cache = std::env::var_os("XDG_CACHE_HOME")
                    .map(PathBuf::from)
                    .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".cache")))?;
                Some(cache.join("bulwark-ci/spdx-tools/bin/pyspdxtools"))
            }),
    );
    if let Some(pyspdxtools) = pyspdxtools {
        // pyspdxtools picks its parser by file name: `.json` is JSON.
        let json_named = tmp.path().join("validate.spdx.json");
        std::fs::copy(&spdx_file, &json_named).unwrap();
        let out = Command::new(pyspdxtools)
            .arg("-i")
            .arg(&json_named)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.success() && !stderr.contains("ERROR"),
            "spdx-tools rejects the SPDX document:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    // JUnit against the Ant schema.
    let junit = scan_to(tmp.path(), &db, "junit");
    let text = std::fs::read_to_string(&junit).unwrap();
    assert!(text.contains("<testsuite name=\"vulnerabilities\""));
    assert!(text.contains("CVE-2024-2961 in libc6"));
    if let Some(xmllint) = tool("xmllint", None) {
        let out = Command::new(xmllint)
            .arg("--noout")
            .arg("--schema")
            .arg(schema_path("junit/JUnit.xsd"))
            .arg(&junit)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    // Markdown within a PR comment's limit.
    let md = std::fs::read_to_string(scan_to(tmp.path(), &db, "markdown")).unwrap();
    assert!(md.chars().count() <= 60_000);
    assert!(md.contains("| Vulnerabilities |"));

    // HTML: self-contained, and Chromium renders it without a console message.
    let html_file = scan_to(tmp.path(), &db, "html");
    let html = std::fs::read_to_string(&html_file).unwrap();
    assert!(!html.to_ascii_lowercase().contains("<script"));
    assert!(html.contains("default-src 'none'"));
    for (i, _) in html.match_indices("http") {
        let rest = &html[i..];
        if rest.starts_with("http://") || rest.starts_with("https://") {
            assert!(
                html[..i].ends_with("<a href=\""),
                "a URL outside a link at {i}"
            );
        }
    }
    if let Some(chromium) = tool("chromium", None) {
        let profile = tempfile::tempdir().unwrap();
        let out = Command::new(chromium)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-dev-shm-usage",
                "--no-first-run",
                "--enable-logging=stderr",
                "--v=0",
                "--dump-dom",
            ])
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .arg(format!("file://{}", html_file.display()))
            .output()
            .unwrap();
        let dom = String::from_utf8_lossy(&out.stdout);
        let log = String::from_utf8_lossy(&out.stderr);
        let console: Vec<&str> = log.lines().filter(|l| l.contains("CONSOLE")).collect();
        assert!(console.is_empty(), "console messages: {console:?}");
        assert!(dom.contains("CVE-2024-2961"));
        assert!(dom.contains("Findings by layer and severity"));
        assert!(dom.contains("<svg"));
    }
}

#[test]
fn table_has_no_colour_when_piped_and_lists_the_summary() {
    let Some(image) = test_image("python", &[]) else {
        return;
    };
    let reference = format!("oci:{}", image.join("oci").display());
    let out = bulwark(&[
        "image",
        &reference,
        "--no-cache",
        "--quiet",
        "--format",
        "table",
    ]);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(!text.contains('\x1b'), "no colour into a pipe");
    assert!(text.contains("SUMMARY  vulnerabilities: 0"), "{text}");
}

#[test]
fn table_is_coloured_on_a_terminal_unless_no_color() {
    // `script` gives the binary a pseudo-terminal as standard output.
    let Some(script) = tool("script", None) else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let db = advisory_db(tmp.path());
    let Some(image) = test_image("python", &[]) else {
        return;
    };
    let command = format!(
        "{} image oci:{} --db-dir {} --no-cache --quiet --format table",
        env!("CARGO_BIN_EXE_bulwark"),
        image.join("oci").display(),
        db.display()
    );
    let run = |no_color: bool| {
        let mut c = Command::new(&script);
        c.args(["-qec", &command, "/dev/null"])
            .env("SOURCE_DATE_EPOCH", "1700000000")
            .env_remove("NO_COLOR");
        if no_color {
            c.env("NO_COLOR", "1");
        }
        let out = c.output().unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let coloured = run(false);
    assert!(coloured.contains("\x1b[36mLOW"), "{coloured}");
    let plain = run(true);
    assert!(plain.contains("LOW") && !plain.contains('\x1b'), "{plain}");
}
