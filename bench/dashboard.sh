#!/usr/bin/env bash
# The dashboard's benchmark (issue 14): server time per page at N assets, p50/p99 over
# loopback, against the JSON API endpoint returning the same data (the baseline), on SQLite
# and/or PostgreSQL. The portfolio is seeded straight through the store (no matching).
#
#   bash bench/dashboard.sh [--assets N] [--findings N] [--packages N] [--repeats N]
#                           [--db sqlite|postgres|both] [--release] [--save]
#
# Defaults: 10,000 assets x 40 findings (400,000 findings), 60 packages each, 30 requests per
# page, SQLite, the dev profile (dependencies optimised, workspace crates not: pass --release
# for release figures). --save appends the report to bench/results/dashboard.md.
set -euo pipefail
cd "$(dirname "$0")/.."
assets=10000 findings=40 packages=60 repeats=30 db=sqlite profile=() save=0
while [ $# -gt 0 ]; do
  case "$1" in
    --assets) assets=$2; shift 2 ;;
    --findings) findings=$2; shift 2 ;;
    --packages) packages=$2; shift 2 ;;
    --repeats) repeats=$2; shift 2 ;;
    --db) db=$2; shift 2 ;;
    --release) profile=(--release); shift ;;
    --save) save=1; shift ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
log=$(mktemp)
export CARGO_INCREMENTAL=0
DASHBOARD_BENCH_ASSETS=$assets DASHBOARD_BENCH_FINDINGS=$findings DASHBOARD_BENCH_PACKAGES=$packages \
DASHBOARD_BENCH_REPEATS=$repeats DASHBOARD_BENCH_DB=$db \
  cargo test -p bulwark-server "${profile[@]}" --test it bench_dashboard_pages -- --ignored --nocapture 2>&1 | tee "$log"
if [ "$save" = 1 ]; then
  {
    echo
    echo "## $(date -u +%Y-%m-%dT%H:%MZ) — $assets assets x $findings findings, $db, ${profile[*]:-dev profile}"
    echo
    echo "Command: \`bash bench/dashboard.sh --assets $assets --findings $findings --packages $packages --repeats $repeats --db $db ${profile[*]}\`"
    echo "Machine: $(nproc) cores, $(uname -sr); rustc $(rustc --version | cut -d' ' -f2)"
    echo
    echo '```'
    grep -E 'seeded|p50' "$log"
    echo '```'
  } >> bench/results/dashboard.md
fi
rm -f "$log"
