#!/bin/sh
set -eu
echo "deploying"
export REDIS_URL=redis://:Rd@@an:16@@@cache.internal:6379/0
./run.sh
