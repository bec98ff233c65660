//! Go modules: what compiled binaries say they were built from (the build info the Go linker
//! embeds, read from ELF, Mach-O and PE executables) and what source trees require (`go.mod`).
//!
//! Binaries. Since Go 1.13 the linker writes a 32-byte header starting `\xff Go buildinf:` into
//! `.go.buildinfo` (ELF), `__go_buildinfo` (Mach-O) or the start of `.data` (PE). Byte 14 is the
//! pointer size, byte 15 flags. Go ≥ 1.18 sets flag bit 2 (value 2) and follows the header with
//! two varint-length-prefixed strings, the toolchain version and the module info; older
//! toolchains store two pointers (pointer size and byte order from the header; bit 1 = big
//! endian) to Go string headers `{data, len}`, which are resolved through the sections (or
//! segments) that map those addresses. The module info is framed by two 16-byte sentinels and
//! holds `path`, `mod` (main module), `dep` and `=>` (replacement) lines and, since 1.18,
//! `build` settings (parsed, kept in [`GoBuildInfo::settings`], not reported as packages).
//!
//! What is reported, as peers do:
//! * the main module with its version as written; `(devel)` stays `(devel)`;
//! * every `dep`. A dependency replaced by another *module* (`=> example.com/fork v1.2.3`) is
//!   the replacement's path and version — that is the code in the binary — with the original
//!   requirement kept in `source` (name = original path, version = original version). A
//!   dependency replaced by a *local directory* (`=> ./third_party/x (devel)`) has no
//!   identity of its own, so it is reported as the original path and required version (the
//!   best hint for advisory matching), with `source` naming the directory (version empty);
//! * the toolchain as a package named `stdlib` whose version is the Go version written as a
//!   module version (`go1.19.8` → `v1.19.8`, `go1.21rc2` → `v1.21.0-rc.2`), as trivy does,
//!   so Go standard library advisories (keyed by `stdlib` in the Go vulnerability database)
//!   can match.
//!
//! When the main module is `(devel)` (plain `go build`), its version is taken from the
//! `-ldflags` build setting's `-X main.version=…` (see `ldflags_version`), as syft does.
//!
//! `go.mod`: `require` lines (single and block; `// indirect` ones too: since Go 1.17 they
//! are the complete build list) with `replace` directives applied the same way. The module
//! itself is listed as the project's root with its version unknown (go.mod carries none),
//! and `stdlib` at the `toolchain` directive's version, else the `go` directive's. `go.sum` is not read (it lists
//! candidate versions, not the selected ones). go.mod files of module caches, vendor trees,
//! test data and Go's own source tree are skipped.
//!
//! Reachability (later work) needs the binary's function names: [`go_function_names`].

use bulwark_analyze::{
    Analyzer, AnalyzerOutput, Fact, FileKind, FileMeta, Interest, PackageRecord,
};
use bulwark_types::{Ecosystem, PackageRole, PackageSource};
use object::{Object, ObjectSection, ObjectSegment, ObjectSymbol, SymbolKind};

pub struct GoAnalyzer;

/// File heads that may be executables: ELF, Mach-O (32/64-bit, both byte orders) and PE.
/// (Universal Mach-O shares `\xca\xfe\xba\xbe` with Java classes and is not read.)
pub(crate) const EXECUTABLE_MAGIC: &[&[u8]] = &[
    b"\x7fELF",
    b"\xcf\xfa\xed\xfe",
    b"\xce\xfa\xed\xfe",
    b"\xfe\xed\xfa\xcf",
    b"\xfe\xed\xfa\xce",
    b"MZ",
];

/// Large Go binaries (kubelet, terraform providers) run to a few hundred MiB.
pub(crate) const MAX_EXECUTABLE_BYTES: u64 = 512 << 20;

const BUILDINFO_MAGIC: &[u8] = b"\xff Go buildinf:";
const BUILDINFO_HEADER: usize = 32;
const BUILDINFO_ALIGN: usize = 16;
/// Module info of the largest real binaries is a few hundred KiB.
const MAX_BUILDINFO_STRING: u64 = 16 << 20;

/// Whether a regular file at `path` could be an executable worth opening. Object files,
/// static archives, kernel modules and separate debug info are never programs.
/// What a binary analyzer asks of a file: its bytes if it looks like an executable and starts
/// with an executable format's magic, nothing otherwise.
pub(crate) fn executable_interest(file: &FileMeta) -> Interest {
    if executable_candidate(file) {
        Interest::ReadIfMagic {
            max_bytes: MAX_EXECUTABLE_BYTES,
            magic: EXECUTABLE_MAGIC,
        }
    } else {
        Interest::Skip
    }
}

pub(crate) fn executable_candidate(file: &FileMeta) -> bool {
    if file.kind != FileKind::Regular || file.size < 64 {
        return false;
    }
    let name = file.file_name();
    let skipped_ext = [".o", ".a", ".ko", ".debug", ".ko.xz", ".ko.zst"];
    !(file.path.starts_with("usr/lib/debug/") || skipped_ext.iter().any(|e| name.ends_with(e)))
}

/// Parses `bytes` as an ELF, Mach-O or PE file. `Ok(None)` when the file only looks like one
/// by its first bytes and is not worth a complaint (an `MZ` head without a PE signature).
pub(crate) fn open_executable(bytes: &[u8]) -> Result<Option<object::File<'_>>, String> {
    match object::File::parse(bytes) {
        Ok(f) => Ok(Some(f)),
        Err(_) if bytes.starts_with(b"MZ") && !has_pe_signature(bytes) => Ok(None),
        Err(e) => Err(format!(
            "not a readable executable ({}): {e}",
            container_name(bytes)
        )),
    }
}

fn container_name(bytes: &[u8]) -> &'static str {
    if bytes.starts_with(b"\x7fELF") {
        "ELF"
    } else if bytes.starts_with(b"MZ") {
        "PE"
    } else {
        "Mach-O"
    }
}

fn has_pe_signature(bytes: &[u8]) -> bool {
    let Some(lfanew) = bytes.get(0x3c..0x40) else {
        return false;
    };
    let off = u32::from_le_bytes([lfanew[0], lfanew[1], lfanew[2], lfanew[3]]) as usize;
    bytes.get(off..off.saturating_add(4)) == Some(b"PE\0\0")
}

