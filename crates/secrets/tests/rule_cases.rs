//! The cases each rule file carries: every positive is reported by its rule, no negative is.
//! Also keeps docs/secrets-rules.md in step with the rule files.

mod common;

use std::collections::HashSet;

use bulwark_secrets::{
    builtin_families, builtin_rules, Confidence, Rule, Scanner, DEFAULT_MIN_CONFIDENCE,
};
use common::Gen;

#[test]
fn rule_files_parse_and_ids_are_unique() {
    let mut ids = HashSet::new();
    for f in builtin_families() {
        assert!(!f.rules.is_empty(), "rules/{}.yaml has no rules", f.name);
        for r in &f.rules {
            assert!(ids.insert(r.id.clone()), "duplicate rule id {}", r.id);
            assert!(
                r.allow.is_none() || r.allow_filter.is_none(),
                "{}: allow and allow_filter both set",
                r.id
            );
        }
    }
    // The built-in scanner compiles its rules lazily and skips their validation, so each is
    // validated here: kebab id, lowercase keywords, patterns compile, the secret group exists.
    for spec in builtin_rules() {
        let id = spec.id.clone();
        if let Err(e) = Rule::compile(spec) {
            panic!("built-in rule {id} is invalid: {e}");
        }
    }
    for rule in Scanner::builtin().rules() {
        rule.compile_now()
            .unwrap_or_else(|e| panic!("built-in rule {} does not compile: {e}", rule.id));
    }
}

#[test]
fn every_rule_case_holds() {
    let mut failures = Vec::new();
    let mut cases = 0;
    let default = Scanner::builtin();
    let low = Scanner::builtin().with_min_confidence(Confidence::Low);
    for f in builtin_families() {
        for r in &f.rules {
            // A rule declared below the default is judged at its own level.
            let scanner = if r.confidence < DEFAULT_MIN_CONFIDENCE {
                &low
            } else {
                &default
            };
            let mut g = Gen::new(&r.id);
            for (i, case) in r.cases.positive.iter().enumerate() {
                cases += 1;
                let text = g.expand(case);
                let found = scanner.scan("app/config.txt", text.as_bytes());
                if !found.iter().any(|m| m.rule_id == r.id) {
                    failures.push(format!(
                        "{} positive #{i} not found (found {:?}): {text:?}",
                        r.id,
                        found.iter().map(|m| &m.rule_id).collect::<Vec<_>>()
                    ));
                }
            }
            for (i, case) in r.cases.negative.iter().enumerate() {
                cases += 1;
                let text = g.expand(case);
                let found = default.scan("app/config.txt", text.as_bytes());
                if found.iter().any(|m| m.rule_id == r.id) {
                    failures.push(format!("{} negative #{i} reported: {text:?}", r.id));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    eprintln!("{cases} rule cases hold");
}

#[test]
fn low_confidence_rules_have_cases() {
    // Rules added with this file format carry their cases; the converted ones keep theirs in
    // tests/rules.rs.
    for f in builtin_families() {
        for r in &f.rules {
            if r.confidence == Confidence::Low || r.check.is_some() {
                assert!(
                    !r.cases.positive.is_empty() && !r.cases.negative.is_empty(),
                    "{}: a low-confidence or checked rule needs positive and negative cases",
                    r.id
                );
            }
        }
    }
}

#[test]
fn docs_secrets_rules_is_up_to_date() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/secrets-rules.md");
    let want = bulwark_secrets::rules_markdown();
    if std::env::var_os("BULWARK_BLESS").is_some() {
        std::fs::write(&path, &want).expect("docs/ is writable");
        return;
    }
    let have = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        have == want,
        "docs/secrets-rules.md is out of date: run BULWARK_BLESS=1 cargo test -p bulwark-secrets --test rule_cases docs"
    );
}
