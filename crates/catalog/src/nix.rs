//! Nix packages: every store path `/nix/store/<hash>-<name>-<version>` the final filesystem
//! shows is one installed package (the Nix manual, "Store Path"
//! <https://nix.dev/manual/nix/2.18/glossary#gloss-store-path>). Store paths are directories,
//! which no analyzer reads, so they are read from the image's file index once the layers are
//! applied. The name ends, as `builtins.parseDrvName` splits it, at the first `-` followed by
//! a digit; a trailing output name (`-dev`, `-lib`, `-bin`...) is no part of the version.
//! Store paths without a version (`-source`, `.drv` files, `-patch`) are not packages.

use bulwark_analyze::{ImageFacts, PackageRecord};
use bulwark_types::{Ecosystem, LayerRef};

const STORE: &str = "nix/store/";
/// Nix's base-32 alphabet (no `e o u t`), 32 characters a hash.
const HASH_ALPHABET: &str = "0123456789abcdfghijklmnpqrsvwxyz";
const OUTPUTS: &[&str] = &[
    "bin", "dev", "lib", "out", "doc", "man", "info", "debug", "static", "devdoc",
];

/// Calls `visit` once per versioned store path visible in the final filesystem, with the
/// layer that shows it and its image-relative path.
pub(crate) fn store_packages(
    facts: &ImageFacts,
    mut visit: impl FnMut(PackageRecord, LayerRef, &str),
) {
    let mut last: Option<&str> = None;
    for (path, file) in facts
        .files
        .range::<str, _>((std::ops::Bound::Included(STORE), std::ops::Bound::Unbounded))
    {
        let Some(rest) = path.strip_prefix(STORE) else {
            break;
        };
        let entry = rest.split('/').next().unwrap_or(rest);
        if last == Some(entry) {
            continue;
        }
        last = Some(entry);
        if let Some(record) = parse_store_entry(entry) {
            visit(
                record,
                facts.layer_ref(file.layer),
                &path[..STORE.len() + entry.len()],
            );
        }
    }
}

/// `<hash>-<name>-<version>[-<output>]` → the package, if it is one.
pub(crate) fn parse_store_entry(entry: &str) -> Option<PackageRecord> {
    let (hash, rest) = entry.split_once('-')?;
    if hash.len() != 32 || !hash.chars().all(|c| HASH_ALPHABET.contains(c)) {
        return None;
    }
    if rest.ends_with(".drv") || rest.contains('/') {
        return None;
    }
    let at = rest
        .match_indices('-')
        .find(|(i, _)| rest[i + 1..].starts_with(|c: char| c.is_ascii_digit()))
        .map(|(i, _)| i)?;
    let (name, version) = (&rest[..at], &rest[at + 1..]);
    let version = match version.rsplit_once('-') {
        Some((v, output)) if OUTPUTS.contains(&output) => v,
        _ => version,
    };
    let plausible = |s: &str| {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '+'))
    };
    (plausible(name) && plausible(version))
        .then(|| PackageRecord::new(Ecosystem::Nix, name, version))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_store_paths() {
        let h = "0a1b2c3d4f5g6h7i8j9k0l1m2n3p4q5r";
        assert_eq!(h.len(), 32);
        for (entry, name, version) in [
            (format!("{h}-openssl-3.0.13"), "openssl", "3.0.13"),
            (format!("{h}-openssl-3.0.13-dev"), "openssl", "3.0.13"),
            (
                format!("{h}-python3.11-requests-2.31.0"),
                "python3.11-requests",
                "2.31.0",
            ),
            (format!("{h}-glibc-2.38-44-bin"), "glibc", "2.38-44"),
            (format!("{h}-gcc-13.2.0-lib"), "gcc", "13.2.0"),
        ] {
            let r = parse_store_entry(&entry).unwrap_or_else(|| panic!("{entry}"));
            assert_eq!(
                (r.name.as_str(), r.version.as_str()),
                (name, version),
                "{entry}"
            );
        }
        for entry in [
            format!("{h}-source"),
            format!("{h}-hello-2.12.1.drv"),
            format!("{h}-etc-os-release"),
            "tooshort-hello-1.0".to_string(),
            "eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee-hello-1.0".to_string(),
            ".links".to_string(),
        ] {
            assert!(parse_store_entry(&entry).is_none(), "{entry}");
        }
    }
}
