#!/bin/sh
set -eu
echo "deploying"
export signing_key: "@@b64:44@@"
./run.sh
