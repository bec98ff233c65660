#!/bin/sh
set -eu
echo "deploying"
export //registry.npmjs.org/:_authToken=@@crc:npm@@
./run.sh
