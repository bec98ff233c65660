#!/bin/sh
set -eu
echo "deploying"
export DefaultEndpointsProtocol=https;AccountName=acct01;AccountKey=@@b64:86@@==;EndpointSuffix=core.windows.net
./run.sh
