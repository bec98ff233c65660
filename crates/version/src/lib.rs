//! Version schemes per package ecosystem and OSV range evaluation. This crate
//! owns one question only: given two version strings from the same ecosystem,
//! which one is newer, and is a version inside an OSV `affected[].ranges[]`
//! entry. It is a pure leaf crate: no I/O, no allocation-heavy parsing
//! libraries, no dependency on the rest of bulwark. Each scheme reimplements
//! the ecosystem's own comparison routine (not a generic approximation), and
//! each was checked pair by pair against that routine: the answers are
//! recorded in `tests/vectors/<scheme>.tsv` by `tests/vectors/generate.py`,
//! which runs the real implementations, and `tests/vectors.rs` asserts that
//! this crate gives the same answer for every recorded pair.
//!
//! | Scheme | OSV ecosystems | Reference implementation checked against |
//! |---|---|---|
//! | [`Scheme::Dpkg`] | Debian, Ubuntu | `dpkg --compare-versions` (dpkg 1.21.22, Debian 12) |
//! | [`Scheme::Rpm`] | Red Hat, Rocky Linux, AlmaLinux, SUSE, openSUSE, Mageia, openEuler, Photon OS, Azure Linux | `rpm.labelCompare` / `rpm.ver` from python3-rpm 4.18.0 |
//! | [`Scheme::Apk`] | Alpine, Wolfi, Chainguard | every comparison and validity line of apk-tools 3.0.6's `test/unit/version.data`, each confirmed by running its `src/version.c` |
//! | [`Scheme::Pep440`] | PyPI | `packaging.version.Version` (packaging 26.4) |
//! | [`Scheme::SemVer`] | npm, crates.io, Hex, Pub, Bitnami, SwiftURL, Julia; any `SEMVER` range | npm `semver.compare` (semver 7.8.6) |
//! | [`Scheme::Go`] | Go | `golang.org/x/mod/semver.Compare` (the copy vendored in Go 1.19.8's GOROOT) |
//! | [`Scheme::Maven`] | Maven | `org.apache.maven.artifact.versioning.ComparableVersion` of Maven 4 (apache/maven master, `compat/maven-artifact`), and every comparison of its `ComparableVersionTest` |
//! | [`Scheme::RubyGems`] | RubyGems | `Gem::Version#<=>` (Ruby 3.1.2, RubyGems 3.3.15) |
//! | [`Scheme::NuGet`] | NuGet | hand-transcribed cases from NuGet.Client's `VersionComparerTests`, the SemVer 2.0 spec and NuGet's versioning docs (no .NET here) |
//! | [`Scheme::Composer`] | Packagist | PHP 8.2.36 `version_compare` after stripping a leading `v` (what osv-scanner does) |
//! | [`Scheme::Generic`] | CRAN, Hackage, GHC, GitHub Actions, ConanCenter, opam, ... | none: a documented fallback |
#![forbid(unsafe_code)]

use std::cmp::Ordering;
use std::fmt;

mod apk;
mod composer;
mod dpkg;
mod generic;
mod go;
mod maven;
mod nuget;
mod pep440;
mod rpm;
mod rubygems;
mod semver;
mod util;

/// A version scheme: one ecosystem's rules for parsing and ordering versions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scheme {
    /// Debian/Ubuntu `[epoch:]upstream[-revision]`, dpkg's `verrevcmp`.
    Dpkg,
    /// RPM `[epoch:]version[-release]`, `rpmvercmp`.
    Rpm,
    /// Alpine apk-tools versions.
    Apk,
    /// Python PEP 440.
    Pep440,
    /// Semantic Versioning 2.0 (npm, crates.io).
    SemVer,
    /// Go modules (`golang.org/x/mod/semver`).
    Go,
    /// Maven `ComparableVersion`.
    Maven,
    /// RubyGems `Gem::Version`.
    RubyGems,
    /// NuGet `NuGetVersion` (SemVer 2 with a fourth component).
    NuGet,
    /// Composer / Packagist (`version_compare`).
    Composer,
    /// Fallback for ecosystems without a dedicated scheme.
    Generic,
}

impl Scheme {
    /// All schemes, in declaration order.
    pub const ALL: [Scheme; 11] = [
        Scheme::Dpkg,
        Scheme::Rpm,
        Scheme::Apk,
        Scheme::Pep440,
        Scheme::SemVer,
        Scheme::Go,
        Scheme::Maven,
        Scheme::RubyGems,
        Scheme::NuGet,
        Scheme::Composer,
        Scheme::Generic,
    ];

