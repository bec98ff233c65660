//! A Dockerfile parser that keeps line numbers: parser directives (`# syntax=`, `# escape=`,
//! `# check=`), line continuations with either escape character, comments and blank lines
//! inside continuations, heredocs (`RUN <<EOF`), instruction flags (`--mount=…`), shell and
//! exec (JSON) forms, stages (`FROM … AS name`) and `ARG`/`ENV` expansion of `FROM` lines.
//! Anything that is not a Dockerfile is refused with the line that gave it away.

use std::collections::BTreeMap;

/// Every instruction Docker knows; anything else is an error, as it is for `docker build`.
const INSTRUCTIONS: &[&str] = &[
    "FROM",
    "RUN",
    "CMD",
    "LABEL",
    "MAINTAINER",
    "EXPOSE",
    "ENV",
    "ADD",
    "COPY",
    "ENTRYPOINT",
    "VOLUME",
    "USER",
    "WORKDIR",
    "ARG",
    "ONBUILD",
    "STOPSIGNAL",
    "HEALTHCHECK",
    "SHELL",
];

/// A parse failure: the 1-based line and what was wrong there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    pub line: usize,
    pub message: String,
}

/// Something the parser did not do in full, with its 1-based line; the file is still checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseWarning {
    pub line: usize,
    pub message: String,
}

/// Longest value one `$VAR` expansion may produce. Real build arguments and environment values
/// are a few hundred bytes; `ENV A=$A$A` repeated doubles without end.
pub const MAX_EXPANDED_VALUE_BYTES: usize = 64 << 10;

/// Bytes all the expansions of one Dockerfile may produce together, so that many lines each
/// just under [`MAX_EXPANDED_VALUE_BYTES`] still cost little.
pub const MAX_EXPANSION_BYTES_PER_FILE: usize = 4 << 20;

/// Warnings kept per file; the rest are counted in the last one.
const MAX_WARNINGS: usize = 20;

/// `--name=value` (or a bare `--name`) before an instruction's arguments.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Flag {
    pub name: String,
    pub value: Option<String>,
}

/// The body of one heredoc (`<<EOF` … `EOF`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Heredoc {
    pub name: String,
    /// Line of the first body line.
    pub line: usize,
    pub body: String,
}

/// One instruction, continuation lines joined.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Instruction {
    /// Upper case: `RUN`, `FROM`.
    pub cmd: String,
    /// First and last line (1-based) the instruction spans, heredoc bodies included.
    pub line: usize,
    pub end_line: usize,
    pub column: usize,
    pub flags: Vec<Flag>,
    /// The arguments after the flags, continuations joined, as written.
    pub value: String,
    /// The exec (JSON array) form, when the arguments are one.
    pub exec: Option<Vec<String>>,
    pub heredocs: Vec<Heredoc>,
    /// The stage (index into [`Dockerfile::stages`]); `None` for `ARG`s before the first `FROM`.
    pub stage: Option<usize>,
    /// `ADD` only: its words with the ARG and ENV values in scope (their defaults) substituted,
    /// so that `ADD $URL /dst` after `ARG URL=https://…` is seen as a download. Not part of the
    /// Rego input, which keeps the instruction as written.
    #[serde(skip)]
    pub expanded_words: Vec<String>,
}

impl Instruction {
    pub fn flag(&self, name: &str) -> Option<&Flag> {
        self.flags.iter().find(|f| f.name == name)
    }

    /// Words of the arguments (shell-like split honouring quotes), or the exec form's items.
    pub fn words(&self) -> Vec<String> {
        match &self.exec {
            Some(items) => items.clone(),
            None => split_words(&self.value),
        }
    }
}

/// A build stage: `FROM base [AS name]` and the instructions up to the next `FROM`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Stage {
    pub index: usize,
    pub name: Option<String>,
    /// The base as written.
    pub base_raw: String,
    /// The base with build arguments expanded (their defaults).
    pub base: String,
    pub platform: Option<String>,
    /// Line of the `FROM`.
    pub line: usize,
    /// Index of the `FROM` instruction in [`Dockerfile::instructions`].
    pub from: usize,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Dockerfile {
    pub directives: BTreeMap<String, String>,
    pub instructions: Vec<Instruction>,
    pub stages: Vec<Stage>,
    /// Variable expansions left as written because they outgrew their budget.
    #[serde(skip)]
    pub warnings: Vec<ParseWarning>,
}

