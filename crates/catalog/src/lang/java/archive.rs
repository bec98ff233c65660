//! Java archives: Maven coordinates from `pom.properties`, `MANIFEST.MF` or the file name, in
//! the archive and in the archives nested in it.
//!
//! Everything happens in memory over the bytes the walker read, under limits that hold for
//! hostile input (a zip bomb, a zip nested in itself, an archive that is not one):
//!
//! * nested archives are opened at most [`MAX_DEPTH`] levels deep, at most [`MAX_ARCHIVES`]
//!   of them per top-level archive, each read only up to [`MAX_NESTED_BYTES`];
//! * all decompressed bytes of one top-level archive, nested ones included, count against
//!   [`MAX_TOTAL_BYTES`];
//! * an entry whose size or actual output exceeds [`MAX_RATIO`] times its compressed size
//!   (plus [`RATIO_SLACK`]) is a bomb and is not read further: decompression always runs
//!   under a cap, whatever the headers claim;
//! * archives with more than [`MAX_ENTRIES`] entries are not inspected.
//!
//! Each of these, and every unreadable archive or entry, becomes a problem (a diagnostic),
//! at most [`MAX_PROBLEMS`] per top-level archive; whatever could be read is still reported.

use std::collections::HashMap;
use std::io::{Read, Seek};

use bulwark_analyze::archive::open_zip;
use bulwark_analyze::PackageRecord;
use bulwark_types::Ecosystem;
use zip::{CompressionMethod, ZipArchive};

use super::is_archive_name;

/// Levels of archives inside the top-level one that are opened (ear → war → jar → jar).
pub(super) const MAX_DEPTH: usize = 4;
/// Nested archives opened per top-level archive.
pub(super) const MAX_ARCHIVES: usize = 10_000;
/// Largest nested archive read into memory.
pub(super) const MAX_NESTED_BYTES: u64 = 128 << 20;
/// Largest `pom.properties` or `MANIFEST.MF` read.
const MAX_METADATA_BYTES: u64 = 1 << 20;
/// Decompressed bytes read per top-level archive, nested archives included.
pub(super) const MAX_TOTAL_BYTES: u64 = 1 << 30;
/// Entries per archive beyond which it is not inspected.
pub(super) const MAX_ENTRIES: usize = 100_000;
/// Highest plausible compression ratio of a real entry; deflate tops out near 1032:1 on runs
/// of one byte, real jars and their class files stay far below 20:1.
pub(super) const MAX_RATIO: u64 = 100;
/// Output always allowed whatever the ratio, so tiny, very regular entries pass.
const RATIO_SLACK: u64 = 1 << 20;
/// Problems kept per top-level archive; the rest are counted.
const MAX_PROBLEMS: usize = 20;

/// What one top-level archive yielded.
pub(super) struct Scan {
    pub records: Vec<PackageRecord>,
    pub problems: Vec<String>,
}

struct Ctx {
    records: Vec<PackageRecord>,
    problems: Vec<String>,
    suppressed: usize,
    /// Decompressed bytes still allowed.
    budget: u64,
    budget_reported: bool,
    archives: usize,
    archives_reported: bool,
    depth_reported: bool,
}

impl Ctx {
    fn problem(&mut self, message: String) {
        if self.problems.len() < MAX_PROBLEMS {
            self.problems.push(message);
        } else {
            self.suppressed += 1;
        }
    }
}

/// Reads the archive at `path` (image-absolute, for messages and `files`) and everything
/// nested in it.
pub(super) fn scan(path: &str, bytes: &[u8]) -> Scan {
    let mut ctx = Ctx {
        records: Vec::new(),
        problems: Vec::new(),
        suppressed: 0,
        budget: MAX_TOTAL_BYTES,
        budget_reported: false,
        archives: 0,
        archives_reported: false,
        depth_reported: false,
    };
    // The zip reader is fuzzed, but a panic must never take the scan down with it.
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        scan_archive(&mut ctx, path, bytes, 0)
    }));
    if outcome.is_err() {
        ctx.problem("internal error while reading the archive; its packages may be missing".into());
    }
    if ctx.suppressed > 0 {
        ctx.problems.push(format!(
            "… and {} more problems in this archive",
            ctx.suppressed
        ));
    }
    Scan {
        records: merge(ctx.records),
        problems: ctx.problems,
    }
}

