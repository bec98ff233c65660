//! Differential tests: every pair recorded from the ecosystem's own
//! implementation (see `tests/vectors/generate.py` and the header line of
//! each `.tsv`) must compare the same here.

use std::cmp::Ordering;
use std::path::PathBuf;

use bulwark_version::{compare, parse_check, Scheme};

fn vectors_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/vectors")
}

fn lines(name: &str) -> Vec<String> {
    let path = vectors_dir().join(name);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    text.lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_string)
        .collect()
}

/// Checks every row of `<scheme>.tsv`; returns the number of rows.
fn check_scheme(scheme: Scheme, strict: bool) -> usize {
    let n = check_file(scheme, &format!("{}.tsv", scheme.name()), strict);
    assert!(n >= 40, "{scheme}: only {n} vectors");
    n
}

/// Checks every `a<TAB>b<TAB>sign` row of one file; returns the number of rows.
fn check_file(scheme: Scheme, file: &str, strict: bool) -> usize {
    let rows = lines(file);
    let mut failures = vec![];
    for row in &rows {
        let mut f = row.split('\t');
        let (a, b, want) = (
            f.next().expect("a"),
            f.next().expect("b"),
            f.next().expect("result"),
        );
        let want = match want {
            "-1" => Ordering::Less,
            "0" => Ordering::Equal,
            "1" => Ordering::Greater,
            other => panic!("bad expected value {other:?} in {row:?}"),
        };
        match compare(scheme, a, b) {
            Ok(got) if got == want => {}
            got => failures.push(format!("{a:?} vs {b:?}: reference {want:?}, got {got:?}")),
        }
        // Antisymmetry comes for free from the reference answer, except for
        // PHP, whose version_compare is not antisymmetric for '#' parts.
        match compare(scheme, b, a) {
            _ if scheme == Scheme::Composer => {}
            Ok(got) if got == want.reverse() => {}
            got => failures.push(format!(
                "{b:?} vs {a:?} (swapped): reference {:?}, got {got:?}",
                want.reverse()
            )),
        }
        if strict {
            for v in [a, b] {
                if let Err(e) = parse_check(scheme, v) {
                    failures.push(format!(
                        "{v:?} accepted by the reference, rejected here: {e}"
                    ));
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{scheme} ({file}): {} of {} rows disagree with the reference:\n{}",
        failures.len(),
        rows.len(),
        failures
            .iter()
            .take(40)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
    assert!(!rows.is_empty(), "{file}: no vectors");
    rows.len()
}

/// Strings the reference implementation refused must be refused here.
fn check_invalid(scheme: Scheme) {
    let rows = lines(&format!("{}.invalid", scheme.name()));
    let accepted: Vec<&String> = rows
        .iter()
        // Deliberate extension: Go versions without the `v` (as OSV writes
        // them) are read as if they had it.
        .filter(|v| scheme != Scheme::Go || v.starts_with('v'))
        .filter(|v| parse_check(scheme, v).is_ok())
        .collect();
    assert!(
        accepted.is_empty(),
        "{scheme}: {} of {} strings rejected by the reference are accepted here: {:?}",
        accepted.len(),
        rows.len(),
        accepted.iter().take(40).collect::<Vec<_>>()
    );
    for v in rows
        .iter()
        .filter(|v| !accepted.contains(v) && parse_check(scheme, v).is_err())
    {
        assert!(
            compare(scheme, v, "1.0.0").is_err(),
            "{scheme}: compare accepted {v:?}, which parse_check rejects"
        );
    }
}

#[test]
fn dpkg_matches_dpkg_compare_versions() {
    check_scheme(Scheme::Dpkg, false);
}

#[test]
fn rpm_matches_rpmvercmp() {
    check_scheme(Scheme::Rpm, false);
}

#[test]
fn rpm_matches_rpm_test_suite() {
    let n = check_file(Scheme::Rpm, "rpm_upstream.tsv", false);
    assert!(n >= 90, "rpm: only {n} of rpmvercmp.at's comparisons");
}

#[test]
fn dpkg_matches_dpkg_test_suite() {
    let n = check_file(Scheme::Dpkg, "dpkg_upstream.tsv", false);
    assert!(n >= 20, "dpkg: only {n} of t-version.c's comparisons");
    let padded = ["  \t0:0-1", "0:0-1\t  ", "\t  0:0-1  \t"];
    for v in padded {
        assert_eq!(
            compare(Scheme::Dpkg, v, "0-1"),
            Ok(Ordering::Equal),
            "{v:?}"
        );
    }
    for v in lines("dpkg_upstream.valid")
        .iter()
        .map(String::as_str)
        .chain(padded)
    {
        if let Err(e) = parse_check(Scheme::Dpkg, v) {
            panic!("{v:?} is valid for dpkg, rejected here: {e}");
        }
    }
    let invalid = lines("dpkg_upstream.invalid");
    assert!(invalid.len() >= 50);
    for v in &invalid {
        assert!(
            parse_check(Scheme::Dpkg, v).is_err(),
            "{v:?} is invalid for dpkg, accepted here"
        );
    }
}

#[test]
fn apk_matches_apk_tools_test_data() {
    let n = check_scheme(Scheme::Apk, false);
    assert!(n >= 700, "apk: only {n} of version.data's comparisons");
}

/// apk-tools' validity checks: `apk.valid` must pass `parse_check`, and
/// `apk.invalid` must fail it (while still being comparable, as in apk).
#[test]
fn apk_validity_matches_apk_tools_test_data() {
    let valid = lines("apk.valid");
    let invalid = lines("apk.invalid");
    assert!(valid.len() >= 5 && invalid.len() >= 20);
    for v in &valid {
        if let Err(e) = parse_check(Scheme::Apk, v) {
            panic!("{v:?} is valid for apk-tools, rejected here: {e}");
        }
    }
    for v in &invalid {
        assert!(
            parse_check(Scheme::Apk, v).is_err(),
            "{v:?} is invalid for apk-tools, accepted here"
        );
        assert!(compare(Scheme::Apk, v, "1.0").is_ok());
    }
}

#[test]
fn pep440_matches_packaging() {
    check_scheme(Scheme::Pep440, true);
    check_invalid(Scheme::Pep440);
}

#[test]
fn semver_matches_npm_semver() {
    check_scheme(Scheme::SemVer, true);
    check_invalid(Scheme::SemVer);
}

#[test]
fn go_matches_x_mod_semver() {
    check_scheme(Scheme::Go, true);
    check_invalid(Scheme::Go);
}

#[test]
fn maven_matches_comparable_version() {
    check_scheme(Scheme::Maven, false);
}

#[test]
fn maven_matches_comparable_version_test() {
    let n = check_file(Scheme::Maven, "maven_upstream.tsv", false);
    assert!(
        n >= 1000,
        "maven: only {n} of ComparableVersionTest's comparisons"
    );
}

#[test]
fn rubygems_matches_gem_version() {
    check_scheme(Scheme::RubyGems, true);
    check_invalid(Scheme::RubyGems);
}

#[test]
fn nuget_matches_nuget_versioning_tests() {
    check_scheme(Scheme::NuGet, true);
}

#[test]
fn composer_matches_php_version_compare() {
    check_scheme(Scheme::Composer, false);
}
