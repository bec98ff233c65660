//! rpm header blobs as stored in the package database: the "immutable region"
//! form that rpm's `headerExport` writes and `headerImport` reads back.
//!
//! Layout (all big-endian): `il: u32`, `dl: u32`, `il` index entries of
//! `(tag, type, offset, count)` u32s, then `dl` bytes of data store that the
//! entries point into.

use crate::{RpmDbError, RpmPackage};

const TAG_NAME: u32 = 1000;
const TAG_VERSION: u32 = 1001;
const TAG_RELEASE: u32 = 1002;
const TAG_EPOCH: u32 = 1003;
const TAG_SUMMARY: u32 = 1004;
const TAG_SIZE: u32 = 1009;
const TAG_VENDOR: u32 = 1011;
const TAG_LICENSE: u32 = 1014;
const TAG_ARCH: u32 = 1022;
const TAG_OLDFILENAMES: u32 = 1027;
const TAG_SOURCERPM: u32 = 1044;
const TAG_DIRINDEXES: u32 = 1116;
const TAG_BASENAMES: u32 = 1117;
const TAG_DIRNAMES: u32 = 1118;
const TAG_LONGSIZE: u32 = 5009;
const TAG_MODULARITYLABEL: u32 = 5096;

const TYPE_INT32: u32 = 4;
const TYPE_INT64: u32 = 5;
const TYPE_STRING: u32 = 6;
const TYPE_STRING_ARRAY: u32 = 8;
const TYPE_I18NSTRING: u32 = 9;
const TYPE_MAX: u32 = 9;

/// rpm's own ceilings (HEADER_TAGS_MAX / HEADER_DATA_MAX): a blob claiming
/// more is corrupt even if the buffer happens to be that large.
const MAX_ENTRIES: u32 = 0xffff;
const MAX_DATA: u32 = 0x0fff_ffff;
const ENTRY_SIZE: usize = 16;
const PREAMBLE: usize = 8;

/// Real headers share directory names between many files, so the joined
/// paths can outgrow the blob; but a path list far bigger than the blob only
/// comes from a hostile dirname/dirindex combination built to exhaust memory.
const PATH_EXPANSION_FACTOR: usize = 64;
const PATH_EXPANSION_SLACK: usize = 1 << 20;

#[derive(Clone, Copy)]
struct Entry {
    tag: u32,
    ty: u32,
    offset: u32,
    count: u32,
    /// Position of the index entry itself, for error messages.
    at: usize,
}

struct Header<'a> {
    entries: Vec<Entry>,
    data: &'a [u8],
    /// Offset of `data` within the blob, so errors report blob offsets.
    data_start: usize,
}

