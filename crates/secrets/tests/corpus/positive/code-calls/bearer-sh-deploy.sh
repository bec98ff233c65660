#!/bin/sh
set -eu
echo "deploying"
export curl -H "Authorization: Bearer @@an:40@@" https://api.internal/v1/jobs
./run.sh
