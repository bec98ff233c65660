//! Dockerfiles: the parser ([`parse`]) and the built-in checks (`BW-DF-*`).

mod checks;
pub mod parse;
pub mod shell;

pub use checks::{pipes_download_to_shell, secret_name};
pub use parse::{parse, Dockerfile, Instruction, ParseError, ParseWarning, Stage};

use crate::{FileError, Hit, SourceFile};

/// Runs every Dockerfile check on one file: the hits, and the parser's warnings (variable
/// expansions left as written).
pub fn scan(file: &SourceFile) -> Result<(Vec<Hit>, Vec<FileError>), FileError> {
    let df = parse(&file.bytes).map_err(|e| FileError::new(&file.path, Some(e.line), e.message))?;
    let warnings = df
        .warnings
        .iter()
        .map(|w| FileError::new(&file.path, Some(w.line), w.message.clone()))
        .collect();
    Ok((checks::run(&df), warnings))
}
