use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::paths::normalize_entry_path;
use crate::stream::StreamError;
use crate::tar_frame::TarFraming;
use crate::ImageError;

/// Where one regular member's bytes sit inside an uncompressed tar file.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Member {
    pub offset: u64,
    pub size: u64,
}

/// The member list of an image archive, read once with seeks so the archive's data is never
/// read here; each blob is later opened as a bounded window of the file.
#[derive(Debug, Clone)]
pub(crate) struct ArchiveIndex {
    pub path: Arc<PathBuf>,
    members: BTreeMap<String, Member>,
    /// Symlinked members (docker save links identical layers): name → target.
    links: BTreeMap<String, String>,
}

/// Archives list a few files per layer; a million members is a hostile archive, not an image.
const MAX_MEMBERS: usize = 1_000_000;

impl ArchiveIndex {
    pub fn read(path: &Path) -> Result<ArchiveIndex, ImageError> {
        let mut file = File::open(path).map_err(|e| ImageError::io(path, e))?;
        let len = file.metadata().map_err(|e| ImageError::io(path, e))?.len();
        let bad = |reason: String| ImageError::malformed(path.display(), "image archive", reason);
        check_extension_headers(&mut file).map_err(|e| {
            match e.get_ref().and_then(|i| i.downcast_ref::<StreamError>()) {
                Some(too_large) => bad(too_large.to_string()),
                None => ImageError::io(path, e),
            }
        })?;
        file.seek(SeekFrom::Start(0))
            .map_err(|e| ImageError::io(path, e))?;
        let mut archive = tar::Archive::new(file);
        let entries = archive
            .entries_with_seek()
            .map_err(|e| bad(e.to_string()))?;
        let mut members = BTreeMap::new();
        let mut links = BTreeMap::new();
        for entry in entries {
            let entry = entry.map_err(|e| bad(format!("unreadable tar header: {e}")))?;
            if members.len() + links.len() > MAX_MEMBERS {
                return Err(bad(format!("more than {MAX_MEMBERS} members")));
            }
            let raw = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
            let name = normalize_entry_path(&raw).map_err(|e| bad(e.to_string()))?;
            match entry.header().entry_type() {
                tar::EntryType::Regular | tar::EntryType::Continuous => {
                    let offset = entry.raw_file_position();
                    let size = entry.size();
                    if offset.saturating_add(size) > len {
                        return Err(ImageError::TruncatedArchive {
                            path: path.to_path_buf(),
                            member: name,
                            needed: offset.saturating_add(size),
                            len,
                        });
                    }
                    members.insert(name, Member { offset, size });
                }
                tar::EntryType::Symlink | tar::EntryType::Link => {
                    if let Ok(Some(target)) = entry.link_name() {
                        let target = target.to_string_lossy();
                        let base = match (entry.header().entry_type(), name.rsplit_once('/')) {
                            (tar::EntryType::Symlink, Some((dir, _))) => format!("{dir}/{target}"),
                            _ => target.into_owned(),
                        };
                        if let Ok(resolved) = normalize_entry_path(&base) {
                            links.insert(name, resolved);
                        }
                    }
                }
                _ => {}
            }
        }
        Ok(ArchiveIndex {
            path: Arc::new(path.to_path_buf()),
            members,
            links,
        })
    }

    /// The member at `name`, following member links a bounded number of times.
    pub fn get(&self, name: &str) -> Option<Member> {
        let mut name = normalize_entry_path(name).ok()?;
        for _ in 0..8 {
            if let Some(m) = self.members.get(&name) {
                return Some(*m);
            }
            name = self.links.get(&name)?.clone();
        }
        None
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.members.keys().map(String::as_str)
    }

