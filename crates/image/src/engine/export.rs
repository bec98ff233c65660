//! One pass over an engine's `GET /images/{id}/get` tar stream.
//!
//! The export is a `docker save` archive: Docker 25+ writes an OCI layout inside it
//! (`blobs/sha256/<digest>`), older Docker `<id>/layer.tar`, Podman `<diff_id>.tar`, and
//! `manifest.json`, which says which member is which layer, tends to come last. Rather than
//! wait for it (which would mean keeping or re-reading the layers), each layer member is
//! analysed as it passes and identified by what it hashes to: its name gives the expected
//! diff_id when it can (Podman's names, Docker's uncompressed blobs), and otherwise the diff_id
//! computed while streaming must be one the engine's inspect listed. Members are read once,
//! from the socket, and never written anywhere.

use std::collections::HashMap;
use std::fmt;
use std::io::{self, Cursor, Read};
use std::sync::{Arc, Mutex};

use bulwark_engine::{Client, Engine, EngineError};
use bulwark_types::Digest;

use crate::layer::Layer;
use crate::stream::{LayerStream, Limits, StreamError};
use crate::ImageError;

/// The export of one inspected image, read at most once per scan.
#[derive(Clone)]
pub struct EngineExport {
    client: Arc<Client>,
    id: String,
}

impl fmt::Debug for EngineExport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EngineExport")
            .field("engine", &self.client.engine())
            .field("socket", &self.client.socket())
            .field("id", &self.id)
            .finish()
    }
}

impl EngineExport {
    pub(crate) fn new(client: Arc<Client>, id: String) -> Self {
        EngineExport { client, id }
    }

    pub fn engine(&self) -> Engine {
        self.client.engine()
    }

    /// Streams the image's export once, handing each layer that `known` does not vouch for to
    /// `visit` as it passes, with its tar verified against the diff_id it must have. Returns
    /// `visit`'s result per image layer (None for known layers). When every layer is known the
    /// engine is not asked for the export at all.
    pub fn read<T: Clone, E: From<ImageError>>(
        &self,
        layers: &[Layer],
        limits: Limits,
        known: &dyn Fn(&Layer) -> bool,
        visit: &mut dyn FnMut(ExportedMember<'_>, &mut LayerStream) -> Result<T, E>,
    ) -> Result<Vec<Option<T>>, E> {
        if layers.iter().all(known) {
            return Ok(vec![None; layers.len()]);
        }
        let body = self.client.export(&self.id).map_err(ImageError::Engine)?;
        read_export(body, self.engine().title(), layers, limits, known, visit)
    }
}

/// What the visitor learns about a layer member before reading it.
#[derive(Debug)]
pub struct ExportedMember<'a> {
    /// The image layer the member's name says it is, when it says; otherwise the member is
    /// identified by its content once read.
    pub layer: Option<&'a Layer>,
    /// Which layer member of the stream this is (0, 1, …), for progress when `layer` is None.
    pub ordinal: usize,
    /// The member's name inside the export, for messages.
    pub name: String,
    /// Bytes of the member as the export carries it.
    pub size: u64,
}

impl ExportedMember<'_> {
    /// A short name for messages: the layer's when known, else the member's.
    pub fn label(&self) -> String {
        match self.layer {
            Some(l) => l.label(),
            None => self.name.clone(),
        }
    }
}

/// The tar stream's reader and how much of the current member is still unread, shared between
/// the header parser and the member reader handed to the visitor.
struct Shared {
    reader: Box<dyn Read + Send>,
    member_left: u64,
}

/// One member's bytes, read straight off the shared stream.
struct MemberReader {
    shared: Arc<Mutex<Shared>>,
}

impl Read for MemberReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let mut shared = self
            .shared
            .lock()
            .map_err(|_| io::Error::other("export reader poisoned"))?;
        if shared.member_left == 0 || buf.is_empty() {
            return Ok(0);
        }
        let want = buf
            .len()
            .min(shared.member_left.min(usize::MAX as u64) as usize);
        let n = shared.reader.read(&mut buf[..want])?;
        if n == 0 {
            return Err(truncated());
        }
        shared.member_left -= n as u64;
        Ok(n)
    }
}

fn truncated() -> io::Error {
    io::Error::new(
        io::ErrorKind::UnexpectedEof,
        "the export stream ended in the middle of a member",
    )
}

