#!/usr/bin/env bash
# A long fuzz campaign on stable Rust: the same harness `cargo test -p bulwark-fuzz` runs in CI,
# built optimized (with overflow checks and debug assertions kept, so arithmetic bugs still
# panic) and fed many more mutated inputs per seed.
#
#   scripts/fuzz.sh                      # 2,000 inputs per seed (~280,000 inputs), every target
#   scripts/fuzz.sh 20000                # more
#   scripts/fuzz.sh 5000 dpkg_status,sbom
#   BULWARK_FUZZ_SEED=123 scripts/fuzz.sh   # repeat a run exactly
#
# Failing inputs are written to target/fuzz-failures/<target>/ and listed at the end; see
# docs/fuzzing.md for what to do with them. Repeated runs with new seeds (the default picks
# one from the clock and prints it) explore different inputs.
set -euo pipefail
cd "$(dirname "$0")/.."
export BULWARK_FUZZ_ITERATIONS="${1:-2000}"
if [ -n "${2:-}" ]; then
  export BULWARK_FUZZ_TARGETS="$2"
fi
# Optimized code is ~10x faster, so hold each input to a tighter bound than the debug default.
export BULWARK_FUZZ_INPUT_TIMEOUT_MS="${BULWARK_FUZZ_INPUT_TIMEOUT_MS:-1000}"
exec cargo test --profile fuzz -p bulwark-fuzz --test fuzz -- --exact campaign --nocapture
