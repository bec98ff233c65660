//! Ruby gems: what is installed (the gem specifications rubygems writes to
//! `<gem dir>/specifications/*.gemspec`, default gems under `specifications/default/`) and what
//! a bundler project pins (`Gemfile.lock`, or `gems.locked`).
//!
//! Installed gemspecs are the Ruby DSL `Gem::Specification#to_ruby` generates; they are read
//! by a small tolerant parser, never evaluated. Debian's `ruby-*` packages install gemspecs
//! under `/usr/share/rubygems-integration/`: they are reported here like any other, and the
//! image-wide assembly drops them because dpkg owns the file (the deb is the package).

use std::collections::HashMap;

use bulwark_analyze::{
    Analyzer, AnalyzerOutput, Fact, FileKind, FileMeta, Interest, PackageRecord,
};
use bulwark_types::Ecosystem;

use crate::license;

pub struct RubyAnalyzer;

enum RubyFile {
    Gemspec,
    Lockfile,
}

fn classify(path: &str, name: &str) -> Option<RubyFile> {
    if name.ends_with(".gemspec") && name.len() > ".gemspec".len() {
        let dir = &path[..path.len() - name.len()];
        let installed = ["specifications/", "specifications/default/"]
            .iter()
            .any(|d| dir == *d || dir.ends_with(&format!("/{d}")));
        return installed.then_some(RubyFile::Gemspec);
    }
    if name == "Gemfile.lock" || name == "gems.locked" {
        // A lockfile inside an installed gem (`<gem dir>/gems/<name>-<version>/Gemfile.lock`)
        // is its author's development environment, not this image's.
        let components: Vec<&str> = path.split('/').collect();
        let in_gem = components.windows(3).any(|w| {
            w[0] == "gems"
                && w[1]
                    .rsplit_once('-')
                    .is_some_and(|(_, v)| v.starts_with(|c: char| c.is_ascii_digit()))
        });
        let in_node = path.contains("node_modules/");
        return (!in_gem && !in_node).then_some(RubyFile::Lockfile);
    }
    None
}

impl Analyzer for RubyAnalyzer {
    fn id(&self) -> &'static str {
        "ruby"
    }

    fn version(&self) -> u32 {
        2
    }

    fn wants(&self, file: &FileMeta) -> Interest {
        if file.kind != FileKind::Regular {
            return Interest::Skip;
        }
        match classify(file.path, file.file_name()) {
            Some(RubyFile::Gemspec) => Interest::Read { max_bytes: 4 << 20 },
            Some(RubyFile::Lockfile) => Interest::Read {
                max_bytes: 16 << 20,
            },
            None => Interest::Skip,
        }
    }

    fn analyze(&self, file: &FileMeta, content: &[u8], out: &mut AnalyzerOutput) {
        let text = super::decode_text(content);
        match classify(file.path, file.file_name()) {
            Some(RubyFile::Gemspec) => match parse_gemspec(&text, file.file_name()) {
                Ok(record) => out.fact(Fact::Packages {
                    records: vec![record],
                }),
                Err(e) => out.problem(e),
            },
            Some(RubyFile::Lockfile) => {
                let records = super::declared(parse_gemfile_lock(&text, out));
                if !records.is_empty() {
                    out.fact(Fact::Packages { records });
                }
            }
            None => {}
        }
    }
}

// ---------------------------------------------------------------------------------------------
// gemspec

