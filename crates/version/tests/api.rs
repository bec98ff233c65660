//! OSV range evaluation, ecosystem mapping, documented odd cases, and
//! malformed input (errors, never panics).

use std::cmp::Ordering::{self, Equal, Greater, Less};

use bulwark_version::{compare, in_osv_range, parse_check, RangeEvent, Scheme, VersionError};

fn intro(v: &str) -> RangeEvent {
    RangeEvent::Introduced(v.into())
}
fn fixed(v: &str) -> RangeEvent {
    RangeEvent::Fixed(v.into())
}
fn last(v: &str) -> RangeEvent {
    RangeEvent::LastAffected(v.into())
}
fn limit(v: &str) -> RangeEvent {
    RangeEvent::Limit(v.into())
}

fn affected(scheme: Scheme, v: &str, events: &[RangeEvent]) -> bool {
    in_osv_range(scheme, v, events).unwrap_or_else(|e| panic!("{v}: {e}"))
}

#[test]
fn introduced_inclusive_fixed_exclusive() {
    let ev = [intro("1.2.0"), fixed("1.4.0")];
    let s = Scheme::SemVer;
    assert!(!affected(s, "1.1.9", &ev));
    assert!(affected(s, "1.2.0", &ev));
    assert!(affected(s, "1.3.5", &ev));
    assert!(affected(s, "1.4.0-rc.1", &ev));
    assert!(!affected(s, "1.4.0", &ev));
    assert!(!affected(s, "2.0.0", &ev));
}

#[test]
fn zero_means_from_the_beginning() {
    let ev = [intro("0"), fixed("2.0")];
    assert!(affected(Scheme::Pep440, "0.0.1.dev0", &ev));
    assert!(affected(Scheme::Pep440, "1.9", &ev));
    assert!(!affected(Scheme::Pep440, "2.0", &ev));
    // "0" is special even where it is not a valid version of the scheme.
    assert!(affected(
        Scheme::Go,
        "v0.0.0-20200101000000-abcdef123456",
        &[intro("0")]
    ));
    assert!(affected(
        Scheme::Dpkg,
        "1:0.1-1",
        &[intro("0"), fixed("1:2.0-1")]
    ));
}

#[test]
fn last_affected_inclusive() {
    let ev = [intro("1.0"), last("1.5")];
    let s = Scheme::Maven;
    assert!(affected(s, "1.5", &ev));
    assert!(affected(s, "1.5.0", &ev));
    assert!(!affected(s, "1.5.1", &ev));
    assert!(!affected(s, "1.5-sp", &ev));
    assert!(affected(s, "1.5-SNAPSHOT", &ev));
    assert!(!affected(s, "1.0-rc1", &ev));
}

#[test]
fn limit_is_exclusive_upper_bound_of_the_whole_range() {
    let ev = [intro("0"), limit("2.0.0")];
    assert!(affected(Scheme::SemVer, "1.9.9", &ev));
    assert!(!affected(Scheme::SemVer, "2.0.0", &ev));
    assert!(!affected(Scheme::SemVer, "3.0.0", &ev));
    // Several limits: below any one of them is enough.
    let ev = [intro("1.0.0"), limit("1.5.0"), limit("3.0.0")];
    assert!(affected(Scheme::SemVer, "2.0.0", &ev));
    assert!(!affected(Scheme::SemVer, "3.0.0", &ev));
    // "*" is no limit.
    assert!(affected(
        Scheme::SemVer,
        "9.0.0",
        &[intro("1.0.0"), limit("*")]
    ));
    // A limit alone affects nothing.
    assert!(!affected(Scheme::SemVer, "1.0.0", &[limit("2.0.0")]));
}

#[test]
fn multiple_introduced_fixed_pairs() {
    let ev = [
        intro("1.0"),
        fixed("1.2"),
        intro("2.0"),
        fixed("2.3.1"),
        intro("3.0"),
    ];
    let s = Scheme::Pep440;
    for (v, want) in [
        ("0.9", false),
        ("1.0", true),
        ("1.1.9", true),
        ("1.2", false),
        ("1.9", false),
        ("2.0", true),
        ("2.3", true),
        ("2.3.1", false),
        ("2.9", false),
        ("3.0", true),
        ("100.0", true),
    ] {
        assert_eq!(affected(s, v, &ev), want, "{v}");
    }
}

