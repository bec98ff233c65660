//! Ruby, PHP and .NET packages: the real `lang` image (built by
//! `scripts/build-test-images.py lang` with `scripts/testdata/ruby-php-dotnet.sh`), checked
//! against `gem list`/rubygems' own spec list with `dpkg -S` owners, `composer show --locked`
//! and the .NET fixtures' expected list; then every format on small synthetic fixtures, and
//! malformed files (a diagnostic, exit 3, never a panic).

use std::collections::BTreeSet;
use std::path::PathBuf;

use serde_json::Value;

use crate::util::*;

const MY_ANALYZERS: &[&str] = &["ruby", "php", "dotnet"];

/// The `lang` image with this module's ground truth, or `None` when skipping on purpose.
fn lang_dir() -> Option<PathBuf> {
    test_image("lang", &["expected/gems.tsv"])
}

/// Scans the lang image; other ecosystems' layers are not this module's business, but none of
/// the ruby, php or dotnet analyzers may have reported a problem.
fn scan_lang() -> Option<(PathBuf, Value)> {
    let dir = lang_dir()?;
    let (code, report, stderr) = scan_json(&format!("oci:{}", dir.join("oci").display()), &[]);
    assert!(code == 0 || code == 3, "exit {code}: {stderr}");
    let mine: Vec<&Value> = report["diagnostics"]
        .as_array()
        .map(|d| {
            d.iter()
                .filter(|d| MY_ANALYZERS.contains(&d["analyzer"].as_str().unwrap_or("")))
                .collect()
        })
        .unwrap_or_default();
    assert!(mine.is_empty(), "{mine:#?}");
    Some((dir, report))
}

fn read(dir: &std::path::Path, name: &str) -> String {
    std::fs::read_to_string(dir.join("expected").join(name)).unwrap()
}

fn of_ecosystem<'a>(report: &'a Value, ecosystem: &str) -> Vec<&'a Value> {
    report["packages"]
        .as_array()
        .map(|a| a.iter().filter(|p| p["ecosystem"] == ecosystem).collect())
        .unwrap_or_default()
}

fn found_in(p: &Value) -> Vec<&str> {
    p["found_in"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f.as_str().unwrap())
        .collect()
}

fn s(v: &Value) -> String {
    v.as_str().unwrap_or_default().to_string()
}

/// `(name, version)` of the packages of `ecosystem` read from `path`.
fn from_file(report: &Value, ecosystem: &str, path: &str) -> BTreeSet<(String, String)> {
    of_ecosystem(report, ecosystem)
        .into_iter()
        .filter(|p| found_in(p).contains(&path))
        .map(|p| (s(&p["name"]), s(&p["version"])))
        .collect()
}

/// The one package of `ecosystem` called `name`.
fn one<'a>(report: &'a Value, ecosystem: &str, name: &str) -> &'a Value {
    let found: Vec<&Value> = of_ecosystem(report, ecosystem)
        .into_iter()
        .filter(|p| p["name"] == name)
        .collect();
    assert_eq!(found.len(), 1, "{ecosystem} {name}: {found:#?}");
    found[0]
}

