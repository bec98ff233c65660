//! Licence policy: allow and deny lists, categories, and SPDX expression evaluation.
//!
//! Every licence id is classed (permissive, weak copyleft, copyleft, or unknown) by a built-in
//! table of common SPDX ids, which the policy can extend (`classify`). A licence is rejected
//! when it is in `deny`, when its class is in `deny-categories`, or when an `allow` list exists
//! and neither the licence nor its class (`allow-categories`) is on it. Expressions are
//! evaluated the SPDX way: `A OR B` passes if either side passes, `A AND B` needs both, `A WITH
//! E` is judged as `A` unless the policy names `A WITH E` itself. A package with several
//! declared licences needs all of them to pass. A package with no licence, or with only
//! licences that are in no class, gets an `unknown` finding (`unknown: allow` drops those,
//! `unknown: deny` makes them forbidden).

use std::collections::BTreeMap;

use bulwark_types::{Package, Severity};
use serde::Deserialize;

use bulwark_report::{LicenseCategory, LicenseFinding};

/// What to do about packages whose licence is unknown.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum UnknownLicense {
    /// Not reported.
    Allow,
    /// Reported as a low-severity `unknown` finding (the default).
    #[default]
    Warn,
    /// Reported as forbidden (fails the licence gate).
    Deny,
}

/// Licence classes a policy can name (`forbidden` is what the policy decides, not a class).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LicenseClass {
    Permissive,
    WeakCopyleft,
    Copyleft,
}

impl LicenseClass {
    fn category(self) -> LicenseCategory {
        match self {
            LicenseClass::Permissive => LicenseCategory::Permissive,
            LicenseClass::WeakCopyleft => LicenseCategory::WeakCopyleft,
            LicenseClass::Copyleft => LicenseCategory::Copyleft,
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            LicenseClass::Permissive => "permissive",
            LicenseClass::WeakCopyleft => "weak-copyleft",
            LicenseClass::Copyleft => "copyleft",
        }
    }
}

/// The `licenses:` section of `bulwark.yaml`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct LicensePolicy {
    /// Licences (SPDX ids, or `ID WITH EXCEPTION`) that are always acceptable. When this or
    /// `allow-categories` is non-empty, everything else is rejected.
    #[serde(default)]
    pub allow: Vec<String>,
    /// Classes that are acceptable when an allow list is in force.
    #[serde(default)]
    pub allow_categories: Vec<LicenseClass>,
    /// Licences that are never acceptable.
    #[serde(default)]
    pub deny: Vec<String>,
    /// Classes that are never acceptable (e.g. `[copyleft]`).
    #[serde(default)]
    pub deny_categories: Vec<LicenseClass>,
    /// Extra or overriding classifications (`LicenseRef-Acme: permissive`).
    #[serde(default)]
    pub classify: BTreeMap<String, LicenseClass>,
    /// Packages with no known licence: `allow`, `warn` (default) or `deny`.
    #[serde(default)]
    pub unknown: UnknownLicense,
}

