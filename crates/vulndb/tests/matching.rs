mod common;

use std::sync::OnceLock;

use bulwark_types::{Ecosystem, Severity};
use bulwark_vulndb::{
    import_paths, match_packages, FindingStatus, MatchOptions, MatchOutcome, NoProgress, Store,
};
use common::*;

/// One store built from all of tests/data, shared by the tests (read-only).
fn store_dir() -> &'static std::path::Path {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("db");
        let summary = import_paths(&db, &[data()], &NoProgress).unwrap();
        assert!(
            summary
                .sources
                .iter()
                .any(|s| s.name == "kev" && s.counts.kev == 9),
            "{summary:#?}"
        );
        dir
    })
    .path()
}

fn run(os: Option<&bulwark_types::OsRelease>, pkgs: &[bulwark_types::Package]) -> MatchOutcome {
    let store = Store::open(&store_dir().join("db")).unwrap();
    match_packages(&store, os, pkgs, &MatchOptions::default())
}

fn ids(o: &MatchOutcome) -> Vec<String> {
    o.findings.iter().flat_map(|f| f.ids.clone()).collect()
}

#[test]
fn requests_before_and_after_fix() {
    let o = run(None, &[pkg(Ecosystem::PyPI, "requests", "2.19.0")]);
    let f = o
        .findings
        .iter()
        .find(|f| f.id == "CVE-2018-18074")
        .expect("CVE-2018-18074");
    assert!(f.ids.contains(&"PYSEC-2018-28".to_string()));
    assert!(f.ids.contains(&"GHSA-x84v-xcm2-53pg".to_string()));
    assert_eq!(f.fixed_versions, vec!["2.20.0"]);
    assert_eq!(f.status, FindingStatus::Fixed);
    assert_eq!(f.package.layer_index, 2);
    let o = run(None, &[pkg(Ecosystem::PyPI, "requests", "2.20.0")]);
    assert!(!ids(&o).contains(&"CVE-2018-18074".to_string()));
}

#[test]
fn jinja2_and_urllib3() {
    let o = run(None, &[pkg(Ecosystem::PyPI, "Jinja2", "2.10")]);
    let all = ids(&o);
    assert!(
        all.contains(&"PYSEC-2021-66".into()) && all.contains(&"PYSEC-2019-217".into()),
        "{all:?}"
    );
    assert!(!all.contains(&"PYSEC-2014-8".into()));
    // One finding per flaw: ids merged, CVE primary.
    assert!(o.findings.iter().all(|f| f.id.starts_with("CVE-")));
    let o = run(None, &[pkg(Ecosystem::PyPI, "urllib3", "1.23")]);
    let all = ids(&o);
    assert!(
        all.contains(&"PYSEC-2019-132".into()) && all.contains(&"PYSEC-2023-192".into()),
        "{all:?}"
    );
    assert!(!all.contains(&"PYSEC-2018-32".into()), "fixed in 1.23");
}

#[test]
fn npm_lodash() {
    let o = run(None, &[pkg(Ecosystem::Npm, "lodash", "4.17.15")]);
    let all = ids(&o);
    assert!(all.contains(&"GHSA-p6mc-m468-83gw".into()), "{all:?}");
    assert!(
        all.contains(&"GHSA-29mw-wpgm-hmr9".into()) || all.contains(&"GHSA-35jh-r3h4-6jhm".into()),
        "{all:?}"
    );
    let f = o
        .findings
        .iter()
        .find(|f| f.ids.contains(&"GHSA-p6mc-m468-83gw".into()))
        .unwrap();
    assert_ne!(f.severity, Severity::Unknown);
}

#[test]
fn smallvec_rustsec() {
    let o = run(None, &[pkg(Ecosystem::Cargo, "smallvec", "1.6.0")]);
    assert!(
        ids(&o).contains(&"RUSTSEC-2021-0003".into()),
        "{:?}",
        ids(&o)
    );
    let o = run(None, &[pkg(Ecosystem::Cargo, "smallvec", "1.6.1")]);
    assert!(!ids(&o).contains(&"RUSTSEC-2021-0003".into()));
}

