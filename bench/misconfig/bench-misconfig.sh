#!/usr/bin/env bash
# Misconfiguration benchmark: bulwark vs checkov on the same corpus of real Dockerfiles and
# Kubernetes manifests (bench/misconfig/corpus, see ATTRIBUTION.md). Wall time and peak RSS
# from /usr/bin/time -v, median of 3 runs each, and the speed ratio.
#
# Usage: bench/misconfig/bench-misconfig.sh [CORPUS_DIR]
# Env:   BULWARK=path/to/bulwark (default: target/release/bulwark, built if missing)
#        CHECKOV=path/to/checkov (default: .cache/checkov-venv/bin/checkov, installed if missing)
#        RUNS=3
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
corpus=${1:-$here/corpus}
runs=${RUNS:-3}

bulwark=${BULWARK:-}
if [[ -z $bulwark ]]; then
  bulwark=${CARGO_TARGET_DIR:-$repo/target}/release/bulwark
  [[ -x $bulwark ]] || (cd "$repo" && cargo build --release -p bulwark-cli)
fi
checkov=${CHECKOV:-$repo/.cache/checkov-venv/bin/checkov}
if [[ ! -x $checkov ]]; then
  python3 -m venv "$repo/.cache/checkov-venv"
  "$repo/.cache/checkov-venv/bin/pip" install -q checkov
fi
[[ -x /usr/bin/time ]] || { echo "needs /usr/bin/time (apt-get install time)" >&2; exit 2; }

dockerfiles=$(find "$corpus" -type f \( -name 'Dockerfile*' -o -name '*.Dockerfile' \) | wc -l)
manifests=$(find "$corpus" -type f \( -name '*.yaml' -o -name '*.yml' \) | wc -l)

# measure NAME CMD...: prints "wall_seconds max_rss_kb" for one run.
measure() {
  local log
  log=$(mktemp)
  /usr/bin/time -v "$@" >/dev/null 2>"$log" || true
  local wall rss
  wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$log" | awk -F: '{ if (NF==3) print $1*3600+$2*60+$3; else print $1*60+$2 }')
  rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$log")
  rm -f "$log"
  echo "$wall $rss"
}

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

bench() {
  local name=$1; shift
  local walls=() rsss=()
  for _ in $(seq "$runs"); do
    read -r w r < <(measure "$@")
    walls+=("$w"); rsss+=("$r")
  done
  local mw mr
  mw=$(printf '%s\n' "${walls[@]}" | median)
  mr=$(printf '%s\n' "${rsss[@]}" | median)
  echo "$name $mw $mr"
}

read -r _ bw br < <(bench bulwark "$bulwark" config "$corpus" --format json --output /dev/null --quiet)
read -r _ cw cr < <(bench checkov "$checkov" -d "$corpus" --framework dockerfile kubernetes --quiet --compact -o json)

# Finding counts, for the record.
bf=$("$bulwark" config "$corpus" --format json --quiet 2>/dev/null | python3 -c 'import json,sys; print(len(json.load(sys.stdin).get("misconfigurations", [])))') || true
cf=$("$checkov" -d "$corpus" --framework dockerfile kubernetes --quiet --compact -o json 2>/dev/null | python3 -c '
import json,sys
d=json.load(sys.stdin)
d=d if isinstance(d,list) else [d]
print(sum(len(x.get("results",{}).get("failed_checks",[])) for x in d))') || true

ratio=$(awk -v c="$cw" -v b="$bw" 'BEGIN { if (b > 0) printf "%.1f", c/b; else print "inf" }')
cat <<OUT
Corpus: $corpus ($dockerfiles Dockerfiles, $manifests YAML files); median of $runs runs
| tool | wall (s) | peak RSS (KiB) | findings |
|---|---|---|---|
| bulwark $("$bulwark" --version | awk '{print $2}') | $bw | $br | $bf |
| checkov $("$checkov" --version 2>/dev/null) | $cw | $cr | $cf |
Speed ratio (checkov / bulwark): ${ratio}x
OUT