/// The built-in classes of common SPDX ids (canonical, `-only`/`-or-later` forms).
const CLASSES: &[(&str, LicenseClass)] = {
    use LicenseClass::*;
    &[
        ("0BSD", Permissive),
        ("AFL-3.0", Permissive),
        ("Apache-1.1", Permissive),
        ("Apache-2.0", Permissive),
        ("Artistic-2.0", Permissive),
        ("BlueOak-1.0.0", Permissive),
        ("BSD-1-Clause", Permissive),
        ("BSD-2-Clause", Permissive),
        ("BSD-2-Clause-Patent", Permissive),
        ("BSD-3-Clause", Permissive),
        ("BSD-3-Clause-Clear", Permissive),
        ("BSD-4-Clause", Permissive),
        ("BSL-1.0", Permissive),
        ("bzip2-1.0.6", Permissive),
        ("CC-BY-3.0", Permissive),
        ("CC-BY-4.0", Permissive),
        ("CC0-1.0", Permissive),
        ("curl", Permissive),
        ("FTL", Permissive),
        ("HPND", Permissive),
        ("ICU", Permissive),
        ("ISC", Permissive),
        ("Libpng", Permissive),
        ("libpng-2.0", Permissive),
        ("MIT", Permissive),
        ("MIT-0", Permissive),
        ("NCSA", Permissive),
        ("OpenSSL", Permissive),
        ("PHP-3.01", Permissive),
        ("PostgreSQL", Permissive),
        ("PSF-2.0", Permissive),
        ("Python-2.0", Permissive),
        ("Ruby", Permissive),
        ("TCL", Permissive),
        ("Unicode-3.0", Permissive),
        ("Unicode-DFS-2016", Permissive),
        ("Unlicense", Permissive),
        ("UPL-1.0", Permissive),
        ("Vim", Permissive),
        ("W3C", Permissive),
        ("WTFPL", Permissive),
        ("X11", Permissive),
        ("Zlib", Permissive),
        ("ZPL-2.1", Permissive),
        ("CDDL-1.0", WeakCopyleft),
        ("CDDL-1.1", WeakCopyleft),
        ("CPL-1.0", WeakCopyleft),
        ("EPL-1.0", WeakCopyleft),
        ("EPL-2.0", WeakCopyleft),
        ("EUPL-1.1", WeakCopyleft),
        ("EUPL-1.2", WeakCopyleft),
        ("LGPL-2.0-only", WeakCopyleft),
        ("LGPL-2.0-or-later", WeakCopyleft),
        ("LGPL-2.1-only", WeakCopyleft),
        ("LGPL-2.1-or-later", WeakCopyleft),
        ("LGPL-3.0-only", WeakCopyleft),
        ("LGPL-3.0-or-later", WeakCopyleft),
        ("MPL-1.1", WeakCopyleft),
        ("MPL-2.0", WeakCopyleft),
        ("MPL-2.0-no-copyleft-exception", WeakCopyleft),
        ("OFL-1.1", WeakCopyleft),
        ("Artistic-1.0-Perl", WeakCopyleft),
        ("Artistic-1.0", WeakCopyleft),
        ("AGPL-3.0-only", Copyleft),
        ("AGPL-3.0-or-later", Copyleft),
        ("CC-BY-SA-4.0", Copyleft),
        ("GFDL-1.2-only", Copyleft),
        ("GFDL-1.2-or-later", Copyleft),
        ("GFDL-1.3-only", Copyleft),
        ("GFDL-1.3-or-later", Copyleft),
        ("GPL-1.0-only", Copyleft),
        ("GPL-1.0-or-later", Copyleft),
        ("GPL-2.0-only", Copyleft),
        ("GPL-2.0-or-later", Copyleft),
        ("GPL-3.0-only", Copyleft),
        ("GPL-3.0-or-later", Copyleft),
        ("OSL-3.0", Copyleft),
        ("Sleepycat", Copyleft),
        ("SSPL-1.0", Copyleft),
    ]
};

/// The built-in class of a canonical SPDX id.
pub fn builtin_class(id: &str) -> Option<LicenseClass> {
    CLASSES
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(id))
        .map(|(_, c)| *c)
}

/// The canonical name of one licence term: GNU ids with their `-only`/`-or-later` suffix,
/// `+` folded into `-or-later`.
fn canonical(item: &spdx::LicenseItem) -> String {
    match item {
        spdx::LicenseItem::Spdx { id, or_later } => {
            let name = id.name;
            let gnu = id.is_gnu();
            let base = name
                .trim_end_matches("-only")
                .trim_end_matches("-or-later")
                .trim_end_matches('+');
            if gnu {
                if *or_later || name.ends_with("-or-later") || name.ends_with('+') {
                    format!("{base}-or-later")
                } else {
                    format!("{base}-only")
                }
            } else if *or_later {
                format!("{name}+")
            } else {
                name.to_string()
            }
        }
        spdx::LicenseItem::Other { doc_ref, lic_ref } => match doc_ref {
            Some(d) => format!("DocumentRef-{d}:LicenseRef-{lic_ref}"),
            None => format!("LicenseRef-{lic_ref}"),
        },
    }
}

