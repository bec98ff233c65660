#!/bin/sh
set -eu
echo "deploying"
export aws_secret_access_key = @@b64:40@@
./run.sh
