#!/usr/bin/env bash
# bulwark scans its own Cargo.lock against the RustSec advisories copied into
# data/advisories/rustsec (see its README for the source commit and licence) and fails on any
# finding that scripts/self-scan.ignore does not excuse; every rule there has a reason and an
# expiry date, after which the finding fails the scan again.
#
# Usage: scripts/self-scan.sh [CARGO_LOCK]   (default: the workspace's Cargo.lock)
# BULWARK_BIN names the binary to use; otherwise the debug build is built (or reused).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
lock="$(realpath "${1:-$root/Cargo.lock}")"
if [ -z "${BULWARK_BIN:-}" ]; then
  cargo build --quiet --manifest-path "$root/Cargo.toml" -p bulwark-cli
  BULWARK_BIN="${CARGO_TARGET_DIR:-$root/target}/debug/bulwark"
fi
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
# The scan reads a directory: give it one holding only the lockfile.
mkdir "$work/tree"
cp "$lock" "$work/tree/Cargo.lock"
if ! out="$("$BULWARK_BIN" db import --db-dir "$work/db" "$root/data/advisories/rustsec/crates" 2>&1)"; then
  echo "$out" >&2
  exit 2
fi
"$BULWARK_BIN" fs "$work/tree" \
  --db-dir "$work/db" \
  --scanners vuln --no-cache \
  --ignore-file "$root/scripts/self-scan.ignore" \
  --exit-code 1 --format table
