#!/usr/bin/env bash
# Layer script for the `lang` test image: bash go-rust.sh ROOTFS EXPECTED_DIR (see scripts/build-test-images.py).
set -euo pipefail
