//! Members of archives found among a layer's files, read in memory under fixed limits.
//!
//! An analyzer that wants to look inside archives (the secret scanner does) recognises one by
//! its file name with [`ArchiveFormat::from_name`], asks the walker for the archive's bytes as
//! for any file, and calls [`walk_archive`]: the members it wants are decompressed one at a time
//! and handed to a visitor with their path inside the archive (`conf/app.properties`; a member
//! of a nested archive: `lib/b.jar!/conf/app.properties`, Java's `jar:` URL convention).
//! Nothing is extracted to disk; member names are only normalised (`..` and leading `/`
//! removed, control characters replaced) and reported, never used as file system paths.
//!
//! Formats: zip and its relatives (`.jar`, `.war`, `.ear`, `.whl`, `.nupkg`, …), `.gem`, `.tar`, `.tar.gz`/`.tgz`,
//! `.tar.xz`/`.txz`, `.tar.bz2`/`.tbz2`, `.tar.zst`/`.tzst`, and a single compressed file
//! (`.gz`, `.xz`, `.bz2`, `.zst`), whose one member is named after the file without its suffix.
//!
//! Limits, all in [`ArchiveLimits`] (the defaults are the `DEFAULT_*` constants): archives are
//! opened at most [`ArchiveLimits::max_depth`] levels deep; all bytes decompressed for one
//! top-level archive, nested ones included and the bodies of members skipped in a tar stream
//! too, count against [`ArchiveLimits::max_total_bytes`]; a compressed stream or zip member
//! producing more than [`ArchiveLimits::max_ratio`] times its compressed size (past
//! [`ArchiveLimits::ratio_slack`]) is a bomb and is not read further; at most
//! [`ArchiveLimits::max_members`] members per top-level archive are looked at; a member over
//! [`ArchiveLimits::max_member_bytes`] (a nested archive: [`ArchiveLimits::max_nested_bytes`])
//! is not read. Each limit hit, and every unreadable archive or member, becomes a problem
//! naming the member and the limit (at most [`MAX_PROBLEMS`] per top-level archive); what could
//! be read is still visited.

use std::cell::Cell;
use std::io::{self, Cursor, Read, Seek, SeekFrom};
use std::rc::Rc;

/// Archive levels opened below a file of the image (a `.tar.gz` holding a `.war` holding a
/// `.jar` is three).
pub const DEFAULT_MAX_DEPTH: usize = 3;
/// Decompressed bytes per top-level archive, nested archives included.
pub const DEFAULT_MAX_TOTAL_BYTES: u64 = 256 << 20;
/// Highest plausible compression ratio of real content; deflate tops out near 1032:1 on runs
/// of one byte, text and class files stay far below 20:1.
pub const DEFAULT_MAX_RATIO: u64 = 100;
/// Output always allowed whatever the ratio, so small, very regular members pass.
pub const DEFAULT_RATIO_SLACK: u64 = 4 << 20;
/// Members looked at per top-level archive, nested ones included.
pub const DEFAULT_MAX_MEMBERS: usize = 100_000;
/// Largest nested archive read into memory to be opened.
pub const DEFAULT_MAX_NESTED_BYTES: u64 = 64 << 20;
/// Memory a decoder may ask for (the xz dictionary, the zstd window): `xz -9` needs 65 MiB;
/// zstd's levels up to 19 use at most 8 MiB (`--long` archives, 128 MiB, are refused). A
/// power of two would not do: it must be a little over 64 MiB for xz, and the zstd window is
/// the largest power of two under it.
pub const DECODER_MEMORY_BYTES: u64 = 80 << 20;
/// Problems kept per top-level archive; the rest are counted.
pub const MAX_PROBLEMS: usize = 20;

/// The bounds of one [`walk_archive`] call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ArchiveLimits {
    pub max_depth: usize,
    pub max_total_bytes: u64,
    pub max_ratio: u64,
    pub ratio_slack: u64,
    pub max_members: usize,
    /// A member the caller wants is read only up to this size (the secret scanner passes its
    /// per-file limit).
    pub max_member_bytes: u64,
    pub max_nested_bytes: u64,
}

impl Default for ArchiveLimits {
    fn default() -> Self {
        ArchiveLimits {
            max_depth: DEFAULT_MAX_DEPTH,
            max_total_bytes: DEFAULT_MAX_TOTAL_BYTES,
            max_ratio: DEFAULT_MAX_RATIO,
            ratio_slack: DEFAULT_RATIO_SLACK,
            max_members: DEFAULT_MAX_MEMBERS,
            max_member_bytes: 10 << 20,
            max_nested_bytes: DEFAULT_MAX_NESTED_BYTES,
        }
    }
}

/// How an archive is laid out, as its file name says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArchiveFormat {
    Zip,
    Tar,
    TarGz,
    TarXz,
    TarBz2,
    TarZst,
    Gz,
    Xz,
    Bz2,
    Zst,
}

/// File name endings and their format, longest first where one ends another.
const SUFFIXES: &[(&str, ArchiveFormat)] = &[
    (".tar.gz", ArchiveFormat::TarGz),
    (".tgz", ArchiveFormat::TarGz),
    (".tar.xz", ArchiveFormat::TarXz),
    (".txz", ArchiveFormat::TarXz),
    (".tar.bz2", ArchiveFormat::TarBz2),
    (".tbz2", ArchiveFormat::TarBz2),
    (".tbz", ArchiveFormat::TarBz2),
    (".tar.zst", ArchiveFormat::TarZst),
    (".tzst", ArchiveFormat::TarZst),
    (".tar", ArchiveFormat::Tar),
    (".gz", ArchiveFormat::Gz),
    (".xz", ArchiveFormat::Xz),
    (".bz2", ArchiveFormat::Bz2),
    (".zst", ArchiveFormat::Zst),
    (".zip", ArchiveFormat::Zip),
    (".jar", ArchiveFormat::Zip),
    (".war", ArchiveFormat::Zip),
    (".ear", ArchiveFormat::Zip),
    (".par", ArchiveFormat::Zip),
    (".jpi", ArchiveFormat::Zip),
    (".hpi", ArchiveFormat::Zip),
    // Package formats that are zip files: Python wheels and eggs, NuGet packages, Android
    // libraries. A `.gem` is a plain tar holding `data.tar.gz`, opened as a nested archive.
    (".whl", ArchiveFormat::Zip),
    (".egg", ArchiveFormat::Zip),
    (".nupkg", ArchiveFormat::Zip),
    (".aar", ArchiveFormat::Zip),
    (".gem", ArchiveFormat::Tar),
];

