//! Matching a purl someone wrote (in an ignore rule or a VEX statement) against a package's
//! purl, with the purl spec's semantics: type, namespace and name must agree (names compared
//! the way the type normalizes them), a version, when given, must be equal, and every
//! qualifier given must be present with the same value; qualifiers not given, the version when
//! not given, and the subpath are not compared.

use bulwark_types::Purl;

/// A purl used as a pattern.
#[derive(Debug, Clone)]
pub struct PurlPattern {
    pub text: String,
    purl: Purl,
}

impl PurlPattern {
    pub fn parse(s: &str) -> Result<PurlPattern, String> {
        // The subpath (`#…`) says where inside the package; it never narrows a match here.
        let without_subpath = s.split('#').next().unwrap_or(s);
        let purl: Purl = without_subpath
            .parse()
            .map_err(|_| format!("{s:?} is not a package URL (pkg:TYPE/NAMESPACE/NAME@VERSION)"))?;
        Ok(PurlPattern {
            text: s.to_string(),
            purl,
        })
    }

    pub fn purl(&self) -> &Purl {
        &self.purl
    }

    pub fn matches(&self, candidate: &Purl) -> bool {
        purl_matches(&self.purl, candidate)
    }
}

/// Names as the purl type compares them (the purl spec's per-type normalization).
fn normalize(ty: &str, s: &str) -> String {
    match ty {
        "pypi" => s.to_ascii_lowercase().replace(['_', '.'], "-"),
        "npm" | "deb" | "apk" | "golang" | "github" | "bitbucket" | "composer" | "oci" => {
            s.to_ascii_lowercase()
        }
        _ => s.to_string(),
    }
}

/// Whether `pattern` names `candidate` (see the module docs).
pub fn purl_matches(pattern: &Purl, candidate: &Purl) -> bool {
    let ty = pattern.ty.to_ascii_lowercase();
    if ty != candidate.ty.to_ascii_lowercase() {
        return false;
    }
    let ns = |p: &Purl| p.namespace.as_deref().map(|n| normalize(&ty, n));
    if ns(pattern) != ns(candidate) {
        return false;
    }
    if normalize(&ty, &pattern.name) != normalize(&ty, &candidate.name) {
        return false;
    }
    if let Some(v) = &pattern.version {
        if candidate.version.as_deref() != Some(v.as_str()) {
            return false;
        }
    }
    pattern
        .qualifiers
        .iter()
        .all(|(k, v)| candidate.qualifiers.get(k) == Some(v))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(pattern: &str, candidate: &str) -> bool {
        PurlPattern::parse(pattern)
            .unwrap()
            .matches(&candidate.parse().unwrap())
    }

    #[test]
    fn version_and_qualifiers_narrow_only_when_given() {
        let pkg = "pkg:deb/debian/libssl3@3.0.11-1~deb12u2?arch=amd64&distro=debian-12";
        assert!(m("pkg:deb/debian/libssl3", pkg));
        assert!(m("pkg:deb/debian/libssl3@3.0.11-1~deb12u2", pkg));
        assert!(m("pkg:deb/debian/libssl3@3.0.11-1~deb12u2?arch=amd64", pkg));
        assert!(!m(
            "pkg:deb/debian/libssl3@3.0.11-1~deb12u2?arch=arm64",
            pkg
        ));
        assert!(!m("pkg:deb/debian/libssl3@3.0.13-1~deb12u1", pkg));
        assert!(!m("pkg:deb/debian/openssl", pkg));
        assert!(!m("pkg:deb/ubuntu/libssl3", pkg));
        assert!(!m("pkg:rpm/debian/libssl3", pkg));
        assert!(m("pkg:pypi/Django_Rest", "pkg:pypi/django-rest@1.0"));
        assert!(m("pkg:maven/org.a/b@1#sub/path", "pkg:maven/org.a/b@1"));
        assert!(PurlPattern::parse("lodash").is_err());
    }
}
