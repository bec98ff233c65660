#!/bin/sh
set -eu
echo "deploying"
export DOCKER_TOKEN=dckr_pat_@@url:27@@
./run.sh