#[derive(Clone, Copy)]
enum Codec {
    None,
    Gzip,
    Xz,
    Bzip2,
    Zstd,
}

impl ArchiveFormat {
    /// The format a file name (or a path: only the end counts) announces, compared
    /// case-insensitively; `None` for names that are not archives.
    pub fn from_name(name: &str) -> Option<ArchiveFormat> {
        let bytes = name.as_bytes();
        SUFFIXES.iter().find_map(|(suffix, format)| {
            (bytes.len() > suffix.len()
                && bytes[bytes.len() - suffix.len()..].eq_ignore_ascii_case(suffix.as_bytes()))
            .then_some(*format)
        })
    }

    /// Whether `bytes` start as this format's do. Formats without a fixed start (tar; zip,
    /// which may carry a prefix such as a self-extracting stub) always match.
    pub fn matches_magic(self, bytes: &[u8]) -> bool {
        let magic: &[u8] = match self.codec() {
            Codec::None => return true,
            Codec::Gzip => b"\x1f\x8b",
            Codec::Xz => b"\xfd7zXZ\x00",
            Codec::Bzip2 => b"BZh",
            Codec::Zstd => b"\x28\xb5\x2f\xfd",
        };
        bytes.starts_with(magic)
    }

    /// A single compressed file (`.gz`, `.xz`, `.bz2`, `.zst`), not an archive of members.
    pub fn is_single_file(self) -> bool {
        matches!(
            self,
            ArchiveFormat::Gz | ArchiveFormat::Xz | ArchiveFormat::Bz2 | ArchiveFormat::Zst
        )
    }

    fn codec(self) -> Codec {
        match self {
            ArchiveFormat::Zip | ArchiveFormat::Tar => Codec::None,
            ArchiveFormat::TarGz | ArchiveFormat::Gz => Codec::Gzip,
            ArchiveFormat::TarXz | ArchiveFormat::Xz => Codec::Xz,
            ArchiveFormat::TarBz2 | ArchiveFormat::Bz2 => Codec::Bzip2,
            ArchiveFormat::TarZst | ArchiveFormat::Zst => Codec::Zstd,
        }
    }

    fn label(self) -> &'static str {
        match self {
            ArchiveFormat::Zip => "zip",
            ArchiveFormat::Tar => "tar",
            ArchiveFormat::TarGz => "gzip-compressed tar",
            ArchiveFormat::TarXz => "xz-compressed tar",
            ArchiveFormat::TarBz2 => "bzip2-compressed tar",
            ArchiveFormat::TarZst => "zstd-compressed tar",
            ArchiveFormat::Gz => "gzip",
            ArchiveFormat::Xz => "xz",
            ArchiveFormat::Bz2 => "bzip2",
            ArchiveFormat::Zst => "zstd",
        }
    }
}

/// What a [`walk_archive`] call did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ArchiveWalk {
    /// Members handed to the visitor.
    pub visited: usize,
    /// Members looked at (visited or not), nested archives' included.
    pub members: usize,
    /// Limits hit and unreadable parts, each naming the member inside the archive; the caller
    /// adds the archive's own path.
    pub problems: Vec<String>,
}

/// Opens the archive in `bytes` (its file name `name` decides the format and names the member
/// of a single compressed file) and calls `visit(member path, bytes)` for every regular member
/// for which `wants(member path)` holds, nested archives opened within `limits`. Symlinks,
/// hard links and other special members are never followed or read.
pub fn walk_archive(
    name: &str,
    bytes: &[u8],
    limits: &ArchiveLimits,
    wants: &mut dyn FnMut(&str) -> bool,
    visit: &mut dyn FnMut(&str, &[u8]),
) -> ArchiveWalk {
    let mut walk = Walk {
        limits,
        meter: Rc::new(Meter {
            remaining: Cell::new(limits.max_total_bytes),
            ..Meter::default()
        }),
        wants,
        visit,
        result: ArchiveWalk::default(),
        suppressed: 0,
        stopped: false,
        depth_reported: false,
    };
    if let Some(format) = ArchiveFormat::from_name(name) {
        // The readers are fuzzed, but a panic in one must never take the scan down with it.
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            walk.archive(format, base_name(name), "", bytes, 0)
        }));
        if outcome.is_err() {
            walk.problem(format!(
                "internal error while reading the {} archive; members may be missing",
                format.label()
            ));
        }
    }
    if walk.suppressed > 0 {
        let more = walk.suppressed;
        walk.result
            .problems
            .push(format!("… and {more} more problems in this archive"));
    }
    walk.result
}

/// Decompressed and compressed byte counts of one top-level archive, shared by the readers of
/// its nested levels.
#[derive(Default)]
struct Meter {
    /// Decompressed bytes still allowed.
    remaining: Cell<u64>,
    total_exceeded: Cell<bool>,
    ratio_exceeded: Cell<bool>,
}

struct Walk<'a> {
    limits: &'a ArchiveLimits,
    meter: Rc<Meter>,
    wants: &'a mut dyn FnMut(&str) -> bool,
    visit: &'a mut dyn FnMut(&str, &[u8]),
    result: ArchiveWalk,
    suppressed: usize,
    /// Set once a limit for the whole top-level archive is hit: nothing more is read.
    stopped: bool,
    depth_reported: bool,
}

/// What to do with one member, decided from its name and size.
enum Plan {
    Skip,
    Visit,
    Open(ArchiveFormat),
}

