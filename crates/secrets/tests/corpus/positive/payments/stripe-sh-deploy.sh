#!/bin/sh
set -eu
echo "deploying"
export STRIPE_SECRET_KEY=sk_live_@@an:24@@
./run.sh
