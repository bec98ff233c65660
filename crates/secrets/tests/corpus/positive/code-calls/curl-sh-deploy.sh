#!/bin/sh
set -eu
echo "deploying"
export curl -fsSL -u deploy:Dp@@an:12@@3 https://repo.internal/app.tgz -o app.tgz
./run.sh
