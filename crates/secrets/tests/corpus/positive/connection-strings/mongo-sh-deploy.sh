#!/bin/sh
set -eu
echo "deploying"
export MONGO_URI=mongodb+srv://svc:Mg@@an:14@@@cluster0.abcd.mongodb.net/prod
./run.sh