#[test]
fn go_stdlib() {
    let o = run(None, &[pkg(Ecosystem::Go, "stdlib", "v1.19.8")]);
    let all = ids(&o);
    for id in ["GO-2023-1751", "GO-2023-1840", "GO-2023-1878"] {
        assert!(all.contains(&id.to_string()), "{id} in {all:?}");
    }
    let o = run(None, &[pkg(Ecosystem::Go, "stdlib", "v1.20.6")]);
    assert!(o.findings.is_empty(), "{:?}", ids(&o));
}

#[test]
fn withdrawn_ignored() {
    // GO-2025-3543 is withdrawn in the data.
    let o = run(
        None,
        &[pkg(
            Ecosystem::Go,
            "github.com/opencontainers/runc",
            "v1.0.0",
        )],
    );
    assert!(!ids(&o).contains(&"GO-2025-3543".into()));
}

#[test]
fn language_package_never_crosses_ecosystems() {
    // lodash exists only as npm; as PyPI or crates.io it must not match.
    let o = run(
        None,
        &[
            pkg(Ecosystem::PyPI, "lodash", "4.17.15"),
            pkg(Ecosystem::Cargo, "requests", "2.19.0"),
        ],
    );
    assert!(o.findings.is_empty());
    assert!(o.unmatched.is_empty());
}

#[test]
fn log4j_kev_and_epss() {
    let o = run(
        None,
        &[pkg(
            Ecosystem::Maven,
            "org.apache.logging.log4j:log4j-core",
            "2.14.1",
        )],
    );
    let f = o
        .findings
        .iter()
        .find(|f| f.id == "CVE-2021-44228")
        .expect("log4shell");
    let kev = f.kev.as_ref().expect("in KEV");
    assert!(kev.due_date.is_some());
    let epss = f.epss.as_ref().expect("EPSS");
    assert!(epss.score > 0.9);
    assert_eq!(f.severity, Severity::Critical);
    assert!(
        f.priority.reason.starts_with("in CISA KEV (due "),
        "{}",
        f.priority.reason
    );
    assert!(
        f.priority.reason.contains("EPSS 1.00"),
        "{}",
        f.priority.reason
    );
    assert!(
        f.priority.reason.contains("CVSS 10.0 critical"),
        "{}",
        f.priority.reason
    );
    // KEV findings come first.
    assert!(o.findings[0].kev.is_some());
    // The same artifact as name + purl namespace.
    let mut p = pkg(Ecosystem::Maven, "log4j-core", "2.14.1");
    p.purl.namespace = Some("org.apache.logging.log4j".into());
    assert!(ids(&run(None, &[p])).contains(&"CVE-2021-44228".into()));
}

#[test]
fn debian_through_source_package_with_backports() {
    let bookworm = os("debian", "12");
    let o = run(
        Some(&bookworm),
        &[os_pkg(
            Ecosystem::Deb,
            "libssl3",
            "3.0.11-1~deb12u2",
            "openssl",
            "3.0.11-1~deb12u2",
        )],
    );
    let f = o
        .findings
        .iter()
        .find(|f| f.id == "CVE-2023-5678")
        .expect("CVE-2023-5678");
    assert_eq!(f.fixed_versions, vec!["3.0.13-1~deb12u1"]);
    assert_eq!(f.package.advisory_ecosystem, "Debian:12");
    assert_eq!(f.package.advisory_name, "openssl");
    let o = run(
        Some(&bookworm),
        &[os_pkg(
            Ecosystem::Deb,
            "libssl3",
            "3.0.13-1~deb12u1",
            "openssl",
            "3.0.13-1~deb12u1",
        )],
    );
    assert!(!ids(&o).contains(&"CVE-2023-5678".into()));
    // gnutls28: fixed in 3.7.9-2+deb12u2 on bookworm.
    let o = run(
        Some(&bookworm),
        &[os_pkg(
            Ecosystem::Deb,
            "libgnutls30",
            "3.7.9-2+deb12u1",
            "gnutls28",
            "3.7.9-2+deb12u1",
        )],
    );
    assert!(ids(&o).contains(&"CVE-2024-0553".into()));
    assert!(ids(&o).contains(&"DLA-3740-1".into()));
    // The binary name alone does not match.
    let o = run(
        Some(&bookworm),
        &[pkg(Ecosystem::Deb, "libgnutls30", "3.7.9-2+deb12u1")],
    );
    assert!(o.findings.is_empty());
}