#[test]
fn unsorted_events_are_sorted_first() {
    let sorted = [
        intro("1.0-1"),
        fixed("1.2-1"),
        intro("2.0-1"),
        fixed("2.1-1"),
    ];
    let unsorted = [
        fixed("2.1-1"),
        intro("2.0-1"),
        fixed("1.2-1"),
        intro("1.0-1"),
    ];
    for v in [
        "0.9-1", "1.0-1", "1.1-5", "1.2-1", "1.5", "2.0-1", "2.0-9", "2.1-1", "3",
    ] {
        assert_eq!(
            affected(Scheme::Dpkg, v, &sorted),
            affected(Scheme::Dpkg, v, &unsorted),
            "{v}"
        );
    }
    assert!(affected(Scheme::Dpkg, "2.0-9", &unsorted));
    assert!(!affected(Scheme::Dpkg, "1.5", &unsorted));
    // "0" sorts first wherever it is written.
    let ev = [fixed("1.0"), intro("0")];
    assert!(affected(Scheme::Rpm, "0.5", &ev));
    assert!(!affected(Scheme::Rpm, "1.0", &ev));
}

#[test]
fn scheme_decides_the_order() {
    // 1.0~rc1 is before 1.0 in dpkg, so it is not yet fixed.
    let ev = [intro("0"), fixed("1.0")];
    assert!(affected(Scheme::Dpkg, "1.0~rc1", &ev));
    assert!(affected(Scheme::Rpm, "1.0~rc1", &ev));
    assert!(affected(
        Scheme::Apk,
        "0.9_rc1",
        &[intro("0"), fixed("0.9")]
    ));
    assert!(!affected(Scheme::Apk, "1.0-r1", &ev));
    // SEMVER ranges use SemVer whatever the ecosystem.
    assert_eq!(
        Scheme::for_osv_range("SEMVER", "PyPI"),
        Some(Scheme::SemVer)
    );
    assert_eq!(
        Scheme::for_osv_range("ECOSYSTEM", "PyPI"),
        Some(Scheme::Pep440)
    );
    assert_eq!(Scheme::for_osv_range("GIT", "PyPI"), None);
}

#[test]
fn no_events_or_no_introduced_is_not_affected() {
    assert!(!affected(Scheme::SemVer, "1.0.0", &[]));
    assert!(!affected(Scheme::SemVer, "1.0.0", &[fixed("2.0.0")]));
}

#[test]
fn range_errors_name_the_bad_string() {
    let err = in_osv_range(Scheme::Pep440, "1.0", &[intro("0"), fixed("not a version")])
        .expect_err("bad fixed");
    let msg = err.to_string();
    assert!(
        msg.contains("pep440") && msg.contains("not a version"),
        "{msg}"
    );
    assert!(in_osv_range(Scheme::SemVer, "1.0", &[intro("0")]).is_err());
    assert!(matches!(
        in_osv_range(Scheme::Go, "", &[intro("0")]),
        Err(VersionError::Empty { scheme: Scheme::Go })
    ));
}

#[test]
fn osv_ecosystem_names() {
    let cases = [
        ("Debian", Some(Scheme::Dpkg)),
        ("Debian:12", Some(Scheme::Dpkg)),
        ("Ubuntu:22.04:LTS", Some(Scheme::Dpkg)),
        ("Ubuntu:Pro:18.04:LTS", Some(Scheme::Dpkg)),
        ("Alpine:v3.19", Some(Scheme::Apk)),
        ("Wolfi", Some(Scheme::Apk)),
        ("Red Hat", Some(Scheme::Rpm)),
        ("Red Hat:enterprise_linux:9::appstream", Some(Scheme::Rpm)),
        ("Rocky Linux:9", Some(Scheme::Rpm)),
        ("AlmaLinux:8", Some(Scheme::Rpm)),
        ("SUSE:Linux Enterprise Server 15 SP5", Some(Scheme::Rpm)),
        ("openSUSE:Leap 15.5", Some(Scheme::Rpm)),
        ("PyPI", Some(Scheme::Pep440)),
        ("npm", Some(Scheme::SemVer)),
        ("crates.io", Some(Scheme::SemVer)),
        ("Go", Some(Scheme::Go)),
        ("Maven", Some(Scheme::Maven)),
        ("RubyGems", Some(Scheme::RubyGems)),
        ("NuGet", Some(Scheme::NuGet)),
        ("Packagist", Some(Scheme::Composer)),
        ("pypi", Some(Scheme::Pep440)),
        ("CRAN", Some(Scheme::Generic)),
        ("OSS-Fuzz", None),
        ("Linux", None),
        ("", None),
        ("NoSuchEcosystem", None),
    ];
    for (name, want) in cases {
        assert_eq!(Scheme::for_osv_ecosystem(name), want, "{name:?}");
    }
}

