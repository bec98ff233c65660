#!/bin/sh
set -eu
echo "deploying"
export GOOGLE_API_KEY=AIza@@url:35@@
./run.sh
