#!/usr/bin/env python3
"""Server benchmark (issue 20): `bulwark server` with thousands of stored image SBOMs, on SQLite
and PostgreSQL side by side in one run.

For each database it starts a fresh `bulwark server` (loopback only) with the advisory data
imported into its advisory store, then measures:

1. load: N synthetic CycloneDX image SBOMs (Debian 12 OS packages + PyPI/npm packages, names
   and versions drawn from the advisory data so a realistic share have findings; ~N/5 asset
   repositories with several digests each; teams) uploaded through `POST /api/v1/reports` by
   a bounded client (C threads, one keep-alive connection each): throughput and p50/p95/p99
   latency of the first 1,000 uploads, and the total load time;
2. one new advisory for a package present in ~1% of the SBOMs, imported with
   `bulwark db import --db-dir <data-dir>/advisories` (or the API when the server has one):
   time until the new findings are visible through the API and until a local webhook
   receiver has every signed notification (signatures checked);
3. a full rematch (`POST /api/v1/rematch`): time;
4. the portfolio API (`GET /api/v1/assets`, paged, sorted and filtered): p50/p95/p99;
5. the server's RSS (VmHWM, VmRSS from /proc/PID/status) after the load and at the end.

Baselines in the same run: SQLite vs PostgreSQL (same corpus, same client), and the full
rematch (re-match every stored SBOM) vs the reverse-index rematch of one advisory.

    cargo build --release -p bulwark-cli
    python3 bench/server.py --quick                 # 300 SBOMs, both databases, < 2 min
    python3 bench/server.py --save                  # 10,000 SBOMs -> bench/results/server.{md,json}
    python3 bench/server.py --sboms 2000 --databases sqlite --bulwark PATH

Needs Python's standard library only; PostgreSQL through scripts/postgres.sh (Debian's
`postgresql` package). Every socket is on 127.0.0.1.
"""
import argparse
import base64
import hashlib
import hmac
import http.client
import http.server
import json
import os
import platform
import random
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import uuid

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TARGETS = {
    "new_advisory_visible_s": 1.0,
    "full_rematch_s": 60.0,
    "portfolio_p99_ms": 50.0,
}
# The new advisory's package: a real PyPI project that the advisory data does not mention, put
# into ~1% of the SBOMs (whole asset repositories, so every digest of such an asset has it).
MARKER = ("PyPI", "python-dateutil", "2.8.2")
MARKER_SHARE = 0.01
NEW_ADVISORIES = {"api": "BENCH-2026-0001", "db-import": "BENCH-2026-0002"}
WEBHOOK_SECRET = "bench-webhook-secret-0123456789abcdef"

# Real, popular packages that the advisory data has no advisory for (so images also carry
# plenty of clean components, as real ones do). Versions are real releases.
COMMON_PYPI = """
attrs 23.2.0|boto3 1.34.69|botocore 1.34.69|cachetools 5.3.3|cffi 1.16.0|charset-normalizer 3.3.2
click 8.1.7|colorama 0.4.6|decorator 5.1.1|distlib 0.3.8|filelock 3.13.3|fsspec 2024.3.1
google-auth 2.29.0|googleapis-common-protos 1.63.0|grpcio 1.62.1|h11 0.14.0|importlib-metadata 7.1.0
iniconfig 2.0.0|isodate 0.6.1|jmespath 1.0.1|jsonschema 4.21.1|markupsafe 2.1.5|more-itertools 10.2.0
msgpack 1.0.8|packaging 24.0|platformdirs 4.2.0|pluggy 1.4.0|protobuf 4.25.3|psutil 5.9.8
pyasn1 0.6.0|pyasn1-modules 0.4.0|pycparser 2.21|pydantic 2.6.4|pydantic-core 2.16.3|pyparsing 3.1.2
pytest 8.1.1|pytz 2024.1|regex 2023.12.25|s3transfer 0.10.1|six 1.16.0|sniffio 1.3.1
soupsieve 2.5|tomli 2.0.1|tqdm 4.66.2|typing-extensions 4.10.0|tzdata 2024.1|wrapt 1.16.0
zipp 3.18.1|anyio 4.3.0|beautifulsoup4 4.12.3|greenlet 3.0.3|grpcio-status 1.62.1|itsdangerous 2.1.2
kombu 5.3.6|amqp 5.2.0|billiard 4.2.0|vine 5.1.0|prometheus-client 0.20.0|python-dotenv 1.0.1
rich 13.7.1|markdown-it-py 3.0.0|mdurl 0.1.2|openpyxl 3.1.2|et-xmlfile 1.1.0|psycopg2-binary 2.9.9
structlog 24.1.0|tenacity 8.2.3|toml 0.10.2|websocket-client 1.7.0|xmltodict 0.13.0|yarl 1.9.4
multidict 6.0.5|frozenlist 1.4.1|aiosignal 1.3.1|async-timeout 4.0.3|marshmallow 3.21.1|orjson 3.10.0
""".replace("\n", "|")
COMMON_NPM = """
accepts 1.3.8|ansi-regex 5.0.1|ansi-styles 4.3.0|array-flatten 1.1.1|balanced-match 1.0.2|body-parser 1.20.2
brace-expansion 1.1.11|bytes 3.1.2|call-bind 1.0.7|chalk 4.1.2|color-convert 2.0.1|color-name 1.1.4
commander 11.1.0|concat-map 0.0.1|content-disposition 0.5.4|content-type 1.0.5|cookie 0.6.0|cookie-signature 1.0.6
cross-spawn 7.0.3|debug 4.3.4|depd 2.0.0|destroy 1.2.0|dotenv 16.4.5|ee-first 1.1.1
encodeurl 1.0.2|escape-html 1.0.3|etag 1.8.1|finalhandler 1.2.0|forwarded 0.2.0|fresh 0.5.2
function-bind 1.1.2|get-intrinsic 1.2.4|glob 10.3.12|has-flag 4.0.0|http-errors 2.0.0|iconv-lite 0.4.24
inherits 2.0.4|ipaddr.js 1.9.1|isexe 2.0.0|media-typer 0.3.0|merge-descriptors 1.0.1|methods 1.1.2
mime 1.6.0|mime-db 1.52.0|mime-types 2.1.35|minimatch 9.0.4|ms 2.1.3|negotiator 0.6.3
object-inspect 1.13.1|on-finished 2.4.1|parseurl 1.3.3|path-key 3.1.1|path-to-regexp 0.1.7|proxy-addr 2.0.7
qs 6.11.0|range-parser 1.2.1|raw-body 2.5.2|safe-buffer 5.2.1|safer-buffer 2.1.2|send 0.18.0
serve-static 1.15.0|setprototypeof 1.2.0|shebang-command 2.0.0|side-channel 1.0.6|statuses 2.0.1|supports-color 7.2.0
toidentifier 1.0.1|type-is 1.6.18|unpipe 1.0.0|utils-merge 1.0.1|uuid 9.0.1|vary 1.1.2
which 2.0.2|yallist 4.0.0|lru-cache 10.2.0|tslib 2.6.2|rxjs 7.8.1|zone.js 0.14.4
""".replace("\n", "|")


