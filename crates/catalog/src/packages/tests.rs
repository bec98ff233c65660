use std::io::Cursor;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bulwark_analyze::{
    Analyzer, AnalyzerOutput, Fact, FileKind, FileMeta, FileRecord, ImageFacts, Interest,
    LayerFacts, NoProgress, PackageRecord, PathFacts, WalkedLayer, Walker,
};
use bulwark_image::{Image, Layer};
use bulwark_types::{Ecosystem, Evidence, Package};

/// Assembly as the pipeline runs it: the layers, then the package join.
fn assemble(image: &Image, walked: Vec<WalkedLayer>) -> ImageFacts {
    super::finalize_packages(bulwark_analyze::assemble(image, walked))
}

fn image(layers: Vec<Layer>) -> Image {
    Image::from_layers("test", layers)
}

fn walked(layers: Vec<LayerFacts>) -> Vec<WalkedLayer> {
    layers.into_iter().map(WalkedLayer::fresh).collect()
}

fn record(path: &str, kind: FileKind) -> FileRecord {
    FileRecord {
        path: path.into(),
        kind,
        size: 1,
        mode: 0o644,
        link: None,
    }
}

fn deb(name: &str, version: &str) -> PackageRecord {
    PackageRecord::new(Ecosystem::Deb, name, version)
}

fn database(path: &str, records: Vec<PackageRecord>) -> PathFacts {
    PathFacts {
        path: path.into(),
        analyzer: "list".into(),
        facts: vec![Fact::Packages { records }],
    }
}

/// Reads `name version` lines as the dpkg database (and distroless `status.d/*` files).
struct ListAnalyzer;

impl Analyzer for ListAnalyzer {
    fn id(&self) -> &'static str {
        "list"
    }
    fn version(&self) -> u32 {
        1
    }
    fn wants(&self, file: &FileMeta) -> Interest {
        if file.path == "var/lib/dpkg/status" || file.path.starts_with("var/lib/dpkg/status.d/") {
            Interest::Read { max_bytes: 1 << 30 }
        } else {
            Interest::Skip
        }
    }
    fn analyze(&self, _: &FileMeta, content: &[u8], out: &mut AnalyzerOutput) {
        let records = String::from_utf8_lossy(content)
            .lines()
            .filter_map(|l| l.split_once(' '))
            .map(|(n, v)| deb(n, v))
            .collect();
        out.fact(Fact::Packages { records });
    }
}

fn tar_layer(build: impl FnOnce(&mut tar::Builder<Vec<u8>>)) -> Layer {
    let mut b = tar::Builder::new(Vec::new());
    build(&mut b);
    let bytes = Arc::new(b.into_inner().unwrap());
    let open = move || Ok(Box::new(Cursor::new(bytes.to_vec())) as Box<dyn std::io::Read + Send>);
    Layer::new(0, Arc::new(open))
}

fn add_file(b: &mut tar::Builder<Vec<u8>>, path: &str, content: &[u8]) {
    let mut h = tar::Header::new_gnu();
    h.set_size(content.len() as u64);
    h.set_mode(0o644);
    h.set_cksum();
    b.append_data(&mut h, path, content).unwrap();
}

fn add_hard_link(b: &mut tar::Builder<Vec<u8>>, path: &str, target: &str) {
    let mut h = tar::Header::new_gnu();
    h.set_entry_type(tar::EntryType::Link);
    h.set_size(0);
    h.set_mode(0o644);
    b.append_link(&mut h, path, target).unwrap();
}

fn record_count(lf: &LayerFacts) -> usize {
    lf.facts
        .iter()
        .flat_map(|pf| &pf.facts)
        .map(|f| match f {
            Fact::Packages { records } => records.len(),
            _ => 0,
        })
        .sum()
}

/// Issue 13.1: a dpkg status plus thousands of hard links to it (some at paths the
/// database analyzer reads) took memory per link. The facts are recorded once.
#[test]
fn issue_13_1_hard_links_do_not_multiply_facts() {
    const PACKAGES: usize = 200;
    const LINKS: usize = 5_000;
    let status: String = (0..PACKAGES).map(|i| format!("pkg{i} 1.{i}\n")).collect();
    let layer = tar_layer(|b| {
        add_file(b, "var/lib/dpkg/status", status.as_bytes());
        for i in 0..LINKS {
            let path = if i % 2 == 0 {
                format!("var/lib/dpkg/status.d/l{i}")
            } else {
                format!("links/l{i}")
            };
            add_hard_link(b, &path, "var/lib/dpkg/status");
        }
    });
    let analyzers: Vec<Box<dyn Analyzer>> = vec![Box::new(ListAnalyzer)];
    let image = image(vec![layer]);
    let layers = Walker::new(&analyzers).walk(&image, &NoProgress).unwrap();
    assert_eq!(
        layers[0].facts.files.len(),
        1 + LINKS,
        "every link is in the file index"
    );
    assert_eq!(
        record_count(&layers[0].facts),
        PACKAGES,
        "facts recorded once"
    );
    let facts = assemble(&image, layers);
    assert_eq!(facts.packages.len(), PACKAGES);
    assert!(facts
        .packages
        .iter()
        .all(|p| p.found_in == ["/var/lib/dpkg/status"]));
}

