#!/usr/bin/env bash
# Misconfiguration benchmark: `bulwark config DIR` vs checkov on the same real public files
# (bench/misconfig/corpus, sources in corpus/ATTRIBUTION.md), once on the Dockerfile corpus and
# once on the Kubernetes corpus. Each tool scans a whole corpus directory in one process; the
# two tools alternate run by run (so a load spike from other jobs hits both), and the table
# reports the median wall time and peak RSS (GNU time -v) of RUNS runs, the finding counts and
# the checkov/bulwark ratios.
#
# Usage: bench/misconfig/bench-misconfig.sh
# Env:   BULWARK=path/to/bulwark (default: $CARGO_TARGET_DIR or target, release/bulwark;
#                                  built with `cargo build --release -p bulwark-cli` if missing)
#        CHECKOV=path/to/checkov (default: /tmp/checkov-venv/bin/checkov, pip-installed there
#                                  if missing)
#        RUNS=5
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
runs=${RUNS:-5}

bulwark=${BULWARK:-}
if [[ -z $bulwark ]]; then
  bulwark=${CARGO_TARGET_DIR:-$repo/target}/release/bulwark
  [[ -x $bulwark ]] || (cd "$repo" && cargo build --release -p bulwark-cli)
fi
checkov=${CHECKOV:-/tmp/checkov-venv/bin/checkov}
if [[ ! -x $checkov ]]; then
  venv=$(dirname "$(dirname "$checkov")")
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q checkov
fi
[[ -x /usr/bin/time ]] || { echo "needs GNU time at /usr/bin/time (apt-get install time)" >&2; exit 2; }

# measure CMD...: prints "wall_seconds max_rss_kib" for one run (output discarded; both tools
# exit non-zero when they find something, which is not a failure here). Peak RSS comes from
# GNU time; wall time from the nanosecond clock around it, because time -v rounds to 10 ms and
# bulwark finishes in about that.
measure() {
  local log start end
  log=$(mktemp)
  start=$(date +%s%N)
  /usr/bin/time -v "$@" >/dev/null 2>"$log" || true
  end=$(date +%s%N)
  awk -F': ' -v ns=$((end - start)) '
    /Maximum resident set size/ { r = $2 }
    END { printf "%.3f %d\n", ns / 1e9, r }' "$log"
  rm -f "$log"
}

median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

# count_bulwark DIR: "findings errors files" from one JSON run (errors from standard error).
count_bulwark() {
  local err json
  err=$(mktemp)
  json=$("$bulwark" config "$1" --format json 2>"$err") || true
  local findings
  findings=$(python3 -c 'import json,sys; print(len(json.load(sys.stdin).get("misconfigurations") or []))' <<<"$json")
  echo "$findings $(grep -c '^error:' "$err" || true)"
  rm -f "$err"
}

# count_checkov DIR FRAMEWORK: "failed passed parsing_errors" from one JSON run.
count_checkov() {
  "$checkov" -d "$1" --framework "$2" --quiet --compact -o json 2>/dev/null | python3 -c '
import json, sys
text = sys.stdin.read().strip()
d = json.loads(text) if text else []
d = d if isinstance(d, list) else [d]
# --quiet leaves passed checks out of the results; the summary still counts them.
failed = sum(x.get("summary", {}).get("failed", 0) for x in d)
passed = sum(x.get("summary", {}).get("passed", 0) for x in d)
errors = sum(x.get("summary", {}).get("parsing_errors", 0) for x in d)
print(failed, passed, errors)' || echo "? ? ?"
}

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
rows=()
for kind in dockerfiles kubernetes; do
  corpus=$here/corpus/$kind
  framework=$([[ $kind == dockerfiles ]] && echo dockerfile || echo kubernetes)
  files=$(find "$corpus" -type f | wc -l)
  bw=() br=() cw=() cr=()
  for i in $(seq "$runs"); do
    read -r w r < <(measure "$bulwark" config "$corpus" --format json --output /dev/null --quiet)
    bw+=("$w") br+=("$r")
    read -r w r < <(measure "$checkov" -d "$corpus" --framework "$framework" --quiet --compact -o json)
    cw+=("$w") cr+=("$r")
    echo "$kind run $i: bulwark ${bw[-1]} s ${br[-1]} KiB, checkov ${cw[-1]} s ${cr[-1]} KiB" >&2
  done
  mbw=$(printf '%s\n' "${bw[@]}" | median) mbr=$(printf '%s\n' "${br[@]}" | median)
  mcw=$(printf '%s\n' "${cw[@]}" | median) mcr=$(printf '%s\n' "${cr[@]}" | median)
  read -r bf be < <(count_bulwark "$corpus")
  read -r cf cp ce < <(count_checkov "$corpus" "$framework")
  speed=$(awk -v c="$mcw" -v b="$mbw" 'BEGIN { if (b > 0) printf "%.0fx", c / b; else print "inf" }')
  # The ratio of medians, and the smallest ratio any pair of runs gave (the run-to-run spread).
  low=$(for i in "${!bw[@]}"; do awk -v c="${cw[$i]}" -v b="${bw[$i]}" 'BEGIN { printf "%.0f\n", c / b }'; done | sort -n | head -1)
  mem=$(awk -v c="$mcr" -v b="$mbr" 'BEGIN { if (b > 0) printf "%.0fx", c / b; else print "inf" }')
  rows+=("| $kind ($files files) | bulwark | $mbw | $mbr | $bf findings, $be errors | $speed faster (lowest pair ${low}x) |")
  rows+=("| | checkov | $mcw | $mcr | $cf failed / $cp passed, $ce parsing errors | $mem more memory |")
done

cat <<OUT
$("$bulwark" --version) (release build: $bulwark)
checkov $("$checkov" --version 2>/dev/null)
median of $runs runs each, bulwark and checkov alternating; peak RSS from GNU time -v, wall time
from the nanosecond clock; load average $load_before before, $(cut -d' ' -f1-3 /proc/loadavg) after

| corpus | tool | wall (s) | peak RSS (KiB) | results | checkov / bulwark |
|---|---|---|---|---|---|
$(printf '%s\n' "${rows[@]}")
OUT
