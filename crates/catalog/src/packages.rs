//! The package inventory of an assembled image: each database record the final filesystem
//! shows becomes a [`Package`] with its purl, the files and licences recorded apart from it
//! (dpkg's `.list` and copyright files) joined in, language packages that an OS package owns
//! dropped, and language packages seen in several places merged into one.

use std::collections::HashMap;

use bulwark_analyze::{Fact, ImageFacts, PackageRecord};
use bulwark_types::{Ecosystem, Evidence, LayerRef, OsRelease, Package, Purl};

/// Fills `facts.packages` from the package records `bulwark_analyze::assemble` left in the
/// layer facts: call it on every assembled image whose inventory is wanted (vulnerability
/// matching, SBOMs and licences all read it). Sorted by [`Package::sort_key`].
pub fn finalize_packages(mut facts: ImageFacts) -> ImageFacts {
    let built = build_packages(&facts);
    // Every record, owned-file list and licence list is now copied into a package; nothing
    // after this reads them (the in-image configuration checks read configuration facts), and
    // on a million-entry lockfile they are a quarter of the peak if kept through the merge.
    release_package_facts(&mut facts);
    facts.packages = tidy_packages(built);
    facts
}

/// Drops the package-database facts of every layer, keeping the rest (configuration
/// findings, secrets, OS descriptions) and the file index.
fn release_package_facts(facts: &mut ImageFacts) {
    for layer in &mut facts.layer_facts {
        for path_facts in &mut layer.facts {
            path_facts.facts.retain(|fact| {
                !matches!(
                    fact,
                    Fact::Packages { .. } | Fact::OwnedFiles { .. } | Fact::Licenses { .. }
                )
            });
            path_facts.facts.shrink_to_fit();
        }
    }
}

/// One package per record the final filesystem shows, with the owned files and licences
/// recorded apart from it joined in.
fn build_packages(facts: &ImageFacts) -> Vec<Package> {
    let mut owned: HashMap<(Ecosystem, &str), Vec<String>> = HashMap::new();
    let mut licensed: HashMap<(Ecosystem, &str), Vec<String>> = HashMap::new();
    facts.visible_facts(|_, _, pf| {
        for fact in &pf.facts {
            match fact {
                Fact::OwnedFiles {
                    ecosystem,
                    package,
                    files,
                } => owned
                    .entry((*ecosystem, package.as_str()))
                    .or_default()
                    .extend(files.iter().cloned()),
                Fact::Licenses {
                    ecosystem,
                    package,
                    licenses,
                } => licensed
                    .entry((*ecosystem, package.as_str()))
                    .or_default()
                    .extend(licenses.iter().cloned()),
                _ => {}
            }
        }
    });

    // Sized once from the records of every layer (an upper bound: some are hidden by later
    // layers) and trimmed after: growing by doubling holds the old and the new buffer at once,
    // half a gigabyte more at the last step for a million packages.
    let records: usize = facts
        .layer_facts
        .iter()
        .flat_map(|layer| &layer.facts)
        .flat_map(|path_facts| &path_facts.facts)
        .map(|fact| match fact {
            Fact::Packages { records } => records.len(),
            _ => 0,
        })
        .sum();
    let mut packages = Vec::with_capacity(records);
    facts.visible_packages(|record, introduced, path| {
        let mut package = to_package(record, facts.os.as_ref(), introduced, path);
        let key = (record.ecosystem, record.name.as_str());
        if package.files.is_empty() {
            if let Some(list) = owned.get(&key) {
                package.files = list.clone();
            }
        }
        if package.licenses.is_empty() {
            if let Some(list) = licensed.get(&key) {
                package.licenses = list.clone();
            }
        }
        package.files.sort();
        package.files.dedup();
        package.licenses.sort();
        package.licenses.dedup();
        packages.push(package);
    });
    // Nix store paths are directories, known only from the file index.
    crate::nix::store_packages(facts, |record, layer, path| {
        packages.push(to_package(&record, facts.os.as_ref(), layer, path));
    });
    // A `release` file is a Java runtime only beside one (`bin/java`, `lib/modules`).
    packages.retain(|p| {
        p.ecosystem != Ecosystem::Generic
            || !p.found_in.iter().all(|f| f.ends_with("/release"))
            || p.found_in
                .iter()
                .any(|f| crate::lang::jvm::has_runtime_beside(&facts.files, f))
    });
    packages.shrink_to_fit();
    packages
}

