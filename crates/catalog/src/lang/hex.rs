//! Hex packages (Elixir and Erlang): what a project locks, Mix's `mix.lock` (an Elixir map of
//! `"app": {:hex, :package, "1.2.3", ...}` tuples) and rebar3's `rebar.lock` (Erlang terms,
//! `[{<<"app">>, {pkg, <<"package">>, <<"1.2.3">>}, Level}]`, bare in the oldest files and
//! wrapped as `{"1.2.0", [...]}.` with hash lists after it since rebar3 3.5).
//!
//! Choices:
//! * The package is the Hex package name (the tuple's second element), not the application
//!   name the project gave it (`"my_json": {:hex, :jason, ...}` is `jason`):
//!   `pkg:hex/jason@1.4.1`, matched through OSV's `Hex` feed.
//! * Git and path dependencies have no Hex identity and are left out.
//! * Both files are read as text, not evaluated: a tuple that does not read as above is
//!   skipped, and a file with no recognisable structure is a problem.

use bulwark_analyze::PackageRecord;
use bulwark_types::Ecosystem;

use super::format::{file_name, plausible_name, plausible_version, Format, FormatAnalyzer};

pub(crate) fn analyzer() -> FormatAnalyzer {
    FormatAnalyzer {
        id: "hex",
        version: 1,
        formats: &[
            Format {
                what: "mix.lock",
                matches: |p| file_name(p) == "mix.lock",
                parse: |_, text| parse_mix_lock(text),
                installed: false,
            },
            Format {
                what: "rebar.lock",
                matches: |p| file_name(p) == "rebar.lock",
                parse: |_, text| parse_rebar_lock(text),
                installed: false,
            },
        ],
    }
}

fn hex(name: &str, version: &str) -> Option<PackageRecord> {
    (plausible_name(name) && plausible_version(version))
        .then(|| PackageRecord::new(Ecosystem::Hex, name, version))
}

