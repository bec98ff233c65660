//! Conda: what conda installed in an environment (`<prefix>/conda-meta/<name>-<version>-<build>.json`,
//! one record per package) and what an environment file declares (`environment.yml`).
//!
//! Choices:
//! * The purl is `pkg:conda/name@version?build=B&channel=C&subdir=S` (purl spec's conda type);
//!   the channel is the channel's name (`conda-forge`, `main`), not its URL.
//! * In `environment.yml`, `name==1.2.3` and `name=1.2.3[=build]` are versions; conda reads
//!   `name=1.2` as any 1.2.x, and such a declared version is reported as written (it merges into
//!   the installed record). Specs without a version, or with a range, are left out. The `pip:`
//!   list is PyPI's: `name==version` entries are reported as PyPI packages.
//! * No OSV feed covers conda.

use bulwark_analyze::PackageRecord;
use bulwark_types::Ecosystem;
use serde_json::Value;

use super::format::{
    components, file_name, plausible_name, plausible_version, yaml, Format, FormatAnalyzer,
};
use crate::license;

pub(crate) fn analyzer() -> FormatAnalyzer {
    FormatAnalyzer {
        id: "conda",
        version: 1,
        formats: &[
            Format {
                what: "conda-meta record",
                matches: |p| {
                    let c = components(p);
                    c.len() >= 2
                        && c[c.len() - 2] == "conda-meta"
                        && c[c.len() - 1].ends_with(".json")
                },
                parse: |_, text| parse_meta(text),
                installed: true,
            },
            Format {
                what: "environment.yml",
                matches: |p| matches!(file_name(p), "environment.yml" | "environment.yaml"),
                parse: |_, text| parse_environment(text),
                installed: false,
            },
        ],
    }
}

fn parse_meta(text: &str) -> Result<Vec<PackageRecord>, String> {
    let doc: Value = serde_json::from_str(text).map_err(|e| format!("not valid JSON: {e}"))?;
    let get = |k: &str| doc.get(k).and_then(Value::as_str).unwrap_or("");
    let (name, version) = (get("name"), get("version"));
    if name.is_empty() || version.is_empty() {
        return Err("no `name` and `version`; is this a conda package record?".into());
    }
    if !plausible_name(name) || !plausible_version(version) {
        return Err(format!(
            "{name:?} {version:?} is not a conda package name and version"
        ));
    }
    let subdir = get("subdir");
    let mut r = PackageRecord::new(Ecosystem::Conda, name, version)
        .qualifier("build", get("build"))
        .qualifier("channel", channel_name(get("channel"), subdir))
        .qualifier("subdir", subdir);
    r.licenses = license::expression_to_spdx(get("license"))
        .into_iter()
        .collect();
    r.dependencies = doc
        .get("depends")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .filter_map(|d| d.split_whitespace().next().map(str::to_string))
        .collect();
    Ok(vec![r])
}

/// `https://conda.anaconda.org/conda-forge/linux-64` → `conda-forge`,
/// `https://repo.anaconda.com/pkgs/main/noarch` → `main`, `conda-forge` → itself.
fn channel_name(channel: &str, subdir: &str) -> String {
    let c = channel.trim().trim_end_matches('/');
    let c = if subdir.is_empty() {
        c
    } else {
        c.strip_suffix(subdir)
            .map_or(c, |c| c.trim_end_matches('/'))
    };
    c.rsplit('/').next().unwrap_or(c).to_string()
}

fn parse_environment(text: &str) -> Result<Vec<PackageRecord>, String> {
    let doc: Value = yaml(text)?;
    // Other tools name their settings `environment.yml` too: without `dependencies` the file
    // is not conda's, and says nothing about packages.
    let Some(deps) = doc.get("dependencies") else {
        return Ok(Vec::new());
    };
    let Some(deps) = deps.as_array() else {
        return Err("`dependencies` is not a list".into());
    };
    let mut out = Vec::new();
    for dep in deps {
        match dep {
            Value::String(spec) => out.extend(conda_spec(spec)),
            Value::Object(map) => {
                for pip in map
                    .get("pip")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
                {
                    out.extend(pip_spec(pip));
                }
            }
            _ => {}
        }
    }
    Ok(out)
}

