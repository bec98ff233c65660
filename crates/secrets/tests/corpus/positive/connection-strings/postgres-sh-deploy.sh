#!/bin/sh
set -eu
echo "deploying"
export DATABASE_URL=postgres://app:Pg@@an:14@@@db.internal:5432/app
./run.sh
