#!/bin/sh
set -eu
echo "deploying"
export SENDGRID_API_KEY=SG.@@url:22@@.@@url:43@@
./run.sh