def parse_pool(text):
    out = []
    for item in text.split("|"):
        item = item.strip()
        if item:
            name, version = item.split()
            out.append((name, [version]))
    return out


# ---------------------------------------------------------------- package pools

def dpkg_status_files():
    """The Debian 12 package lists the OS pool is drawn from: the project's test images
    (scripts/build-test-images.py) and, when it is Debian 12 too, this machine's."""
    paths = []
    images = os.environ.get("BULWARK_TESTIMAGES", os.path.join(REPO, ".cache", "testimages"))
    for name in ("minbase", "python", "lang", "big"):
        p = os.path.join(images, name, "rootfs", "var", "lib", "dpkg", "status")
        if os.path.exists(p):
            paths.append(("testimage:" + name, p))
    try:
        with open("/etc/os-release") as f:
            host_is_bookworm = 'VERSION_ID="12"' in f.read()
    except OSError:
        host_is_bookworm = False
    if host_is_bookworm and os.path.exists("/var/lib/dpkg/status"):
        paths.append(("host", "/var/lib/dpkg/status"))
    return paths


def read_dpkg_status(path):
    pkgs = []
    with open(path, encoding="utf-8", errors="replace") as f:
        for stanza in f.read().split("\n\n"):
            fields = {}
            for line in stanza.splitlines():
                if line[:1] in (" ", "\t") or ":" not in line:
                    continue
                k, v = line.split(":", 1)
                fields[k] = v.strip()
            if "Package" not in fields or "Version" not in fields:
                continue
            if not fields.get("Status", "").endswith(" installed"):
                continue
            src, src_version = fields["Package"], fields["Version"]
            if fields.get("Source"):
                parts = fields["Source"].split()
                src = parts[0]
                if len(parts) > 1:
                    src_version = parts[1].strip("()")
            pkgs.append({
                "name": fields["Package"], "version": fields["Version"],
                "arch": fields.get("Architecture", "amd64"), "source": src,
                "source_version": src_version,
                "base": fields.get("Priority") in ("required", "important")
                or fields.get("Essential") == "yes",
            })
    return pkgs


def os_pool():
    by_name = {}
    sources = []
    for label, path in dpkg_status_files():
        pkgs = read_dpkg_status(path)
        sources.append(f"{label} ({len(pkgs)})")
        for p in pkgs:
            by_name.setdefault(p["name"], p)
    if len(by_name) < 100:
        sys.exit("server.py: no Debian 12 package list found: build the test images "
                 "(python3 scripts/build-test-images.py minbase python big) or run on Debian 12")
    pool = sorted(by_name.values(), key=lambda p: p["name"])
    return pool, sources


def advisory_pools(vulndb_sqlite):
    """PyPI and npm names with advisories, each with the versions its ranges name (introduced
    and fixed events): a mix of vulnerable and fixed releases."""
    con = sqlite3.connect(f"file:{vulndb_sqlite}?mode=ro", uri=True)
    pools = {"PyPI": {}, "npm": {}}
    for eco, name, ranges in con.execute(
            "SELECT ecosystem, name, ranges FROM affected WHERE ecosystem IN ('PyPI', 'npm')"):
        if name != name.lower() or name == MARKER[1]:
            continue  # `Axios`: a casing quirk of one GHSA file, not a second package
        versions = pools[eco].setdefault(name, set())
        for r in json.loads(ranges):
            for kind, v in r.get("e", []):
                if kind in ("i", "f", "l") and v != "0":
                    versions.add(v)
    con.close()
    return {eco: sorted((n, sorted(v)) for n, v in names.items() if v)
            for eco, names in pools.items()}


# ---------------------------------------------------------------- the corpus

def quote_version(v):
    return urllib.parse.quote(v, safe=".-_~")


def deb_purl(p, version):
    epoch = None
    if ":" in version:
        epoch, version = version.split(":", 1)
    q = [f"arch={p['arch']}"]
    if epoch:
        q.append(f"epoch={epoch}")
    if p["source"] != p["name"] or p["source_version"] != p["version"]:
        src = p["source"]
        if p["source_version"] != p["version"]:
            src += "@" + p["source_version"]
        q.append("upstream=" + urllib.parse.quote(src, safe=".-_~@"))
    q.append("distro=debian-12")
    return f"pkg:deb/debian/{p['name']}@{quote_version(version)}?{'&'.join(q)}"


def older_debian(version):
    """The bookworm release build of a version updated by a point release or a DSA
    (`2.36-9+deb12u7` -> `2.36-9`): what an image built earlier still carries."""
    i = version.find("+deb12u")
    return version[:i] if i > 0 else version


