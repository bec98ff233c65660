#!/bin/sh
set -eu
echo "deploying"
export GITLAB_TOKEN=glpat-@@url:20@@
./run.sh
