//! The target table and the functions behind it, grouped by the crate they exercise.

mod advisories;
mod config;
mod documents;
mod image;
mod packages;

use crate::Target;

macro_rules! targets {
    ($($name:ident in $module:ident: $what:literal;)+) => {
        /// Every fuzz target, once. Names are stable: directories and fuzz binaries use them.
        pub static TARGETS: &[Target] = &[
            $(Target { name: stringify!($name), what: $what, run: $module::$name },)+
        ];
    };
}

targets! {
    // bulwark-image: archives, layout documents, layers, registry headers.
    oci_archive in image: "an OCI image archive (oci-archive:), opened and scanned";
    docker_archive in image: "a docker save archive (docker-archive:), opened and scanned";
    oci_index in image: "an OCI index.json, in an otherwise valid archive";
    oci_manifest in image: "an image manifest, in an otherwise valid archive";
    image_config in image: "an image config, in an otherwise valid archive, and its checks";
    layer_tar in image: "a layer blob (tar, gzip, zstd) through the walker and assembly";
    registry_challenge in image: "a registry WWW-Authenticate header";
    // bulwark-catalog and bulwark-rpmdb: OS and package databases.
    os_release in packages: "os-release, lsb-release, alpine-release, redhat-release, debian_version";
    dpkg_status in packages: "dpkg status and distroless status.d files";
    dpkg_file_list in packages: "dpkg info/*.list and *.md5sums";
    dpkg_copyright in packages: "Debian copyright files (licences)";
    apk_installed in packages: "apk's lib/apk/db/installed";
    rpm_database in packages: "rpm databases: SQLite, BerkeleyDB hash, NDB";
    rpm_header in packages: "one rpm header blob";
    // bulwark-catalog: language packages.
    python_metadata in packages: "Python METADATA / PKG-INFO";
    python_requirements in packages: "pip requirements*.txt";
    poetry_lock in packages: "poetry.lock";
    uv_lock in packages: "uv.lock";
    pdm_lock in packages: "pdm.lock";
    pipfile_lock in packages: "Pipfile.lock";
    npm_package_json in packages: "an installed node_modules/*/package.json";
    npm_lock in packages: "package-lock.json / npm-shrinkwrap.json";
    yarn_lock in packages: "yarn.lock (classic and berry)";
    pnpm_lock in packages: "pnpm-lock.yaml";
    bun_lock in packages: "bun.lock";
    go_mod in packages: "go.mod";
    go_binary in packages: "Go build info in ELF, Mach-O and PE executables";
    cargo_lock in packages: "Cargo.lock";
    rust_auditable_binary in packages: "cargo-auditable .dep-v0 data in executables";
    java_archive in packages: "jar/war/ear archives, nested";
    maven_pom in packages: "pom.xml";
    gradle_lockfile in packages: "gradle.lockfile and dependency-locks/*.lockfile";
    gemspec in packages: "installed RubyGems specifications";
    gemfile_lock in packages: "Gemfile.lock";
    composer_lock in packages: "composer.lock";
    composer_installed in packages: "vendor/composer/installed.json";
    dotnet_deps_json in packages: ".NET *.deps.json";
    nuget_lock in packages: "NuGet packages.lock.json";
    msbuild_project in packages: "*.csproj / *.fsproj / *.vbproj";
    nuget_packages_config in packages: "NuGet packages.config";
    pacman_desc in packages: "Arch pacman local database desc and files";
    opkg_status in packages: "OpenWrt opkg status";
    portage_vdb in packages: "Gentoo /var/db/pkg PF, CONTENTS, LICENSE";
    homebrew_receipt in packages: "Homebrew INSTALL_RECEIPT.json";
    snap_yaml in packages: "snap meta/snap.yaml";
    rpm_manifest in packages: "Azure Linux/Mariner container-manifest-2";
    bottlerocket_inventory in packages: "Bottlerocket application-inventory.json";
    embedded_sbom in packages: "SPDX and CycloneDX SBOMs inside an image, Bitnami .spdx files";
    github_workflow in packages: "GitHub Actions workflow uses: pins";
    pylock in packages: "pylock.toml (PEP 751)";
    wordpress_plugin in packages: "WordPress plugin headers and readme.txt";
    jvm_release in packages: "a Java runtime's release file";
    sbt_lock in packages: "sbt build.sbt.lock";
    pecl_registry in packages: "PEAR/PECL registry .reg (PHP serialize)";
    python_egg in packages: "zipped Python .egg";
    // bulwark-misconfig: configuration files.
    dockerfile in config: "a Dockerfile, checked and turned into Rego input";
    kubernetes in config: "Kubernetes manifests (YAML or JSON, many documents)";
    compose in config: "a compose file";
    daemon_json in config: "Docker's daemon.json";
    yaml in config: "the line-keeping YAML loader and kind detection";
    // bulwark-report: documents from other tools, user policy files.
    sbom in documents: "a CycloneDX or SPDX JSON SBOM (bulwark sbom)";
    vex in documents: "an OpenVEX, CycloneDX VEX or CSAF document";
    ignore_file in documents: "a .bulwarkignore file";
    // bulwark-secrets.
    secrets_scan in documents: "any file's bytes, through the built-in secret rules";
    secrets_config in documents: "a --secret-config rule file, compiled";
    secrets_archive in documents: "an archive (zip, tar, compressed tar, .gz; the first byte picks the format), its members through the secret rules";
    // bulwark-vulndb and bulwark-version: advisory data.
    advisory_json in advisories: "OSV, KEV or Alpine secdb JSON (bulwark db import)";
    osv_zip in advisories: "a zip of OSV records";
    advisory_text in advisories: "Debian tracker lists and EPSS CSV";
    epss_csv_gz in advisories: "a gzip-compressed EPSS CSV";
    cvss_vector in advisories: "CVSS v3 and v4 vectors";
    version in advisories: "versions and OSV ranges under every version scheme";
}

/// Seeds that are built by code rather than copied from test data: archives whose digests
/// must agree with their contents, and rpm header blobs cut out of the rpmdb fixtures.
pub mod seeds {
    /// `(target, file name, bytes)` for every generated seed.
    pub fn generated() -> Vec<(&'static str, &'static str, Vec<u8>)> {
        let (index, manifest, config) = super::image::base_documents();
        let mut out = vec![
            ("oci_archive", "base.tar", super::image::base_oci_archive()),
            (
                "docker_archive",
                "base.tar",
                super::image::base_docker_archive(),
            ),
            ("oci_index", "index.json", index),
            ("oci_manifest", "manifest.json", manifest),
            ("image_config", "config.json", config),
            ("layer_tar", "base.tar", super::image::base_layer().to_vec()),
        ];
        out.extend(rpm_headers());
        out
    }

    /// The first headers of the NDB fixture of bulwark-rpmdb's tests, when it is there.
    fn rpm_headers() -> Vec<(&'static str, &'static str, Vec<u8>)> {
        let fixture = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../rpmdb/tests/fixtures/Packages.db"
        );
        let Ok(bytes) = std::fs::read(fixture) else {
            return Vec::new();
        };
        let Ok((_, blobs)) = bulwark_rpmdb::read_header_blobs(&bytes) else {
            return Vec::new();
        };
        let names = ["header-1.bin", "header-2.bin"];
        names
            .into_iter()
            .zip(blobs)
            .map(|(name, blob)| ("rpm_header", name, blob))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::TARGETS;

    #[test]
    fn target_names_are_unique() {
        let mut names: Vec<&str> = TARGETS.iter().map(|t| t.name).collect();
        let before = names.len();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), before);
    }
}
