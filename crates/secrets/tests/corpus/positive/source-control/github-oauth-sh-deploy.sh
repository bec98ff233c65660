#!/bin/sh
set -eu
echo "deploying"
export oauth: @@crc:gho@@
./run.sh
