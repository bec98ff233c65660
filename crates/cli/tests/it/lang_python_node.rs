//! Python and JavaScript packages in the real `lang` image (built by
//! `scripts/build-test-images.py lang` with `scripts/testdata/{python,node}.sh`), checked against
//! `pip list` and `npm ls` run on the same installs, plus every lockfile format on small fixtures.

use std::collections::BTreeSet;
use std::path::PathBuf;

use serde_json::Value;

use crate::util::*;

/// The `lang` image with this module's ground truth, or `None` when skipping on purpose.
pub fn lang_image() -> Option<PathBuf> {
    test_image("lang", &["expected/pip-list.json", "expected/npm-ls.json"])
}

fn scan_lang() -> Option<(PathBuf, Value)> {
    let dir = lang_image()?;
    let (code, report, stderr) = scan_json(&format!("oci:{}", dir.join("oci").display()), &[]);
    assert_eq!(code, 0, "{stderr}");
    Some((dir, report))
}

fn of_ecosystem(report: &Value, ecosystem: &str) -> Vec<Value> {
    report["packages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["ecosystem"] == ecosystem)
        .cloned()
        .collect()
}

#[test]
fn python_packages_match_pip_list() {
    let Some((dir, report)) = scan_lang() else {
        return;
    };
    let pip: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("expected/pip-list.json")).unwrap())
            .unwrap();
    let want: BTreeSet<(String, String)> = pip
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["name"].as_str().unwrap().to_lowercase(),
                p["version"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let pypi = of_ecosystem(&report, "pypi");
    let got: BTreeSet<(String, String)> = pypi
        .iter()
        .map(|p| {
            (
                p["name"].as_str().unwrap().to_lowercase(),
                p["version"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(got, want, "PyPI packages differ from pip list");
    let django = pypi.iter().find(|p| p["name"] == "Django").unwrap();
    assert_eq!(django["purl"], "pkg:pypi/django@3.2");
    assert_eq!(django["licenses"], serde_json::json!(["BSD-3-Clause"]));
    assert!(django["layer"]["created_by"]
        .as_str()
        .unwrap()
        .contains("python"));
    // Debian's python3-yaml ships a PyYAML dist-info that dpkg owns: it is the deb, not PyPI.
    assert!(pypi.iter().all(|p| !p["found_in"][0]
        .as_str()
        .unwrap()
        .starts_with("/usr/lib/python3/")));
    let debs = of_ecosystem(&report, "deb");
    assert!(debs.iter().any(|p| p["name"] == "python3-yaml"));
}

/// Flattens `npm ls --all --json` into (name, version) pairs.
fn npm_tree(v: &Value, out: &mut BTreeSet<(String, String)>) {
    if let Some(deps) = v.get("dependencies").and_then(|d| d.as_object()) {
        for (name, dep) in deps {
            if let Some(version) = dep.get("version").and_then(|x| x.as_str()) {
                out.insert((name.clone(), version.to_string()));
            }
            npm_tree(dep, out);
        }
    }
}

#[test]
fn npm_packages_match_npm_ls_and_dev_is_marked() {
    let Some((dir, report)) = scan_lang() else {
        return;
    };
    let read = |f: &str| -> Value {
        serde_json::from_str(&std::fs::read_to_string(dir.join("expected").join(f)).unwrap())
            .unwrap()
    };
    let mut want = BTreeSet::new();
    npm_tree(&read("npm-ls.json"), &mut want);
    let mut prod = BTreeSet::new();
    npm_tree(&read("npm-ls-prod.json"), &mut prod);
    let npm = of_ecosystem(&report, "npm");
    // `npm ls` lists the dependency tree; the project itself (role root, issue 18.7) is its
    // top line, not an entry.
    let got: BTreeSet<(String, String)> = npm
        .iter()
        .filter(|p| p.get("role").is_none())
        .map(|p| {
            (
                p["name"].as_str().unwrap().to_string(),
                p["version"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(got, want, "npm packages differ from npm ls --all");
    let dev: BTreeSet<(String, String)> = npm
        .iter()
        .filter(|p| p["dev"] == true)
        .map(|p| {
            (
                p["name"].as_str().unwrap().to_string(),
                p["version"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let want_dev: BTreeSet<_> = want.difference(&prod).cloned().collect();
    assert_eq!(
        dev, want_dev,
        "dev dependencies are those npm omits with --omit=dev"
    );
    let lodash = npm.iter().find(|p| p["name"] == "lodash").unwrap();
    assert_eq!(lodash["purl"], "pkg:npm/lodash@4.17.15");
    assert_eq!(lodash["licenses"], serde_json::json!(["MIT"]));
    let found: Vec<&str> = lodash["found_in"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f.as_str().unwrap())
        .collect();
    assert_eq!(
        found,
        vec![
            "/app/node/node_modules/lodash/package.json",
            "/app/node/package-lock.json"
        ],
        "one package, two locations"
    );
}

fn scan_tree(files: &[(&str, &str)]) -> (i32, Value, String) {
    let tmp = tempfile::tempdir().unwrap();
    for (path, content) in files {
        let p = tmp.path().join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, content).unwrap();
    }
    let out = bulwark(&[
        "fs",
        &tmp.path().display().to_string(),
        "--format",
        "json",
        "--quiet",
        "--no-cache",
    ]);
    (
        out.status.code().unwrap_or(-1),
        serde_json::from_slice(&out.stdout).unwrap_or(Value::Null),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn source_tree_lockfiles_via_fs() {
    let (code, report, stderr) = scan_tree(&[
        ("py/requirements.txt", "Django==3.2.0\nflask>=2\n"),
        ("py/poetry.lock", "[[package]]\nname = \"pytest\"\nversion = \"7.0.0\"\ncategory = \"dev\"\n"),
        ("js/yarn.lock", "# yarn lockfile v1\n\nminimist@^1.2.0:\n  version \"1.2.0\"\n"),
        ("js/pnpm-lock.yaml", "lockfileVersion: '9.0'\npackages:\n  express@4.16.0:\n    resolution: {integrity: sha512-x}\n"),
        ("js/node_modules/left-pad/package.json", r#"{"name": "left-pad", "version": "1.3.0", "license": "WTFPL"}"#),
        ("js/node_modules/left-pad/test/package.json", r#"{"name": "fixture", "version": "0.0.0"}"#),
    ]);
    assert_eq!(code, 0, "{stderr}");
    let got: Vec<(String, String, u64)> = packages(&report);
    let names: Vec<&str> = got.iter().map(|(n, _, _)| n.as_str()).collect();
    assert_eq!(
        names,
        // `flask>=2` is kept with its version unknown (issue 18.1).
        vec!["Django", "express", "flask", "left-pad", "minimist", "pytest"]
    );
    assert_eq!(package(&report, "pytest")["dev"], true);
    assert_eq!(
        package(&report, "left-pad")["licenses"],
        serde_json::json!(["WTFPL"])
    );
}

#[test]
fn malformed_lockfiles_are_diagnostics_not_failures() {
    let (code, report, stderr) = scan_tree(&[
        ("a/package-lock.json", "{ not json"),
        ("b/poetry.lock", "[[package]\nname ="),
        ("c/requirements.txt", "requests==2.19.0\n"),
    ]);
    assert_eq!(code, 3, "{stderr}");
    assert!(!stderr.contains("panicked"));
    let diags = report["diagnostics"].as_array().unwrap();
    assert!(diags.iter().any(
        |d| d["path"].as_str().unwrap().ends_with("a/package-lock.json") && d["analyzer"] == "node"
    ));
    assert!(diags.iter().any(
        |d| d["path"].as_str().unwrap().ends_with("b/poetry.lock") && d["analyzer"] == "python"
    ));
    assert_eq!(packages(&report).len(), 1, "the good file is still read");
}