    /// The scheme for an OSV `affected[].package.ecosystem` value. Only the
    /// part before the first `:` counts (`"Debian:12"`, `"Ubuntu:22.04:LTS"`,
    /// `"Alpine:v3.19"`). Names are matched exactly first, then ignoring ASCII
    /// case. `None` for ecosystems whose ranges are not version-ordered
    /// (`OSS-Fuzz`, `Linux`, `Android`, which use `GIT` ranges) and unknown
    /// names.
    pub fn for_osv_ecosystem(ecosystem: &str) -> Option<Scheme> {
        let base = ecosystem.split(':').next().unwrap_or("").trim();
        const TABLE: &[(&str, Scheme)] = &[
            ("Debian", Scheme::Dpkg),
            ("Ubuntu", Scheme::Dpkg),
            ("Alpine", Scheme::Apk),
            ("Wolfi", Scheme::Apk),
            ("Chainguard", Scheme::Apk),
            ("MinimOS", Scheme::Apk),
            ("Red Hat", Scheme::Rpm),
            ("Rocky Linux", Scheme::Rpm),
            ("AlmaLinux", Scheme::Rpm),
            ("SUSE", Scheme::Rpm),
            ("openSUSE", Scheme::Rpm),
            ("Mageia", Scheme::Rpm),
            ("openEuler", Scheme::Rpm),
            ("Photon OS", Scheme::Rpm),
            ("Azure Linux", Scheme::Rpm),
            ("Mariner", Scheme::Rpm),
            ("Oracle Linux", Scheme::Rpm),
            ("Amazon Linux", Scheme::Rpm),
            ("PyPI", Scheme::Pep440),
            ("npm", Scheme::SemVer),
            ("crates.io", Scheme::SemVer),
            ("Hex", Scheme::SemVer),
            ("Pub", Scheme::SemVer),
            ("Bitnami", Scheme::SemVer),
            ("SwiftURL", Scheme::SemVer),
            ("Go", Scheme::Go),
            ("Maven", Scheme::Maven),
            ("RubyGems", Scheme::RubyGems),
            ("NuGet", Scheme::NuGet),
            ("Packagist", Scheme::Composer),
            ("CRAN", Scheme::Generic),
            ("Hackage", Scheme::Generic),
            ("GHC", Scheme::Generic),
            ("GitHub Actions", Scheme::Generic),
            ("ConanCenter", Scheme::Generic),
            ("Julia", Scheme::SemVer),
            ("opam", Scheme::Generic),
        ];
        TABLE
            .iter()
            .find(|(name, _)| *name == base)
            .or_else(|| {
                TABLE
                    .iter()
                    .find(|(name, _)| name.eq_ignore_ascii_case(base))
            })
            .map(|(_, scheme)| *scheme)
    }

    /// The scheme to evaluate one OSV range with: `SEMVER` ranges always use
    /// [`Scheme::SemVer`], `ECOSYSTEM` ranges use the ecosystem's scheme, and
    /// `GIT` ranges (commit hashes) have none.
    pub fn for_osv_range(range_type: &str, ecosystem: &str) -> Option<Scheme> {
        match range_type {
            "SEMVER" => Some(Scheme::SemVer),
            "ECOSYSTEM" => Scheme::for_osv_ecosystem(ecosystem),
            _ => None,
        }
    }

    /// A short lowercase name (`"dpkg"`, `"pep440"`, ...), as used for the
    /// fixture file names.
    pub fn name(self) -> &'static str {
        match self {
            Scheme::Dpkg => "dpkg",
            Scheme::Rpm => "rpm",
            Scheme::Apk => "apk",
            Scheme::Pep440 => "pep440",
            Scheme::SemVer => "semver",
            Scheme::Go => "go",
            Scheme::Maven => "maven",
            Scheme::RubyGems => "rubygems",
            Scheme::NuGet => "nuget",
            Scheme::Composer => "composer",
            Scheme::Generic => "generic",
        }
    }
}

impl fmt::Display for Scheme {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Why a version string, or a range, could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VersionError {
    /// The string is empty (or only whitespace).
    #[error("{scheme} version is empty")]
    Empty {
        /// The scheme that was asked.
        scheme: Scheme,
    },
    /// The string is not a version in this scheme.
    #[error("{scheme} version {version:?} is invalid: {reason}")]
    Invalid {
        /// The scheme that was asked.
        scheme: Scheme,
        /// The offending string (cut to at most 128 characters).
        version: String,
        /// What is wrong with it.
        reason: String,
    },
}

impl VersionError {
    pub(crate) fn invalid(scheme: Scheme, version: &str, reason: impl Into<String>) -> Self {
        const MAX: usize = 128;
        let version = if version.chars().count() > MAX {
            let mut cut: String = version.chars().take(MAX).collect();
            cut.push('…');
            cut
        } else {
            version.to_string()
        };
        VersionError::Invalid {
            scheme,
            version,
            reason: reason.into(),
        }
    }

