//! Ignore rules: what a team has decided not to be told about again, each with a reason and
//! optionally an expiry date after which it stops applying.
//!
//! A rule names one or more selectors; a finding is ignored when it matches all of them:
//! `id` (a vulnerability id or any of its aliases, a secret rule id, a check id, a licence),
//! `package` (a name, or a purl with or without version and qualifiers), `path` (a glob over
//! a package's files, a secret's file, a misconfiguration's file), `fingerprint` (a secret's),
//! `check` (a misconfiguration check id).

use globset::{Glob, GlobMatcher};
use serde::Deserialize;

use crate::date::Date;
use crate::purl_match::PurlPattern;

/// One ignore rule as written in `bulwark.yaml` (`ignores:`) or a `.bulwarkignore` line.
#[derive(Debug, Clone, Deserialize)]
#[serde(try_from = "RawRule")]
pub struct IgnoreRule {
    pub id: Option<String>,
    pub package: Option<PackageSelector>,
    pub path: Option<PathGlob>,
    pub fingerprint: Option<String>,
    pub check: Option<String>,
    pub reason: String,
    pub expires: Option<Date>,
    /// Where the rule was written (`bulwark.yaml ignores[2]`, `.bulwarkignore:4`); set by the
    /// loader.
    #[serde(skip)]
    pub origin: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    id: Option<String>,
    package: Option<String>,
    path: Option<String>,
    fingerprint: Option<String>,
    check: Option<String>,
    reason: Option<String>,
    expires: Option<Date>,
}

impl TryFrom<RawRule> for IgnoreRule {
    type Error = String;

    fn try_from(r: RawRule) -> Result<Self, String> {
        let reason = r
            .reason
            .filter(|s| !s.trim().is_empty())
            .ok_or("every ignore rule needs a `reason`")?;
        IgnoreRule::new(
            r.id,
            r.package.as_deref(),
            r.path.as_deref(),
            r.fingerprint,
            r.check,
            reason,
            r.expires,
        )
    }
}

/// A package by name (`lodash`) or purl (`pkg:npm/lodash`, `pkg:npm/lodash@4.17.20`).
#[derive(Debug, Clone)]
pub enum PackageSelector {
    Name(String),
    Purl(PurlPattern),
}

impl PackageSelector {
    pub fn parse(s: &str) -> Result<PackageSelector, String> {
        if s.starts_with("pkg:") {
            Ok(PackageSelector::Purl(PurlPattern::parse(s)?))
        } else if s.trim().is_empty() {
            Err("`package` is empty".into())
        } else {
            Ok(PackageSelector::Name(s.to_string()))
        }
    }

    pub fn matches(&self, name: &str, purl: &bulwark_types::Purl) -> bool {
        match self {
            PackageSelector::Name(n) => n == name,
            PackageSelector::Purl(p) => p.matches(purl),
        }
    }
}

/// A path glob: `*` stays within one directory, `**` crosses them; a leading `/` is optional.
#[derive(Debug, Clone)]
pub struct PathGlob {
    pub text: String,
    matcher: GlobMatcher,
}

impl PathGlob {
    pub fn parse(s: &str) -> Result<PathGlob, String> {
        let glob = globset::GlobBuilder::new(s.trim_start_matches('/'))
            .literal_separator(true)
            .build()
            .map_err(|e| format!("invalid path glob {s:?}: {e}"))?;
        Ok(PathGlob {
            text: s.to_string(),
            matcher: Glob::compile_matcher(&glob),
        })
    }

    pub fn matches(&self, path: &str) -> bool {
        self.matcher.is_match(path.trim_start_matches('/'))
    }
}

impl IgnoreRule {
    pub fn new(
        id: Option<String>,
        package: Option<&str>,
        path: Option<&str>,
        fingerprint: Option<String>,
        check: Option<String>,
        reason: String,
        expires: Option<Date>,
    ) -> Result<IgnoreRule, String> {
        if id.is_none()
            && package.is_none()
            && path.is_none()
            && fingerprint.is_none()
            && check.is_none()
        {
            return Err(
                "an ignore rule needs at least one of `id`, `package`, `path`, `fingerprint`, `check`"
                    .into(),
            );
        }
        Ok(IgnoreRule {
            id,
            package: package.map(PackageSelector::parse).transpose()?,
            path: path.map(PathGlob::parse).transpose()?,
            fingerprint,
            check,
            reason,
            expires,
            origin: String::new(),
        })
    }

