//! Haskell: what GHC's package databases hold (`package.conf.d/*.conf`, and cabal's store
//! `package.db/*.conf`: installed) and what a project pins (`stack.yaml.lock`'s `packages`,
//! `cabal.project.freeze`'s `any.name ==version` constraints).
//!
//! Choices:
//! * The purl is `pkg:hackage/name@version`; OSV's `Hackage` feed matches it.
//! * `stack.yaml.lock` pins extra-deps only: the packages a resolver snapshot (`lts-22.0`)
//!   brings are not in the file, and are not reported (resolving them needs the snapshot).
//! * Freeze constraints without an exact version (`installed`, flags) are left out;
//!   `setup.`-qualified ones (custom-setup dependencies) are marked `dev`.
//! * GHC's own boot libraries (`base`, `ghc-prim`, ...) in the compiler's database are reported
//!   like any library: they are on Hackage, and advisories name them.

use bulwark_analyze::PackageRecord;
use bulwark_types::Ecosystem;
use serde_json::Value;

use super::format::{
    components, file_name, plausible_name, plausible_version, yaml, Format, FormatAnalyzer,
};

pub(crate) fn analyzer() -> FormatAnalyzer {
    FormatAnalyzer {
        id: "haskell",
        version: 1,
        formats: &[
            Format {
                what: "GHC package database entry",
                matches: |p| {
                    let c = components(p);
                    c.len() >= 2
                        && matches!(c[c.len() - 2], "package.conf.d" | "package.db")
                        && c[c.len() - 1].ends_with(".conf")
                },
                parse: |_, text| parse_package_conf(text),
                installed: true,
            },
            Format {
                what: "stack.yaml.lock",
                matches: |p| file_name(p) == "stack.yaml.lock",
                parse: |_, text| parse_stack_lock(text),
                installed: false,
            },
            Format {
                what: "stack.yaml",
                matches: |p| file_name(p) == "stack.yaml",
                parse: |_, text| parse_stack_yaml(text),
                installed: false,
            },
            Format {
                what: "cabal.project.freeze",
                matches: |p| file_name(p) == "cabal.project.freeze",
                parse: |_, text| parse_cabal_freeze(text),
                installed: false,
            },
        ],
    }
}

fn hackage(name: &str, version: &str) -> Option<PackageRecord> {
    let version_ok =
        plausible_version(version) && version.chars().all(|c| c.is_ascii_digit() || c == '.');
    (plausible_name(name) && version_ok)
        .then(|| PackageRecord::new(Ecosystem::Hackage, name, version))
}

/// `name-1.2.3` → (`name`, `1.2.3`): the version is the last `-` part (names hold `-`).
fn split_package_id(id: &str) -> Option<(&str, &str)> {
    let (name, version) = id.rsplit_once('-')?;
    Some((name, version))
}

fn parse_package_conf(text: &str) -> Result<Vec<PackageRecord>, String> {
    let field = |key: &str| {
        text.lines().find_map(|l| {
            let (k, v) = l.split_once(':')?;
            (k.trim() == key && !l.starts_with(char::is_whitespace)).then(|| v.trim())
        })
    };
    let (Some(name), Some(version)) = (field("name"), field("version")) else {
        return Err(
            "no `name:` and `version:` fields; is this a GHC package database entry?".into(),
        );
    };
    let mut r = hackage(name, version)
        .ok_or_else(|| format!("{name:?} {version:?} is not a Hackage package name and version"))?;
    r.licenses = field("license")
        .and_then(crate::license::expression_to_spdx)
        .into_iter()
        .collect();
    Ok(vec![r])
}

