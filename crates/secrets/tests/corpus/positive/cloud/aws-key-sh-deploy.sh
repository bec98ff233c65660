#!/bin/sh
set -eu
echo "deploying"
export AWS_ACCESS_KEY_ID=AKIA@@b32:16@@
./run.sh
