//! Lua rocks: what LuaRocks installed (a rocks tree's
//! `lib/luarocks/rocks-<lua version>/<name>/<version>/rock_manifest`) and what a rockspec
//! (`<name>-<version>.rockspec`, outside a rocks tree) describes.
//!
//! Choices:
//! * The purl is `pkg:luarocks/name@version`, the version with its rockspec revision
//!   (`3.1.0-1`) as LuaRocks writes it. No OSV feed covers LuaRocks.
//! * An installed rock is named by its directory (LuaRocks' own layout); its `rock_manifest`
//!   only has to read as one. The rockspec LuaRocks keeps beside it is the same rock and is not
//!   read again.
//! * A rockspec is read as text, never run: `package = "..."` and `version = "..."` at the top
//!   level. It describes the project it sits in (declared); its `dependencies` are ranges and
//!   are not reported.

use bulwark_analyze::PackageRecord;
use bulwark_types::Ecosystem;

use super::format::{
    components, file_name, plausible_name, plausible_version, Format, FormatAnalyzer,
};

pub(crate) fn analyzer() -> FormatAnalyzer {
    FormatAnalyzer {
        id: "luarocks",
        version: 1,
        formats: &[
            Format {
                what: "rock_manifest",
                matches: |p| installed_rock(p).is_some(),
                parse: parse_rock_manifest,
                installed: true,
            },
            Format {
                what: "rockspec",
                matches: |p| file_name(p).ends_with(".rockspec") && rocks_tree_index(p).is_none(),
                parse: |_, text| parse_rockspec(text),
                installed: false,
            },
        ],
    }
}

/// Where `rocks-<lua version>` (or the `rocks` of LuaRocks 2) sits in the path.
fn rocks_tree_index(path: &str) -> Option<usize> {
    let c = components(path);
    (1..c.len())
        .find(|&i| c[i - 1] == "luarocks" && (c[i] == "rocks" || c[i].starts_with("rocks-")))
}

/// `(name, version)` of `…/luarocks/rocks-5.4/<name>/<version>/rock_manifest`.
fn installed_rock(path: &str) -> Option<(String, String)> {
    let c = components(path);
    let i = rocks_tree_index(path)?;
    if c.len() != i + 4 || c[i + 3] != "rock_manifest" {
        return None;
    }
    Some((c[i + 1].to_string(), c[i + 2].to_string()))
}

/// An installed rock, named by its directory; the manifest only has to read as one.
fn parse_rock_manifest(path: &str, text: &str) -> Result<Vec<PackageRecord>, String> {
    let Some((name, version)) = installed_rock(path) else {
        return Ok(Vec::new());
    };
    if !text.trim_start().starts_with("rock_manifest") {
        return Err(
            "does not start with `rock_manifest = {`; is this a LuaRocks rock manifest?".into(),
        );
    }
    if !plausible_name(&name) || !plausible_version(&version) {
        return Err(format!(
            "{name:?} {version:?} is not a rock name and version"
        ));
    }
    Ok(vec![PackageRecord::new(Ecosystem::LuaRocks, name, version)])
}

/// A top-level `key = "value"` (or `'value'`, `[[value]]`) of a rockspec.
fn assignment<'a>(text: &'a str, key: &str) -> Option<&'a str> {
    text.lines().find_map(|line| {
        let rest = line.strip_prefix(key)?;
        let rest = rest.trim_start().strip_prefix('=')?.trim();
        let rest = rest
            .split("--")
            .next()
            .unwrap_or(rest)
            .trim()
            .trim_end_matches([',', ';']);
        for (open, close) in [("\"", "\""), ("'", "'"), ("[[", "]]")] {
            if let Some(v) = rest.strip_prefix(open).and_then(|r| r.strip_suffix(close)) {
                return Some(v);
            }
        }
        None
    })
}