/// A term of an expression, as the policy judges it.
#[derive(Debug, Clone)]
struct Term {
    /// `GPL-2.0-only`, `LicenseRef-foo`.
    license: String,
    /// `GPL-2.0-only WITH Classpath-exception-2.0`.
    full: String,
}

/// Why a term is not acceptable.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Verdict {
    Ok,
    /// Rejected by the policy (the text says how).
    Rejected(String),
    /// In no known class (only a finding, unless `unknown: deny`).
    Unknown,
}

impl LicensePolicy {
    /// Whether the policy says anything beyond the defaults.
    pub fn is_empty(&self) -> bool {
        self.allow.is_empty()
            && self.allow_categories.is_empty()
            && self.deny.is_empty()
            && self.deny_categories.is_empty()
            && self.classify.is_empty()
    }

    fn class_of(&self, license: &str) -> Option<LicenseClass> {
        self.classify
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(license))
            .map(|(_, c)| *c)
            .or_else(|| builtin_class(license))
    }

    fn listed(list: &[String], t: &Term) -> bool {
        list.iter()
            .any(|l| l.eq_ignore_ascii_case(&t.full) || l.eq_ignore_ascii_case(&t.license))
    }

    fn judge(&self, t: &Term) -> Verdict {
        if Self::listed(&self.deny, t) {
            return Verdict::Rejected(format!("denied: {}", t.full));
        }
        let class = self.class_of(&t.license);
        if let Some(c) = class {
            if self.deny_categories.contains(&c) {
                return Verdict::Rejected(format!("category {} is denied: {}", c.as_str(), t.full));
            }
        }
        let allow_list = !self.allow.is_empty() || !self.allow_categories.is_empty();
        if allow_list {
            let ok = Self::listed(&self.allow, t)
                || class.is_some_and(|c| self.allow_categories.contains(&c));
            return if ok {
                Verdict::Ok
            } else {
                Verdict::Rejected(format!("not in the allow list: {}", t.full))
            };
        }
        if class.is_none() {
            Verdict::Unknown
        } else {
            Verdict::Ok
        }
    }

    /// Licence findings for `packages` under this policy, in package order.
    pub fn evaluate(&self, packages: &[Package]) -> Vec<LicenseFinding> {
        let mut out = Vec::new();
        for p in packages {
            if let Some(f) = self.evaluate_package(p) {
                out.push(f);
            }
        }
        out
    }

    fn evaluate_package(&self, p: &Package) -> Option<LicenseFinding> {
        let finding = |license: String, category, severity, reason: String| LicenseFinding {
            package: p.name.clone(),
            version: p.version.clone(),
            purl: p.purl.to_string(),
            license,
            category,
            severity,
            reason,
            layer: p.layer.clone(),
        };
        let declared = p.licenses.join(" AND ");
        if p.licenses.is_empty() {
            return self.unknown_finding("no licence found".into(), |c, s, r| {
                finding("unknown".into(), c, s, r)
            });
        }
        let mut rejected: Vec<String> = Vec::new();
        let mut unknown: Vec<String> = Vec::new();
        let mut classes: Vec<LicenseClass> = Vec::new();
        for expr_text in &p.licenses {
            match spdx::Expression::parse_mode(expr_text, spdx::ParseMode::LAX) {
                Ok(expr) => {
                    let passes = expr.evaluate(|req| {
                        let t = term(req);
                        if let Some(c) = self.class_of(&t.license) {
                            classes.push(c);
                        }
                        match self.judge(&t) {
                            Verdict::Ok => true,
                            Verdict::Unknown => {
                                // Unknown alone does not fail the expression; it is reported
                                // below when nothing else decides it.
                                unknown.push(t.full.clone());
                                self.unknown != UnknownLicense::Deny
                            }
                            Verdict::Rejected(_) => false,
                        }
                    });
                    if !passes {
                        for req in expr.requirements() {
                            let t = term(&req.req);
                            match self.judge(&t) {
                                Verdict::Rejected(why) => rejected.push(why),
                                Verdict::Unknown if self.unknown == UnknownLicense::Deny => {
                                    rejected.push(format!("unknown licence denied: {}", t.full))
                                }
                                _ => {}
                            }
                        }
                    }
                }
                Err(_) => {
                    // Not an SPDX expression at all: a licence name the policy can still list.
                    let t = Term {
                        license: expr_text.clone(),
                        full: expr_text.clone(),
                    };
                    match self.judge(&t) {
                        Verdict::Ok => {}
                        Verdict::Rejected(why) => rejected.push(why),
                        Verdict::Unknown => {
                            if self.unknown == UnknownLicense::Deny {
                                rejected.push(format!("unknown licence denied: {expr_text}"));
                            } else {
                                unknown.push(expr_text.clone());
                            }
                        }
                    }
                }
            }
        }
        if !rejected.is_empty() {
            rejected.sort();
            rejected.dedup();
            return Some(finding(
                declared,
                LicenseCategory::Forbidden,
                Severity::High,
                rejected.join("; "),
            ));
        }
        // Only a package none of whose terms is classed is "unknown": `MIT AND LicenseRef-x`
        // is known enough.
        if classes.is_empty() && !unknown.is_empty() {
            unknown.sort();
            unknown.dedup();
            return self.unknown_finding(
                format!("licence in no known category: {}", unknown.join(", ")),
                |c, s, r| finding(declared.clone(), c, s, r),
            );
        }
        None
    }

    fn unknown_finding(
        &self,
        reason: String,
        make: impl FnOnce(LicenseCategory, Severity, String) -> LicenseFinding,
    ) -> Option<LicenseFinding> {
        match self.unknown {
            UnknownLicense::Allow => None,
            UnknownLicense::Warn => Some(make(LicenseCategory::Unknown, Severity::Low, reason)),
            UnknownLicense::Deny => Some(make(
                LicenseCategory::Forbidden,
                Severity::High,
                format!("unknown licence denied ({reason})"),
            )),
        }
    }
}

