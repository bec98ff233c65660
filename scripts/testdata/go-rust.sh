#!/usr/bin/env bash
# Layer script for the `lang` test image: bash go-rust.sh ROOTFS EXPECTED_DIR (see scripts/build-test-images.py).
#
# Builds, on the host, two real programs and copies them (and their lockfiles) into ROOTFS:
#
#   /usr/local/bin/goapp      Go 1.19 (Debian's golang-go) binary with module build info
#   /src/goapp/go.mod         its go.mod
#   /usr/local/bin/rustapp    Rust binary built with `cargo auditable` (.dep-v0 section)
#   /src/rustapp/Cargo.lock   its Cargo.lock (v3/v4, whatever the host's cargo writes)
#
# The Go module proxy may be unreachable, so the Go modules come from Debian's source packages
# (/usr/share/gocode/src), served through a local file:// GOPROXY built here. That keeps the
# binary realistic (`dep` lines with versions and h1: sums) and also exercises both kinds of
# `replace`: github.com/google/uuid is replaced by a "fork" module at a version (served by the
# same proxy), github.com/pkg/errors by a local directory.
#   golang.org/x/text v0.7.0   golang-golang-x-text-dev   (its go.mod's requires on x/tools,
#                                                          x/mod, x/sys are dropped: unused)
#   github.com/google/uuid v1.3.0 => example.com/fork/uuid v1.3.0   golang-github-google-uuid-dev
#   github.com/pkg/errors v0.9.1  => ./third_party/errors           golang-github-pkg-errors-dev
#
# The Rust crate pins old crates.io releases with RustSec advisories: smallvec 1.6.0
# (RUSTSEC-2021-0003), time 0.1.43 (RUSTSEC-2020-0071), memoffset 0.5.6 (RUSTSEC-2023-0045,
# and a build dependency, autocfg). time's winapi is Windows-only: it is in Cargo.lock but not
# in the Linux binary.
#
# Ground truth written to EXPECTED_DIR:
#   go-version-m.txt            `go version -m usr/local/bin/goapp` (run inside ROOTFS)
#   cargo-metadata.json         `cargo metadata --format-version 1 --locked` (all platforms:
#                               what Cargo.lock lists)
#   cargo-metadata-linux.json   the same with --filter-platform x86_64-unknown-linux-gnu (what
#                               the binary was built from)
#
# Build trees are cached under $HOME/.cache/bulwark-testdata/go-rust, so reruns are fast.
set -euo pipefail

if [ $# -ne 2 ]; then
    echo "usage: $0 ROOTFS EXPECTED_DIR" >&2
    exit 2
fi
ROOTFS=$(realpath "$1")
EXPECTED=$(realpath "$2")
CACHE="${HOME}/.cache/bulwark-testdata/go-rust"
GOSRC=/usr/share/gocode/src
export PATH="${HOME}/.cargo/bin:${PATH}"
mkdir -p "$CACHE" "$EXPECTED"

log() { echo "[go-rust] $*" >&2; }

# --- host tools -------------------------------------------------------------------------------
apt_pkgs=(golang-go golang-golang-x-text-dev golang-github-google-uuid-dev golang-github-pkg-errors-dev python3)
missing=()
for p in "${apt_pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    log "apt-get install ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
if ! command -v cargo >/dev/null; then
    echo "go-rust.sh: cargo not found (install Rust with rustup; Debian's cargo is too old for cargo-auditable)" >&2
    exit 1
fi
if ! command -v cargo-auditable >/dev/null; then
    log "cargo install cargo-auditable"
    cargo install --locked --quiet cargo-auditable
fi

# --- Go ---------------------------------------------------------------------------------------
GOWORK_DIR="$CACHE/go"
PROXY="$GOWORK_DIR/proxy"
# module path, version, source dir, go.mod text ("" = the source's own go.mod)
build_proxy() {
    rm -rf "$PROXY.tmp"
    python3 - "$PROXY.tmp" "$GOSRC" <<'EOF'
import os, sys, zipfile, json
out, src = sys.argv[1], sys.argv[2]
mods = [
    ("golang.org/x/text", "v0.7.0", "golang.org/x/text", "module golang.org/x/text\n\ngo 1.17\n"),
    ("example.com/fork/uuid", "v1.3.0", "github.com/google/uuid", None),
]
for path, ver, srcpath, gomod in mods:
    root = os.path.join(src, srcpath)
    if gomod is None:
        with open(os.path.join(root, "go.mod")) as f:
            gomod = f.read()
    d = os.path.join(out, path, "@v")
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "list"), "w") as f:
        f.write(ver + "\n")
    with open(os.path.join(d, ver + ".info"), "w") as f:
        json.dump({"Version": ver, "Time": "2023-01-01T00:00:00Z"}, f)
    with open(os.path.join(d, ver + ".mod"), "w") as f:
        f.write(gomod)
    with zipfile.ZipFile(os.path.join(d, ver + ".zip"), "w", zipfile.ZIP_DEFLATED) as z:
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames.sort()
            for fn in sorted(filenames):
                full = os.path.join(dirpath, fn)
                rel = os.path.relpath(full, root)
                if fn == "go.mod" and rel == "go.mod":
                    continue
                if os.path.islink(full) or not os.path.isfile(full):
                    continue
                z.write(full, f"{path}@{ver}/{rel}")
        z.writestr(f"{path}@{ver}/go.mod", gomod)