/// The first entry of the zip archive `bytes` whose name `wanted` accepts, read under the
/// same limits as Java archives (end record checked, central-directory search budgeted,
/// [`MAX_ENTRIES`], `cap` and the [`MAX_RATIO`] bomb check): `Ok(None)` when no entry is
/// wanted, `Err` with the reasons when the archive or the entry cannot be read. For other
/// zip-based package formats (Python eggs) that need one metadata file.
pub(crate) fn read_first_entry(
    bytes: &[u8],
    wanted: impl Fn(&str) -> bool,
    cap: u64,
) -> Result<Option<(String, Vec<u8>)>, String> {
    let mut ctx = Ctx {
        records: Vec::new(),
        problems: Vec::new(),
        suppressed: 0,
        budget: MAX_TOTAL_BYTES,
        budget_reported: false,
        archives: 0,
        archives_reported: false,
        depth_reported: false,
    };
    let mut zip = open_zip(bytes, MAX_ENTRIES)?;
    let Some(i) = (0..zip.len()).find(|&i| zip.name_for_index(i).is_some_and(&wanted)) else {
        return Ok(None);
    };
    let name = zip.name_for_index(i).unwrap_or_default().to_string();
    match read_entry(&mut ctx, &mut zip, i, cap, "", 0) {
        Some(data) => Ok(Some((name, data))),
        None => Err(ctx.problems.join("; ")),
    }
}

/// One record per coordinates: the same jar twice in one archive lists both places.
fn merge(records: Vec<PackageRecord>) -> Vec<PackageRecord> {
    let mut out: Vec<PackageRecord> = Vec::with_capacity(records.len());
    let mut index: HashMap<(Option<String>, String, String), usize> = HashMap::new();
    for record in records {
        let key = (
            record.namespace.clone(),
            record.name.clone(),
            record.version.clone(),
        );
        match index.get(&key) {
            Some(&i) => {
                let kept = &mut out[i];
                kept.inferred &= record.inferred;
                for f in record.files {
                    if !kept.files.contains(&f) {
                        kept.files.push(f);
                    }
                }
            }
            None => {
                index.insert(key, out.len());
                out.push(record);
            }
        }
    }
    out
}

fn scan_archive(ctx: &mut Ctx, path: &str, bytes: &[u8], depth: usize) {
    // Messages about the top-level archive get its path from the walker.
    let at = |msg: String| {
        if depth == 0 {
            msg
        } else {
            format!("{path}: {msg}")
        }
    };
    // The end-record checks, the entry limit and the linear-time opening are shared with the
    // secret scanner's archive walk.
    let mut zip = match open_zip(bytes, MAX_ENTRIES) {
        Ok(z) => z,
        Err(why) => {
            ctx.problem(at(why));
            return;
        }
    };
    let mut properties = Vec::new();
    let mut manifest = None;
    let mut nested = Vec::new();
    for i in 0..zip.len() {
        let Some(name) = zip.name_for_index(i) else {
            continue;
        };
        if name.ends_with('/') {
            continue;
        }
        if let Some((group, artifact)) = pom_properties_coordinates(name) {
            properties.push((i, group.to_string(), artifact.to_string()));
        } else if name.eq_ignore_ascii_case("META-INF/MANIFEST.MF") {
            manifest.get_or_insert(i);
        } else if is_archive_name(base_name(name)) {
            nested.push(i);
        }
    }

    let file_name = base_name(path);
    let stem = parse_file_name(file_name);
    let mut own: Vec<PackageRecord> = Vec::new();
    for (i, path_group, path_artifact) in properties {
        let Some(data) = read_entry(ctx, &mut zip, i, MAX_METADATA_BYTES, path, depth) else {
            continue;
        };
        let props = parse_properties(&String::from_utf8_lossy(&data));
        let field = |k: &str| props.get(k).map(|v| v.trim()).filter(|v| !v.is_empty());
        let group = field("groupId").unwrap_or(&path_group).to_string();
        let artifact = field("artifactId").unwrap_or(&path_artifact).to_string();
        let Some(version) = field("version").filter(|v| plausible_version(v)) else {
            continue;
        };
        let mut record = PackageRecord::new(Ecosystem::Maven, artifact, version);
        record.namespace = Some(group).filter(|g| !g.is_empty());
        record.files = vec![path.to_string()];
        own.push(record);
    }
    // A jar named like an artifact but whose pom.properties are all someone else's (a shaded
    // jar built without its own) is still that artifact.
    let identified = match &stem {
        Some((name, Some(_))) => own.iter().any(|r| &r.name == name),
        _ => !own.is_empty(),
    };
    if !identified {
        let fields = match manifest {
            Some(i) => read_entry(ctx, &mut zip, i, MAX_METADATA_BYTES, path, depth)
                .map(|d| parse_manifest(&String::from_utf8_lossy(&d)))
                .unwrap_or_default(),
            None => Vec::new(),
        };
        if let Some(mut record) = manifest_record(&fields, stem.as_ref()) {
            record.files = vec![path.to_string()];
            own.push(record);
        }
    }
    ctx.records.extend(own);

    for i in nested {
        let name = zip.name_for_index(i).unwrap_or_default().to_string();
        let inner = format!("{path}!/{name}");
        if depth + 1 > MAX_DEPTH {
            if !ctx.depth_reported {
                ctx.depth_reported = true;
                ctx.problem(format!(
                    "{inner}: archives nested more than {MAX_DEPTH} levels deep are not inspected"
                ));
            }
            continue;
        }
        if ctx.archives >= MAX_ARCHIVES {
            if !ctx.archives_reported {
                ctx.archives_reported = true;
                ctx.problem(format!(
                    "more than {MAX_ARCHIVES} nested archives; the rest are not inspected"
                ));
            }
            return;
        }
        ctx.archives += 1;
        if let Some(data) = read_entry(ctx, &mut zip, i, MAX_NESTED_BYTES, path, depth) {
            scan_archive(ctx, &inner, &data, depth + 1);
        }
    }
}

