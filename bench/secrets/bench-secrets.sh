#!/usr/bin/env bash
# Benchmark: bulwark-secrets (crates/secrets/examples/scan_dir) vs
# `detect-secrets scan --all-files` on a copy of a Debian rootfs's /usr/share
# and /etc plus a generated tree with planted secrets. See bench/secrets/README.md.
#
# usage: bash bench/secrets/bench-secrets.sh [--no-build] [--planted N] [--work DIR]
#   --no-build   use target/release/examples/scan_dir as is (or $SCAN_DIR_BIN)
#   --planted N  number of planted secrets (default 400, 20 kinds round-robin)
#   --work DIR   where the tree is built (default .cache/bench-secrets)
# env: BULWARK_TESTIMAGES (image cache dir), SCAN_DIR_BIN (prebuilt scan_dir)
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$REPO"
IMAGES="${BULWARK_TESTIMAGES:-$REPO/.cache/testimages}"
WORK="$REPO/.cache/bench-secrets"
PLANTED=400
BUILD=1
while [ $# -gt 0 ]; do
  case "$1" in
    --no-build) BUILD=0 ;;
    --planted) PLANTED="$2"; shift ;;
    --work) WORK="$2"; shift ;;
    -h|--help) sed -n '2,11p' "$0"; exit 0 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
  shift
done
say() { printf '\n== %s\n' "$*"; }

say "peers"
if ! [ -x /usr/bin/time ]; then apt-get update -qq && apt-get install -y -qq time >/dev/null; fi
if ! command -v detect-secrets >/dev/null; then
  echo "+ pip install detect-secrets"; python3 -m pip install -q detect-secrets
fi
hash -r
DS_VERSION="$(detect-secrets --version)"
echo "detect-secrets $DS_VERSION"

say "rootfs"
ROOTFS="$IMAGES/minbase/rootfs"
if ! [ -f "$ROOTFS/etc/debian_version" ]; then
  python3 scripts/build-test-images.py --out "$IMAGES" minbase
fi

say "build"
BIN="${SCAN_DIR_BIN:-$REPO/target/release/examples/scan_dir}"
if [ "$BUILD" = 1 ] && [ -z "${SCAN_DIR_BIN:-}" ]; then
  cargo build --release -p bulwark-secrets --example scan_dir
fi
[ -x "$BIN" ] || { echo "no scan_dir binary at $BIN" >&2; exit 1; }

say "tree"
rm -rf "$WORK"; mkdir -p "$WORK/tree/usr"
TREE="$WORK/tree"
cp -a "$ROOTFS/usr/share" "$TREE/usr/share"
cp -a "$ROOTFS/etc" "$TREE/etc"
python3 - "$TREE/app" "$WORK/manifest.tsv" "$PLANTED" <<'PY'
import base64, os, random, string, sys
root, manifest, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
rnd = random.Random(20261128)
AN = string.ascii_letters + string.digits
HX = "0123456789abcdef"
B64 = AN + "+/"
def s(cs, k): return "".join(rnd.choice(cs) for _ in range(k))
def pem(label, lines=12):
    body = "\n".join(s(B64, 64) for _ in range(lines)) + "\n" + s(B64, 40) + "=="
    return f"-----BEGIN {label}-----\n{body}\n-----END {label}-----"
def b64url(b): return base64.urlsafe_b64encode(b).rstrip(b"=").decode()
def crc_token(prefix):
    # GitHub's (and npm's) format: 30 random base62 characters, then their CRC32 in 6 base62 digits.
    import zlib
    digits = string.digits + string.ascii_uppercase + string.ascii_lowercase
    entropy = s(AN, 30)
    n, sum62 = zlib.crc32(entropy.encode()), ""
    for _ in range(6):
        n, r = divmod(n, 62)
        sum62 = digits[r] + sum62
    return f"{prefix}_{entropy}{sum62}"
def jwt():
    head = b64url(b'{"alg":"HS256","typ":"JWT"}')
    body = b64url(('{"sub":"%s","name":"%s","iat":%d}' % (s(string.digits, 10), s(string.ascii_lowercase, 8), rnd.randint(1500000000, 1800000000))).encode())
    return f"{head}.{body}.{b64url(bytes(rnd.getrandbits(8) for _ in range(32)))}"