/// The index of the layer the ruby/php/.NET script made, from the build's own record.
fn my_layer(dir: &std::path::Path) -> u64 {
    let image: Value = serde_json::from_str(&read(dir, "image.json")).unwrap();
    image["layers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| s(&l["created_by"]).starts_with("RUN gem/composer/dotnet"))
        .and_then(|l| l["index"].as_u64())
        .expect("image.json names the ruby/php/.NET layer")
}

// ---------------------------------------------------------------------------------------------
// the real image

#[test]
fn real_gems_match_rubygems_minus_dpkg_owned() {
    let Some((dir, report)) = scan_lang() else {
        return;
    };
    // name, version, platform, spec file, owning deb (or -), for every spec rubygems loads.
    let rows: Vec<Vec<String>> = read(&dir, "gems.tsv")
        .lines()
        .map(|l| l.split('\t').map(str::to_string).collect())
        .collect();
    assert!(rows.len() > 10, "gems.tsv is too short: {rows:?}");
    // `gem list --local` lists the same gems as gems.tsv.
    let listed: BTreeSet<String> = read(&dir, "gem-list.txt")
        .lines()
        .filter_map(|l| l.split(" (").next())
        .map(str::to_string)
        .collect();
    let tsv_names: BTreeSet<String> = rows.iter().map(|r| r[0].clone()).collect();
    assert_eq!(listed, tsv_names);

    let want: BTreeSet<(String, String)> = rows
        .iter()
        .filter(|r| r[4] == "-")
        .map(|r| (r[0].clone(), r[1].clone()))
        .collect();
    let got: BTreeSet<(String, String)> = of_ecosystem(&report, "gem")
        .into_iter()
        .filter(|p| found_in(p).iter().any(|f| f.contains("/specifications/")))
        .map(|p| (s(&p["name"]), s(&p["version"])))
        .collect();
    assert_eq!(got, want, "installed gems not owned by dpkg");

    // Every dpkg-owned spec is reported as its deb, never as a gem.
    let debs: BTreeSet<String> = of_ecosystem(&report, "deb")
        .into_iter()
        .map(|p| s(&p["name"]))
        .collect();
    for r in rows.iter().filter(|r| r[4] != "-") {
        assert!(
            debs.contains(&r[4]),
            "deb {} owning {} is missing",
            r[4],
            r[3]
        );
        assert!(
            of_ecosystem(&report, "gem")
                .iter()
                .all(|p| !found_in(p).contains(&r[3].as_str())),
            "{} is dpkg-owned ({}) but reported as a gem",
            r[3],
            r[4]
        );
    }
}

#[test]
fn real_installed_gem_has_purl_layer_license_and_dependencies() {
    let Some((dir, report)) = scan_lang() else {
        return;
    };
    let hello = one(&report, "gem", "bulwark-hello");
    assert_eq!(hello["version"], "0.3.1");
    assert_eq!(hello["purl"], "pkg:gem/bulwark-hello@0.3.1");
    assert_eq!(hello["layer"]["index"].as_u64(), Some(my_layer(&dir)));
    assert_eq!(hello["licenses"], serde_json::json!(["MIT"]));
    // The runtime dependency only; minitest is a development dependency.
    assert_eq!(hello["dependencies"], serde_json::json!(["rack"]));
    assert!(found_in(hello)
        .iter()
        .any(|f| f.starts_with("/var/lib/gems/")
            && f.ends_with("/specifications/bulwark-hello-0.3.1.gemspec")));
}

#[test]
fn real_debian_ruby_rack_is_a_deb_not_a_gem() {
    let Some((dir, report)) = scan_lang() else {
        return;
    };
    let rack_spec = read(&dir, "gems.tsv")
        .lines()
        .map(|l| l.split('\t').map(str::to_string).collect::<Vec<_>>())
        .find(|r| r[0] == "rack" && r[4] == "ruby-rack")
        .expect("gems.tsv has Debian's rack");
    let deb = one(&report, "deb", "ruby-rack");
    assert!(
        s(&deb["purl"]).starts_with("pkg:deb/debian/ruby-rack@"),
        "{deb:#}"
    );
    assert!(
        deb["files"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f == rack_spec[3].as_str()),
        "ruby-rack owns {}",
        rack_spec[3]
    );
    for p in of_ecosystem(&report, "gem") {
        for f in found_in(p) {
            assert!(
                !f.starts_with("/usr/share/rubygems-integration/")
                    && !f.starts_with("/usr/lib/ruby/")
                    && !f.contains("/rubygems-integration/"),
                "a Debian gemspec is reported as a gem: {p:#}"
            );
        }
    }
}

#[test]
fn real_gemfile_lock_fixture() {
    let Some((dir, report)) = scan_lang() else {
        return;
    };
    let want: BTreeSet<(String, String)> = read(&dir, "gemfile-lock.tsv")
        .lines()
        .map(|l| {
            let (n, v) = l.split_once('\t').unwrap();
            (n.to_string(), v.to_string())
        })
        .collect();
    assert_eq!(from_file(&report, "gem", "/app/ruby/Gemfile.lock"), want);
    let nokogiri = of_ecosystem(&report, "gem")
        .into_iter()
        .find(|p| p["name"] == "nokogiri")
        .unwrap();
    assert_eq!(nokogiri["purl"], "pkg:gem/nokogiri@1.14.2");
}

#[test]
fn real_composer_packages_match_the_lock() {
    let Some((dir, report)) = scan_lang() else {
        return;
    };
    let show: Value = serde_json::from_str(&read(&dir, "composer.json")).unwrap();
    let want: BTreeSet<(String, String)> = show["locked"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (s(&p["name"]), s(&p["version"])))
        .collect();
    assert_eq!(want.len(), 2, "{show:#}");
    assert_eq!(
        from_file(&report, "composer", "/app/php/composer.lock"),
        want
    );
    assert_eq!(
        from_file(
            &report,
            "composer",
            "/app/php/vendor/composer/installed.json"
        ),
        want
    );
    // composer.lock read by php itself: name, version, dev.
    let layer = my_layer(&dir);
    for line in read(&dir, "composer-lock.tsv").lines() {
        let f: Vec<&str> = line.split('\t').collect();
        let p = one(&report, "composer", f[0]);
        assert_eq!(p["version"], f[1]);
        assert_eq!(p["dev"].as_bool().unwrap_or(false), f[2] == "1", "{p:#}");
        assert_eq!(p["layer"]["index"].as_u64(), Some(layer));
    }
    let greeter = one(&report, "composer", "acme/greeter");
    assert_eq!(greeter["purl"], "pkg:composer/acme/greeter@v1.2.0");
    assert_eq!(
        greeter["licenses"],
        serde_json::json!(["Apache-2.0", "MIT"])
    );
    let testkit = one(&report, "composer", "acme/testkit");
    assert_eq!(testkit["dependencies"], serde_json::json!(["acme/greeter"]));
}

#[test]
fn real_dotnet_fixtures() {
    let Some((dir, report)) = scan_lang() else {
        return;
    };
    let mut want = BTreeSet::new();
    let mut want_dev = BTreeSet::new();
    for line in read(&dir, "dotnet.tsv").lines() {
        let f: Vec<&str> = line.split('\t').collect();
        want.insert((f[0].to_string(), f[1].to_string(), f[2].to_string()));
        if f[3] == "1" {
            want_dev.insert(f[1].to_string());
        }
    }
    let nuget = of_ecosystem(&report, "nuget");
    // The truth lists what the application uses; the application and the solution's
    // projects (roles root and member, issue 18.7) are checked by the catalog's tests.
    let got: BTreeSet<(String, String, String)> = nuget
        .iter()
        .filter(|p| p.get("role").is_none())
        .flat_map(|p| {
            found_in(p)
                .into_iter()
                .map(|f| (f.to_string(), s(&p["name"]), s(&p["version"])))
                .collect::<Vec<_>>()
        })
        .filter(|(f, _, _)| f.starts_with("/app/dotnet/"))
        .collect();
    assert_eq!(got, want);
    for name in &want_dev {
        assert!(
            nuget
                .iter()
                .any(|p| p["name"] == name.as_str() && p["dev"] == true),
            "{name} is a development package: {nuget:#?}"
        );
    }
    let json = nuget
        .iter()
        .find(|p| p["name"] == "Newtonsoft.Json")
        .unwrap();
    assert_eq!(json["purl"], "pkg:nuget/Newtonsoft.Json@13.0.1");
    assert_eq!(json["layer"]["index"].as_u64(), Some(my_layer(&dir)));
}

// ---------------------------------------------------------------------------------------------
// synthetic fixtures, one per format version

/// As rubygems 3.3 writes an installed spec (with the `respond_to?` compatibility branches).
const GEMSPEC_RUBYGEMS_33: &str = r#"# -*- encoding: utf-8 -*-
# stub: sinatra 3.0.5 ruby lib

Gem::Specification.new do |s|
  s.name = "sinatra".freeze
  s.version = "3.0.5"

  s.required_rubygems_version = Gem::Requirement.new(">= 0".freeze) if s.respond_to? :required_rubygems_version=
  s.metadata = { "homepage_uri" => "http://sinatrarb.com/" } if s.respond_to? :metadata=
  s.require_paths = ["lib".freeze]
  s.authors = ["Blake Mizerany".freeze]
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

/// rubygems 3.4+: no compatibility branches, frozen requirement strings.
const GEMSPEC_RUBYGEMS_35: &str = r#"# -*- encoding: utf-8 -*-
# stub: puma 6.4.2 ruby lib
# stub: ext/puma_http11/extconf.rb

Gem::Specification.new do |s|
  s.name = "puma".freeze
  s.version = "6.4.2".freeze

  s.required_rubygems_version = Gem::Requirement.new(">= 0".freeze) if s.respond_to? :required_rubygems_version=
  s.licenses = ["BSD-3-Clause".freeze]
  s.rubygems_version = "3.5.3".freeze
  s.summary = "A Ruby/Rack web server built for parallelism.".freeze

  s.installed_by_version = "3.5.3".freeze

  s.specification_version = 4

  s.add_runtime_dependency(%q<nio4r>.freeze, ["~> 2.0".freeze])
end
"#;

/// rubygems 1.x: `%q{}` literals, `s.license`, nested version checks.
const GEMSPEC_RUBYGEMS_1: &str = r#"# -*- encoding: utf-8 -*-

Gem::Specification.new do |s|
  s.name = %q{json_pure}
  s.version = "1.4.6"

  s.required_rubygems_version = Gem::Requirement.new(">= 0") if s.respond_to? :required_rubygems_version=
  s.license = %q{Ruby}
  s.summary = %q{JSON Implementation for Ruby}

  if s.respond_to? :specification_version then
    current_version = Gem::Specification::CURRENT_SPECIFICATION_VERSION
    s.specification_version = 3

    if Gem::Version.new(Gem::VERSION) >= Gem::Version.new('1.2.0') then
      s.add_runtime_dependency(%q<permutation>, [">= 0"])
      s.add_development_dependency(%q<bones>, [">= 0"])
    else
      s.add_dependency(%q<permutation>, [">= 0"])
      s.add_dependency(%q<bones>, [">= 0"])
    end
  else
    s.add_dependency(%q<permutation>, [">= 0"])
    s.add_dependency(%q<bones>, [">= 0"])
  end
end
"#;

const GEMFILE_LOCK: &str = "GIT
  remote: https://github.com/sinatra/mustermann.git
  revision: 6e5bd1b5b4b6a4a0e5e0cd6b59c8f3a7a8bd2f0f
  branch: main
  specs:
    mustermann (3.0.0)
      ruby2_keywords (~> 0.0.1)

PATH
  remote: .
  specs:
    hello-app (0.1.0)
      sinatra (~> 3.0)

GEM
  remote: https://rubygems.org/
  specs:
    nokogiri (1.14.2-aarch64-linux)
      racc (~> 1.4)
    nokogiri (1.14.2-x86_64-linux)
      racc (~> 1.4)
    racc (1.6.2)
    ruby2_keywords (0.0.5)

PLATFORMS
  aarch64-linux
  x86_64-linux

DEPENDENCIES
  hello-app!
  mustermann!
  nokogiri (~> 1.14)

BUNDLED WITH
   2.4.7
";

/// Bundler 1.x: one GEM section, no platform suffixes, `BUNDLED WITH` absent.
const GEMS_LOCKED_V1: &str = "GEM
  remote: https://rubygems.org/
  specs:
    rack (1.6.13)
    rack-test (0.6.3)
      rack (>= 1.0)

PLATFORMS
  ruby

DEPENDENCIES
  rack-test
";

const COMPOSER_LOCK: &str = r#"{
    "_readme": ["This file locks the dependencies of your project to a known state"],
    "content-hash": "0c4a4f1d3b7e5d1f1f0e7a0b7e7c2d11",
    "packages": [
        {"name": "monolog/monolog", "version": "1.27.1", "type": "library", "license": ["MIT"],
         "require": {"php": ">=5.3.0", "psr/log": "~1.0"}},
        {"name": "psr/log", "version": "1.1.4", "license": ["MIT"], "require": {"php": ">=5.3.0"}},
        {"name": "symfony/yaml", "version": "v5.4.3", "license": ["MIT"],
         "require": {"php": ">=7.2.5", "symfony/polyfill-ctype": "^1.8", "ext-ctype": "*"}}
    ],
    "packages-dev": [
        {"name": "phpunit/phpunit", "version": "9.5.10", "license": ["BSD-3-Clause"]}
    ],
    "aliases": [],
    "minimum-stability": "stable",
    "platform": {"php": ">=7.4"},
    "plugin-api-version": "2.3.0"
}"#;