impl Walk<'_> {
    fn problem(&mut self, message: String) {
        if self.result.problems.len() < MAX_PROBLEMS {
            self.result.problems.push(message);
        } else {
            self.suppressed += 1;
        }
    }

    /// `prefix` is the path of this archive inside the top-level one, with its `!/` (empty at
    /// the top); `name` its own file name.
    fn archive(
        &mut self,
        format: ArchiveFormat,
        name: &str,
        prefix: &str,
        bytes: &[u8],
        depth: usize,
    ) {
        match format {
            ArchiveFormat::Zip => self.zip(prefix, bytes, depth),
            ArchiveFormat::Tar
            | ArchiveFormat::TarGz
            | ArchiveFormat::TarXz
            | ArchiveFormat::TarBz2
            | ArchiveFormat::TarZst => self.tar(format, prefix, bytes, depth),
            ArchiveFormat::Gz | ArchiveFormat::Xz | ArchiveFormat::Bz2 | ArchiveFormat::Zst => {
                self.single(format, name, prefix, bytes, depth)
            }
        }
    }

    /// Counts the member and decides what to do with it.
    fn plan(&mut self, prefix: &str, member: &str, size: u64, depth: usize) -> Plan {
        if self.stopped {
            return Plan::Skip;
        }
        self.result.members += 1;
        if self.result.members > self.limits.max_members {
            self.stopped = true;
            self.problem(format!(
                "{prefix}{member}: more than {} members in this archive (nested ones included); \
                 the rest are not inspected",
                self.limits.max_members
            ));
            return Plan::Skip;
        }
        let path = format!("{prefix}{member}");
        if !(self.wants)(&path) {
            return Plan::Skip;
        }
        if let Some(format) = ArchiveFormat::from_name(member) {
            if depth + 1 >= self.limits.max_depth {
                if !self.depth_reported {
                    self.depth_reported = true;
                    self.problem(format!(
                        "{path}: archives nested more than {} levels deep are not opened",
                        self.limits.max_depth
                    ));
                }
                return Plan::Skip;
            }
            if size > self.limits.max_nested_bytes {
                self.problem(format!(
                    "{path}: nested archive is {size} bytes, over the {}-byte limit for a \
                     nested archive; not opened",
                    self.limits.max_nested_bytes
                ));
                return Plan::Skip;
            }
            return Plan::Open(format);
        }
        if size > self.limits.max_member_bytes {
            self.problem(format!(
                "{path}: member is {size} bytes, over the {}-byte limit per file; not scanned",
                self.limits.max_member_bytes
            ));
            return Plan::Skip;
        }
        Plan::Visit
    }

    fn member_done(&mut self, plan: Plan, prefix: &str, member: &str, data: &[u8], depth: usize) {
        let path = format!("{prefix}{member}");
        match plan {
            Plan::Skip => {}
            Plan::Visit => {
                self.result.visited += 1;
                (self.visit)(&path, data);
            }
            Plan::Open(format) => {
                let inner = format!("{path}!/");
                self.archive(format, base_name(member), &inner, data, depth + 1);
            }
        }
    }

    fn zip(&mut self, prefix: &str, bytes: &[u8], depth: usize) {
        let mut zip = match open_zip(bytes, self.limits.max_members) {
            Ok(zip) => zip,
            Err(why) => {
                self.problem(format!("{}{why}", at(prefix)));
                return;
            }
        };
        for i in 0..zip.len() {
            if self.stopped {
                return;
            }
            let (member, size, compressed, stored, special) = match zip.by_index_raw(i) {
                Ok(file) => (
                    member_name(file.name()),
                    file.size(),
                    file.compressed_size(),
                    file.compression() == zip::CompressionMethod::Stored,
                    file.is_dir() || file.is_symlink(),
                ),
                Err(e) => {
                    self.problem(format!("{}cannot read member {i} ({e})", at(prefix)));
                    continue;
                }
            };
            if special || member.is_empty() {
                continue;
            }
            let plan = self.plan(prefix, &member, size, depth);
            let cap = match plan {
                Plan::Skip => continue,
                Plan::Visit => self.limits.max_member_bytes,
                Plan::Open(_) => self.limits.max_nested_bytes,
            };
            let path = format!("{prefix}{member}");
            let ratio_cap = if stored {
                u64::MAX
            } else {
                compressed
                    .saturating_mul(self.limits.max_ratio)
                    .saturating_add(self.limits.ratio_slack)
            };
            if size > ratio_cap {
                self.problem(format!(
                    "{path}: member claims {size} bytes from {compressed} compressed (over {}:1), \
                     a decompression bomb; not read",
                    self.limits.max_ratio
                ));
                continue;
            }
            let remaining = self.meter.remaining.get();
            let limit = cap.min(ratio_cap).min(remaining);
            let mut data = Vec::with_capacity(size.min(limit).min(1 << 20) as usize);
            let result = match zip.by_index(i) {
                Ok(file) => file.take(limit.saturating_add(1)).read_to_end(&mut data),
                Err(e) => Err(io::Error::other(e)),
            };
            self.meter
                .remaining
                .set(remaining.saturating_sub(data.len() as u64));
            match result {
                Err(e) => self.problem(format!("{path}: corrupt member ({e}); not read")),
                Ok(n) if n as u64 > limit => {
                    if remaining < cap.min(ratio_cap) {
                        self.total_exceeded(&path);
                        return;
                    } else if ratio_cap < cap {
                        self.problem(format!(
                            "{path}: decompresses to over {} times its {compressed} compressed \
                             bytes, a decompression bomb; not read",
                            self.limits.max_ratio
                        ));
                    } else {
                        self.problem(format!(
                            "{path}: decompresses to over the {cap}-byte limit, more than its \
                             header's {size}; not read"
                        ));
                    }
                }
                Ok(_) => self.member_done(plan, prefix, &member, &data, depth),
            }
        }
    }

    fn total_exceeded(&mut self, path: &str) {
        self.stopped = true;
        let at = if path.is_empty() {
            String::new()
        } else {
            format!("{path}: ")
        };
        self.problem(format!(
            "{at}over {} decompressed bytes read from this archive (nested ones included); \
             the rest is not inspected",
            self.limits.max_total_bytes
        ));
    }

    /// A decompressing reader over `bytes`, metered.
    fn decoder<'b>(&self, codec: Codec, bytes: &'b [u8]) -> io::Result<Box<dyn Read + 'b>> {
        let consumed = Rc::new(Cell::new(0u64));
        let input = Counting {
            inner: bytes,
            consumed: Rc::clone(&consumed),
        };
        let inner: Box<dyn Read + 'b> = match codec {
            Codec::None => Box::new(input),
            Codec::Gzip => Box::new(flate2::read::MultiGzDecoder::new(input)),
            Codec::Xz => Box::new(lzma_rust2::XzReader::new_mem_limit(
                input,
                true,
                (DECODER_MEMORY_BYTES >> 10) as u32,
            )),
            Codec::Bzip2 => Box::new(bzip2::read::MultiBzDecoder::new(input)),
            Codec::Zstd => {
                let mut decoder = zstd::stream::read::Decoder::new(input)?;
                decoder.window_log_max(DECODER_MEMORY_BYTES.ilog2())?;
                Box::new(decoder)
            }
        };
        Ok(Box::new(Metered {
            inner,
            meter: Rc::clone(&self.meter),
            consumed,
            produced: 0,
            ratio: match codec {
                Codec::None => None,
                _ => Some((self.limits.max_ratio, self.limits.ratio_slack)),
            },
        }))
    }

    /// Records why a stream stopped early: a limit of the meter's, or corruption. `path` names
    /// the member or nested archive (empty: the top-level archive, which the caller names).
    fn stream_failure(&mut self, path: &str, format: ArchiveFormat, error: &io::Error) {
        let at = if path.is_empty() {
            String::new()
        } else {
            format!("{path}: ")
        };
        if self.meter.total_exceeded.get() {
            self.total_exceeded(path);
        } else if self.meter.ratio_exceeded.get() {
            self.meter.ratio_exceeded.set(false);
            self.problem(format!(
                "{at}decompresses to over {} times its compressed size, a decompression bomb; \
                 the rest of this archive is not read",
                self.limits.max_ratio
            ));
        } else if error.to_string().contains("memory") {
            // zstd: "Frame requires too much memory"; xz: "needed memory too big".
            self.problem(format!(
                "{at}the {} decoder needs more than its {DECODER_MEMORY_BYTES}-byte memory \
                 limit ({error}); the rest of this archive is not read",
                format.label()
            ));
        } else {
            self.problem(format!(
                "{at}truncated or corrupt {} data ({error}); the rest of this archive is not \
                 read",
                format.label()
            ));
        }
    }

    fn tar(&mut self, format: ArchiveFormat, prefix: &str, bytes: &[u8], depth: usize) {
        let here = prefix.strip_suffix("!/").unwrap_or(prefix);
        let reader = match self.decoder(format.codec(), bytes) {
            Ok(r) => r,
            Err(e) => {
                self.problem(format!(
                    "{}not a readable {} archive ({e})",
                    at(prefix),
                    format.label()
                ));
                return;
            }
        };
        let mut archive = tar::Archive::new(reader);
        let entries = match archive.entries() {
            Ok(entries) => entries,
            Err(e) => {
                self.stream_failure(here, format, &e);
                return;
            }
        };
        for entry in entries {
            if self.stopped {
                return;
            }
            let mut entry = match entry {
                Ok(entry) => entry,
                Err(e) => {
                    self.stream_failure(here, format, &e);
                    return;
                }
            };
            if !matches!(
                entry.header().entry_type(),
                tar::EntryType::Regular | tar::EntryType::Continuous | tar::EntryType::GNUSparse
            ) {
                continue;
            }
            let member = member_name(&String::from_utf8_lossy(&entry.path_bytes()));
            if member.is_empty() {
                continue;
            }
            let size = entry.size();
            let plan = self.plan(prefix, &member, size, depth);
            if matches!(plan, Plan::Skip) {
                continue;
            }
            let mut data = Vec::with_capacity(size.min(1 << 20) as usize);
            if let Err(e) = (&mut entry).take(size).read_to_end(&mut data) {
                self.stream_failure(&format!("{prefix}{member}"), format, &e);
                return;
            }
            self.member_done(plan, prefix, &member, &data, depth);
        }
    }

    /// A single compressed file: one member, named after the file without its suffix.
    fn single(
        &mut self,
        format: ArchiveFormat,
        name: &str,
        prefix: &str,
        bytes: &[u8],
        depth: usize,
    ) {
        let here = prefix.strip_suffix("!/").unwrap_or(prefix);
        let stem = name
            .rsplit_once('.')
            .map_or(name, |(stem, _)| stem)
            .to_string();
        let member = if stem.is_empty() {
            "data".to_string()
        } else {
            stem
        };
        let mut reader = match self.decoder(format.codec(), bytes) {
            Ok(r) => r,
            Err(e) => {
                self.problem(format!(
                    "{}not a readable {} file ({e})",
                    at(prefix),
                    format.label()
                ));
                return;
            }
        };
        // The size is only known once decompressed: read one byte past the cap to tell.
        let probe = if ArchiveFormat::from_name(&member).is_some() {
            self.limits.max_nested_bytes
        } else {
            self.limits.max_member_bytes
        };
        let plan = self.plan(prefix, &member, 0, depth);
        if matches!(plan, Plan::Skip) {
            return;
        }
        let mut data = Vec::new();
        if let Err(e) = (&mut reader).take(probe + 1).read_to_end(&mut data) {
            self.stream_failure(here, format, &e);
            return;
        }
        if data.len() as u64 > probe {
            self.problem(format!(
                "{prefix}{member}: decompresses to over the {probe}-byte limit; not scanned"
            ));
            return;
        }
        self.member_done(plan, prefix, &member, &data, depth);
    }
}