#[test]
fn debian_unfixed_and_not_affected() {
    let bookworm = os("debian", "12");
    let o = run(
        Some(&bookworm),
        &[os_pkg(
            Ecosystem::Deb,
            "libpam0g",
            "1.5.2-6+deb12u1",
            "pam",
            "1.5.2-6+deb12u1",
        )],
    );
    let f = o
        .findings
        .iter()
        .find(|f| f.id == "CVE-2024-22365")
        .expect("pam no-dsa");
    assert_eq!(f.status, FindingStatus::Unfixed);
    assert!(f.status_note.as_deref().unwrap_or("").contains("no-dsa"));
    // xz-utils is <not-affected> in bookworm.
    let xz = os_pkg(
        Ecosystem::Deb,
        "liblzma5",
        "5.4.1-0.2",
        "xz-utils",
        "5.4.1-0.2",
    );
    assert!(
        !ids(&run(Some(&bookworm), std::slice::from_ref(&xz))).contains(&"CVE-2024-3094".into())
    );
    let store = Store::open(&store_dir().join("db")).unwrap();
    let o = match_packages(
        &store,
        Some(&bookworm),
        &[xz],
        &MatchOptions {
            include_not_affected: true,
        },
    );
    let f = o.findings.iter().find(|f| f.id == "CVE-2024-3094").unwrap();
    assert_eq!(f.status, FindingStatus::NotAffected);
}

#[test]
fn debian_dsa_list_fixes_bullseye() {
    let bullseye = os("debian", "11");
    let o = run(
        Some(&bullseye),
        &[os_pkg(
            Ecosystem::Deb,
            "libssl1.1",
            "1.1.1n-0+deb11u3",
            "openssl",
            "1.1.1n-0+deb11u3",
        )],
    );
    let f = o
        .findings
        .iter()
        .find(|f| f.id == "CVE-2023-0286")
        .expect("DSA-5343-1 CVE");
    assert!(f.ids.contains(&"DSA-5343-1".into()));
    assert_eq!(f.fixed_versions, vec!["1.1.1n-0+deb11u4"]);
}

#[test]
fn alpine_through_origin() {
    let alpine = os("alpine", "3.22.1");
    let o = run(
        Some(&alpine),
        &[os_pkg(
            Ecosystem::Apk,
            "gnutls-utils",
            "3.8.4-r0",
            "gnutls",
            "3.8.4-r0",
        )],
    );
    let f = o
        .findings
        .iter()
        .find(|f| f.id == "CVE-2024-28834")
        .expect("CVE-2024-28834");
    assert!(f.ids.contains(&"GNUTLS-SA-2023-12-04".into()));
    assert_eq!(f.fixed_versions, vec!["3.8.5-r0"]);
    assert_eq!(f.package.advisory_ecosystem, "Alpine:v3.22");
    let o = run(
        Some(&alpine),
        &[os_pkg(
            Ecosystem::Apk,
            "gnutls-utils",
            "3.8.5-r0",
            "gnutls",
            "3.8.5-r0",
        )],
    );
    assert!(!ids(&o).contains(&"CVE-2024-28834".into()));
    // Another Alpine release has no data here: nothing matches.
    let o = run(
        Some(&os("alpine", "3.19.1")),
        &[os_pkg(
            Ecosystem::Apk,
            "gnutls",
            "3.8.4-r0",
            "gnutls",
            "3.8.4-r0",
        )],
    );
    assert!(o.findings.is_empty());
}