#[derive(Debug, PartialEq, Eq)]
enum MemberType {
    File,
    Other,
}

struct Header {
    name: String,
    size: u64,
    kind: MemberType,
}

/// Reads tar headers off a stream that cannot seek, handling the long-name forms (PAX `path`,
/// GNU `L`) an exporter may use.
struct TarHeaders {
    shared: Arc<Mutex<Shared>>,
}

impl TarHeaders {
    fn with<T>(&self, f: impl FnOnce(&mut Shared) -> io::Result<T>) -> io::Result<T> {
        let mut shared = self
            .shared
            .lock()
            .map_err(|_| io::Error::other("export reader poisoned"))?;
        f(&mut shared)
    }

    /// Skips what the visitor left of the current member, and its padding.
    fn finish_member(&self, padded: u64) -> io::Result<()> {
        self.with(|s| {
            let left = s.member_left;
            s.member_left = 0;
            let copied = io::copy(&mut (&mut s.reader).take(left + padded), &mut io::sink())?;
            if copied < left + padded {
                return Err(truncated());
            }
            Ok(())
        })
    }

    fn read_block(&self, block: &mut [u8; 512]) -> io::Result<bool> {
        self.with(|s| {
            let mut got = 0;
            while got < 512 {
                let n = s.reader.read(&mut block[got..])?;
                if n == 0 {
                    if got == 0 {
                        return Ok(false);
                    }
                    return Err(truncated());
                }
                got += n;
            }
            Ok(true)
        })
    }

    fn read_data(&self, size: u64) -> io::Result<Vec<u8>> {
        if size > 1 << 20 {
            return Err(bad_tar("a long-name header over 1 MiB"));
        }
        self.with(|s| {
            let mut data = vec![0u8; size as usize];
            s.reader.read_exact(&mut data).map_err(|_| truncated())?;
            let pad = padding(size);
            io::copy(&mut (&mut s.reader).take(pad), &mut io::sink())?;
            Ok(data)
        })
    }

    /// The next member's header, or None at the end-of-archive marker.
    fn next(&self) -> io::Result<Option<Header>> {
        let mut long_name: Option<String> = None;
        loop {
            let mut block = [0u8; 512];
            if !self.read_block(&mut block)? {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "the export stream ended without the tar end-of-archive marker",
                ));
            }
            if block.iter().all(|&b| b == 0) {
                return Ok(None);
            }
            check_checksum(&block)?;
            let size = parse_octal(&block[124..136])
                .ok_or_else(|| bad_tar("a header with an unreadable size"))?;
            let typeflag = block[156];
            match typeflag {
                b'x' => {
                    let data = self.read_data(size)?;
                    if let Some(path) = pax_path(&data) {
                        long_name = Some(path);
                    }
                    continue;
                }
                b'g' => {
                    self.read_data(size)?;
                    continue;
                }
                b'L' => {
                    let data = self.read_data(size)?;
                    let end = data.iter().position(|&b| b == 0).unwrap_or(data.len());
                    long_name = Some(String::from_utf8_lossy(&data[..end]).into_owned());
                    continue;
                }
                _ => {}
            }
            let name = long_name.take().unwrap_or_else(|| {
                let field = |r: std::ops::Range<usize>| {
                    let bytes = &block[r];
                    let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
                    String::from_utf8_lossy(&bytes[..end]).into_owned()
                };
                let prefix = if &block[257..262] == b"ustar" {
                    field(345..500)
                } else {
                    String::new()
                };
                let name = field(0..100);
                if prefix.is_empty() {
                    name
                } else {
                    format!("{prefix}/{name}")
                }
            });
            let kind = match typeflag {
                b'0' | 0 | b'7' => MemberType::File,
                _ => MemberType::Other,
            };
            // Links and directories carry no data; anything else with a size is skipped whole.
            let size = match typeflag {
                b'1' | b'2' | b'5' => 0,
                _ => size,
            };
            self.with(|s| {
                s.member_left = size;
                Ok(())
            })?;
            return Ok(Some(Header {
                name: name.trim_start_matches("./").to_string(),
                size,
                kind,
            }));
        }
    }
}

fn padding(size: u64) -> u64 {
    (512 - size % 512) % 512
}

fn bad_tar(what: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!("the export is not a valid tar stream: {what}"),
    )
}

