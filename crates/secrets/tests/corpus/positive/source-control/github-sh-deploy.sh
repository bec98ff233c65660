#!/bin/sh
set -eu
echo "deploying"
export GITHUB_TOKEN=@@crc:ghp@@
./run.sh