/// Reads one Ruby string literal at the start of `s` (after blanks): `"…"`, `'…'`, `%q(…)`,
/// `%Q{…}`, `%(…)`, with an optional `.freeze`. Returns the value and the rest. Interpolation
/// (`#{…}`) is not a literal: `None`.
fn string_literal(s: &str) -> Option<(String, &str)> {
    let s = s.trim_start();
    let mut chars = s.char_indices();
    let (_, first) = chars.next()?;
    let (value, rest) = match first {
        '"' | '\'' => {
            let double = first == '"';
            let mut value = String::new();
            let mut escaped = false;
            let mut end = None;
            for (i, c) in chars {
                if escaped {
                    escaped = false;
                    if double {
                        match c {
                            'n' => value.push('\n'),
                            't' => value.push('\t'),
                            _ => value.push(c),
                        }
                    } else {
                        if c != '\'' && c != '\\' {
                            value.push('\\');
                        }
                        value.push(c);
                    }
                    continue;
                }
                match c {
                    '\\' => escaped = true,
                    c if c == first => {
                        end = Some(i);
                        break;
                    }
                    '{' if double && value.ends_with('#') => return None,
                    c => value.push(c),
                }
            }
            let end = end?;
            (value, &s[end + 1..])
        }
        '%' => {
            let rest = &s[1..];
            let (interpolating, rest) = match rest.chars().next()? {
                'q' => (false, &rest[1..]),
                'Q' => (true, &rest[1..]),
                c if !c.is_alphanumeric() && !c.is_whitespace() => (true, rest),
                _ => return None,
            };
            let open = rest.chars().next()?;
            let close = match open {
                '(' => ')',
                '[' => ']',
                '{' => '}',
                '<' => '>',
                c if !c.is_alphanumeric() && !c.is_whitespace() => c,
                _ => return None,
            };
            let body = &rest[open.len_utf8()..];
            let mut depth = 0usize;
            let mut end = None;
            let mut escaped = false;
            for (i, c) in body.char_indices() {
                if escaped {
                    escaped = false;
                    continue;
                }
                if c == '\\' {
                    escaped = true;
                } else if c == close && depth == 0 {
                    end = Some(i);
                    break;
                } else if c == close {
                    depth -= 1;
                } else if c == open && open != close {
                    depth += 1;
                }
            }
            let end = end?;
            let value = &body[..end];
            if interpolating && value.contains("#{") {
                return None;
            }
            (
                value.replace(&format!("\\{close}"), &close.to_string()),
                &body[end + close.len_utf8()..],
            )
        }
        _ => return None,
    };
    let rest = rest.strip_prefix(".freeze").unwrap_or(rest);
    Some((value, rest))
}

/// Reads a value that is either a literal or an array of literals (`["MIT".freeze]`,
/// `%w[MIT Ruby]`).
fn string_list(s: &str) -> Option<Vec<String>> {
    let s = s.trim_start();
    if let Some(body) = s.strip_prefix("%w").or_else(|| s.strip_prefix("%W")) {
        let open = body.chars().next()?;
        let close = match open {
            '(' => ')',
            '[' => ']',
            '{' => '}',
            '<' => '>',
            c => c,
        };
        let inner = &body[open.len_utf8()..];
        let end = inner.find(close)?;
        return Some(
            inner[..end]
                .split_whitespace()
                .map(str::to_string)
                .collect(),
        );
    }
    let Some(mut rest) = s.strip_prefix('[') else {
        return string_literal(s).map(|(v, _)| vec![v]);
    };
    let mut values = Vec::new();
    loop {
        rest = rest.trim_start();
        if rest.starts_with(']') {
            return Some(values);
        }
        let (value, after) = string_literal(rest)?;
        values.push(value);
        rest = after.trim_start();
        rest = rest.strip_prefix(',').unwrap_or(rest);
    }
}

/// `s.attr = value`, `s.attr(value)` or `s.attr value`: the receiver, the attribute, whether
/// it is an assignment, and the rest of the line.
fn call(line: &str) -> Option<(&str, &str, bool, &str)> {
    let dot = line.find('.')?;
    let receiver = &line[..dot];
    if receiver.is_empty() || !receiver.chars().all(|c| c.is_alphanumeric() || c == '_') {
        return None;
    }
    let after = &line[dot + 1..];
    let end = after
        .find(|c: char| !(c.is_alphanumeric() || c == '_'))
        .unwrap_or(after.len());
    let attr = &after[..end];
    let rest = after[end..].trim_start();
    if let Some(value) = rest.strip_prefix('=') {
        if value.starts_with('=') || value.starts_with('~') {
            return None;
        }
        return Some((receiver, attr, true, value));
    }
    let rest = rest.strip_prefix('(').unwrap_or(rest);
    Some((receiver, attr, false, rest))
}

fn valid_token(s: &str) -> bool {
    !s.is_empty() && !s.contains(|c: char| c.is_whitespace() || c.is_control())
}

