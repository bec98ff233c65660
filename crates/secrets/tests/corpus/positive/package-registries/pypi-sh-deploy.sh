#!/bin/sh
set -eu
echo "deploying"
export TWINE_PASSWORD=pypi-AgEIcHlwaS5vcmc@@url:120@@
./run.sh
