//! BerkeleyDB hash databases (rpm's `Packages` before rpm 4.16).
//!
//! Rather than walking buckets through the metadata's `spares` table, every
//! page up to `last_pgno` is visited once and hash pages are read directly:
//! that touches each page at most once, needs no bucket arithmetic that a
//! corrupt meta page could poison, and still finds every live key/value pair
//! (freed pages are retyped P_INVALID and so are skipped).

use crate::RpmDbError;

pub(crate) const HASH_MAGIC: u32 = 0x0006_1561;

const P_HASH_UNSORTED: u8 = 2;
const P_OVERFLOW: u8 = 7;
const P_HASHMETA: u8 = 8;
const P_HASH: u8 = 13;

const H_KEYDATA: u8 = 1;
const H_OFFPAGE: u8 = 3;

const META_SIZE: usize = 72;
const PAGE_HEADER: usize = 26;
/// With DBMETA_CHKSUM the 26-byte page header is followed by 2 bytes of
/// alignment and a 4-byte checksum before the item index starts.
const PAGE_HEADER_CHKSUM: usize = 32;
const DBMETA_CHKSUM: u8 = 0x01;

#[derive(Clone, Copy)]
struct Order {
    big: bool,
}

impl Order {
    fn u32(self, b: &[u8], at: usize) -> u32 {
        let a = [b[at], b[at + 1], b[at + 2], b[at + 3]];
        if self.big {
            u32::from_be_bytes(a)
        } else {
            u32::from_le_bytes(a)
        }
    }
    fn u16(self, b: &[u8], at: usize) -> u16 {
        let a = [b[at], b[at + 1]];
        if self.big {
            u16::from_be_bytes(a)
        } else {
            u16::from_le_bytes(a)
        }
    }
}

fn err(page: u32, offset: usize, msg: impl Into<String>) -> RpmDbError {
    RpmDbError::Bdb {
        page,
        offset: offset as u64,
        msg: msg.into(),
    }
}

/// Which byte order the hash magic at offset 12 is written in, if any.
pub(crate) fn hash_order(bytes: &[u8]) -> Option<bool> {
    let m: [u8; 4] = bytes.get(12..16)?.try_into().ok()?;
    if u32::from_le_bytes(m) == HASH_MAGIC {
        Some(false)
    } else if u32::from_be_bytes(m) == HASH_MAGIC {
        Some(true)
    } else {
        None
    }
}

struct Db<'a> {
    bytes: &'a [u8],
    order: Order,
    page_size: usize,
    page_count: u32,
    inp_start: usize,
    /// Each overflow page belongs to exactly one item; refusing reuse bounds
    /// total work by the file size and turns chain loops into errors.
    overflow_used: Vec<bool>,
}

