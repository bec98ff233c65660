//! Image names as registries spell them: `[REGISTRY/]REPOSITORY[:TAG][@DIGEST]`, with Docker
//! Hub's shorthand (`nginx` is `docker.io/library/nginx:latest`).

use std::fmt;

use bulwark_types::Digest;

/// Docker Hub's canonical name, and where its API really lives.
pub const DOCKER_HUB: &str = "docker.io";
const DOCKER_HUB_API: &str = "registry-1.docker.io";

/// A parsed, normalised image name in a registry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageName {
    /// The registry host (with port), `docker.io` for Docker Hub.
    pub registry: String,
    /// The repository path inside the registry (`library/nginx`, `org/app`).
    pub repository: String,
    pub tag: Option<String>,
    pub digest: Option<Digest>,
}

impl ImageName {
    /// Parses a reference the way `docker pull` does. Errors say which part is wrong.
    pub fn parse(input: &str) -> Result<ImageName, String> {
        if input.is_empty() {
            return Err("an image reference is empty".to_string());
        }
        let (rest, digest) = match input.split_once('@') {
            Some((rest, d)) => {
                let digest: Digest = d
                    .parse()
                    .map_err(|e| format!("{input:?}: the digest after '@' is not valid: {e}"))?;
                (rest, Some(digest))
            }
            None => (input, None),
        };
        // A tag follows the last ':' that comes after the last '/' (a port is before a '/').
        let (name, tag) = match rest.rfind(':') {
            Some(i) if !rest[i..].contains('/') => (&rest[..i], Some(&rest[i + 1..])),
            _ => (rest, None),
        };
        if let Some(tag) = tag {
            if !valid_tag(tag) {
                return Err(format!(
                    "{input:?}: tag {tag:?} is not valid (letters, digits, '_', '.', '-', at most 128, not starting with '.' or '-')"
                ));
            }
        }
        let (registry, path) = match name.split_once('/') {
            Some((first, path))
                if first.contains(['.', ':'])
                    || first == "localhost"
                    || first.chars().any(|c| c.is_ascii_uppercase()) =>
            {
                (first.to_string(), path.to_string())
            }
            _ => (DOCKER_HUB.to_string(), name.to_string()),
        };
        let registry = match registry.as_str() {
            "index.docker.io" | "registry-1.docker.io" => DOCKER_HUB.to_string(),
            _ => registry,
        };
        if !valid_host(&registry) {
            return Err(format!(
                "{input:?}: registry {registry:?} is not a valid host[:port]"
            ));
        }
        let repository = if registry == DOCKER_HUB && !path.contains('/') {
            format!("library/{path}")
        } else {
            path
        };
        if repository.is_empty() || repository.len() > 255 {
            return Err(format!(
                "{input:?}: the repository name must be 1 to 255 characters"
            ));
        }
        if let Some(bad) = repository.split('/').find(|c| !valid_component(c)) {
            return Err(format!(
                "{input:?}: repository part {bad:?} is not valid (lowercase letters and digits, separated by '.', '_', '__' or '-')"
            ));
        }
        Ok(ImageName {
            registry,
            repository,
            tag: tag.map(str::to_string),
            digest,
        })
    }

    /// What to ask the registry for: the digest when pinned, else the tag (`latest` if none).
    pub fn reference(&self) -> String {
        match (&self.digest, &self.tag) {
            (Some(d), _) => d.to_string(),
            (None, Some(t)) => t.clone(),
            (None, None) => "latest".to_string(),
        }
    }

    /// The host that serves the registry API (Docker Hub's differs from its name).
    pub fn api_host(&self) -> &str {
        if self.registry == DOCKER_HUB {
            DOCKER_HUB_API
        } else {
            &self.registry
        }
    }

    /// The same repository at another tag.
    pub fn with_tag(&self, tag: &str) -> ImageName {
        ImageName {
            tag: Some(tag.to_string()),
            digest: None,
            ..self.clone()
        }
    }
}

impl fmt::Display for ImageName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.registry, self.repository)?;
        if let Some(t) = &self.tag {
            write!(f, ":{t}")?;
        }
        if let Some(d) = &self.digest {
            write!(f, "@{d}")?;
        }
        if self.tag.is_none() && self.digest.is_none() {
            write!(f, ":latest")?;
        }
        Ok(())
    }
}

