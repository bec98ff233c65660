//! SARIF, CycloneDX and SPDX over the sample report: validated against the official schemas
//! vendored in `schemas/`, and checked for the fields consumers rely on.

use crate::common::*;
use serde_json::Value;

#[test]
fn sarif_validates_against_the_sarif_2_1_0_schema() {
    let report = sample_report();
    let sarif: Value = serde_json::from_str(&render(&report, Format::Sarif)).unwrap();
    validate_json("SARIF", "sarif/sarif-schema-2.1.0.json", &[], &sarif);
}

#[test]
fn sarif_has_what_github_code_scanning_needs() {
    let report = sample_report();
    let sarif: Value = serde_json::from_str(&render(&report, Format::Sarif)).unwrap();
    assert_eq!(sarif["version"], "2.1.0");
    let runs = sarif["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 1, "one run");
    let run = &runs[0];
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    let ids: Vec<&str> = rules.iter().map(|r| r["id"].as_str().unwrap()).collect();
    let mut sorted = ids.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(ids, sorted, "rules unique and sorted by id");
    for id in [
        "CVE-2023-0001",
        "GHSA-aaaa-bbbb-cccc",
        "secret/aws-access-key-id",
        "secret/github-pat",
        "BW-DF-002",
        "BW-K8S-001",
        "BW-IMG-001",
        "license/GPL-3.0-only",
    ] {
        assert!(ids.contains(&id), "a rule for {id}: {ids:?}");
    }
    for rule in rules {
        for key in ["shortDescription", "fullDescription"] {
            assert!(
                !rule[key]["text"].as_str().unwrap().is_empty(),
                "{key} of {}",
                rule["id"]
            );
        }
        assert!(!rule["help"]["text"].as_str().unwrap().is_empty());
        assert!(!rule["help"]["markdown"].as_str().unwrap().is_empty());
        let tags = rule["properties"]["tags"].as_array().unwrap();
        assert!(!tags.is_empty());
        if !rule["id"].as_str().unwrap().starts_with("license/") {
            let s: f64 = rule["properties"]["security-severity"]
                .as_str()
                .unwrap_or_else(|| panic!("security-severity of {}", rule["id"]))
                .parse()
                .unwrap();
            assert!((0.0..=10.0).contains(&s));
        }
    }
    let rule = |id: &str| rules.iter().find(|r| r["id"] == id).unwrap();
    assert_eq!(
        rule("CVE-2023-0001")["properties"]["security-severity"],
        "9.8",
        "the CVSS base score, the highest of the id's findings"
    );
    assert_eq!(
        rule("GHSA-aaaa-bbbb-cccc")["properties"]["security-severity"],
        "8.0",
        "a stand-in for a rating without CVSS"
    );
    assert_eq!(
        rule("CVE-2023-0001")["helpUri"],
        "https://example.org/advisories/CVE-2023-0001"
    );
    assert!(rule("CVE-2023-0001")["help"]["markdown"]
        .as_str()
        .unwrap()
        .contains("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"));

    let results = run["results"].as_array().unwrap();
    // 3 vulnerability findings, 2 secrets, 4 misconfigurations, 1 licence finding.
    assert_eq!(results.len(), 10);
    let mut fingerprints = std::collections::BTreeSet::new();
    for r in results {
        let idx = r["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(
            rules[idx]["id"], r["ruleId"],
            "ruleIndex points at its rule"
        );
        let loc = &r["locations"][0]["physicalLocation"];
        let uri = loc["artifactLocation"]["uri"].as_str().unwrap();
        assert!(
            !uri.is_empty() && !uri.starts_with('/'),
            "relative uri: {uri}"
        );
        assert!(loc["region"]["startLine"].as_u64().unwrap() >= 1);
        assert!(["error", "warning", "note"].contains(&r["level"].as_str().unwrap()));
        let fp = r["partialFingerprints"]["bulwark/v1"].as_str().unwrap();
        assert!(fingerprints.insert(fp.to_string()), "fingerprints differ");
        let text = r["message"]["text"].as_str().unwrap();
        assert!(!text.contains(SECRET_VALUE), "no secret in {text}");
    }
    let by_rule =
        |id: &str| -> Vec<&Value> { results.iter().filter(|r| r["ruleId"] == id).collect() };
    // A Dockerfile finding: its file and region.
    let df = by_rule("BW-DF-002")[0];
    let loc = &df["locations"][0]["physicalLocation"];
    assert_eq!(loc["artifactLocation"]["uri"], "deploy/Dockerfile");
    assert_eq!(loc["region"]["startLine"], 7);
    assert_eq!(loc["region"]["startColumn"], 1);
    assert_eq!(df["level"], "error");
    // A file inside the image: its image path, relative, and the layer.
    let secret = by_rule("secret/aws-access-key-id")[0];
    let loc = &secret["locations"][0];
    assert_eq!(
        loc["physicalLocation"]["artifactLocation"]["uri"],
        "app/config/.env"
    );
    assert_eq!(loc["physicalLocation"]["region"]["startLine"], 3);
    assert_eq!(loc["physicalLocation"]["region"]["startColumn"], 12);
    assert!(loc["logicalLocations"]
        .as_array()
        .unwrap()
        .iter()
        .any(|l| l["name"] == "layer 1"));
    assert_eq!(secret["properties"]["layer"]["index"], 1);
    // A package finding: the file the package was read from.
    let vuln = by_rule("CVE-2023-0001");
    assert_eq!(vuln.len(), 2, "one result per affected package");
    assert_eq!(
        vuln[0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        "var/lib/dpkg/status"
    );
    assert_eq!(vuln[0]["level"], "error");
    // Gates and suppressions ride along in the run's properties.
    assert_eq!(run["properties"]["gates"][0]["passed"], false);
    assert_eq!(run["properties"]["suppressed"].as_array().unwrap().len(), 2);
    assert_eq!(run["invocations"][0]["executionSuccessful"], false);
}

/// A secret rule's SARIF precision is the confidence of its most confident result: a rule
/// whose only result failed its checksum (low) is not announced as precise to code scanning.
#[test]
fn sarif_secret_precision_follows_confidence() {
    use bulwark_types::Confidence;
    let precision = |confidences: &[Confidence]| {
        let mut report = sample_report();
        let template = report
            .secrets
            .iter()
            .find(|s| s.hit.rule_id == "aws-access-key-id")
            .unwrap()
            .clone();
        report
            .secrets
            .retain(|s| s.hit.rule_id != "aws-access-key-id");
        for (i, c) in confidences.iter().enumerate() {
            let mut s = template.clone();
            s.hit.confidence = *c;
            s.hit.line += i;
            s.hit.fingerprint = format!("fp-{i}");
            report.secrets.push(s);
        }
        let v: Value = serde_json::from_str(&render(&report, Format::Sarif)).unwrap();
        let rules = v["runs"][0]["tool"]["driver"]["rules"].as_array().unwrap();
        let rule = rules
            .iter()
            .find(|r| r["id"] == "secret/aws-access-key-id")
            .unwrap();
        rule["properties"]["precision"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert_eq!(precision(&[Confidence::Low]), "low");
    assert_eq!(precision(&[Confidence::Low, Confidence::Medium]), "medium");
    assert_eq!(precision(&[Confidence::Medium, Confidence::Low]), "medium");
    assert_eq!(precision(&[Confidence::Low, Confidence::High]), "high");
}

#[test]
fn sarif_fingerprints_do_not_depend_on_order() {
    let report = sample_report();
    let mut shuffled = report.clone();
    shuffled.vulnerabilities.reverse();
    let fps = |r: &bulwark_report::ScanReport| {
        let v: Value = serde_json::from_str(&render(r, Format::Sarif)).unwrap();
        let mut fps: Vec<String> = v["runs"][0]["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                r["partialFingerprints"]["bulwark/v1"]
                    .as_str()
                    .unwrap()
                    .to_string()
            })
            .collect();
        fps.sort();
        fps
    };
    assert_eq!(fps(&report), fps(&shuffled));
}

#[test]
fn cyclonedx_vulnerabilities_validate_and_reference_components() {
    let report = sample_report();
    let bom: Value = serde_json::from_str(&render(&report, Format::CycloneDx)).unwrap();
    validate_json(
        "CycloneDX",
        "cyclonedx/bom-1.6.schema.json",
        &[
            "cyclonedx/spdx.schema.json",
            "cyclonedx/jsf-0.82.schema.json",
        ],
        &bom,
    );
    let refs: std::collections::BTreeSet<&str> = bom["components"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["bom-ref"].as_str().unwrap())
        .collect();
    let vulns = bom["vulnerabilities"].as_array().unwrap();
    for v in vulns {
        for a in v["affects"].as_array().into_iter().flatten() {
            assert!(
                refs.contains(a["ref"].as_str().unwrap()),
                "affects names a component: {a}"
            );
        }
    }
    let cve = vulns
        .iter()
        .find(|v| v["id"] == "CVE-2023-0001" && v.get("analysis").is_none())
        .unwrap();
    assert_eq!(cve["source"]["name"], "NVD");
    assert_eq!(cve["ratings"][0]["method"], "CVSSv31");
    assert_eq!(cve["ratings"][0]["score"], 9.8);
    assert_eq!(cve["ratings"][0]["severity"], "critical");
    assert_eq!(
        cve["ratings"][0]["vector"],
        "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"
    );
    assert_eq!(cve["affects"].as_array().unwrap().len(), 2);
    assert_eq!(cve["references"][0]["id"], "DSA-0001-1");
    assert!(cve["recommendation"].as_str().unwrap().contains("3.0.13-1"));
    let versions = cve["affects"][0]["versions"].as_array().unwrap();
    assert!(versions.iter().any(|v| v["status"] == "affected"));
    assert!(versions.iter().any(|v| v["status"] == "unaffected"));
    let ghsa = vulns
        .iter()
        .find(|v| v["id"] == "GHSA-aaaa-bbbb-cccc")
        .unwrap();
    assert_eq!(ghsa["ratings"][0]["method"], "other");
    assert_eq!(ghsa["ratings"][0]["severity"], "high");
    // The VEX'd one keeps its statement as analysis; the ignored one its reason.
    let vexed = vulns.iter().find(|v| v["id"] == "CVE-2023-9999").unwrap();
    assert_eq!(vexed["analysis"]["state"], "not_affected");
    assert_eq!(vexed["analysis"]["justification"], "code_not_reachable");
    assert_eq!(
        vexed["affects"][0]["ref"],
        refs.iter()
            .find(|r| r.contains("libssl3"))
            .copied()
            .unwrap()
    );
    let ignored = vulns.iter().find(|v| v["id"] == "CVE-2023-8888").unwrap();
    assert!(ignored["analysis"].get("state").is_none());
    assert!(ignored["analysis"]["detail"]
        .as_str()
        .unwrap()
        .contains("accepted risk"));
}

#[test]
fn spdx_still_validates() {
    let report = sample_report();
    let doc: Value = serde_json::from_str(&render(&report, Format::Spdx)).unwrap();
    validate_json("SPDX", "spdx/spdx-schema-2.3.json", &[], &doc);
}

#[test]
fn every_format_renders_the_same_bytes_twice_and_ignores_input_order() {
    let report = sample_report();
    let mut reordered = report.clone();
    reordered.license_findings.reverse();
    reordered.suppressed.reverse();
    for format in ALL_FORMATS {
        let a = render(&report, format);
        assert_eq!(a, render(&report, format), "{format:?} is deterministic");
        if format != Format::Json {
            // The JSON report is the model as given; the others sort what they list.
            assert_eq!(
                a,
                render(&reordered, format),
                "{format:?} sorts what it lists"
            );
        }
        assert!(
            !a.contains(SECRET_VALUE),
            "{format:?} never shows the secret"
        );
    }
}

/// The SARIF Multitool: `$BULWARK_SARIF_MULTITOOL`, else where `.ci/run` installs it.
pub fn sarif_multitool() -> Option<std::path::PathBuf> {
    let path = std::env::var_os("BULWARK_SARIF_MULTITOOL")
        .map(std::path::PathBuf::from)
        .or_else(|| {
            let cache = std::env::var_os("XDG_CACHE_HOME")
                .map(std::path::PathBuf::from)
                .or_else(|| std::env::var_os("HOME").map(|h| std::path::Path::new(&h).join(".cache")))?;
            Some(cache.join(
                "bulwark-ci/sarif-multitool/node_modules/@microsoft/sarif-multitool-linux/Sarif.Multitool",
            ))
        })
        .filter(|p| p.is_file());
    if path.is_none() {
        assert!(
            std::env::var_os("CI").is_none(),
            "the SARIF Multitool is missing; .ci/run installs it"
        );
        eprintln!("skipping the SARIF Multitool check: not installed (.ci/run installs it)");
    }
    path
}

/// Runs `Sarif.Multitool validate` with the SARIF rules and GitHub's ingestion rules (`Gh`)
/// and returns the errors and warnings it prints (one per line, `file(line): error GH1001: …`).
pub fn multitool_problems(tool: &std::path::Path, sarif_file: &std::path::Path) -> Vec<String> {
    let dir = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(tool)
        .arg("validate")
        .args(["--rule-kind", "Sarif;Gh", "--output"])
        .arg(dir.path().join("validation.sarif"))
        .arg(sarif_file)
        .env("DOTNET_SYSTEM_GLOBALIZATION_INVARIANT", "1")
        .output()
        .expect("the multitool runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("Analysis completed successfully"),
        "the multitool failed: {stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
        .lines()
        .filter(|l| l.contains("): error ") || l.contains("): warning "))
        .map(str::to_string)
        .collect()
}

#[test]
fn sarif_passes_the_sarif_multitool_validator_with_github_rules() {
    let Some(tool) = sarif_multitool() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bulwark.sarif");
    std::fs::write(&file, render(&sample_report(), Format::Sarif)).unwrap();
    let problems = multitool_problems(&tool, &file);
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// Issue 18.7: a project found in the image (a go.mod's module, version unknown) and its
/// workspace member are applications that depend on what they declare; the image stays the
/// one `metadata.component`; an unknown version is left out; both documents validate.
#[test]
fn issue_18_7_projects_are_applications_with_their_relationships() {
    use bulwark_types::{Ecosystem, Package, PackageRole, Purl};
    let mut report = sample_report();
    let go = |name: &str, version: &str, role: PackageRole, deps: &[&str]| Package {
        ecosystem: Ecosystem::Go,
        name: name.into(),
        version: version.into(),
        arch: None,
        source: None,
        licenses: Vec::new(),
        purl: {
            let (namespace, last) = name.rsplit_once('/').unwrap_or(("", name));
            Purl::new(
                "golang",
                Some(namespace).filter(|n| !n.is_empty()),
                last,
                Some(version).filter(|v| !v.is_empty()),
            )
        },
        layer: layer(2),
        found_in: vec!["/src/go.mod".into()],
        files: Vec::new(),
        dev: false,
        inferred: false,
        dependencies: deps.iter().map(|d| d.to_string()).collect(),
        evidence: bulwark_types::Evidence::Declared,
        role,
    };
    report.packages.push(go(
        "example.com/app",
        "",
        PackageRole::Root,
        &["golang.org/x/net"],
    ));
    report.packages.push(go(
        "golang.org/x/net",
        "v0.23.0",
        PackageRole::Dependency,
        &[],
    ));
    report.packages.push(go(
        "example.com/app/tools",
        "v0.1.0",
        PackageRole::Member,
        &[],
    ));

    let bom: Value = serde_json::from_str(&render(&report, Format::CycloneDx)).unwrap();
    validate_json(
        "CycloneDX",
        "cyclonedx/bom-1.6.schema.json",
        &[
            "cyclonedx/spdx.schema.json",
            "cyclonedx/jsf-0.82.schema.json",
        ],
        &bom,
    );
    assert_eq!(bom["metadata"]["component"]["type"], "container");
    let components = bom["components"].as_array().unwrap();
    let root = components
        .iter()
        .find(|c| c["name"] == "example.com/app")
        .unwrap();
    assert_eq!(root["type"], "application");
    assert!(root.get("version").is_none(), "{root}");
    assert!(root["properties"]
        .as_array()
        .unwrap()
        .iter()
        .any(|p| p["name"] == "bulwark:package:role" && p["value"] == "root"));
    let deps = bom["dependencies"].as_array().unwrap();
    let entry = deps.iter().find(|d| d["ref"] == root["bom-ref"]).unwrap();
    assert_eq!(
        entry["dependsOn"],
        serde_json::json!([
            "pkg:golang/golang.org/x/net@v0.23.0",
            "pkg:golang/example.com/app/tools@v0.1.0"
        ])
    );

    let doc: Value = serde_json::from_str(&render(&report, Format::Spdx)).unwrap();
    validate_json("SPDX", "spdx/spdx-schema-2.3.json", &[], &doc);
    let packages = doc["packages"].as_array().unwrap();
    let root = packages
        .iter()
        .find(|p| p["name"] == "example.com/app")
        .unwrap();
    assert_eq!(root["primaryPackagePurpose"], "APPLICATION");
    assert!(root.get("versionInfo").is_none());
    let rels = doc["relationships"].as_array().unwrap();
    let of_root: Vec<&str> = rels
        .iter()
        .filter(|r| r["spdxElementId"] == root["SPDXID"])
        .map(|r| r["relationshipType"].as_str().unwrap())
        .collect();
    assert_eq!(of_root, vec!["DEPENDS_ON", "CONTAINS"]);

    // Read back, the role survives (the import needs a version to match: the root, whose
    // version is unknown, is skipped).
    let sbom =
        bulwark_report::import::read_sbom(render(&report, Format::CycloneDx).as_bytes()).unwrap();
    assert!(sbom
        .packages
        .iter()
        .any(|p| p.name == "example.com/app/tools" && p.role == PackageRole::Member));
}