const INSTALLED_JSON_V1: &str = r#"[
    {"name": "guzzlehttp/guzzle", "version": "6.5.8", "version_normalized": "6.5.8.0", "license": ["MIT"],
     "require": {"php": ">=5.5", "guzzlehttp/psr7": "^1.9"}},
    {"name": "guzzlehttp/psr7", "version": "1.9.1", "version_normalized": "1.9.1.0", "license": ["MIT"]}
]"#;

const INSTALLED_JSON_V2: &str = r#"{
    "packages": [
        {"name": "laravel/framework", "version": "v9.52.16", "version_normalized": "9.52.16.0",
         "license": ["MIT"], "install-path": "../laravel/framework"},
        {"name": "mockery/mockery", "version": "1.6.7", "version_normalized": "1.6.7.0",
         "license": ["BSD-3-Clause"], "install-path": "../mockery/mockery"}
    ],
    "dev": true,
    "dev-package-names": ["mockery/mockery"]
}"#;

const DEPS_JSON: &str = r#"{
  "runtimeTarget": {"name": ".NETCoreApp,Version=v8.0/linux-x64", "signature": ""},
  "compilationOptions": {},
  "targets": {
    ".NETCoreApp,Version=v8.0": {},
    ".NETCoreApp,Version=v8.0/linux-x64": {
      "api/1.0.0": {"dependencies": {"Dapper": "2.1.28", "Npgsql": "8.0.1"}, "runtime": {"api.dll": {}}},
      "runtimepack.Microsoft.NETCore.App.Runtime.linux-x64/8.0.1": {"runtime": {}},
      "Dapper/2.1.28": {"runtime": {"lib/net7.0/Dapper.dll": {"assemblyVersion": "2.0.0.0", "fileVersion": "2.1.28.55385"}}},
      "Npgsql/8.0.1": {"dependencies": {"Microsoft.Extensions.Logging.Abstractions": "8.0.0"}, "runtime": {"lib/net8.0/Npgsql.dll": {}}},
      "Microsoft.Extensions.Logging.Abstractions/8.0.0": {}
    }
  },
  "libraries": {
    "api/1.0.0": {"type": "project", "serviceable": false, "sha512": ""},
    "runtimepack.Microsoft.NETCore.App.Runtime.linux-x64/8.0.1": {"type": "runtimepack", "serviceable": false, "sha512": ""},
    "Dapper/2.1.28": {"type": "package", "serviceable": true, "sha512": "sha512-x", "path": "dapper/2.1.28", "hashPath": "dapper.2.1.28.nupkg.sha512"},
    "Npgsql/8.0.1": {"type": "package", "serviceable": true, "sha512": "sha512-y", "path": "npgsql/8.0.1", "hashPath": "npgsql.8.0.1.nupkg.sha512"},
    "Microsoft.Extensions.Logging.Abstractions/8.0.0": {"type": "package", "serviceable": true, "sha512": "sha512-z"}
  }
}"#;