impl Analyzer for GoAnalyzer {
    fn id(&self) -> &'static str {
        "go"
    }

    fn version(&self) -> u32 {
        3
    }

    fn wants(&self, file: &FileMeta) -> Interest {
        if file.kind != FileKind::Regular {
            return Interest::Skip;
        }
        if file.file_name() == "go.mod" {
            return if go_mod_wanted(file.path) {
                Interest::Read { max_bytes: 4 << 20 }
            } else {
                Interest::Skip
            };
        }
        executable_interest(file)
    }

    fn analyze(&self, file: &FileMeta, content: &[u8], out: &mut AnalyzerOutput) {
        if file.file_name() == "go.mod" && !EXECUTABLE_MAGIC.iter().any(|m| content.starts_with(m))
        {
            match parse_go_mod(&super::decode_text(content)) {
                Ok(records) if records.is_empty() => {}
                Ok(records) => out.fact(Fact::Packages {
                    records: super::declared(records),
                }),
                Err(e) => out.problem(e),
            }
            return;
        }
        match read_buildinfo(content) {
            Ok(None) => {}
            Ok(Some(info)) => {
                if info.malformed_lines > 0 {
                    out.problem(format!(
                        "Go build info has {} malformed line(s); they were ignored",
                        info.malformed_lines
                    ));
                }
                let records = buildinfo_records(&info);
                if !records.is_empty() {
                    out.fact(Fact::Packages { records });
                }
            }
            Err(e) => out.problem(e),
        }
    }
}

/// go.mod files that describe something built for this image, not a module cache, a vendored
/// copy, test data or the Go toolchain's own sources.
fn go_mod_wanted(path: &str) -> bool {
    let p = format!("/{path}");
    let skipped = [
        "/pkg/mod/",
        "/vendor/",
        "/testdata/",
        "/go/src/cmd/",
        "/go/src/go.mod",
        "/.cache/",
    ];
    if skipped.iter().any(|s| p.contains(s)) {
        return false;
    }
    // GOROOTs such as /usr/lib/go-1.19/src/…
    !p.split('/')
        .collect::<Vec<_>>()
        .windows(2)
        .any(|w| w[0].starts_with("go-1.") && w[1] == "src")
}

/// One module line of the build info.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GoModule {
    pub path: String,
    pub version: String,
    pub sum: Option<String>,
    pub replace: Option<Box<GoModule>>,
}

/// What a Go binary says about how it was built.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct GoBuildInfo {
    /// The toolchain, as `runtime.Version()` says it (`go1.19.8`).
    pub go_version: String,
    /// The main package's import path.
    pub path: Option<String>,
    pub main: Option<GoModule>,
    pub deps: Vec<GoModule>,
    /// `build` lines (`-compiler=gc`, `CGO_ENABLED=0`, `vcs.revision=…`), as written.
    pub settings: Vec<(String, String)>,
    /// Lines that were neither known nor well-formed.
    pub malformed_lines: usize,
}

/// Reads the Go build info of an executable. `Ok(None)` when it is a readable executable
/// without Go build info (not Go, or Go older than 1.13); `Err` for a corrupt container or
/// build info.
pub fn read_buildinfo(bytes: &[u8]) -> Result<Option<GoBuildInfo>, String> {
    let Some(file) = open_executable(bytes)? else {
        return Ok(None);
    };
    let Some(header) = find_buildinfo(&file, bytes) else {
        return Ok(None);
    };
    let ptr_size = header[14];
    let flags = header[15];
    let (version, modinfo) = if flags & 2 != 0 {
        let rest = &header[BUILDINFO_HEADER..];
        let (version, rest) = read_varint_string(rest)
            .map_err(|e| format!("Go build info: toolchain version: {e}"))?;
        let (modinfo, _) =
            read_varint_string(rest).map_err(|e| format!("Go build info: module info: {e}"))?;
        (version, modinfo)
    } else {
        let big_endian = flags & 1 != 0;
        let ptr = |b: &[u8]| -> u64 {
            match (ptr_size, big_endian) {
                (4, false) => u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as u64,
                (4, true) => u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as u64,
                (_, false) => u64::from_le_bytes(b[..8].try_into().unwrap_or([0; 8])),
                (_, true) => u64::from_be_bytes(b[..8].try_into().unwrap_or([0; 8])),
            }
        };
        if ptr_size != 4 && ptr_size != 8 {
            return Err(format!(
                "Go build info header has pointer size {ptr_size}, not 4 or 8"
            ));
        }
        let p = ptr_size as usize;
        let version_at = ptr(&header[16..16 + p]);
        let modinfo_at = ptr(&header[16 + p..16 + 2 * p]);
        let read_string = |at: u64, what: &str| -> Result<&[u8], String> {
            let head = read_at_address(&file, at, 2 * p as u64).ok_or_else(|| {
                format!("Go build info: the {what} string header at {at:#x} is outside the file")
            })?;
            let (data, len) = (ptr(&head[..p]), ptr(&head[p..]));
            if len > MAX_BUILDINFO_STRING {
                return Err(format!(
                    "Go build info: the {what} string claims {len} bytes"
                ));
            }
            read_at_address(&file, data, len)
                .ok_or_else(|| format!("Go build info: the {what} string at {data:#x} ({len} bytes) is outside the file"))
        };
        (
            read_string(version_at, "toolchain version")?,
            read_string(modinfo_at, "module info")?,
        )
    };
    let version = String::from_utf8_lossy(version).into_owned();
    // The module info is framed by two 16-byte sentinels (cmd/go's infoStart and infoEnd).
    let modinfo = if modinfo.len() >= 33 && modinfo[modinfo.len() - 17] == b'\n' {
        &modinfo[16..modinfo.len() - 16]
    } else {
        &[][..]
    };
    Ok(Some(parse_modinfo(
        &version,
        &String::from_utf8_lossy(modinfo),
    )))
}

/// The build info header, found where the linker puts it, or — for Go binaries whose section
/// headers were stripped — at any 16-byte-aligned offset of the file.
fn find_buildinfo<'a>(file: &object::File<'_>, bytes: &'a [u8]) -> Option<&'a [u8]> {
    for name in [".go.buildinfo", "__go_buildinfo"] {
        if let Some(section) = file.section_by_name(name) {
            let (start, size) = section.file_range()?;
            let region = bytes.get(start as usize..(start.saturating_add(size)) as usize)?;
            return search_magic(region);
        }
    }
    if file.format() == object::BinaryFormat::Pe {
        let (start, size) = file.section_by_name(".data")?.file_range()?;
        return search_magic(bytes.get(start as usize..(start.saturating_add(size)) as usize)?);
    }
    let looks_go = [".gopclntab", ".note.go.buildid", "__gopclntab"]
        .iter()
        .any(|n| file.section_by_name(n).is_some());
    if looks_go || file.sections().next().is_none() {
        return search_magic(bytes);
    }
    None
}