fn cmp(s: Scheme, a: &str, b: &str) -> Ordering {
    compare(s, a, b).unwrap_or_else(|e| panic!("{a} vs {b}: {e}"))
}

#[test]
fn documented_odd_cases() {
    use Scheme::*;
    let cases: &[(Scheme, &str, &str, Ordering)] = &[
        (Maven, "1.0-alpha1", "1.0-SNAPSHOT", Less),
        (Maven, "1.0-SNAPSHOT", "1.0", Less),
        (Maven, "1.0", "1.0-sp", Less),
        (Maven, "1.0-sp", "1.0.1", Less),
        (Maven, "1.0-release", "1", Equal),
        (SemVer, "=1.2.3", "1.2.3", Equal),
        (SemVer, "=v1.2.3", "v1.2.3", Equal),
        (SemVer, "1.0.0+build.1", "1.0.0+build.2", Equal),
        (Go, "1.2.3", "v1.2.3", Equal),
        (Go, "v2.0.0+incompatible", "v2.0.0", Equal),
        (Go, "v0.0.0-20200101000000-abcdef123456", "v0.0.1", Less),
        (Pep440, "1.0", "1.0.0", Equal),
        (Pep440, "1.0-1", "1.0.post1", Equal),
        (Pep440, "V1.0RC1", "1.0c1", Equal),
        (RubyGems, "1.0.a", "1.0", Less),
        (NuGet, "1.0.0.1", "1.0.0", Greater),
        (NuGet, "1.0.0-BETA", "1.0.0-beta", Equal),
        (Composer, "v1.0.0-dev", "1.0.0-alpha", Less),
        (Composer, "1.0.0-RC1", "1.0.0", Less),
        (Composer, "1.0.0", "1.0.0-patch1", Less),
        (Dpkg, "1.0~rc1", "1.0", Less),
        (Rpm, "1.0^git1", "1.0", Greater),
        (Rpm, "1.0^git1", "1.0.1", Less),
        (Apk, "1.0_p1", "1.0", Greater),
        (Apk, "1.0-r1", "1.0", Greater),
        (Apk, "1.1_rc1", "1.1", Less),
        (Apk, "1.05", "1.5", Less),
        (Generic, "1.0", "1.0.0", Equal),
        (Generic, "v1.2", "1.10", Less),
        (Generic, "1.0rc1", "1.0", Less),
        (Generic, "1.0.1", "1.0", Greater),
        (Generic, "1.0-beta", "1.0-alpha", Greater),
    ];
    for &(s, a, b, want) in cases {
        assert_eq!(cmp(s, a, b), want, "{s}: {a} vs {b}");
        assert_eq!(cmp(s, b, a), want.reverse(), "{s}: {b} vs {a}");
    }
}

/// Issue 12 item 5: apk edge cases where bulwark disagreed with apk-tools
/// 3.0 (all are lines of apk-tools' test/unit/version.data or follow from
/// its src/version.c).
#[test]
fn issue_12_apk_agrees_with_apk_tools_3() {
    let cases: &[(&str, &str, Ordering)] = &[
        // `_pre`/`_rc` below a release whose last component is 0 (apk-tools
        // 2.x put `1.0_rc1` above `1.0`).
        ("6.0_pre1", "6.0", Less),
        ("1.0_rc1", "1.0", Less),
        (
            "1.0.0_pre20191002222144-r0",
            "1.0.0_pre20210530193627-r0",
            Less,
        ),
        // A leading zero after `.` makes the component a string (Gentoo).
        ("1.0", "1.00", Less),
        ("1.01", "1.010", Less),
        ("1.05", "1.5", Less),
        ("006", "6", Equal),
        // `~hash` commit suffixes, between suffixes and the revision.
        ("1.0~1234", "1.0~2345", Less),
        ("1.0", "1.0~1234", Less),
        ("1.0~1234-r1", "1.0~2345-r0", Less),
        ("1.0~1234-r1", "1.0~1234-r0", Greater),
        ("1.0_rc1~ab", "1.0", Less),
        // Numbers wrap around at 2^64 as in apk_blob_pull_uint.
        ("18446744073709551617", "1", Equal),
    ];
    for &(a, b, want) in cases {
        assert_eq!(cmp(Scheme::Apk, a, b), want, "apk: {a} vs {b}");
        assert_eq!(cmp(Scheme::Apk, b, a), want.reverse(), "apk: {b} vs {a}");
    }
    for v in ["0.1_pre2~1234abcd", "0.1_git20240101_pre1", "1.0~ab-r2"] {
        parse_check(Scheme::Apk, v).unwrap_or_else(|e| panic!("{v}: {e}"));
    }
    for v in [
        "0.1_pre2~",
        "0.1_pre2~1234abcd_pre1",
        "0.1-r2_pre1",
        "0.1_post1",
        "0.1_",
    ] {
        assert!(parse_check(Scheme::Apk, v).is_err(), "{v} accepted");
    }
}