fn parse_octal(field: &[u8]) -> Option<u64> {
    // GNU base-256 for sizes of 8 GiB and more.
    if field.first().is_some_and(|b| b & 0x80 != 0) {
        let mut n: u64 = u64::from(field[0] & 0x7f);
        for &b in &field[1..] {
            n = n.checked_mul(256)?.checked_add(u64::from(b))?;
        }
        return Some(n);
    }
    let text = std::str::from_utf8(field).ok()?;
    let text = text.trim_matches(|c: char| c == '\0' || c == ' ');
    if text.is_empty() {
        return Some(0);
    }
    u64::from_str_radix(text, 8).ok()
}

fn check_checksum(block: &[u8; 512]) -> io::Result<()> {
    let stored = parse_octal(&block[148..156]).ok_or_else(|| bad_tar("an unreadable checksum"))?;
    let sum: u64 = block
        .iter()
        .enumerate()
        .map(|(i, &b)| {
            if (148..156).contains(&i) {
                32
            } else {
                u64::from(b)
            }
        })
        .sum();
    if sum != stored {
        return Err(bad_tar(
            "a header checksum mismatch (not a tar, or corrupt)",
        ));
    }
    Ok(())
}

/// The `path` record of a PAX extended header (`<len> path=<value>\n`).
fn pax_path(data: &[u8]) -> Option<String> {
    let mut rest = data;
    let mut found = None;
    while !rest.is_empty() {
        let space = rest.iter().position(|&b| b == b' ')?;
        let len: usize = std::str::from_utf8(&rest[..space]).ok()?.parse().ok()?;
        if len <= space || len > rest.len() {
            return None;
        }
        let record = &rest[space + 1..len];
        let record = record.strip_suffix(b"\n").unwrap_or(record);
        if let Some(value) = record.strip_prefix(b"path=") {
            found = Some(String::from_utf8_lossy(value).into_owned());
        }
        rest = &rest[len..];
    }
    found
}

/// What a member of the export is, judged from its name.
enum Role {
    /// A layer whose diff_id the name gives.
    Layer(Digest),
    /// A layer known only by its content (`<v1 id>/layer.tar`, a compressed blob), with the
    /// blob digest when the name gives one.
    Unnamed(Option<Digest>),
    /// A blob of the OCI layout inside the export: a layer unless it turns out to be JSON.
    Blob(Digest),
    /// Metadata (`manifest.json`, configs, `repositories`, `oci-layout`): not needed, since
    /// the image was inspected before the export began.
    Skip,
}

fn role(name: &str, diff_ids: &HashMap<Digest, Vec<usize>>) -> Role {
    if let Some(hex) = name.strip_prefix("blobs/sha256/") {
        return match Digest::sha256_of_hex(hex) {
            Ok(d) if diff_ids.contains_key(&d) => Role::Layer(d),
            Ok(d) => Role::Blob(d),
            Err(_) => Role::Skip,
        };
    }
    if let Some(hex) = name.strip_suffix(".tar") {
        if !hex.contains('/') {
            if let Ok(d) = Digest::sha256_of_hex(hex) {
                if diff_ids.contains_key(&d) {
                    return Role::Layer(d);
                }
            }
        }
    }
    if name.ends_with("/layer.tar") || name.ends_with(".tar") {
        return Role::Unnamed(None);
    }
    Role::Skip
}

