use std::collections::BTreeMap;
use std::fmt::{self, Write};

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A package URL (<https://github.com/package-url/purl-spec>), kept as parts and rendered in the
/// canonical form: qualifiers sorted by key, empty values dropped, components percent-encoded.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Purl {
    pub ty: String,
    pub namespace: Option<String>,
    pub name: String,
    pub version: Option<String>,
    pub qualifiers: BTreeMap<String, String>,
}

impl Purl {
    pub fn new(ty: &str, namespace: Option<&str>, name: &str, version: Option<&str>) -> Self {
        Purl {
            ty: ty.to_ascii_lowercase(),
            namespace: namespace.map(str::to_string),
            name: name.to_string(),
            version: version.map(str::to_string),
            qualifiers: BTreeMap::new(),
        }
    }

    pub fn with_qualifier(mut self, key: &str, value: impl Into<String>) -> Self {
        let value = value.into();
        if !value.is_empty() {
            self.qualifiers.insert(key.to_ascii_lowercase(), value);
        }
        self
    }
}

/// Percent-encodes everything but the purl spec's unreserved set. `:` is kept too: the spec
/// allows it unencoded and every peer writes deb epochs as `1:2.3-4`. `+` is encoded (`%2B`),
/// as packageurl-python, packageurl-go and syft do, since a bare `+` reads as a space in
/// form-encoded contexts.
fn encode(out: &mut String, s: &str, keep_slash: bool) {
    for b in s.bytes() {
        let keep = b.is_ascii_alphanumeric()
            || matches!(b, b'.' | b'-' | b'_' | b'~' | b':')
            || (keep_slash && b == b'/');
        if keep {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
}

impl fmt::Display for Purl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = String::with_capacity(64);
        out.push_str("pkg:");
        out.push_str(&self.ty);
        out.push('/');
        if let Some(ns) = &self.namespace {
            for (i, seg) in ns.split('/').filter(|s| !s.is_empty()).enumerate() {
                if i > 0 {
                    out.push('/');
                }
                encode(&mut out, seg, false);
            }
            out.push('/');
        }
        encode(&mut out, &self.name, false);
        if let Some(v) = &self.version {
            out.push('@');
            encode(&mut out, v, false);
        }
        for (i, (k, v)) in self.qualifiers.iter().enumerate() {
            out.push(if i == 0 { '?' } else { '&' });
            out.push_str(k);
            out.push('=');
            encode(&mut out, v, true);
        }
        f.write_str(&out)
    }
}

impl Serialize for Purl {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Purl {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        parse(&s).ok_or_else(|| serde::de::Error::custom(format!("not a package URL: {s:?}")))
    }
}

fn decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = s.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

impl std::str::FromStr for Purl {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse(s).ok_or_else(|| format!("not a package URL: {s:?}"))
    }
}

/// Parses the canonical form (enough to read back what bulwark and its peers write).
fn parse(s: &str) -> Option<Purl> {
    let rest = s.strip_prefix("pkg:")?;
    let (rest, qualifiers) = match rest.split_once('?') {
        Some((r, q)) => (r, Some(q)),
        None => (rest, None),
    };
    let (ty, path) = rest.split_once('/')?;
    let (path, version) = match path.rsplit_once('@') {
        Some((p, v)) => (p, Some(decode(v)?)),
        None => (path, None),
    };
    let (namespace, name) = match path.rsplit_once('/') {
        Some((ns, n)) => (Some(decode(ns)?), decode(n)?),
        None => (None, decode(path)?),
    };
    let mut purl = Purl {
        ty: ty.to_ascii_lowercase(),
        namespace,
        name,
        version,
        qualifiers: BTreeMap::new(),
    };
    for pair in qualifiers.into_iter().flat_map(|q| q.split('&')) {
        let (k, v) = pair.split_once('=')?;
        purl.qualifiers.insert(k.to_ascii_lowercase(), decode(v)?);
    }
    Some(purl)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deb_purl_matches_the_form_peers_write() {
        let p = Purl::new("deb", Some("debian"), "openssl", Some("3.0.11-1~deb12u2"))
            .with_qualifier("distro", "debian-12")
            .with_qualifier("arch", "amd64");
        assert_eq!(
            p.to_string(),
            "pkg:deb/debian/openssl@3.0.11-1~deb12u2?arch=amd64&distro=debian-12"
        );
        let back: Purl = serde_json::from_value(serde_json::to_value(&p).unwrap()).unwrap();
        assert_eq!(back, p);
    }

    #[test]
    fn encodes_reserved_characters() {
        let p = Purl::new("npm", Some("@angular"), "core", Some("1.0.0 beta"));
        assert_eq!(p.to_string(), "pkg:npm/%40angular/core@1.0.0%20beta");
        let epoch = Purl::new("deb", Some("debian"), "zlib1g", Some("1:1.2.13.dfsg-1"));
        assert_eq!(epoch.to_string(), "pkg:deb/debian/zlib1g@1:1.2.13.dfsg-1");
        let plus = Purl::new("deb", Some("debian"), "bash", Some("5.2.15-2+b2"));
        assert_eq!(plus.to_string(), "pkg:deb/debian/bash@5.2.15-2%2Bb2");
        assert_eq!(plus.to_string().parse::<Purl>().unwrap(), plus);
    }
}