fn parse_rockspec(text: &str) -> Result<Vec<PackageRecord>, String> {
    let (Some(name), Some(version)) = (assignment(text, "package"), assignment(text, "version"))
    else {
        return Err(
            "no top-level `package = \"…\"` and `version = \"…\"`; is this a rockspec?".into(),
        );
    };
    if !plausible_name(name) || !plausible_version(version) {
        return Err(format!(
            "{name:?} {version:?} is not a rock name and version"
        ));
    }
    Ok(vec![PackageRecord::new(Ecosystem::LuaRocks, name, version)])
}

#[cfg(test)]
mod tests {
    use super::super::format::testing::{assert_malformed, assert_packages};

    // Written from github.com/luarocks/luarocks/wiki/Rockspec-format and the rocks tree
    // layout of luarocks' `luarocks/path.lua` (`rocks-<lua version>/<name>/<version>/`).
    #[test]
    fn rockspec() {
        let spec = "rockspec_format = \"3.0\"
package = \"luasocket\"
version = \"3.1.0-1\" -- the release
source = {
   url = \"git+https://github.com/lunarmodules/luasocket.git\",
   tag = \"v3.1.0\"
}
dependencies = {
   \"lua >= 5.1\"
}
";
        assert_packages(
            "src/luasocket-3.1.0-1.rockspec",
            spec,
            &[("luasocket", "3.1.0-1", "pkg:luarocks/luasocket@3.1.0-1")],
        );
        // The copy LuaRocks keeps in the tree is the installed rock, read from rock_manifest.
        assert_packages(
            "usr/local/lib/luarocks/rocks-5.4/luasocket/3.1.0-1/luasocket-3.1.0-1.rockspec",
            spec,
            &[],
        );
    }

    #[test]
    fn installed_rock() {
        let manifest = "rock_manifest = {\n   [\"luasocket-3.1.0-1.rockspec\"] = \"9a0e1c\",\n   lua = {\n      [\"ltn12.lua\"] = \"b42b1e\"\n   }\n}\n";
        assert_packages(
            "usr/local/lib/luarocks/rocks-5.4/luasocket/3.1.0-1/rock_manifest",
            manifest,
            &[("luasocket", "3.1.0-1", "pkg:luarocks/luasocket@3.1.0-1")],
        );
        assert_packages(
            "usr/local/lib/luarocks/rocks-5.4/luasocket/rock_manifest",
            manifest,
            &[],
        );
    }

    /// What `luarocks make` wrote (tests/data/issue18/README.md).
    #[test]
    fn installed_by_luarocks() {
        const DIR: &str = "usr/local/lib/luarocks/rocks-5.4/bulwarkdemo/0.2.0-1";
        let want = [("bulwarkdemo", "0.2.0-1", "pkg:luarocks/bulwarkdemo@0.2.0-1")];
        let manifest = include_str!(
            "../../tests/data/issue18/luarocks/rocks-5.4/bulwarkdemo/0.2.0-1/rock_manifest"
        );
        assert_packages(&format!("{DIR}/rock_manifest"), manifest, &want);
        let copy = include_str!("../../tests/data/issue18/luarocks/rocks-5.4/bulwarkdemo/0.2.0-1/bulwarkdemo-0.2.0-1.rockspec");
        assert_packages(&format!("{DIR}/bulwarkdemo-0.2.0-1.rockspec"), copy, &[]);
        let spec = include_str!("../../tests/data/issue18/luarocks/bulwarkdemo-0.2.0-1.rockspec");
        assert_packages("src/bulwarkdemo/bulwarkdemo-0.2.0-1.rockspec", spec, &want);
    }

    #[test]
    fn malformed_rocks() {
        assert_malformed("x-1.0-1.rockspec", "local t = {}\nreturn t\n");
        assert_malformed(
            "x-1.0-1.rockspec",
            "package = \"{{ name }}\"\nversion = \"1.0-1\"\n",
        );
        assert_malformed(
            "usr/local/lib/luarocks/rocks-5.4/x/1.0-1/rock_manifest",
            "garbage\n",
        );
    }
}
