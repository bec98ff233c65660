#!/usr/bin/env bash
# Layer script for the `lang` test image: bash python.sh ROOTFS EXPECTED_DIR.
# Installs Debian's python3 with python3-yaml (its PyYAML dist-info is dpkg-owned and must not be
# reported as a PyPI package too), then pip-installs old releases into a virtualenv. The
# distributions are downloaded by the host's pip (which trusts this machine's CA setup) and
# installed in the chroot offline. urllib3 is 1.23, the newest that requests 2.19.0 accepts. Ground truth: the virtualenv's `pip list --format json`.
set -euo pipefail
root=$1 expected=$2
reqs=("Django==3.2" "requests==2.19.0" "urllib3==1.23" "Jinja2==2.10" "MarkupSafe==2.0.1" "PyYAML==5.3.1")
cache="${HOME}/.cache/bulwark-testdata/pip"
mkdir -p "$cache"
python3 -m pip download -q --dest "$cache" "${reqs[@]}" wheel setuptools
chroot "$root" /bin/sh -c 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends python3 python3-venv python3-yaml >/dev/null && rm -rf /var/lib/apt/lists/*'
mkdir -p "$root/tmp/wheels"
cp "$cache"/* "$root/tmp/wheels/"
chroot "$root" /usr/bin/env -u PIP_FIND_LINKS PIP_DISABLE_PIP_VERSION_CHECK=1 /bin/sh -c '
  python3 -m venv /opt/venv &&
  /opt/venv/bin/pip install -q --no-index --find-links /tmp/wheels wheel setuptools &&
  /opt/venv/bin/pip install -q --no-index --find-links /tmp/wheels --no-build-isolation '"${reqs[*]}"
rm -rf "$root/tmp/wheels"
chroot "$root" /usr/bin/env PIP_DISABLE_PIP_VERSION_CHECK=1 /opt/venv/bin/pip list --format json > "$expected/pip-list.json"
mkdir -p "$root/src/pyapp"
chroot "$root" /usr/bin/env PIP_DISABLE_PIP_VERSION_CHECK=1 /opt/venv/bin/pip freeze --exclude-editable > "$root/src/pyapp/requirements.txt"
find "$root/opt/venv" -name '__pycache__' -prune -exec rm -rf {} +
