//! Dockerfiles: the parser ([`parse`]) and the built-in checks (`BW-DF-*`).

mod checks;
pub mod parse;
pub mod shell;

pub use checks::{pipes_download_to_shell, secret_name};
pub use parse::{parse, Dockerfile, Instruction, ParseError, Stage};

use crate::{FileError, Hit, SourceFile};

/// Runs every Dockerfile check on one file.
pub fn scan(file: &SourceFile) -> Result<Vec<Hit>, FileError> {
    let df = parse(&file.bytes).map_err(|e| FileError::new(&file.path, Some(e.line), e.message))?;
    Ok(checks::run(&df))
}
