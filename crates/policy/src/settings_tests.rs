use super::*;

fn err(text: &str) -> String {
    ConfigFile::parse(text, "bulwark.yaml", Path::new("."))
        .unwrap_err()
        .to_string()
}

fn parse(text: &str) -> ConfigFile {
    ConfigFile::parse(text, "bulwark.yaml", Path::new(".")).unwrap()
}

/// Resolves with no flags and no environment.
fn resolve_file(text: &str) -> Settings {
    let file = parse(text);
    let flags = BTreeMap::new();
    Sources {
        flags: &flags,
        env: &|_| None,
        file: &file,
    }
    .resolve_all()
    .unwrap()
}

#[test]
fn errors_name_file_line_and_key() {
    let e = err("format: json\nignores:\n  - id: CVE-1\n    reason: r\n  - id: CVE-2\n    reason: r\n  - id: CVE-3\n    reason: r\n    expires: 2025-13-01\n");
    assert_eq!(
        e,
        "bulwark.yaml:9:14: ignores[2].expires: invalid date \"2025-13-01\" (expected YYYY-MM-DD)"
    );
    let e = err("format: json\ncolour: red\n");
    assert!(e.starts_with("bulwark.yaml:2:"), "{e}");
    assert!(e.contains("unknown field `colour`"), "{e}");
    let e = err("quiet: yes please\n");
    assert!(e.starts_with("bulwark.yaml:1:8: quiet: "), "{e}");
    let e = err("format: xml\n");
    assert!(
        e.contains("format: unknown value \"xml\" (expected one of: table, json"),
        "{e}"
    );
    let e = err("gates:\n  vulnerabilities:\n    severity: urgent\n");
    assert!(
        e.starts_with("bulwark.yaml:3:15: gates.vulnerabilities.severity: unknown severity"),
        "{e}"
    );
    let e = err("ignores:\n  - id: CVE-1\n    reason: r\n  # a comment\n  - id: CVE-2\n");
    assert!(
        e.starts_with("bulwark.yaml:5:")
            && e.ends_with("ignores[1]: every ignore rule needs a `reason`"),
        "{e}"
    );
    let e = err("licenses:\n  deny-categories: [viral]\n");
    assert!(e.contains("licenses.deny-categories[0]"), "{e}");
    let e = err("max-layer-size: lots\n");
    assert!(
        e.contains("max-layer-size") && e.contains("not a size"),
        "{e}"
    );
}

/// Span test 1: an invalid date deep in a list is placed at its own line and column.
#[test]
fn span_of_an_invalid_date() {
    let e = err("ignores:\n  - id: CVE-1\n    reason: r\n    expires: 2026-02-30\n");
    assert_eq!(
        e,
        "bulwark.yaml:4:14: ignores[0].expires: invalid date \"2026-02-30\" (expected YYYY-MM-DD)"
    );
}

/// Span test 2: an unknown key, top level and inside a section, at the key itself.
#[test]
fn span_of_an_unknown_key() {
    let e = err("format: json\n\n   \nregistry:\n  insecure: true\n  timeuot: 5\n");
    assert!(
        e.starts_with("bulwark.yaml:6:3: registry.timeuot: unknown field `timeuot`"),
        "{e}"
    );
    let e = err("# comment\nformat: json\ncolour: red\n");
    assert!(
        e.starts_with("bulwark.yaml:3:1: colour: unknown field"),
        "{e}"
    );
}

/// Span test 3: a wrong type in a nested list (a map where a severity name belongs).
#[test]
fn span_of_a_wrong_type_in_a_nested_list() {
    let e = err("licenses:\n  deny:\n    - GPL-3.0-only\n    - {id: AGPL-3.0-only}\n");
    assert!(e.starts_with("bulwark.yaml:4:7: licenses.deny[1]: "), "{e}");
    let e = err("scanners:\n  - sbom\n  - [vuln]\n");
    assert!(e.starts_with("bulwark.yaml:3:5: scanners[1]: "), "{e}");
}

