#!/usr/bin/env python3
"""Writes trivy-minbase.cdx.json: a HAND-WRITTEN CycloneDX SBOM in the shape Trivy emits
(`trivy image --format cyclonedx`), for the minbase test image. Trivy itself was not run.

Shape followed: Trivy's documentation (https://trivy.dev/latest/docs/supply-chain/sbom/,
"CycloneDX" result: metadata.component of type container with aquasecurity:trivy:* properties)
and Trivy's own golden file aquasecurity/trivy integration/testdata/fluentd-multiple-lockfiles.cdx.json.golden
(an operating-system component with aquasecurity:trivy:Class/Type, deb purls with
distro=debian-<debian_version> and an epoch qualifier, SrcName/SrcVersion/SrcRelease/SrcEpoch
properties). Package names, versions, source packages and layers come from bulwark's own JSON
report of the same image:

    bulwark image docker-archive:.cache/testimages/minbase/docker-archive.tar -f json -o minbase.bulwark.json
    python3 make-trivy-shaped.py minbase.bulwark.json 12.15 > trivy-minbase.cdx.json

(12.15 is the image's /etc/debian_version, which Trivy reports as the Debian version.)
"""
import json
import sys
from urllib.parse import quote

report = json.load(open(sys.argv[1]))
debian_version = sys.argv[2]
distro = f"debian-{debian_version}"


def prop(name, value):
    return {"name": f"aquasecurity:trivy:{name}", "value": value}


diff_ids = sorted({l["diff_id"] for l in report["layers"] if l.get("diff_id")})
image = report["image"]
tag = image["repo_tags"][0]
components = [{
    "bom-ref": "3ff14136-e09f-4df9-80ea-000000000002",
    "type": "operating-system",
    "name": "debian",
    "version": debian_version,
    "properties": [prop("Class", "os-pkgs"), prop("Type", "debian")],
}]
refs = []
for p in report["packages"]:
    if p["ecosystem"] != "deb":
        continue
    version = p["version"]
    epoch, _, bare = version.rpartition(":") if ":" in version else ("", "", version)
    qualifiers = f"arch={p.get('arch') or 'all'}&distro={distro}"
    if epoch:
        qualifiers += f"&epoch={epoch}"
    purl = f"pkg:deb/debian/{p['name']}@{quote(bare, safe='.-~:')}?{qualifiers}"
    props = [
        prop("LayerDiffID", p["layer"]["diff_id"]),
        prop("PkgID", f"{p['name']}@{version}"),
        prop("PkgType", "debian"),
    ]
    src = p.get("source") or {"name": p["name"], "version": version}
    src_version = src["version"]
    src_epoch, _, src_version = src_version.rpartition(":") if ":" in src_version else ("", "", src_version)
    src_ver, _, src_release = src_version.rpartition("-") if "-" in src_version else (src_version, "", "")
    if src_epoch:
        props.append(prop("SrcEpoch", src_epoch))
    props.append(prop("SrcName", src["name"]))
    if src_release:
        props.append(prop("SrcRelease", src_release))
    props.append(prop("SrcVersion", src_ver))
    c = {"bom-ref": purl, "type": "library", "name": p["name"], "version": version}
    # Licences are left out to keep the fixture small; matching does not read them.
    c["purl"] = purl
    c["properties"] = props
    components.append(c)
    refs.append(purl)

bom = {
    "$schema": "http://cyclonedx.org/schema/bom-1.6.schema.json",
    "bomFormat": "CycloneDX",
    "specVersion": "1.6",
    "serialNumber": "urn:uuid:3ff14136-e09f-4df9-80ea-000000000163",
    "version": 1,
    "metadata": {
        "timestamp": "2026-12-07T19:00:00+00:00",
        "tools": {"components": [{"type": "application", "group": "aquasecurity", "name": "trivy", "version": "dev"}]},
        "component": {
            "bom-ref": "3ff14136-e09f-4df9-80ea-000000000001",
            "type": "container",
            "name": tag,
            "properties": [prop("DiffID", d) for d in diff_ids]
            + [prop("ImageID", image["config_digest"]), prop("RepoTag", tag), prop("SchemaVersion", "2")],
        },
    },
    "components": components,
    "dependencies": [
        {"ref": "3ff14136-e09f-4df9-80ea-000000000001", "dependsOn": ["3ff14136-e09f-4df9-80ea-000000000002"]},
        {"ref": "3ff14136-e09f-4df9-80ea-000000000002", "dependsOn": refs},
    ],
}
json.dump(bom, sys.stdout, indent=2)
sys.stdout.write("\n")