fn parse_stack_lock(text: &str) -> Result<Vec<PackageRecord>, String> {
    let doc: Value = yaml(text)?;
    let Some(packages) = doc.get("packages") else {
        return Err("no `packages`; is this a stack.yaml.lock?".into());
    };
    let mut out = Vec::new();
    for p in packages.as_array().into_iter().flatten() {
        let completed = p.get("completed");
        // Hackage: `hackage: name-1.2.3@sha256:<hash>,<size>`.
        if let Some(h) = completed
            .and_then(|c| c.get("hackage"))
            .and_then(Value::as_str)
        {
            let id = h.split('@').next().unwrap_or(h).trim();
            out.extend(split_package_id(id).and_then(|(n, v)| hackage(n, v)));
            continue;
        }
        // Git and archive packages carry their own `name` and `version`.
        let name = completed
            .and_then(|c| c.get("name"))
            .and_then(Value::as_str);
        let version = completed
            .and_then(|c| c.get("version"))
            .and_then(Value::as_str);
        if let (Some(n), Some(v)) = (name, version) {
            out.extend(hackage(n, v));
        }
    }
    Ok(out)
}

/// `stack.yaml`'s `extra-deps` given as Hackage package identifiers
/// (`acme-missiles-0.3`, optionally `@sha256:…` or `@rev:1`); git and path entries are pinned
/// with a version only in the lock.
fn parse_stack_yaml(text: &str) -> Result<Vec<PackageRecord>, String> {
    let doc: Value = yaml(text)?;
    Ok(doc
        .get("extra-deps")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .filter_map(|d| split_package_id(d.split('@').next().unwrap_or(d).trim()))
        .filter_map(|(n, v)| hackage(n, v))
        .collect())
}