const PACKAGES_LOCK_JSON: &str = r#"{
  "version": 2,
  "dependencies": {
    "net8.0": {
      "Polly": {"type": "Direct", "requested": "[8.2.1, )", "resolved": "8.2.1", "contentHash": "a",
                "dependencies": {"Polly.Core": "8.2.1"}},
      "Polly.Core": {"type": "Transitive", "resolved": "8.2.1", "contentHash": "b"},
      "Humanizer.Core": {"type": "CentralTransitive", "requested": "[2.14.1, )", "resolved": "2.14.1", "contentHash": "c"},
      "shared": {"type": "Project", "dependencies": {"Polly": "[8.2.1, )"}}
    },
    "net8.0/linux-x64": {
      "Polly.Core": {"type": "Transitive", "resolved": "8.2.1", "contentHash": "b"}
    }
  }
}"#;

const CSPROJ: &str = r#"<Project Sdk="Microsoft.NET.Sdk">
  <PropertyGroup>
    <TargetFramework>net8.0</TargetFramework>
  </PropertyGroup>
  <ItemGroup>
    <PackageReference Include="Serilog" Version="3.1.1" />
    <PackageReference Include="AutoMapper">
      <Version>12.0.1</Version>
    </PackageReference>
    <PackageReference Include="StyleCop.Analyzers" Version="1.1.118">
      <PrivateAssets>all</PrivateAssets>
      <IncludeAssets>runtime; build; native; contentfiles; analyzers</IncludeAssets>
    </PackageReference>
    <PackageReference Include="FromCentral" />
    <PackageReference Update="Serilog" Version="9.9.9" />
    <ProjectReference Include="..\Shared\Shared.csproj" />
  </ItemGroup>