fn search_magic(region: &[u8]) -> Option<&[u8]> {
    let mut at = 0;
    while at + BUILDINFO_HEADER <= region.len() {
        if region[at..].starts_with(BUILDINFO_MAGIC) {
            return Some(&region[at..]);
        }
        at += BUILDINFO_ALIGN;
    }
    None
}

/// `len` bytes at virtual address `address`, from whichever section (or segment) maps it.
fn read_at_address<'a>(file: &object::File<'a>, address: u64, len: u64) -> Option<&'a [u8]> {
    let end = address.checked_add(len)?;
    let slice = |base: u64, data: &'a [u8]| -> Option<&'a [u8]> {
        let from = usize::try_from(address - base).ok()?;
        let to = usize::try_from(end - base).ok()?;
        data.get(from..to)
    };
    // Sections at address 0 are not loaded (symbol and string tables).
    for section in file.sections().filter(|s| s.address() != 0) {
        let base = section.address();
        if address >= base && address < base.saturating_add(section.size()) {
            if let Some(found) = section.data().ok().and_then(|d| slice(base, d)) {
                return Some(found);
            }
        }
    }
    for segment in file.segments() {
        let base = segment.address();
        if address >= base && address < base.saturating_add(segment.size()) {
            if let Some(found) = segment.data().ok().and_then(|d| slice(base, d)) {
                return Some(found);
            }
        }
    }
    None
}

/// An unsigned LEB128 varint (Go's `binary.Uvarint`): at most 10 bytes, no overflow.
fn read_uvarint(bytes: &[u8]) -> Result<(u64, usize), String> {
    let mut value: u64 = 0;
    for (i, &b) in bytes.iter().enumerate().take(10) {
        if i == 9 && b > 1 {
            return Err("varint overflows 64 bits".into());
        }
        value |= u64::from(b & 0x7f) << (7 * i);
        if b & 0x80 == 0 {
            return Ok((value, i + 1));
        }
    }
    Err(if bytes.len() < 10 {
        "truncated varint".into()
    } else {
        "varint longer than 10 bytes".into()
    })
}

fn read_varint_string(bytes: &[u8]) -> Result<(&[u8], &[u8]), String> {
    let (len, used) = read_uvarint(bytes)?;
    let rest = &bytes[used..];
    if len > MAX_BUILDINFO_STRING || len > rest.len() as u64 {
        return Err(format!(
            "string length {len} runs past the end of the data ({} bytes left)",
            rest.len()
        ));
    }
    Ok(rest.split_at(len as usize))
}

/// Parses the module info text (`go version -m` prints it).
pub fn parse_modinfo(go_version: &str, modinfo: &str) -> GoBuildInfo {
    let mut info = GoBuildInfo {
        go_version: go_version.to_string(),
        ..GoBuildInfo::default()
    };
    // Whether the last module line was `mod` (false: `dep`), for a following `=>`.
    let mut last_is_main = false;
    for line in modinfo.lines() {
        if line.trim().is_empty() {
            continue;
        }
        let fields: Vec<&str> = line.split('\t').collect();
        let module = |f: &[&str]| -> Option<GoModule> {
            let path = f.get(1).filter(|p| !p.is_empty())?;
            Some(GoModule {
                path: path.to_string(),
                version: f.get(2).copied().unwrap_or("").to_string(),
                sum: f.get(3).filter(|s| !s.is_empty()).map(|s| s.to_string()),
                replace: None,
            })
        };
        match fields[0] {
            "path" if fields.len() >= 2 => info.path = Some(fields[1].to_string()),
            "mod" => match module(&fields) {
                Some(mut m) => {
                    if m.version.is_empty() {
                        m.version = "(devel)".into();
                    }
                    info.main = Some(m);
                    last_is_main = true;
                }
                None => info.malformed_lines += 1,
            },
            "dep" => match module(&fields).filter(|m| !m.version.is_empty()) {
                Some(m) => {
                    info.deps.push(m);
                    last_is_main = false;
                }
                None => info.malformed_lines += 1,
            },
            "=>" => {
                let target = if last_is_main {
                    info.main.as_mut()
                } else {
                    info.deps.last_mut()
                };
                match (module(&fields), target) {
                    (Some(r), Some(t)) if t.replace.is_none() => t.replace = Some(Box::new(r)),
                    _ => info.malformed_lines += 1,
                }
            }
            "build" if fields.len() >= 2 => {
                let setting = fields[1..].join("\t");
                let (k, v) = setting.split_once('=').unwrap_or((&setting, ""));
                info.settings.push((k.to_string(), v.to_string()));
            }
            _ => info.malformed_lines += 1,
        }
    }
    info
}

/// A replacement that points at a directory rather than a module version.
fn is_local_path(path: &str, version: &str) -> bool {
    (version.is_empty() || version == "(devel)")
        && (path.starts_with("./")
            || path.starts_with("../")
            || path.starts_with('/')
            || path == "."
            || path == ".."
            || path.as_bytes().get(1..3) == Some(b":\\"))
}

/// The record for a required module after its replacement (see the module docs).
fn effective_record(path: &str, version: &str, replace: Option<(&str, &str)>) -> PackageRecord {
    match replace {
        Some((rpath, rversion)) if is_local_path(rpath, rversion) => {
            let mut r = PackageRecord::new(Ecosystem::Go, path, version);
            r.source = Some(PackageSource {
                name: rpath.to_string(),
                version: String::new(),
            });
            r
        }
        Some((rpath, rversion)) => {
            let mut r = PackageRecord::new(Ecosystem::Go, rpath, rversion);
            r.source = Some(PackageSource {
                name: path.to_string(),
                version: version.to_string(),
            });
            r
        }
        None => PackageRecord::new(Ecosystem::Go, path, version),
    }
}