fn term(req: &spdx::LicenseReq) -> Term {
    let license = canonical(&req.license);
    let full = match &req.addition {
        Some(a) => format!("{license} WITH {a}"),
        None => license.clone(),
    };
    Term { license, full }
}

/// The class of an expression's licences, for display: the most restrictive known one.
pub fn category_of(expression: &str) -> LicenseCategory {
    let policy = LicensePolicy::default();
    let Ok(expr) = spdx::Expression::parse_mode(expression, spdx::ParseMode::LAX) else {
        return LicenseCategory::Unknown;
    };
    expr.requirements()
        .filter_map(|r| policy.class_of(&term(&r.req).license))
        .max()
        .map(LicenseClass::category)
        .unwrap_or(LicenseCategory::Unknown)
}

#[cfg(test)]
mod tests {
    use super::*;
    use bulwark_types::{Ecosystem, LayerRef, Purl};

    fn pkg(licenses: &[&str]) -> Package {
        Package {
            ecosystem: Ecosystem::Npm,
            name: "p".into(),
            version: "1".into(),
            arch: None,
            source: None,
            licenses: licenses.iter().map(|s| s.to_string()).collect(),
            purl: Purl::new("npm", None, "p", Some("1")),
            layer: LayerRef {
                index: 0,
                diff_id: None,
                created_by: None,
            },
            found_in: vec![],
            files: vec![],
            dev: false,
            inferred: false,
            evidence: Default::default(),
            role: Default::default(),
            dependencies: vec![],
        }
    }