/// Parses an installed gem specification. Name and version come from the `s.name =` and
/// `s.version =` lines; where they are not literals, from the `# stub: NAME VERSION` line
/// rubygems writes first, then from the file name (`NAME-VERSION[-PLATFORM].gemspec`).
fn parse_gemspec(text: &str, file_name: &str) -> Result<PackageRecord, String> {
    // No "binary file" check on NUL bytes: rubygems joins a default gem's extensions with NUL
    // in its second `# stub:` line. Garbage fails below for want of a specification block.
    let mut receiver: Option<String> = None;
    let mut name: Option<String> = None;
    let mut version: Option<String> = None;
    let mut stub: Option<(String, String)> = None;
    let mut licenses: Vec<String> = Vec::new();
    let mut runtime: Vec<String> = Vec::new();
    let mut saw_spec_block = false;
    // One entry per open `if`/`do` block: whether we are in its `else` branch. rubygems
    // writes `if s.respond_to? :add_runtime_dependency then … else s.add_dependency(…) end`
    // (and older, nested variants): the `else` branches repeat every dependency, development
    // ones included, for ancient rubygems, so they are skipped.
    let mut blocks: Vec<bool> = Vec::new();
    for raw in text.lines() {
        let line = raw.trim();
        if let Some(rest) = line.strip_prefix("# stub:") {
            // The first stub line is `NAME VERSION PLATFORM REQUIRE_PATHS`; a second one lists
            // extensions.
            let mut words = rest.split_whitespace();
            if let (None, Some(n), Some(v)) = (&stub, words.next(), words.next()) {
                stub = Some((n.to_string(), v.to_string()));
            }
            continue;
        }
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if line.contains("Gem::Specification.new") {
            saw_spec_block = true;
            if let Some(bar) = line.find('|') {
                let var = line[bar + 1..].split('|').next().unwrap_or("").trim();
                if !var.is_empty() {
                    receiver = Some(var.to_string());
                }
            }
        }
        let first = line.split_whitespace().next().unwrap_or("");
        if first == "if"
            || first == "unless"
            || first == "case"
            || first == "begin"
            || first == "while"
        {
            blocks.push(false);
            continue;
        }
        if first == "else" || first == "elsif" {
            if let Some(top) = blocks.last_mut() {
                *top = true;
            }
            continue;
        }
        if first == "end" || line.starts_with("end.") {
            blocks.pop();
            continue;
        }
        let opens_block =
            line.ends_with(" do") || line.contains(" do |") || line.ends_with("{ |s|");
        if opens_block {
            blocks.push(false);
        }
        let in_else = blocks.iter().any(|e| *e);
        let Some((recv, attr, assign, value)) = call(line) else {
            continue;
        };
        if receiver.as_deref().is_some_and(|r| r != recv) {
            continue;
        }
        match (attr, assign) {
            ("name", true) => {
                if let Some((v, _)) = string_literal(value) {
                    name = Some(v);
                }
            }
            ("version", true) => {
                let value = value.trim_start();
                let value = value.strip_prefix("Gem::Version.new(").unwrap_or(value);
                if let Some((v, _)) = string_literal(value) {
                    version = Some(v);
                }
            }
            ("license" | "licenses", true) => {
                for l in string_list(value).unwrap_or_default() {
                    if let Some(spdx) = license::expression_to_spdx(&l) {
                        if !licenses.contains(&spdx) {
                            licenses.push(spdx);
                        }
                    }
                }
            }
            ("add_runtime_dependency" | "add_dependency", false) if !in_else => {
                if let Some((dep, _)) = string_literal(value) {
                    if valid_token(&dep) && !runtime.contains(&dep) {
                        runtime.push(dep);
                    }
                }
            }
            _ => {}
        }
    }
    let stem = file_name.strip_suffix(".gemspec").unwrap_or(file_name);
    let name = name
        .filter(|n| valid_token(n))
        .or_else(|| stub.as_ref().map(|(n, _)| n.clone()));
    let Some(name) = name.filter(|n| valid_token(n)) else {
        return Err(if saw_spec_block {
            "gemspec has no literal `name` and no `# stub:` line".into()
        } else {
            "not a gem specification: no `Gem::Specification.new` block".into()
        });
    };
    let from_file = stem
        .strip_prefix(name.as_str())
        .and_then(|r| r.strip_prefix('-'))
        .and_then(|r| r.split('-').next())
        .filter(|v| v.starts_with(|c: char| c.is_ascii_digit()))
        .map(str::to_string);
    let version = version
        .filter(|v| valid_token(v))
        .or_else(|| stub.filter(|(n, _)| *n == name).map(|(_, v)| v))
        .or(from_file);
    let Some(version) = version.filter(|v| valid_token(v)) else {
        return Err(format!("gemspec for {name} has no literal `version`"));
    };
    let mut record = PackageRecord::new(Ecosystem::Gem, name, version);
    record.licenses = licenses;
    record.dependencies = runtime;
    Ok(record)
}

