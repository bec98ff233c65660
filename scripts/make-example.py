#!/usr/bin/env python3
"""Make the small bundled example image (examples/debian-mini) from a real test image.

Takes the `minbase` image that scripts/build-test-images.py builds from real Debian
bookworm packages, keeps only the files package analysis reads (os-release, the dpkg
database and file lists, copyright files) and the whiteouts that touch them, and writes
the result as a small OCI layout that is committed, so the README's first command works
offline on a fresh clone. Layer order, history and the package changes between layers
(install in layer 1, purge in layer 2) are those of the real image.

Usage: python3 scripts/make-example.py [--images DIR] [--out DIR]
"""

import argparse
import gzip
import hashlib
import io
import json
import os
import tarfile

REPO = os.path.dirname(os.path.dirname(os.path.realpath(__file__)))


def keep(name: str) -> bool:
    name = name.lstrip("./")
    base = os.path.basename(name)
    target = base[4:] if base.startswith(".wh.") else base
    path = os.path.join(os.path.dirname(name), target)
    return (
        path in ("etc/os-release", "usr/lib/os-release", "etc/debian_version", "var/lib/dpkg/status")
        or (path.startswith("var/lib/dpkg/info/") and path.endswith(".list"))
        or (path.startswith("usr/share/doc/") and path.endswith("/copyright"))
    )


def blob(layout: str, digest: str) -> bytes:
    algo, hexd = digest.split(":")
    with open(os.path.join(layout, "blobs", algo, hexd), "rb") as f:
        return f.read()


def put(layout: str, data: bytes) -> str:
    hexd = hashlib.sha256(data).hexdigest()
    path = os.path.join(layout, "blobs", "sha256", hexd)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)
    return "sha256:" + hexd


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--images", default=os.environ.get("BULWARK_TESTIMAGES", os.path.join(REPO, ".cache/testimages")))
    ap.add_argument("--out", default=os.path.join(REPO, "examples/debian-mini"))
    args = ap.parse_args()
    src = os.path.join(args.images, "minbase", "oci")
    index = json.loads(open(os.path.join(src, "index.json")).read())
    manifest = json.loads(blob(src, index["manifests"][0]["digest"]))
    config = json.loads(blob(src, manifest["config"]["digest"]))

    if os.path.exists(args.out):
        for root, dirs, files in os.walk(args.out, topdown=False):
            for f in files:
                os.remove(os.path.join(root, f))
            for d in dirs:
                os.rmdir(os.path.join(root, d))
    os.makedirs(args.out, exist_ok=True)
    layers, diff_ids = [], []
    for desc in manifest["layers"]:
        raw = gzip.decompress(blob(src, desc["digest"]))
        out = io.BytesIO()
        with tarfile.open(fileobj=io.BytesIO(raw)) as tin, tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as tout:
            for member in tin:
                if member.isdir() or not keep(member.name):
                    continue
                data = tin.extractfile(member) if member.isfile() else None
                if member.islnk():
                    continue
                tout.addfile(member, data)
        tar_bytes = out.getvalue()
        diff_ids.append("sha256:" + hashlib.sha256(tar_bytes).hexdigest())
        gz = gzip.compress(tar_bytes, compresslevel=9, mtime=0)
        layers.append({"mediaType": desc["mediaType"], "digest": put(args.out, gz), "size": len(gz)})
    config["rootfs"]["diff_ids"] = diff_ids
    config.setdefault("config", {}).setdefault("Labels", {})["org.opencontainers.image.description"] = (
        "bulwark example: package metadata of a real Debian 12 minbase image (see scripts/make-example.py)"
    )
    config_bytes = json.dumps(config, sort_keys=True, separators=(",", ":")).encode()
    manifest = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": put(args.out, config_bytes), "size": len(config_bytes)},
        "layers": layers,
    }
    manifest_bytes = json.dumps(manifest, separators=(",", ":")).encode()
    md = put(args.out, manifest_bytes)
    with open(os.path.join(args.out, "oci-layout"), "w") as f:
        f.write('{"imageLayoutVersion":"1.0.0"}')
    with open(os.path.join(args.out, "index.json"), "w") as f:
        json.dump({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": [{
            "mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": md, "size": len(manifest_bytes),
            "annotations": {"org.opencontainers.image.ref.name": "debian-mini"},
        }]}, f)
    total = sum(l["size"] for l in layers)
    print(f"wrote {args.out}: {len(layers)} layers, {total} bytes of layers")


if __name__ == "__main__":
    main()