    /// Whether the rule no longer applies on `today` (it applies through its expiry date).
    pub fn is_expired(&self, today: Date) -> bool {
        self.expires.is_some_and(|e| today > e)
    }

    /// The selectors, as a short text for messages (`id=CVE-1 package=pkg:npm/x`).
    pub fn selectors(&self) -> String {
        let mut parts = Vec::new();
        if let Some(v) = &self.id {
            parts.push(format!("id={v}"));
        }
        if let Some(p) = &self.package {
            parts.push(format!(
                "package={}",
                match p {
                    PackageSelector::Name(n) => n.clone(),
                    PackageSelector::Purl(p) => p.text.clone(),
                }
            ));
        }
        if let Some(p) = &self.path {
            parts.push(format!("path={}", p.text));
        }
        if let Some(f) = &self.fingerprint {
            parts.push(format!("fingerprint={f}"));
        }
        if let Some(c) = &self.check {
            parts.push(format!("check={c}"));
        }
        parts.join(" ")
    }
}

/// What a finding offers for rule matching.
#[derive(Debug, Default)]
pub struct Subject<'a> {
    pub ids: Vec<&'a str>,
    pub package: Option<(&'a str, &'a bulwark_types::Purl)>,
    pub paths: Vec<&'a str>,
    pub fingerprint: Option<&'a str>,
    pub check: Option<&'a str>,
}

impl IgnoreRule {
    pub fn matches(&self, s: &Subject<'_>) -> bool {
        if let Some(id) = &self.id {
            if !s.ids.iter().any(|i| i.eq_ignore_ascii_case(id)) {
                return false;
            }
        }
        if let Some(sel) = &self.package {
            match s.package {
                Some((name, purl)) if sel.matches(name, purl) => {}
                _ => return false,
            }
        }
        if let Some(glob) = &self.path {
            if !s.paths.iter().any(|p| glob.matches(p)) {
                return false;
            }
        }
        if let Some(fp) = &self.fingerprint {
            if s.fingerprint != Some(fp.as_str()) {
                return false;
            }
        }
        if let Some(check) = &self.check {
            if !s.check.is_some_and(|c| c.eq_ignore_ascii_case(check)) {
                return false;
            }
        }
        true
    }
}

/// A `.bulwarkignore` file: one rule per line.
///
/// ```text
/// # comment
/// CVE-2023-5678 expires=2026-12-31 # fixed upstream, waiting for the base image
/// package=pkg:npm/lodash@4.17.20 # dev-only tool, never shipped
/// path=/opt/legacy/** id=CVE-2021-44228 # log4j there is never loaded
/// fingerprint=3f1c… # test key
/// ```
///
/// A bare first word is an `id`; `key=value` words set `id`, `package`, `path`,
/// `fingerprint`, `check`, `expires`; the text after `#` is the reason (required).
pub fn parse_ignore_file(text: &str, file: &str) -> Result<Vec<IgnoreRule>, String> {
    let mut rules = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line_no = i + 1;
        let (body, reason) = match raw.split_once('#') {
            Some((b, r)) => (b.trim(), r.trim()),
            None => (raw.trim(), ""),
        };
        if body.is_empty() {
            continue;
        }
        let err = |m: String| format!("{file}:{line_no}: {m}");
        let (mut id, mut package, mut path, mut fingerprint, mut check, mut expires) =
            (None, None, None, None, None, None);
        for (n, word) in body.split_whitespace().enumerate() {
            // A problem with one word is placed at its column (1-based, in characters).
            let column = raw[..word.as_ptr() as usize - raw.as_ptr() as usize]
                .chars()
                .count()
                + 1;
            let err = |m: String| format!("{file}:{line_no}:{column}: {m}");
            match word.split_once('=') {
                Some(("id", v)) => id = Some(v.to_string()),
                Some(("package", v)) => package = Some(v.to_string()),
                Some(("path", v)) => path = Some(v.to_string()),
                Some(("fingerprint", v)) => fingerprint = Some(v.to_string()),
                Some(("check", v)) => check = Some(v.to_string()),
                Some(("expires", v)) => {
                    expires = Some(
                        v.parse::<Date>()
                            .map_err(|e| err(format!("expires: {e}")))?,
                    )
                }
                Some((k, _)) => {
                    return Err(err(format!(
                    "unknown key `{k}` (expected id, package, path, fingerprint, check, expires)"
                )))
                }
                None if n == 0 => id = Some(word.to_string()),
                None => {
                    return Err(err(format!(
                        "unexpected {word:?}: write key=value, and the reason after `#`"
                    )))
                }
            }
        }
        if reason.is_empty() {
            return Err(err("every ignore rule needs a reason after `#`".into()));
        }
        let mut rule = IgnoreRule::new(
            id,
            package.as_deref(),
            path.as_deref(),
            fingerprint,
            check,
            reason.to_string(),
            expires,
        )
        .map_err(err)?;
        rule.origin = format!("{file}:{line_no}");
        rules.push(rule);
    }
    Ok(rules)
}