/// A database whose path a later layer deletes still counts where a hard link to it stays.
#[test]
fn facts_stay_visible_through_a_surviving_hard_link() {
    let mut base = LayerFacts::default();
    base.files
        .push(record("var/lib/dpkg/status.d/a", FileKind::Regular));
    base.files.push(FileRecord {
        link: Some("var/lib/dpkg/status.d/a".into()),
        ..record("var/lib/dpkg/status.d/b", FileKind::Hardlink)
    });
    base.facts.push(database(
        "var/lib/dpkg/status.d/a",
        vec![deb("zlib1g", "1.2")],
    ));
    let upper = LayerFacts {
        whiteouts: vec!["var/lib/dpkg/status.d/a".into()],
        ..Default::default()
    };
    let facts = assemble(&image(Vec::new()), walked(vec![base, upper]));
    assert_eq!(facts.packages.len(), 1);
    assert_eq!(facts.packages[0].found_in, ["/var/lib/dpkg/status.d/b"]);
}

/// Issue 13.7: the same large database in several layers; each package's introducing
/// layer was found by rescanning earlier layers (packages² × layers).
#[test]
fn issue_13_7_introducing_layers_are_found_in_linear_time() {
    const PACKAGES: usize = 30_000;
    let listed = |versions: &dyn Fn(usize) -> Option<String>| -> LayerFacts {
        let records = (0..PACKAGES)
            .filter_map(|i| versions(i).map(|v| deb(&format!("pkg{i}"), &v)))
            .collect();
        LayerFacts {
            files: vec![record("var/lib/dpkg/status", FileKind::Regular)],
            facts: vec![database("var/lib/dpkg/status", records)],
            ..Default::default()
        }
    };
    // pkg0 is upgraded in layer 2; pkg1 is removed in layer 1 and reinstalled in layer 2.
    let layers = vec![
        listed(&|_| Some("1".into())),
        listed(&|i| (i != 1).then(|| "1".into())),
        listed(&|i| Some(if i == 0 { "2".into() } else { "1".into() })),
    ];
    let started = Instant::now();
    let facts = assemble(&image(Vec::new()), walked(layers));
    let took = started.elapsed();
    assert_eq!(facts.packages.len(), PACKAGES);
    let layer_of = |name: &str| {
        facts
            .packages
            .iter()
            .find(|p| p.name == name)
            .map(|p| p.layer.index)
    };
    assert_eq!(layer_of("pkg0"), Some(2), "upgraded");
    assert_eq!(layer_of("pkg1"), Some(2), "removed, then reinstalled");
    assert_eq!(layer_of("pkg2"), Some(0));
    assert!(
        took < Duration::from_secs(10),
        "{PACKAGES} packages in 3 layers took {took:?}"
    );
}

fn language_layer(entries: &[(&str, PackageRecord)]) -> LayerFacts {
    let mut lf = LayerFacts::default();
    for (path, r) in entries {
        lf.files.push(record(path, FileKind::Regular));
        lf.facts.push(PathFacts {
            path: path.to_string(),
            analyzer: "lang".into(),
            facts: vec![Fact::Packages {
                records: vec![r.clone()],
            }],
        });
    }
    lf
}

fn lang(ecosystem: Ecosystem, name: &str, version: &str) -> PackageRecord {
    PackageRecord::new(ecosystem, name, version)
}

