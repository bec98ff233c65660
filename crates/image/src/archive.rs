use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::paths::normalize_entry_path;
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
        let file = File::open(path).map_err(|e| ImageError::io(path, e))?;
        let len = file.metadata().map_err(|e| ImageError::io(path, e))?.len();
        let mut archive = tar::Archive::new(file);
        let bad = |reason: String| ImageError::malformed(path.display(), "image archive", reason);
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

pub(crate) fn open_member(path: &Path, member: Member) -> io::Result<io::Take<File>> {
    let mut file = File::open(path)?;
    file.seek(SeekFrom::Start(member.offset))?;
    Ok(file.take(member.size))
}