fn be32(b: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

fn err(offset: usize, msg: impl Into<String>) -> RpmDbError {
    RpmDbError::Header {
        offset: offset as u64,
        msg: msg.into(),
    }
}

impl<'a> Header<'a> {
    fn load(blob: &'a [u8]) -> Result<Self, RpmDbError> {
        if blob.len() < PREAMBLE {
            return Err(err(
                0,
                format!(
                    "blob is {} bytes, shorter than the 8-byte preamble",
                    blob.len()
                ),
            ));
        }
        let il = be32(blob, 0);
        let dl = be32(blob, 4);
        if il == 0 || il > MAX_ENTRIES {
            return Err(err(
                0,
                format!("index entry count {il} out of range 1..={MAX_ENTRIES}"),
            ));
        }
        if dl > MAX_DATA {
            return Err(err(
                4,
                format!("data length {dl} exceeds rpm's limit {MAX_DATA}"),
            ));
        }
        // u64 arithmetic: il * 16 + dl cannot overflow it, and the comparison
        // against the real length is what bounds every later allocation.
        let needed = PREAMBLE as u64 + u64::from(il) * ENTRY_SIZE as u64 + u64::from(dl);
        if needed > blob.len() as u64 {
            return Err(err(
                0,
                format!(
                    "header declares {il} entries and {dl} data bytes ({needed} bytes) but the blob is {} bytes",
                    blob.len()
                ),
            ));
        }
        let data_start = PREAMBLE + il as usize * ENTRY_SIZE;
        let data = &blob[data_start..data_start + dl as usize];
        let mut entries = Vec::with_capacity(il as usize);
        for i in 0..il as usize {
            let at = PREAMBLE + i * ENTRY_SIZE;
            let e = Entry {
                tag: be32(blob, at),
                ty: be32(blob, at + 4),
                offset: be32(blob, at + 8),
                count: be32(blob, at + 12),
                at,
            };
            if e.ty > TYPE_MAX {
                return Err(err(
                    at + 4,
                    format!("tag {} has unknown type {}", e.tag, e.ty),
                ));
            }
            // Region trailers (tags 61-63) may point anywhere inside the
            // store, including exactly at its end for an empty store, and we
            // never read them; every other entry must start inside it.
            if !(61..=63).contains(&e.tag) && e.offset as usize >= data.len() && e.count > 0 {
                return Err(err(
                    at + 8,
                    format!(
                        "tag {} data offset {} is outside the {}-byte data store",
                        e.tag,
                        e.offset,
                        data.len()
                    ),
                ));
            }
            entries.push(e);
        }
        Ok(Header {
            entries,
            data,
            data_start,
        })
    }

    /// Later entries win: rpm appends "dribble" entries after the immutable
    /// region, and they override region entries with the same tag.
    fn find(&self, tag: u32) -> Option<Entry> {
        self.entries.iter().rev().find(|e| e.tag == tag).copied()
    }

    fn strings(&self, e: Entry) -> Result<Vec<String>, RpmDbError> {
        if !matches!(e.ty, TYPE_STRING | TYPE_STRING_ARRAY | TYPE_I18NSTRING) {
            return Err(err(
                e.at + 4,
                format!("tag {} has type {}, expected a string type", e.tag, e.ty),
            ));
        }
        if e.ty == TYPE_STRING && e.count != 1 {
            return Err(err(
                e.at + 12,
                format!("tag {} is a STRING with count {}", e.tag, e.count),
            ));
        }
        let mut pos = e.offset as usize;
        let remaining = self.data.len().saturating_sub(pos);
        // Every string takes at least its NUL byte, so a count larger than
        // the bytes left is a lie; checking first keeps the Vec bounded.
        if e.count as usize > remaining {
            return Err(err(
                e.at + 12,
                format!(
                    "tag {} claims {} strings in {remaining} bytes",
                    e.tag, e.count
                ),
            ));
        }
        let mut out = Vec::with_capacity(e.count as usize);
        for _ in 0..e.count {
            let rest = &self.data[pos..];
            let Some(nul) = rest.iter().position(|&b| b == 0) else {
                return Err(err(
                    self.data_start + pos,
                    format!(
                        "tag {} string is not NUL-terminated within the data store",
                        e.tag
                    ),
                ));
            };
            out.push(String::from_utf8_lossy(&rest[..nul]).into_owned());
            pos += nul + 1;
        }
        Ok(out)
    }

    fn string(&self, tag: u32) -> Result<Option<String>, RpmDbError> {
        match self.find(tag) {
            None => Ok(None),
            Some(e) => Ok(self.strings(e)?.into_iter().next()),
        }
    }

    fn ints(&self, e: Entry, width: usize) -> Result<&'a [u8], RpmDbError> {
        let len = (e.count as usize).checked_mul(width);
        let start = e.offset as usize;
        match len.and_then(|l| start.checked_add(l)) {
            Some(end) if end <= self.data.len() => Ok(&self.data[start..end]),
            _ => Err(err(
                e.at + 12,
                format!(
                    "tag {} has {} {}-byte integers at data offset {start}, beyond the {}-byte data store",
                    e.tag,
                    e.count,
                    width,
                    self.data.len()
                ),
            )),
        }
    }

    fn int32s(&self, e: Entry) -> Result<Vec<u32>, RpmDbError> {
        if e.ty != TYPE_INT32 {
            return Err(err(
                e.at + 4,
                format!("tag {} has type {}, expected INT32", e.tag, e.ty),
            ));
        }
        Ok(self
            .ints(e, 4)?
            .chunks_exact(4)
            .map(|c| u32::from_be_bytes([c[0], c[1], c[2], c[3]]))
            .collect())
    }

    fn first_int(&self, tag: u32) -> Result<Option<u64>, RpmDbError> {
        let Some(e) = self.find(tag) else {
            return Ok(None);
        };
        match e.ty {
            TYPE_INT32 => Ok(self.int32s(e)?.first().map(|&v| u64::from(v))),
            TYPE_INT64 => Ok(self
                .ints(e, 8)?
                .chunks_exact(8)
                .next()
                .map(|c| u64::from_be_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]))),
            other => Err(err(
                e.at + 4,
                format!("tag {tag} has type {other}, expected an integer"),
            )),
        }
    }

    fn files(&self, blob_len: usize) -> Result<Vec<String>, RpmDbError> {
        let Some(base_e) = self.find(TAG_BASENAMES) else {
            return match self.find(TAG_OLDFILENAMES) {
                Some(e) => self.strings(e),
                None => Ok(Vec::new()),
            };
        };
        let basenames = self.strings(base_e)?;
        let (Some(dir_e), Some(idx_e)) = (self.find(TAG_DIRNAMES), self.find(TAG_DIRINDEXES))
        else {
            return Err(err(
                base_e.at,
                "BASENAMES present without DIRNAMES and DIRINDEXES",
            ));
        };
        let dirnames = self.strings(dir_e)?;
        let indexes = self.int32s(idx_e)?;
        if indexes.len() != basenames.len() {
            return Err(err(
                idx_e.at + 12,
                format!(
                    "DIRINDEXES has {} entries but BASENAMES has {}",
                    indexes.len(),
                    basenames.len()
                ),
            ));
        }
        let budget = blob_len
            .saturating_mul(PATH_EXPANSION_FACTOR)
            .saturating_add(PATH_EXPANSION_SLACK);
        let mut used = 0usize;
        let mut files = Vec::with_capacity(basenames.len());
        for (i, (base, &di)) in basenames.iter().zip(&indexes).enumerate() {
            let Some(dir) = dirnames.get(di as usize) else {
                return Err(err(
                    self.data_start + idx_e.offset as usize + i * 4,
                    format!(
                        "DIRINDEXES[{i}] = {di} but there are {} DIRNAMES",
                        dirnames.len()
                    ),
                ));
            };
            used = used.saturating_add(dir.len() + base.len());
            if used > budget {
                return Err(err(
                    idx_e.at,
                    format!("file list expands past {budget} bytes from a {blob_len}-byte header"),
                ));
            }
            let mut path = String::with_capacity(dir.len() + base.len());
            path.push_str(dir);
            path.push_str(base);
            files.push(path);
        }
        Ok(files)
    }
}