/// Issue 12.2: what a manifest or lockfile declares merges into the installed package it
/// names (same normalised name, equal version under the ecosystem's rules); what has no
/// installed counterpart stays, marked declared.
#[test]
fn issue_12_2_declared_entries_merge_into_installed_packages() {
    use Ecosystem::*;
    /// (ecosystem, installed at, installed name and version, declared at, declared name
    /// and version)
    type Case = (
        Ecosystem,
        &'static str,
        (&'static str, &'static str),
        &'static str,
        (&'static str, &'static str),
    );
    let cases: &[Case] = &[
        (
            PyPI,
            "venv/django-3.2.dist-info/METADATA",
            ("Django", "3.2"),
            "app/requirements.txt",
            ("django", "3.2.0"),
        ),
        (
            PyPI,
            "venv/zope.interface-5.0.dist-info/METADATA",
            ("zope.interface", "5.0"),
            "app/poetry.lock",
            ("Zope_Interface", "5.0.0"),
        ),
        (
            Npm,
            "app/node_modules/@babel/core/package.json",
            ("@babel/core", "7.1.0"),
            "app/package-lock.json",
            ("@babel/core", "7.1.0"),
        ),
        (
            Go,
            "usr/bin/app",
            ("golang.org/x/net", "v0.17.0"),
            "src/go.mod",
            ("golang.org/x/net", "v0.17.0"),
        ),
        (
            Cargo,
            "usr/bin/tool",
            ("serde", "1.0.190"),
            "src/Cargo.lock",
            ("serde", "1.0.190"),
        ),
        (
            Maven,
            "app/lib/log4j-core.jar",
            ("log4j-core", "2.14"),
            "src/pom.xml",
            ("log4j-core", "2.14.0"),
        ),
        (
            Gem,
            "gems/specifications/rack-2.2.3.gemspec",
            ("rack", "2.2.3"),
            "app/Gemfile.lock",
            ("rack", "2.2.3.0"),
        ),
        (
            Composer,
            "app/vendor/composer/installed.json",
            ("monolog/monolog", "v1.27.1"),
            "app/composer.lock",
            ("Monolog/Monolog", "1.27.1"),
        ),
        (
            NuGet,
            "app/App.deps.json",
            ("Newtonsoft.Json", "13.0.1"),
            "src/packages.lock.json",
            ("newtonsoft.json", "13.0.1.0"),
        ),
    ];
    for (eco, at, (name, version), declared_at, (dname, dversion)) in cases {
        let mut installed = lang(*eco, name, version);
        let mut declared = lang(*eco, dname, dversion).declared();
        if *eco == Maven {
            installed.namespace = Some("org.apache.logging.log4j".into());
            declared.namespace = Some("org.apache.logging.log4j".into());
        }
        let orphan = lang(*eco, "only-declared", "1.0.0").declared();
        let mut other_version = declared.clone();
        other_version.version = "9.9.9".into();
        // The lockfile arrives first (COPY before RUN install): the installing layer
        // counts. Beside it, a name nothing installs and another version of the same name.
        let layers = vec![
            language_layer(&[
                (declared_at, declared.clone()),
                ("x/lock", orphan),
                ("y/lock", other_version),
            ]),
            language_layer(&[(at, installed)]),
        ];
        let packages = assemble(&image(Vec::new()), walked(layers)).packages;
        assert_eq!(packages.len(), 3, "{eco}: {packages:#?}");
        let merged: Vec<&Package> = packages
            .iter()
            .filter(|p| p.version != "9.9.9" && p.name != "only-declared")
            .collect();
        assert_eq!(merged.len(), 1, "{eco}: {packages:#?}");
        let p = merged[0];
        assert_eq!(
            (p.name.as_str(), p.version.as_str()),
            (*name, *version),
            "{eco}: the installed identity"
        );
        assert_eq!(p.evidence, Evidence::Installed, "{eco}");
        assert_eq!(
            p.layer.index, 1,
            "{eco}: attributed to the installing layer"
        );
        let mut want = vec![format!("/{at}"), format!("/{declared_at}")];
        want.sort();
        assert_eq!(p.found_in, want, "{eco}: both locations kept");
        for stays in ["/x/lock", "/y/lock"] {
            let left: Vec<&Package> = packages.iter().filter(|p| p.found_in == [stays]).collect();
            assert_eq!(left.len(), 1, "{eco} {stays}: {packages:#?}");
            assert_eq!(left[0].evidence, Evidence::Declared, "{eco} {stays}");
        }
    }
}

#[test]
fn equal_versions_of_a_name_merge_within_a_bounded_number_of_comparisons() {
    // Thousands of distinct versions of one name: the comparisons stop at the bound and
    // the rest merge only when written the same.
    let mut lf = LayerFacts::default();
    let mut records = Vec::new();
    for i in 0..5_000 {
        records.push(lang(Ecosystem::PyPI, "p", &format!("1.{i}")).declared());
    }
    records.push(lang(Ecosystem::PyPI, "p", "1.0.0").declared());
    lf.files
        .push(record("a/requirements.txt", FileKind::Regular));
    lf.facts.push(PathFacts {
        path: "a/requirements.txt".into(),
        analyzer: "lang".into(),
        facts: vec![Fact::Packages { records }],
    });
    let started = Instant::now();
    let facts = assemble(&image(Vec::new()), walked(vec![lf]));
    assert!(started.elapsed() < Duration::from_secs(10));
    assert_eq!(facts.packages.len(), 5_000, "1.0.0 joined 1.0");
}