/// `prefix` as the start of a message: `"lib/b.jar: "`, or nothing at the top level (the
/// caller names the file).
fn at(prefix: &str) -> String {
    match prefix.strip_suffix("!/") {
        Some(path) => format!("{path}: "),
        None => String::new(),
    }
}

fn base_name(path: &str) -> &str {
    path.rsplit(['/', '!']).next().unwrap_or(path)
}

/// A member's name as reported: `/` separators, no leading `/`, no `.` or empty parts, `..`
/// applied lexically and never above the archive's root, control characters replaced.
pub fn member_name(raw: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for part in raw.split(['/', '\\']) {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            part => parts.push(part),
        }
    }
    parts
        .join("/")
        .chars()
        .map(|c| if c.is_control() { '\u{fffd}' } else { c })
        .collect()
}

/// Counts what a decoder takes from its compressed input.
struct Counting<'b> {
    inner: &'b [u8],
    consumed: Rc<Cell<u64>>,
}

impl Read for Counting<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.consumed.set(self.consumed.get() + n as u64);
        Ok(n)
    }
}

/// A decoder's output, failing once the archive's decompressed-byte budget is spent or the
/// output outgrows the ratio limit.
struct Metered<'b> {
    inner: Box<dyn Read + 'b>,
    meter: Rc<Meter>,
    consumed: Rc<Cell<u64>>,
    produced: u64,
    /// (max ratio, slack) for compressed streams.
    ratio: Option<(u64, u64)>,
}