// ---------------------------------------------------------------------------------------------
// Gemfile.lock

/// Sections whose `specs:` list gems (`PLUGIN SOURCE` lists bundler plugins, gems too).
const SPEC_SECTIONS: &[&str] = &["GEM", "GIT", "PATH", "PLUGIN SOURCE"];

/// Parses a bundler lockfile: every gem of the `GEM`, `GIT`, `PATH` (and plugin) sections'
/// `specs:` (4-space indent, `name (version[-platform])`), with the dependencies listed under
/// it (6-space indent). A gem locked for several platforms is one package. `PLATFORMS`,
/// `DEPENDENCIES`, `RUBY VERSION` and `BUNDLED WITH` name no installed gem.
fn parse_gemfile_lock(text: &str, out: &mut AnalyzerOutput) -> Vec<PackageRecord> {
    let mut records: Vec<PackageRecord> = Vec::new();
    let mut index: HashMap<(String, String), usize> = HashMap::new();
    let mut section: Option<&str> = None;
    let mut saw_section = false;
    let mut in_specs = false;
    let mut current: Option<usize> = None;
    let mut bad: Vec<usize> = Vec::new();
    for (n, raw) in text.lines().enumerate() {
        let line = raw.trim_end_matches('\r');
        if line.trim().is_empty() {
            continue;
        }
        let indent = line.len() - line.trim_start_matches(' ').len();
        let body = line.trim();
        if indent == 0 {
            section = Some(body);
            saw_section |= SPEC_SECTIONS.contains(&body);
            in_specs = false;
            current = None;
            continue;
        }
        if !section.is_some_and(|s| SPEC_SECTIONS.contains(&s)) {
            continue;
        }
        match indent {
            2 => {
                in_specs = body == "specs:";
                current = None;
            }
            4 if in_specs => {
                current = None;
                let Some((name, version)) = spec_line(body) else {
                    bad.push(n + 1);
                    continue;
                };
                // `1.14.2-x86_64-linux`: rubygems versions have no `-`, platforms do.
                let version = version.split('-').next().unwrap_or(version);
                let key = (name.to_string(), version.to_string());
                let i = *index.entry(key).or_insert_with(|| {
                    records.push(PackageRecord::new(Ecosystem::Gem, name, version));
                    records.len() - 1
                });
                current = Some(i);
            }
            6 if in_specs => {
                let dep = body.split([' ', '(']).next().unwrap_or("");
                match current {
                    Some(i) if valid_token(dep) => {
                        let deps = &mut records[i].dependencies;
                        if !deps.iter().any(|d| d == dep) {
                            deps.push(dep.to_string());
                        }
                    }
                    _ => bad.push(n + 1),
                }
            }
            _ if in_specs => bad.push(n + 1),
            _ => {}
        }
    }
    if !saw_section && !text.trim().is_empty() {
        out.problem("not a Gemfile.lock: no GEM, GIT or PATH section");
    } else if !bad.is_empty() {
        let shown: Vec<String> = bad.iter().take(5).map(usize::to_string).collect();
        out.problem(format!(
            "Gemfile.lock has {} unreadable spec line(s) (line {})",
            bad.len(),
            shown.join(", ")
        ));
    }
    records
}

