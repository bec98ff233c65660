//! Scanner behaviour: binary skip, locations, allowlists, custom rules,
//! errors, and bounded time on hostile input.

mod common;

use std::time::{Duration, Instant};

use bulwark_secrets::{
    builtin_rules, fingerprint, redact, shannon_entropy, Allowlist, Confidence, RuleSpec, Scanner,
    SecretsError, Severity,
};
use common::Gen;

fn ghp(g: &mut Gen) -> String {
    g.checksummed("ghp")
}

#[test]
fn binary_content_is_skipped() {
    let s = Scanner::builtin();
    let mut g = Gen::new("binary");
    let tok = ghp(&mut g);
    let text = format!("TOKEN={tok}\n");
    assert_eq!(s.scan("a.txt", text.as_bytes()).len(), 1);
    let mut nul = text.clone().into_bytes();
    nul.insert(3, 0);
    assert!(s.scan("a.txt", &nul).is_empty(), "NUL in the head");
    for magic in [&b"\x7fELF"[..], b"PK\x03\x04", b"\x1f\x8b\x08"] {
        let mut v = magic.to_vec();
        v.extend_from_slice(text.as_bytes());
        assert!(s.scan("a.bin", &v).is_empty(), "magic {magic:?}");
    }
    // a NUL after the sniffed head does not make the file binary
    let mut late = vec![b'a'; 9000];
    late.push(b'\n');
    late.extend_from_slice(text.as_bytes());
    late.push(0);
    assert_eq!(s.scan("a.txt", &late).len(), 1);
    // invalid UTF-8 around a secret is fine
    let mut bad = vec![0xff, 0xfe, b' '];
    bad.extend_from_slice(text.as_bytes());
    bad.extend_from_slice(&[0xc3, 0x28]);
    assert_eq!(s.scan("a.txt", &bad).len(), 1);
}

#[test]
fn line_and_column_are_one_based() {
    let s = Scanner::builtin();
    let mut g = Gen::new("lines");
    let (a, b) = (ghp(&mut g), ghp(&mut g));
    let text = format!("first\r\nsecond\n  x={a}\n\n\tTOKEN: {b}");
    let f = s.scan("etc/app.conf", text.as_bytes());
    let locs: Vec<_> = f
        .iter()
        .map(|m| (m.rule_id.as_str(), m.line, m.column))
        .collect();
    assert_eq!(locs, vec![("github-pat", 3, 5), ("github-pat", 5, 9)]);
    assert_eq!(f[0].severity, Severity::Critical);
    assert_eq!(f[0].redacted, "ghp_****");
    assert_eq!(f[0].fingerprint, fingerprint("github-pat", &a));
    assert_ne!(f[0].fingerprint, f[1].fingerprint);
    // stable across runs and scanners
    assert_eq!(Scanner::builtin().scan("x", text.as_bytes()), f);
}

#[test]
fn redact_and_entropy_helpers() {
    assert_eq!(redact("abcdefghijklmnop"), "abcd****");
    assert_eq!(redact("abcdefgh"), "ab****");
    assert_eq!(redact("abc"), "****");
    assert_eq!(shannon_entropy(b""), 0.0);
    assert_eq!(shannon_entropy(b"aaaa"), 0.0);
    assert!((shannon_entropy(b"abcdefgh") - 3.0).abs() < 1e-9);
    let fp = fingerprint("r", "s");
    assert!(fp.starts_with("sha256:") && fp.len() == 23);
}

#[test]
fn generic_findings_yield_to_specific_ones() {
    let s = Scanner::builtin();
    let mut g = Gen::new("generic");
    let tok = ghp(&mut g);
    let f = s.scan("x", format!("api_token = {tok}\n").as_bytes());
    let ids: Vec<_> = f.iter().map(|m| m.rule_id.as_str()).collect();
    assert_eq!(ids, vec!["github-pat"]);
}