impl Dockerfile {
    /// The instructions of stage `index`.
    pub fn stage_instructions(&self, index: usize) -> impl Iterator<Item = &Instruction> {
        // Stages are contiguous: from their FROM to the next one.
        let start = self.stages.get(index).map_or(0, |s| s.from);
        let end = self
            .stages
            .get(index + 1)
            .map_or(self.instructions.len(), |s| s.from);
        self.instructions[start.min(end)..end].iter()
    }

    pub fn final_stage(&self) -> Option<&Stage> {
        self.stages.last()
    }
}

fn err(line: usize, message: impl Into<String>) -> ParseError {
    ParseError {
        line,
        message: message.into(),
    }
}

/// Shows at most 40 characters of untrusted text, with control characters escaped.
fn shown(text: &str) -> String {
    let mut s: String = text.chars().take(40).flat_map(char::escape_debug).collect();
    if text.chars().count() > 40 {
        s.push('…');
    }
    s
}

/// Parses a Dockerfile.
pub fn parse(bytes: &[u8]) -> Result<Dockerfile, ParseError> {
    let text = match std::str::from_utf8(bytes) {
        Ok(t) => t,
        Err(e) => {
            let line = 1 + bytes[..e.valid_up_to()]
                .iter()
                .filter(|b| **b == b'\n')
                .count();
            return Err(err(line, "not UTF-8 text: not a Dockerfile"));
        }
    };
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    if let Some(pos) = text.find('\0') {
        let line = 1 + text[..pos].matches('\n').count();
        return Err(err(line, "binary data (a NUL byte): not a Dockerfile"));
    }
    let lines: Vec<&str> = text
        .split('\n')
        .map(|l| l.strip_suffix('\r').unwrap_or(l))
        .collect();

    let mut df = Dockerfile::default();
    let mut i = 0;
    // Parser directives: `# key=value` lines at the very top.
    while i < lines.len() {
        let Some(rest) = lines[i].trim().strip_prefix('#') else {
            break;
        };
        let Some((k, v)) = rest.split_once('=') else {
            break;
        };
        let key = k.trim().to_ascii_lowercase();
        if key.is_empty() || key.contains(char::is_whitespace) {
            break;
        }
        if df.directives.contains_key(&key) {
            // A repeated directive is a comment from here on (as in BuildKit).
            break;
        }
        df.directives.insert(key, v.trim().to_string());
        i += 1;
    }
    let escape = match df.directives.get("escape").map(String::as_str) {
        None | Some("\\") => '\\',
        Some("`") => '`',
        Some(other) => {
            return Err(err(
                1,
                format!(
                    "invalid escape directive {:?}: must be ` or \\",
                    shown(other)
                ),
            ))
        }
    };

    let mut env: BTreeMap<String, String> = BTreeMap::new();
    let mut global_args: BTreeMap<String, String> = BTreeMap::new();
    let mut expander = Expander::new();
    while i < lines.len() {
        let raw = lines[i];
        let trimmed = raw.trim_start();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            i += 1;
            continue;
        }
        let start = i;
        let column = raw.len() - trimmed.len() + 1;
        // Join continuation lines.
        let mut logical = String::new();
        let mut line_text = trimmed;
        loop {
            let t = line_text.trim_end();
            if let Some(body) = t.strip_suffix(escape) {
                logical.push_str(body);
                i += 1;
                // Skip comments and blank lines inside the continuation.
                while i < lines.len() {
                    let next = lines[i].trim_start();
                    if next.starts_with('#') || next.trim().is_empty() {
                        i += 1;
                    } else {
                        break;
                    }
                }
                if i >= lines.len() {
                    break;
                }
                line_text = lines[i];
            } else {
                logical.push_str(line_text);
                break;
            }
        }
        let mut end = i.min(lines.len() - 1);
        i += 1;

        let (word, rest) = match logical.find(char::is_whitespace) {
            Some(p) => (&logical[..p], logical[p..].trim_start()),
            None => (logical.as_str(), ""),
        };
        let cmd = word.to_ascii_uppercase();
        if !INSTRUCTIONS.contains(&cmd.as_str()) {
            return Err(err(
                start + 1,
                format!("unknown instruction `{}`", shown(word)),
            ));
        }
        if rest.trim().is_empty() {
            return Err(err(start + 1, format!("{cmd} needs arguments")));
        }
        let (flags, value) = if matches!(cmd.as_str(), "ONBUILD") {
            (Vec::new(), rest.trim_end().to_string())
        } else {
            take_flags(rest)
        };

        // Heredocs: bodies follow the instruction's last line.
        let mut heredocs = Vec::new();
        if matches!(cmd.as_str(), "RUN" | "COPY" | "ADD") {
            for (name, strip_tabs) in heredoc_markers(&value) {
                let body_start = i;
                let mut body = String::new();
                loop {
                    if i >= lines.len() {
                        return Err(err(
                            start + 1,
                            format!("heredoc <<{name} is never closed by a line `{name}`"),
                        ));
                    }
                    let l = if strip_tabs {
                        lines[i].trim_start_matches('\t')
                    } else {
                        lines[i]
                    };
                    i += 1;
                    if l == name {
                        break;
                    }
                    body.push_str(l);
                    body.push('\n');
                }
                end = i - 1;
                heredocs.push(Heredoc {
                    name,
                    line: body_start + 1,
                    body,
                });
            }
        }

        let exec = if matches!(
            cmd.as_str(),
            "RUN" | "CMD" | "ENTRYPOINT" | "COPY" | "ADD" | "VOLUME" | "SHELL" | "HEALTHCHECK"
        ) && value.trim_start().starts_with('[')
        {
            serde_json::from_str::<Vec<String>>(value.trim()).ok()
        } else {
            None
        };

        let stage = df.stages.len().checked_sub(1);
        if cmd == "FROM" {
            let words = split_words(&value);
            let (base_raw, name) = match words.as_slice() {
                [b] => (b.clone(), None),
                [b, as_, n] if as_.eq_ignore_ascii_case("as") => (b.clone(), Some(n.clone())),
                _ => {
                    return Err(err(
                        start + 1,
                        "FROM takes an image and optionally `AS name`",
                    ))
                }
            };
            env = global_args.clone();
            let base = expander.expand(&base_raw, &global_args, start + 1);
            df.stages.push(Stage {
                index: df.stages.len(),
                name: name.map(|n| n.to_ascii_lowercase()),
                base_raw,
                base,
                platform: flags
                    .iter()
                    .find(|f| f.name == "platform")
                    .and_then(|f| f.value.clone()),
                line: start + 1,
                from: df.instructions.len(),
            });
        } else if cmd == "ARG" {
            for (k, v) in key_values(&value, false) {
                let v = match v {
                    Some(v) => expander.expand(&v, &env, start + 1),
                    None => global_args.get(&k).cloned().unwrap_or_default(),
                };
                if stage.is_none() {
                    global_args.insert(k.clone(), v.clone());
                }
                env.insert(k, v);
            }
        } else if cmd == "ENV" {
            for (k, v) in key_values(&value, true) {
                let v = expander.expand(&v.unwrap_or_default(), &env, start + 1);
                env.insert(k, v);
            }
        } else if stage.is_none() {
            return Err(err(
                start + 1,
                format!("{cmd} before the first FROM (only ARG may come before FROM)"),
            ));
        }
        let stage = df.stages.len().checked_sub(1);
        let expanded_words = if cmd == "ADD" {
            exec.clone()
                .unwrap_or_else(|| split_words(&value))
                .iter()
                .map(|w| expander.expand(w, &env, start + 1))
                .collect()
        } else {
            Vec::new()
        };
        df.instructions.push(Instruction {
            cmd,
            line: start + 1,
            end_line: end + 1,
            column,
            flags,
            value,
            exec,
            heredocs,
            stage,
            expanded_words,
        });
    }
    if df.stages.is_empty() {
        let line = df.instructions.first().map(|i| i.line).unwrap_or(1);
        return Err(err(line, "no FROM instruction: not a Dockerfile"));
    }
    df.warnings = expander.finish();
    Ok(df)
}