impl Read for Metered<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let remaining = self.meter.remaining.get();
        if remaining == 0 {
            self.meter.total_exceeded.set(true);
            return Err(io::Error::other("decompressed-byte limit reached"));
        }
        let len = buf
            .len()
            .min(usize::try_from(remaining).unwrap_or(usize::MAX));
        let n = self.inner.read(&mut buf[..len])?;
        self.meter.remaining.set(remaining - n as u64);
        self.produced += n as u64;
        if let Some((ratio, slack)) = self.ratio {
            let allowed = self
                .consumed
                .get()
                .saturating_mul(ratio)
                .saturating_add(slack);
            if self.produced > allowed {
                self.meter.ratio_exceeded.set(true);
                return Err(io::Error::other("compression ratio limit reached"));
            }
        }
        Ok(n)
    }
}

/// A zip archive in memory.
pub type ZipInMemory<'b> = zip::ZipArchive<Budgeted<'b>>;

/// Opens the zip archive in `bytes` after cheap checks that keep hostile input linear: the
/// end-of-central-directory record must be where the format puts it, and the number of
/// entries it declares (an upper bound from the directory's size, for zip64) must not exceed
/// `max_entries`, before the zip reader allocates a record per entry. The message of an `Err`
/// says why the archive is not readable.
pub fn open_zip(bytes: &[u8], max_entries: usize) -> Result<ZipInMemory<'_>, String> {
    let declared =
        check_end_record(bytes).map_err(|why| format!("not a readable zip archive ({why})"))?;
    if declared > max_entries as u64 {
        return Err(format!(
            "zip archive declares {declared} entries, over the limit of {max_entries}; not \
             inspected"
        ));
    }
    // The zip reader falls back to searching the whole input for other end records when the
    // first one is bad, which crafted input turns quadratic; a read budget keeps it linear.
    let budget = Rc::new(Cell::new(
        (bytes.len() as u64)
            .saturating_mul(4)
            .saturating_add(1 << 20),
    ));
    let reader = Budgeted {
        inner: Cursor::new(bytes),
        budget: Rc::clone(&budget),
    };
    let zip =
        zip::ZipArchive::new(reader).map_err(|e| format!("not a readable zip archive ({e})"))?;
    // Member reads are bounded by the caller's decompression limits instead.
    budget.set(u64::MAX);
    Ok(zip)
}

/// Finds the end-of-central-directory record in the last 64 KiB (its comment is at most 65535
/// bytes) and checks that the central directory it points to starts with a header signature
/// (after any prepended bytes, as in self-executing jars): a cheap verdict on truncated or
/// foreign files. Returns the number of entries the record declares; for zip64 archives, an
/// upper bound from the file's size (a central header is at least 46 bytes) when the zip64
/// record cannot be found.
fn check_end_record(bytes: &[u8]) -> Result<u64, String> {
    const EOCD: &[u8] = b"PK\x05\x06";
    const EOCD_LEN: usize = 22;
    const CENTRAL_HEADER_MIN: u64 = 46;
    if bytes.len() < EOCD_LEN {
        return Err(format!(
            "{} bytes, too short for a zip archive",
            bytes.len()
        ));
    }
    let window_start = bytes.len().saturating_sub(EOCD_LEN + 0xFFFF);
    let le16 = |at: usize| u16::from_le_bytes([bytes[at], bytes[at + 1]]) as u64;
    let le32 = |at: usize| {
        u32::from_le_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]]) as u64
    };
    let mut at = bytes.len() - EOCD_LEN;
    loop {
        if &bytes[at..at + 4] == EOCD {
            let comment = le16(at + 20);
            let entries = le16(at + 10);
            let cd_size = le32(at + 12);
            let cd_offset = le32(at + 16);
            let zip64 = cd_size == 0xFFFF_FFFF || cd_offset == 0xFFFF_FFFF || entries == 0xFFFF;
            if at as u64 + EOCD_LEN as u64 + comment <= bytes.len() as u64 {
                if zip64 {
                    return Ok(
                        zip64_entries(bytes, at).unwrap_or(bytes.len() as u64 / CENTRAL_HEADER_MIN)
                    );
                }
                if cd_size == 0 {
                    return Ok(entries);
                }
                // Prepended bytes shift the directory; its end is right before the record.
                if let Some(start) = (at as u64).checked_sub(cd_size) {
                    if cd_offset <= start && bytes[start as usize..].starts_with(b"PK\x01\x02") {
                        return Ok(entries);
                    }
                }
            }
        }
        if at == window_start {
            break;
        }
        at -= 1;
    }
    Err("no valid end-of-central-directory record; truncated, or not a zip".into())
}

/// The entry count of the zip64 end-of-central-directory record that the locator right before
/// the classic record at `eocd` points to, when both are where they should be.
fn zip64_entries(bytes: &[u8], eocd: usize) -> Option<u64> {
    let le64 = |at: usize| -> Option<u64> {
        Some(u64::from_le_bytes(bytes.get(at..at + 8)?.try_into().ok()?))
    };
    let locator = eocd.checked_sub(20)?;
    if bytes.get(locator..locator + 4)? != b"PK\x06\x07" {
        return None;
    }
    let record = usize::try_from(le64(locator + 8)?).ok()?;
    if bytes.get(record..record.checked_add(4)?)? != b"PK\x06\x06" {
        return None;
    }
    le64(record.checked_add(32)?)
}

/// A reader over the archive bytes that fails once `budget` bytes have been read.
pub struct Budgeted<'b> {
    inner: Cursor<&'b [u8]>,
    budget: Rc<Cell<u64>>,
}

impl Read for Budgeted<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let left = self.budget.get();
        if left == 0 {
            return Err(io::Error::other(
                "too much searching for the central directory",
            ));
        }
        let len = buf.len().min(usize::try_from(left).unwrap_or(usize::MAX));
        let n = self.inner.read(&mut buf[..len])?;
        self.budget.set(left - n as u64);
        Ok(n)
    }
}

