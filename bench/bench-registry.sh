#!/usr/bin/env bash
# Benchmark: scanning the `big` test image from a local registry vs from its OCI layout on
# disk, in one run, and a warm rescan from the registry vs the cold one. See bench/README.md.
#
# The registry is Debian's docker-registry (CNCF distribution) on 127.0.0.1, plain HTTP
# (bulwark --insecure), filesystem storage in a temp dir; the image is pushed with skopeo.
# Targets: registry cold / layout cold <= 1.20; registry warm / registry cold <= 0.05.
#
# usage: bash bench/bench-registry.sh [--no-build] [--repeats N]
#   --no-build   do not run cargo; use the release binary if present (or $BULWARK_BIN)
#   --repeats N  timed runs per measurement (default 3; the median is reported)
# env: BULWARK_TESTIMAGES (image cache dir), BULWARK_BIN, CARGO_TARGET_DIR
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
    -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
  shift
done

say() { printf '\n== %s\n' "$*"; }
export DEBIAN_FRONTEND=noninteractive
need=()
for tool in docker-registry:docker-registry skopeo:skopeo time:time; do
  if [ "${tool%%:*}" = time ]; then [ -x /usr/bin/time ] || need+=(time); continue; fi
  command -v "${tool%%:*}" >/dev/null 2>&1 || need+=("${tool##*:}")
done
if [ ${#need[@]} -gt 0 ]; then
  echo "+ apt-get install -y ${need[*]}"
  apt-get update -qq && apt-get install -y -qq "${need[@]}" >/dev/null
fi

say "test image (cached)"
python3 scripts/build-test-images.py --out "$OUT" big
OCI="$OUT/big/oci"

say "bulwark"
BULWARK="${BULWARK_BIN:-${CARGO_TARGET_DIR:-$REPO/target}/release/bulwark}"
if [ "$BUILD" = 1 ] && [ -z "${BULWARK_BIN:-}" ]; then
  echo "+ cargo build --release -p bulwark-cli"
  cargo build --release -p bulwark-cli
fi
[ -x "$BULWARK" ] || { echo "no bulwark binary at $BULWARK" >&2; exit 2; }

TMP="$(mktemp -d)"
REG_PID=""
cleanup() {
  if [ -n "$REG_PID" ]; then kill "$REG_PID" 2>/dev/null || true; wait "$REG_PID" 2>/dev/null || true; fi
  rm -rf "$TMP"
}
trap cleanup EXIT

say "registry"
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat > "$TMP/registry.yml" <<EOF
version: 0.1
log:
  level: warn
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $TMP/storage
http:
  addr: 127.0.0.1:$PORT
  secret: bulwark-bench
EOF
docker-registry serve "$TMP/registry.yml" > "$TMP/registry.log" 2>&1 &
REG_PID=$!
for _ in $(seq 1 100); do
  if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then break; fi
  sleep 0.1
done
echo "+ skopeo copy oci:$OCI:latest docker://127.0.0.1:$PORT/big:latest"
skopeo --insecure-policy copy --quiet --dest-tls-verify=false "oci:$OCI:latest" "docker://127.0.0.1:$PORT/big:latest"
REF="127.0.0.1:$PORT/big:latest"

median() { sort -g | awk '{a[NR]=$1} END {if (NR%2) {print a[(NR+1)/2]} else {printf "%.3f\n", (a[NR/2]+a[NR/2+1])/2}}'; }
declare -A SECS RSS CMDS RAW
ORDER=()
# measure NAME PRE CMD: CMD timed REPEATS times, PRE run untimed before each.
measure() {
  local name="$1" pre="$2" cmd="$3" i
  : > "$TMP/$name.times"; : > "$TMP/$name.rss"
  echo "+ [$name] $cmd"
  for ((i = 1; i <= REPEATS; i++)); do
    [ -n "$pre" ] && bash -c "$pre"
    /usr/bin/time -f '%e %M' -o "$TMP/t" bash -c "$cmd"
    read -r s k < <(tail -n 1 "$TMP/t")
    echo "$s" >> "$TMP/$name.times"; echo "$k" >> "$TMP/$name.rss"
    printf '    run %d: %ss, %s KiB\n' "$i" "$s" "$k"
  done
  SECS[$name]=$(median < "$TMP/$name.times")
  RSS[$name]=$(median < "$TMP/$name.rss" | awk '{printf "%.1f", $1/1024}')
  RAW[$name]=$(paste -sd' ' "$TMP/$name.times")
  CMDS[$name]="$cmd"
  ORDER+=("$name")
}

q() { printf '%q' "$1"; }
CACHE="$TMP/cache"
COMMON="--format cyclonedx --output /dev/null --quiet"
LAYOUT_CMD="$(q "$BULWARK") image oci:$(q "$OCI") $COMMON --cache-dir $(q "$CACHE")"
REG_CMD="$(q "$BULWARK") image $REF --insecure $COMMON --cache-dir $(q "$CACHE")"
# page cache warm for both: the layout's blobs and the registry's copies
cat "$OCI"/blobs/sha256/* > /dev/null
find "$TMP/storage" -type f -name data -exec cat {} + > /dev/null

say "measuring (median of $REPEATS)"
# interleave so that machine load drifts hit both sides alike
measure layout_cold "rm -rf $(q "$CACHE")" "$LAYOUT_CMD"
measure registry_cold "rm -rf $(q "$CACHE")" "$REG_CMD"
bash -c "$REG_CMD"   # prime the cache from the registry
measure registry_warm "" "$REG_CMD"

ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.3f", a / b}'; }
verdict() { awk -v r="$1" -v t="$2" 'BEGIN {print (r <= t) ? "PASS" : "FAIL"}'; }
OVER=$(ratio "${SECS[registry_cold]}" "${SECS[layout_cold]}")
WARM=$(ratio "${SECS[registry_warm]}" "${SECS[registry_cold]}")

DATE=$(date -u +%Y-%m-%d)
RESULT="bench/results/registry-$DATE.md"
mkdir -p bench/results
{
  echo "## registry benchmark $(date -u +%Y-%m-%dT%H:%M:%SZ) (commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown))"
  echo
  echo "Image: \`big\` ($(du -sh "$OCI" | cut -f1) OCI layout), pushed with skopeo to a local docker-registry"
  echo "($(docker-registry --version 2>/dev/null | awk '{print $NF}')) over plain HTTP on 127.0.0.1. Machine: $(nproc) cores,"
  echo "$(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo). Blobs in page cache. Median of $REPEATS runs. $($BULWARK --version)."
  echo
  echo "| measurement | median s | runs (s) | peak RSS MiB |"
  echo "| --- | ---: | --- | ---: |"
  for n in "${ORDER[@]}"; do
    echo "| $n | ${SECS[$n]} | ${RAW[$n]} | ${RSS[$n]} |"
  done
  echo
  echo "| ratio | value | target | result |"
  echo "| --- | ---: | --- | --- |"
  echo "| registry_cold / layout_cold (time) | $OVER | <= 1.20 | $(verdict "$OVER" 1.20) |"
  echo "| registry_warm / registry_cold (time) | $WARM | <= 0.05 | $(verdict "$WARM" 0.05) |"
  echo
  echo "Commands (\`/usr/bin/time -f '%e %M' bash -c CMD\`; cold runs empty the cache dir first):"
  echo
  for n in "${ORDER[@]}"; do
    echo "- $n: \`$(echo "${CMDS[$n]}" | sed "s#$REPO#<repo>#g; s#$TMP#<tmp>#g")\`"
  done
  echo
} | tee -a "$RESULT"
echo "results appended to $RESULT"
