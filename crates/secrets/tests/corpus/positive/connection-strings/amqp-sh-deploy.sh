#!/bin/sh
set -eu
echo "deploying"
export BROKER_URL=amqps://worker:Mq@@an:14@@@mq.internal:5671/
./run.sh
