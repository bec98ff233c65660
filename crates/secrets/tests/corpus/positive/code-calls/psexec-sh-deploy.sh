#!/bin/sh
set -eu
echo "deploying"
export psexec \\srv01 -u CORP\admin -p Hq@@an:10@@4 cmd /c ipconfig
./run.sh