/// Expands variables within the per-value and per-file budgets; what would outgrow them is
/// kept as written (Docker would expand it, so checks on that value may miss), with a warning.
struct Expander {
    remaining: usize,
    warnings: Vec<ParseWarning>,
    refused: usize,
}

impl Expander {
    fn new() -> Expander {
        Expander {
            remaining: MAX_EXPANSION_BYTES_PER_FILE,
            warnings: Vec::new(),
            refused: 0,
        }
    }

    fn expand(&mut self, s: &str, vars: &BTreeMap<String, String>, line: usize) -> String {
        let limit = MAX_EXPANDED_VALUE_BYTES.min(self.remaining);
        if let Some(out) = expand_depth(s, vars, 0, limit) {
            self.remaining -= out.len();
            return out;
        }
        self.refused += 1;
        if self.warnings.len() < MAX_WARNINGS && self.warnings.last().is_none_or(|w| w.line != line)
        {
            let message = if limit < MAX_EXPANDED_VALUE_BYTES {
                format!(
                    "variable expansion stopped: the file's expansions exceed {MAX_EXPANSION_BYTES_PER_FILE} bytes; `{}` is checked as written",
                    shown(s)
                )
            } else {
                format!(
                    "variable expansion stopped: `{}` expands to more than {MAX_EXPANDED_VALUE_BYTES} bytes; it is checked as written",
                    shown(s)
                )
            };
            self.warnings.push(ParseWarning { line, message });
        }
        s.to_string()
    }