#[test]
fn allowlist_paths_and_regexes() {
    let mut g = Gen::new("allow");
    let tok = ghp(&mut g);
    let s = Scanner::new(
        builtin_rules(),
        Allowlist {
            paths: vec!["usr/share/doc/**".into(), "/opt/*/fixtures/*.json".into()],
            regexes: vec![format!("^{}$", &tok)],
        },
    )
    .unwrap();
    assert!(!s.wants_path("/usr/share/doc/foo/README"));
    assert!(!s.wants_path("usr/share/doc/x"));
    assert!(!s.wants_path("opt/app/fixtures/a.json"));
    assert!(s.wants_path("opt/app/sub/fixtures/a.json"));
    assert!(s.wants_path("etc/passwd"));
    let other = ghp(&mut g);
    assert!(s.scan("usr/share/doc/x", other.as_bytes()).is_empty());
    assert!(s.scan("etc/x", tok.as_bytes()).is_empty());
    assert_eq!(s.scan("etc/x", other.as_bytes()).len(), 1);
    assert_eq!(s.max_file_bytes(), 10 * 1024 * 1024);
}

#[test]
fn max_file_bytes_caps_the_scan() {
    let mut g = Gen::new("cap");
    let tok = ghp(&mut g);
    let mut text = "a".repeat(100);
    text.push('\n');
    text.push_str(&tok);
    let s = Scanner::builtin().with_max_file_bytes(50);
    assert_eq!(s.max_file_bytes(), 50);
    assert!(s.scan("x", text.as_bytes()).is_empty());
    assert_eq!(Scanner::builtin().scan("x", text.as_bytes()).len(), 1);
}

#[test]
fn custom_rules_from_config() {
    let json = r#"{
        "id": "acme-token", "title": "ACME token", "severity": "high",
        "keywords": ["acme_"], "pattern": "\\b(acme_[a-z0-9]{16})\\b",
        "entropy_min": 2.5, "description": "internal ACME tokens"
    }"#;
    let spec: RuleSpec = serde_json::from_str(json).unwrap();
    assert_eq!(spec.secret_group, 1);
    let s = Scanner::new(vec![spec.clone()], Allowlist::default()).unwrap();
    let f = s.scan("x", b"key: acme_q8w7e6r5t4y3u2i1\nacme_aaaaaaaaaaaaaaaa\n");
    assert_eq!(f.len(), 1);
    assert_eq!(
        (f[0].rule_id.as_str(), f[0].line, f[0].severity),
        ("acme-token", 1, Severity::High)
    );
    assert_eq!(
        serde_json::to_value(Severity::Critical).unwrap(),
        "critical"
    );

    let mut bad = spec.clone();
    bad.keywords.clear();
    assert!(matches!(
        Scanner::new(vec![bad], Allowlist::default()),
        Err(SecretsError::NoKeywords(_))
    ));
    let mut bad = spec.clone();
    bad.keywords = vec!["ACME".into()];
    assert!(matches!(
        Scanner::new(vec![bad], Allowlist::default()),
        Err(SecretsError::InvalidKeyword { .. })
    ));
    let mut bad = spec.clone();
    bad.id = "Acme_Token".into();
    assert!(matches!(
        Scanner::new(vec![bad], Allowlist::default()),
        Err(SecretsError::InvalidId(_))
    ));
    let mut bad = spec.clone();
    bad.pattern = "(unclosed".into();
    assert!(matches!(
        Scanner::new(vec![bad], Allowlist::default()),
        Err(SecretsError::InvalidRegex { .. })
    ));
    let mut bad = spec.clone();
    bad.secret_group = 2;
    assert!(matches!(
        Scanner::new(vec![bad], Allowlist::default()),
        Err(SecretsError::InvalidSecretGroup { .. })
    ));
    assert!(matches!(
        Scanner::new(vec![spec.clone(), spec.clone()], Allowlist::default()),
        Err(SecretsError::DuplicateId(_))
    ));
    let allow = Allowlist {
        paths: vec!["a/[".into()],
        regexes: vec![],
    };
    assert!(matches!(
        Scanner::new(vec![spec.clone()], allow),
        Err(SecretsError::InvalidGlob { .. })
    ));
    let allow = Allowlist {
        paths: vec![],
        regexes: vec!["(".into()],
    };
    assert!(matches!(
        Scanner::new(vec![spec], allow),
        Err(SecretsError::InvalidAllowRegex { .. })
    ));
}