/// A conda match spec with an exact version: `[channel::]name(==|=)version[=build]`.
fn conda_spec(spec: &str) -> Option<PackageRecord> {
    let spec = spec.split('#').next().unwrap_or("").trim();
    let (channel, spec) = match spec.split_once("::") {
        Some((c, s)) => (c.rsplit('/').next().unwrap_or(c), s),
        None => ("", spec),
    };
    let (name, rest) = if let Some((n, r)) = spec.split_once("==") {
        (n, r)
    } else {
        spec.split_once('=')?
    };
    let (version, build) = rest.split_once('=').unwrap_or((rest, ""));
    let (name, version, build) = (name.trim(), version.trim(), build.trim());
    if !plausible_name(name) || !plausible_version(version) || build.contains('*') {
        return None;
    }
    Some(
        PackageRecord::new(Ecosystem::Conda, name, version)
            .qualifier("build", build)
            .qualifier("channel", channel),
    )
}

/// A pip requirement pinned with `==` (PEP 508; extras and markers dropped).
fn pip_spec(spec: &str) -> Option<PackageRecord> {
    let spec = spec.split([';', '#']).next().unwrap_or("").trim();
    let (name, version) = spec.split_once("==")?;
    let name = name.split('[').next().unwrap_or(name).trim();
    let version = version.trim();
    (plausible_name(name) && plausible_version(version) && !version.starts_with('='))
        .then(|| PackageRecord::new(Ecosystem::PyPI, name, version))
}

#[cfg(test)]
mod tests {
    use super::super::format::testing::{assert_malformed, assert_packages};

    // Written from conda's documentation: docs.conda.io/projects/conda/en/stable/dev-guide/deep-dives/install.html
    // (conda-meta records) and .../user-guide/tasks/manage-environments.html (environment.yml,
    // match specs).
    #[test]
    fn conda_meta_record() {
        let meta = r#"{
  "build": "py311h06a4308_0",
  "build_number": 0,
  "channel": "https://repo.anaconda.com/pkgs/main/linux-64",
  "subdir": "linux-64",
  "depends": ["python >=3.11,<3.12.0a0"],
  "license": "MIT",
  "name": "requests",
  "version": "2.31.0",
  "files": ["lib/python3.11/site-packages/requests/__init__.py"]
}"#;
        assert_packages(
            "opt/conda/conda-meta/requests-2.31.0-py311h06a4308_0.json",
            meta,
            &[(
                "requests",
                "2.31.0",
                "pkg:conda/requests@2.31.0?build=py311h06a4308_0&channel=main&subdir=linux-64",
            )],
        );
        let forge = r#"{"name": "zlib", "version": "1.2.13", "build": "hd590300_5", "channel": "https://conda.anaconda.org/conda-forge/linux-64", "subdir": "linux-64"}"#;
        assert_packages(
            "opt/conda/envs/x/conda-meta/zlib-1.2.13-hd590300_5.json",
            forge,
            &[(
                "zlib",
                "1.2.13",
                "pkg:conda/zlib@1.2.13?build=hd590300_5&channel=conda-forge&subdir=linux-64",
            )],
        );
    }

    #[test]
    fn environment_file() {
        let env = "name: analysis
channels:
  - conda-forge
dependencies:
  - python=3.11.5=hab00c5b_0_cpython
  - numpy==1.26.0
  - conda-forge::pandas=2.1.1
  - scipy>=1.10
  - matplotlib
  - pip
  - pip:
    - requests==2.31.0
    - flask>=2
";
        assert_packages(
            "work/environment.yml",
            env,
            &[
                (
                    "python",
                    "3.11.5",
                    "pkg:conda/python@3.11.5?build=hab00c5b_0_cpython",
                ),
                ("numpy", "1.26.0", "pkg:conda/numpy@1.26.0"),
                (
                    "pandas",
                    "2.1.1",
                    "pkg:conda/pandas@2.1.1?channel=conda-forge",
                ),
                ("requests", "2.31.0", "pkg:pypi/requests@2.31.0"),
            ],
        );
    }

    #[test]
    fn malformed_conda_files() {
        assert_malformed("conda-meta/x.json", "{\"name\": \"x\"");
        assert_malformed("conda-meta/x.json", "{\"files\": []}");
        assert_malformed(
            "conda-meta/x.json",
            "{\"name\": \"{{ name }}\", \"version\": \"1\"}",
        );
        assert_malformed("environment.yml", "name: x\ndependencies: [unclosed\n");
        assert_malformed("environment.yml", "name: x\ndependencies: 3\n");
        assert_packages("environment.yml", "name: x\nchannels: [defaults]\n", &[]);
    }
}