/// The packages a binary's build info describes: main module, dependencies, `stdlib`.
pub fn buildinfo_records(info: &GoBuildInfo) -> Vec<PackageRecord> {
    let mut out = Vec::new();
    let deps: Vec<PackageRecord> = info
        .deps
        .iter()
        .map(|d| {
            let replace = d
                .replace
                .as_deref()
                .map(|r| (r.path.as_str(), r.version.as_str()));
            effective_record(&d.path, &d.version, replace)
        })
        .collect();
    if let Some(main) = &info.main {
        // `go build` leaves the main module `(devel)`; release builds stamp their version
        // with `-ldflags "-X main.version=v1.2.3"`, which the build settings record (even
        // for a stripped binary).
        let version = match main.version.as_str() {
            "(devel)" | "" => info
                .settings
                .iter()
                .find(|(k, _)| k == "-ldflags")
                .and_then(|(_, flags)| ldflags_version(flags))
                .unwrap_or_else(|| main.version.clone()),
            v => v.to_string(),
        };
        let mut r = PackageRecord::new(Ecosystem::Go, &main.path, version);
        r.dependencies = deps.iter().map(|d| d.name.clone()).collect();
        out.push(r);
    }
    out.extend(deps);
    if let Some(v) = stdlib_version(&info.go_version) {
        out.push(PackageRecord::new(Ecosystem::Go, "stdlib", v));
    }
    out
}

/// The version a `-ldflags` build setting stamps into the main package: the value of
/// `-X main.version=…` (or `main.Version`, then any `….version`/`….Version` variable, as
/// `internal/version.Version`), as a module version (`1.2.3` → `v1.2.3`). Values that do
/// not look like a version (`dev`, a commit hash) are not one.
fn ldflags_version(flags: &str) -> Option<String> {
    let flags = flags.trim();
    let flags = flags
        .strip_prefix('"')
        .and_then(|f| f.strip_suffix('"'))
        .unwrap_or(flags);
    // Shell-style words: `-X 'main.commit=abc def'` is one value.
    let mut words = Vec::new();
    let mut word = String::new();
    let mut quote = None;
    for c in flags.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => word.push(c),
            (None, '\'' | '"') => quote = Some(c),
            (None, c) if c.is_whitespace() => {
                if !word.is_empty() {
                    words.push(std::mem::take(&mut word));
                }
            }
            (None, c) => word.push(c),
        }
    }
    words.push(word);
    let mut assignments = Vec::new();
    let mut iter = words.iter();
    while let Some(w) = iter.next() {
        let assignment = match w.strip_prefix("-X") {
            Some("") => iter.next().map(String::as_str),
            Some(rest) => Some(rest.trim_start_matches('=')),
            None => None,
        };
        if let Some((key, value)) = assignment.and_then(|a| a.split_once('=')) {
            assignments.push((key, value));
        }
    }
    let rank = |key: &str| match key {
        "main.version" => Some(0),
        "main.Version" => Some(1),
        k if k.ends_with(".version") || k.ends_with(".Version") => Some(2),
        _ => None,
    };
    let (_, value) = assignments
        .iter()
        .filter_map(|(k, v)| rank(k).map(|r| (r, *v)))
        .filter(|(_, v)| {
            let digits = v.strip_prefix('v').unwrap_or(v);
            digits.starts_with(|c: char| c.is_ascii_digit())
                && digits.contains('.')
                && !digits.contains(char::is_whitespace)
        })
        .min_by_key(|(r, _)| *r)?;
    Some(if value.starts_with('v') {
        value.to_string()
    } else {
        format!("v{value}")
    })
}

/// `go1.19.8` → `v1.19.8`, `go1.20` → `v1.20.0`, `go1.21rc2` → `v1.21.0-rc.2`,
/// `go1.19.8 X:boringcrypto` → `v1.19.8`; `None` for development toolchains (`devel …`).
pub fn stdlib_version(go_version: &str) -> Option<String> {
    let v = go_version.split_whitespace().next()?.strip_prefix("go")?;
    let split = v
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(v.len());
    let (numbers, pre) = v.split_at(split);
    let mut parts: Vec<&str> = numbers.split('.').collect();
    if parts.is_empty() || parts.len() > 3 || parts.iter().any(|p| p.is_empty()) {
        return None;
    }
    while parts.len() < 3 {
        parts.push("0");
    }
    let mut out = format!("v{}", parts.join("."));
    if !pre.is_empty() {
        let kind: String = pre
            .chars()
            .take_while(|c| c.is_ascii_alphabetic())
            .collect();
        let num = &pre[kind.len()..];
        if kind.is_empty() || !num.chars().all(|c| c.is_ascii_digit()) {
            return None;
        }
        out.push_str(&format!("-{kind}"));
        if !num.is_empty() {
            out.push_str(&format!(".{num}"));
        }
    }
    Some(out)
}

