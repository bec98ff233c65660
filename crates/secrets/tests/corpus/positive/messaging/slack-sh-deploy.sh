#!/bin/sh
set -eu
echo "deploying"
export SLACK_BOT_TOKEN=xoxb-@@dig:12@@-@@dig:13@@-@@an:24@@
./run.sh