/// `name (version)`.
fn spec_line(body: &str) -> Option<(&str, &str)> {
    let (name, rest) = body.split_once(" (")?;
    let version = rest.strip_suffix(')')?;
    (valid_token(name) && valid_token(version) && !version.contains(['(', ')', ',']))
        .then_some((name, version))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// As rubygems 3.3 (Debian bookworm's ruby 3.1) writes an installed spec.
    const RUBYGEMS_33: &str = r#"# -*- encoding: utf-8 -*-
# stub: sinatra 3.0.5 ruby lib

Gem::Specification.new do |s|
  s.name = "sinatra".freeze
  s.version = "3.0.5"

  s.required_rubygems_version = Gem::Requirement.new(">= 0".freeze) if s.respond_to? :required_rubygems_version=
  s.metadata = { "homepage_uri" => "http://sinatrarb.com/" } if s.respond_to? :metadata=
  s.require_paths = ["lib".freeze]
  s.authors = ["Blake Mizerany".freeze, "Ryan Tomayko".freeze]
  s.description = "Sinatra is a DSL for quickly creating web applications in Ruby with minimal effort.".freeze
  s.licenses = ["MIT".freeze]
  s.rubygems_version = "3.3.15".freeze
  s.summary = "Classy web-development dressed in a DSL".freeze

  s.installed_by_version = "3.3.15" if s.respond_to? :installed_by_version

  if s.respond_to? :specification_version then
    s.specification_version = 4
  end

  if s.respond_to? :add_runtime_dependency then
    s.add_runtime_dependency(%q<rack>.freeze, ["~> 2.2", ">= 2.2.4"])
    s.add_runtime_dependency(%q<tilt>.freeze, ["~> 2.0"])
    s.add_development_dependency(%q<rake>.freeze, [">= 0"])
  else
    s.add_dependency(%q<rack>.freeze, ["~> 2.2", ">= 2.2.4"])
    s.add_dependency(%q<tilt>.freeze, ["~> 2.0"])
    s.add_dependency(%q<rake>.freeze, [">= 0"])
  end
end
"#;

    #[test]
    fn rubygems_33_spec() {
        let r = parse_gemspec(RUBYGEMS_33, "sinatra-3.0.5.gemspec").unwrap();
        assert_eq!((r.name.as_str(), r.version.as_str()), ("sinatra", "3.0.5"));
        assert_eq!(r.licenses, vec!["MIT"]);
        assert_eq!(r.dependencies, vec!["rack", "tilt"]);
    }

    #[test]
    fn rubygems_34_spec_and_old_forms() {
        // rubygems 3.4+: no respond_to? wrappers, frozen requirement strings.
        let text = "Gem::Specification.new do |s|\n  s.name = \"rack\".freeze\n  s.version = \"3.0.8\".freeze\n  s.licenses = [\"MIT\".freeze]\n  s.add_dependency(%q<webrick>.freeze, [\">= 0\".freeze])\n  s.add_development_dependency(%q<minitest>.freeze, [\"~> 5.0\".freeze])\nend\n";
        let r = parse_gemspec(text, "rack-3.0.8.gemspec").unwrap();
        assert_eq!((r.name.as_str(), r.version.as_str()), ("rack", "3.0.8"));
        assert_eq!(r.dependencies, vec!["webrick"]);
        // rubygems 1.x: %q{}, `s.license`, nested version check.
        let text = "Gem::Specification.new do |s|\n  s.name = %q{json_pure}\n  s.version = \"1.4.6\"\n  s.license = 'Ruby'\n  if s.respond_to? :specification_version then\n    s.specification_version = 3\n    if Gem::Version.new(Gem::VERSION) >= Gem::Version.new('1.2.0') then\n      s.add_runtime_dependency(%q<permutation>, [\">= 0\"])\n      s.add_development_dependency(%q<bones>, [\">= 0\"])\n    else\n      s.add_dependency(%q<bones>, [\">= 0\"])\n    end\n  else\n    s.add_dependency(%q<bones>, [\">= 0\"])\n  end\nend\n";
        let r = parse_gemspec(text, "json_pure-1.4.6.gemspec").unwrap();
        assert_eq!(
            (r.name.as_str(), r.version.as_str()),
            ("json_pure", "1.4.6")
        );
        assert_eq!(r.licenses, vec!["Ruby"]);
        assert_eq!(r.dependencies, vec!["permutation"]);
    }

    #[test]
    fn stub_line_fallback() {
        let text = "# -*- encoding: utf-8 -*-\n# stub: json 2.6.1 ruby lib\n# stub: ext/json/ext/generator/extconf.rb\0ext/json/extconf.rb\n\nGem::Specification.new do |s|\n  s.name = NAME\n  s.version = VERSION\nend\n";
        let r = parse_gemspec(text, "whatever.gemspec").unwrap();
        assert_eq!((r.name.as_str(), r.version.as_str()), ("json", "2.6.1"));
    }

    #[test]
    fn hand_written_spec_falls_back_to_file_name() {
        let text = "require_relative 'lib/foo/version'\nGem::Specification.new do |spec|\n  spec.name    = 'foo'\n  spec.version = Foo::VERSION\n  spec.license = 'Apache-2.0'\n  spec.add_dependency 'bar', '~> 1.0'\nend\n";
        let r = parse_gemspec(text, "foo-1.2.3-x86_64-linux.gemspec").unwrap();
        assert_eq!((r.name.as_str(), r.version.as_str()), ("foo", "1.2.3"));
        assert_eq!(r.dependencies, vec!["bar"]);
        assert_eq!(r.licenses, vec!["Apache-2.0"]);
    }

    #[test]
    fn garbage_spec_is_an_error() {
        assert!(parse_gemspec("this is not ruby", "x-1.gemspec").is_err());
        assert!(parse_gemspec("\0\0\0", "x-1.gemspec").is_err());
        assert!(parse_gemspec(
            "Gem::Specification.new do |s|\n s.name = \"unterminated\nend",
            "x.gemspec"
        )
        .is_err());
    }

    #[test]
    fn literals() {
        assert_eq!(string_literal("%q<a b>.freeze, 1").unwrap().0, "a b");
        assert_eq!(string_literal("'it''s'").unwrap().0, "it");
        assert_eq!(string_literal(r#""a\"b""#).unwrap().0, "a\"b");
        assert!(string_literal("\"#{x}\"").is_none());
        assert_eq!(string_list("%w[MIT Ruby]").unwrap(), vec!["MIT", "Ruby"]);
        assert_eq!(
            string_list("[\"MIT\".freeze, 'BSD-2-Clause']").unwrap(),
            vec!["MIT", "BSD-2-Clause"]
        );
    }

    #[test]
    fn paths() {
        let g = |p: &str| classify(p, p.rsplit('/').next().unwrap());
        assert!(matches!(
            g("var/lib/gems/3.1.0/specifications/rack-2.2.4.gemspec"),
            Some(RubyFile::Gemspec)
        ));
        assert!(matches!(
            g("usr/lib/ruby/gems/3.1.0/specifications/default/json-2.6.1.gemspec"),
            Some(RubyFile::Gemspec)
        ));
        assert!(g("app/foo.gemspec").is_none());
        assert!(matches!(g("app/Gemfile.lock"), Some(RubyFile::Lockfile)));
        assert!(matches!(
            g("srv/gems/Gemfile.lock"),
            Some(RubyFile::Lockfile)
        ));
        assert!(matches!(
            g("srv/gems/app/Gemfile.lock"),
            Some(RubyFile::Lockfile)
        ));
        assert!(g("var/lib/gems/3.1.0/gems/rack-2.2.4/Gemfile.lock").is_none());
        assert!(g("usr/local/bundle/gems/puma-6.1.1/test/Gemfile.lock").is_none());
    }

    const LOCK: &str = "GIT\n  remote: https://github.com/sinatra/mustermann.git\n  revision: 6e5bd1b\n  specs:\n    mustermann (3.0.0)\n      ruby2_keywords (~> 0.0.1)\n\nPATH\n  remote: .\n  specs:\n    app (0.1.0)\n      sinatra (~> 3.0)\n\nGEM\n  remote: https://rubygems.org/\n  specs:\n    nokogiri (1.14.2-aarch64-linux)\n      racc (~> 1.4)\n    nokogiri (1.14.2-x86_64-linux)\n      racc (~> 1.4)\n    racc (1.6.2)\n    ruby2_keywords (0.0.5)\n\nPLATFORMS\n  x86_64-linux\n\nDEPENDENCIES\n  app!\n  nokogiri\n\nBUNDLED WITH\n   2.4.7\n";

    #[test]
    fn gemfile_lock() {
        let mut out = AnalyzerOutput::default();
        let r = parse_gemfile_lock(LOCK, &mut out);
        assert!(out.problems.is_empty(), "{:?}", out.problems);
        let got: Vec<(&str, &str)> = r
            .iter()
            .map(|r| (r.name.as_str(), r.version.as_str()))
            .collect();
        assert_eq!(
            got,
            vec![
                ("mustermann", "3.0.0"),
                ("app", "0.1.0"),
                ("nokogiri", "1.14.2"),
                ("racc", "1.6.2"),
                ("ruby2_keywords", "0.0.5")
            ]
        );
        assert_eq!(r[2].dependencies, vec!["racc"]);
        assert_eq!(r[0].dependencies, vec!["ruby2_keywords"]);
    }

    #[test]
    fn malformed_gemfile_lock() {
        let mut out = AnalyzerOutput::default();
        let text =
            "GEM\n  remote: https://rubygems.org/\n  specs:\n    rack (2.2.4\n    tilt (2.1.0)\n";
        let r = parse_gemfile_lock(text, &mut out);
        assert_eq!(r.len(), 1);
        assert_eq!(out.problems.len(), 1, "{:?}", out.problems);
        let mut out = AnalyzerOutput::default();
        assert!(parse_gemfile_lock("{\"not\": \"a lockfile\"}", &mut out).is_empty());
        assert_eq!(out.problems.len(), 1);
    }
}