/// The requirements of a `go.mod`, with `replace` directives applied.
pub fn parse_go_mod(text: &str) -> Result<Vec<PackageRecord>, String> {
    let mut module = None;
    let mut go_directive = None;
    let mut toolchain = None;
    let mut requires: Vec<(String, String)> = Vec::new();
    // (old path, old version if given, new path, new version)
    let mut replaces: Vec<(String, Option<String>, String, String)> = Vec::new();
    let mut block: Option<String> = None;
    let mut malformed = 0;
    for raw in text.lines() {
        let line = raw.split("//").next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        let (verb, args) = match &block {
            Some(_) if line == ")" => {
                block = None;
                continue;
            }
            Some(b) => (b.clone(), line.to_string()),
            None => {
                let (verb, rest) = match line.find(|c: char| c.is_whitespace() || c == '(') {
                    Some(i) => (&line[..i], line[i..].trim()),
                    None => (line, ""),
                };
                if rest == "(" {
                    block = Some(verb.to_string());
                    continue;
                }
                (verb.to_string(), rest.to_string())
            }
        };
        let tokens: Vec<String> = args
            .split_whitespace()
            .map(|t| t.trim_matches('"').to_string())
            .collect();
        match verb.as_str() {
            "module" => module = tokens.first().cloned(),
            "go" => go_directive = tokens.first().map(|v| format!("go{v}")),
            "toolchain" => toolchain = tokens.first().cloned(),
            "require" => match tokens.as_slice() {
                [path, version] => requires.push((path.clone(), version.clone())),
                _ => malformed += 1,
            },
            "replace" => match tokens.iter().position(|t| t == "=>") {
                Some(arrow)
                    if (1..=2).contains(&arrow)
                        && (1..=2).contains(&(tokens.len() - arrow - 1)) =>
                {
                    let old_version = (arrow == 2).then(|| tokens[1].clone());
                    let new_version = tokens.get(arrow + 2).cloned().unwrap_or_default();
                    replaces.push((
                        tokens[0].clone(),
                        old_version,
                        tokens[arrow + 1].clone(),
                        new_version,
                    ));
                }
                _ => malformed += 1,
            },
            _ => {}
        }
    }
    let Some(module) = module else {
        return Err("go.mod has no module directive".into());
    };
    if malformed > 0 && requires.is_empty() {
        return Err(format!(
            "go.mod has {malformed} malformed require/replace line(s) and no usable requirement"
        ));
    }
    let deps: Vec<PackageRecord> = requires
        .iter()
        .map(|(path, version)| {
            // A version-specific replacement wins over a path-wide one.
            let replace = replaces
                .iter()
                .find(|(p, v, _, _)| p == path && v.as_deref() == Some(version.as_str()))
                .or_else(|| {
                    replaces
                        .iter()
                        .find(|(p, v, _, _)| p == path && v.is_none())
                })
                .map(|(_, _, np, nv)| (np.as_str(), nv.as_str()));
            effective_record(path, version, replace)
        })
        .collect();
    // The main module is the project itself (the root, see docs/architecture.md); go.mod
    // carries no version for it, so it is unknown.
    let mut main = PackageRecord::new(Ecosystem::Go, module, "").with_role(PackageRole::Root);
    main.dependencies = deps.iter().map(|d| d.name.clone()).collect();
    let mut out = vec![main];
    out.extend(deps);
    // The toolchain that builds it: `toolchain go1.22.1`, else the `go 1.22.1` line (the
    // minimum Go version), written as binaries' `stdlib` is (`v1.22.1`) so the Go
    // vulnerability database's `stdlib` entries match either.
    if let Some(v) = toolchain
        .or(go_directive)
        .as_deref()
        .and_then(stdlib_version)
    {
        out.push(PackageRecord::new(Ecosystem::Go, "stdlib", v));
    }
    Ok(out)
}

/// The names of the functions in a binary's symbol table (`.symtab` for ELF, which Go fills
/// with every function, e.g. `golang.org/x/text/language.Parse`; Mach-O and PE symbol tables
/// work too), sorted and deduplicated, for reachability analysis.
///
/// Stripped binaries (`go build -ldflags=-s`, `strip`) have no symbol table; their function
/// names live only in `.gopclntab`, whose parsing is not done: they give an `Err` saying so.
pub fn go_function_names(bytes: &[u8]) -> Result<Vec<String>, String> {
    let file = object::File::parse(bytes).map_err(|e| format!("not a readable executable: {e}"))?;
    if file.symbol_table().is_none() {
        return Err("the binary has no symbol table (stripped); reading function names from .gopclntab is not implemented".into());
    }
    let mut names: Vec<String> = file
        .symbols()
        .filter(|s| s.kind() == SymbolKind::Text)
        .filter_map(|s| s.name().ok().filter(|n| !n.is_empty()).map(str::to_string))
        .collect();
    names.sort();
    names.dedup();
    Ok(names)
}

/// Minimal ELF64 little-endian writer for tests: named sections at given addresses.
#[cfg(test)]
pub(crate) mod testelf {
    pub struct Section<'a> {
        pub name: &'a str,
        pub addr: u64,
        pub data: Vec<u8>,
        /// SHT_PROGBITS = 1, SHT_SYMTAB = 2, SHT_STRTAB = 3
        pub kind: u32,
        pub link: u32,
        pub entsize: u64,
    }

    impl<'a> Section<'a> {
        pub fn progbits(name: &'a str, addr: u64, data: Vec<u8>) -> Self {
            Section {
                name,
                addr,
                data,
                kind: 1,
                link: 0,
                entsize: 0,
            }
        }
    }

    pub fn build(sections: &[Section]) -> Vec<u8> {
        let mut shstrtab = vec![0u8];
        let mut name_offsets = Vec::new();
        for s in sections {
            name_offsets.push(shstrtab.len() as u32);
            shstrtab.extend_from_slice(s.name.as_bytes());
            shstrtab.push(0);
        }
        let shstrtab_name = shstrtab.len() as u32;
        shstrtab.extend_from_slice(b".shstrtab\0");
        let mut out = vec![0u8; 64];
        let mut offsets = Vec::new();
        for s in sections {
            while !out.len().is_multiple_of(16) {
                out.push(0);
            }
            offsets.push(out.len() as u64);
            out.extend_from_slice(&s.data);
        }
        let shstrtab_off = out.len() as u64;
        out.extend_from_slice(&shstrtab);
        while !out.len().is_multiple_of(8) {
            out.push(0);
        }
        let shoff = out.len() as u64;
        let mut sh = |name: u32,
                      kind: u32,
                      flags: u64,
                      addr: u64,
                      off: u64,
                      size: u64,
                      link: u32,
                      entsize: u64| {
            out.extend_from_slice(&name.to_le_bytes());
            out.extend_from_slice(&kind.to_le_bytes());
            out.extend_from_slice(&flags.to_le_bytes());
            out.extend_from_slice(&addr.to_le_bytes());
            out.extend_from_slice(&off.to_le_bytes());
            out.extend_from_slice(&size.to_le_bytes());
            out.extend_from_slice(&link.to_le_bytes());
            out.extend_from_slice(&0u32.to_le_bytes());
            out.extend_from_slice(&16u64.to_le_bytes());
            out.extend_from_slice(&entsize.to_le_bytes());
        };
        sh(0, 0, 0, 0, 0, 0, 0, 0);
        for (i, s) in sections.iter().enumerate() {
            let flags = if s.kind == 1 { 0x3 } else { 0 };
            sh(
                name_offsets[i],
                s.kind,
                flags,
                s.addr,
                offsets[i],
                s.data.len() as u64,
                s.link,
                s.entsize,
            );
        }
        sh(
            shstrtab_name,
            3,
            0,
            0,
            shstrtab_off,
            shstrtab.len() as u64,
            0,
            0,
        );
        let shnum = sections.len() as u16 + 2;
        let mut h = Vec::new();
        h.extend_from_slice(b"\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0");
        h.extend_from_slice(&2u16.to_le_bytes()); // ET_EXEC
        h.extend_from_slice(&62u16.to_le_bytes()); // x86-64
        h.extend_from_slice(&1u32.to_le_bytes());
        h.extend_from_slice(&0x401000u64.to_le_bytes()); // entry
        h.extend_from_slice(&0u64.to_le_bytes()); // phoff
        h.extend_from_slice(&shoff.to_le_bytes());
        h.extend_from_slice(&0u32.to_le_bytes()); // flags
        h.extend_from_slice(&64u16.to_le_bytes()); // ehsize
        h.extend_from_slice(&56u16.to_le_bytes()); // phentsize
        h.extend_from_slice(&0u16.to_le_bytes()); // phnum
        h.extend_from_slice(&64u16.to_le_bytes()); // shentsize
        h.extend_from_slice(&shnum.to_le_bytes());
        h.extend_from_slice(&(shnum - 1).to_le_bytes()); // shstrndx
        out[..64].copy_from_slice(&h);
        out
    }

    /// Deterministic xorshift64 for fuzz loops.
    pub struct XorShift(pub u64);
    impl XorShift {
        pub fn next(&mut self) -> u64 {
            let mut x = self.0;
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            self.0 = x;
            x
        }
    }

    /// Flips, overwrites or truncates a copy of `base`: what a hostile or damaged file does.
    pub fn mutate(base: &[u8], rng: &mut XorShift) -> Vec<u8> {
        let mut b = base.to_vec();
        let edits = 1 + rng.next() % 8;
        for _ in 0..edits {
            if b.is_empty() {
                break;
            }
            let at = (rng.next() % b.len() as u64) as usize;
            match rng.next() % 5 {
                0 => b[at] ^= 1 << (rng.next() % 8),
                1 => b[at] = rng.next() as u8,
                2 => b[at] = 0xff,
                3 => {
                    // a wild 8-byte value: offsets, sizes and counts going out of range
                    let v = rng.next().to_le_bytes();
                    let end = (at + 8).min(b.len());
                    b[at..end].copy_from_slice(&v[..end - at]);
                }
                _ => b.truncate(at.max(4)),
            }
        }
        b
    }
}

