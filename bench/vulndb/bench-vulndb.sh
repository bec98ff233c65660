#!/usr/bin/env bash
# Vulnerability database benchmark: import time, store size, open time and the time to match
# 10,000 packages (names from the advisory data, so many queries hit).
# Usage: bench/vulndb/bench-vulndb.sh [ADVISORIES_DIR]   (default: ../shared/data/advisories beside the checkout)
# Writes bench/results/vulndb-<date>.md.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
src="${1:-$(cd "$(dirname "$0")/../.." && pwd)/../shared/data/advisories}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/tmp/target-vulndb}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
# Work on a copy, so the benchmark never reads the shared tree while timing.
cp -r "$src" "$work/advisories"
cargo build --release -p bulwark-vulndb --example vulndb-bench --manifest-path "$root/Cargo.toml" >&2
bin="$CARGO_TARGET_DIR/release/examples/vulndb-bench"
out="$root/bench/results/vulndb-$(date +%F).md"
mkdir -p "$root/bench/results"
{
  echo "# vulndb benchmark, $(date +%F)"
  echo
  echo "Machine: $(nproc) cores, $(uname -sr); release build; input copied to a temp dir."
  echo "Input: $(du -sh "$work/advisories" | cut -f1) ($(find "$work/advisories" -type f | wc -l) files)."
  echo
  "$bin" "$work/advisories" "$work"
  echo
  echo "Targets: open < 50 ms, match of 10,000 packages < 1 s."
} | tee "$out"
echo "wrote $out" >&2
