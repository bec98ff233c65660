//! rpm's own "ndb" package store (`Packages.db`, rpm >= 4.16, used by SUSE).
//!
//! The file starts with slot pages: a 32-byte `RpmP` header, then 16-byte
//! `Slot` records `(magic, pkgidx, blkoff, blkcnt)` naming where each
//! package's blob lives in 16-byte blocks. A blob is framed by a `BlbS` head
//! `(magic, pkgidx, generation, length)` and a `BlbE` tail
//! `(adler32, length, magic)`. Everything is little-endian.

use crate::RpmDbError;

pub(crate) const MAGIC: &[u8; 4] = b"RpmP";
const SLOT_MAGIC: &[u8; 4] = b"Slot";
const BLOB_HEAD_MAGIC: &[u8; 4] = b"BlbS";
const BLOB_TAIL_MAGIC: &[u8; 4] = b"BlbE";
const HEADER_SIZE: usize = 32;
const SLOT_SIZE: usize = 16;
const BLK_SIZE: u64 = 16;
const PAGE_SIZE: u64 = 4096;
const BLOB_HEAD_SIZE: u64 = 16;
const BLOB_TAIL_SIZE: u64 = 12;
const VERSION: u32 = 0;

fn le32(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

fn err(offset: u64, msg: impl Into<String>) -> RpmDbError {
    RpmDbError::Ndb {
        offset,
        msg: msg.into(),
    }
}

fn adler32(data: &[u8]) -> u32 {
    const MOD: u32 = 65521;
    let (mut a, mut b) = (1u32, 0u32);
    // 5552 is zlib's NMAX: the largest run that cannot overflow u32 sums.
    for chunk in data.chunks(5552) {
        for &x in chunk {
            a += u32::from(x);
            b += a;
        }
        a %= MOD;
        b %= MOD;
    }
    (b << 16) | a
}

struct Slot {
    at: u64,
    pkgidx: u32,
    blkoff: u64,
    blkcnt: u64,
}

pub(crate) fn read_blobs(bytes: &[u8]) -> Result<Vec<Vec<u8>>, RpmDbError> {
    let len = bytes.len() as u64;
    if bytes.len() < HEADER_SIZE {
        return Err(RpmDbError::Truncated {
            what: "NDB header",
            offset: 0,
            needed: HEADER_SIZE as u64,
            len,
        });
    }
    if &bytes[0..4] != MAGIC {
        return Err(err(0, "missing RpmP magic"));
    }
    let version = le32(bytes, 4);
    if version != VERSION {
        return Err(err(4, format!("unsupported NDB version {version}")));
    }
    let slot_pages = u64::from(le32(bytes, 12));
    let slot_end = slot_pages * PAGE_SIZE;
    if slot_pages == 0 || slot_end > len {
        return Err(RpmDbError::Truncated {
            what: "NDB slot pages",
            offset: 12,
            needed: slot_end.max(PAGE_SIZE),
            len,
        });
    }
    let file_blocks = len / BLK_SIZE;
    let mut slots = Vec::new();
    for at in (HEADER_SIZE..slot_end as usize).step_by(SLOT_SIZE) {
        if &bytes[at..at + 4] != SLOT_MAGIC {
            return Err(err(at as u64, "slot without Slot magic"));
        }
        let blkoff = u64::from(le32(bytes, at + 8));
        // rpm marks free slots with a zero block offset.
        if blkoff == 0 {
            continue;
        }
        let blkcnt = u64::from(le32(bytes, at + 12));
        if blkoff * BLK_SIZE < slot_end || blkcnt == 0 || blkoff + blkcnt > file_blocks {
            return Err(err(
                at as u64,
                format!(
                    "slot points at blocks {blkoff}..{} outside the blob area (slot pages end at block {}, file has {file_blocks} blocks)",
                    blkoff + blkcnt,
                    slot_end / BLK_SIZE
                ),
            ));
        }
        slots.push(Slot {
            at: at as u64,
            pkgidx: le32(bytes, at + 4),
            blkoff,
            blkcnt,
        });
    }
    // Overlapping slots would let a small file expand into many copies of
    // the same bytes; rpm never writes them.
    slots.sort_by_key(|s| s.blkoff);
    for w in slots.windows(2) {
        if w[0].blkoff + w[0].blkcnt > w[1].blkoff {
            return Err(err(
                w[1].at,
                format!("blob at block {} overlaps the previous blob", w[1].blkoff),
            ));
        }
    }
    let mut out = Vec::with_capacity(slots.len());
    for s in &slots {
        let start = s.blkoff * BLK_SIZE;
        let area = &bytes[start as usize..((s.blkoff + s.blkcnt) * BLK_SIZE) as usize];
        if (area.len() as u64) < BLOB_HEAD_SIZE + BLOB_TAIL_SIZE {
            return Err(err(start, "blob area too small for its head and tail"));
        }
        if &area[0..4] != BLOB_HEAD_MAGIC {
            return Err(err(start, "blob without BlbS magic"));
        }
        let pkgidx = le32(area, 4);
        if pkgidx != s.pkgidx {
            return Err(err(
                start + 4,
                format!(
                    "blob is for package {pkgidx} but its slot says {}",
                    s.pkgidx
                ),
            ));
        }
        let blob_len = u64::from(le32(area, 12));
        let expect_blocks = (BLOB_HEAD_SIZE + blob_len + BLOB_TAIL_SIZE).div_ceil(BLK_SIZE);
        if expect_blocks != s.blkcnt {
            return Err(err(
                start + 12,
                format!(
                    "blob length {blob_len} needs {expect_blocks} blocks but the slot has {}",
                    s.blkcnt
                ),
            ));
        }
        let tail = area.len() - BLOB_TAIL_SIZE as usize;
        if &area[tail + 8..tail + 12] != BLOB_TAIL_MAGIC
            || u64::from(le32(area, tail + 4)) != blob_len
        {
            return Err(err(
                start + tail as u64,
                "blob tail magic or length does not match its head",
            ));
        }
        // rpm checksums head, blob and zero padding up to the tail.
        let stored = le32(area, tail);
        if adler32(&area[..tail]) != stored {
            return Err(err(
                start + tail as u64,
                format!("blob checksum mismatch (package {pkgidx})"),
            ));
        }
        let data = BLOB_HEAD_SIZE as usize;
        out.push(area[data..data + blob_len as usize].to_vec());
    }
    Ok(out)
}