#[test]
fn a_full_file_reads() {
    let s = resolve_file(
        "format: json\nseverity: high,critical\nmax-layer-size: 1G\nscanners: [sbom, secret]\nexit-code: 4\ngates:\n  secrets: true\n",
    );
    assert_eq!(
        s.severities("severity"),
        Some(&[Severity::High, Severity::Critical][..])
    );
    assert_eq!(s.uint("max_layer_size"), Some(1 << 30));
    assert_eq!(s.uint("exit_code"), Some(4));
    assert!(s.gates().unwrap().secrets.is_some());
    use bulwark_image::engine::{Engine, Source};
    let s = resolve_file("source: podman,remote\n");
    assert_eq!(
        s.sources("source"),
        Some(&[Source::Engine(Engine::Podman), Source::Remote][..])
    );
    let s = resolve_file("source: [docker]\n");
    assert_eq!(
        s.sources("source"),
        Some(&[Source::Engine(Engine::Docker)][..])
    );
    let e = err("source: [docker, kubelet]\n");
    assert!(
        e.contains("source") && e.contains("unknown image source"),
        "{e}"
    );
}

#[test]
fn flag_beats_environment_beats_file_beats_default() {
    let file = ConfigFile::parse(
        "max-memory: 1G\nregistry:\n  timeout: 7\noutput: out/r.json\n",
        "conf/bulwark.yaml",
        Path::new("conf"),
    )
    .unwrap();
    let env = |name: &str| match name {
        "BULWARK_MAX_MEMORY" => Some("2G".to_string()),
        "BULWARK_REGISTRY_TIMEOUT" => Some("9".to_string()),
        _ => None,
    };
    let mut flags = BTreeMap::new();
    flags.insert("max_memory".to_string(), vec!["3G".to_string()]);
    let sources = Sources {
        flags: &flags,
        env: &env,
        file: &file,
    };
    let s = sources.resolve_all().unwrap();
    assert_eq!(s.uint("max_memory"), Some(3 << 30));
    assert_eq!(s.origin("max_memory"), Some(Origin::Flag));
    assert_eq!(s.uint("registry_timeout"), Some(9));
    assert_eq!(s.origin("registry_timeout"), Some(Origin::Environment));
    assert_eq!(s.path("output"), Some(Path::new("conf/out/r.json")));
    assert_eq!(s.origin("output"), Some(Origin::File));
    assert_eq!(s.uint("max_layer_size"), Some(64 << 30));
    assert_eq!(s.origin("max_layer_size"), Some(Origin::Default));
    assert!(!s.is_set("max_layer_size"));

    let bad = |name: &str| (name == "BULWARK_MAX_MEMORY").then(|| "lots".to_string());
    let e = Sources {
        flags: &BTreeMap::new(),
        env: &bad,
        file: &file,
    }
    .resolve_all()
    .unwrap_err();
    assert!(e.to_string().starts_with("BULWARK_MAX_MEMORY: "), "{e}");
}

/// Every setting has a flag or is file-only by declaration, a doc line, a unique id, key
/// and variable, and a default that reads.
#[test]
fn the_table_is_complete() {
    let mut ids = std::collections::BTreeSet::new();
    let mut keys = std::collections::BTreeSet::new();
    let mut vars = std::collections::BTreeSet::new();
    for s in SETTINGS {
        assert!(ids.insert(s.id), "{} twice", s.id);
        assert!(
            s.doc.ends_with('.') && s.doc.len() > 10,
            "{}: doc line",
            s.id
        );
        if s.flag {
            let var = s.env.unwrap_or_else(|| panic!("{}: no variable", s.id));
            assert!(var.starts_with("BULWARK_"), "{}", s.id);
            assert!(vars.insert(var), "{var} twice");
        } else {
            assert!(
                matches!(s.key, Key::Own(_)) && s.env.is_none(),
                "{}: a file-only setting needs a key and no variable",
                s.id
            );
        }
        if let Some(k) = s.key.shown() {
            assert!(keys.insert(k), "key {k} twice");
        }
        if let Some(d) = s.default {
            parse_text(s.kind, d).unwrap_or_else(|e| panic!("{}: default {d}: {e}", s.id));
        }
    }
}