/// OS-owned language duplicates dropped, exact duplicates removed, language duplicates
/// merged; sorted by [`Package::sort_key`].
fn tidy_packages(mut packages: Vec<Package>) -> Vec<Package> {
    drop_os_owned_duplicates(&mut packages);
    merge_declared_os_packages(&mut packages);
    packages.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    packages.dedup_by(|a, b| a.sort_key() == b.sort_key());
    merge_language_duplicates(packages)
}

/// A language package whose metadata files an OS package owns (Debian's `python3-yaml` ships
/// `PyYAML-*.dist-info`) is the OS package: reporting both doubles every advisory match, the
/// false positive peers are known for. The OS package stays, matched by its distro's data.
fn drop_os_owned_duplicates(packages: &mut Vec<Package>) {
    let owned: std::collections::HashSet<&str> = packages
        .iter()
        .filter(|p| p.ecosystem.is_os())
        .flat_map(|p| p.files.iter().map(String::as_str))
        .collect();
    if owned.is_empty() {
        return;
    }
    let duplicate: Vec<bool> = packages
        .iter()
        .map(|p| !p.ecosystem.is_os() && p.found_in.iter().all(|f| owned.contains(f.as_str())))
        .collect();
    let mut flags = duplicate.into_iter();
    packages.retain(|_| !flags.next().unwrap_or(false));
}

/// An OS package an SBOM in the image lists (declared) and the package database lists too
/// (installed) is one package: the SBOM's location joins the installed one. So is a package
/// the rpm manifest of a Mariner / Azure Linux image lists when an rpm database lists it too
/// (the manifest is written from that database at build time). Two databases listing one
/// name stay two installations.
fn merge_declared_os_packages(packages: &mut Vec<Package>) {
    use bulwark_types::Evidence;
    let listed_only = |p: &Package| {
        p.evidence == Evidence::Declared
            || (!p.found_in.is_empty()
                && p.found_in
                    .iter()
                    .all(|f| f.ends_with(crate::rpm_manifest::MANIFEST)))
    };
    let installed: HashMap<(Ecosystem, &str, &str), usize> = packages
        .iter()
        .enumerate()
        .filter(|(_, p)| {
            p.ecosystem.is_os() && p.evidence == Evidence::Installed && !listed_only(p)
        })
        .map(|(i, p)| ((p.ecosystem, p.name.as_str(), p.version.as_str()), i))
        .collect();
    if installed.is_empty() {
        return;
    }
    let mut joins: Vec<(usize, usize)> = Vec::new();
    for (i, p) in packages.iter().enumerate() {
        if p.ecosystem.is_os() && listed_only(p) {
            if let Some(&into) = installed.get(&(p.ecosystem, p.name.as_str(), p.version.as_str()))
            {
                joins.push((i, into));
            }
        }
    }
    if joins.is_empty() {
        return;
    }
    for &(from, into) in &joins {
        let found = packages[from].found_in.clone();
        packages[into].found_in.extend(found);
        packages[into].found_in.sort();
        packages[into].found_in.dedup();
    }
    let mut drop = vec![false; packages.len()];
    for (from, _) in joins {
        drop[from] = true;
    }
    let mut flags = drop.into_iter();
    packages.retain(|_| !flags.next().unwrap_or(false));
}

/// A language package seen in several places is one package with several locations: installed
/// under `node_modules` and pinned in the lockfile beside it, or installed by pip as
/// `Django 3.2` and declared in `requirements.txt` as `Django==3.2.0`. Counting it twice
/// doubles every finding and lets a VEX statement about one copy leave the other open.
///
/// What is installed is the truth: entries with the same normalised name (PEP 503 for PyPI,
/// ASCII case ignored for Composer and NuGet) whose versions are equal under the ecosystem's
/// rules (`bulwark-version`) become one package, which keeps an installed entry's name,
/// version and purl, every location, and the earliest layer of its installed entries. A
/// declared entry with no installed counterpart stays, marked
/// [`bulwark_types::Evidence::Declared`]. OS packages are never merged: two databases listing
/// one name are two installations.
fn merge_language_duplicates(mut packages: Vec<Package>) -> Vec<Package> {
    // Grouped by sorting in place and merged back into the same buffer: a map of groups
    // holds a small Vec per name, several times the size of the package itself when, as
    // usual, most names are seen once (a 1M-entry lockfile took 2.8 GB that way).
    packages.sort_by_cached_key(group_key);
    let mut slots: Vec<Option<Package>> = packages.into_iter().map(Some).collect();
    let mut written = 0;
    let mut start = 0;
    let mut key = slots.first().and_then(|p| p.as_ref()).and_then(group_key);
    while start < slots.len() {
        let mut end = start + 1;
        let mut next_key = None;
        while end < slots.len() {
            next_key = slots[end].as_ref().and_then(group_key);
            if key.is_none() || next_key != key {
                break;
            }
            end += 1;
        }
        if end == slots.len() {
            next_key = None;
        }
        let group: Vec<Package> = slots[start..end]
            .iter_mut()
            .filter_map(Option::take)
            .collect();
        let merged = match &key {
            None => group,
            Some((ecosystem, _, _)) => merge_group(*ecosystem, group),
        };
        // Never more packages than the run held, so this only fills slots already emptied.
        for p in merged {
            slots[written] = Some(p);
            written += 1;
        }
        start = end;
        key = next_key;
    }
    slots.truncate(written);
    // `filter_map`, not `flatten`: collecting a `FilterMap` over the vector's own iterator
    // reuses its buffer, while `Flatten` copies every package into a second one (428 MB more
    // at the peak of a million-entry lockfile).
    #[allow(clippy::filter_map_identity)]
    let mut out: Vec<Package> = slots.into_iter().filter_map(|p| p).collect();
    out.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    out
}