</Project>
"#;

const FSPROJ: &str = r#"<Project Sdk="Microsoft.NET.Sdk">
  <ItemGroup>
    <Compile Include="Program.fs" />
  </ItemGroup>
  <ItemGroup>
    <PackageReference Include="FSharp.Core" Version="[8.0.100]" />
  </ItemGroup>
</Project>
"#;

const PACKAGES_CONFIG: &str = r#"<?xml version="1.0" encoding="utf-8"?>
<packages>
  <package id="EntityFramework" version="6.4.4" targetFramework="net48" />
  <package id="NUnit" version="3.13.3" targetFramework="net48" developmentDependency="true" />
</packages>
"#;

fn scan_layer(layer: Vec<u8>) -> (i32, Value, String) {
    let tmp = tempfile::tempdir().unwrap();
    ImageBuilder::new()
        .layer(layer, Compression::Gzip, "COPY fixtures /")
        .write_oci(tmp.path());
    scan_json(&format!("oci:{}", tmp.path().display()), &[])
}

fn nv(name: &str, version: &str) -> (String, String) {
    (name.to_string(), version.to_string())
}

#[test]
fn gemspecs_of_every_rubygems_generation() {
    let layer = LayerBuilder::new()
        .file("usr/local/bundle/specifications/sinatra-3.0.5.gemspec", GEMSPEC_RUBYGEMS_33.as_bytes())
        .file("usr/local/lib/ruby/gems/3.3.0/specifications/puma-6.4.2.gemspec", GEMSPEC_RUBYGEMS_35.as_bytes())
        .file("opt/old/gems/specifications/json_pure-1.4.6.gemspec", GEMSPEC_RUBYGEMS_1.as_bytes())
        .file(
            "usr/local/lib/ruby/gems/3.3.0/specifications/default/json-2.7.1.gemspec",
            // rubygems joins a default gem's extensions with NUL on its second stub line.
            b"# stub: json 2.7.1 ruby lib\n# stub: ext/json/ext/generator/extconf.rb\0ext/json/ext/parser/extconf.rb\n\nGem::Specification.new do |s|\n  s.name = \"json\".freeze\n  s.version = \"2.7.1\"\n  s.licenses = [\"Ruby\".freeze, \"BSD-2-Clause\".freeze]\nend\n",
        )
        // Not an installed spec: a gem's source tree.
        .file("src/mygem/mygem.gemspec", b"Gem::Specification.new do |s|\n  s.name = 'mygem'\n  s.version = '9.9.9'\nend\n")
        .finish();
    let (code, report, stderr) = scan_layer(layer);
    assert_eq!(code, 0, "{stderr}");
    let got: BTreeSet<(String, String)> = of_ecosystem(&report, "gem")
        .into_iter()
        .map(|p| (s(&p["name"]), s(&p["version"])))
        .collect();
    assert_eq!(
        got,
        [
            nv("json", "2.7.1"),
            nv("json_pure", "1.4.6"),
            nv("puma", "6.4.2"),
            nv("sinatra", "3.0.5")
        ]
        .into()
    );
    let sinatra = one(&report, "gem", "sinatra");
    assert_eq!(sinatra["purl"], "pkg:gem/sinatra@3.0.5");
    assert_eq!(sinatra["licenses"], serde_json::json!(["MIT"]));
    assert_eq!(sinatra["dependencies"], serde_json::json!(["rack", "tilt"]));
    assert_eq!(
        found_in(sinatra),
        vec!["/usr/local/bundle/specifications/sinatra-3.0.5.gemspec"]
    );
    assert_eq!(
        one(&report, "gem", "puma")["dependencies"],
        serde_json::json!(["nio4r"])
    );
    assert_eq!(
        one(&report, "gem", "puma")["licenses"],
        serde_json::json!(["BSD-3-Clause"])
    );
    let json_pure = one(&report, "gem", "json_pure");
    assert_eq!(
        json_pure["dependencies"],
        serde_json::json!(["permutation"])
    );
    assert_eq!(json_pure["licenses"], serde_json::json!(["Ruby"]));
    assert_eq!(
        one(&report, "gem", "json")["licenses"],
        serde_json::json!(["BSD-2-Clause", "Ruby"])
    );
}