EOF
    mv "$PROXY.tmp" "$PROXY"
}
[ -d "$PROXY" ] || build_proxy

APP="$GOWORK_DIR/goapp"
mkdir -p "$APP/third_party/errors"
cp "$GOSRC"/github.com/pkg/errors/*.go "$APP/third_party/errors/"
rm -f "$APP"/third_party/errors/*_test.go
printf 'module github.com/pkg/errors\n' > "$APP/third_party/errors/go.mod"
cat > "$APP/main.go" <<'EOF'
package main

import (
	"fmt"

	"github.com/google/uuid"
	"github.com/pkg/errors"
	"golang.org/x/text/cases"
	"golang.org/x/text/language"
)

func main() {
	tag := language.MustParse("de-CH")
	id := uuid.NewSHA1(uuid.NameSpaceDNS, []byte("bulwark.example"))
	err := errors.Wrap(errors.New("demo"), "goapp")
	fmt.Println(cases.Title(tag).String("hello from goapp"), id, err)
}
EOF
cat > "$APP/go.mod" <<'EOF'
module example.com/goapp

go 1.19

require (
	github.com/google/uuid v1.3.0
	github.com/pkg/errors v0.9.1
	golang.org/x/text v0.7.0
)

replace github.com/google/uuid v1.3.0 => example.com/fork/uuid v1.3.0

replace github.com/pkg/errors => ./third_party/errors
EOF
(
    cd "$APP"
    export GOPROXY="file://$PROXY" GOSUMDB=off GOFLAGS=-mod=mod GOTOOLCHAIN=local \
        GOPATH="$GOWORK_DIR/gopath" GOCACHE="$GOWORK_DIR/gocache" CGO_ENABLED=0
    go mod tidy
    go build -o goapp .
)
install -D -m 0755 "$APP/goapp" "$ROOTFS/usr/local/bin/goapp"
install -D -m 0644 "$APP/go.mod" "$ROOTFS/src/goapp/go.mod"
(cd "$ROOTFS" && go version -m usr/local/bin/goapp) > "$EXPECTED/go-version-m.txt"
log "goapp: $(head -1 "$EXPECTED/go-version-m.txt")"

# --- Rust -------------------------------------------------------------------------------------
CRATE="$CACHE/rustapp"
mkdir -p "$CRATE/src"
cat > "$CRATE/Cargo.toml.new" <<'EOF'
[package]
name = "rustapp"
version = "0.1.0"
edition = "2018"
publish = false

[dependencies]
smallvec = "=1.6.0"
time = "=0.1.43"
memoffset = "=0.5.6"

[profile.release]
debug = false
EOF
cmp -s "$CRATE/Cargo.toml.new" "$CRATE/Cargo.toml" 2>/dev/null || mv "$CRATE/Cargo.toml.new" "$CRATE/Cargo.toml"
rm -f "$CRATE/Cargo.toml.new"
cat > "$CRATE/src/main.rs" <<'EOF'
use smallvec::SmallVec;

struct Pair {
    _a: u8,
    b: u32,
}

fn main() {
    let mut v: SmallVec<[u32; 4]> = SmallVec::new();
    v.extend(1..=6);
    let now = time::now_utc();
    println!("rustapp: {} items, offset {}, year {}", v.len(), memoffset::offset_of!(Pair, b), now.tm_year + 1900);
}
EOF
(
    cd "$CRATE"
    cargo auditable build --release --quiet
    cargo metadata --format-version 1 --locked > "$EXPECTED/cargo-metadata.json"
    cargo metadata --format-version 1 --locked --filter-platform x86_64-unknown-linux-gnu \
        > "$EXPECTED/cargo-metadata-linux.json"
)
install -D -m 0755 "$CRATE/target/release/rustapp" "$ROOTFS/usr/local/bin/rustapp"
install -D -m 0644 "$CRATE/Cargo.lock" "$ROOTFS/src/rustapp/Cargo.lock"
log "rustapp: $(grep -c '^\[\[package\]\]' "$CRATE/Cargo.lock") packages in Cargo.lock"
