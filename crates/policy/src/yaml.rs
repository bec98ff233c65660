//! YAML input (`bulwark.yaml`, the ignore file's rules) read with `serde-saphyr`, whose errors
//! carry the line and column of the offending node: errors read `FILE:LINE:COLUMN: KEY: problem`.

use std::cell::RefCell;
use std::fmt;

use serde::de::DeserializeOwned;

/// A YAML document that could not be read into the expected shape.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct YamlError {
    /// The file as the user named it.
    pub file: String,
    /// 1-based line and column of the node the problem is at, when the parser knows it.
    pub line: Option<u64>,
    pub column: Option<u64>,
    /// The key path (`ignores[2].expires`), empty at the top level.
    pub path: String,
    pub message: String,
}

impl fmt::Display for YamlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.file)?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
            if let Some(column) = self.column {
                write!(f, ":{column}")?;
            }
        }
        if !self.path.is_empty() && self.path != "." {
            write!(f, ": {}", self.path)?;
        }
        write!(f, ": {}", self.message)
    }
}

/// Reads `text` (named `file` in errors) into `T`.
pub fn from_str<T: DeserializeOwned>(text: &str, file: &str) -> Result<T, YamlError> {
    let path = RefCell::new(String::new());
    serde_saphyr::with_deserializer_from_str(text, |de| {
        serde_path_to_error::deserialize(de).map_err(|e| {
            *path.borrow_mut() = e.path().to_string();
            e.into_inner()
        })
    })
    .map_err(|e| {
        let location = e.location();
        YamlError {
            file: file.to_string(),
            line: location.map(|l| l.line()),
            column: location.map(|l| l.column()),
            path: path.into_inner(),
            message: plain_message(&e),
        }
    })
}

/// The parser's message without its own location suffix or snippet.
fn plain_message(e: &serde_saphyr::Error) -> String {
    let options = serde_saphyr::render_options! { snippets: serde_saphyr::SnippetMode::Off };
    let rendered = e.render_with_options(options);
    let first = rendered.lines().next().unwrap_or_default();
    let first = first.strip_prefix("error: ").unwrap_or(first);
    // `line L column C: ` in front, or ` at line L column C` behind: the caller prints it.
    let first = match first.strip_prefix("line ") {
        Some(rest) => rest.split_once(": ").map_or(first, |(_, m)| m),
        None => first,
    };
    match first.rfind(" at line ") {
        Some(i) => first[..i].to_string(),
        None => first.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Item {
        n: u32,
    }

    #[test]
    fn errors_carry_file_line_column_and_path() {
        let e = from_str::<Vec<Item>>(
            "- n: 1
- {n: 2, zz: 3}
",
            "f.yaml",
        )
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            "f.yaml:2:10: [1].zz: unknown field `zz`, expected one of n"
        );
        assert_eq!((e.line, e.column), (Some(2), Some(10)));
    }
}
