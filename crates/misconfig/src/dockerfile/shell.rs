//! Just enough POSIX shell to see the commands in a `RUN` line: words with quotes and escapes,
//! `&&`, `||`, `;`, `|`, `&` and newlines between commands, comments, and `$(…)` kept whole.

/// One simple command: its words (quotes removed) and whether its input is the previous
/// command's output (`a | b`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Command {
    pub words: Vec<String>,
    pub piped: bool,
}

impl Command {
    /// The program, past `sudo`, `env`, variable assignments and their flags.
    pub fn program(&self) -> Option<(&str, &[String])> {
        let mut w = &self.words[..];
        loop {
            let first = w.first()?;
            if is_assignment(first) {
                w = &w[1..];
            } else if matches!(first.as_str(), "sudo" | "env" | "exec" | "time" | "nohup") {
                w = &w[1..];
                while w
                    .first()
                    .is_some_and(|x| x.starts_with('-') || is_assignment(x))
                {
                    w = &w[1..];
                }
            } else if first == "xargs" {
                // `… | xargs apt-get install -y`: the program is the one xargs runs.
                w = &w[1..];
                while let Some(x) = w.first().filter(|x| x.starts_with('-')) {
                    let takes_value = matches!(
                        x.as_str(),
                        "-n" | "-L" | "-P" | "-I" | "-d" | "-s" | "-E" | "-a"
                    );
                    w = &w[if takes_value { 2 } else { 1 }.min(w.len())..];
                }
            } else {
                let name = first.rsplit('/').next().unwrap_or(first);
                return Some((name, &w[1..]));
            }
        }
    }
}

fn is_assignment(w: &str) -> bool {
    w.split_once('=').is_some_and(|(k, _)| {
        !k.is_empty()
            && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            && !k.starts_with(|c: char| c.is_ascii_digit())
    })
}

/// Splits a shell script into simple commands.
pub fn commands(script: &str) -> Vec<Command> {
    let mut out = Vec::new();
    let mut words: Vec<String> = Vec::new();
    let mut cur = String::new();
    let mut in_word = false;
    let mut piped = false;
    let mut skip_next_word = false;
    let chars: Vec<char> = script.chars().collect();
    let mut i = 0;
    let end_word =
        |cur: &mut String, in_word: &mut bool, words: &mut Vec<String>, skip: &mut bool| {
            if *in_word {
                if *skip {
                    *skip = false;
                    cur.clear();
                } else {
                    words.push(std::mem::take(cur));
                }
                *in_word = false;
            }
        };
    while i < chars.len() {
        let c = chars[i];
        match c {
            '\'' => {
                in_word = true;
                i += 1;
                while i < chars.len() && chars[i] != '\'' {
                    cur.push(chars[i]);
                    i += 1;
                }
                i += 1;
            }
            '"' => {
                in_word = true;
                i += 1;
                while i < chars.len() && chars[i] != '"' {
                    if chars[i] == '\\' && i + 1 < chars.len() {
                        i += 1;
                    }
                    cur.push(chars[i]);
                    i += 1;
                }
                i += 1;
            }
            '\\' => {
                in_word = true;
                if i + 1 < chars.len() && chars[i + 1] != '\n' {
                    cur.push(chars[i + 1]);
                }
                i += 2;
            }
            '$' | '<' if i + 1 < chars.len() && chars[i + 1] == '(' => {
                // Command or process substitution, kept whole in the word.
                in_word = true;
                let mut depth = 0;
                while i < chars.len() {
                    cur.push(chars[i]);
                    if chars[i] == '(' {
                        depth += 1;
                    } else if chars[i] == ')' {
                        depth -= 1;
                        if depth == 0 {
                            i += 1;
                            break;
                        }
                    }
                    i += 1;
                }
            }
            '#' if !in_word => {
                while i < chars.len() && chars[i] != '\n' {
                    i += 1;
                }
            }
            '&' | '|' | ';' | '\n' | '(' | ')' | '{' | '}'
                if !(matches!(c, '{' | '}') && in_word) =>
            {
                end_word(&mut cur, &mut in_word, &mut words, &mut skip_next_word);
                let double = i + 1 < chars.len() && chars[i + 1] == c && c != '\n';
                if !words.is_empty() {
                    out.push(Command {
                        words: std::mem::take(&mut words),
                        piped,
                    });
                }
                piped = c == '|' && !double;
                i += if double { 2 } else { 1 };
            }
            '>' | '<' => {
                // A redirection: drop it and its target.
                end_word(&mut cur, &mut in_word, &mut words, &mut skip_next_word);
                if let Some(last) = words.last() {
                    if last.chars().all(|c| c.is_ascii_digit()) {
                        words.pop();
                    }
                }
                while i < chars.len() && matches!(chars[i], '>' | '<') {
                    i += 1;
                }
                if i < chars.len() && chars[i] == '&' {
                    // `2>&1`, `>&-`: the target is a descriptor glued to the operator.
                    i += 1;
                    while i < chars.len() && (chars[i].is_ascii_digit() || chars[i] == '-') {
                        i += 1;
                    }
                    skip_next_word = false;
                } else {
                    skip_next_word = true;
                }
            }
            c if c.is_whitespace() => {
                end_word(&mut cur, &mut in_word, &mut words, &mut skip_next_word);
                i += 1;
            }
            c => {
                in_word = true;
                cur.push(c);
                i += 1;
            }
        }
    }
    end_word(&mut cur, &mut in_word, &mut words, &mut skip_next_word);
    if !words.is_empty() {
        out.push(Command { words, piped });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn progs(s: &str) -> Vec<(String, bool)> {
        commands(s)
            .iter()
            .map(|c| (c.words.join(" "), c.piped))
            .collect()
    }

    #[test]
    fn splits_commands() {
        assert_eq!(
            progs("apt-get update && apt-get install -y 'a b' \"c\" >/dev/null 2>&1; curl -s x | sh # c\nrm -rf /x"),
            vec![
                ("apt-get update".to_string(), false),
                ("apt-get install -y a b c".to_string(), false),
                ("curl -s x".to_string(), false),
                ("sh".to_string(), true),
                ("rm -rf /x".to_string(), false),
            ]
        );
        let c = &commands("DEBIAN_FRONTEND=noninteractive sudo -E apt-get install x")[0];
        assert_eq!(c.program().unwrap().0, "apt-get");
        let c = &commands("dpkg -l | xargs -r -n 1 apt-get install --yes man")[1];
        assert_eq!(
            c.program().unwrap(),
            (
                "apt-get",
                &["install".to_string(), "--yes".into(), "man".into()][..]
            )
        );
        let c = &commands("xargs -n")[0];
        assert_eq!(c.program(), None, "xargs with nothing to run");
        assert_eq!(
            progs("sh -c \"$(curl -fsSL x)\"")[0].0,
            "sh -c $(curl -fsSL x)"
        );
    }
}