#[cfg(test)]
mod tests {
    use super::*;
    use bulwark_types::Purl;

    #[test]
    fn selectors_must_all_match() {
        let r = IgnoreRule::new(
            Some("CVE-1".into()),
            Some("pkg:deb/debian/libssl3"),
            None,
            None,
            None,
            "r".into(),
            None,
        )
        .unwrap();
        let libssl: Purl = "pkg:deb/debian/libssl3@3.0.11-1?arch=amd64"
            .parse()
            .unwrap();
        let openssl: Purl = "pkg:deb/debian/openssl@3.0.11-1?arch=amd64"
            .parse()
            .unwrap();
        let subject = |purl| Subject {
            ids: vec!["GHSA-x", "CVE-1"],
            package: Some(("x", purl)),
            ..Subject::default()
        };
        assert!(r.matches(&subject(&libssl)));
        assert!(!r.matches(&subject(&openssl)));
    }

    #[test]
    fn globs_stay_in_a_directory_unless_double_star() {
        let g = PathGlob::parse("/opt/*.key").unwrap();
        assert!(g.matches("/opt/a.key"));
        assert!(!g.matches("/opt/sub/a.key"));
        assert!(PathGlob::parse("opt/**").unwrap().matches("/opt/sub/a.key"));
    }

    #[test]
    fn ignore_file_lines() {
        let rules = parse_ignore_file(
            "# header\nCVE-2023-5678 expires=2026-12-31 # waiting for the base image\n\npackage=lodash # dev only\n",
            ".bulwarkignore",
        )
        .unwrap();
        assert_eq!(rules.len(), 2);
        assert_eq!(rules[0].id.as_deref(), Some("CVE-2023-5678"));
        assert_eq!(rules[0].origin, ".bulwarkignore:2");
        assert_eq!(rules[1].origin, ".bulwarkignore:4");
        let e = parse_ignore_file("CVE-1\n", ".bulwarkignore").unwrap_err();
        assert!(
            e.starts_with(".bulwarkignore:1: ") && e.contains("reason"),
            "{e}"
        );
        let e = parse_ignore_file("x # r\nCVE-1 expires=2025-13-01 # r\n", "f").unwrap_err();
        assert!(
            e.contains("f:2:7: expires: invalid date \"2025-13-01\""),
            "{e}"
        );
        let e = parse_ignore_file("CVE-1 colour=red # r\n", "f").unwrap_err();
        assert!(e.contains("unknown key `colour`"), "{e}");
        assert!(e.starts_with("f:1:7: "), "{e}");
    }

    #[test]
    fn expiry_is_inclusive() {
        let mut r =
            IgnoreRule::new(Some("x".into()), None, None, None, None, "r".into(), None).unwrap();
        r.expires = Some("2025-06-30".parse().unwrap());
        assert!(!r.is_expired("2025-06-30".parse().unwrap()));
        assert!(r.is_expired("2025-07-01".parse().unwrap()));
    }
}