    fn finish(mut self) -> Vec<ParseWarning> {
        let shown: usize = self.warnings.len();
        if self.refused > shown {
            if let Some(last) = self.warnings.last_mut() {
                last.message.push_str(&format!(
                    " (and {} more expansions left as written)",
                    self.refused - shown
                ));
            }
        }
        self.warnings
    }
}

/// Splits leading `--flag[=value]` words off an instruction's arguments.
fn take_flags(rest: &str) -> (Vec<Flag>, String) {
    let mut flags = Vec::new();
    let mut rest = rest.trim();
    while let Some(after) = rest.strip_prefix("--") {
        let end = after.find(char::is_whitespace).unwrap_or(after.len());
        let word = &after[..end];
        if word.is_empty() {
            break;
        }
        let (name, value) = match word.split_once('=') {
            Some((n, v)) => (n, Some(unquote(v))),
            None => (word, None),
        };
        flags.push(Flag {
            name: name.to_ascii_lowercase(),
            value,
        });
        rest = after[end..].trim_start();
    }
    (flags, rest.trim_end().to_string())
}

fn unquote(v: &str) -> String {
    let v = v.trim();
    for q in ['"', '\''] {
        if v.len() >= 2 && v.starts_with(q) && v.ends_with(q) {
            return v[1..v.len() - 1].to_string();
        }
    }
    v.to_string()
}

/// `<<EOF`, `<<-EOF`, `<<"EOF"`, `<<'EOF'` markers in an instruction's arguments, in order.
fn heredoc_markers(value: &str) -> Vec<(String, bool)> {
    let mut out = Vec::new();
    let b = value.as_bytes();
    let mut p = 0;
    while let Some(off) = value[p..].find("<<") {
        let mut q = p + off + 2;
        p = q;
        if q < b.len() && b[q] == b'<' {
            // `<<<` is a here-string, not a heredoc.
            p = q + 1;
            continue;
        }
        let strip = q < b.len() && b[q] == b'-';
        if strip {
            q += 1;
        }
        let quote = if q < b.len() && (b[q] == b'"' || b[q] == b'\'') {
            q += 1;
            Some(b[q - 1])
        } else {
            None
        };
        let start = q;
        while q < b.len() && (b[q].is_ascii_alphanumeric() || b[q] == b'_') {
            q += 1;
        }
        if q == start {
            continue;
        }
        if let Some(qc) = quote {
            if q >= b.len() || b[q] != qc {
                continue;
            }
        }
        out.push((value[start..q].to_string(), strip));
        p = q;
    }
    out
}

