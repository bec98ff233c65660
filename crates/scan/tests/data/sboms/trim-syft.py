#!/usr/bin/env python3
"""Trims syft's output for a small fixture; every package and the OS stay.

CycloneDX: keeps each component's type, name, version, purl, bom-ref and its
syft:package:type / syft:location:0:layerID properties (drops cpe, licences, publisher, file
locations); SPDX: drops the `files` list, every relationship that names a file and the package-to-package
DEPENDENCY_OF ones, and each package's licence, supplier, file list (sourceInfo) and verification
code.
The scanned path is replaced by the image's path relative to the repository's test images.

    python3 trim-syft.py cdx  minbase.cdx.json  > syft-minbase.cdx.json
    python3 trim-syft.py spdx minbase.spdx.json > syft-minbase.spdx.json
"""
import json
import sys

kind, path = sys.argv[1], sys.argv[2]
doc = json.load(open(path))
REL = ".cache/testimages/minbase/docker-archive.tar"
# syft names the image by the absolute path it was given; keep only the checkout-relative part.
ABS = next((v for v in (doc.get("metadata", {}).get("component", {}).get("name"), doc.get("name"))
            if isinstance(v, str) and v.endswith("/" + REL)), REL)
KEEP_PROPS = {"syft:package:type", "syft:location:0:layerID", "syft:distro:id", "syft:distro:versionID",
              "syft:distro:prettyName", "syft:distro:versionCodename"}
if kind == "cdx":
    doc["metadata"]["component"]["name"] = REL
    for c in doc["components"]:
        for k in ["cpe", "licenses", "publisher", "externalReferences", "swid"]:
            c.pop(k, None)
        c["properties"] = [p for p in c.get("properties", []) if p["name"] in KEEP_PROPS]
else:
    files = {f["SPDXID"] for f in doc.pop("files", [])}
    doc["relationships"] = [r for r in doc["relationships"]
                            if r["spdxElementId"] not in files and r["relatedSpdxElement"] not in files
                            and r["relationshipType"] != "DEPENDENCY_OF"]
    doc["name"] = REL
    for p in doc["packages"]:
        if p.get("name") == ABS:
            p["name"] = REL
        for k in ["licenseConcluded", "licenseDeclared", "copyrightText", "supplier", "originator",
                  "sourceInfo", "packageVerificationCode"]:
            p.pop(k, None)
        if "filesAnalyzed" in p:
            p["filesAnalyzed"] = False
        p["externalRefs"] = [r for r in p.get("externalRefs", []) if r.get("referenceType") == "purl"]
    doc.pop("hasExtractedLicensingInfos", None)
out = json.dumps(doc, indent=1)
out = out.replace(ABS, REL)
sys.stdout.write(out + "\n")