impl<'a> Db<'a> {
    fn page(&self, pgno: u32) -> &'a [u8] {
        let start = pgno as usize * self.page_size;
        &self.bytes[start..start + self.page_size]
    }

    fn read_overflow(
        &mut self,
        from_page: u32,
        item_at: usize,
        first: u32,
        tlen: u32,
    ) -> Result<Vec<u8>, RpmDbError> {
        if tlen as usize > self.bytes.len() {
            return Err(err(
                from_page,
                item_at,
                format!(
                    "off-page item claims {tlen} bytes, more than the {}-byte file",
                    self.bytes.len()
                ),
            ));
        }
        let mut out = Vec::with_capacity(tlen as usize);
        let mut pgno = first;
        while out.len() < tlen as usize {
            if pgno == 0 || pgno >= self.page_count {
                return Err(err(
                    from_page,
                    item_at,
                    format!(
                        "overflow chain reaches page {pgno} after {} of {tlen} bytes (file has {} pages)",
                        out.len(),
                        self.page_count
                    ),
                ));
            }
            if std::mem::replace(&mut self.overflow_used[pgno as usize], true) {
                return Err(err(
                    pgno,
                    0,
                    "overflow page visited twice (page chain loops or is shared)",
                ));
            }
            let page = self.page(pgno);
            if page[25] != P_OVERFLOW {
                return Err(err(
                    pgno,
                    25,
                    format!("expected an overflow page, found page type {}", page[25]),
                ));
            }
            let len = self.order.u16(page, 22) as usize;
            if self.inp_start + len > self.page_size {
                return Err(err(
                    pgno,
                    22,
                    format!("overflow page holds {len} bytes, more than fit in a page"),
                ));
            }
            let take = len.min(tlen as usize - out.len());
            out.extend_from_slice(&page[self.inp_start..self.inp_start + take]);
            pgno = self.order.u32(page, 16);
        }
        Ok(out)
    }

    /// The raw item at index `i` of a hash page: its type byte's offset and
    /// the bytes after the type byte.
    fn item(
        &self,
        pgno: u32,
        page: &'a [u8],
        offsets: &[usize],
        i: usize,
    ) -> Result<(usize, &'a [u8]), RpmDbError> {
        let start = offsets[i];
        // Items are packed downwards from the page end, so each one ends
        // where the previous index's item begins.
        let end = if i == 0 {
            self.page_size
        } else {
            offsets[i - 1]
        };
        if start >= end {
            return Err(err(
                pgno,
                self.inp_start + 2 * i,
                format!("item {i} at offset {start} does not lie before its predecessor at {end}"),
            ));
        }
        Ok((start, &page[start + 1..end]))
    }

    fn hash_page(&mut self, pgno: u32, out: &mut Vec<Vec<u8>>) -> Result<(), RpmDbError> {
        let page = self.page(pgno);
        let entries = self.order.u16(page, 20) as usize;
        let index_end = self.inp_start + 2 * entries;
        if index_end > self.page_size {
            return Err(err(
                pgno,
                20,
                format!(
                    "{entries} entries do not fit in a {}-byte page",
                    self.page_size
                ),
            ));
        }
        if entries & 1 != 0 {
            return Err(err(
                pgno,
                20,
                format!("hash page has an odd number of entries ({entries})"),
            ));
        }
        let mut offsets = Vec::with_capacity(entries);
        for i in 0..entries {
            let off = self.order.u16(page, self.inp_start + 2 * i) as usize;
            if off < index_end || off >= self.page_size {
                return Err(err(
                    pgno,
                    self.inp_start + 2 * i,
                    format!(
                        "item {i} offset {off} is outside the page's data area {index_end}..{}",
                        self.page_size
                    ),
                ));
            }
            offsets.push(off);
        }
        for pair in 0..entries / 2 {
            let (_, key) = self.item(pgno, page, &offsets, 2 * pair)?;
            let key_is_zero = page[offsets[2 * pair]] == H_KEYDATA && key == [0, 0, 0, 0];
            let (val_at, val) = self.item(pgno, page, &offsets, 2 * pair + 1)?;
            let value = match page[val_at] {
                H_KEYDATA => val.to_vec(),
                H_OFFPAGE => {
                    if val.len() < 11 {
                        return Err(err(
                            pgno,
                            val_at,
                            "off-page item is shorter than its 12-byte descriptor",
                        ));
                    }
                    // HOFFPAGE: type, 3 unused bytes, pgno, tlen.
                    let first = self.order.u32(val, 3);
                    let tlen = self.order.u32(val, 7);
                    self.read_overflow(pgno, val_at, first, tlen)?
                }
                other => {
                    return Err(err(
                        pgno,
                        val_at,
                        format!(
                            "unsupported hash item type {other} (duplicates are not used by rpm)"
                        ),
                    ))
                }
            };
            // Key 0 holds rpm's "next header number" counter, not a header.
            if !key_is_zero {
                out.push(value);
            }
        }
        Ok(())
    }
}

pub(crate) fn read_blobs(bytes: &[u8]) -> Result<Vec<Vec<u8>>, RpmDbError> {
    if bytes.len() < META_SIZE {
        return Err(RpmDbError::Truncated {
            what: "BerkeleyDB metadata page",
            offset: 0,
            needed: META_SIZE as u64,
            len: bytes.len() as u64,
        });
    }
    let Some(big) = hash_order(bytes) else {
        return Err(err(0, 12, "no BerkeleyDB hash magic"));
    };
    let order = Order { big };
    let page_size = order.u32(bytes, 20) as usize;
    if !(512..=65536).contains(&page_size) || !page_size.is_power_of_two() {
        return Err(err(0, 20, format!("invalid page size {page_size}")));
    }
    if bytes[24] != 0 {
        return Err(err(
            0,
            24,
            "encrypted BerkeleyDB databases are not supported",
        ));
    }
    if bytes[25] != P_HASHMETA {
        return Err(err(
            0,
            25,
            format!("page 0 has type {}, expected hash metadata (8)", bytes[25]),
        ));
    }
    let last_pgno = order.u32(bytes, 32);
    let page_count = u64::from(last_pgno) + 1;
    let needed = page_count * page_size as u64;
    if needed > bytes.len() as u64 {
        return Err(RpmDbError::Truncated {
            what: "BerkeleyDB database (last_pgno in metadata page)",
            offset: 0,
            needed,
            len: bytes.len() as u64,
        });
    }
    let inp_start = if bytes[26] & DBMETA_CHKSUM != 0 {
        PAGE_HEADER_CHKSUM
    } else {
        PAGE_HEADER
    };
    let mut db = Db {
        bytes,
        order,
        page_size,
        page_count: page_count as u32,
        inp_start,
        overflow_used: vec![false; page_count as usize],
    };
    let mut out = Vec::new();
    for pgno in 1..db.page_count {
        let ty = db.page(pgno)[25];
        if ty == P_HASH || ty == P_HASH_UNSORTED {
            db.hash_page(pgno, &mut out)?;
        }
    }
    Ok(out)
}