/// Reads entry `i` whole if it stays within `cap`, the compression ratio limit and the
/// remaining budget; otherwise records why not and returns `None`.
fn read_entry<R: Read + Seek>(
    ctx: &mut Ctx,
    zip: &mut ZipArchive<R>,
    i: usize,
    cap: u64,
    path: &str,
    depth: usize,
) -> Option<Vec<u8>> {
    let name = zip.name_for_index(i).unwrap_or_default().to_string();
    // Problems about entries name the entry inside the archive; the walker adds the file.
    let entry = if depth == 0 {
        name.clone()
    } else {
        format!("{path}!/{name}")
    };
    if ctx.budget == 0 {
        if !ctx.budget_reported {
            ctx.budget_reported = true;
            ctx.problem(format!(
                "{entry}: over {MAX_TOTAL_BYTES} decompressed bytes read from this archive; the rest is not inspected"
            ));
        }
        return None;
    }
    let mut file = match zip.by_index(i) {
        Ok(f) => f,
        Err(e) => {
            ctx.problem(format!("{entry}: cannot read entry ({e})"));
            return None;
        }
    };
    let declared = file.size();
    let compressed = file.compressed_size();
    let ratio_cap = if file.compression() == CompressionMethod::Stored {
        u64::MAX
    } else {
        compressed
            .saturating_mul(MAX_RATIO)
            .saturating_add(RATIO_SLACK)
    };
    if declared > cap {
        ctx.problem(format!(
            "{entry}: entry is {declared} bytes, over the {cap}-byte limit; not inspected"
        ));
        return None;
    }
    if declared > ratio_cap {
        ctx.problem(format!(
            "{entry}: entry claims {declared} bytes from {compressed} compressed (over {MAX_RATIO}:1), a zip bomb; not inspected"
        ));
        return None;
    }
    let budget = ctx.budget;
    let limit = cap.min(ratio_cap).min(budget);
    let mut data = Vec::with_capacity(declared.min(limit).min(1 << 20) as usize);
    let result = (&mut file)
        .take(limit.saturating_add(1))
        .read_to_end(&mut data);
    ctx.budget = budget.saturating_sub(data.len() as u64);
    match result {
        Err(e) => {
            ctx.problem(format!("{entry}: corrupt entry ({e})"));
            None
        }
        Ok(n) if n as u64 > limit => {
            let why = if budget < cap.min(ratio_cap) {
                ctx.budget = 0;
                ctx.budget_reported = true;
                format!("over {MAX_TOTAL_BYTES} decompressed bytes read from this archive")
            } else if ratio_cap < cap {
                format!(
                    "decompresses to over {MAX_RATIO} times its {compressed} compressed bytes, a zip bomb"
                )
            } else {
                format!(
                    "decompresses to over the {cap}-byte limit, more than its header's {declared}"
                )
            };
            ctx.problem(format!("{entry}: {why}; not inspected"));
            None
        }
        Ok(_) => Some(data),
    }
}

/// `(group, artifact)` of `META-INF/maven/<group>/<artifact>/pom.properties`.
fn pom_properties_coordinates(name: &str) -> Option<(&str, &str)> {
    let rest = name.strip_prefix("META-INF/maven/")?;
    let rest = rest.strip_suffix("/pom.properties")?;
    let (group, artifact) = rest.split_once('/')?;
    if group.is_empty() || artifact.is_empty() || artifact.contains('/') {
        return None;
    }
    Some((group, artifact))
}

fn base_name(path: &str) -> &str {
    path.rsplit(['/', '!']).next().unwrap_or(path)
}

