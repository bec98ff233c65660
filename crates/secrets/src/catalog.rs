//! The built-in rules described for people: the `bulwark secrets rules` listing and the
//! generated reference, docs/secrets-rules.md.

use std::fmt::Write as _;

use crate::rules::{builtin_families, RuleEntry};

/// One line per rule: id, confidence, severity, title (what `bulwark secrets rules` prints).
pub fn rules_table() -> String {
    let entries: Vec<&RuleEntry> = builtin_families()
        .iter()
        .flat_map(|f| f.rules.iter())
        .collect();
    let width = entries.iter().map(|r| r.id.len()).max().unwrap_or(2);
    let mut out = format!(
        "{:<width$}  {:<10}  {:<8}  TITLE\n",
        "ID", "CONFIDENCE", "SEVERITY"
    );
    for r in entries {
        let _ = writeln!(
            out,
            "{:<width$}  {:<10}  {:<8}  {}",
            r.id,
            r.confidence,
            r.severity.to_string(),
            r.title
        );
    }
    out
}

fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}

/// The secret rule reference in Markdown, family by family (docs/secrets-rules.md).
pub fn rules_markdown() -> String {
    let families = builtin_families();
    let count: usize = families.iter().map(|f| f.rules.len()).sum();
    let mut out = String::from(
        "# Secret rules\n\n\
         Generated from `crates/secrets/rules/*.yaml` by `bulwark secrets rules --markdown`; do not edit by hand\n\
         (`BULWARK_BLESS=1 cargo test -p bulwark-secrets --test rule_cases docs` rewrites it).\n\n",
    );
    let _ = writeln!(
        out,
        "{count} rules. Confidence is the rule's own; a match that fails the rule's structural check, or that\n\
         looks like a placeholder (an example word, a run of one character, an ascending sequence), is reported\n\
         at `low`, which `--secret-min-confidence` (default `medium`) hides.\n"
    );
    for f in families {
        let _ = writeln!(out, "## {}\n", f.name);
        out.push_str(
            "| Rule | Confidence | Severity | Check | Finds |\n| --- | --- | --- | --- | --- |\n",
        );
        for r in &f.rules {
            let check = r.check.map_or("", |c| c.as_str());
            let _ = writeln!(
                out,
                "| `{}` | {} | {} | {} | **{}**: {} |",
                r.id,
                r.confidence,
                r.severity,
                check,
                cell(&r.title),
                cell(&r.description)
            );
        }
        out.push('\n');
    }
    out
}