pub(crate) fn parse(blob: &[u8]) -> Result<RpmPackage, RpmDbError> {
    let h = Header::load(blob)?;
    let required = |tag, name| -> Result<String, RpmDbError> {
        h.string(tag)?.ok_or(RpmDbError::MissingTag { tag, name })
    };
    let epoch = match h.first_int(TAG_EPOCH)? {
        None => None,
        Some(v) => {
            Some(u32::try_from(v).map_err(|_| err(0, format!("epoch {v} does not fit in u32")))?)
        }
    };
    let size = match h.first_int(TAG_LONGSIZE)? {
        Some(v) => Some(v),
        None => h.first_int(TAG_SIZE)?,
    };
    Ok(RpmPackage {
        name: required(TAG_NAME, "NAME")?,
        epoch,
        version: required(TAG_VERSION, "VERSION")?,
        release: required(TAG_RELEASE, "RELEASE")?,
        arch: h.string(TAG_ARCH)?,
        source_rpm: h.string(TAG_SOURCERPM)?,
        license: h.string(TAG_LICENSE)?,
        vendor: h.string(TAG_VENDOR)?,
        size,
        files: h.files(blob.len())?,
        summary: h.string(TAG_SUMMARY)?,
        modularity_label: h.string(TAG_MODULARITYLABEL)?,
    })
}
