//! Follows the framing of a tar stream as its bytes go by, without buffering it, to refuse
//! what the `tar` crate would otherwise swallow whole: extension headers (GNU long names and
//! links, PAX records) that it reads into memory before the entry they describe, and bytes a
//! blob carries after its end-of-archive marker, which are drained only to settle digests.
//!
//! The rules mirror `tar::Archive::entries` (version 0.4): a header is 512 bytes; the first
//! all-zero header ends the archive; an entry's data is its size rounded up to 512; a PAX
//! `size` record overrides the size of the entry it describes; a GNU sparse header may be
//! followed by extension blocks. Where the tar reader itself will refuse a header (bad
//! checksum, unreadable size), following stops: that reader fails the layer anyway.

use crate::stream_error::StreamError;

const BLOCK: usize = 512;

/// Where in the tar stream the next byte falls.
#[derive(Debug)]
enum State {
    /// Collecting a 512-byte header; `filled` bytes of it so far.
    Header { filled: usize },
    /// Collecting a GNU sparse extension block (another follows while its byte 504 is set).
    SparseExtension { filled: usize, data: u64 },
    /// Collecting a PAX body (already known to be within the limit), then its padding.
    Pax { left: u64, padding: u64 },
    /// Passing over an entry's data and padding.
    Skip { left: u64 },
    /// Past the end-of-archive marker: `seen` bytes so far.
    Ended { seen: u64 },
    /// The tar reader will fail on the last header; nothing more to follow.
    Lost,
}

/// What one call to [`TarFraming::observe`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Observed {
    InArchive,
    /// The end-of-archive marker has gone by (reported once).
    ReachedEnd,
    AfterEnd,
}

#[derive(Debug)]
pub(crate) struct TarFraming {
    max_extension_bytes: u64,
    max_trailing_bytes: u64,
    state: State,
    block: [u8; BLOCK],
    /// The PAX body being collected, then held for the entry it describes.
    pax: Vec<u8>,
    pax_pending: bool,
}

impl TarFraming {
    pub(crate) fn new(max_extension_bytes: u64, max_trailing_bytes: u64) -> TarFraming {
        TarFraming {
            max_extension_bytes,
            max_trailing_bytes,
            state: State::Header { filled: 0 },
            block: [0; BLOCK],
            pax: Vec::new(),
            pax_pending: false,
        }
    }

    /// Takes the next bytes of the stream; fails as soon as they break a bound.
    pub(crate) fn observe(&mut self, mut data: &[u8]) -> Result<Observed, StreamError> {
        let mut observed = Observed::InArchive;
        while !data.is_empty() {
            match &mut self.state {
                State::Header { filled } => {
                    let take = (BLOCK - *filled).min(data.len());
                    self.block[*filled..*filled + take].copy_from_slice(&data[..take]);
                    *filled += take;
                    data = &data[take..];
                    if *filled == BLOCK {
                        self.state = self.after_header()?;
                        if matches!(self.state, State::Ended { .. }) {
                            observed = Observed::ReachedEnd;
                        }
                    }
                }
                State::SparseExtension { filled, data: size } => {
                    let take = (BLOCK - *filled).min(data.len());
                    self.block[*filled..*filled + take].copy_from_slice(&data[..take]);
                    *filled += take;
                    data = &data[take..];
                    if *filled == BLOCK {
                        let size = *size;
                        self.state = if self.block[504] != 0 {
                            State::SparseExtension {
                                filled: 0,
                                data: size,
                            }
                        } else {
                            skip(size)
                        };
                    }
                }
                State::Pax { left, padding } => {
                    let take = (*left).min(data.len() as u64) as usize;
                    self.pax.extend_from_slice(&data[..take]);
                    *left -= take as u64;
                    data = &data[take..];
                    if *left == 0 {
                        self.pax_pending = true;
                        self.state = skip_exact(*padding);
                    }
                }
                State::Skip { left } => {
                    let take = (*left).min(data.len() as u64);
                    *left -= take;
                    data = &data[take as usize..];
                    if *left == 0 {
                        self.state = State::Header { filled: 0 };
                    }
                }
                State::Ended { seen } => {
                    *seen = seen.saturating_add(data.len() as u64);
                    if *seen > self.max_trailing_bytes {
                        // The caller knows which blob this is and names it.
                        return Err(StreamError::TrailingData {
                            blob: String::new(),
                            limit: self.max_trailing_bytes,
                        });
                    }
                    if observed == Observed::InArchive {
                        observed = Observed::AfterEnd;
                    }
                    data = &[];
                }
                State::Lost => data = &[],
            }
        }
        Ok(observed)
    }