impl Seek for Budgeted<'_> {
    fn seek(&mut self, pos: SeekFrom) -> io::Result<u64> {
        self.inner.seek(pos)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::time::{Duration, Instant};
    use zip::write::SimpleFileOptions;
    use zip::CompressionMethod;

    const SECRET: &[u8] = b"aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY\n";

    /// A tar whose member names are written as given (no `..` check, as a hostile tool would).
    fn tar_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
        let mut builder = tar::Builder::new(Vec::new());
        for (name, data) in entries {
            let mut header = tar::Header::new_gnu();
            header.set_size(data.len() as u64);
            header.set_mode(0o644);
            header.set_entry_type(tar::EntryType::Regular);
            set_raw_name(&mut header, name);
            header.set_cksum();
            builder.append(&header, *data).unwrap();
        }
        builder.into_inner().unwrap()
    }

    fn set_raw_name(header: &mut tar::Header, name: &str) {
        let field = &mut header.as_old_mut().name;
        field.fill(0);
        field[..name.len()].copy_from_slice(name.as_bytes());
    }

    fn zip_of(entries: &[(&str, &[u8])], method: CompressionMethod) -> Vec<u8> {
        let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let opts = SimpleFileOptions::default().compression_method(method);
        for (name, data) in entries {
            w.start_file(*name, opts).unwrap();
            w.write_all(data).unwrap();
        }
        w.finish().unwrap().into_inner()
    }

    fn gz(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    fn xz(data: &[u8]) -> Vec<u8> {
        let mut w =
            lzma_rust2::XzWriter::new(Vec::new(), lzma_rust2::XzOptions::with_preset(1)).unwrap();
        w.write_all(data).unwrap();
        w.finish().unwrap()
    }

    fn bz2(data: &[u8]) -> Vec<u8> {
        let mut e = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::fast());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    fn zst(data: &[u8]) -> Vec<u8> {
        zstd::encode_all(data, 1).unwrap()
    }

    /// (paths visited, the walk), every member wanted.
    fn run(name: &str, bytes: &[u8], limits: &ArchiveLimits) -> (Vec<String>, ArchiveWalk) {
        let mut seen = Vec::new();
        let walk = walk_archive(name, bytes, limits, &mut |_| true, &mut |path, data| {
            seen.push(format!("{path}={}", data.len()))
        });
        (seen, walk)
    }

    fn assert_problem(walk: &ArchiveWalk, needle: &str) {
        assert!(
            walk.problems.iter().any(|p| p.contains(needle)),
            "no problem containing {needle:?} in {:?}",
            walk.problems
        );
    }

    #[test]
    fn formats_by_name() {
        use ArchiveFormat as F;
        for (name, format) in [
            ("a.zip", Some(F::Zip)),
            ("lib/A.JAR", Some(F::Zip)),
            ("x.war", Some(F::Zip)),
            ("x.tar", Some(F::Tar)),
            ("x.tar.gz", Some(F::TarGz)),
            ("x.tgz", Some(F::TarGz)),
            ("x.tar.xz", Some(F::TarXz)),
            ("x.tar.bz2", Some(F::TarBz2)),
            ("x.tar.zst", Some(F::TarZst)),
            ("changelog.gz", Some(F::Gz)),
            ("x.sql.bz2", Some(F::Bz2)),
            ("x.zst", Some(F::Zst)),
            ("x.xz", Some(F::Xz)),
            ("requests-2.32.3-py3-none-any.whl", Some(F::Zip)),
            ("newtonsoft.json.13.0.3.nupkg", Some(F::Zip)),
            ("rack-3.1.8.gem", Some(F::Tar)),
            (".gz", None),
            ("x.tar.gz.txt", None),
            ("zip", None),
        ] {
            assert_eq!(ArchiveFormat::from_name(name), format, "{name}");
        }
    }

    #[test]
    fn every_format_yields_its_members() {
        let tar = tar_of(&[("app/.env", SECRET), ("app/README", b"hello\n")]);
        let expected = vec![format!("app/.env={}", SECRET.len()), "app/README=6".into()];
        for (name, bytes) in [
            ("x.tar", tar.clone()),
            ("x.tar.gz", gz(&tar)),
            ("x.tgz", gz(&tar)),
            ("x.tar.xz", xz(&tar)),
            ("x.tar.bz2", bz2(&tar)),
            ("x.tar.zst", zst(&tar)),
            (
                "x.zip",
                zip_of(
                    &[("app/.env", SECRET), ("app/README", b"hello\n")],
                    CompressionMethod::Deflated,
                ),
            ),
        ] {
            let (seen, walk) = run(name, &bytes, &ArchiveLimits::default());
            assert_eq!(seen, expected, "{name}");
            assert!(walk.problems.is_empty(), "{name}: {:?}", walk.problems);
        }
        for (name, bytes) in [
            ("dir/app.env.gz", gz(SECRET)),
            ("dir/app.env.xz", xz(SECRET)),
            ("dir/app.env.bz2", bz2(SECRET)),
            ("dir/app.env.zst", zst(SECRET)),
        ] {
            let (seen, walk) = run(name, &bytes, &ArchiveLimits::default());
            assert_eq!(seen, vec![format!("app.env={}", SECRET.len())], "{name}");
            assert!(walk.problems.is_empty(), "{name}: {:?}", walk.problems);
        }
    }

    #[test]
    fn nested_archives_are_named_with_bang_slash() {
        let jar = zip_of(
            &[("conf/app.properties", SECRET)],
            CompressionMethod::Deflated,
        );
        let outer = gz(&tar_of(&[("lib/b.jar", &jar)]));
        let (seen, walk) = run("a.tar.gz", &outer, &ArchiveLimits::default());
        assert_eq!(
            seen,
            vec![format!("lib/b.jar!/conf/app.properties={}", SECRET.len())]
        );
        assert!(walk.problems.is_empty(), "{:?}", walk.problems);
        // A compressed tar inside a single compressed file.
        let (seen, _) = run("x.tar.gz.gz", &gz(&outer), &ArchiveLimits::default());
        assert_eq!(
            seen,
            vec![format!(
                "x.tar.gz!/lib/b.jar!/conf/app.properties={}",
                SECRET.len()
            )]
        );
    }

    #[test]
    fn nesting_deeper_than_the_limit_is_not_opened() {
        let mut bytes = zip_of(&[("deep.env", SECRET)], CompressionMethod::Deflated);
        for level in 0..5 {
            bytes = zip_of(
                &[(&format!("l{level}.zip"), &bytes), ("top.env", SECRET)],
                CompressionMethod::Deflated,
            );
        }
        let (seen, walk) = run("a.zip", &bytes, &ArchiveLimits::default());
        // Three levels: a.zip, l4.zip, l3.zip.
        assert_eq!(
            seen,
            vec![
                format!("l4.zip!/l3.zip!/top.env={}", SECRET.len()),
                format!("l4.zip!/top.env={}", SECRET.len()),
                format!("top.env={}", SECRET.len()),
            ]
        );
        assert_problem(
            &walk,
            "l4.zip!/l3.zip!/l2.zip: archives nested more than 3 levels deep are not opened",
        );
    }

    #[test]
    fn a_high_ratio_zip_member_is_a_bomb() {
        let limits = ArchiveLimits {
            ratio_slack: 64 << 10,
            ..ArchiveLimits::default()
        };
        let zeros = vec![0u8; 4 << 20];
        let bytes = zip_of(
            &[("bomb.txt", &zeros), ("ok.env", SECRET)],
            CompressionMethod::Deflated,
        );
        let (seen, walk) = run("a.zip", &bytes, &limits);
        assert_eq!(seen, vec![format!("ok.env={}", SECRET.len())]);
        assert_problem(&walk, "bomb.txt: member claims 4194304 bytes from");
        assert_problem(&walk, "a decompression bomb; not read");
    }

    #[test]
    fn a_zip_member_lying_about_its_size_is_capped() {
        let zeros = vec![0u8; 2 << 20];
        let mut bytes = zip_of(&[("lie.txt", &zeros)], CompressionMethod::Deflated);
        // Claim 100 bytes in both headers; the real output is 2 MiB.
        let claim = 100u32.to_le_bytes();
        for sig in [&b"PK\x03\x04"[..], &b"PK\x01\x02"[..]] {
            let at = bytes.windows(4).position(|w| w == sig).unwrap();
            let offset = if sig[2] == 3 { 22 } else { 24 };
            bytes[at + offset..at + offset + 4].copy_from_slice(&claim);
        }
        let limits = ArchiveLimits {
            ratio_slack: 64 << 10,
            ..ArchiveLimits::default()
        };
        let (seen, walk) = run("a.zip", &bytes, &limits);
        assert!(seen.is_empty(), "{seen:?}");
        assert!(!walk.problems.is_empty());
    }

    #[test]
    fn a_nested_zip_bomb_stops_at_the_total_limit() {
        // 42.zip-like: 16 copies per level, 1 MiB of zeros at the bottom; scaled down limits.
        let mut bytes = zip_of(
            &[("zeros.txt", &vec![0u8; 1 << 20])],
            CompressionMethod::Deflated,
        );
        for level in 0..3 {
            let names: Vec<String> = (0..16).map(|i| format!("{level}-{i}.zip")).collect();
            let entries: Vec<(&str, &[u8])> =
                names.iter().map(|n| (n.as_str(), &bytes[..])).collect();
            bytes = zip_of(&entries, CompressionMethod::Deflated);
        }
        let limits = ArchiveLimits {
            max_depth: 4,
            max_total_bytes: 8 << 20,
            ..ArchiveLimits::default()
        };
        let start = Instant::now();
        let (seen, walk) = run("42.zip", &bytes, &limits);
        assert!(seen.len() <= 8, "{}", seen.len());
        assert_problem(
            &walk,
            "over 8388608 decompressed bytes read from this archive",
        );
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "{:?}",
            start.elapsed()
        );
    }

    #[test]
    fn a_tar_gz_bomb_is_refused_by_ratio_and_by_total() {
        let tar = tar_of(&[
            ("first.env", SECRET),
            ("zeros.bin", &vec![0u8; 4 << 20]),
            ("after.env", SECRET),
        ]);
        let bomb = gz(&tar);
        let limits = ArchiveLimits {
            ratio_slack: 256 << 10,
            ..ArchiveLimits::default()
        };
        let (seen, walk) = run("b.tar.gz", &bomb, &limits);
        assert_eq!(seen, vec![format!("first.env={}", SECRET.len())]);
        assert_problem(
            &walk,
            "zeros.bin: decompresses to over 100 times its compressed size, a decompression bomb",
        );
        // The same stream under the ratio (slack large) but over the total.
        let limits = ArchiveLimits {
            max_total_bytes: 1 << 20,
            ..ArchiveLimits::default()
        };
        let (seen, walk) = run("b.tar.gz", &bomb, &limits);
        assert_eq!(seen, vec![format!("first.env={}", SECRET.len())]);
        assert_problem(
            &walk,
            "over 1048576 decompressed bytes read from this archive",
        );
    }

    #[test]
    fn truncated_and_corrupt_archives_are_problems() {
        // Incompressible bytes, so that half the stream ends inside them.
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let noise: Vec<u8> = (0..64 << 10)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                state as u8
            })
            .collect();
        let tar = tar_of(&[("a.env", SECRET), ("b.bin", &noise)]);
        let tgz = gz(&tar);
        let (seen, walk) = run("t.tar.gz", &tgz[..tgz.len() / 2], &ArchiveLimits::default());
        assert_eq!(seen, vec![format!("a.env={}", SECRET.len())]);
        assert_problem(&walk, "truncated or corrupt gzip-compressed tar data");

        let zip = zip_of(
            &[("a.env", SECRET), ("b.env", SECRET)],
            CompressionMethod::Deflated,
        );
        let (seen, walk) = run("t.zip", &zip[..zip.len() - 30], &ArchiveLimits::default());
        assert!(seen.is_empty());
        assert_problem(&walk, "not a readable zip archive");

        // The central directory's first header signature overwritten.
        let mut broken = zip.clone();
        let at = broken.windows(4).position(|w| w == b"PK\x01\x02").unwrap();
        broken[at..at + 4].copy_from_slice(b"XXXX");
        let (seen, walk) = run("c.zip", &broken, &ArchiveLimits::default());
        assert!(seen.is_empty());
        assert_problem(&walk, "not a readable zip archive");

        for (name, garbage) in [
            ("g.zip", &b"not a zip at all"[..]),
            ("g.gz", b"not gzip"),
            ("g.tar.xz", b"not xz"),
            ("g.tar.bz2", b"not bzip2"),
            ("g.zst", b"not zstd"),
        ] {
            let (seen, walk) = run(name, garbage, &ArchiveLimits::default());
            assert!(seen.is_empty(), "{name}");
            assert_eq!(walk.problems.len(), 1, "{name}: {:?}", walk.problems);
        }
    }

    #[test]
    fn decoders_asking_for_too_much_memory_are_refused() {
        // A zstd frame header declaring a 1 GiB window (Window_Descriptor exponent 20).
        let mut frame = b"\x28\xb5\x2f\xfd".to_vec();
        frame.extend_from_slice(&[0x00, 20 << 3]);
        frame.extend_from_slice(&[0u8; 16]);
        let (seen, walk) = run("w.env.zst", &frame, &ArchiveLimits::default());
        assert!(seen.is_empty());
        assert_problem(
            &walk,
            "the zstd decoder needs more than its 83886080-byte memory limit",
        );
    }

    #[test]
    fn hostile_member_names_are_normalised_never_escaping() {
        let tar = tar_of(&[
            ("../../etc/cron.d/evil.env", SECRET),
            ("/abs/path.env", SECRET),
            ("./a/./b/../c.env", SECRET),
            ("..", SECRET),
            ("x\u{1b}[31m.env", SECRET),
        ]);
        let (seen, _) = run("t.tar", &tar, &ArchiveLimits::default());
        let n = SECRET.len();
        assert_eq!(
            seen,
            vec![
                format!("etc/cron.d/evil.env={n}"),
                format!("abs/path.env={n}"),
                format!("a/c.env={n}"),
                format!("x\u{fffd}[31m.env={n}"),
            ]
        );
        let zip = zip_of(
            &[
                ("..\\..\\windows\\win.ini", SECRET),
                ("/root/.aws/credentials", SECRET),
            ],
            CompressionMethod::Stored,
        );
        let (seen, _) = run("z.zip", &zip, &ArchiveLimits::default());
        assert_eq!(
            seen,
            vec![
                format!("windows/win.ini={n}"),
                format!("root/.aws/credentials={n}")
            ]
        );
        for path in seen {
            assert!(!path.starts_with('/') && !path.split('/').any(|p| p == ".."));
        }
    }

    #[test]
    fn symlink_members_are_not_followed_or_read() {
        let mut builder = tar::Builder::new(Vec::new());
        let mut header = tar::Header::new_gnu();
        header.set_entry_type(tar::EntryType::Symlink);
        header.set_size(0);
        builder
            .append_link(&mut header, "shadow.env", "/etc/shadow")
            .unwrap();
        let mut header = tar::Header::new_gnu();
        header.set_entry_type(tar::EntryType::Link);
        header.set_size(0);
        builder
            .append_link(&mut header, "hard.env", "real.env")
            .unwrap();
        let tar = builder.into_inner().unwrap();
        let (seen, walk) = run("l.tar", &tar, &ArchiveLimits::default());
        assert!(seen.is_empty(), "{seen:?}");
        assert!(walk.problems.is_empty(), "{:?}", walk.problems);

        let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
        w.add_symlink("link.env", "/etc/shadow", SimpleFileOptions::default())
            .unwrap();
        let zip = w.finish().unwrap().into_inner();
        let (seen, _) = run("l.zip", &zip, &ArchiveLimits::default());
        assert!(seen.is_empty(), "{seen:?}");
    }

    #[test]
    fn members_are_counted_and_bounded() {
        // 1,000,000 tiny members scaled down: 5,000 against a limit of 1,000.
        let names: Vec<String> = (0..5_000).map(|i| format!("m/{i}.txt")).collect();
        let entries: Vec<(&str, &[u8])> = names.iter().map(|n| (n.as_str(), &b"x"[..])).collect();
        let tgz = gz(&tar_of(&entries));
        let limits = ArchiveLimits {
            max_members: 1_000,
            ..ArchiveLimits::default()
        };
        let start = Instant::now();
        let (seen, walk) = run("many.tar.gz", &tgz, &limits);
        assert_eq!(seen.len(), 1_000);
        assert_eq!(
            walk.members, 1_001,
            "stops at the first member over the limit"
        );
        assert_problem(&walk, "more than 1000 members in this archive");
        assert!(start.elapsed() < Duration::from_secs(5));

        // A zip declaring more entries than the limit is refused before its directory is
        // parsed.
        let zip = zip_of(&entries[..1_500], CompressionMethod::Stored);
        let (seen, walk) = run("many.zip", &zip, &limits);
        assert!(seen.is_empty());
        assert_problem(
            &walk,
            "zip archive declares 1500 entries, over the limit of 1000",
        );

        // Past 65,535 entries the count is only in the zip64 record: read from there too.
        let names: Vec<String> = (0..70_000).map(|i| format!("{i}")).collect();
        let entries: Vec<(&str, &[u8])> = names.iter().map(|n| (n.as_str(), &b""[..])).collect();
        let zip = zip_of(&entries, CompressionMethod::Stored);
        let start = Instant::now();
        let (seen, walk) = run("zip64.zip", &zip, &limits);
        assert!(seen.is_empty());
        assert_problem(
            &walk,
            "zip archive declares 70000 entries, over the limit of 1000",
        );
        assert!(start.elapsed() < Duration::from_secs(1), "not parsed");
    }

    #[test]
    fn members_over_the_size_limit_are_not_read() {
        let big = vec![b'a'; 2000];
        let tar = tar_of(&[("big.env", &big), ("small.env", b"ok")]);
        let limits = ArchiveLimits {
            max_member_bytes: 1000,
            ..ArchiveLimits::default()
        };
        let (seen, walk) = run("s.tar", &tar, &limits);
        assert_eq!(seen, vec!["small.env=2".to_string()]);
        assert_problem(
            &walk,
            "big.env: member is 2000 bytes, over the 1000-byte limit per file; not scanned",
        );
        let (seen, walk) = run("big.env.gz", &gz(&big), &limits);
        assert!(seen.is_empty());
        assert_problem(&walk, "big.env: decompresses to over the 1000-byte limit");
    }

    #[test]
    fn unwanted_members_are_not_visited() {
        let tar = tar_of(&[("a.class", b"\xca\xfe"), ("b.env", SECRET)]);
        let mut seen = Vec::new();
        let walk = walk_archive(
            "x.tar",
            &tar,
            &ArchiveLimits::default(),
            &mut |p| !p.ends_with(".class"),
            &mut |p, _| seen.push(p.to_string()),
        );
        assert_eq!(seen, vec!["b.env"]);
        assert_eq!((walk.members, walk.visited), (2, 1));
    }

    #[test]
    fn problems_are_capped_per_archive() {
        let names: Vec<String> = (0..40).map(|i| format!("{i}.zip")).collect();
        let entries: Vec<(&str, &[u8])> = names
            .iter()
            .map(|n| (n.as_str(), &b"garbage"[..]))
            .collect();
        let tar = tar_of(&entries);
        let (_, walk) = run("p.tar", &tar, &ArchiveLimits::default());
        assert_eq!(walk.problems.len(), MAX_PROBLEMS + 1);
        assert_eq!(
            walk.problems.last().unwrap(),
            "… and 20 more problems in this archive"
        );
    }
}