#[test]
fn dpkg_owned_gemspec_is_only_the_deb() {
    let spec = "usr/share/rubygems-integration/all/specifications/rack-2.2.6.4.gemspec";
    let status = dpkg_stanza("ruby-rack", "2.2.6.4-1", None);
    let rack_spec = GEMSPEC_RUBYGEMS_33
        .replace("sinatra", "rack")
        .replace("3.0.5", "2.2.6.4");
    let layer = LayerBuilder::new()
        .file("etc/os-release", os_release_debian())
        .file("var/lib/dpkg/status", status.as_bytes())
        .file(
            "var/lib/dpkg/info/ruby-rack.list",
            format!("/.\n/usr\n/{spec}\n").as_bytes(),
        )
        .file(spec, rack_spec.as_bytes())
        // The same gem installed by `gem install` is a gem.
        .file(
            "var/lib/gems/3.1.0/specifications/rack-2.2.6.4.gemspec",
            rack_spec.as_bytes(),
        )
        .finish();
    let (code, report, stderr) = scan_layer(layer);
    assert_eq!(code, 0, "{stderr}");
    let gems = of_ecosystem(&report, "gem");
    assert_eq!(gems.len(), 1, "{gems:#?}");
    assert_eq!(
        found_in(gems[0]),
        vec!["/var/lib/gems/3.1.0/specifications/rack-2.2.6.4.gemspec"]
    );
    assert_eq!(one(&report, "deb", "ruby-rack")["version"], "2.2.6.4-1");
}

#[test]
fn gemfile_lock_and_gems_locked() {
    let layer = LayerBuilder::new()
        .file("app/Gemfile.lock", GEMFILE_LOCK.as_bytes())
        .file("legacy/gems.locked", GEMS_LOCKED_V1.as_bytes())
        // A gem's own development lockfile, inside the installed gem.
        .file(
            "var/lib/gems/3.1.0/gems/puma-6.1.1/Gemfile.lock",
            GEMS_LOCKED_V1.as_bytes(),
        )
        .finish();
    let (code, report, stderr) = scan_layer(layer);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        from_file(&report, "gem", "/app/Gemfile.lock"),
        [
            nv("hello-app", "0.1.0"),
            nv("mustermann", "3.0.0"),
            nv("nokogiri", "1.14.2"),
            nv("racc", "1.6.2"),
            nv("ruby2_keywords", "0.0.5"),
        ]
        .into()
    );
    assert_eq!(
        from_file(&report, "gem", "/legacy/gems.locked"),
        [nv("rack", "1.6.13"), nv("rack-test", "0.6.3")].into()
    );
    assert!(from_file(
        &report,
        "gem",
        "/var/lib/gems/3.1.0/gems/puma-6.1.1/Gemfile.lock"
    )
    .is_empty());
    let nokogiri = one(&report, "gem", "nokogiri");
    assert_eq!(nokogiri["purl"], "pkg:gem/nokogiri@1.14.2");
    assert_eq!(nokogiri["dependencies"], serde_json::json!(["racc"]));
    assert_eq!(
        one(&report, "gem", "rack-test")["dependencies"],
        serde_json::json!(["rack"])
    );
}