    fn deny(ids: &[&str]) -> LicensePolicy {
        LicensePolicy {
            deny: ids.iter().map(|s| s.to_string()).collect(),
            ..LicensePolicy::default()
        }
    }

    #[test]
    fn or_passes_if_either_side_passes_and_needs_both_sides() {
        let p = deny(&["GPL-2.0-only"]);
        assert!(p.evaluate_package(&pkg(&["MIT OR GPL-2.0-only"])).is_none());
        let f = p.evaluate_package(&pkg(&["MIT AND GPL-2.0-only"])).unwrap();
        assert_eq!(f.category, LicenseCategory::Forbidden);
        assert_eq!(f.reason, "denied: GPL-2.0-only");
        // Several declared licences all apply.
        assert!(p.evaluate_package(&pkg(&["MIT", "GPL-2.0-only"])).is_some());
        // Deprecated spellings are the same licence.
        assert!(p.evaluate_package(&pkg(&["GPL-2.0"])).is_some());
        assert!(
            p.evaluate_package(&pkg(&["GPL-2.0+"])).is_none(),
            "or-later is another id"
        );
    }

    #[test]
    fn with_exceptions_are_judged_on_the_licence_unless_named() {
        let p = deny(&["GPL-2.0-only"]);
        assert!(p
            .evaluate_package(&pkg(&["GPL-2.0-only WITH Classpath-exception-2.0"]))
            .is_some());
        let p = LicensePolicy {
            allow: vec![
                "GPL-2.0-only WITH Classpath-exception-2.0".into(),
                "MIT".into(),
            ],
            ..LicensePolicy::default()
        };
        assert!(p
            .evaluate_package(&pkg(&["GPL-2.0-only WITH Classpath-exception-2.0"]))
            .is_none());
        let f = p.evaluate_package(&pkg(&["GPL-2.0-only"])).unwrap();
        assert_eq!(f.reason, "not in the allow list: GPL-2.0-only");
    }

    #[test]
    fn categories_and_unknowns() {
        let p = LicensePolicy {
            deny_categories: vec![LicenseClass::Copyleft],
            ..LicensePolicy::default()
        };
        let f = p.evaluate_package(&pkg(&["AGPL-3.0-or-later"])).unwrap();
        assert_eq!(f.reason, "category copyleft is denied: AGPL-3.0-or-later");
        assert!(p.evaluate_package(&pkg(&["LGPL-2.1-only"])).is_none());
        let f = p.evaluate_package(&pkg(&[])).unwrap();
        assert_eq!(f.category, LicenseCategory::Unknown);
        assert_eq!(f.severity, Severity::Low);
        let f = p.evaluate_package(&pkg(&["LicenseRef-Acme"])).unwrap();
        assert_eq!(f.category, LicenseCategory::Unknown);
        let p = LicensePolicy {
            classify: [("LicenseRef-Acme".to_string(), LicenseClass::Copyleft)].into(),
            deny_categories: vec![LicenseClass::Copyleft],
            ..LicensePolicy::default()
        };
        assert_eq!(
            p.evaluate_package(&pkg(&["LicenseRef-Acme"]))
                .unwrap()
                .category,
            LicenseCategory::Forbidden
        );
        let p = LicensePolicy {
            unknown: UnknownLicense::Deny,
            ..LicensePolicy::default()
        };
        assert_eq!(
            p.evaluate_package(&pkg(&["LicenseRef-Acme"]))
                .unwrap()
                .category,
            LicenseCategory::Forbidden
        );
        assert_eq!(
            category_of("MIT OR GPL-3.0-only"),
            LicenseCategory::Copyleft
        );
        assert_eq!(category_of("MPL-2.0"), LicenseCategory::WeakCopyleft);
    }
}