#[cfg(test)]
mod tests {
    use super::testelf::{build, mutate, Section, XorShift};
    use super::*;

    const SENTINEL_START: &[u8] = b"0w\xaf\x0c\x92t\x08\x02A\xe1\xc1\x07\xe6\xd6\x18\xe6";
    const SENTINEL_END: &[u8] = b"\xf92C1\x86\x18 r\x00\x82B\x10A\x16\xd8\xf2";

    const MODINFO: &str = "path\texample.com/goapp\nmod\texample.com/goapp\t(devel)\t\ndep\tgithub.com/google/uuid\tv1.3.0\n=>\texample.com/fork/uuid\tv1.3.0\th1:qn7qwBMhH6m/ebNHoMT3wJPpngHYEiI2ELdfGN8s/P4=\n\ndep\tgithub.com/pkg/errors\tv0.9.1\n=>\t./third_party/errors\t(devel)\t\n\ndep\tgolang.org/x/text\tv0.7.0\th1:n0rZvyYZ61eGfN8aBX6iIGSbYpFAcRE4LZxoVyEEPhY=\nbuild\t-compiler=gc\nbuild\tCGO_ENABLED=0\n";

    fn framed(modinfo: &str) -> Vec<u8> {
        [SENTINEL_START, modinfo.as_bytes(), SENTINEL_END].concat()
    }

    fn varint(mut v: u64, out: &mut Vec<u8>) {
        while v >= 0x80 {
            out.push((v as u8) | 0x80);
            v >>= 7;
        }
        out.push(v as u8);
    }

    /// A Go ≥ 1.18 binary: inline strings.
    fn inline_elf(version: &str, modinfo: &str) -> Vec<u8> {
        let mut bi = BUILDINFO_MAGIC.to_vec();
        bi.extend_from_slice(&[8, 2]);
        bi.resize(32, 0);
        varint(version.len() as u64, &mut bi);
        bi.extend_from_slice(version.as_bytes());
        let m = framed(modinfo);
        varint(m.len() as u64, &mut bi);
        bi.extend_from_slice(&m);
        build(&[
            Section::progbits(".text", 0x401000, vec![0xc3; 32]),
            Section::progbits(".go.buildinfo", 0x500000, bi),
        ])
    }

    /// A Go < 1.18 binary: two pointers to string headers in `.data`, bytes in `.rodata`.
    fn pointer_elf(version: &str, modinfo: &str) -> Vec<u8> {
        let m = framed(modinfo);
        let mut rodata = version.as_bytes().to_vec();
        let modinfo_at = 0x600000 + rodata.len() as u64;
        rodata.extend_from_slice(&m);
        let mut data = Vec::new();
        for (ptr, len) in [
            (0x600000u64, version.len() as u64),
            (modinfo_at, m.len() as u64),
        ] {
            data.extend_from_slice(&ptr.to_le_bytes());
            data.extend_from_slice(&len.to_le_bytes());
        }
        let mut bi = BUILDINFO_MAGIC.to_vec();
        bi.extend_from_slice(&[8, 0]);
        bi.extend_from_slice(&0x700000u64.to_le_bytes());
        bi.extend_from_slice(&0x700010u64.to_le_bytes());
        build(&[
            Section::progbits(".go.buildinfo", 0x500000, bi),
            Section::progbits(".rodata", 0x600000, rodata),
            Section::progbits(".data", 0x700000, data),
        ])
    }

    fn summary(records: &[PackageRecord]) -> Vec<(String, String, Option<String>)> {
        records
            .iter()
            .map(|r| {
                (
                    r.name.clone(),
                    r.version.clone(),
                    r.source
                        .as_ref()
                        .map(|s| format!("{}@{}", s.name, s.version)),
                )
            })
            .collect()
    }

    fn expected() -> Vec<(String, String, Option<String>)> {
        vec![
            ("example.com/goapp".into(), "(devel)".into(), None),
            (
                "example.com/fork/uuid".into(),
                "v1.3.0".into(),
                Some("github.com/google/uuid@v1.3.0".into()),
            ),
            (
                "github.com/pkg/errors".into(),
                "v0.9.1".into(),
                Some("./third_party/errors@".into()),
            ),
            ("golang.org/x/text".into(), "v0.7.0".into(), None),
            ("stdlib".into(), "v1.19.8".into(), None),
        ]
    }