#[test]
fn composer_lock_and_installed_json_both_forms() {
    let layer = LayerBuilder::new()
        .file("srv/app/composer.lock", COMPOSER_LOCK.as_bytes())
        .file(
            "srv/old/vendor/composer/installed.json",
            INSTALLED_JSON_V1.as_bytes(),
        )
        .file(
            "srv/new/vendor/composer/installed.json",
            INSTALLED_JSON_V2.as_bytes(),
        )
        // A dependency's own lockfile inside vendor/ is not this image's.
        .file(
            "srv/new/vendor/laravel/framework/composer.lock",
            COMPOSER_LOCK.as_bytes(),
        )
        .finish();
    let (code, report, stderr) = scan_layer(layer);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        from_file(&report, "composer", "/srv/app/composer.lock"),
        [
            nv("monolog/monolog", "1.27.1"),
            nv("phpunit/phpunit", "9.5.10"),
            nv("psr/log", "1.1.4"),
            nv("symfony/yaml", "v5.4.3"),
        ]
        .into()
    );
    assert_eq!(
        from_file(
            &report,
            "composer",
            "/srv/old/vendor/composer/installed.json"
        ),
        [
            nv("guzzlehttp/guzzle", "6.5.8"),
            nv("guzzlehttp/psr7", "1.9.1")
        ]
        .into()
    );
    assert_eq!(
        from_file(
            &report,
            "composer",
            "/srv/new/vendor/composer/installed.json"
        ),
        [
            nv("laravel/framework", "v9.52.16"),
            nv("mockery/mockery", "1.6.7")
        ]
        .into()
    );
    assert!(of_ecosystem(&report, "composer")
        .iter()
        .all(|p| !found_in(p).iter().any(|f| f.contains("/vendor/laravel/"))));
    let monolog = one(&report, "composer", "monolog/monolog");
    assert_eq!(monolog["purl"], "pkg:composer/monolog/monolog@1.27.1");
    assert_eq!(monolog["licenses"], serde_json::json!(["MIT"]));
    assert_eq!(monolog["dependencies"], serde_json::json!(["psr/log"]));
    assert!(!monolog["dev"].as_bool().unwrap_or(false));
    assert_eq!(
        one(&report, "composer", "symfony/yaml")["purl"],
        "pkg:composer/symfony/yaml@v5.4.3"
    );
    assert_eq!(one(&report, "composer", "phpunit/phpunit")["dev"], true);
    assert_eq!(one(&report, "composer", "mockery/mockery")["dev"], true);
    assert!(!one(&report, "composer", "laravel/framework")["dev"]
        .as_bool()
        .unwrap_or(false));
}

#[test]
fn dotnet_every_format() {
    let layer = LayerBuilder::new()
        .file("app/api.deps.json", DEPS_JSON.as_bytes())
        .file("src/api/packages.lock.json", PACKAGES_LOCK_JSON.as_bytes())
        .file("src/api/api.csproj", CSPROJ.as_bytes())
        .file("src/tool/Tool.fsproj", FSPROJ.as_bytes())
        .file("src/legacy/packages.config", PACKAGES_CONFIG.as_bytes())
        .finish();
    let (code, report, stderr) = scan_layer(layer);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        from_file(&report, "nuget", "/app/api.deps.json"),
        [
            // Issue 18.4/18.7: the application itself and the runtime it carries.
            nv("api", "1.0.0"),
            nv("Microsoft.NETCore.App.Runtime.linux-x64", "8.0.1"),
            nv("Dapper", "2.1.28"),
            nv("Microsoft.Extensions.Logging.Abstractions", "8.0.0"),
            nv("Npgsql", "8.0.1"),
        ]
        .into()
    );
    assert_eq!(
        from_file(&report, "nuget", "/src/api/packages.lock.json"),
        [
            nv("Humanizer.Core", "2.14.1"),
            nv("Polly", "8.2.1"),
            nv("Polly.Core", "8.2.1")
        ]
        .into()
    );
    assert_eq!(
        from_file(&report, "nuget", "/src/api/api.csproj"),
        [
            nv("AutoMapper", "12.0.1"),
            // Versioned centrally elsewhere: kept with the version unknown (issue 18.4).
            nv("FromCentral", ""),
            nv("Serilog", "3.1.1"),
            nv("StyleCop.Analyzers", "1.1.118")
        ]
        .into()
    );
    assert_eq!(
        from_file(&report, "nuget", "/src/tool/Tool.fsproj"),
        [nv("FSharp.Core", "8.0.100")].into()
    );
    assert_eq!(
        from_file(&report, "nuget", "/src/legacy/packages.config"),
        [nv("EntityFramework", "6.4.4"), nv("NUnit", "3.13.3")].into()
    );
    let npgsql = one(&report, "nuget", "Npgsql");
    assert_eq!(npgsql["purl"], "pkg:nuget/Npgsql@8.0.1");
    assert_eq!(
        npgsql["dependencies"],
        serde_json::json!(["Microsoft.Extensions.Logging.Abstractions"])
    );
    assert_eq!(
        one(&report, "nuget", "Polly")["dependencies"],
        serde_json::json!(["Polly.Core"])
    );
    assert_eq!(one(&report, "nuget", "StyleCop.Analyzers")["dev"], true);
    assert_eq!(one(&report, "nuget", "NUnit")["dev"], true);
    assert!(!one(&report, "nuget", "Serilog")["dev"]
        .as_bool()
        .unwrap_or(false));
}

