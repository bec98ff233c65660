//! WordPress plugins under `wp-content/plugins/<slug>/`: the main plugin file is the PHP file
//! at the plugin's top whose header comment has `Plugin Name:`; its `Version:` is the
//! installed version (WordPress's own `get_plugin_data`, which reads the first 8 KiB,
//! <https://developer.wordpress.org/plugins/plugin-basics/header-requirements/>). The plugin's
//! `readme.txt` `Stable tag:` is the version its author published as stable, a claim about the
//! plugin rather than its installed metadata: declared. A plugin is named by its directory
//! (the slug the wordpress.org directory and vulnerability databases use):
//! `pkg:wordpress/<slug>@<version>`. No OSV ecosystem covers WordPress.

use bulwark_analyze::{
    Analyzer, AnalyzerOutput, Fact, FileKind, FileMeta, Interest, PackageRecord,
};
use bulwark_types::Ecosystem;

pub struct WordPressAnalyzer;

/// WordPress reads only this much of a plugin file for its headers.
const HEADER_BYTES: usize = 8 * 1024;

enum WpFile<'a> {
    Main { slug: &'a str },
    Readme { slug: &'a str },
}

fn classify(path: &str) -> Option<WpFile<'_>> {
    let (_, rest) = path.split_once("wp-content/plugins/")?;
    let (slug, file) = rest.split_once('/')?;
    if file.contains('/') || !valid_slug(slug) {
        return None;
    }
    if file.eq_ignore_ascii_case("readme.txt") {
        Some(WpFile::Readme { slug })
    } else if file.ends_with(".php") {
        Some(WpFile::Main { slug })
    } else {
        None
    }
}

fn valid_slug(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '-' | '_' | '.'))
        && !s.starts_with('.')
}

impl Analyzer for WordPressAnalyzer {
    fn id(&self) -> &'static str {
        "wordpress"
    }

    fn version(&self) -> u32 {
        1
    }

    fn wants(&self, file: &FileMeta) -> Interest {
        if file.kind == FileKind::Regular && classify(file.path).is_some() {
            Interest::Read { max_bytes: 4 << 20 }
        } else {
            Interest::Skip
        }
    }

    fn analyze(&self, file: &FileMeta, content: &[u8], out: &mut AnalyzerOutput) {
        let head = &content[..content.len().min(HEADER_BYTES)];
        let text = String::from_utf8_lossy(head);
        let (slug, key, is_main) = match classify(file.path) {
            Some(WpFile::Main { slug }) => (slug, "Version", true),
            Some(WpFile::Readme { slug }) => (slug, "Stable tag", false),
            None => return,
        };
        // A PHP file without `Plugin Name:` is one of the plugin's other files.
        if is_main && header(&text, "Plugin Name").is_none() {
            return;
        }
        match header(&text, key) {
            Some(v) if valid_version(&v) => {
                let record = PackageRecord::new(Ecosystem::WordPress, slug, v);
                out.fact(Fact::Packages {
                    records: vec![if is_main { record } else { record.declared() }],
                });
            }
            // `Stable tag: trunk` names the development branch, not a release.
            Some(v) if !is_main && v.eq_ignore_ascii_case("trunk") => {}
            _ if is_main => out.problem(format!(
                "WordPress plugin {slug} has a Plugin Name but no valid Version header; not listed"
            )),
            _ => {}
        }
    }
}

/// `Key: value` in the header comment (` * Version: 1.2.3`), as WordPress's
/// `get_file_data` matches it: at the start of a line after comment markers, case-insensitive.
fn header(text: &str, key: &str) -> Option<String> {
    text.lines().find_map(|line| {
        let line = line
            .trim_start_matches(|c: char| c.is_whitespace() || matches!(c, '*' | '#' | '@' | '/'));
        let (k, v) = line.split_once(':')?;
        if !k.trim().eq_ignore_ascii_case(key) {
            return None;
        }
        let v = v.trim().trim_end_matches("*/").trim();
        (!v.is_empty()).then(|| v.to_string())
    })
}

fn valid_version(v: &str) -> bool {
    v.starts_with(|c: char| c.is_ascii_digit())
        && v.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | '+'))
}

#[cfg(test)]
mod tests {
    use bulwark_types::Evidence;

    use super::*;

    fn run(path: &str, text: &str) -> AnalyzerOutput {
        let meta = FileMeta {
            path,
            kind: FileKind::Regular,
            size: text.len() as u64,
            mode: 0o644,
        };
        assert!(
            matches!(WordPressAnalyzer.wants(&meta), Interest::Read { .. }),
            "{path}"
        );
        let mut out = AnalyzerOutput::default();
        WordPressAnalyzer.analyze(&meta, text.as_bytes(), &mut out);
        out
    }

    fn one(out: &AnalyzerOutput) -> (String, String, Evidence) {
        let Fact::Packages { records } = &out.facts[0] else {
            panic!("{out:?}")
        };
        (
            records[0].name.clone(),
            records[0].version.clone(),
            records[0].evidence,
        )
    }

    #[test]
    fn reads_plugin_headers_and_readme() {
        let main = "<?php\n/**\n * Plugin Name:       Contact Form Demo\n * Plugin URI:        https://example.org/\n * Description:       A demo.\n * Version:           5.8.1\n * Requires at least: 6.0\n * License:           GPL-2.0-or-later\n */\n\ndefined( 'ABSPATH' ) || exit;\n";
        let out = run(
            "var/www/html/wp-content/plugins/contact-form-demo/contact-form-demo.php",
            main,
        );
        assert_eq!(
            one(&out),
            (
                "contact-form-demo".into(),
                "5.8.1".into(),
                Evidence::Installed
            )
        );
        let readme = "=== Contact Form Demo ===\nContributors: someone\nTags: contact\nRequires at least: 6.0\nTested up to: 6.5\nStable tag: 5.8.1\nLicense: GPLv2 or later\n";
        let out = run(
            "var/www/html/wp-content/plugins/contact-form-demo/readme.txt",
            readme,
        );
        assert_eq!(
            one(&out),
            (
                "contact-form-demo".into(),
                "5.8.1".into(),
                Evidence::Declared
            )
        );
        let helper = "<?php\nfunction helper() { return 1; }\n";
        let out = run(
            "var/www/html/wp-content/plugins/contact-form-demo/helpers.php",
            helper,
        );
        assert!(out.facts.is_empty() && out.problems.is_empty());
        let trunk = run("wp-content/plugins/x/readme.txt", "Stable tag: trunk\n");
        assert!(trunk.facts.is_empty() && trunk.problems.is_empty());
    }

    #[test]
    fn malformed_plugin_header_is_a_diagnostic() {
        let out = run(
            "wp-content/plugins/demo/demo.php",
            "<?php\n/*\n * Plugin Name: Demo\n * Version: {{VERSION}}\n */\n",
        );
        assert!(out.facts.is_empty());
        assert_eq!(out.problems.len(), 1);
    }
}