    #[test]
    fn reads_inline_buildinfo() {
        let info = read_buildinfo(&inline_elf("go1.19.8", MODINFO))
            .unwrap()
            .unwrap();
        assert_eq!(info.go_version, "go1.19.8");
        assert_eq!(info.path.as_deref(), Some("example.com/goapp"));
        assert_eq!(
            info.settings[1],
            ("CGO_ENABLED".to_string(), "0".to_string())
        );
        assert_eq!(info.malformed_lines, 0);
        let records = buildinfo_records(&info);
        assert_eq!(summary(&records), expected());
        assert_eq!(
            records[0].dependencies,
            vec![
                "example.com/fork/uuid",
                "github.com/pkg/errors",
                "golang.org/x/text"
            ]
        );
    }

    #[test]
    fn reads_pointer_buildinfo() {
        let info = read_buildinfo(&pointer_elf("go1.16.15", MODINFO))
            .unwrap()
            .unwrap();
        assert_eq!(info.go_version, "go1.16.15");
        let mut want = expected();
        want[4].1 = "v1.16.15".into();
        assert_eq!(summary(&buildinfo_records(&info)), want);
    }

    #[test]
    fn non_go_and_garbage() {
        let plain = build(&[Section::progbits(".text", 0x401000, vec![0xc3; 32])]);
        assert_eq!(read_buildinfo(&plain).unwrap(), None);
        assert!(read_buildinfo(b"\x7fELF\x02\x01\x01\0garbage").is_err());
        // An MZ head that is not PE is not worth a complaint.
        assert_eq!(
            read_buildinfo(b"MZ this is just text that starts with MZ.......................")
                .unwrap(),
            None
        );
        // bad varint, bad pointer size, pointers into nowhere
        let mut bi = BUILDINFO_MAGIC.to_vec();
        bi.extend_from_slice(&[8, 2]);
        bi.resize(32, 0);
        bi.extend_from_slice(&[0xff; 12]);
        let e = read_buildinfo(&build(&[Section::progbits(
            ".go.buildinfo",
            0x500000,
            bi.clone(),
        )]))
        .unwrap_err();
        assert!(e.contains("varint"), "{e}");
        bi[32..].fill(0);
        bi[32] = 0x7f; // length 127, nothing follows
        let e = read_buildinfo(&build(&[Section::progbits(
            ".go.buildinfo",
            0x500000,
            bi.clone(),
        )]))
        .unwrap_err();
        assert!(e.contains("past the end"), "{e}");
        bi[14] = 3;
        bi[15] = 0;
        let e = read_buildinfo(&build(&[Section::progbits(
            ".go.buildinfo",
            0x500000,
            bi.clone(),
        )]))
        .unwrap_err();
        assert!(e.contains("pointer size 3"), "{e}");
        bi[14] = 8;
        bi[16..24].copy_from_slice(&0x900000u64.to_le_bytes());
        let e = read_buildinfo(&build(&[Section::progbits(".go.buildinfo", 0x500000, bi)]))
            .unwrap_err();
        assert!(e.contains("outside the file"), "{e}");
    }

    #[test]
    fn modinfo_is_lenient_and_counts_garbage() {
        let info = parse_modinfo(
            "go1.20",
            "mod\tm\tv1.0.0\n=>\tx\tv1\n=>\ty\tv2\nnonsense\ndep\tonly-path\n",
        );
        assert_eq!(info.malformed_lines, 3);
        assert_eq!(info.main.unwrap().replace.unwrap().path, "x");
    }

    #[test]
    fn stdlib_versions() {
        assert_eq!(stdlib_version("go1.19.8").as_deref(), Some("v1.19.8"));
        assert_eq!(stdlib_version("go1.20").as_deref(), Some("v1.20.0"));
        assert_eq!(stdlib_version("go1.21rc2").as_deref(), Some("v1.21.0-rc.2"));
        assert_eq!(
            stdlib_version("go1.19beta1").as_deref(),
            Some("v1.19.0-beta.1")
        );
        assert_eq!(
            stdlib_version("go1.19.8 X:boringcrypto").as_deref(),
            Some("v1.19.8")
        );
        assert_eq!(stdlib_version("devel go1.22-abc"), None);
        assert_eq!(stdlib_version(""), None);
    }

    #[test]
    fn reads_go_mod() {
        let text = r#"module example.com/app

go 1.21
toolchain go1.21.5

require github.com/single/line v1.0.0

require (
	golang.org/x/text v0.3.7
	github.com/pkg/errors v0.9.1 // indirect
	"github.com/quoted/mod" v0.1.0
	github.com/fork/me v1.2.0
	github.com/local/dir v0.5.0
)

exclude golang.org/x/net v0.0.1

replace golang.org/x/text v0.3.7 => golang.org/x/text v0.3.8

replace (
	golang.org/x/text => golang.org/x/text v0.9.0 // path-wide, loses to the versioned one
	github.com/fork/me => github.com/me/fork v1.2.1
	github.com/local/dir => ../dir
)
"#;
        let got = summary(&parse_go_mod(text).unwrap());
        assert_eq!(
            got,
            vec![
                ("example.com/app".into(), String::new(), None),
                ("github.com/single/line".into(), "v1.0.0".into(), None),
                (
                    "golang.org/x/text".into(),
                    "v0.3.8".into(),
                    Some("golang.org/x/text@v0.3.7".into())
                ),
                ("github.com/pkg/errors".into(), "v0.9.1".into(), None),
                ("github.com/quoted/mod".into(), "v0.1.0".into(), None),
                (
                    "github.com/me/fork".into(),
                    "v1.2.1".into(),
                    Some("github.com/fork/me@v1.2.0".into())
                ),
                (
                    "github.com/local/dir".into(),
                    "v0.5.0".into(),
                    Some("../dir@".into())
                ),
                ("stdlib".into(), "v1.21.5".into(), None),
            ]
        );
        assert!(parse_go_mod("not a go.mod at all").is_err());
        assert!(parse_go_mod("module x\nrequire (\n  broken\n)\n").is_err());
        assert_eq!(
            summary(&parse_go_mod("module x\n\ngo 1.21\n").unwrap()),
            vec![
                ("x".into(), String::new(), None),
                ("stdlib".into(), "v1.21.0".into(), None)
            ]
        );
    }