KINDS = [
    ("aws-access-key-id", "env", lambda: "AWS_ACCESS_KEY_ID=AKIA" + s("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 16)),
    ("aws-secret-access-key", "ini", lambda: "aws_secret_access_key = " + s(B64, 40)),
    ("github-pat", "env", lambda: "GITHUB_TOKEN=" + crc_token("ghp")),
    ("gitlab-pat", "yaml", lambda: "gitlab_token: glpat-" + s(AN + "_-", 20)),
    ("slack-token", "env", lambda: f"SLACK_BOT_TOKEN=xoxb-{s(string.digits, 11)}-{s(string.digits, 12)}-{s(AN, 24)}"),
    ("slack-webhook", "yaml", lambda: f"webhook: https://hooks.slack.com/services/T{s(string.ascii_uppercase + string.digits, 8)}/B{s(string.ascii_uppercase + string.digits, 10)}/{s(AN, 24)}"),
    ("stripe-secret-key", "env", lambda: "STRIPE_SECRET_KEY=sk_live_" + s(AN, 24)),
    ("sendgrid-api-key", "env", lambda: f"SENDGRID_API_KEY=SG.{s(AN + '_-', 22)}.{s(AN + '_-', 43)}"),
    ("npm-access-token", "npmrc", lambda: "//registry.npmjs.org/:_authToken=" + crc_token("npm")),
    ("pypi-token", "pypirc", lambda: "[pypi]\nusername = __token__\npassword = pypi-AgEIcHlwaS5vcmc" + s(AN + "_-", 120)),
    ("private-key-rsa", "pem", lambda: pem("RSA PRIVATE KEY")),
    ("private-key-openssh", "pem", lambda: pem("OPENSSH PRIVATE KEY")),
    ("gcp-api-key", "json", lambda: '{"apiKey": "AIza' + s(AN + "_-", 35) + '"}'),
    ("jwt", "txt", lambda: "Cookie: session=" + jwt()),
    ("postgres-url-password", "env", lambda: f"DATABASE_URL=postgres://app:{s(AN, 16)}@db.internal:5432/app"),
    ("generic-password", "yaml", lambda: f"db_password: \"{s(AN, 14)}#{s(string.digits, 3)}\""),
    ("twilio-api-key", "env", lambda: "TWILIO_API_KEY=SK" + s(HX, 32)),
    ("azure-storage-account-key", "config", lambda: f"DefaultEndpointsProtocol=https;AccountName=acct{s(HX, 6)};AccountKey={s(B64, 86)}==;EndpointSuffix=core.windows.net"),
    ("dockerhub-pat", "env", lambda: "DOCKER_TOKEN=dckr_pat_" + s(AN + "_-", 27)),
    ("url-credentials", "git-credentials", lambda: f"https://deploy:{s(AN, 32)}@git.example.org"),
]
FILLER = [
    "# application configuration",
    "log_level = info",
    "listen: 0.0.0.0:8080",
    "timeout_seconds: 30",
    "feature_flags: [beta, metrics]",
    "user = app",
    "cache_dir = /var/cache/app",
    "retries: 3",
]
os.makedirs(root, exist_ok=True)
rows = []
for i in range(n):
    kind, ext, gen = KINDS[i % len(KINDS)]
    d = os.path.join(root, f"svc{i % 37:02d}", "config")
    os.makedirs(d, exist_ok=True)
    rel = os.path.join("app", f"svc{i % 37:02d}", "config", f"{kind}-{i}.{ext}")
    pre = [rnd.choice(FILLER) for _ in range(rnd.randint(2, 12))]
    secret = gen()
    post = [rnd.choice(FILLER) for _ in range(rnd.randint(1, 6))]
    start = len(pre) + 1
    end = start + secret.count("\n")
    with open(os.path.join(os.path.dirname(root), rel), "w") as f:
        f.write("\n".join(pre + [secret] + post) + "\n")
    rows.append(f"{rel}\t{start}\t{end}\t{kind}")
# plus plain text noise: copies of readable docs are already in usr/share
with open(manifest, "w") as f:
    f.write("\n".join(rows) + "\n")
print(f"planted {n} secrets of {len(KINDS)} kinds in {root}")
PY
BYTES=$(find "$TREE" -type f -printf '%s\n' | awk '{s+=$1} END {print s}')
FILES=$(find "$TREE" -type f | wc -l)
echo "tree: $FILES files, $BYTES bytes"
# warm the page cache for both tools
find "$TREE" -type f -print0 | xargs -0 cat >/dev/null

say "bulwark-secrets"
CMD_B="$BIN $TREE --list"
echo "+ $CMD_B"
/usr/bin/time -f '%e %U %S %M' -o "$WORK/time-bulwark" $CMD_B >"$WORK/bulwark.out"
tail -1 "$WORK/bulwark.out"
cat "$WORK/time-bulwark"

say "detect-secrets"
CMD_D="detect-secrets scan --all-files ."
echo "+ (cd $TREE && $CMD_D)"
(cd "$TREE" && /usr/bin/time -f '%e %U %S %M' -o "$WORK/time-ds" $CMD_D >"$WORK/ds.json")
cat "$WORK/time-ds"

say "report"
DATE="$(date -u +%Y-%m-%d)"
mkdir -p bench/results
REPORT="$(python3 - "$WORK" "$BYTES" "$FILES" "$PLANTED" "$DS_VERSION" "$CMD_B" "$CMD_D" "$(nproc)" <<'PY'
import json, sys, collections
work, nbytes, nfiles, planted, dsv, cmd_b, cmd_d, ncpu = sys.argv[1:9]
nbytes = int(nbytes)
def times(p):
    e, u, s, m = open(p).read().split()[-4:]
    return float(e), float(u) + float(s), int(m)
plants = []
for line in open(f"{work}/manifest.tsv"):
    rel, a, b, kind = line.rstrip("\n").split("\t")
    plants.append((rel, int(a), int(b), kind))
bfind = collections.defaultdict(list)
for line in open(f"{work}/bulwark.out"):
    if line.startswith("files="):
        continue
    loc, rest = line.split(": ", 1)
    rel, ln, col = loc.rsplit(":", 2)
    bfind[rel].append(int(ln))
dfind = collections.defaultdict(list)
for rel, lst in json.load(open(f"{work}/ds.json"))["results"].items():
    rel = rel[2:] if rel.startswith("./") else rel
    for r in lst:
        dfind[rel].append(r["line_number"])
def score(found):
    hit = collections.Counter(); tot = collections.Counter()
    matched = collections.defaultdict(set)
    for rel, a, b, kind in plants:
        tot[kind] += 1
        ls = [l for l in found.get(rel, []) if a <= l <= b]
        if ls:
            hit[kind] += 1
        matched[rel].update(ls)
    extra = sum(1 for rel, ls in found.items() for l in ls if l not in matched.get(rel, ()))
    return hit, tot, extra
rows = []
res = {}
for name, tf, found in (("bulwark-secrets", "time-bulwark", bfind), ("detect-secrets", "time-ds", dfind)):
    wall, cpu, rss = times(f"{work}/{tf}")
    hit, tot, extra = score(found)
    res[name] = (wall, cpu, rss, hit, tot, extra, sum(len(v) for v in found.values()))
mb = nbytes / 1e6
out = []
out.append(f"## secrets benchmark, {ncpu} cores\n")
out.append(f"Tree: {nfiles} files, {mb:.1f} MB (Debian bookworm minbase /usr/share + /etc, plus {planted} planted secrets of 20 kinds). detect-secrets {dsv}.\n")
out.append("| tool | wall s | CPU s | MB/s | MB/s per CPU-s | peak RSS MB | findings | recall | findings off the planted lines |")
out.append("|---|---|---|---|---|---|---|---|---|")
for name, (wall, cpu, rss, hit, tot, extra, nf) in res.items():
    rec = sum(hit.values()) / max(1, sum(tot.values()))
    out.append(f"| {name} | {wall:.2f} | {cpu:.2f} | {mb / wall:.1f} | {mb / max(cpu, 0.01):.1f} | {rss / 1024:.0f} | {nf} | {sum(hit.values())}/{sum(tot.values())} ({rec:.1%}) | {extra} |")
bw, bc = res["bulwark-secrets"][0], res["bulwark-secrets"][1]
dw, dc = res["detect-secrets"][0], res["detect-secrets"][1]
out.append("")
out.append(f"Speedup (wall): {dw / bw:.1f}x; per CPU-second: {dc / max(bc, 0.01):.1f}x (target >= 20x).\n")
out.append("Recall per kind (bulwark-secrets / detect-secrets):\n")
out.append("| kind | bulwark-secrets | detect-secrets |")
out.append("|---|---|---|")
hb, tb = res["bulwark-secrets"][3], res["bulwark-secrets"][4]
hd = res["detect-secrets"][3]
for kind in tb:
    out.append(f"| {kind} | {hb[kind]}/{tb[kind]} | {hd[kind]}/{tb[kind]} |")
out.append("")
out.append("Commands (cwd for detect-secrets: the tree):\n")
out.append(f"    {cmd_b}\n    {cmd_d}\n")
print("\n".join(out))
PY
)"
echo "$REPORT"
{ echo; echo "<!-- $(date -u +%Y-%m-%dT%H:%M:%SZ) $(uname -m) -->"; echo "$REPORT"; } >> "bench/results/secrets-$DATE.md"
echo
echo "appended to bench/results/secrets-$DATE.md"
