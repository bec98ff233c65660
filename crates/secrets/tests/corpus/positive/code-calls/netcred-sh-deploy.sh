#!/bin/sh
set -eu
echo "deploying"
export var c = new NetworkCredential("svc_backup", "Qz7@@an:10@@!");
./run.sh
