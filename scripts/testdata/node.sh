#!/usr/bin/env bash
# Layer script for the `lang` test image: bash node.sh ROOTFS EXPECTED_DIR.
# An npm application with old releases (lodash 4.17.15, minimist 1.2.0, express 4.16.0) and a
# dev dependency, installed by the host's npm into ROOTFS/app (node_modules + package-lock.json v3).
# Ground truth: `npm ls --all --json` and `npm ls --all --omit=dev --json`.
set -euo pipefail
root=$1 expected=$2
app="$root/app/node"
mkdir -p "$app"
cat > "$app/package.json" <<'JSON'
{
  "name": "bulwark-node-app",
  "version": "1.0.0",
  "private": true,
  "dependencies": {"lodash": "4.17.15", "minimist": "1.2.0", "express": "4.16.0"},
  "devDependencies": {"is-number": "7.0.0"}
}
JSON
cache="${HOME}/.cache/bulwark-testdata/npm"
mkdir -p "$cache"
(cd "$app" && npm install --no-audit --no-fund --loglevel=error --cache "$cache" >/dev/null)
(cd "$app" && npm ls --all --json > "$expected/npm-ls.json")
(cd "$app" && npm ls --all --omit=dev --json > "$expected/npm-ls-prod.json")