/// Issue 12.4: one package list mixing distributions (an SBOM of several images). Each OS
/// package is matched in the release its purl's `distro` qualifier names; the given OS is
/// only the fallback for purls without one.
#[test]
fn each_os_package_is_matched_in_its_own_purls_distro() {
    let with_distro = |mut p: bulwark_types::Package, distro: &str| {
        p.purl = p.purl.with_qualifier("distro", distro);
        p
    };
    let deb = with_distro(
        os_pkg(
            Ecosystem::Deb,
            "libssl3",
            "3.0.11-1~deb12u2",
            "openssl",
            "3.0.11-1~deb12u2",
        ),
        "debian-12",
    );
    let apk = with_distro(
        os_pkg(
            Ecosystem::Apk,
            "gnutls-utils",
            "3.8.4-r0",
            "gnutls",
            "3.8.4-r0",
        ),
        "alpine-3.22.1",
    );
    // No qualifier: the fallback OS decides.
    let plain = os_pkg(Ecosystem::Apk, "gnutls", "3.8.4-r0", "gnutls", "3.8.4-r0");
    for fallback in [os("debian", "12"), os("alpine", "3.22.1")] {
        let o = run(Some(&fallback), &[deb.clone(), apk.clone(), plain.clone()]);
        let found = |name: &str, id: &str| {
            o.findings
                .iter()
                .find(|f| f.package.name == name && f.id == id)
                .map(|f| f.package.advisory_ecosystem.clone())
        };
        assert_eq!(
            found("libssl3", "CVE-2023-5678").as_deref(),
            Some("Debian:12"),
            "fallback {}: {:?}",
            fallback.id,
            o.unmatched
        );
        assert_eq!(
            found("gnutls-utils", "CVE-2024-28834").as_deref(),
            Some("Alpine:v3.22"),
            "fallback {}: {:?}",
            fallback.id,
            o.unmatched
        );
        let plain_unmatched = o
            .unmatched
            .iter()
            .any(|(p, why)| p.name == "gnutls" && why.contains("package type does not match"));
        assert_eq!(
            plain_unmatched,
            fallback.id == "debian",
            "{:?}",
            o.unmatched
        );
    }
}

#[test]
fn unmatched_reasons() {
    let o = run(
        None,
        &[
            pkg(Ecosystem::PyPI, "requests", "not a version!"),
            os_pkg(Ecosystem::Deb, "libc6", "2.36-9", "glibc", "2.36-9"),
        ],
    );
    assert_eq!(o.unmatched.len(), 2, "{:?}", o.unmatched);
    assert!(
        o.unmatched[0].1.contains("cannot be compared"),
        "{}",
        o.unmatched[0].1
    );
    assert!(
        o.unmatched[1].1.contains("OS is unknown"),
        "{}",
        o.unmatched[1].1
    );
}

#[test]
fn priority_order() {
    let o = run(
        None,
        &[
            pkg(Ecosystem::PyPI, "urllib3", "1.23"),
            pkg(
                Ecosystem::Maven,
                "org.apache.logging.log4j:log4j-core",
                "2.14.1",
            ),
            pkg(Ecosystem::Npm, "lodash", "4.17.15"),
        ],
    );
    for w in o.findings.windows(2) {
        assert_ne!(w[0].priority_cmp(&w[1]), std::cmp::Ordering::Greater);
    }
    let kev_count = o.findings.iter().filter(|f| f.kev.is_some()).count();
    assert!(o.findings[..kev_count].iter().all(|f| f.kev.is_some()));
}

#[test]
fn match_keys_name_where_each_package_is_looked_up() {
    use bulwark_vulndb::{match_keys, MatchKey};
    let key = |e: &str, n: &str, prefix: bool| MatchKey {
        ecosystem: e.into(),
        name: n.into(),
        prefix,
    };
    // Language packages: their own ecosystem, the name normalised as advisories store it.
    assert_eq!(
        match_keys(None, &pkg(Ecosystem::PyPI, "Jinja2", "2.0")).unwrap(),
        vec![key("PyPI", "jinja2", false)]
    );
    // Debian: the release's ecosystem and the source package.
    let debian = os("debian", "12");
    let libc6 = os_pkg(Ecosystem::Deb, "libc6", "2.36-9", "glibc", "2.36-9");
    assert_eq!(
        match_keys(Some(&debian), &libc6).unwrap(),
        vec![key("Debian:12", "glibc", false)]
    );
    // Red Hat: a prefix over the product streams.
    let rhel = os("rhel", "9.4");
    let keys = match_keys(Some(&rhel), &pkg(Ecosystem::Rpm, "openssl", "3.0.7-27.el9")).unwrap();
    assert_eq!(
        keys,
        vec![key("Red Hat:enterprise_linux:9", "openssl", true)]
    );
    assert!(keys[0].covers("Red Hat:enterprise_linux:9::appstream", "openssl"));
    assert!(!keys[0].covers("Red Hat:enterprise_linux:8::appstream", "openssl"));
    assert!(!key("Debian:12", "glibc", false).covers("Debian:11", "glibc"));
    // Why a package cannot be matched: the same reason `unmatched` gives.
    let no_os = match_keys(None, &libc6).unwrap_err();
    let outcome = run(None, std::slice::from_ref(&libc6));
    assert_eq!(outcome.unmatched[0].1, no_os);
}

