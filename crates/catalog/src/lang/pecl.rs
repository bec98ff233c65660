//! PHP extensions installed with `pecl install`: PEAR's registry keeps one file per package,
//! `<php_dir>/.registry/.channel.pecl.php.net/<name>.reg`, a PHP `serialize()`d array of the
//! package.xml fields (`name`, `version` → `release`), as PEAR's `PEAR_Registry` writes it
//! (<https://pear.php.net/manual/en/core.registry.php>). Named `pkg:pecl/<name>@<version>`
//! (no purl type is registered for PECL; no OSV ecosystem covers it).

use bulwark_analyze::{
    Analyzer, AnalyzerOutput, Fact, FileKind, FileMeta, Interest, PackageRecord,
};
use bulwark_types::Ecosystem;

pub struct PeclAnalyzer;

const CHANNEL_DIR: &str = ".registry/.channel.pecl.php.net/";

fn wanted(path: &str) -> bool {
    path.rsplit_once('/').is_some_and(|(dir, name)| {
        format!("{dir}/").ends_with(CHANNEL_DIR) && name.ends_with(".reg")
    })
}

impl Analyzer for PeclAnalyzer {
    fn id(&self) -> &'static str {
        "pecl"
    }

    fn version(&self) -> u32 {
        1
    }

    fn wants(&self, file: &FileMeta) -> Interest {
        if file.kind == FileKind::Regular && wanted(file.path) {
            Interest::Read { max_bytes: 4 << 20 }
        } else {
            Interest::Skip
        }
    }

    fn analyze(&self, _file: &FileMeta, content: &[u8], out: &mut AnalyzerOutput) {
        match parse(content) {
            Some((name, version)) => out.fact(Fact::Packages {
                records: vec![PackageRecord::new(Ecosystem::Pecl, name, version)],
            }),
            None => {
                out.problem("PECL registry file without a serialized name and version; not listed")
            }
        }
    }
}

/// The strings of a PHP-serialized value in order (`s:<bytes>:"<text>";`), each with its
/// nesting depth; everything else is skipped. Lengths are in bytes, as PHP writes them.
fn strings(data: &[u8]) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let mut depth = 0usize;
    let mut i = 0;
    while i < data.len() {
        match data[i] {
            b'{' => depth += 1,
            b'}' => depth = depth.saturating_sub(1),
            b's' if data.get(i + 1) == Some(&b':') => {
                let start = i + 2;
                let Some(colon) = data[start..].iter().position(|&b| b == b':') else {
                    break;
                };
                let len: Option<usize> = std::str::from_utf8(&data[start..start + colon])
                    .ok()
                    .and_then(|n| n.parse().ok());
                let text_at = start + colon + 2;
                if let Some(len) = len.filter(|_| data.get(start + colon + 1) == Some(&b'"')) {
                    // A hostile length must not overflow the index.
                    let end = text_at.saturating_add(len);
                    if let Some(text) = data.get(text_at..end) {
                        out.push((depth, String::from_utf8_lossy(text).into_owned()));
                        i = end.saturating_add(2);
                        continue;
                    }
                }
            }
            _ => {}
        }
        i += 1;
    }
    out
}

fn parse(data: &[u8]) -> Option<(String, String)> {
    let strings = strings(data);
    // Top-level keys and values alternate at depth 1.
    let value_of = |key: &str, depth: usize, from: usize| {
        strings[from..]
            .iter()
            .position(|(d, s)| *d == depth && s == key)
            .and_then(|at| strings.get(from + at + 1))
            .map(|(_, s)| (from, s.clone()))
    };
    let (_, name) = value_of("name", 1, 0)?;
    // `version` is an array `{release, api}` (PEAR 1.4+) or, in old registries, a string.
    let at = strings
        .iter()
        .position(|(d, s)| *d == 1 && s == "version")?;
    let version = match strings.get(at + 1) {
        Some((2, key)) if key == "release" => strings.get(at + 2)?.1.clone(),
        Some((2, _)) => value_of("release", 2, at + 1)?.1,
        Some((1, v)) => v.clone(),
        _ => return None,
    };
    let ok = |s: &str| {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
    };
    (ok(&name) && ok(&version) && version.starts_with(|c: char| c.is_ascii_digit()))
        .then_some((name, version))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// PHP's `serialize()` of a string.
    fn s(text: &str) -> String {
        format!("s:{}:\"{text}\";", text.len())
    }

    #[test]
    fn reads_registry_files() {
        let reg = format!(
            "a:4:{{{}{}{}a:2:{{{}{}{}{}}}{}{}}}",
            s("name"),
            s("redis"),
            s("version"),
            s("release"),
            s("6.0.2"),
            s("api"),
            s("6.0.0"),
            s("summary"),
            s("PHP extension for interfacing with Redis; see \"docs\"")
        );
        assert_eq!(
            parse(reg.as_bytes()),
            Some(("redis".into(), "6.0.2".into()))
        );
        let old = format!(
            "a:2:{{{}{}{}{}}}",
            s("version"),
            s("1.3.0"),
            s("name"),
            s("apcu")
        );
        assert_eq!(parse(old.as_bytes()), Some(("apcu".into(), "1.3.0".into())));
        assert!(wanted(
            "usr/local/lib/php/.registry/.channel.pecl.php.net/redis.reg"
        ));
        assert!(!wanted("usr/local/lib/php/.registry/redis.reg"));
    }

    #[test]
    fn malformed_registry_is_a_diagnostic() {
        let mut out = AnalyzerOutput::default();
        let meta = FileMeta {
            path: "usr/local/lib/php/.registry/.channel.pecl.php.net/x.reg",
            kind: FileKind::Regular,
            size: 9,
            mode: 0o644,
        };
        PeclAnalyzer.analyze(&meta, b"s:999:\"x", &mut out);
        // Found by the fuzz campaign: a length near usize::MAX overflowed the slice end.
        PeclAnalyzer.analyze(&meta, b"s:18446744073709551615:\"x\";", &mut out);
        assert!(out.facts.is_empty());
        assert_eq!(out.problems.len(), 2, "one diagnostic per file");
    }
}