fn valid_tag(tag: &str) -> bool {
    !tag.is_empty()
        && tag.len() <= 128
        && !tag.starts_with(['.', '-'])
        && tag
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
}

/// `[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*`
fn valid_component(c: &str) -> bool {
    let bytes = c.as_bytes();
    if bytes.is_empty() || !is_alnum(bytes[0]) || !is_alnum(bytes[bytes.len() - 1]) {
        return false;
    }
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if is_alnum(b) {
            i += 1;
            continue;
        }
        let start = i;
        while i < bytes.len() && !is_alnum(bytes[i]) {
            i += 1;
        }
        let sep = &c[start..i];
        let ok = sep == "." || sep == "_" || sep == "__" || sep.bytes().all(|b| b == b'-');
        if !ok {
            return false;
        }
    }
    true
}

fn is_alnum(b: u8) -> bool {
    b.is_ascii_lowercase() || b.is_ascii_digit()
}

fn valid_host(host: &str) -> bool {
    let (name, port) = if let Some(rest) = host.strip_prefix('[') {
        match rest.split_once(']') {
            Some((addr, tail)) => {
                if addr.parse::<std::net::Ipv6Addr>().is_err() {
                    return false;
                }
                (None, tail.strip_prefix(':'))
            }
            None => return false,
        }
    } else {
        match host.split_once(':') {
            Some((n, p)) => (Some(n), Some(p)),
            None => (Some(host), None),
        }
    };
    if let Some(p) = port {
        if p.parse::<u16>().is_err() {
            return false;
        }
    }
    match name {
        None => true,
        Some(n) => {
            !n.is_empty()
                && n.split('.').all(|label| {
                    !label.is_empty()
                        && !label.starts_with('-')
                        && !label.ends_with('-')
                        && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
                })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> ImageName {
        ImageName::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    #[test]
    fn docker_hub_shorthand() {
        let n = p("nginx");
        assert_eq!(n.registry, "docker.io");
        assert_eq!(n.repository, "library/nginx");
        assert_eq!(n.reference(), "latest");
        assert_eq!(n.api_host(), "registry-1.docker.io");
        assert_eq!(n.to_string(), "docker.io/library/nginx:latest");
        let n = p("docker.io/library/nginx:1.25");
        assert_eq!(n.repository, "library/nginx");
        assert_eq!(n.tag.as_deref(), Some("1.25"));
        assert_eq!(
            p("index.docker.io/bitnami/redis").repository,
            "bitnami/redis"
        );
        assert_eq!(p("bitnami/redis:7").registry, "docker.io");
    }

    #[test]
    fn registries_ports_and_digests() {
        let d = "sha256:".to_string() + &"ab".repeat(32);
        let n = p(&format!("ghcr.io/org/app@{d}"));
        assert_eq!(n.registry, "ghcr.io");
        assert_eq!(n.repository, "org/app");
        assert_eq!(n.reference(), d);
        let n = p("localhost:5000/app:tag");
        assert_eq!(n.registry, "localhost:5000");
        assert_eq!(n.repository, "app");
        assert_eq!(n.tag.as_deref(), Some("tag"));
        let n = p("127.0.0.1:5000/a/b/c:v1.2-x");
        assert_eq!(n.registry, "127.0.0.1:5000");
        assert_eq!(n.repository, "a/b/c");
        let n = p(&format!("localhost/app:1@{d}"));
        assert_eq!(n.tag.as_deref(), Some("1"));
        assert!(n.digest.is_some());
        assert_eq!(p("[::1]:5000/app").registry, "[::1]:5000");
    }

    #[test]
    fn rejects_bad_names() {
        for bad in [
            "",
            "UPPER",
            "nginx:",
            "nginx:-x",
            "a//b",
            "localhost:port/app",
            "app@sha256:123",
            "-lead",
            "a--/b",
            "x/Y",
        ] {
            assert!(ImageName::parse(bad).is_err(), "{bad} should be refused");
        }
        assert!(valid_component("a-----b"));
        assert!(valid_component("a__b"));
        assert!(!valid_component("a___b"));
    }
}