/// Java `.properties`: `key=value`, `key: value` or `key value`, `#`/`!` comments, backslash
/// continuations and escapes.
pub(super) fn parse_properties(text: &str) -> HashMap<String, String> {
    let mut out = HashMap::new();
    let mut logical = String::new();
    for raw in text.lines() {
        let line = raw.trim_start();
        if logical.is_empty() && (line.is_empty() || line.starts_with('#') || line.starts_with('!'))
        {
            continue;
        }
        let trailing = line.len() - line.trim_end_matches('\\').len();
        if trailing % 2 == 1 {
            logical.push_str(&line[..line.len() - 1]);
            continue;
        }
        logical.push_str(line);
        let entry = std::mem::take(&mut logical);
        let (key, value) = split_property(&entry);
        out.insert(unescape(key), unescape(value.trim_start()));
    }
    if !logical.is_empty() {
        let (key, value) = split_property(&logical);
        out.insert(unescape(key), unescape(value.trim_start()));
    }
    out
}

fn split_property(line: &str) -> (&str, &str) {
    let mut escaped = false;
    for (i, c) in line.char_indices() {
        if escaped {
            escaped = false;
            continue;
        }
        match c {
            '\\' => escaped = true,
            '=' | ':' => return (&line[..i], &line[i + 1..]),
            c if c.is_whitespace() => {
                let rest = line[i..].trim_start();
                let rest = rest
                    .strip_prefix('=')
                    .or_else(|| rest.strip_prefix(':'))
                    .unwrap_or(rest);
                return (&line[..i], rest);
            }
            _ => {}
        }
    }
    (line, "")
}

fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('t') => out.push('\t'),
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some('f') => out.push('\x0c'),
            Some('u') => {
                let hex: String = chars.by_ref().take(4).collect();
                if let Some(ch) = u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32) {
                    out.push(ch);
                }
            }
            Some(other) => out.push(other),
            None => {}
        }
    }
    out
}

/// The main section of a manifest, as `(name, value)`: lines are at most 72 bytes, and a
/// line starting with one space continues the previous value.
pub(super) fn parse_manifest(text: &str) -> Vec<(String, String)> {
    let text = text.replace("\r\n", "\n").replace('\r', "\n");
    let mut fields: Vec<(String, String)> = Vec::new();
    for line in text.split('\n') {
        if line.is_empty() {
            if fields.is_empty() {
                continue;
            }
            break;
        }
        if let Some(rest) = line.strip_prefix(' ') {
            if let Some((_, value)) = fields.last_mut() {
                value.push_str(rest);
            }
            continue;
        }
        if let Some((k, v)) = line.split_once(':') {
            fields.push((
                k.trim().to_string(),
                v.strip_prefix(' ').unwrap_or(v).to_string(),
            ));
        }
    }
    for (_, v) in &mut fields {
        *v = v.trim().to_string();
    }
    fields
}

fn manifest_field<'a>(fields: &'a [(String, String)], name: &str) -> Option<&'a str> {
    fields
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
        .filter(|v| !v.is_empty())
}