    /// Data bytes the framing would pass over next without looking at them; a reader that
    /// can seek skips them and reports it with [`TarFraming::skipped`].
    pub(crate) fn skippable(&self) -> u64 {
        match self.state {
            State::Skip { left } => left,
            _ => 0,
        }
    }

    pub(crate) fn skipped(&mut self, n: u64) {
        if let State::Skip { left } = &mut self.state {
            *left -= n.min(*left);
            if *left == 0 {
                self.state = State::Header { filled: 0 };
            }
        }
    }

    /// Whether the end-of-archive marker has gone by, or the framing can no longer be
    /// followed; either way nothing more is learnt from the stream.
    pub(crate) fn done(&self) -> bool {
        matches!(self.state, State::Ended { .. } | State::Lost)
    }

    /// Judges a complete header and decides what follows it.
    fn after_header(&mut self) -> Result<State, StreamError> {
        if self.block.iter().all(|&b| b == 0) {
            return Ok(State::Ended { seen: 0 });
        }
        let Ok(header) = tar::Header::from_byte_slice(&self.block)
            .entry_size()
            .map(|size| (tar::Header::from_byte_slice(&self.block), size))
        else {
            return Ok(State::Lost);
        };
        let (header, mut size) = header;
        if !checksum_ok(&self.block) {
            return Ok(State::Lost);
        }
        let kind = header.entry_type();
        let recognized = header.as_gnu().is_some() || header.as_ustar().is_some();
        let read_whole = recognized
            && (kind.is_gnu_longname() || kind.is_gnu_longlink() || kind.is_pax_local_extensions());
        if read_whole {
            if size > self.max_extension_bytes {
                return Err(StreamError::ExtensionTooLarge {
                    kind: if kind.is_pax_local_extensions() {
                        "PAX extended"
                    } else if kind.is_gnu_longname() {
                        "GNU long-name"
                    } else {
                        "GNU long-link"
                    },
                    size,
                    limit: self.max_extension_bytes,
                });
            }
            if kind.is_pax_local_extensions() {
                if self.pax_pending {
                    // The tar reader refuses two PAX headers for one entry.
                    return Ok(State::Lost);
                }
                self.pax.clear();
                let padding = padding(size);
                return Ok(if size == 0 {
                    self.pax_pending = true;
                    skip_exact(padding)
                } else {
                    State::Pax {
                        left: size,
                        padding,
                    }
                });
            }
            return Ok(skip(size));
        }
        // This header is the entry the pending PAX records describe; they are used up here.
        let extension = kind.is_gnu_longname()
            || kind.is_gnu_longlink()
            || kind.is_pax_local_extensions()
            || kind.is_pax_global_extensions();
        if std::mem::take(&mut self.pax_pending) && !extension {
            if let Some(pax_size) = pax_value(&self.pax, "size") {
                size = pax_size;
            }
        }
        if kind.is_gnu_sparse() {
            let Some(gnu) = header.as_gnu() else {
                return Ok(State::Lost);
            };
            if gnu.is_extended() {
                return Ok(State::SparseExtension {
                    filled: 0,
                    data: size,
                });
            }
        }
        Ok(skip(size))
    }
}

fn padding(size: u64) -> u64 {
    (BLOCK as u64 - size % BLOCK as u64) % BLOCK as u64
}

/// Passes over `size` bytes of data and their padding; a size the tar reader cannot add up
/// ends the following (it refuses the entry).
fn skip(size: u64) -> State {
    match size.checked_add(padding(size)) {
        Some(left) => skip_exact(left),
        None => State::Lost,
    }
}

fn skip_exact(left: u64) -> State {
    if left == 0 {
        State::Header { filled: 0 }
    } else {
        State::Skip { left }
    }
}

/// The tar crate's check: the sum of the header's bytes with the checksum field as spaces.
fn checksum_ok(block: &[u8; BLOCK]) -> bool {
    let header = tar::Header::from_byte_slice(block);
    let Ok(stored) = header.cksum() else {
        return false;
    };
    let sum = block[..148]
        .iter()
        .chain(&block[156..])
        .fold(0u32, |a, &b| a + u32::from(b))
        + 8 * 32;
    sum == stored
}

/// A numeric PAX record, read as the tar crate reads it.
fn pax_value(records: &[u8], key: &str) -> Option<u64> {
    for record in tar::PaxExtensions::new(records) {
        let record = record.ok()?;
        if record.key() != Ok(key) {
            continue;
        }
        return record.value().ok()?.parse().ok();
    }
    None
}