    pub fn read_small(&self, name: &str, limit: u64) -> Result<Vec<u8>, ImageError> {
        let member = self.get(name).ok_or_else(|| ImageError::MissingBlob {
            digest: name.to_string(),
            location: self.path.display().to_string(),
        })?;
        if member.size > limit {
            return Err(ImageError::malformed(
                format!("{}:{name}", self.path.display()),
                "metadata file",
                format!(
                    "{} bytes is over the {limit}-byte limit for metadata",
                    member.size
                ),
            ));
        }
        let mut buf = Vec::with_capacity(member.size as usize);
        open_member(&self.path, member)
            .and_then(|mut r| r.read_to_end(&mut buf))
            .map_err(|e| ImageError::io(self.path.as_ref(), e))?;
        Ok(buf)
    }
}

/// Walks the archive's headers with seeks, as the tar reader will, and fails on an extension
/// header (GNU long name or link, PAX) over the limit before the tar reader reads it whole.
fn check_extension_headers(file: &mut File) -> io::Result<()> {
    let limits = crate::Limits::default();
    let mut framing = TarFraming::new(limits.max_extension_bytes, u64::MAX);
    let mut buf = vec![0u8; 64 << 10];
    let mut pos = 0u64;
    // Past this many reads the tar reader's own member cap has long stopped the walk.
    let mut reads_left = 16 * MAX_MEMBERS;
    while !framing.done() && reads_left > 0 {
        reads_left -= 1;
        let skip = framing.skippable();
        if skip > 0 {
            pos = pos.saturating_add(skip);
            file.seek(SeekFrom::Start(pos))?;
            framing.skipped(skip);
            continue;
        }
        // A header is 512 bytes; a PAX body (already within the limit) is read through.
        let n = file.read(&mut buf[..512])?;
        if n == 0 {
            break;
        }
        pos += n as u64;
        framing.observe(&buf[..n]).map_err(io::Error::other)?;
    }
    Ok(())
}

pub(crate) fn open_member(path: &Path, member: Member) -> io::Result<io::Take<File>> {
    let mut file = File::open(path)?;
    file.seek(SeekFrom::Start(member.offset))?;
    Ok(file.take(member.size))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gnu_header(name: &str, typeflag: u8, size: u64) -> tar::Header {
        let mut h = tar::Header::new_gnu();
        h.as_gnu_mut().unwrap().name[..name.len()].copy_from_slice(name.as_bytes());
        h.set_entry_type(tar::EntryType::new(typeflag));
        h.set_mode(0o644);
        h.set_size(size);
        h.set_cksum();
        h
    }

    /// Issue 13.4 for image archives: the member index read extension headers whole too.
    #[test]
    fn issue13_4_an_archive_with_a_huge_long_name_header_is_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("image.tar");
        let mut tar = gnu_header("././@LongLink", b'L', 8 << 20)
            .as_bytes()
            .to_vec();
        tar.resize(512 + (8 << 20), b'a');
        let mut b = tar::Builder::new(Vec::new());
        b.append_data(&mut gnu_header("x", b'0', 2), "manifest.json", &b"[]"[..])
            .unwrap();
        tar.extend_from_slice(&b.into_inner().unwrap());
        std::fs::write(&path, &tar).unwrap();
        let err = ArchiveIndex::read(&path).expect_err("refused").to_string();
        assert!(
            err.contains("GNU long-name") && err.contains("not a valid image archive"),
            "{err}"
        );
    }

    #[test]
    fn long_names_under_the_limit_are_indexed() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("image.tar");
        let long = format!("blobs/sha256/{}", "a".repeat(200));
        let mut b = tar::Builder::new(Vec::new());
        b.append_data(&mut gnu_header("x", b'0', 3), &long, &b"abc"[..])
            .unwrap();
        b.append_data(&mut gnu_header("x", b'0', 2), "index.json", &b"{}"[..])
            .unwrap();
        std::fs::write(&path, b.into_inner().unwrap()).unwrap();
        let index = ArchiveIndex::read(&path).unwrap();
        assert_eq!(index.get(&long).map(|m| m.size), Some(3));
        assert_eq!(index.get("index.json").map(|m| m.size), Some(2));
    }
}