fn timed<T>(what: &str, f: impl FnOnce() -> T) -> T {
    let t = Instant::now();
    let r = f();
    let el = t.elapsed();
    eprintln!("{what}: {el:?}");
    assert!(el < Duration::from_secs(5), "{what} took {el:?}");
    r
}

#[test]
fn hostile_inputs_finish_in_bounded_time() {
    let s = Scanner::builtin();
    // a 10 MiB line without a newline, full of near-misses
    let mut line = Vec::with_capacity(10 << 20);
    while line.len() < (10 << 20) - 64 {
        line.extend_from_slice(b"password=ab token: AKIA ghp_x eyJ= -----BEGIN ");
    }
    let f = timed("10 MiB line", || s.scan("big.txt", &line));
    assert!(f.is_empty(), "{f:?}");
    // a 10 MiB single base64-ish line after a key header
    let mut key = b"-----BEGIN RSA PRIVATE KEY-----\n".to_vec();
    key.resize(10 << 20, b'A');
    timed("unterminated key", || s.scan("key.pem", &key));
    // one million keyword hits (placeholders, rejected after the regex)
    let hits = "password=changeme\n".repeat(1_000_000);
    let f = timed("1M keyword hits", || s.scan("many.txt", hits.as_bytes()));
    assert!(f.is_empty());
    // many real findings are capped
    let mut g = Gen::new("many");
    let many: String = (0..5000).map(|_| format!("{}\n", ghp(&mut g))).collect();
    let f = timed("5000 findings", || s.scan("many.txt", many.as_bytes()));
    assert_eq!(f.len(), bulwark_secrets::MAX_FINDINGS_PER_FILE);
    assert_eq!(
        f.last().unwrap().line,
        bulwark_secrets::MAX_FINDINGS_PER_FILE
    );
}

#[test]
fn findings_below_the_minimum_confidence_are_not_reported() {
    let json = r#"{
        "id": "acme-token", "title": "ACME token", "severity": "high",
        "confidence": "low", "keywords": ["acme_"], "pattern": "\\b(acme_[a-z0-9]{16})\\b"
    }"#;
    let spec: RuleSpec = serde_json::from_str(json).unwrap();
    assert_eq!(spec.confidence, Confidence::Low);
    let text = b"key: acme_q8w7e6r5t4y3u2i1\n";
    let s = Scanner::new(vec![spec.clone()], Allowlist::default()).unwrap();
    assert_eq!(s.min_confidence(), Confidence::Medium);
    assert!(s.scan("x", text).is_empty(), "low is below the default");
    // Redaction still covers what is not reported.
    assert_eq!(s.redact_text("key: acme_q8w7e6r5t4y3u2i1"), "key: acme****");
    let s = s.with_min_confidence(Confidence::Low);
    let f = s.scan("x", text);
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].confidence, Confidence::Low);

    // A rule written without a confidence is medium.
    let json = r#"{"id": "acme-token", "title": "ACME token", "severity": "high",
        "keywords": ["acme_"], "pattern": "\\b(acme_[a-z0-9]{16})\\b"}"#;
    let spec: RuleSpec = serde_json::from_str(json).unwrap();
    assert_eq!(spec.confidence, Confidence::Medium);
    assert_eq!(serde_json::to_value(Confidence::High).unwrap(), "high");
    assert_eq!(format!("[{:<6}]", Confidence::Low), "[low   ]");
    assert_eq!(Confidence::from_name("HIGH"), Some(Confidence::High));
}