/// Reads the export once. Layers `known` says need no reading are passed over; each other
/// layer member is handed to `visit` with its verified uncompressed tar stream. Returns, per
/// image layer (by index), what `visit` returned for it, or None for the known ones.
fn read_export<T: Clone, E: From<ImageError>>(
    body: Box<dyn Read + Send>,
    engine: &str,
    layers: &[Layer],
    limits: Limits,
    known: &dyn Fn(&Layer) -> bool,
    visit: &mut dyn FnMut(ExportedMember<'_>, &mut LayerStream) -> Result<T, E>,
) -> Result<Vec<Option<T>>, E> {
    let mut by_diff_id: HashMap<Digest, Vec<usize>> = HashMap::new();
    for layer in layers {
        if let Some(d) = &layer.diff_id {
            by_diff_id.entry(d.clone()).or_default().push(layer.index);
        }
    }
    let wanted: Vec<bool> = layers.iter().map(|l| !known(l)).collect();
    let mut results: Vec<Option<T>> = vec![None; layers.len()];
    let shared = Arc::new(Mutex::new(Shared {
        reader: body,
        member_left: 0,
    }));
    let headers = TarHeaders {
        shared: shared.clone(),
    };
    let stream_err = |e: io::Error| -> E {
        ImageError::Engine(EngineError::Export {
            engine: engine.to_string(),
            message: e.to_string(),
        })
        .into()
    };
    let mut ordinal = 0usize;
    let still_wanted =
        |results: &[Option<T>]| wanted.iter().zip(results).any(|(w, r)| *w && r.is_none());
    while still_wanted(&results) {
        let Some(header) = headers.next().map_err(stream_err)? else {
            break;
        };
        let padded = padding(header.size);
        if header.kind != MemberType::File || header.size == 0 {
            headers.finish_member(padded).map_err(stream_err)?;
            continue;
        }
        let (expected, blob_digest, sniff) = match role(&header.name, &by_diff_id) {
            Role::Skip => {
                headers.finish_member(padded).map_err(stream_err)?;
                continue;
            }
            Role::Layer(d) => {
                let needed = by_diff_id
                    .get(&d)
                    .is_some_and(|ix| ix.iter().any(|&i| wanted[i] && results[i].is_none()));
                if !needed {
                    headers.finish_member(padded).map_err(stream_err)?;
                    continue;
                }
                (Some(d), None, false)
            }
            Role::Unnamed(blob) => (None, blob, false),
            Role::Blob(d) => (None, Some(d), true),
        };
        let mut reader: Box<dyn Read + Send> = Box::new(MemberReader {
            shared: shared.clone(),
        });
        if sniff {
            // A blob of the inner OCI layout that is not an uncompressed layer: configs and
            // manifests are JSON; anything else should be a compressed layer.
            let mut head = Vec::with_capacity(64);
            (&mut reader)
                .take(64)
                .read_to_end(&mut head)
                .map_err(stream_err)?;
            if head.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{') {
                headers.finish_member(padded).map_err(stream_err)?;
                continue;
            }
            reader = Box::new(Cursor::new(head).chain(reader));
        }
        let layer = expected
            .as_ref()
            .and_then(|d| by_diff_id.get(d))
            .and_then(|ix| ix.first())
            .map(|&i| &layers[i]);
        let member = ExportedMember {
            layer,
            ordinal,
            name: header.name.clone(),
            size: header.size,
        };
        ordinal += 1;
        let label = member.label();
        let index = layer.map(|l| l.index).unwrap_or(0);
        let layer_err = |source: StreamError| -> E {
            ImageError::Layer {
                index,
                digest: label.clone(),
                source,
            }
            .into()
        };
        let mut stream = LayerStream::with_hashing(
            reader,
            blob_digest,
            Some(header.size),
            expected.clone(),
            limits,
            true,
        )
        .map_err(|e| layer_err(StreamError::from_io(e, crate::Compression::None, false)))?;
        let value = visit(member, &mut stream)?;
        let computed = stream.finish().map_err(layer_err)?;
        headers.finish_member(padded).map_err(stream_err)?;
        let Some(diff_id) = computed.or(expected) else {
            continue;
        };
        let Some(indices) = by_diff_id.get(&diff_id) else {
            return Err(ImageError::Engine(EngineError::Export {
                engine: engine.to_string(),
                message: format!(
                    "member {} of the export is a layer with diff_id {diff_id}, which is not one of the layers the engine's inspect listed; the image changed while it was read, or the export is not this image's",
                    header.name
                ),
            })
            .into());
        };
        for &i in indices {
            if wanted[i] {
                results[i] = Some(value.clone());
            }
        }
    }
    if let Some(missing) = layers
        .iter()
        .find(|l| wanted[l.index] && results[l.index].is_none())
    {
        return Err(ImageError::Engine(EngineError::Export {
            engine: engine.to_string(),
            message: format!(
                "the export ended without layer {} ({}); it was cut short, or the image changed while it was read",
                missing.index,
                missing.label()
            ),
        })
        .into());
    }
    Ok(results)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn octal_and_pax_fields() {
        assert_eq!(parse_octal(b"00000001750\0"), Some(1000));
        assert_eq!(parse_octal(b"           \0"), Some(0));
        assert_eq!(
            pax_path(b"30 path=blobs/sha256/abcdefgh\n"),
            Some("blobs/sha256/abcdefgh".into())
        );
        assert_eq!(pax_path(b"99 path=x\n"), None);
    }
}