// ---------------------------------------------------------------------------------------------
// malformed files: a diagnostic naming the file and analyzer, exit 3, the rest still reported

#[test]
fn malformed_files_are_diagnostics_not_panics() {
    let broken_lock =
        "GEM\n  remote: https://rubygems.org/\n  specs:\n    rack (2.2.4\n    tilt (2.1.0)\n";
    let layer = LayerBuilder::new()
        .file("var/lib/gems/3.1.0/specifications/broken-1.0.gemspec", b"\xff\xfe\0garbage\0")
        .file("var/lib/gems/3.1.0/specifications/good-1.0.0.gemspec", GEMSPEC_RUBYGEMS_35.replace("puma", "good").replace("6.4.2", "1.0.0").as_bytes())
        .file("app/Gemfile.lock", broken_lock.as_bytes())
        .file("web/composer.lock", b"{\"packages\": [ {\"name\": \"a/b\", ")
        .file("web/vendor/composer/installed.json", b"\"just a string\"")
        .file("ok/composer.lock", COMPOSER_LOCK.as_bytes())
        .file("dotnet/app.deps.json", b"{\"libraries\": 42")
        .file("dotnet/packages.lock.json", b"[]")
        .file("dotnet/App.csproj", b"<Project><ItemGroup><PackageReference Include=\"A\" Version=\"1.0.0\"/></ItemGroup><ItemGroup><PackageReference Include=\"B\" Version=\"2.0\"></Project>")
        .finish();
    let (code, report, stderr) = scan_layer(layer);
    assert_eq!(code, 3, "{stderr}");
    let diags = report["diagnostics"].as_array().unwrap();
    for (path, analyzer) in [
        (
            "/var/lib/gems/3.1.0/specifications/broken-1.0.gemspec",
            "ruby",
        ),
        ("/app/Gemfile.lock", "ruby"),
        ("/web/composer.lock", "php"),
        ("/web/vendor/composer/installed.json", "php"),
        ("/dotnet/app.deps.json", "dotnet"),
        ("/dotnet/packages.lock.json", "dotnet"),
        ("/dotnet/App.csproj", "dotnet"),
    ] {
        assert!(
            diags
                .iter()
                .any(|d| d["path"] == path && d["analyzer"] == analyzer && d["level"] == "error"),
            "no {analyzer} diagnostic for {path}: {diags:#?}"
        );
    }
    // What could be read still is.
    assert_eq!(one(&report, "gem", "good")["version"], "1.0.0");
    assert_eq!(
        from_file(&report, "gem", "/app/Gemfile.lock"),
        [nv("tilt", "2.1.0")].into()
    );
    assert_eq!(from_file(&report, "composer", "/ok/composer.lock").len(), 4);
    assert_eq!(
        from_file(&report, "nuget", "/dotnet/App.csproj"),
        // Issue 18.4: a malformed project yields no packages, only the diagnostic.
        BTreeSet::new()
    );
}

#[test]
fn empty_and_huge_names_do_not_panic() {
    let long = "x".repeat(200_000);
    let layer = LayerBuilder::new()
        .file("var/lib/gems/3.1.0/specifications/empty-1.0.gemspec", b"")
        .file("a/Gemfile.lock", b"")
        .file("a/composer.lock", b"{}")
        .file(
            "a/x.deps.json",
            b"{\"libraries\": {\"/\": {\"type\": \"package\"}}}",
        )
        .file(
            "a/y.csproj",
            format!("<Project><PackageReference Include=\"{long}\" Version=\"{long}\"/></Project>")
                .as_bytes(),
        )
        .file(
            "a/packages.config",
            b"<packages><package id=\"\" version=\"1.0\"/></packages>",
        )
        .finish();
    let (code, report, stderr) = scan_layer(layer);
    assert!(code == 0 || code == 3, "{code}: {stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(report["packages"].is_array());
}