/// Issue 18.1: a requirement without a pin (`Django~=4.2.7`) is declared with the version
/// unknown: it joins the installed copy of its name, and alone it stays with a purl that has
/// no version (never `pkg:pypi/django@`).
#[test]
fn issue_18_1_declared_entries_of_unknown_version_join_the_installed_copy() {
    let layers = vec![
        language_layer(&[
            (
                "app/requirements.txt",
                lang(Ecosystem::PyPI, "Django", "").declared(),
            ),
            (
                "app/requirements-dev.txt",
                lang(Ecosystem::PyPI, "pytest", "").declared(),
            ),
        ]),
        language_layer(&[(
            "venv/django-4.2.9.dist-info/METADATA",
            lang(Ecosystem::PyPI, "Django", "4.2.9"),
        )]),
    ];
    let packages = assemble(&image(Vec::new()), walked(layers)).packages;
    assert_eq!(packages.len(), 2, "{packages:#?}");
    let django = packages.iter().find(|p| p.name == "Django").unwrap();
    assert_eq!(django.version, "4.2.9");
    assert_eq!(django.evidence, Evidence::Installed);
    assert_eq!(django.found_in.len(), 2);
    let pytest = packages.iter().find(|p| p.name == "pytest").unwrap();
    assert_eq!(pytest.evidence, Evidence::Declared);
    assert_eq!(pytest.purl.to_string(), "pkg:pypi/pytest");
}

/// Issue 18.4: a project's reference without a version joins the version central package
/// management declares (`Directory.Packages.props`); two unversioned references are one.
#[test]
fn issue_18_4_unversioned_references_join_the_central_version() {
    let layers = vec![language_layer(&[
        (
            "src/Directory.Packages.props",
            lang(Ecosystem::NuGet, "Newtonsoft.Json", "13.0.3").declared(),
        ),
        (
            "src/App/App.csproj",
            lang(Ecosystem::NuGet, "Newtonsoft.Json", "").declared(),
        ),
        (
            "src/Lib/Lib.csproj",
            lang(Ecosystem::NuGet, "Polly", "").declared(),
        ),
        (
            "src/Api/Api.csproj",
            lang(Ecosystem::NuGet, "polly", "").declared(),
        ),
    ])];
    let packages = assemble(&image(Vec::new()), walked(layers)).packages;
    assert_eq!(packages.len(), 2, "{packages:#?}");
    assert_eq!(packages[0].name, "Newtonsoft.Json");
    assert_eq!(packages[0].version, "13.0.3");
    assert_eq!(packages[0].found_in.len(), 2);
    assert_eq!(packages[1].version, "");
    assert_eq!(packages[1].found_in.len(), 2);
}

/// A Mariner / Azure Linux image with both an rpm database and the build's rpm manifest lists
/// each package twice: one package, both locations. A manifest alone still gives packages.
#[test]
fn rpm_manifest_entries_fold_into_the_rpm_database() {
    let bash = || {
        let mut r = lang(Ecosystem::Rpm, "bash", "5.1.8-6.cm2");
        r.arch = Some("x86_64".into());
        r
    };
    let manifest = "var/lib/rpmmanifest/container-manifest-2";
    let both = vec![language_layer(&[
        ("var/lib/rpm/rpmdb.sqlite", bash()),
        (manifest, bash()),
        (
            manifest,
            lang(Ecosystem::Rpm, "only-in-manifest", "1.0-1.cm2"),
        ),
    ])];
    let packages = assemble(&image(Vec::new()), walked(both)).packages;
    assert_eq!(packages.len(), 2, "{packages:#?}");
    let bash = packages.iter().find(|p| p.name == "bash").unwrap();
    assert_eq!(
        bash.found_in,
        [
            "/var/lib/rpm/rpmdb.sqlite".to_string(),
            format!("/{manifest}")
        ]
    );

    let alone = vec![language_layer(&[(
        manifest,
        lang(Ecosystem::Rpm, "bash", "5.1.8-6.cm2"),
    )])];
    assert_eq!(
        assemble(&image(Vec::new()), walked(alone)).packages.len(),
        1
    );
}