/// A plausible identifier: what a Maven artifactId or groupId can be.
fn id_like(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 200
        && s.starts_with(|c: char| c.is_ascii_alphanumeric())
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

fn plausible_version(v: &str) -> bool {
    !v.is_empty()
        && v.len() <= 200
        && v.chars().any(|c| c.is_ascii_digit())
        && !v.contains("${")
        && !v.chars().any(|c| c.is_whitespace() || c.is_control())
}

/// The package a manifest (or, failing it, the file name) describes. The artifactId is the
/// file name without extension and version; the version is `Implementation-Version`,
/// `Bundle-Version` or `Specification-Version`, else the file name's (then the record is
/// `inferred`, and has no groupId).
pub(super) fn manifest_record(
    fields: &[(String, String)],
    stem: Option<&(String, Option<String>)>,
) -> Option<PackageRecord> {
    let manifest_version = [
        "Implementation-Version",
        "Bundle-Version",
        "Specification-Version",
    ]
    .iter()
    .filter_map(|k| manifest_field(fields, k))
    .find(|v| plausible_version(v));
    let (version, inferred) = match (manifest_version, stem.and_then(|s| s.1.as_deref())) {
        (Some(v), _) => (v.to_string(), false),
        (None, Some(v)) => (v.to_string(), true),
        (None, None) => return None,
    };
    // The file name, as Maven (`artifactId-version.jar`) and Debian (`artifactId.jar`) name
    // jars; manifest titles are display names (`Apache Log4j Core`, `Gson`), not artifactIds.
    let artifact = stem?.0.clone();
    let group = if inferred {
        None
    } else {
        let symbolic = manifest_field(fields, "Bundle-SymbolicName")
            .map(|s| s.split(';').next().unwrap_or(s).trim());
        guess_group(
            symbolic,
            &artifact,
            manifest_field(fields, "Implementation-Vendor-Id"),
        )
    };
    let mut record = PackageRecord::new(Ecosystem::Maven, artifact, version);
    record.namespace = group;
    record.inferred = inferred;
    Some(record)
}

/// The groupId, where the manifest says it soundly. An OSGi symbolic name is usually the
/// groupId joined to the artifactId (`com.fasterxml.jackson.core.jackson-databind`) or to the
/// artifactId minus a prefix the groupId ends with (`org.apache.logging.log4j.core` for
/// `log4j-core`, `org.mongodb.driver-async` for `mongodb-driver-async`). Failing that,
/// `Implementation-Vendor-Id`, which Maven's archiver fills with the groupId.
fn guess_group(symbolic: Option<&str>, artifact: &str, vendor_id: Option<&str>) -> Option<String> {
    if let Some(bsn) = symbolic.filter(|s| id_like(s)) {
        if let Some(prefix) = bsn
            .strip_suffix(artifact)
            .and_then(|p| p.strip_suffix('.'))
            .filter(|p| !p.is_empty())
        {
            return Some(prefix.to_string());
        }
        let norm = |s: &str| s.replace(['-', '_'], ".");
        let (nb, na) = (norm(bsn), norm(artifact));
        if na.contains('.') && nb.len() > na.len() + 1 && nb.ends_with(&na) {
            let cut = nb.len() - na.len();
            if nb.as_bytes()[cut - 1] == b'.' {
                let prefix = &bsn[..cut - 1];
                let first = artifact.split(['-', '_', '.']).next().unwrap_or(artifact);
                return Some(format!("{prefix}.{first}"));
            }
        }
    }
    vendor_id.filter(|v| id_like(v)).map(str::to_string)
}

/// Words that end a version's qualifier rather than an artifactId (`1.0-rc-1`, `2.0-beta-3`).
const QUALIFIERS: &[&str] = &[
    "alpha",
    "a",
    "beta",
    "b",
    "milestone",
    "m",
    "rc",
    "cr",
    "ea",
    "sp",
    "pre",
    "patch",
    "build",
    "snapshot",
    "release",
    "final",
    "ga",
    "preview",
    "dev",
];

/// `log4j-core-2.14.1.jar` → `("log4j-core", Some("2.14.1"))`: the version starts at the last
/// `-<digit>` that follows a word, so `log4j-1.2-api-2.19.0` and `guava-31.1-jre` split right;
/// a name without one is `(stem, None)`.
pub(super) fn parse_file_name(name: &str) -> Option<(String, Option<String>)> {
    let stem = match name.rfind('.') {
        Some(dot) if is_archive_name(name) => &name[..dot],
        _ => name,
    };
    if stem.is_empty() {
        return None;
    }
    let tokens: Vec<&str> = stem.split('-').collect();
    let mut split = None;
    for k in 1..tokens.len() {
        let prev = tokens[k - 1];
        if tokens[k].starts_with(|c: char| c.is_ascii_digit())
            && prev.starts_with(|c: char| c.is_ascii_alphabetic())
            && !QUALIFIERS.iter().any(|q| prev.eq_ignore_ascii_case(q))
        {
            split = Some(k);
        }
    }
    Some(match split {
        Some(k) => (tokens[..k].join("-"), Some(tokens[k..].join("-"))),
        None => (stem.to_string(), None),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;
    use std::io::Write;
    use zip::write::SimpleFileOptions;

    fn zip_of(entries: &[(&str, &[u8])], method: CompressionMethod) -> Vec<u8> {
        let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let opts = SimpleFileOptions::default().compression_method(method);
        for (name, data) in entries {
            w.start_file(*name, opts).unwrap();
            w.write_all(data).unwrap();
        }
        w.finish().unwrap().into_inner()
    }

    fn props(g: &str, a: &str, v: &str) -> Vec<u8> {
        format!("#Generated by Maven\ngroupId={g}\nartifactId={a}\nversion={v}\n").into_bytes()
    }

    fn coords(scan: &Scan) -> Vec<(String, String, String, bool, Vec<String>)> {
        let mut v: Vec<_> = scan
            .records
            .iter()
            .map(|r| {
                (
                    r.namespace.clone().unwrap_or_default(),
                    r.name.clone(),
                    r.version.clone(),
                    r.inferred,
                    r.files.clone(),
                )
            })
            .collect();
        v.sort();
        v
    }

    #[test]
    fn file_names() {
        let p = |n: &str| parse_file_name(n).unwrap();
        let s = |a: &str, v: Option<&str>| (a.to_string(), v.map(str::to_string));
        assert_eq!(p("log4j-core-2.14.1.jar"), s("log4j-core", Some("2.14.1")));
        assert_eq!(
            p("log4j-1.2-api-2.19.0.jar"),
            s("log4j-1.2-api", Some("2.19.0"))
        );
        assert_eq!(p("guava-31.1-jre.jar"), s("guava", Some("31.1-jre")));
        assert_eq!(
            p("javax.ws.rs-api-2.1.1-rc-1.jar"),
            s("javax.ws.rs-api", Some("2.1.1-rc-1"))
        );
        assert_eq!(
            p("commons-lang3-3.12.0.JAR"),
            s("commons-lang3", Some("3.12.0"))
        );
        assert_eq!(
            p("netty-transport-native-epoll-4.1.79.Final-linux-x86_64.jar"),
            s(
                "netty-transport-native-epoll",
                Some("4.1.79.Final-linux-x86_64")
            )
        );
        assert_eq!(p("foo-1.0-2.jar"), s("foo", Some("1.0-2")));
        assert_eq!(p("log4j-core.jar"), s("log4j-core", None));
        assert_eq!(
            p("bcprov-jdk15on-1.70.jar"),
            s("bcprov-jdk15on", Some("1.70"))
        );
    }

    #[test]
    fn manifest_continuations_and_group_guesses() {
        let text = "Manifest-Version: 1.0\r\nImplementation-Title: Apache Log4j Core\r\nImplementation-Version: 2.19.0\r\nBundle-SymbolicName: org.apache.logging.log4j.c\r\n ore\r\nExport-Package: a.b;version=\"1\r\n .0\"\r\n\r\nName: x/y\r\nImplementation-Version: 9\r\n";
        let f = parse_manifest(text);
        assert_eq!(
            manifest_field(&f, "bundle-symbolicname"),
            Some("org.apache.logging.log4j.core")
        );
        assert_eq!(
            manifest_field(&f, "Export-Package"),
            Some("a.b;version=\"1.0\"")
        );
        assert_eq!(manifest_field(&f, "Implementation-Version"), Some("2.19.0"));
        let stem = parse_file_name("log4j-core.jar").unwrap();
        let r = manifest_record(&f, Some(&stem)).unwrap();
        assert_eq!(
            (
                r.namespace.as_deref(),
                r.name.as_str(),
                r.version.as_str(),
                r.inferred
            ),
            (
                Some("org.apache.logging.log4j"),
                "log4j-core",
                "2.19.0",
                false
            )
        );
        let g = |bsn, a| guess_group(Some(bsn), a, None);
        assert_eq!(
            g(
                "com.fasterxml.jackson.core.jackson-databind",
                "jackson-databind"
            )
            .as_deref(),
            Some("com.fasterxml.jackson.core")
        );
        assert_eq!(
            g("org.mongodb.driver-async", "mongodb-driver-async").as_deref(),
            Some("org.mongodb")
        );
        assert_eq!(
            g("org.apache.commons.lang3", "commons-lang3").as_deref(),
            Some("org.apache.commons")
        );
        assert_eq!(
            g("org.apache.httpcomponents.httpcore", "httpcore").as_deref(),
            Some("org.apache.httpcomponents")
        );
        assert_eq!(
            guess_group(Some("weird"), "x", Some("commons-codec")).as_deref(),
            Some("commons-codec")
        );
        assert_eq!(guess_group(None, "x", Some("Some Vendor")), None);
        // Debian's mongodb jars: Bundle-* only.
        let f = parse_manifest("Bundle-Name: mongodb-driver-async\nBundle-SymbolicName: org.mongodb.driver-async\nBundle-Version: 3.6.3\n");
        let stem = parse_file_name("mongodb-driver-async.jar").unwrap();
        let r = manifest_record(&f, Some(&stem)).unwrap();
        assert_eq!(
            (r.namespace.as_deref(), r.name.as_str(), r.version.as_str()),
            (Some("org.mongodb"), "mongodb-driver-async", "3.6.3")
        );
        // Nothing versioned at all: nothing.
        assert!(manifest_record(
            &parse_manifest("Main-Class: x\n"),
            Some(&parse_file_name("app.jar").unwrap())
        )
        .is_none());
    }

    #[test]
    fn properties_syntax() {
        let p = parse_properties(
            "# c\n! c\n  groupId = org.x\nartifactId:a\\\n    b\nversion 1.0\\u0041\nkey\\=x=y\n",
        );
        assert_eq!(p["groupId"], "org.x");
        assert_eq!(p["artifactId"], "ab");
        assert_eq!(p["version"], "1.0A");
        assert_eq!(p["key=x"], "y");
    }

    #[test]
    fn shaded_manifest_and_name_only() {
        let shaded = zip_of(
            &[
                ("META-INF/MANIFEST.MF", b"Manifest-Version: 1.0\n"),
                (
                    "META-INF/maven/com.acme/app/pom.properties",
                    &props("com.acme", "app", "1.0"),
                ),
                (
                    "META-INF/maven/com.google.guava/guava/pom.properties",
                    &props("com.google.guava", "guava", "31.1-jre"),
                ),
                ("com/acme/App.class", b"\xca\xfe\xba\xbe"),
            ],
            CompressionMethod::Deflated,
        );
        let s = scan("/opt/app-1.0.jar", &shaded);
        assert!(s.problems.is_empty(), "{:?}", s.problems);
        let files = vec!["/opt/app-1.0.jar".to_string()];
        assert_eq!(
            coords(&s),
            vec![
                (
                    "com.acme".into(),
                    "app".into(),
                    "1.0".into(),
                    false,
                    files.clone()
                ),
                (
                    "com.google.guava".into(),
                    "guava".into(),
                    "31.1-jre".into(),
                    false,
                    files
                ),
            ]
        );
        let name_only = zip_of(&[("a/B.class", b"x")], CompressionMethod::Stored);
        let s = scan("/x/log4j-core-2.14.1.jar", &name_only);
        assert_eq!(
            coords(&s),
            vec![(
                String::new(),
                "log4j-core".into(),
                "2.14.1".into(),
                true,
                vec!["/x/log4j-core-2.14.1.jar".into()]
            )]
        );
        // Unversioned and unidentified: nothing, and no complaint.
        let s = scan("/x/app.jar", &name_only);
        assert!(s.records.is_empty() && s.problems.is_empty());
    }

    #[test]
    fn nested_archives_show_their_path_and_merge() {
        let inner = zip_of(
            &[(
                "META-INF/maven/org.x/lib/pom.properties",
                &props("org.x", "lib", "2"),
            )],
            CompressionMethod::Deflated,
        );
        let middle = zip_of(&[("lib/lib-2.jar", &inner)], CompressionMethod::Deflated);
        let war = zip_of(
            &[
                ("WEB-INF/lib/middle-1.jar", &middle),
                ("WEB-INF/lib/lib-2.jar", &inner),
            ],
            CompressionMethod::Stored,
        );
        let s = scan("/app/a.war", &war);
        assert!(s.problems.is_empty(), "{:?}", s.problems);
        assert_eq!(
            coords(&s),
            vec![
                (
                    String::new(),
                    "middle".into(),
                    "1".into(),
                    true,
                    vec!["/app/a.war!/WEB-INF/lib/middle-1.jar".into()]
                ),
                (
                    "org.x".into(),
                    "lib".into(),
                    "2".into(),
                    false,
                    vec![
                        "/app/a.war!/WEB-INF/lib/middle-1.jar!/lib/lib-2.jar".into(),
                        "/app/a.war!/WEB-INF/lib/lib-2.jar".into()
                    ]
                ),
            ]
        );
    }

    #[test]
    fn broken_archives_are_problems() {
        let good = zip_of(
            &[("META-INF/maven/g/a/pom.properties", &props("g", "a", "1"))],
            CompressionMethod::Deflated,
        );
        for bad in [
            &good[..good.len() - 10],
            &b"garbage, not a zip"[..],
            &[][..],
        ] {
            let s = scan("/x.jar", bad);
            assert!(s.records.is_empty());
            assert_eq!(s.problems.len(), 1, "{:?}", s.problems);
            assert!(
                s.problems[0].contains("not a readable zip archive"),
                "{:?}",
                s.problems
            );
        }
        // A nested one names itself.
        let outer = zip_of(
            &[
                ("lib/bad.jar", b"PK\x03\x04 broken"),
                ("META-INF/maven/g/a/pom.properties", &props("g", "a", "1")),
            ],
            CompressionMethod::Stored,
        );
        let s = scan("/x.war", &outer);
        assert_eq!(s.records.len(), 1);
        assert!(
            s.problems[0].starts_with("/x.war!/lib/bad.jar: not a readable zip archive"),
            "{:?}",
            s.problems
        );
    }

    /// Rewrites every header's uncompressed size (no zip64 here) to `size`: a lying header.
    fn lie_about_sizes(zip: &mut [u8], size: u32) {
        for i in 0..zip.len().saturating_sub(30) {
            let at = match &zip[i..i + 4] {
                b"PK\x03\x04" => i + 22,
                b"PK\x01\x02" => i + 24,
                _ => continue,
            };
            zip[at..at + 4].copy_from_slice(&size.to_le_bytes());
        }
    }

    #[test]
    fn zip_bombs_are_capped() {
        let zeros = vec![0u8; 100 << 20];
        let start = std::time::Instant::now();
        // Honest headers: the ratio gives it away before anything is inflated.
        let bomb = zip_of(&[("lib/zeros.jar", &zeros)], CompressionMethod::Deflated);
        assert!(bomb.len() < 1 << 20);
        let s = scan("/bomb.war", &bomb);
        assert!(s.records.is_empty());
        assert_eq!(s.problems.len(), 1, "{:?}", s.problems);
        assert!(
            s.problems[0].contains("claims 104857600 bytes") && s.problems[0].contains("zip bomb"),
            "{:?}",
            s.problems
        );
        // Lying headers: inflation stops at the ratio limit.
        let mut liar = bomb.clone();
        lie_about_sizes(&mut liar, 1000);
        let s = scan("/bomb.war", &liar);
        assert_eq!(s.problems.len(), 1, "{:?}", s.problems);
        assert!(
            s.problems[0].contains("decompresses to over 100 times"),
            "{:?}",
            s.problems
        );
        // Over the per-entry cap whatever the ratio.
        let big = zip_of(
            &[("lib/big.jar", &vec![7u8; (MAX_NESTED_BYTES + 1) as usize])],
            CompressionMethod::Stored,
        );
        let s = scan("/big.war", &big);
        assert!(
            s.problems[0].contains("over the 134217728-byte limit"),
            "{:?}",
            s.problems
        );
        assert!(start.elapsed().as_secs() < 20);
    }

    #[test]
    fn garbage_is_rejected_in_linear_time() {
        let start = std::time::Instant::now();
        let eocd = b"PK\x05\x06\0\0\0\0\x01\0\x01\0\x2e\0\0\0\0\0\0\0\0\0";
        for data in [
            vec![0u8; 16 << 20],
            eocd.repeat(1 << 20),
            b"PK\x03\x04junk".repeat(1 << 20),
        ] {
            let s = scan("/g.jar", &data);
            assert!(s.records.is_empty());
            assert_eq!(s.problems.len(), 1, "{:?}", s.problems);
            assert!(
                s.problems[0].starts_with("not a readable zip archive"),
                "{:?}",
                s.problems
            );
        }
        // A plausible end record over a broken directory, after a megabyte of decoy records.
        let mut crafted = eocd.repeat(1 << 16);
        let cd_start = crafted.len();
        let mut header = b"PK\x01\x02".to_vec();
        header.resize(46, 0);
        header[28..30].copy_from_slice(&0xFFFFu16.to_le_bytes());
        crafted.extend_from_slice(&header);
        crafted.extend_from_slice(b"PK\x05\x06\0\0\0\0\x01\0\x01\0\x2e\0\0\0");
        crafted.extend_from_slice(&(cd_start as u32).to_le_bytes());
        crafted.extend_from_slice(b"\0\0");
        let s = scan("/crafted.jar", &crafted);
        assert_eq!(s.problems.len(), 1, "{:?}", s.problems);
        assert!(
            s.problems[0].starts_with("not a readable zip archive"),
            "{:?}",
            s.problems
        );
        // An executable jar: a shell script before the zip still reads.
        let jar = zip_of(
            &[("META-INF/maven/g/a/pom.properties", &props("g", "a", "1"))],
            CompressionMethod::Deflated,
        );
        let mut exec = b"#!/bin/sh\nexec java -jar \"$0\" \"$@\"\n".to_vec();
        exec.extend_from_slice(&jar);
        let s = scan("/app.jar", &exec);
        assert!(s.problems.is_empty(), "{:?}", s.problems);
        assert_eq!(s.records.len(), 1);
        assert!(start.elapsed().as_secs() < 10, "{:?}", start.elapsed());
    }

    #[test]
    fn nesting_bomb_stops_at_the_depth_limit() {
        let mut archive = zip_of(
            &[(
                "META-INF/maven/g/deep/pom.properties",
                &props("g", "deep", "1"),
            )],
            CompressionMethod::Stored,
        );
        for level in 0..12 {
            archive = zip_of(
                &[
                    (&format!("n{level}.jar"), &archive),
                    (&format!("m{level}.jar"), &archive),
                ],
                CompressionMethod::Stored,
            );
        }
        let s = scan("/nest.jar", &archive);
        assert!(s.records.is_empty());
        assert_eq!(s.problems.len(), 1, "{:?}", s.problems);
        assert!(
            s.problems[0].contains("nested more than 4 levels"),
            "{:?}",
            s.problems
        );
    }
}