    /// The scheme the error is about.
    pub fn scheme(&self) -> Scheme {
        match self {
            VersionError::Empty { scheme } | VersionError::Invalid { scheme, .. } => *scheme,
        }
    }
}

/// Longer strings are no ecosystem's versions (npm caps them at 256), and the
/// lenient schemes nest a level per separator (Maven), so a hostile one could
/// exhaust the stack.
pub const MAX_VERSION_LEN: usize = 1024;

fn check_length(scheme: Scheme, v: &str) -> Result<(), VersionError> {
    if v.len() > MAX_VERSION_LEN {
        return Err(VersionError::invalid(
            scheme,
            v,
            format!(
                "{} bytes is longer than the {MAX_VERSION_LEN}-byte limit for versions",
                v.len()
            ),
        ));
    }
    Ok(())
}

/// Compares two versions of the same scheme.
///
/// Each scheme is as lenient as its reference implementation is when
/// *comparing* (dpkg compares versions it only warns about, apk-tools and PHP
/// compare any string, Maven any string it can parse); every scheme rejects
/// the empty string and strings over [`MAX_VERSION_LEN`] bytes. Use
/// [`parse_check`] to ask whether a string is a well-formed version.
pub fn compare(scheme: Scheme, a: &str, b: &str) -> Result<Ordering, VersionError> {
    if a.trim().is_empty() || b.trim().is_empty() {
        return Err(VersionError::Empty { scheme });
    }
    check_length(scheme, a)?;
    check_length(scheme, b)?;
    match scheme {
        Scheme::Dpkg => dpkg::compare(a, b),
        Scheme::Rpm => rpm::compare(a, b),
        Scheme::Apk => Ok(apk::compare(a, b)),
        Scheme::Pep440 => pep440::compare(a, b),
        Scheme::SemVer => semver::compare(a, b),
        Scheme::Go => go::compare(a, b),
        Scheme::Maven => maven::compare(a, b),
        Scheme::RubyGems => rubygems::compare(a, b),
        Scheme::NuGet => nuget::compare(a, b),
        Scheme::Composer => Ok(composer::compare(a, b)),
        Scheme::Generic => generic::compare(a, b),
    }
}

/// Whether `v` is a well-formed version in `scheme` (stricter than
/// [`compare`] for the lenient schemes: see each module's notes).
pub fn parse_check(scheme: Scheme, v: &str) -> Result<(), VersionError> {
    if v.trim().is_empty() {
        return Err(VersionError::Empty { scheme });
    }
    check_length(scheme, v)?;
    match scheme {
        Scheme::Dpkg => dpkg::check(v),
        Scheme::Rpm => rpm::check(v),
        Scheme::Apk => apk::check(v),
        Scheme::Pep440 => pep440::check(v),
        Scheme::SemVer => semver::check(v),
        Scheme::Go => go::check(v),
        Scheme::Maven => maven::check(v),
        Scheme::RubyGems => rubygems::check(v),
        Scheme::NuGet => nuget::check(v),
        Scheme::Composer => composer::check(v),
        Scheme::Generic => generic::check(v),
    }
}

/// One event of an OSV range (`affected[].ranges[].events[]`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum RangeEvent {
    /// First affected version, inclusive; `"0"` means "from the beginning".
    Introduced(String),
    /// First fixed version, exclusive.
    Fixed(String),
    /// Last affected version, inclusive.
    LastAffected(String),
    /// Upper limit of the whole range, exclusive; `"*"` means no limit.
    Limit(String),
}

impl RangeEvent {
    fn version(&self) -> &str {
        match self {
            RangeEvent::Introduced(v)
            | RangeEvent::Fixed(v)
            | RangeEvent::LastAffected(v)
            | RangeEvent::Limit(v) => v,
        }
    }
}