/// `ENV a=b c=d`, `ENV a b` (legacy), `ARG a`, `ARG a=b`.
pub fn key_values(value: &str, legacy_space_form: bool) -> Vec<(String, Option<String>)> {
    let words = split_words(value);
    if legacy_space_form && !words.first().is_some_and(|w| w.contains('=')) {
        // `ENV NAME value with spaces`
        let v = value.trim();
        return match v.find(char::is_whitespace) {
            Some(p) => vec![(v[..p].to_string(), Some(v[p..].trim().to_string()))],
            None => vec![(v.to_string(), None)],
        };
    }
    words
        .into_iter()
        .map(|w| match w.split_once('=') {
            Some((k, v)) => (k.to_string(), Some(v.to_string())),
            None => (w, None),
        })
        .collect()
}

/// Splits on unquoted whitespace, removing quotes and backslash escapes.
pub fn split_words(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut in_word = false;
    let mut chars = s.chars().peekable();
    let mut quote: Option<char> = None;
    while let Some(c) = chars.next() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some('"'), '\\') => {
                if let Some(n) = chars.next() {
                    if !matches!(n, '"' | '\\' | '$') {
                        cur.push('\\');
                    }
                    cur.push(n);
                }
            }
            (Some(_), c) => cur.push(c),
            (None, '"' | '\'') => {
                quote = Some(c);
                in_word = true;
            }
            (None, '\\') => {
                if let Some(n) = chars.next() {
                    cur.push(n);
                }
                in_word = true;
            }
            (None, c) if c.is_whitespace() => {
                if in_word {
                    out.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            }
            (None, c) => {
                cur.push(c);
                in_word = true;
            }
        }
    }
    if in_word {
        out.push(cur);
    }
    out
}

/// Expands `$VAR`, `${VAR}`, `${VAR:-default}`, `${VAR-default}`, `${VAR:+alt}`,
/// `${VAR+alt}` from `vars`; unknown variables expand to nothing, as in Docker. A result longer
/// than [`MAX_EXPANDED_VALUE_BYTES`] is not built: `s` is returned as written.
pub fn expand(s: &str, vars: &BTreeMap<String, String>) -> String {
    expand_depth(s, vars, 0, MAX_EXPANDED_VALUE_BYTES).unwrap_or_else(|| s.to_string())
}

/// Nested defaults (`${A:-${B:-c}}`) deeper than this are left as written, so a hostile line
/// cannot exhaust the stack.
const MAX_EXPANSION_DEPTH: usize = 8;

