//! Reading an input document (an SBOM, a VEX file) whole, but never past a size cap: the cap
//! is checked against the file's size before reading, and again while reading, for files
//! whose size the file system does not know (pipes, `/dev/zero`).

use std::io::Read;
use std::path::Path;

/// The file's bytes, or `None` when it is larger than `max_bytes`.
pub fn read_capped(path: &Path, max_bytes: u64) -> std::io::Result<Option<Vec<u8>>> {
    let file = std::fs::File::open(path)?;
    let size = file.metadata()?.len();
    if size > max_bytes {
        return Ok(None);
    }
    let mut bytes = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
    file.take(max_bytes.saturating_add(1))
        .read_to_end(&mut bytes)?;
    if bytes.len() as u64 > max_bytes {
        return Ok(None);
    }
    Ok(Some(bytes))
}

/// A size as the `--max-*-size` flags take it (`2G`, `256M`, `512K`, else bytes).
pub fn size_text(bytes: u64) -> String {
    for (shift, suffix) in [(30, "G"), (20, "M"), (10, "K")] {
        if bytes >= 1 << shift && bytes.is_multiple_of(1 << shift) {
            return format!("{}{suffix}", bytes >> shift);
        }
    }
    bytes.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caps_before_and_while_reading() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("x.json");
        std::fs::write(&f, b"0123456789").unwrap();
        assert_eq!(read_capped(&f, 10).unwrap().unwrap().len(), 10);
        assert!(read_capped(&f, 9).unwrap().is_none());
        #[cfg(unix)]
        assert!(
            read_capped(Path::new("/dev/zero"), 1 << 10)
                .unwrap()
                .is_none(),
            "a file with no known size stops at the cap"
        );
        assert_eq!(size_text(2 << 30), "2G");
        assert_eq!(size_text(256 << 20), "256M");
        assert_eq!(size_text(1000), "1000");
    }
}