type GroupKey = (Ecosystem, Option<String>, String);

/// Which packages may be one: `None` for OS packages (two databases listing one name are two
/// installations), else the ecosystem and the normalised namespace and name.
fn group_key(p: &Package) -> Option<GroupKey> {
    if p.ecosystem.is_os() {
        return None;
    }
    let namespace = p
        .purl
        .namespace
        .as_deref()
        .map(|ns| p.ecosystem.normalize_name(ns));
    Some((p.ecosystem, namespace, p.ecosystem.normalize_name(&p.name)))
}

/// The packages of one name, merged into one per equal version.
fn merge_group(ecosystem: Ecosystem, mut group: Vec<Package>) -> Vec<Package> {
    // Installed entries first, so they become the clusters declared ones join.
    group.sort_by(|a, b| (a.evidence, a.sort_key()).cmp(&(b.evidence, b.sort_key())));
    let scheme = ecosystem.version_scheme();
    let mut clusters: Vec<Vec<Package>> = Vec::new();
    let mut by_version: HashMap<String, usize> = HashMap::new();
    let mut comparisons = 0usize;
    // A declared entry that names no version (a range in `requirements.txt`, a project's
    // reference whose version a `Directory.Packages.props` sets, an unresolvable Maven
    // property) is the package of that name found elsewhere: the installed copy first, else
    // the declared version. Only alone does it stay, with the version unknown.
    let (unknown, group): (Vec<Package>, Vec<Package>) = group
        .into_iter()
        .partition(|p| p.version.is_empty() && p.evidence == Evidence::Declared);
    for p in group {
        let found = by_version.get(&p.version).copied().or_else(|| {
            clusters.iter().position(|c| {
                if comparisons >= MAX_VERSION_COMPARISONS_PER_NAME {
                    return false;
                }
                comparisons += 1;
                bulwark_version::compare(scheme, &c[0].version, &p.version)
                    .is_ok_and(|o| o == std::cmp::Ordering::Equal)
            })
        });
        match found {
            Some(i) => {
                by_version.insert(p.version.clone(), i);
                clusters[i].push(p);
            }
            None => {
                by_version.insert(p.version.clone(), clusters.len());
                clusters.push(vec![p]);
            }
        }
    }
    match clusters.first_mut() {
        Some(first) => first.extend(unknown),
        None if !unknown.is_empty() => clusters.push(unknown),
        None => {}
    }
    clusters.into_iter().filter_map(merge_cluster).collect()
}

/// Past this many version comparisons for one package name (a hostile image with thousands of
/// versions of one name), further versions are merged only when written identically.
const MAX_VERSION_COMPARISONS_PER_NAME: usize = 4096;

/// One package from entries that name the same one; the first is the one to keep (installed
/// if any is).
fn merge_cluster(cluster: Vec<Package>) -> Option<Package> {
    let mut entries = cluster.into_iter();
    let mut kept = entries.next()?;
    for p in entries {
        kept.found_in.extend(p.found_in);
        // The installed copy's layer is where the package arrived; a lockfile copied in an
        // earlier layer only announced it.
        if p.evidence == kept.evidence && p.layer.index < kept.layer.index {
            kept.layer = p.layer;
        }
        // An installed manifest cannot tell dev from prod; a lockfile can.
        kept.dev |= p.dev;
        if kept.role == bulwark_types::PackageRole::Dependency {
            kept.role = p.role;
        }
        kept.inferred &= p.inferred;
        for l in p.licenses {
            if !kept.licenses.contains(&l) {
                kept.licenses.push(l);
            }
        }
        for d in p.dependencies {
            if !kept.dependencies.contains(&d) {
                kept.dependencies.push(d);
            }
        }
        kept.files.extend(p.files);
    }
    kept.found_in.sort();
    kept.found_in.dedup();
    Some(kept)
}

