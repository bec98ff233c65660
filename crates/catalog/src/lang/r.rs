//! R packages: what R installed in a library (`<library>/<name>/DESCRIPTION` where the library
//! directory is named `library` or `site-library`, as R's own and Debian's are, or renv's
//! `renv/library/<R version>/<platform>/<name>/DESCRIPTION`) and what
//! `renv.lock` pins.
//!
//! Choices:
//! * Only a `DESCRIPTION` directly inside a package directory of a library counts, never any
//!   file so named (source checkouts and tarballs have one too), and only when its `Package:`
//!   is the directory's name and R wrote the `Built:` field that installation adds.
//! * R's base packages (`Priority: base`: `base`, `stats`, `utils`...) ship with R itself and
//!   are not on CRAN: left out. Recommended ones (`Matrix`, `lattice`) are CRAN packages.
//! * The purl is `pkg:cran/name@version`, matched through OSV's `CRAN` feed. renv entries from
//!   Bioconductor, GitHub or local sources are not CRAN packages and are left out.

use bulwark_analyze::PackageRecord;
use bulwark_types::Ecosystem;
use serde_json::Value;

use super::format::{
    components, file_name, plausible_name, plausible_version, Format, FormatAnalyzer,
};
use crate::license;

pub(crate) fn analyzer() -> FormatAnalyzer {
    FormatAnalyzer {
        id: "r",
        version: 1,
        formats: &[
            Format {
                what: "R package DESCRIPTION",
                matches: |p| library_package(p).is_some(),
                parse: parse_description,
                installed: true,
            },
            Format {
                what: "renv.lock",
                matches: |p| file_name(p) == "renv.lock",
                parse: |_, text| parse_renv_lock(text),
                installed: false,
            },
        ],
    }
}

/// The package directory's name of `…/library/<name>/DESCRIPTION` (or `site-library`), or of
/// renv's project library `renv/library/<R version>/<platform>/<name>/DESCRIPTION`.
fn library_package(path: &str) -> Option<&str> {
    let c = components(path);
    let n = c.len();
    if n < 3 || c[n - 1] != "DESCRIPTION" {
        return None;
    }
    let library = matches!(c[n - 3], "library" | "site-library");
    let renv = n >= 6 && c[n - 5] == "library" && c[n - 6] == "renv";
    (library || renv).then(|| c[n - 2])
}

fn parse_description(path: &str, text: &str) -> Result<Vec<PackageRecord>, String> {
    let Some(dir) = library_package(path) else {
        return Ok(Vec::new());
    };
    let stanzas = crate::control_stanzas(text);
    let Some(fields) = stanzas.first() else {
        return Err("empty; is this an R package DESCRIPTION?".into());
    };
    let get = |k: &str| {
        fields
            .iter()
            .find(|(f, _)| *f == k)
            .map(|(_, v)| v.as_str())
    };
    let (Some(name), Some(version)) = (get("Package"), get("Version")) else {
        return Err(
            "no `Package:` and `Version:` fields; is this an R package DESCRIPTION?".into(),
        );
    };
    // A source package copied into a directory called `library`, or a file of another
    // program: not an installed R package.
    if name != dir || get("Built").is_none() || get("Priority") == Some("base") {
        return Ok(Vec::new());
    }
    if !plausible_name(name) || !plausible_version(version) {
        return Err(format!(
            "{name:?} {version:?} is not an R package name and version"
        ));
    }
    let mut r = PackageRecord::new(Ecosystem::Cran, name, version);
    r.licenses = get("License")
        .and_then(license::expression_to_spdx)
        .into_iter()
        .collect();
    r.dependencies = ["Depends", "Imports", "LinkingTo"]
        .iter()
        .filter_map(|k| get(k))
        .flat_map(|v| v.split(','))
        .filter_map(|d| {
            d.split(['(', ' ', '\n'])
                .find(|s| !s.is_empty())
                .map(str::to_string)
        })
        .filter(|d| d != "R")
        .collect();
    Ok(vec![r])
}