fn parse_cabal_freeze(text: &str) -> Result<Vec<PackageRecord>, String> {
    // `constraints:` runs until the next unindented `field:` line.
    let mut constraints = String::new();
    let mut inside = false;
    let mut found_field = false;
    for line in text.lines() {
        if line.trim_start().starts_with("--") {
            continue;
        }
        if !line.starts_with(char::is_whitespace) && !line.trim().is_empty() {
            inside = false;
            if let Some(rest) = line.strip_prefix("constraints:") {
                inside = true;
                found_field = true;
                constraints.push_str(rest);
                constraints.push(',');
            }
            continue;
        }
        if inside {
            constraints.push_str(line);
            constraints.push(',');
        }
    }
    if !found_field {
        return Err("no `constraints:` field; is this a cabal.project.freeze?".into());
    }
    let mut out = Vec::new();
    for c in constraints
        .split(',')
        .map(str::trim)
        .filter(|c| !c.is_empty())
    {
        let Some((qualified, version)) = c.split_once("==") else {
            continue;
        };
        let qualified = qualified.trim();
        let (scope, name) = qualified.rsplit_once('.').unwrap_or(("", qualified));
        // `any.x`, `setup.x`, or `pkg:setup.x`; a bare `x` also applies everywhere.
        let dev = scope == "setup" || scope.ends_with(":setup");
        if let Some(mut r) = hackage(name, version.trim()) {
            r.dev = dev;
            out.push(r);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::super::format::testing::{assert_malformed, assert_packages};

    // Written from the tools' documentation: docs.haskellstack.org/en/stable/topics/lock_files/
    // (stack.yaml.lock), cabal.readthedocs.io "cabal freeze" and "Package description"
    // (installed package info fields, ghc-pkg describe).
    #[test]
    fn stack_lock() {
        let lock = "# This file was autogenerated by Stack.
packages:
- completed:
    hackage: acme-missiles-0.3@sha256:2ba66a092a32593880a87fb00f3213762d7bca65a687d45965778deb8694c5d1,613
    pantry-tree:
      sha256: 614bc0cca76937507ea0a5ccc17a504c997ce458d7f2f9e43b15a10c8eaeb033
      size: 226
  original:
    hackage: acme-missiles-0.3
- completed:
    commit: 3a0e2a4f1b2c3d4e5f60718293a4b5c6d7e8f901
    git: https://github.com/example/yesod-extra.git
    name: yesod-extra
    version: 1.2.0
    pantry-tree:
      sha256: 0a1b2c3d
      size: 100
  original:
    commit: 3a0e2a4f1b2c3d4e5f60718293a4b5c6d7e8f901
    git: https://github.com/example/yesod-extra.git
snapshots:
- completed:
    sha256: 5a59b2a405b3aba3c00188453be172b85893cab8ebc352b1ef58b0eae5d248a2
    size: 650475
    url: https://raw.githubusercontent.com/commercialhaskell/stackage-snapshots/master/lts/22/0.yaml
  original: lts-22.0
";
        assert_packages(
            "app/stack.yaml.lock",
            lock,
            &[
                ("acme-missiles", "0.3", "pkg:hackage/acme-missiles@0.3"),
                ("yesod-extra", "1.2.0", "pkg:hackage/yesod-extra@1.2.0"),
            ],
        );
    }

    #[test]
    fn stack_yaml_extra_deps() {
        let yaml = "resolver: lts-22.0\npackages:\n- .\nextra-deps:\n- acme-missiles-0.3\n- text-2.0.2@sha256:0a1b2c,1200\n- git: https://github.com/example/x.git\n  commit: 0123456789abcdef0123456789abcdef01234567\n- ./vendor/local-pkg\n";
        assert_packages(
            "app/stack.yaml",
            yaml,
            &[
                ("acme-missiles", "0.3", "pkg:hackage/acme-missiles@0.3"),
                ("text", "2.0.2", "pkg:hackage/text@2.0.2"),
            ],
        );
    }

    #[test]
    fn cabal_freeze() {
        let freeze = "active-repositories: hackage.haskell.org:merge
constraints: any.Cabal ==3.6.3.0,
             any.aeson ==2.1.2.1,
             aeson -cffi +ordered-keymap,
             any.base ==4.16.4.0,
             any.rts installed,
             setup.directory ==1.3.6.2,
             text ==1.2.5.0
index-state: hackage.haskell.org 2023-07-01T00:00:00Z
";
        assert_packages(
            "app/cabal.project.freeze",
            freeze,
            &[
                ("Cabal", "3.6.3.0", "pkg:hackage/Cabal@3.6.3.0"),
                ("aeson", "2.1.2.1", "pkg:hackage/aeson@2.1.2.1"),
                ("base", "4.16.4.0", "pkg:hackage/base@4.16.4.0"),
                ("directory", "1.3.6.2", "pkg:hackage/directory@1.3.6.2"),
                ("text", "1.2.5.0", "pkg:hackage/text@1.2.5.0"),
            ],
        );
    }

    #[test]
    fn installed_package_conf() {
        let conf = "name:                 aeson
version:              2.1.2.1
visibility:           public
id:                   aeson-2.1.2.1-6b1f0c7a
key:                  aeson-2.1.2.1-6b1f0c7a
license:              BSD-3-Clause
synopsis:             Fast JSON parsing and encoding
description:
    A JSON parsing and encoding library optimized for ease of use
    name: not-this
";
        assert_packages(
            "root/.cabal/store/ghc-9.2.8/package.db/aeson-2.1.2.1-6b1f0c7a.conf",
            conf,
            &[("aeson", "2.1.2.1", "pkg:hackage/aeson@2.1.2.1")],
        );
        assert_packages(
            "usr/lib/ghc-9.2.8/lib/package.conf.d/aeson-2.1.2.1.conf",
            conf,
            &[("aeson", "2.1.2.1", "pkg:hackage/aeson@2.1.2.1")],
        );
    }

    #[test]
    fn malformed_haskell_files() {
        assert_malformed("stack.yaml.lock", "packages: [unclosed\n");
        assert_malformed("stack.yaml.lock", "snapshots: []\n");
        assert_malformed(
            "cabal.project.freeze",
            "index-state: hackage.haskell.org 2023\n",
        );
        assert_malformed("x/package.conf.d/a.conf", "garbage\n");
        assert_malformed("x/package.conf.d/a.conf", "name: {{ pkg }}\nversion: 1.0\n");
    }
}
