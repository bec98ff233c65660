#!/bin/sh
set -eu
echo "deploying"
export define('AUTH_SALT', '@@b64:48@@');
./run.sh