/// A record as the inventory lists it, before the image-wide joins.
fn to_package(
    record: &PackageRecord,
    os: Option<&OsRelease>,
    layer: LayerRef,
    path: &str,
) -> Package {
    Package {
        ecosystem: record.ecosystem,
        name: record.name.clone(),
        version: record.version.clone(),
        arch: record.arch.clone(),
        source: record.source.clone(),
        licenses: record.licenses.clone(),
        purl: purl_for(record, os),
        layer,
        found_in: vec![format!("/{path}")],
        files: record.files.clone(),
        dev: record.dev,
        inferred: record.inferred,
        dependencies: record.dependencies.clone(),
        evidence: record.evidence,
        role: record.role,
    }
}

/// The purl peers write for each OS package type: namespace from os-release `ID`, `arch` and
/// `distro` qualifiers, rpm's epoch as a qualifier, and the source package as `upstream`.
fn purl_for(record: &PackageRecord, os: Option<&OsRelease>) -> Purl {
    let ty = record.ecosystem.purl_type();
    let os_ns = |default: &str| {
        os.map(|o| o.id.clone())
            .unwrap_or_else(|| default.to_string())
    };
    let upstream = record.source.as_ref().and_then(|s| {
        if s.name == record.name && s.version == record.version {
            None
        } else if s.version.is_empty() || s.version == record.version {
            Some(s.name.clone())
        } else {
            Some(format!("{}@{}", s.name, s.version))
        }
    });
    let distro = os.map(|o| o.purl_distro()).unwrap_or_default();
    let arch = record.arch.clone().unwrap_or_default();
    let info = record.ecosystem.info();
    if let Some(default_namespace) = info.default_purl_namespace {
        let namespace = os_ns(default_namespace);
        if info.epoch_qualifier {
            let version = match record.version.split_once(':') {
                Some((_, rest)) if record.epoch.is_some() => rest.to_string(),
                _ => record.version.clone(),
            };
            let source_rpm = record
                .source
                .as_ref()
                // The source rpm's file name, as syft writes `upstream` for rpm.
                .map(|s| format!("{}-{}.src.rpm", s.name, s.version))
                .unwrap_or_default();
            return Purl::new(ty, Some(&namespace), &record.name, Some(&version))
                .with_qualifier("arch", arch)
                .with_qualifier(
                    "epoch",
                    record.epoch.map(|e| e.to_string()).unwrap_or_default(),
                )
                .with_qualifier("distro", distro)
                .with_qualifier("upstream", source_rpm);
        }
        return Purl::new(ty, Some(&namespace), &record.name, Some(&record.version))
            .with_qualifier("arch", arch)
            .with_qualifier("distro", distro)
            .with_qualifier("upstream", upstream.unwrap_or_default());
    }
    let (namespace, name) = match &record.namespace {
        Some(ns) => (Some(ns.clone()), record.name.clone()),
        None if info.namespace_in_name => match record.name.rsplit_once('/') {
            Some((ns, n)) => (Some(ns.to_string()), n.to_string()),
            None => (None, record.name.clone()),
        },
        None => (None, record.name.clone()),
    };
    // The purl spec normalizes PyPI names the way PEP 503 does.
    let name = info.purl_names.normalize(&name);
    // An empty version is an unknown one (a requirement without a pin): no `@` in the purl.
    let version = Some(record.version.as_str()).filter(|v| !v.is_empty());
    let purl = record.qualifiers.iter().fold(
        Purl::new(ty, namespace.as_deref(), &name, version),
        |purl, (key, value)| purl.with_qualifier(key, value.clone()),
    );
    if info.arch_distro_qualifiers {
        return purl
            .with_qualifier("arch", arch)
            .with_qualifier("distro", distro);
    }
    purl
}

/// A language record's purl, for the analyzers' tests.
#[cfg(test)]
pub(crate) fn purl_of(record: &PackageRecord) -> Purl {
    purl_for(record, None)
}

#[cfg(test)]
mod tests;