#[test]
fn indexed_match_gives_each_package_its_full_match_findings() {
    use bulwark_vulndb::try_match_indexed;
    let store = Store::open(&store_dir().join("db")).unwrap();
    let pkgs = vec![
        pkg(Ecosystem::PyPI, "requests", "2.2.0"),
        pkg(Ecosystem::PyPI, "requests", "2.32.0"),
        pkg(Ecosystem::Npm, "lodash", "4.17.4"),
        os_pkg(Ecosystem::Deb, "libc6", "2.36-9", "glibc", "2.36-9"),
    ];
    let full = run(None, &pkgs);
    let indexed = try_match_indexed(
        &store,
        None,
        &pkgs,
        &[2, 0, 3, 99],
        &MatchOptions::default(),
    )
    .unwrap();
    for i in [0usize, 2] {
        let mut want: Vec<String> = full
            .findings
            .iter()
            .filter(|f| f.package.purl == pkgs[i].purl)
            .map(|f| f.id.clone())
            .collect();
        let mut got: Vec<String> = indexed.findings[&i].iter().map(|f| f.id.clone()).collect();
        want.sort();
        got.sort();
        assert!(!got.is_empty());
        assert_eq!(got, want, "package {i}");
    }
    // Not asked for: absent; no OS for an OS package: unmatched with the reason.
    assert!(!indexed.findings.contains_key(&1));
    assert!(
        indexed.unmatched[&3].contains("OS is unknown"),
        "{:?}",
        indexed.unmatched
    );
    assert_eq!(indexed.findings.len(), 2);
}

/// Issue 18: Mariner/Azure Linux rpm packages are matched in OSV's `Mariner`/`Azure Linux`
/// releases; ecosystems no feed covers (Homebrew, Nix, WordPress...) are unmatched with the
/// reason, never looked up as if they were OS packages; GitHub Actions and Bitnami match in
/// their OSV ecosystems.
#[test]
fn issue_18_new_ecosystems_have_their_advisory_keys() {
    use bulwark_vulndb::{match_keys, MatchKey};
    let key = |e: &str, n: &str| MatchKey {
        ecosystem: e.into(),
        name: n.into(),
        prefix: false,
    };
    let openssl = pkg(Ecosystem::Rpm, "openssl", "1.1.1k-27.cm2");
    assert_eq!(
        match_keys(Some(&os("mariner", "2.0")), &openssl).unwrap(),
        vec![key("Mariner:2.0", "openssl")]
    );
    assert_eq!(
        match_keys(Some(&os("azurelinux", "3.0")), &openssl).unwrap(),
        vec![key("Azure Linux:3.0", "openssl")]
    );
    assert_eq!(
        match_keys(
            None,
            &pkg(Ecosystem::GitHubActions, "actions/checkout", "v4")
        )
        .unwrap(),
        vec![key("GitHub Actions", "actions/checkout")]
    );
    let pinned = pkg(
        Ecosystem::GitHubActions,
        "actions/checkout",
        "b4ffde65f46336ab88eb53be808477a3936bae11",
    );
    assert!(match_keys(None, &pinned).unwrap_err().contains("commit"));
    assert_eq!(
        match_keys(None, &pkg(Ecosystem::Bitnami, "redis", "7.2.4")).unwrap(),
        vec![key("Bitnami", "redis")]
    );
    for eco in [
        Ecosystem::Brew,
        Ecosystem::Nix,
        Ecosystem::Snap,
        Ecosystem::WordPress,
        Ecosystem::Pecl,
        Ecosystem::Generic,
    ] {
        let why = match_keys(Some(&os("debian", "12")), &pkg(eco, "x", "1.0")).unwrap_err();
        assert!(why.contains("no advisory source"), "{eco}: {why}");
    }
    // Distributions without a feed say so.
    let why = match_keys(
        Some(&os("arch", "")),
        &pkg(Ecosystem::Alpm, "glibc", "2.39-1"),
    )
    .unwrap_err();
    assert!(why.contains("arch"), "{why}");
}
