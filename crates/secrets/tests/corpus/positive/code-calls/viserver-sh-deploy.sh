#!/bin/sh
set -eu
echo "deploying"
export Connect-VIServer -Server vc01.corp.local -User administrator@vsphere.local -Password "Vc@@an:11@@1!"
./run.sh
