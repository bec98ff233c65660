/// A tar entry path that would land outside the image root.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("entry path {0:?} escapes the image root")]
pub struct UnsafePath(pub String);

/// Turns a tar entry name into an image-relative path with no `.`, `..`, empty or leading `/`
/// components, the way container runtimes apply a layer.
///
/// Absolute names are taken relative to the root (as `tar` and containerd do); a `..` that would
/// climb above the root is refused, because whatever such an entry means, it is not a file of
/// the image. Returns an empty string for the root itself.
pub fn normalize_entry_path(raw: &str) -> Result<String, UnsafePath> {
    let mut parts: Vec<&str> = Vec::new();
    for component in raw.split('/') {
        match component {
            "" | "." => {}
            ".." => {
                if parts.pop().is_none() {
                    return Err(UnsafePath(raw.to_string()));
                }
            }
            other => parts.push(other),
        }
    }
    Ok(parts.join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizes_like_a_runtime() {
        assert_eq!(
            normalize_entry_path("./etc/os-release").unwrap(),
            "etc/os-release"
        );
        assert_eq!(normalize_entry_path("/etc//passwd").unwrap(), "etc/passwd");
        assert_eq!(
            normalize_entry_path("usr/lib/../bin/sh").unwrap(),
            "usr/bin/sh"
        );
        assert_eq!(normalize_entry_path("./").unwrap(), "");
    }

    #[test]
    fn refuses_escapes() {
        assert!(normalize_entry_path("../etc/passwd").is_err());
        assert!(normalize_entry_path("a/../../b").is_err());
        assert!(normalize_entry_path("/../x").is_err());
    }
}
