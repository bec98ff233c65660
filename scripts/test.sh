#!/usr/bin/env bash
# The whole test suite: builds the real test images (cached in .cache/testimages; the first
# run needs Debian's package mirror), then runs every test of the workspace.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 scripts/build-test-images.py minbase python lang
cargo test --workspace --all-targets --no-fail-fast
# --all-targets leaves doc tests out: the crate examples (bulwark-scan's) run here.
cargo test --workspace --doc