/// Whether `version` is affected according to one OSV range's events, as in
/// the OSV schema's evaluation pseudo-code: events are sorted by version
/// (`introduced: "0"` first, ties keep their given order), then walked in
/// order — `introduced` (inclusive) turns "affected" on, `fixed` (exclusive)
/// and `last_affected` (inclusive) turn it off — and the result also needs
/// `version` to be below at least one `limit` (exclusive) when limits exist.
/// Pass [`Scheme::SemVer`] for `SEMVER` ranges (see
/// [`Scheme::for_osv_range`]). Any unparsable version, in `version` or in an
/// event, is an error rather than a guess.
pub fn in_osv_range(
    scheme: Scheme,
    version: &str,
    events: &[RangeEvent],
) -> Result<bool, VersionError> {
    // Validate everything first, so errors do not depend on event order.
    compare(scheme, version, version)?;
    for event in events {
        let v = event.version();
        let is_zero = matches!(event, RangeEvent::Introduced(_)) && v.trim() == "0";
        let is_star = matches!(event, RangeEvent::Limit(_)) && v.trim() == "*";
        if !is_zero && !is_star {
            compare(scheme, v, v)?;
        }
    }

    let mut limits = Vec::new();
    let mut ordered: Vec<&RangeEvent> = Vec::with_capacity(events.len());
    for event in events {
        match event {
            RangeEvent::Limit(v) => {
                if v.trim() != "*" {
                    limits.push(v.as_str());
                }
            }
            _ => ordered.push(event),
        }
    }
    // The comparison can fail only on input already validated above, so an
    // error here is impossible; it falls back to Equal.
    let key_cmp = |x: &RangeEvent, y: &RangeEvent| -> Ordering {
        let xz = matches!(x, RangeEvent::Introduced(v) if v.trim() == "0");
        let yz = matches!(y, RangeEvent::Introduced(v) if v.trim() == "0");
        match (xz, yz) {
            (true, true) => Ordering::Equal,
            (true, false) => Ordering::Less,
            (false, true) => Ordering::Greater,
            (false, false) => compare(scheme, x.version(), y.version()).unwrap_or(Ordering::Equal),
        }
    };
    // Binary insertion sort: stable, and unlike `slice::sort_by` it cannot
    // panic if a lenient scheme's order is not a strict total order on odd
    // input; O(n log n) comparisons (each parses two versions), not O(n²).
    for i in 1..ordered.len() {
        let event = ordered[i];
        let at = ordered[..i].partition_point(|e| key_cmp(e, event) != Ordering::Greater);
        ordered[at..=i].rotate_right(1);
    }

    let mut affected = false;
    for event in ordered {
        match event {
            RangeEvent::Introduced(v) => {
                if v.trim() == "0" || compare(scheme, version, v)? != Ordering::Less {
                    affected = true;
                }
            }
            RangeEvent::Fixed(v) => {
                if compare(scheme, version, v)? != Ordering::Less {
                    affected = false;
                }
            }
            RangeEvent::LastAffected(v) => {
                if compare(scheme, version, v)? == Ordering::Greater {
                    affected = false;
                }
            }
            RangeEvent::Limit(_) => {}
        }
    }
    if !affected {
        return Ok(false);
    }
    if limits.is_empty() {
        return Ok(true);
    }
    for limit in limits {
        if compare(scheme, version, limit)? == Ordering::Less {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Issue 12 item 5: hostile version strings neither overflow the stack (Maven's nested lists
/// used to be compared recursively) nor take more than linear time. The public API refuses
/// versions over [`MAX_VERSION_LEN`] before they get here; the comparators hold without it.
#[cfg(test)]
mod hostile_version_tests {
    use std::cmp::Ordering;

    #[test]
    fn issue_12_hostile_versions_are_linear_and_stack_safe() {
        let n = 100_000;
        let deep_maven = "1-".repeat(n) + "1";
        let deep_maven_2 = "1-".repeat(n) + "2";
        let mixed = "a1-".repeat(n);
        let nulls = "0.".repeat(n) + "x";
        let long_apk = "1".to_string() + &".0".repeat(n) + "_rc1";
        let long_apk_2 = "1".to_string() + &".0".repeat(n) + "_rc2";
        let started = std::time::Instant::now();
        // A small stack: recursion over 100,000 levels would overflow it.
        std::thread::Builder::new()
            .stack_size(256 * 1024)
            .spawn(move || {
                let maven = |a: &str, b: &str| super::maven::compare(a, b).expect("comparable");
                assert_eq!(maven(&deep_maven, &deep_maven_2), Ordering::Less);
                assert_eq!(maven(&deep_maven, &deep_maven), Ordering::Equal);
                assert_eq!(maven(&deep_maven, "1"), Ordering::Greater);
                assert_eq!(maven(&mixed, &mixed), Ordering::Equal);
                assert_eq!(maven(&nulls, "x"), Ordering::Greater);
                assert!(super::maven::check(&deep_maven).is_ok());
                assert_eq!(super::apk::compare(&long_apk, &long_apk_2), Ordering::Less);
                assert!(super::apk::check(&long_apk).is_ok());
            })
            .expect("spawn")
            .join()
            .expect("no stack overflow");
        let took = started.elapsed();
        assert!(
            took < std::time::Duration::from_secs(10),
            "took {took:?} for {n}-component versions"
        );
    }
}
