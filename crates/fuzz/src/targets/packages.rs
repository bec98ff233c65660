//! Package databases, lockfiles and manifests: each fed to its analyzer (the public
//! [`bulwark_analyze::Analyzer`] contract of `bulwark-catalog`) under image paths it asks for,
//! exactly as the layer walker would hand them over.

use std::sync::OnceLock;

use bulwark_analyze::{Analyzer, AnalyzerOutput, FileKind, FileMeta, Interest};

fn analyzers() -> &'static [Box<dyn Analyzer>] {
    static ANALYZERS: OnceLock<Vec<Box<dyn Analyzer>>> = OnceLock::new();
    ANALYZERS.get_or_init(bulwark_catalog::analyzers)
}

/// Runs analyzer `id` on `data` as the file at each of `paths`, skipping a path whenever the
/// walker would not have handed these bytes over (over the analyzer's cap, wrong magic).
pub(crate) fn analyze_as(id: &str, paths: &[&str], data: &[u8]) {
    let Some(analyzer) = analyzers().iter().find(|a| a.id() == id) else {
        panic!("bulwark-catalog has no analyzer {id:?}; fix the fuzz target table");
    };
    for path in paths {
        let meta = FileMeta {
            path,
            kind: FileKind::Regular,
            size: data.len() as u64,
            mode: 0o755,
        };
        let handed_over = match analyzer.wants(&meta) {
            Interest::Skip => false,
            Interest::Read { max_bytes } => meta.size <= max_bytes,
            Interest::ReadIfMagic { max_bytes, magic } => {
                meta.size <= max_bytes && magic.iter().any(|m| data.starts_with(m))
            }
        };
        if handed_over {
            let mut out = AnalyzerOutput::default();
            analyzer.analyze(&meta, data, &mut out);
        }
    }
}

/// Declares one target function per (analyzer, paths) pair.
macro_rules! analyzer_targets {
    ($($fn_name:ident => $id:literal, [$($path:literal),+ $(,)?];)+) => {
        $(
            pub(crate) fn $fn_name(data: &[u8]) {
                analyze_as($id, &[$($path),+], data)
            }
        )+
        /// Every (analyzer id, path) the targets use, for the test that they are all wanted.
        #[cfg(test)]
        pub(crate) const PATHS: &[(&str, &str)] = &[$($(($id, $path)),+),+];
    };
}

analyzer_targets! {
    os_release => "os-release", [
        "etc/os-release", "etc/alpine-release", "etc/redhat-release", "etc/debian_version",
        "etc/lsb-release",
    ];
    dpkg_status => "dpkg", ["var/lib/dpkg/status", "var/lib/dpkg/status.d/base"];
    dpkg_file_list => "dpkg", [
        "var/lib/dpkg/info/libc6:amd64.list", "var/lib/dpkg/status.d/base.md5sums",
    ];
    dpkg_copyright => "dpkg", ["usr/share/doc/libc6/copyright"];
    apk_installed => "apk", ["lib/apk/db/installed"];
    rpm_database => "rpm", ["var/lib/rpm/Packages"];
    python_metadata => "python", [
        "usr/lib/python3/dist-packages/six-1.16.0.dist-info/METADATA",
        "usr/lib/python3.11/site-packages/yaml.egg-info",
    ];
    python_requirements => "python", ["app/requirements.txt"];
    poetry_lock => "python", ["app/poetry.lock"];
    uv_lock => "python", ["app/uv.lock"];
    pdm_lock => "python", ["app/pdm.lock"];
    pipfile_lock => "python", ["app/Pipfile.lock"];
    npm_package_json => "node", ["app/node_modules/lodash/package.json"];
    npm_lock => "node", ["app/package-lock.json"];
    yarn_lock => "node", ["app/yarn.lock"];
    pnpm_lock => "node", ["app/pnpm-lock.yaml"];
    bun_lock => "node", ["app/bun.lock"];
    go_mod => "go", ["app/go.mod"];
    go_binary => "go", ["usr/local/bin/app"];
    cargo_lock => "rust", ["app/Cargo.lock"];
    rust_auditable_binary => "rust", ["usr/local/bin/app"];
    java_archive => "java", ["app/app.jar"];
    maven_pom => "java", ["app/pom.xml"];
    gradle_lockfile => "java", ["app/gradle.lockfile", "app/gradle/dependency-locks/compileClasspath.lockfile"];
    gemspec => "ruby", ["usr/local/bundle/specifications/rack-2.2.4.gemspec"];
    gemfile_lock => "ruby", ["app/Gemfile.lock"];
    composer_lock => "php", ["app/composer.lock"];
    composer_installed => "php", ["app/vendor/composer/installed.json"];
    dotnet_deps_json => "dotnet", ["app/app.deps.json"];
    nuget_lock => "dotnet", ["app/packages.lock.json"];
    msbuild_project => "dotnet", ["app/app.csproj"];
    nuget_packages_config => "dotnet", ["app/packages.config"];
    // Issue 18: ecosystems part B.
    pacman_desc => "pacman", ["var/lib/pacman/local/libxml2-2.12.6-1/desc", "var/lib/pacman/local/libxml2-2.12.6-1/files"];
    opkg_status => "opkg", ["usr/lib/opkg/status"];
    portage_vdb => "portage", ["var/db/pkg/dev-libs/openssl-3.0.13-r1/PF", "var/db/pkg/dev-libs/openssl-3.0.13-r1/CONTENTS", "var/db/pkg/dev-libs/openssl-3.0.13-r1/LICENSE"];
    homebrew_receipt => "homebrew", ["opt/homebrew/Cellar/jq/1.7.1/INSTALL_RECEIPT.json"];
    snap_yaml => "snap", ["snap/core22/1122/meta/snap.yaml"];
    rpm_manifest => "rpm-manifest", ["var/lib/rpmmanifest/container-manifest-2"];
    bottlerocket_inventory => "bottlerocket", ["usr/share/bottlerocket/application-inventory.json"];
    embedded_sbom => "sbom", ["usr/share/sbom/image.spdx.json", "app/bom.json", "opt/bitnami/redis/.spdx-redis.spdx"];
    github_workflow => "github-actions", ["repo/.github/workflows/ci.yml"];
    pylock => "pylock", ["app/pylock.toml"];
    wordpress_plugin => "wordpress", ["wp-content/plugins/demo/demo.php", "wp-content/plugins/demo/readme.txt"];
    jvm_release => "jvm-release", ["opt/java/openjdk/release"];
    sbt_lock => "sbt", ["app/build.sbt.lock"];
    pecl_registry => "pecl", ["usr/local/lib/php/.registry/.channel.pecl.php.net/redis.reg"];
    python_egg => "python-egg", ["usr/lib/python3.12/site-packages/six-1.16.0-py3.12.egg"];
}

/// An rpm header blob (one package's record) straight to the header parser.
pub(crate) fn rpm_header(data: &[u8]) {
    let _ = bulwark_rpmdb::parse_header(data);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_target_path_is_wanted_by_its_analyzer() {
        for (id, path) in PATHS {
            let analyzer = analyzers().iter().find(|a| a.id() == *id).unwrap();
            let meta = FileMeta {
                path,
                kind: FileKind::Regular,
                size: 4096,
                mode: 0o755,
            };
            assert_ne!(
                analyzer.wants(&meta),
                Interest::Skip,
                "{id} does not want {path}: the target would test nothing"
            );
        }
    }
}
