#!/usr/bin/env bash
# Peak heap of `bulwark k8s`'s read-and-check path at 1,000 and 20,000 objects (half
# Deployments, half their pods), served in pages of 500 by the test API server over TLS.
# The measure is the test `peak_heap_grows_by_compact_facts_only_from_1000_to_20000_objects`
# (crates/k8s/tests/memory.rs, a counting global allocator); this prints its figures.
# Usage: bash bench/k8s-memory.sh [--release]
set -euo pipefail
cd "$(dirname "$0")/.."
profile=()
[ "${1:-}" = "--release" ] && profile=(--release)
export CARGO_INCREMENTAL=0
echo "rustc: $(rustc --version)"
echo "commit: $(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
start=$(date +%s)
cargo test "${profile[@]}" -q -p bulwark-k8s --test memory -- --nocapture 2>&1 | grep -E "peak heap|held as|test result"
echo "wall: $(( $(date +%s) - start )) s (build included)"
