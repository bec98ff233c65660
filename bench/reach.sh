#!/usr/bin/env bash
# Benchmark: the cost of `--reachability` (issue 16) and what it decides. For each test image
# present (minbase, python, lang, big; build them with scripts/build-test-images.py), the median
# wall time and peak RSS of `bulwark image --scanners vuln --no-cache` with and without
# `--reachability`, their ratio, and the share of findings (and of distinct packages with
# findings) marked reachable / unreachable / unknown, with the most common reasons.
#
# usage: bash bench/reach.sh [--repeats N] [--advisories DIR]
#   binary: $BULWARK_BIN, else target/release/bulwark, else target/debug/bulwark
#   advisories: imported once into a temporary database (default ../shared/data/advisories)
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO"
OUT="${BULWARK_TESTIMAGES:-$REPO/.cache/testimages}"
REPEATS=3
ADVISORIES="$REPO/../shared/data/advisories"
while [ $# -gt 0 ]; do
  case "$1" in
    --repeats) REPEATS="$2"; shift 2 ;;
    --advisories) ADVISORIES="$2"; shift 2 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done
BULWARK="${BULWARK_BIN:-}"
[ -n "$BULWARK" ] || { [ -x target/release/bulwark ] && BULWARK=target/release/bulwark; } || BULWARK=target/debug/bulwark
[ -x "$BULWARK" ] || { echo "no bulwark binary at $BULWARK (cargo build -p bulwark-cli)" >&2; exit 2; }
tmp="$(mktemp -d)"; trap 'rm -rf "$tmp"' EXIT
"$BULWARK" db import --db-dir "$tmp/db" "$ADVISORIES" >/dev/null 2>&1

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
measure() { # name, command...
  local name=$1; shift
  : > "$tmp/$name.t"
  for _ in $(seq "$REPEATS"); do
    /usr/bin/time -f '%e %M' -o "$tmp/one" "$@" >/dev/null 2>&1 || true
    cat "$tmp/one" >> "$tmp/$name.t"
  done
  echo "$name $(cut -d' ' -f1 "$tmp/$name.t" | median) $(cut -d' ' -f2 "$tmp/$name.t" | median)"
}

# A variant of minbase whose entrypoint is one ELF program (`sleep infinity`, a pause
# container), not a shell: there the closure is closed and unlinked libraries can be judged.
if [ -f "$OUT/minbase/oci/index.json" ]; then
  mkdir -p "$tmp/images/minbase-sleep"
  cp -a "$OUT/minbase/oci" "$tmp/images/minbase-sleep/oci"
  python3 - "$tmp/images/minbase-sleep/oci" <<'PY'
import hashlib, json, os, sys
oci = sys.argv[1]
def blob(digest):
    return os.path.join(oci, "blobs", *digest.split(":"))
def put(data):
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    with open(blob(digest), "wb") as f:
        f.write(data)
    return digest, len(data)
index = json.load(open(os.path.join(oci, "index.json")))
desc = index["manifests"][0]
manifest = json.load(open(blob(desc["digest"])))
config = json.load(open(blob(manifest["config"]["digest"])))
config["config"]["Entrypoint"] = ["sleep"]
config["config"]["Cmd"] = ["infinity"]
manifest["config"]["digest"], manifest["config"]["size"] = put(json.dumps(config).encode())
desc["digest"], desc["size"] = put(json.dumps(manifest).encode())
json.dump(index, open(os.path.join(oci, "index.json"), "w"))
PY
fi

echo "binary: $BULWARK ($("$BULWARK" --version)), $REPEATS runs each, $(date -u +%FT%TZ)"
for image in minbase minbase-sleep python lang big; do
  oci="$OUT/$image/oci"
  [ "$image" = minbase-sleep ] && oci="$tmp/images/minbase-sleep/oci"
  [ -f "$oci/index.json" ] || continue
  cat "$oci"/blobs/sha256/* > /dev/null   # page cache
  args=(image "oci:$oci" --scanners vuln --no-cache --quiet --format json --db-dir "$tmp/db")
  base=$(measure "$image-plain" "$BULWARK" "${args[@]}" -o "$tmp/$image-plain.json")
  reach=$(measure "$image-reach" "$BULWARK" "${args[@]}" --reachability -o "$tmp/$image-reach.json")
  python3 - "$image" "$base" "$reach" "$tmp/$image-reach.json" <<'PY'
import collections, json, sys
image, base, reach, path = sys.argv[1:5]
_, bt, bm = base.split(); _, rt, rm = reach.split()
report = json.load(open(path))
config = report.get("image", {})
findings = report.get("vulnerabilities", [])
by_finding = collections.Counter(f.get("reachability", {}).get("verdict", "none") for f in findings)
packages = {}
for f in findings:
    packages[f["package"]["purl"]] = f.get("reachability", {})
by_package = collections.Counter(r.get("verdict", "none") for r in packages.values())
reasons = collections.Counter(
    r.get("reason", "").split(":")[0][:90] for r in packages.values() if r.get("verdict") == "unknown"
)
n = max(len(findings), 1)
print(f"\n## {image}")
print(f"| run | wall s | peak RSS KiB |\n| --- | --- | --- |")
print(f"| without --reachability | {bt} | {bm} |\n| with --reachability | {rt} | {rm} |")
print(f"ratio (with/without): {float(rt) / max(float(bt), 1e-9):.2f}x wall, {int(rm) / max(int(bm), 1):.2f}x RSS")
print(f"findings: {len(findings)}; " + ", ".join(
    f"{v} {c} ({100 * c / n:.0f}%)" for v, c in sorted(by_finding.items())))
print(f"packages with findings: {len(packages)}; " + ", ".join(f"{v} {c}" for v, c in sorted(by_package.items())))
for reason, c in reasons.most_common(4):
    print(f"  unknown x{c}: {reason}")
PY
done