    /// Issue 18.5: go.mod's main module is reported (the root, version unknown) with its
    /// requirements as dependencies, and `stdlib` at the toolchain's version (else the `go`
    /// line's), written as binaries write it.
    #[test]
    fn issue_18_5_go_mod_main_module_and_stdlib() {
        let text = "module github.com/acme/tool\n\ngo 1.22.0\n\ntoolchain go1.22.1\n\nrequire golang.org/x/net v0.23.0\n";
        let records = parse_go_mod(text).unwrap();
        let got = summary(&records);
        assert_eq!(
            got,
            vec![
                ("github.com/acme/tool".into(), String::new(), None),
                ("golang.org/x/net".into(), "v0.23.0".into(), None),
                ("stdlib".into(), "v1.22.1".into(), None),
            ]
        );
        assert_eq!(records[0].dependencies, vec!["golang.org/x/net"]);
        let no_toolchain = summary(&parse_go_mod("module m\ngo 1.22.1\n").unwrap());
        assert_eq!(no_toolchain[1], ("stdlib".into(), "v1.22.1".into(), None));
        // The same stdlib version a binary built by go1.22.1 reports.
        assert_eq!(stdlib_version("go1.22.1").as_deref(), Some("v1.22.1"));
    }

    /// Issue 18.5: a binary built with `go build -ldflags "-s -w -X main.version=1.2.3"` (the
    /// build settings below are what `go version -m` printed for such a build with go1.19.8)
    /// reports its main module at v1.2.3; without a stamped version it stays `(devel)`.
    #[test]
    fn issue_18_5_main_module_version_from_ldflags() {
        let modinfo = |ldflags: &str| {
            format!(
                "path\texample.com/hello\nmod\texample.com/hello\t(devel)\t\nbuild\t-compiler=gc\nbuild\t-ldflags={ldflags}\nbuild\tCGO_ENABLED=1\nbuild\tGOARCH=amd64\nbuild\tGOOS=linux\n"
            )
        };
        let main_version = |ldflags: &str| {
            let info = parse_modinfo("go1.19.8", &modinfo(ldflags));
            buildinfo_records(&info)[0].version.clone()
        };
        assert_eq!(
            main_version("\"-s -w -X main.version=1.2.3 -X 'main.commit=abc def'\""),
            "v1.2.3"
        );
        assert_eq!(
            main_version("\"-X=main.Version=v0.9.0-rc.1\""),
            "v0.9.0-rc.1"
        );
        assert_eq!(
            main_version("\"-X github.com/acme/tool/internal/version.Version=v2.0.1\""),
            "v2.0.1"
        );
        assert_eq!(
            main_version("\"-X main.commit=1.2.3 -X main.version=v3.1.0 -X x.version=9.9.9\""),
            "v3.1.0"
        );
        for unstamped in [
            "\"-s -w\"",
            "\"-X main.version=dev\"",
            "\"-X main.version=\"",
        ] {
            assert_eq!(main_version(unstamped), "(devel)", "{unstamped}");
        }
    }

    #[test]
    fn go_mod_paths() {
        assert!(go_mod_wanted("src/app/go.mod"));
        assert!(go_mod_wanted("go.mod"));
        assert!(!go_mod_wanted(
            "root/go/pkg/mod/github.com/x/y@v1.0.0/go.mod"
        ));
        assert!(!go_mod_wanted("app/vendor/github.com/x/y/go.mod"));
        assert!(!go_mod_wanted("usr/lib/go-1.19/src/go.mod"));
        assert!(!go_mod_wanted("usr/local/go/src/cmd/go.mod"));
    }

    #[test]
    fn function_names_from_symtab() {
        // .symtab: null symbol + two functions; .strtab holds their names.
        let strtab = b"\0main.main\0golang.org/x/text/language.Parse\0".to_vec();
        let mut symtab = vec![0u8; 24];
        for (name, value) in [(1u32, 0x401000u64), (11, 0x401010)] {
            symtab.extend_from_slice(&name.to_le_bytes());
            symtab.push(0x12); // STB_GLOBAL, STT_FUNC
            symtab.push(0);
            symtab.extend_from_slice(&1u16.to_le_bytes()); // .text is section 1
            symtab.extend_from_slice(&value.to_le_bytes());
            symtab.extend_from_slice(&16u64.to_le_bytes());
        }
        let elf = build(&[
            Section::progbits(".text", 0x401000, vec![0xc3; 32]),
            Section {
                name: ".symtab",
                addr: 0,
                data: symtab,
                kind: 2,
                link: 3,
                entsize: 24,
            },
            Section {
                name: ".strtab",
                addr: 0,
                data: strtab,
                kind: 3,
                link: 0,
                entsize: 0,
            },
        ]);
        assert_eq!(
            go_function_names(&elf).unwrap(),
            vec!["golang.org/x/text/language.Parse", "main.main"]
        );
        let stripped = build(&[Section::progbits(".text", 0x401000, vec![0xc3; 32])]);
        assert!(go_function_names(&stripped)
            .unwrap_err()
            .contains("pclntab"));
        assert!(go_function_names(b"nope").is_err());
    }

    #[test]
    fn fuzzed_binaries_never_panic() {
        let mut rng = XorShift(0x9e37_79b9_7f4a_7c15);
        let bases = [
            inline_elf("go1.19.8", MODINFO),
            pointer_elf("go1.16.15", MODINFO),
        ];
        for i in 0..4000 {
            let bytes = mutate(&bases[i % 2], &mut rng);
            let _ = read_buildinfo(&bytes);
            let _ = go_function_names(&bytes);
            let mut out = AnalyzerOutput::default();
            let meta = FileMeta {
                path: "usr/local/bin/app",
                kind: FileKind::Regular,
                size: bytes.len() as u64,
                mode: 0o755,
            };
            GoAnalyzer.analyze(&meta, &bytes, &mut out);
        }
        // Real binaries are fuzzed by the CLI's lang_go_rust tests (this test executable is
        // too large to copy thousands of times in a debug build).
        let mut rng = XorShift(7);
        for _ in 0..2000 {
            let text = String::from_utf8_lossy(&mutate(MODINFO.as_bytes(), &mut rng)).into_owned();
            let _ = parse_modinfo("go1.19", &text);
            let _ = parse_go_mod(&text);
        }
    }
}