/// Issue 12 item 5: Maven qualifier ordering of Maven 4's ComparableVersion
/// (MNG-7714 and the combination items of `compat/maven-artifact`).
#[test]
fn issue_12_maven_agrees_with_maven_4() {
    let cases: &[(&str, &str, Ordering)] = &[
        ("1.0.final-redhat", "1.0-sp1-redhat", Less),
        ("1.0.final-redhat", "1.0-sp-1-redhat", Less),
        ("1.0.final-redhat", "1.0-sp.1-redhat", Less),
        ("1ga", "1", Equal),
        ("1FINAL", "1", Equal),
        ("1.final-alpha", "1-alpha", Less),
        ("1-sp", "1-sp1", Less),
        ("1-sp-1", "1-sp1", Equal),
        ("1-alpha2snapshot", "1-alpha2", Less),
        ("1-pom-1", "1-1-snapshot", Less),
        ("1-abc", "1-def", Less),
        ("0.7", "2", Less),
        ("1.0.0.x1", "1.0.0-x2", Less),
        ("1", "\u{0668}", Greater),
        ("1.A", "1.a", Equal),
        // Java types numbers by the length of their text.
        ("0000000000.1", "0.1", Greater),
    ];
    for &(a, b, want) in cases {
        assert_eq!(cmp(Scheme::Maven, a, b), want, "maven: {a} vs {b}");
        assert_eq!(
            cmp(Scheme::Maven, b, a),
            want.reverse(),
            "maven: {b} vs {a}"
        );
    }
    // Maven throws NumberFormatException on these; so do we, as an error.
    for v in ["1\u{1D7E4}", "x-\u{0668}y"] {
        let err = compare(Scheme::Maven, v, "1").expect_err(v);
        assert_eq!(err.scheme(), Scheme::Maven);
        assert!(parse_check(Scheme::Maven, v).is_err());
    }
}

#[test]
fn parse_check_rejects_malformed() {
    use Scheme::*;
    let bad: &[(Scheme, &str)] = &[
        (Dpkg, "1.0 1"),
        (Dpkg, "a1.0"),
        (Dpkg, "1:"),
        (Dpkg, ":1.0"),
        (Dpkg, "x:1.0"),
        (Dpkg, "1.0-"),
        (Dpkg, "99999999999:1"),
        (Rpm, "1.0 beta"),
        (Rpm, "1:-1"),
        (Apk, "1.0bc"),
        (Apk, "1.0_foo"),
        (Apk, "1.0-1"),
        (Pep440, "1.0.0-foo"),
        (Pep440, "1..0"),
        (SemVer, "1.0"),
        (SemVer, "01.0.0"),
        (SemVer, "1.0.0-01"),
        (SemVer, "1.0.0+"),
        (Go, "v1.2-pre"),
        (Go, "v01.0.0"),
        (Go, "vx"),
        (RubyGems, "1.0-"),
        (RubyGems, "a.1"),
        (NuGet, "1.0.0.0.0"),
        (NuGet, "v1.0.0"),
        (NuGet, "1.0.0-01"),
        (NuGet, "1.0.0-beta+"),
        (NuGet, "3000000000.0"),
        (Composer, "dev-master"),
        (Maven, "1.0 beta"),
        (Generic, "beta"),
    ];
    for &(s, v) in bad {
        let err = parse_check(s, v).expect_err(v);
        assert_eq!(err.scheme(), s);
        assert!(err.to_string().contains(s.name()), "{err}");
    }
    for s in Scheme::ALL {
        assert!(matches!(
            parse_check(s, ""),
            Err(VersionError::Empty { .. })
        ));
        assert!(matches!(
            parse_check(s, "  "),
            Err(VersionError::Empty { .. })
        ));
        assert!(compare(s, "", "1.0").is_err());
        assert!(compare(s, "1.0", " ").is_err());
    }
}

