#!/bin/sh
set -eu
echo "deploying"
export RAILS_MASTER_KEY=@@hx:32@@
./run.sh