/// Text with Elixir `#` or Erlang `%` line comments removed (outside strings is enough for
/// these files: neither lock writes `#` or `%` inside a name or version).
fn strip_comments(text: &str, marker: char) -> String {
    text.lines()
        .map(|l| {
            let mut in_string = false;
            let mut end = l.len();
            for (i, c) in l.char_indices() {
                match c {
                    '"' => in_string = !in_string,
                    c if c == marker && !in_string => {
                        end = i;
                        break;
                    }
                    _ => {}
                }
            }
            &l[..end]
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn parse_mix_lock(text: &str) -> Result<Vec<PackageRecord>, String> {
    let text = strip_comments(text, '#');
    let body = text.trim();
    if !(body.starts_with("%{") && body.ends_with('}')) {
        return Err("not an Elixir map (`%{...}`); is this a Mix lockfile?".into());
    }
    let mut out = Vec::new();
    let mut rest = body;
    while let Some(at) = rest.find("{:hex,") {
        rest = &rest[at + "{:hex,".len()..];
        // `:name,` or `:"name",` then `"version"`.
        let s = rest.trim_start();
        let Some(s) = s.strip_prefix(':') else {
            continue;
        };
        let (name, s) = match s.strip_prefix('"') {
            Some(q) => match q.split_once('"') {
                Some(split) => split,
                None => continue,
            },
            None => match s.split_once(',') {
                Some((n, r)) => (n.trim(), r),
                None => continue,
            },
        };
        let s = s.trim_start().trim_start_matches(',').trim_start();
        let Some(version) = s
            .strip_prefix('"')
            .and_then(|v| v.split_once('"'))
            .map(|(v, _)| v)
        else {
            continue;
        };
        out.extend(hex(name, version));
    }
    Ok(out)
}

/// `<<"text">>` at the start of `s` (after whitespace) and what follows it.
fn binary(s: &str) -> Option<(&str, &str)> {
    let s = s.trim_start().strip_prefix("<<\"")?;
    let (value, rest) = s.split_once("\">>")?;
    Some((value, rest))
}

fn parse_rebar_lock(text: &str) -> Result<Vec<PackageRecord>, String> {
    let text = strip_comments(text, '%');
    let body = text.trim();
    if !(body.starts_with('[') || body.starts_with('{')) || !body.ends_with('.') {
        return Err(
            "not Erlang terms (`[...].` or `{\"1.2.0\", [...]}.`); is this a rebar3 lockfile?"
                .into(),
        );
    }
    let mut out = Vec::new();
    let mut rest = body;
    while let Some(at) = rest.find("{pkg,") {
        rest = &rest[at + "{pkg,".len()..];
        let Some((name, s)) = binary(rest) else {
            continue;
        };
        let s = s.trim_start();
        let Some(s) = s.strip_prefix(',') else {
            continue;
        };
        let Some((version, _)) = binary(s) else {
            continue;
        };
        out.extend(hex(name, version));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::super::format::testing::{assert_malformed, assert_packages};

    // Written from the tools' formats: Mix's lock (hexdocs.pm/mix, Mix.Dep.Lock; the tuple
    // `{:hex, name, version, inner_checksum, managers, deps, repo, outer_checksum}`) and rebar3's
    // (rebar3.org/docs/configuration/dependencies/#lock-files).
    #[test]
    fn mix_lock() {
        let lock = r#"%{
  "cowboy": {:hex, :cowboy, "2.10.0", "ff9ffeff91dae4ae270dd975642997afe2a1179d94b1887863e43f681a203e26", [:make, :rebar3], [{:cowlib, "2.12.1", [hex: :cowlib, repo: "hexpm", optional: false]}], "hexpm", "3afdccb7183cc6f143cb14d3cf51fa00e53db9ec80cdcd525482f5e99bc41d6b"},
  "my_json": {:hex, :jason, "1.4.1", "af1504e35f629ddcdd6addb3513c3853991f694921b1b9368b0bd32beb9f1b63", [:mix], [], "hexpm", "fbb01ecdfd565b56261302f7e1fcc27c4fb8f32d56eab74db621fc154604a7a1"},
  # an old, short tuple
  "poison": {:hex, :poison, "3.1.0", "d9eb636610e096f86f25d9a46f35a9facac35609a7591b3be3326e99a0484665", [:mix], []},
  "phoenix": {:git, "https://github.com/phoenixframework/phoenix.git", "a1b2c3d4e5f60718293a4b5c6d7e8f9012345678", [branch: "main"]},
}
"#;
        assert_packages(
            "app/mix.lock",
            lock,
            &[
                ("cowboy", "2.10.0", "pkg:hex/cowboy@2.10.0"),
                ("jason", "1.4.1", "pkg:hex/jason@1.4.1"),
                ("poison", "3.1.0", "pkg:hex/poison@3.1.0"),
            ],
        );
    }

    #[test]
    fn rebar_lock_old_and_versioned() {
        let old = "[{<<\"certifi\">>,{pkg,<<\"certifi\">>,<<\"2.0.0\">>},1},\n {<<\"idna\">>,{pkg,<<\"idna\">>,<<\"5.1.0\">>},0}].\n";
        assert_packages(
            "rebar.lock",
            old,
            &[
                ("certifi", "2.0.0", "pkg:hex/certifi@2.0.0"),
                ("idna", "5.1.0", "pkg:hex/idna@5.1.0"),
            ],
        );
        let versioned = r#"{"1.2.0",
[{<<"cowboy">>,{pkg,<<"cowboy">>,<<"2.10.0">>},0},
 {<<"cowlib">>,{pkg,<<"cowlib">>,<<"2.12.1">>},1},
 {<<"mylib">>,{git,"https://github.com/example/mylib.git",{ref,"0123456789abcdef0123456789abcdef01234567"}},0},
 {<<"ranch">>,{pkg,<<"ranch">>,<<"1.8.0">>,<<"49FBCFD3682FAB1F5D109351B61257676DA1A2FDBE295904176D5E521A2DDFE5">>,<<"551F3D3B8B7F3E8D6E1C1D1E9F0A2B3C4D5E6F708192A3B4C5D6E7F8091A2B3C">>},1}]}.
[
{pkg_hash,[
 {<<"cowboy">>, <<"FF9FFEFF91DAE4AE270DD975642997AFE2A1179D94B1887863E43F681A203E26">>}]}
].
"#;
        assert_packages(
            "rebar.lock",
            versioned,
            &[
                ("cowboy", "2.10.0", "pkg:hex/cowboy@2.10.0"),
                ("cowlib", "2.12.1", "pkg:hex/cowlib@2.12.1"),
                ("ranch", "1.8.0", "pkg:hex/ranch@1.8.0"),
            ],
        );
    }

    #[test]
    fn malformed_hex_locks() {
        assert_malformed("mix.lock", "{\"cowboy\": \"2.10.0\"}");
        assert_malformed("mix.lock", "defmodule X do\nend\n");
        assert_malformed("rebar.lock", "cowboy 2.10.0\n");
        assert_malformed("rebar.lock", "[{<<\"a\">>,{pkg,<<\"a\">>,<<\"1.0\">>},0}]");
    }
}