#[test]
fn long_input_is_cut_in_errors() {
    let long = "x".repeat(10_000);
    let err = parse_check(Scheme::SemVer, &long).expect_err("too long");
    assert!(err.to_string().len() < 400, "{err}");
}

/// A tiny fixed-seed generator (xorshift64*), so the fuzz loop is
/// reproducible without a dependency.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

const PIECES: &[&str] = &[
    "0",
    "1",
    "9",
    "10",
    "00",
    "007",
    "99999999999999999999999",
    ".",
    "..",
    "-",
    "--",
    "_",
    "+",
    "~",
    "^",
    ":",
    "!",
    "#",
    "v",
    "V",
    "=",
    "a",
    "b",
    "rc",
    "RC",
    "alpha",
    "beta",
    "pre",
    "post",
    "dev",
    "p",
    "pl",
    "r",
    "-r",
    "_p",
    "_rc",
    "sp",
    "ga",
    "snapshot",
    "SNAPSHOT",
    "final",
    "x",
    "Z",
    "é",
    "\u{0663}",
    "\u{212a}",
    " ",
    "\t",
    "\0",
    "\n",
    "*",
    "/",
    "%",
    "ß",
    "İ",
];

#[test]
fn fuzz_never_panics_and_is_consistent() {
    let mut rng = Rng(0x5eed_1234_abcd_0001);
    let mut pool: Vec<String> = Vec::new();
    for _ in 0..3000 {
        let n = 1 + rng.below(8);
        let s: String = (0..n).map(|_| PIECES[rng.below(PIECES.len())]).collect();
        pool.push(s);
    }
    for i in 0..pool.len() {
        let a = &pool[i];
        let b = &pool[rng.below(pool.len())];
        for s in Scheme::ALL {
            let _ = parse_check(s, a);
            let ab = compare(s, a, b);
            let aa = compare(s, a, a);
            if let Ok(o) = aa {
                // Reflexive, except PHP's version_compare on '#' parts.
                if s != Scheme::Composer {
                    assert_eq!(o, Equal, "{s}: {a:?} vs itself");
                }
            }
            if let (Ok(x), Ok(y)) = (ab.clone(), compare(s, b, a)) {
                if s != Scheme::Composer {
                    assert_eq!(x, y.reverse(), "{s}: {a:?} vs {b:?}");
                }
            }
            // A version that parse_check accepts can always be compared.
            if parse_check(s, a).is_ok() {
                assert!(
                    compare(s, a, a).is_ok(),
                    "{s}: {a:?} checks but won't compare"
                );
            }
            let _ = in_osv_range(s, a, &[intro("0"), fixed(b), intro(a), last(b), limit(a)]);
        }
    }
}

/// Found by the fuzz campaign (crates/fuzz, target `version`): a long Maven version nests a
/// list per separator, and parsing, comparing and dropping it recursed until the stack
/// overflowed (an abort, not an error). Over-long versions are now refused by every scheme.
#[test]
fn fuzz_overlong_version_is_an_error_not_a_stack_overflow() {
    let hostile = "1-a".repeat(100_000);
    for s in Scheme::ALL {
        assert!(compare(s, &hostile, "1").is_err(), "{s}");
        assert!(compare(s, "1", &hostile).is_err(), "{s}");
        assert!(parse_check(s, &hostile).is_err(), "{s}");
        assert!(in_osv_range(s, &hostile, &[intro("0")]).is_err(), "{s}");
    }
    let longest_allowed = "1.".repeat(bulwark_version::MAX_VERSION_LEN / 2 - 1) + "1";
    assert!(compare(Scheme::Maven, &longest_allowed, "1").is_ok());
}

/// Found by the fuzz campaign: range events were put in order with an insertion sort, O(n²)
/// comparisons (each one parsing two versions); 1,600 Maven events took 9 s on a debug build.
#[test]
fn fuzz_many_range_events_sort_in_n_log_n_comparisons() {
    let events: Vec<RangeEvent> = (0..4000)
        .rev()
        .map(|i| {
            if i % 2 == 0 {
                intro(&format!("1.{i}-alpha-{i}"))
            } else {
                fixed(&format!("1.{i}-beta-{i}"))
            }
        })
        .collect();
    let started = std::time::Instant::now();
    for s in [Scheme::Maven, Scheme::Composer, Scheme::Apk] {
        let _ = in_osv_range(s, "1.2000", &events);
    }
    // Quadratic, this took minutes; sorted in n log n it takes well under a second.
    assert!(
        started.elapsed() < std::time::Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
}
