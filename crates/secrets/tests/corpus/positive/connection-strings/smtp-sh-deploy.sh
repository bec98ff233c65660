#!/bin/sh
set -eu
echo "deploying"
export MAIL_URL=smtp://mailer:Sm@@an:14@@@smtp.corp.net:587
./run.sh
