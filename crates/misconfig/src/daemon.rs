//! Checks for daemon files (to be written).

use crate::{FileError, Hit, SourceFile};

/// Runs every daemon check on one file.
pub fn scan(_file: &SourceFile) -> Result<Vec<Hit>, FileError> {
    Ok(Vec::new())
}