fn parse_renv_lock(text: &str) -> Result<Vec<PackageRecord>, String> {
    let doc: Value = serde_json::from_str(text).map_err(|e| format!("not valid JSON: {e}"))?;
    let Some(packages) = doc.get("Packages") else {
        return Err("no `Packages`; is this a renv lockfile?".into());
    };
    let Some(packages) = packages.as_object() else {
        return Err("`Packages` is not an object".into());
    };
    let mut out = Vec::new();
    for (key, entry) in packages {
        let get = |k: &str| entry.get(k).and_then(Value::as_str);
        let cran = match get("Source") {
            Some("Repository") => !matches!(get("Repository"), Some("Bioconductor" | "BioCsoft")),
            Some("CRAN") | None => true,
            _ => false,
        };
        let name = get("Package").unwrap_or(key);
        let Some(version) = get("Version") else {
            continue;
        };
        if cran && plausible_name(name) && plausible_version(version) {
            out.push(PackageRecord::new(Ecosystem::Cran, name, version));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::super::format::testing::{assert_malformed, assert_packages};

    // Written from rstudio.github.io/renv/articles/lockfile.html and "Writing R Extensions"
    // §1.1.1 (The DESCRIPTION file; `Built:` is added by R CMD INSTALL).
    const JSONLITE: &str = "Package: jsonlite
Version: 1.8.8
Title: A Simple and Robust JSON Parser and Generator for R
License: MIT + file LICENSE
Depends: methods
Imports: utils (>= 3.0)
NeedsCompilation: yes
Repository: CRAN
Built: R 4.3.2; x86_64-pc-linux-gnu; 2024-01-10 10:00:00 UTC; unix
";

    #[test]
    fn installed_description() {
        let want = [("jsonlite", "1.8.8", "pkg:cran/jsonlite@1.8.8")];
        assert_packages(
            "usr/local/lib/R/site-library/jsonlite/DESCRIPTION",
            JSONLITE,
            &want,
        );
        assert_packages(
            "opt/R/4.3.2/lib/R/library/jsonlite/DESCRIPTION",
            JSONLITE,
            &want,
        );
        assert_packages(
            "app/renv/library/R-4.3/x86_64-pc-linux-gnu/jsonlite/DESCRIPTION",
            JSONLITE,
            &want,
        );
        // Not in a library, not its directory, not built, a base package: nothing.
        assert_packages("src/jsonlite/DESCRIPTION", JSONLITE, &[]);
        assert_packages("usr/lib/R/library/other/DESCRIPTION", JSONLITE, &[]);
        assert_packages(
            "usr/lib/R/library/jsonlite/DESCRIPTION",
            "Package: jsonlite\nVersion: 1.8.8\n",
            &[],
        );
        assert_packages(
            "usr/lib/R/library/stats/DESCRIPTION",
            "Package: stats\nVersion: 4.3.2\nPriority: base\nBuilt: R 4.3.2; x86_64-pc-linux-gnu; 2024-01-10; unix\n",
            &[],
        );
    }

    /// What `R CMD INSTALL` wrote, and a base package of Debian's R (tests/data/issue18/README.md).
    #[test]
    fn installed_by_r() {
        let demo = include_str!("../../tests/data/issue18/r/bulwarkdemo.DESCRIPTION");
        assert_packages(
            "usr/local/lib/R/site-library/bulwarkdemo/DESCRIPTION",
            demo,
            &[("bulwarkdemo", "0.3.1", "pkg:cran/bulwarkdemo@0.3.1")],
        );
        let stats = include_str!("../../tests/data/issue18/r/stats.DESCRIPTION");
        assert_packages("usr/lib/R/library/stats/DESCRIPTION", stats, &[]);
    }

    #[test]
    fn renv_lock() {
        let lock = r#"{
  "R": {"Version": "4.3.2", "Repositories": [{"Name": "CRAN", "URL": "https://cloud.r-project.org"}]},
  "Packages": {
    "jsonlite": {"Package": "jsonlite", "Version": "1.8.8", "Source": "Repository", "Repository": "CRAN", "Hash": "e1b9c55281c5adc4dd113652d9e26768"},
    "markdown": {"Package": "markdown", "Version": "1.12", "Source": "Repository", "Repository": "RSPM"},
    "Biobase": {"Package": "Biobase", "Version": "2.62.0", "Source": "Bioconductor"},
    "mypkg": {"Package": "mypkg", "Version": "0.1.0", "Source": "GitHub", "RemoteUsername": "me"}
  }
}"#;
        assert_packages(
            "app/renv.lock",
            lock,
            &[
                ("jsonlite", "1.8.8", "pkg:cran/jsonlite@1.8.8"),
                ("markdown", "1.12", "pkg:cran/markdown@1.12"),
            ],
        );
    }

    #[test]
    fn malformed_r_files() {
        assert_malformed("renv.lock", "{\"Packages\": ");
        assert_malformed("renv.lock", "{\"R\": {}}");
        assert_malformed(
            "usr/lib/R/site-library/x/DESCRIPTION",
            "Title: no package\n",
        );
    }
}