/// `None` when the result would be longer than `limit` bytes.
fn expand_depth(
    s: &str,
    vars: &BTreeMap<String, String>,
    depth: usize,
    limit: usize,
) -> Option<String> {
    if depth > MAX_EXPANSION_DEPTH {
        return (s.len() <= limit).then(|| s.to_string());
    }
    let mut out = String::new();
    let chars: Vec<char> = s.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        if out.len() > limit {
            return None;
        }
        let room = limit - out.len();
        let c = chars[i];
        if c == '\\' && i + 1 < chars.len() && chars[i + 1] == '$' {
            out.push('$');
            i += 2;
            continue;
        }
        if c != '$' || i + 1 >= chars.len() {
            out.push(c);
            i += 1;
            continue;
        }
        if chars[i + 1] == '{' {
            let Some(close) = chars[i + 2..].iter().position(|&c| c == '}') else {
                out.extend(&chars[i..]);
                break;
            };
            let inner: String = chars[i + 2..i + 2 + close].iter().collect();
            i += close + 3;
            let name_end = inner
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(inner.len());
            let (name, op) = inner.split_at(name_end);
            let val = vars.get(name);
            let set = val.is_some();
            let nonempty = val.is_some_and(|v| !v.is_empty());
            let value = || val.map(String::as_str).unwrap_or("");
            let nested = |t: &str| expand_depth(t, vars, depth + 1, room);
            let got: std::borrow::Cow<str> = if let Some(d) = op.strip_prefix(":-") {
                if nonempty {
                    value().into()
                } else {
                    nested(d)?.into()
                }
            } else if let Some(d) = op.strip_prefix('-') {
                if set {
                    value().into()
                } else {
                    nested(d)?.into()
                }
            } else if let Some(a) = op.strip_prefix(":+") {
                if nonempty {
                    nested(a)?.into()
                } else {
                    "".into()
                }
            } else if let Some(a) = op.strip_prefix('+') {
                if set {
                    nested(a)?.into()
                } else {
                    "".into()
                }
            } else {
                value().into()
            };
            if got.len() > room {
                return None;
            }
            out.push_str(&got);
        } else if chars[i + 1].is_ascii_alphabetic() || chars[i + 1] == '_' {
            let mut j = i + 1;
            while j < chars.len() && (chars[j].is_ascii_alphanumeric() || chars[j] == '_') {
                j += 1;
            }
            let name: String = chars[i + 1..j].iter().collect();
            let got = vars.get(&name).map(String::as_str).unwrap_or("");
            if got.len() > room {
                return None;
            }
            out.push_str(got);
            i = j;
        } else {
            out.push(c);
            i += 1;
        }
    }
    (out.len() <= limit).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn continuations_comments_heredocs_and_stages() {
        let text = "# syntax=docker/dockerfile:1\n# escape=\\\nARG BASE=debian\nARG TAG\nFROM --platform=linux/amd64 ${BASE}:${TAG:-12} AS build\nRUN apt-get update && \\\n    # a comment\n\n    apt-get install -y curl\nRUN <<EOF\nset -e\necho hi\nEOF\nCOPY --from=build --chown=1000:1000 /a /b\nFROM scratch\nCMD [\"/app\", \"--x\"]\n";
        let df = parse(text.as_bytes()).unwrap();
        assert_eq!(df.directives["syntax"], "docker/dockerfile:1");
        assert_eq!(df.stages.len(), 2);
        assert_eq!(df.stages[0].base, "debian:12");
        assert_eq!(df.stages[0].name.as_deref(), Some("build"));
        assert_eq!(df.stages[0].platform.as_deref(), Some("linux/amd64"));
        let run = &df.instructions[3];
        assert_eq!((run.cmd.as_str(), run.line, run.end_line), ("RUN", 6, 9));
        assert_eq!(run.value, "apt-get update &&     apt-get install -y curl");
        let here = &df.instructions[4];
        assert_eq!((here.line, here.end_line), (10, 13));
        assert_eq!(here.heredocs[0].body, "set -e\necho hi\n");
        let copy = &df.instructions[5];
        assert_eq!(copy.line, 14);
        assert_eq!(copy.flag("from").unwrap().value.as_deref(), Some("build"));
        assert_eq!(
            copy.flag("chown").unwrap().value.as_deref(),
            Some("1000:1000")
        );
        let cmd = df.instructions.last().unwrap();
        assert_eq!(
            cmd.exec.as_deref(),
            Some(&["/app".to_string(), "--x".to_string()][..])
        );
        assert_eq!(cmd.stage, Some(1));
    }

    #[test]
    fn backtick_escape() {
        let text = "# escape=`\nFROM mcr.microsoft.com/windows/servercore:ltsc2022\nRUN dir `\n  c:\\\nWORKDIR c:\\app\n";
        let df = parse(text.as_bytes()).unwrap();
        assert_eq!(df.instructions[1].value, "dir   c:\\");
        assert_eq!(df.instructions[2].line, 5);
    }

    #[test]
    fn expansion() {
        let vars: BTreeMap<String, String> = [
            ("A".to_string(), "x".to_string()),
            ("E".to_string(), String::new()),
        ]
        .into();
        assert_eq!(
            expand("$A/${A}-${B:-d}-${E:-e}-${E-f}-${A:+p}-${B+q}", &vars),
            "x/x-d-e--p-"
        );
    }

    #[test]
    fn garbage_is_an_error_with_a_line() {
        let e = parse(b"FROM debian\nRUN true\nthis is not a dockerfile\n").unwrap_err();
        assert_eq!(e.line, 3);
        assert!(
            e.message.contains("unknown instruction `this`"),
            "{}",
            e.message
        );
        assert_eq!(parse(b"FROM a\nRUN <<EOF\necho\n").unwrap_err().line, 2);
        assert_eq!(parse(b"RUN true\n").unwrap_err().line, 1);
        assert_eq!(parse(b"FROM a\n\xff\xfe\n").unwrap_err().line, 2);
        assert!(parse(b"FROM\n")
            .unwrap_err()
            .message
            .contains("needs arguments"));
        assert!(parse(b"FROM a b c d\n").is_err());
    }

    /// Issue 13.2: `ENV A=$A$A` on 40 lines doubled the value each line (6.3 GB, then an
    /// abort). Each expansion now stops at 64 KiB and the file at 4 MiB: the value is kept as
    /// written and the parse warns.
    #[test]
    fn issue_13_2_doubling_env_values_stop_at_the_expansion_budget() {
        let mut text = String::from("FROM debian:12\nENV A=x\n");
        for _ in 0..40 {
            text.push_str("ENV A=$A$A\n");
        }
        text.push_str("ADD $A /dst\n");
        let start = std::time::Instant::now();
        let df = parse(text.as_bytes()).unwrap();
        assert!(start.elapsed().as_secs() < 5, "{:?}", start.elapsed());
        assert!(!df.warnings.is_empty());
        assert!(
            df.warnings[0].message.contains("expands to more than"),
            "{:?}",
            df.warnings
        );
        // 2^16 bytes is the first value over the limit: line 2 sets 1 byte, line 3 + 16 = 19.
        assert_eq!(df.warnings[0].line, 19, "{:?}", df.warnings);
        let add = df.instructions.last().unwrap();
        assert!(add.expanded_words[0].len() <= MAX_EXPANDED_VALUE_BYTES);

        // Many lines each just under the value limit hit the per-file budget.
        let big = "y".repeat(60_000);
        let mut text = format!("FROM debian:12\nARG B={big}\n");
        for i in 0..200 {
            text.push_str(&format!("ENV C{i}=$B\n"));
        }
        let df = parse(text.as_bytes()).unwrap();
        let last = df.warnings.last().unwrap();
        assert!(
            last.message.contains("file's expansions exceed"),
            "{last:?}"
        );
        assert!(
            last.message.contains("more expansions left as written"),
            "{last:?}"
        );
        assert!(df.warnings.len() <= MAX_WARNINGS);
        // Ordinary values are untouched.
        assert_eq!(
            expand("${B:-d}$A", &[("A".to_string(), "x".to_string())].into()),
            "dx"
        );
    }

    #[test]
    fn random_bytes_never_panic() {
        // A small deterministic generator: no dependency needed for a fuzz-ish sweep.
        let mut state: u64 = 0x9e3779b97f4a7c15;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let alphabet = b"FROM RUN COPY ARG ENV ${}:-+<<EOF \\`#=\n\t\"'[]--a\xff\x00";
        for _ in 0..3000 {
            let len = (next() % 200) as usize;
            let bytes: Vec<u8> = (0..len)
                .map(|_| {
                    let r = next();
                    if r % 5 == 0 {
                        (r >> 8) as u8
                    } else {
                        alphabet[(r >> 8) as usize % alphabet.len()]
                    }
                })
                .collect();
            if let Ok(df) = parse(&bytes) {
                for ins in &df.instructions {
                    assert!(ins.line <= ins.end_line);
                }
            }
        }
    }
}