class Corpus:
    """SBOM i belongs to asset i % assets, so the first uploads each start a repository and
    later ones add digests; an asset keeps its package set across digests, bumping versions."""

    def __init__(self, seed, sboms, assets, teams, os_packages, adv_pools):
        self.seed, self.sboms, self.assets, self.teams = seed, sboms, assets, teams
        self.base = [p for p in os_packages if p["base"]]
        self.extra = [p for p in os_packages if not p["base"]]
        self.pypi = adv_pools["PyPI"] + parse_pool(COMMON_PYPI)
        self.npm = adv_pools["npm"] + parse_pool(COMMON_NPM)
        rng = random.Random(seed)
        n_marked = max(1, round(assets * MARKER_SHARE))
        self.marked = set(rng.sample(range(assets), n_marked))

    def team_of(self, asset):
        return f"team-{asset % self.teams:02d}"

    def asset_name(self, asset):
        return f"registry.bench.invalid/{self.team_of(asset)}/app-{asset:05d}"

    def _profile(self, asset):
        rng = random.Random(self.seed * 1_000_003 + asset)
        total = rng.randint(150, 400)
        base = list(self.base)
        n_os = min(len(base) + len(self.extra), max(len(base), int(total * rng.uniform(0.45, 0.8))))
        os_pkgs = base + rng.sample(self.extra, max(0, n_os - len(base)))
        lang = total - len(os_pkgs) - 1  # 1: the operating-system component
        kind = rng.choice(["pypi", "pypi", "npm", "mixed"])
        if kind == "pypi":
            pools = [("pypi", self.pypi, lang)]
        elif kind == "npm":
            pools = [("npm", self.npm, lang)]
        else:
            pools = [("pypi", self.pypi, lang // 2), ("npm", self.npm, lang - lang // 2)]
        lang_pkgs = []
        for ty, pool, n in pools:
            chosen = rng.sample(pool, min(n, len(pool)))
            # Vendored duplicates (several node_modules copies, several virtualenvs) fill the
            # rest, as big images have.
            while len(chosen) < n:
                chosen.append(rng.choice(pool))
            lang_pkgs += [(ty, name, versions) for name, versions in chosen]
        return rng, os_pkgs, lang_pkgs

    def sbom(self, i):
        """(body bytes, facts) of SBOM i."""
        asset = i % self.assets
        generation = i // self.assets  # 0 = oldest digest of the asset
        _, os_pkgs, lang_pkgs = self._profile(asset)
        rng = random.Random(self.seed * 7_919 + i)
        digest = "sha256:" + hashlib.sha256(f"bench-{self.seed}-{i}".encode()).hexdigest()
        # Older digests carry older OS builds; newer ones mostly the current point release.
        stale = 0.7 if generation == 0 else 0.25
        comps = [{"type": "operating-system", "name": "debian", "version": "12",
                  "description": "Debian GNU/Linux 12 (bookworm)", "bom-ref": "os"}]
        for p in os_pkgs:
            version = older_debian(p["version"]) if rng.random() < stale else p["version"]
            purl = deb_purl(p, version)
            comps.append({"type": "library", "name": p["name"], "version": version,
                          "purl": purl, "bom-ref": purl})
        for n, (ty, name, versions) in enumerate(lang_pkgs):
            # The newest known version most of the time, an older (often vulnerable) one else.
            version = versions[-1] if rng.random() < 0.6 else rng.choice(versions)
            purl = f"pkg:{ty}/{name}@{quote_version(version)}"
            comps.append({"type": "library", "name": name, "version": version, "purl": purl,
                          "bom-ref": f"{purl}#{n}"})
        marked = asset in self.marked
        if marked:
            eco, name, version = MARKER
            purl = f"pkg:pypi/{name}@{version}"
            comps[-1] = {"type": "library", "name": name, "version": version, "purl": purl,
                         "bom-ref": purl}
        team = self.team_of(asset)
        doc = {
            "bomFormat": "CycloneDX", "specVersion": "1.5",
            "serialNumber": f"urn:uuid:{uuid.UUID(int=random.Random(i).getrandbits(128))}",
            "version": 1,
            "metadata": {
                "timestamp": "2026-12-01T00:00:00Z",
                "tools": {"components": [{"type": "application", "name": "bench/server.py"}]},
                "component": {"type": "container", "bom-ref": "image",
                              "name": f"{self.asset_name(asset)}:1.{generation}.{i % 7}",
                              "version": digest},
                "properties": [
                    {"name": "syft:image:labels:org.opencontainers.image.vendor", "value": team},
                    {"name": "syft:image:labels:org.opencontainers.image.authors",
                     "value": f"owner-{asset % 97}@bench.invalid"},
                ],
            },
            "components": comps,
        }
        body = json.dumps(doc, separators=(",", ":")).encode()
        return body, {"asset": self.asset_name(asset), "team": team, "digest": digest,
                      "components": len(comps), "marked": marked}


def new_advisory_json(advisory_id):
    eco, name, _ = MARKER
    return {
        "schema_version": "1.6.0", "id": advisory_id,
        "modified": "2026-12-07T00:00:00Z", "published": "2026-12-07T00:00:00Z",
        "summary": f"benchmark advisory for {name} (bench/server.py)",
        "severity": [{"type": "CVSS_V3",
                      "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}],
        "affected": [{"package": {"ecosystem": eco, "name": name},
                      "ranges": [{"type": "ECOSYSTEM",
                                  "events": [{"introduced": "0"}, {"fixed": "2.9.0"}]}]}],
    }


# ---------------------------------------------------------------- HTTP

class Api:
    """One keep-alive connection (not thread-safe: one per thread)."""

    def __init__(self, port, token):
        self.port, self.token = port, token
        self.conn = None

    def request(self, method, path, body=None, token=None, content_type="application/json",
                timeout=600):
        headers = {"Authorization": f"Bearer {token or self.token}"}
        if body is not None:
            headers["Content-Type"] = content_type
            if not isinstance(body, (bytes, bytearray)):
                body = json.dumps(body).encode()
        for attempt in range(2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
            try:
                self.conn.request(method, path, body=body, headers=headers)
                resp = self.conn.getresponse()
                data = resp.read()
                if resp.getheader("Connection", "").lower() == "close":
                    self.conn.close()
                    self.conn = None
                return resp.status, data, resp
            except (ConnectionError, http.client.HTTPException, socket.timeout):
                self.conn.close()
                self.conn = None
                if attempt:
                    raise
        raise AssertionError("unreachable")

    def json(self, method, path, body=None, token=None, ok=(200, 201, 202)):
        status, data, _ = self.request(method, path, body, token)
        if status not in ok:
            raise RuntimeError(f"{method} {path}: HTTP {status}: {data[:300]!r}")
        return json.loads(data) if data else None

    def close(self):
        if self.conn:
            self.conn.close()


def percentile(values, p):
    if not values:
        return None
    s = sorted(values)
    k = (len(s) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (k - lo)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Webhooks:
    """A local receiver of the server's signed webhooks: arrival time of each, and whether its
    `X-Bulwark-Signature` is the HMAC-SHA256 of the body with the rule's secret."""

    def __init__(self):
        self.lock = threading.Lock()
        self.received = []  # (monotonic time, event kind, signature ok, body)
        hooks = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                want = "sha256=" + hmac.new(WEBHOOK_SECRET.encode(), body, hashlib.sha256).hexdigest()
                ok = hmac.compare_digest(want, self.headers.get("X-Bulwark-Signature", ""))
                with hooks.lock:
                    hooks.received.append((time.monotonic(), self.headers.get("X-Bulwark-Event"),
                                           ok, body))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def reset(self):
        with self.lock:
            self.received.clear()

    def about(self, needle, kind):
        with self.lock:
            return [r for r in self.received if r[1] == kind and needle.encode() in r[3]]

    def close(self):
        self.server.shutdown()


# ---------------------------------------------------------------- the server under test

def rss_of(pid):
    out = {}
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(("VmHWM:", "VmRSS:")):
                    k, v = line.split(":", 1)
                    out[k] = round(int(v.split()[0]) / 1024, 1)
    except OSError:
        pass
    return out


class Server:
    def __init__(self, bulwark, data_dir, database, admin_token, log_path, extra_args=(),
                 nice=None):
        self.port = free_port()
        self.data_dir = data_dir
        cmd = [bulwark, "server", "--listen", f"127.0.0.1:{self.port}", "--data-dir", data_dir]
        if database:
            cmd += ["--database", database]
        cmd += list(extra_args)
        self.cmd = cmd
        env = dict(os.environ, BULWARK_ADMIN_TOKEN=admin_token, NO_COLOR="1",
                   RUST_LOG=os.environ.get("RUST_LOG", "warn"))
        self.log = open(log_path, "wb")
        # cwd: the data dir, so no ./bulwark.yaml of the checkout is read as the server's config.
        self.proc = subprocess.Popen(cmd, stdout=self.log, stderr=subprocess.STDOUT, env=env,
                                     stdin=subprocess.DEVNULL, cwd=data_dir,
                                     preexec_fn=(lambda: os.nice(nice)) if nice else None)
        deadline = time.monotonic() + 60
        api = Api(self.port, admin_token)
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"bulwark server exited with {self.proc.returncode}; "
                                   f"see {log_path}")
            try:
                status, _, _ = api.request("GET", "/readyz", timeout=5)
                if status == 200:
                    break
            except OSError:
                api.conn = None
            if time.monotonic() > deadline:
                raise RuntimeError(f"bulwark server not ready within 60 s; see {log_path}")
            time.sleep(0.1)
        api.close()

    def rss(self):
        return rss_of(self.proc.pid)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


class Postgres:
    """A throwaway cluster from scripts/postgres.sh (as root it runs as `postgres`, so its
    directory's parents must be traversable)."""

    def __init__(self, workdir, nice=None):
        self.dir = os.path.join(workdir, "pg")
        self.url = subprocess.run(["bash", os.path.join(REPO, "scripts", "postgres.sh"), "start",
                                   self.dir], check=True, capture_output=True, text=True,
                                  preexec_fn=(lambda: os.nice(nice)) if nice else None
                                  ).stdout.strip()

    def postmaster(self):
        with open(os.path.join(self.dir, "data", "postmaster.pid")) as f:
            return int(f.readline())

    def stop(self):
        subprocess.run(["bash", os.path.join(REPO, "scripts", "postgres.sh"), "stop", self.dir],
                       check=False, capture_output=True)


# ---------------------------------------------------------------- phases

def setup_tokens(api, teams):
    """One upload+read token per team (as each team's CI would have); the per-token rate limit
    then applies per team, as in production."""
    tokens = {}
    for t in range(teams):
        team = f"team-{t:02d}"
        status, data, _ = api.request("POST", "/api/v1/teams", {"name": team})
        if status not in (200, 201, 409):
            raise RuntimeError(f"POST /api/v1/teams: HTTP {status}: {data[:300]!r}")
        reply = api.json("POST", "/api/v1/tokens",
                         {"name": f"ci-{team}", "scopes": ["upload", "read"], "team": team})
        tokens[team] = reply["token"]
    return tokens


def upload_path(facts):
    return "/api/v1/reports?" + urllib.parse.urlencode({"team": facts["team"]})


def set_thread_nice(n):
    """Linux niceness is per thread: set this thread's."""
    if n is not None:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), n)


def renice_tree(pid, n):
    """Every thread of `pid` and of its descendants to niceness `n` (root may lower it)."""
    children = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
                children.setdefault(ppid, []).append(int(entry))
            except (OSError, ValueError, IndexError):
                pass
    todo = [pid]
    while todo:
        p = todo.pop()
        todo += children.get(p, [])
        try:
            for tid in os.listdir(f"/proc/{p}/task"):
                try:
                    os.setpriority(os.PRIO_PROCESS, int(tid), n)
                except OSError:
                    pass
        except OSError:
            pass


def load(port, corpus, tokens, admin_token, concurrency, start, end, prebuild=False,
         stop_at=None, nice=None):
    """Uploads SBOMs [start, end) with `concurrency` threads, each taking the next index, until
    done or (unless None) time.time() >= stop_at; what was uploaded is always a prefix.
    Returns (records by index, seconds, 429 answers, client seconds spent building bodies)."""
    # With prebuild the bodies are built before the clock starts, so the measured window is
    # the server's, not this script's JSON encoding.
    pre = {i: corpus.sbom(i) for i in range(start, end)} if prebuild else {}
    records = {}
    next_index = [start]
    lock = threading.Lock()
    errors = []
    throttled = [0]
    gen_seconds = [0.0]

    def worker():
        set_thread_nice(nice)
        api = Api(port, admin_token)
        while True:
            with lock:
                i = next_index[0]
                if i >= end or len(errors) > 20 or (stop_at and time.time() >= stop_at):
                    break
                next_index[0] += 1
            if i in pre:
                body, facts = pre.pop(i)
            else:
                g = time.monotonic()
                body, facts = corpus.sbom(i)
                with lock:
                    gen_seconds[0] += time.monotonic() - g
            token = tokens.get(facts["team"], admin_token) if tokens else admin_token
            while True:
                t0 = time.monotonic()
                status, data, resp = api.request("POST", upload_path(facts), body, token=token)
                t1 = time.monotonic()
                if status == 429:
                    with lock:
                        throttled[0] += 1
                    time.sleep(float(resp.getheader("Retry-After") or 1))
                    continue
                break
            if status not in (200, 201):
                with lock:
                    errors.append(f"upload {i}: HTTP {status}: {data[:200]!r}")
            with lock:
                records[i] = (t0, t1, status, facts["marked"], len(body))
        api.close()

    started = time.monotonic()
    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    total = time.monotonic() - started
    if errors:
        raise RuntimeError("uploads failed:\n  " + "\n  ".join(errors[:10]))
    return records, total, throttled[0], gen_seconds[0]


def upload_stats(records):
    window = list(records.values())
    if not window:
        return None
    lat = [(r[1] - r[0]) * 1000 for r in window]
    span = max(r[1] for r in window) - min(r[0] for r in window)
    return {"uploads": len(window), "seconds": round(span, 2),
            "per_second": round(len(window) / span, 1),
            "p50_ms": round(percentile(lat, 50), 1), "p95_ms": round(percentile(lat, 95), 1),
            "p99_ms": round(percentile(lat, 99), 1), "max_ms": round(max(lat), 1),
            "mean_body_kib": round(statistics.mean(r[4] for r in window) / 1024, 1)}


def rematch_metrics(api):
    """The server's own rematch timings from /metrics: {kind: (sum seconds, count)}."""
    status, data, _ = api.request("GET", "/metrics")
    out = {}
    if status != 200:
        return out
    for line in data.decode().splitlines():
        for suffix, slot in (("_sum", 0), ("_count", 1)):
            head = f"bulwark_rematch_duration_seconds{suffix}{{"
            if line.startswith(head):
                labels, value = line[len(head):].split("}", 1)
                kind = labels.split('kind="', 1)[1].split('"', 1)[0]
                out.setdefault(kind, [0.0, 0])[slot] = float(value.split()[0])
    return out


def server_rematch_seconds(before, after, kind):
    """Mean server-side duration of the `kind` rematches run between two scrapes."""
    b, a = before.get(kind, [0.0, 0]), after.get(kind, [0.0, 0])
    n = a[1] - b[1]
    return round((a[0] - b[0]) / n, 3) if n else None


def affected_rows(api, vuln):
    """How many open findings of `vuln` the API lists (`GET /api/v1/vulnerabilities/{id}/assets`
    has one row per asset version and package)."""
    return api.json("GET", f"/api/v1/vulnerabilities/{urllib.parse.quote(vuln)}/assets?limit=1")["total"]


def new_advisory(api, bulwark, data_dir, workdir, webhooks, expected_assets, expected_versions,
                 advisory_id, via, timeout=120):
    """Imports one advisory (`via` = "api": `POST /api/v1/advisories/import`, which wakes the
    rematch; "db-import": `bulwark db import --db-dir` into the server's advisory store, noticed
    by the server's poll) and times, from the start of the import, until the API shows the
    vulnerability open on every affected version (each has the package once) and until the
    webhook receiver has a signed notification for each."""
    webhooks.reset()
    metrics_before = rematch_metrics(api)
    doc = new_advisory_json(advisory_id)
    t0 = time.monotonic()
    if via == "api":
        api.json("POST", f"/api/v1/advisories/import?name={advisory_id}",
                 json.dumps(doc).encode())
    else:
        path = os.path.join(workdir, f"{advisory_id}.json")
        with open(path, "w") as f:
            json.dump(doc, f)
        t0 = time.monotonic()
        subprocess.run([bulwark, "db", "import", "--db-dir", os.path.join(data_dir, "advisories"),
                        path], check=True, capture_output=True)
    imported = time.monotonic()
    seen = hooks_done = None
    count = 0
    last_hook_count, last_change = 0, time.monotonic()
    while time.monotonic() < t0 + timeout:
        if seen is None:
            count = affected_rows(api, advisory_id)
            if count >= expected_versions:
                seen = time.monotonic()
        n = len(webhooks.about(advisory_id, "new_finding"))
        if n != last_hook_count:
            last_hook_count, last_change = n, time.monotonic()
        if hooks_done is None and n >= expected_versions:
            hooks_done = time.monotonic()
        # Done when the findings are visible and the webhooks are complete (or none came for 5 s).
        if seen is not None and (hooks_done is not None or time.monotonic() - last_change > 5):
            break
        time.sleep(0.01)
    hooks = webhooks.about(advisory_id, "new_finding")
    first_hook = min((h[0] for h in hooks), default=None)
    last_hook = max((h[0] for h in hooks), default=None)
    time.sleep(0.2)  # the rematch is recorded in /metrics right after its events
    return {
        "via": via,
        "server_rematch_s": server_rematch_seconds(metrics_before, rematch_metrics(api),
                                                   "incremental"),
        "affected_assets": expected_assets,
        "affected_versions": expected_versions,
        "findings_seen": count,
        "import_s": round(imported - t0, 3),
        "visible_s": round(seen - t0, 3) if seen else None,
        "webhooks": len(hooks),
        "webhooks_signed_ok": sum(1 for h in hooks if h[2]),
        "first_webhook_s": round(first_hook - t0, 3) if first_hook else None,
        "last_webhook_s": round(last_hook - t0, 3) if last_hook else None,
        "all_webhooks_s": round(hooks_done - t0, 3) if hooks_done else None,
    }


def full_rematch(api, timeout):
    """`POST /api/v1/rematch` queues a job; its state is at `GET /api/v1/scans/{job}`. Given up
    on (state `timeout`) after `timeout` seconds, so one slow database leaves time for the
    other."""
    metrics_before = rematch_metrics(api)
    t0 = time.monotonic()
    job = api.json("POST", "/api/v1/rematch")["job"]
    while True:
        view = api.json("GET", f"/api/v1/scans/{job}")
        if view.get("state") in ("done", "failed"):
            break
        if time.monotonic() - t0 > timeout:
            view = dict(view, state="timeout")
            break
        time.sleep(0.05)
    took = time.monotonic() - t0
    time.sleep(0.2)
    return {"seconds": round(took, 2),
            "server_s": server_rematch_seconds(metrics_before, rematch_metrics(api), "full"),
            "state": view.get("state"),
            "result": view.get("result"), "error": view.get("error")}


def portfolio(api, teams, requests, limit=50):
    """GET /api/v1/assets pages (the server's one order: by name): a quarter each of deep
    offsets, first pages, a team's assets and a name search."""
    total = api.json("GET", "/api/v1/assets?limit=1")["total"]
    rng = random.Random(7)
    lat, statuses = [], {}
    for n in range(requests):
        q = {"limit": limit}
        kind = n % 4
        if kind == 0:
            q["offset"] = rng.randrange(0, max(1, total - limit))
        elif kind == 2:
            q["team"] = f"team-{rng.randrange(teams):02d}"
        elif kind == 3:
            q["name"] = f"app-{rng.randrange(100):02d}"
        while True:
            t0 = time.monotonic()
            status, _, resp = api.request("GET", "/api/v1/assets?" + urllib.parse.urlencode(q))
            took = (time.monotonic() - t0) * 1000
            statuses[status] = statuses.get(status, 0) + 1
            if status != 429:
                break
            # The server's rate limit (per token): wait as told, and time the retried request.
            time.sleep(float(resp.getheader("Retry-After") or 1))
        lat.append(took)
    return {"assets_total": total, "requests": requests, "page_size": limit,
            "statuses": {str(k): v for k, v in sorted(statuses.items())},
            "p50_ms": round(percentile(lat, 50), 2), "p95_ms": round(percentile(lat, 95), 2),
            "p99_ms": round(percentile(lat, 99), 2), "max_ms": round(max(lat), 2)}


class Target:
    """One database under test: its server, admin API and team tokens, and how many SBOMs it
    holds (always the prefix [0, loaded) of the corpus)."""

    def __init__(self, kind, args, bulwark, workdir, pg, nice):
        self.kind = kind
        self.data_dir = os.path.join(workdir, kind)
        os.makedirs(self.data_dir)
        subprocess.run([bulwark, "db", "import", "--db-dir",
                        os.path.join(self.data_dir, "advisories"), args.advisories],
                       check=True, capture_output=True)
        self.admin = "bench-admin-" + hashlib.sha256(kind.encode()).hexdigest()[:24]
        self.server = Server(bulwark, self.data_dir, pg.url if kind == "postgres" else None,
                             self.admin, os.path.join(workdir, f"{kind}.log"), args.server_arg,
                             nice)
        self.api = Api(self.server.port, self.admin)
        # The server's first advisory check matches against an empty store: let it pass.
        time.sleep(0.5)
        self.tokens = setup_tokens(self.api, args.teams) if args.team_tokens else {}
        self.loaded = 0
        self.out = {"database": kind}

    def prepare(self, corpus, args, upto, stop_at=None, nice=None):
        """The untimed bulk of the load (at `nice`, until `stop_at` when given)."""
        if upto <= 0:
            return
        print(f"[{self.kind}] preparing: SBOMs 0..{upto} at concurrency {args.concurrency}"
              + (f", niceness {nice}" if nice else ""), flush=True)
        records, total, throttled, gen = load(self.server.port, corpus, self.tokens, self.admin,
                                              args.concurrency, 0, upto, stop_at=stop_at,
                                              nice=nice)
        self.loaded = len(records)
        self.out["prepare"] = {"sboms": self.loaded, "seconds": round(total, 1),
                               "niceness": nice or 0, "throttled_429": throttled,
                               "client_generation_seconds": round(gen, 1),
                               "uploads": upload_stats(records)}
        print(f"[{self.kind}] prepared {self.loaded} SBOMs in {total:.1f} s", flush=True)

    def measure(self, corpus, args, bulwark, workdir, webhooks):
        kind, out, api = self.kind, self.out, self.api
        start, end = self.loaded, min(corpus.sboms, self.loaded + args.first)
        print(f"[{kind}] timed uploads: SBOMs {start}..{end} at concurrency {args.concurrency}",
              flush=True)
        records, total, throttled, _ = load(self.server.port, corpus, self.tokens, self.admin,
                                            args.concurrency, start, end, prebuild=True)
        self.loaded = end
        out["stored_sboms"] = end
        out["upload_window"] = dict(upload_stats(records), after=start)
        out["throttled_429"] = throttled
        prep = out.get("prepare")
        out["load_seconds"] = round(total + (prep["seconds"] if prep else 0), 1)
        out["rss_after_load_mib"] = self.server.rss()
        print(f"[{kind}] {out['upload_window']}", flush=True)
        time.sleep(args.settle)
        stored = range(self.loaded)
        marked_versions = sum(1 for i in stored if (i % corpus.assets) in corpus.marked)
        marked_assets = len(corpus.marked & {i % corpus.assets for i in stored})
        api.json("POST", "/api/v1/notifications/rules",
                 {"type": "webhook", "name": "bench", "url": webhooks.url,
                  "secret": WEBHOOK_SECRET, "on": ["new_finding"]})
        for via, advisory_id in NEW_ADVISORIES.items():
            out[f"new_advisory_{via}"] = r = new_advisory(
                api, bulwark, self.data_dir, workdir, webhooks, marked_assets, marked_versions,
                advisory_id, via)
            print(f"[{kind}] new advisory ({via}): {r}", flush=True)
            time.sleep(args.settle)
        out["full_rematch"] = full_rematch(api, args.rematch_timeout)
        print(f"[{kind}] full rematch: {out['full_rematch']}", flush=True)
        out["portfolio"] = portfolio(api, args.teams, args.portfolio_requests)
        print(f"[{kind}] portfolio: {out['portfolio']}", flush=True)
        out["rss_end_mib"] = self.server.rss()

    def stop(self):
        self.api.close()
        self.server.stop()
        if self.kind == "sqlite":
            size = sum(os.path.getsize(os.path.join(self.data_dir, f))
                       for f in os.listdir(self.data_dir) if f.startswith("bulwark.sqlite"))
            self.out["database_mib"] = round(size / 2**20, 1)


# ---------------------------------------------------------------- report

def fmt(v, unit=""):
    return "-" if v is None else f"{v}{unit}"


def ratio(a, b):
    return round(a / b, 3) if a is not None and b else None


def markdown(meta, results):
    lines = [f"## server benchmark {meta['date']} (commit {meta['commit']})", ""]
    lines.append(f"Corpus: {meta['sboms']} CycloneDX image SBOMs ({meta['components_min']}–"
                 f"{meta['components_max']} components, mean {meta['components_mean']}), "
                 f"{meta['assets']} asset repositories, {meta['teams']} teams; OS packages from "
                 f"{', '.join(meta['os_pool'])}; PyPI/npm names and versions from the advisory "
                 f"data ({meta['advisory_names']} names) plus {meta['common_names']} clean ones. "
                 f"Uploads at concurrency {meta['concurrency']} over loopback, one keep-alive "
                 f"connection per thread{', one token per team' if meta['team_tokens'] else ''}. "
                 f"Machine: {meta['machine']}. {meta['bulwark_version']}.")
    lines.append("")
    dbs = [r["database"] for r in results]
    lines.append("| measurement | " + " | ".join(dbs) + " | target |")
    lines.append("| --- | " + " | ".join("---:" for _ in dbs) + " | --- |")

    def row(label, get, target=""):
        vals = []
        for r in results:
            try:
                vals.append(fmt(get(r)))
            except (KeyError, TypeError):
                vals.append("-")
        lines.append(f"| {label} | " + " | ".join(vals) + f" | {target} |")

    row("SBOMs stored at the end", lambda r: r["stored_sboms"])
    row("timed uploads: onto a server already holding", lambda r: r["upload_window"]["after"])
    row("timed uploads: count", lambda r: r["upload_window"]["uploads"])
    row("timed uploads: uploads/s", lambda r: r["upload_window"]["per_second"])
    row("timed uploads: p50 ms", lambda r: r["upload_window"]["p50_ms"])
    row("timed uploads: p95 ms", lambda r: r["upload_window"]["p95_ms"])
    row("timed uploads: p99 ms", lambda r: r["upload_window"]["p99_ms"])
    row("untimed bulk load: uploads/s (niceness)",
        lambda r: f"{r['prepare']['uploads']['per_second']} ({r['prepare']['niceness']})")
    row("total load s", lambda r: r["load_seconds"])
    row("429 answers during load", lambda r: r["throttled_429"])
    row("new advisory: affected assets / versions",
        lambda r: f"{r['new_advisory_api']['affected_assets']} / {r['new_advisory_api']['affected_versions']}")
    for via, how in (("api", "API import"), ("db-import", "`db import --db-dir`")):
        k = f"new_advisory_{via}"
        row(f"new advisory ({how}): findings visible s", lambda r, k=k: r[k]["visible_s"], "< 1")
        row(f"new advisory ({how}): first webhook s", lambda r, k=k: r[k]["first_webhook_s"])
        row(f"new advisory ({how}): all webhooks s", lambda r, k=k: r[k]["all_webhooks_s"], "< 1")
        row(f"new advisory ({how}): webhooks (signature ok)",
            lambda r, k=k: f"{r[k]['webhooks']} ({r[k]['webhooks_signed_ok']})")
    row("new advisory (API import): server's incremental rematch s",
        lambda r: r["new_advisory_api"]["server_rematch_s"])
    row("full rematch s", lambda r: r["full_rematch"]["seconds"]
        if r["full_rematch"]["state"] == "done" else f"> {r['full_rematch']['seconds']} ({r['full_rematch']['state']})",
        "< 60")
    row("full rematch: server's own s (/metrics)", lambda r: r["full_rematch"]["server_s"])
    row("portfolio p50 ms", lambda r: r["portfolio"]["p50_ms"])
    row("portfolio p99 ms", lambda r: r["portfolio"]["p99_ms"], "< 50")
    row("server RSS after load MiB (VmRSS)", lambda r: r["rss_after_load_mib"]["VmRSS"])
    row("server peak RSS MiB (VmHWM)", lambda r: r["rss_end_mib"]["VmHWM"])
    row("SQLite file MiB", lambda r: r["database_mib"])
    lines.append("")
    lines.append("| ratio | value | meaning |")
    lines.append("| --- | ---: | --- |")
    by = {r["database"]: r for r in results}
    if "sqlite" in by and "postgres" in by:
        s, p = by["sqlite"], by["postgres"]
        for label, get in [("load time", lambda r: r["load_seconds"]),
                           ("upload p99", lambda r: r["upload_window"]["p99_ms"]),
                           ("full rematch", lambda r: r["full_rematch"]["seconds"]),
                           ("portfolio p99", lambda r: r["portfolio"]["p99_ms"])]:
            try:
                lines.append(f"| postgres / sqlite: {label} | {fmt(ratio(get(p), get(s)))} | "
                             "same corpus and client, other database |")
            except (KeyError, TypeError):
                pass
    for r in results:
        try:
            lines.append(f"| {r['database']}: full rematch / one-advisory rematch (server time) | "
                         f"{fmt(ratio(r['full_rematch']['server_s'], r['new_advisory_api']['server_rematch_s']))} | "
                         "re-matching every stored SBOM (the naive baseline) vs the reverse index |")
        except (KeyError, TypeError):
            pass
    lines.append("")
    lines.append("Commands:")
    lines.append("")
    for c in meta["commands"]:
        lines.append(f"- `{c}`")
    lines.append("")
    return "\n".join(lines)


def make_meta(args, bulwark, workdir, corpus_facts):
    version = subprocess.run([bulwark, "--version"], capture_output=True, text=True).stdout.strip()
    commit = subprocess.run(["git", "-C", REPO, "rev-parse", "--short", "HEAD"], capture_output=True,
                            text=True).stdout.strip()
    mem = "?"
    try:
        with open("/proc/meminfo") as f:
            mem = f"{int(f.readline().split()[1]) / 2**20:.1f} GiB"
    except OSError:
        pass
    paths = [(bulwark, "<bulwark>" if not bulwark.startswith(REPO) else
              os.path.relpath(bulwark, REPO)), (args.advisories, "<advisories>"),
             (workdir, "<tmp>"), (REPO, "<repo>")]
    argv = " ".join(sys.argv[1:])
    meta = {
        "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "commit": commit,
        "sboms": args.sboms, "assets": args.assets, "teams": args.teams,
        "concurrency": args.concurrency, "first": args.first, "team_tokens": args.team_tokens,
        **corpus_facts,
        "common_names": len(parse_pool(COMMON_PYPI)) + len(parse_pool(COMMON_NPM)),
        "machine": f"{os.cpu_count()} cores, {mem}, {platform.system()}",
        "bulwark_version": version,
        "commands": [scrub(f"python3 bench/server.py {argv}", paths),
                     scrub(" ".join(["bulwark", "server", "--listen", "127.0.0.1:PORT",
                                     "--data-dir", "<tmp>/DB", "[--database postgres://…]"]
                                    + args.server_arg), paths),
                     "bulwark db import --db-dir <tmp>/DB/advisories <advisories>",
                     f"curl -X POST --data-binary @{NEW_ADVISORIES['api']}.json "
                     f"'http://127.0.0.1:PORT/api/v1/advisories/import?name={NEW_ADVISORIES['api']}'",
                     f"bulwark db import --db-dir <tmp>/DB/advisories <tmp>/{NEW_ADVISORIES['db-import']}.json"],
    }
    meta["measure_at"] = args.measure_at
    return meta, paths


def save_partial(args, meta, paths, results):
    """What is measured so far, in case the run is stopped (`--render` makes the report)."""
    if args.save:
        with open(os.path.join(REPO, "bench", "results", "server.partial.json"), "w") as f:
            f.write(scrub(json.dumps({"meta": meta, "results": results}, indent=2), paths) + "\n")


def scrub(text, paths):
    for p, name in paths:
        if p:
            text = text.replace(p, name)
    return text


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bulwark", default=os.environ.get("BULWARK_BIN",
                                                          os.path.join(REPO, "target/release/bulwark")))
    ap.add_argument("--advisories", default=os.path.join(os.path.dirname(REPO), "shared", "data",
                                                           "advisories"))
    ap.add_argument("--sboms", type=int, default=10_000)
    ap.add_argument("--assets", type=int, help="asset repositories (default: SBOMs / 5)")
    ap.add_argument("--teams", type=int, default=20)
    ap.add_argument("--concurrency", type=int, default=8)
    ap.add_argument("--first", type=int, default=1_000,
                    help="uploads in the latency/throughput window (the issue's 1,000)")
    ap.add_argument("--databases", default="sqlite,postgres")
    ap.add_argument("--portfolio-requests", type=int, default=1_000)
    ap.add_argument("--settle", type=float, default=3.0,
                    help="seconds between the load and the new advisory (background work ends)")
    ap.add_argument("--no-team-tokens", dest="team_tokens", action="store_false",
                    help="upload everything with the admin token")
    ap.add_argument("--server-arg", action="append", default=[],
                    help="extra argument for `bulwark server` (repeatable)")
    ap.add_argument("--quick", action="store_true", help="300 SBOMs, 200 portfolio requests")
    ap.add_argument("--seed", type=int, default=20)
    ap.add_argument("--save", action="store_true",
                    help="append to bench/results/server.md and write bench/results/server.json")
    ap.add_argument("--keep", action="store_true", help="keep the work directory (logs)")
    ap.add_argument("--measure-at", metavar="HH:MM",
                    help="shared machine: upload all but the timed window now at low priority "
                         "(--prepare-nice), every database at once, stopping at HH:MM UTC; "
                         "then measure at normal priority")
    ap.add_argument("--prepare-nice", type=int, default=19)
    ap.add_argument("--rematch-timeout", type=float, default=420,
                    help="seconds to wait for the full rematch job")
    ap.add_argument("--render", metavar="JSON",
                    help="only write the report of a saved (e.g. server.partial.json) run")
    args = ap.parse_args()
    if args.render:
        with open(args.render) as f:
            saved = json.load(f)
        write_report(args, saved["meta"], [], saved["results"])
        return 0
    if args.quick:
        args.sboms = min(args.sboms, 300)
        args.portfolio_requests = 200
        args.first = min(args.first, 300)
    args.first = min(args.first, args.sboms)
    args.assets = args.assets or max(1, args.sboms // 5)
    bulwark = os.path.abspath(args.bulwark)
    if not os.access(bulwark, os.X_OK):
        sys.exit(f"server.py: {bulwark} not found: cargo build --release -p bulwark-cli")
    if not os.path.isdir(args.advisories):
        sys.exit(f"server.py: advisory data {args.advisories} not found (--advisories DIR)")
    databases = [d.strip() for d in args.databases.split(",") if d.strip()]

    workdir = tempfile.mkdtemp(prefix="bulwark-bench-server-")
    os.chmod(workdir, 0o755)  # the postgres user must reach its cluster below it
    pg = None
    webhooks = Webhooks()
    results = []
    try:
        probe = os.path.join(workdir, "probe")
        subprocess.run([bulwark, "db", "import", "--db-dir", probe, args.advisories], check=True,
                       capture_output=True)
        adv = advisory_pools(os.path.join(probe, "vulndb.sqlite"))
        os_packages, os_sources = os_pool()
        corpus = Corpus(args.seed, args.sboms, args.assets, args.teams, os_packages, adv)
        sizes = [corpus.sbom(i)[1]["components"] for i in range(0, args.sboms, max(1, args.sboms // 200))]
        meta, paths = make_meta(args, bulwark, workdir, {
            "components_min": min(sizes), "components_max": max(sizes),
            "components_mean": round(statistics.mean(sizes)), "os_pool": os_sources,
            "advisory_names": len(adv["PyPI"]) + len(adv["npm"])})
        nice = args.prepare_nice if args.measure_at else None
        if "postgres" in databases:
            pg = Postgres(workdir, nice)
        prep_n = max(0, args.sboms - args.first)
        if args.measure_at:
            # A shared machine: the untimed bulk of the load runs now at low priority, every
            # database at once; the timed part waits for `measure_at` and runs at normal priority.
            hh, mm = map(int, args.measure_at.split(":"))
            now = time.gmtime()
            stop_at = time.mktime(time.struct_time((now.tm_year, now.tm_mon, now.tm_mday, hh, mm, 0,
                                                    0, 0, 0))) - time.timezone
            set_thread_nice(nice)
            targets = [Target(k, args, bulwark, workdir, pg, nice) for k in databases]
            preps = [threading.Thread(target=t.prepare, args=(corpus, args, prep_n, stop_at, nice))
                     for t in targets]
            for t in preps:
                t.start()
            for t in preps:
                t.join()
            print(f"prepared; waiting until {args.measure_at} UTC", flush=True)
            while time.time() < stop_at:
                time.sleep(1)
            set_thread_nice(0)
            for t in targets:
                renice_tree(t.server.proc.pid, 0)
            if pg:
                renice_tree(pg.postmaster(), 0)
            for t in targets:
                try:
                    t.measure(corpus, args, bulwark, workdir, webhooks)
                except Exception as e:  # keep what the other database measured
                    t.out["error"] = repr(e)
                    print(f"[{t.kind}] FAILED: {e!r}", flush=True)
                t.stop()
                results.append(t.out)
                save_partial(args, meta, paths, results)
        else:
            for kind in databases:
                t = Target(kind, args, bulwark, workdir, pg, None)
                try:
                    t.prepare(corpus, args, prep_n)
                    t.measure(corpus, args, bulwark, workdir, webhooks)
                finally:
                    t.stop()
                results.append(t.out)
                save_partial(args, meta, paths, results)
    finally:
        webhooks.close()
        if pg:
            pg.stop()
        if args.keep:
            print(f"work directory kept: {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)

    meta["date"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    write_report(args, meta, paths, results)
    return 0


def write_report(args, meta, paths, results):
    report = scrub(markdown(meta, results), paths)
    print()
    print(report)
    if args.save:
        out_dir = os.path.join(REPO, "bench", "results")
        os.makedirs(out_dir, exist_ok=True)
        with open(os.path.join(out_dir, "server.md"), "a") as f:
            f.write(report + "\n")
        with open(os.path.join(out_dir, "server.json"), "w") as f:
            f.write(scrub(json.dumps({"meta": meta, "results": results}, indent=2), paths) + "\n")


if __name__ == "__main__":
    sys.exit(main())
