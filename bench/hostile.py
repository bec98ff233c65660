#!/usr/bin/env python3
"""Hostile-input campaign: builds each known denial-of-service input at full size and runs a
bulwark binary on it, measuring wall time, peak RSS and exit code per case.

The bar (issue 13): every case ends within 60 s and 1 GiB peak RSS, with exit 0-3 and a
message; never a panic or an abort. The regression tests in the crates prove each fix on
scaled-down inputs; this script proves the bound on the inputs as they were reported.

    cargo build --release -p bulwark-cli
    python3 bench/hostile.py                      # every case, target/release/bulwark
    python3 bench/hostile.py --only yaml dockerfile --bulwark PATH

Writes a table to stdout and bench/results/hostile.txt (with --save). Needs only Python's
standard library; registry cases start their own trickling HTTP servers on loopback.
"""
import argparse
import gzip
import hashlib
import http.server
import io
import json
import os
import resource
import shutil
import socketserver
import subprocess
import sys
import tarfile
import tempfile
import threading
import time

WALL_LIMIT = 60.0
RSS_LIMIT_MIB = 1024
# A runaway case must not take the machine down with it: address space is capped well above
# the bar so a failure is still measured (as a failure) rather than swapping.
AS_CAP = 6 << 30


# ---------------------------------------------------------------- image building helpers

def sha(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


def tar_bytes(entries):
    """entries: list of (name, bytes | None for dir | ('link', target) | ('hard', target))."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.GNU_FORMAT) as tar:
        for name, content in entries:
            info = tarfile.TarInfo(name)
            info.mtime = 0
            if content is None:
                info.type = tarfile.DIRTYPE
                info.mode = 0o755
                tar.addfile(info)
            elif isinstance(content, tuple) and content[0] == "hard":
                info.type = tarfile.LNKTYPE
                info.linkname = content[1]
                tar.addfile(info)
            elif isinstance(content, tuple) and content[0] == "link":
                info.type = tarfile.SYMTYPE
                info.linkname = content[1]
                tar.addfile(info)
            else:
                info.size = len(content)
                info.mode = 0o644
                tar.addfile(info, io.BytesIO(content))
    return buf.getvalue()


class Layout:
    """A minimal OCI image layout written blob by blob."""

    def __init__(self, root):
        self.root = root
        os.makedirs(os.path.join(root, "blobs", "sha256"), exist_ok=True)
        with open(os.path.join(root, "oci-layout"), "w") as f:
            json.dump({"imageLayoutVersion": "1.0.0"}, f)

    def blob(self, data):
        digest = sha(data)
        with open(os.path.join(self.root, "blobs", "sha256", digest[7:]), "wb") as f:
            f.write(data)
        return digest

    def image(self, layers, history=None, env=None):
        """layers: list of uncompressed tar bytes. Returns the manifest descriptor."""
        descs, diff_ids = [], []
        for raw in layers:
            gz = gzip.compress(raw, compresslevel=6, mtime=0)
            descs.append({"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                          "digest": self.blob(gz), "size": len(gz)})
            diff_ids.append(sha(raw))
        config = {"architecture": "amd64", "os": "linux",
                  "config": {"Env": env or ["PATH=/usr/bin:/bin"]},
                  "rootfs": {"type": "layers", "diff_ids": diff_ids},
                  "history": history or [{"created_by": f"layer {i}"} for i in range(len(layers))]}
        cfg = json.dumps(config).encode()
        manifest = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                    "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                               "digest": self.blob(cfg), "size": len(cfg)},
                    "layers": descs}
        m = json.dumps(manifest).encode()
        return {"mediaType": "application/vnd.oci.image.manifest.v1+json",
                "digest": self.blob(m), "size": len(m),
                "platform": {"architecture": "amd64", "os": "linux"}}

    def index(self, manifests):
        with open(os.path.join(self.root, "index.json"), "w") as f:
            json.dump({"schemaVersion": 2,
                       "mediaType": "application/vnd.oci.image.index.v1+json",
                       "manifests": manifests}, f)


def dpkg_status(n, prefix="pkg"):
    stanzas = []
    for i in range(n):
        stanzas.append(f"Package: {prefix}{i}\nStatus: install ok installed\nVersion: 1.{i}\n"
                       f"Architecture: amd64\nMaintainer: x <x@example.org>\nDescription: p{i}\n")
    return "\n".join(stanzas).encode()


OS_RELEASE = b'ID=debian\nVERSION_ID="12"\nPRETTY_NAME="Debian GNU/Linux 12"\n'

# ---------------------------------------------------------------- the cases


def case_hardlinks(d):
    """13.1: dpkg status of 2,000 packages plus 5,000 hard links to it."""
    entries = [("etc/", None), ("etc/os-release", OS_RELEASE), ("var/", None), ("var/lib/", None),
               ("var/lib/dpkg/", None), ("var/lib/dpkg/status", dpkg_status(2000))]
    entries += [(f"var/lib/dpkg/l{i}", ("hard", "var/lib/dpkg/status")) for i in range(5000)]
    lay = Layout(os.path.join(d, "img"))
    lay.index([lay.image([tar_bytes(entries)])])
    return ["image", "oci:" + lay.root]


DOCKERFILE_BOMB = "FROM debian:12\nENV A=x\n" + "ENV A=$A$A\n" * 40 + "CMD [\"sh\"]\n"


def case_dockerfile(d):
    """13.2: `ENV A=$A$A` on 40 lines, via `bulwark config`."""
    os.makedirs(os.path.join(d, "src"))
    with open(os.path.join(d, "src", "Dockerfile"), "w") as f:
        f.write(DOCKERFILE_BOMB)
    return ["config", os.path.join(d, "src")]


def case_dockerfile_in_image(d):
    """13.2, second path: the same Dockerfile inside an image layer."""
    lay = Layout(os.path.join(d, "img"))
    lay.index([lay.image([tar_bytes([("app/", None), ("app/Dockerfile", DOCKERFILE_BOMB.encode())])])])
    return ["image", "oci:" + lay.root]


def case_index_fanout(d):
    """13.3: index.json nesting 4 indexes, each listing the same child 60 times."""
    lay = Layout(os.path.join(d, "img"))
    child = lay.image([tar_bytes([("etc/", None), ("etc/os-release", OS_RELEASE)])])
    for _ in range(4):
        idx = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
                          "manifests": [child] * 60}).encode()
        child = {"mediaType": "application/vnd.oci.image.index.v1+json",
                 "digest": lay.blob(idx), "size": len(idx)}
    lay.index([child] * 60)
    return ["image", "oci:" + lay.root]


def long_header_layer(kind):
    """A layer whose first entry carries a 900 MiB GNU long-name or PAX extension body."""
    size = 900 << 20

    def header(name, typeflag, size):
        h = bytearray(512)
        h[0:len(name)] = name
        h[100:108] = b"0000644\0"
        h[108:116] = b"0000000\0"
        h[116:124] = b"0000000\0"
        h[124:136] = b"%011o\0" % size
        h[136:148] = b"00000000000\0"
        h[156:157] = typeflag
        h[257:263] = b"ustar "
        h[263:265] = b" \0"
        h[148:156] = b"        "
        h[148:156] = b"%06o\0 " % sum(h)
        return bytes(h)

    if kind == "gnu":
        head = header(b"././@LongLink", b"L", size)
    else:
        head = header(b"PaxHeaders/x", b"x", size)
    # Streamed through gzip: the 900 MiB body is zeros, so the layer is under 1 MB.
    comp = gzip.compress(head + b"\0" * size + header(b"x", b"0", 0) + b"\0" * 1024, 9, mtime=0)
    return comp


def case_tar_longname(d, kind="gnu"):
    """13.4: first entry with a 900 MiB GNU long-name (or PAX) header."""
    lay = Layout(os.path.join(d, "img"))
    comp = long_header_layer(kind)
    digest = lay.blob(comp)
    # diff_id is unknown without decompressing 900 MiB; any value: the scan must stop first.
    cfg = json.dumps({"architecture": "amd64", "os": "linux", "config": {},
                      "rootfs": {"type": "layers", "diff_ids": ["sha256:" + "0" * 64]}}).encode()
    m = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                    "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                               "digest": lay.blob(cfg), "size": len(cfg)},
                    "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                                "digest": digest, "size": len(comp)}]}).encode()
    lay.index([{"mediaType": "application/vnd.oci.image.manifest.v1+json",
                "digest": lay.blob(m), "size": len(m)}])
    return ["image", "oci:" + lay.root]


def case_tar_pax(d):
    return case_tar_longname(d, "pax")


def case_yaml_anchors(d):
    """13.5: 120 nested anchors around a 20,000-item list, no aliases."""
    text = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\ndata:\n"
    inner = "[" + ", ".join(f"i{i}" for i in range(20000)) + "]"
    for i in range(120):
        inner = f"&a{i} [{inner}]"
    text += f"  k: {json.dumps('x')}\nextra: {inner}\n"
    os.makedirs(os.path.join(d, "src"))
    with open(os.path.join(d, "src", "cm.yaml"), "w") as f:
        f.write(text)
    return ["config", os.path.join(d, "src")]


def case_yaml_merge(d):
    """13.6: `{<<: {300,000 keys}}`."""
    keys = ", ".join(f"k{i}: v" for i in range(300000))
    text = f"apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: x}}\ndata: {{<<: {{{keys}}}}}\n"
    os.makedirs(os.path.join(d, "src"))
    with open(os.path.join(d, "src", "cm.yaml"), "w") as f:
        f.write(text)
    return ["config", os.path.join(d, "src")]


def case_introducing_layer(d):
    """13.7: three layers each holding the same 120,000-package dpkg status."""
    status = dpkg_status(120000)
    layer = tar_bytes([("etc/", None), ("etc/os-release", OS_RELEASE), ("var/", None),
                       ("var/lib/", None), ("var/lib/dpkg/", None), ("var/lib/dpkg/status", status)])
    # Later layers differ by a marker file so each is its own blob.
    layers = [layer] + [tar_bytes([("var/", None), ("var/lib/", None), ("var/lib/dpkg/", None),
                                   ("var/lib/dpkg/status", status), (f"marker{i}", b"x")])
                        for i in (2, 3)]
    lay = Layout(os.path.join(d, "img"))
    lay.index([lay.image(layers)])
    return ["image", "oci:" + lay.root]


class Trickle(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def trickle_server(mode):
    """A registry that answers /v2/ and then trickles (one byte every two seconds) or sends
    an endless blob behind a manifest declaring a 2^50-byte layer."""
    endless = {}

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *a):
            pass

        def do_GET(self):
            try:
                self.answer()
            except (BrokenPipeError, ConnectionResetError):
                pass

        do_HEAD = do_GET

        def answer(self):
            if self.path == "/v2/":
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"{}")
                return
            if mode == "trickle-manifest" and "/manifests/" in self.path:
                self.send_response(200)
                self.send_header("Content-Type", "application/vnd.oci.image.manifest.v1+json")
                self.send_header("Content-Length", "100000")
                self.end_headers()
                for _ in range(100000):
                    self.wfile.write(b" ")
                    self.wfile.flush()
                    time.sleep(2)
                return
            if mode == "endless-blob":
                if "/manifests/" in self.path:
                    body = endless["manifest"]
                    self.send_response(200)
                    self.send_header("Content-Type", "application/vnd.oci.image.manifest.v1+json")
                    self.send_header("Docker-Content-Digest", sha(body))
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    if self.command == "GET":
                        self.wfile.write(body)
                    return
                if endless["config_digest"] in self.path:
                    body = endless["config"]
                    self.send_response(200)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                    return
                if "/blobs/" in self.path:
                    self.send_response(200)
                    self.send_header("Transfer-Encoding", "chunked")
                    self.end_headers()
                    layer = tar_bytes([("etc/", None), ("etc/os-release", OS_RELEASE)])
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(layer), layer))
                    chunk = b"\0" * (1 << 20)
                    while True:
                        self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            if mode == "trickle-blob":
                if "/manifests/" in self.path:
                    body = endless["manifest"]
                    self.send_response(200)
                    self.send_header("Content-Type", "application/vnd.oci.image.manifest.v1+json")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    if self.command == "GET":
                        self.wfile.write(body)
                    return
                if "/blobs/" in self.path:
                    self.send_response(200)
                    self.send_header("Content-Length", "1000000")
                    self.end_headers()
                    for _ in range(1000000):
                        self.wfile.write(b"\0")
                        self.wfile.flush()
                        time.sleep(2)
                    return
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()

    cfg = json.dumps({"architecture": "amd64", "os": "linux", "config": {},
                      "rootfs": {"type": "layers", "diff_ids": ["sha256:" + "1" * 64]}}).encode()
    endless["config"] = cfg
    endless["config_digest"] = sha(cfg)
    endless["manifest"] = json.dumps({
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                   "digest": sha(cfg), "size": len(cfg)},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar",
                    "digest": "sha256:" + "2" * 64, "size": 1 << 50}]}).encode()
    server = Trickle(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def registry_case(mode):
    def run(d):
        server = trickle_server(mode)
        d_servers.append(server)
        port = server.server_address[1]
        return ["image", f"registry:127.0.0.1:{port}/hostile/img:1", "--insecure"]
    return run


d_servers = []


def case_big_json(d, which):
    """13.10: a 96 MiB array of zeros as an SBOM and as a VEX document."""
    path = os.path.join(d, "zeros.json")
    with open(path, "w") as f:
        f.write("[")
        f.write("0," * (48 << 20))
        f.write("0]")
    if which == "sbom":
        return ["sbom", path]
    lay = Layout(os.path.join(d, "img"))
    lay.index([lay.image([tar_bytes([("etc/", None), ("etc/os-release", OS_RELEASE)])])])
    return ["image", "oci:" + lay.root, "--vex", path]


def case_sbom_1m(d):
    """13.11: a CycloneDX SBOM with 1M components."""
    path = os.path.join(d, "bom.json")
    with open(path, "w") as f:
        f.write('{"bomFormat":"CycloneDX","specVersion":"1.6","version":1,"components":[')
        for i in range(1000000):
            if i:
                f.write(",")
            f.write(f'{{"type":"library","name":"p{i}","version":"1.0.{i}",'
                    f'"purl":"pkg:npm/p{i}@1.0.{i}","bom-ref":"r{i}"}}')
        f.write("]}")
    return ["sbom", path]


def case_lock_1m(d):
    """13.11: a package-lock.json with 1M entries, counted in the report."""
    src = os.path.join(d, "src")
    os.makedirs(src)
    with open(os.path.join(src, "package-lock.json"), "w") as f:
        f.write('{"name":"app","version":"1.0.0","lockfileVersion":3,"requires":true,"packages":{'
                '"":{"name":"app","version":"1.0.0"}')
        for i in range(1000000):
            # Short entries keep the file (about 40 MB) under the 64 MiB lockfile cap, so it is
            # parsed rather than skipped.
            f.write(f',"node_modules/p{i}":{{"version":"1.0.{i}"}}')
        f.write("}}")
    return ["fs", src]


def case_deleted_secrets(d):
    """13.12: 100,000 secret-bearing files deleted by a later layer."""
    secret = b"aws_access_key_id = AKIAIOSFODNN7EXAMPLQ\n"
    first = [("s/", None)] + [(f"s/f{i}", secret) for i in range(100000)]
    second = [("s/", None)] + [(f"s/.wh.f{i}", b"") for i in range(100000)]
    lay = Layout(os.path.join(d, "img"))
    lay.index([lay.image([tar_bytes(first), tar_bytes(second)])])
    return ["image", "oci:" + lay.root, "--scanners", "secret"]


def case_archive_members(d):
    """17 (class 7): a .tar.gz of 1,000,000 tiny members in a source tree (secrets open it)."""
    src = os.path.join(d, "src")
    os.makedirs(src)
    with gzip.open(os.path.join(src, "many.tar.gz"), "wb", compresslevel=1) as raw:
        with tarfile.open(fileobj=raw, mode="w|", format=tarfile.GNU_FORMAT) as tar:
            for i in range(1000000):
                info = tarfile.TarInfo(f"m/{i}.txt")
                info.size = 1
                tar.addfile(info, io.BytesIO(b"x"))
    return ["fs", src, "--scanners", "secret"]


def case_archive_gz_bomb(d):
    """17 (class 7): a .tar.gz expanding to 16 GiB of zeros (one gzip member of 1 MiB of zeros
    repeated: a multi-member gzip stream is one stream), next to a .gz of a single file doing
    the same."""
    src = os.path.join(d, "src")
    os.makedirs(src)
    info = tarfile.TarInfo("zeros.env")
    info.size = 16 << 30
    chunk = gzip.compress(bytes(1 << 20), 9)
    for name, head in (("bomb.tar.gz", gzip.compress(info.tobuf(tarfile.GNU_FORMAT))),
                       ("bomb.env.gz", b"")):
        with open(os.path.join(src, name), "wb") as f:
            f.write(head)
            for _ in range(16 << 10):
                f.write(chunk)
    return ["fs", src, "--scanners", "secret"]


def case_archive_nested_zip(d):
    """17 (class 7): 42.zip-like: 16 copies per level, 5 levels, 64 MiB of zeros at the bottom
    (16^5 x 64 MiB = 64 TiB if everything were expanded)."""
    import zipfile
    src = os.path.join(d, "src")
    os.makedirs(src)

    def zip_of(entries):
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
            for name, data in entries:
                z.writestr(name, data)
        return out.getvalue()

    data = zip_of([("zeros.env", bytes(64 << 20))])
    for level in range(5):
        data = zip_of([(f"{level}-{i}.zip", data) for i in range(16)])
    with open(os.path.join(src, "42.zip"), "wb") as f:
        f.write(data)
    return ["fs", src, "--scanners", "secret"]


def rego_case(body):
    def run(d):
        pol = os.path.join(d, "policy")
        os.makedirs(pol)
        with open(os.path.join(pol, "p.rego"), "w") as f:
            f.write("package main\n\n" + body)
        src = os.path.join(d, "src")
        os.makedirs(src)
        with open(os.path.join(src, "Dockerfile"), "w") as f:
            f.write("FROM debian:12\nUSER app\n")
        return ["config", src, "--policy", pol]
    return run


CASES = {
    "hardlinks": case_hardlinks,
    "dockerfile": case_dockerfile,
    "dockerfile-in-image": case_dockerfile_in_image,
    "index-fanout": case_index_fanout,
    "tar-gnu-longname": case_tar_longname,
    "tar-pax": case_tar_pax,
    "yaml-anchors": case_yaml_anchors,
    "yaml-merge": case_yaml_merge,
    "introducing-layer": case_introducing_layer,
    "registry-trickle-manifest": registry_case("trickle-manifest"),
    "registry-trickle-blob": registry_case("trickle-blob"),
    "registry-endless-blob": registry_case("endless-blob"),
    "sbom-zeros": lambda d: case_big_json(d, "sbom"),
    "vex-zeros": lambda d: case_big_json(d, "vex"),
    "sbom-1m": case_sbom_1m,
    "package-lock-1m": case_lock_1m,
    "deleted-secrets": case_deleted_secrets,
    "archive-1m-members": case_archive_members,
    "archive-gz-bomb": case_archive_gz_bomb,
    "archive-nested-zip": case_archive_nested_zip,
    "rego-recursion": rego_case("f(x) = y { y := f(x) }\n\ndeny[msg] { f(1); msg := \"x\" }\n"),
    "rego-big-array": rego_case("deny[msg] { a := numbers.range(1, 200000000); count(a) > 0; msg := \"x\" }\n"),
}


def run_case(bulwark, name, build, workdir):
    d = os.path.join(workdir, name)
    os.makedirs(d)
    args = build(d)
    cmd = [bulwark] + args + ["--quiet", "--format", "json", "-o", os.path.join(d, "out.json")]
    if args[0] in ("image", "fs"):
        cmd.append("--no-cache")
    env = dict(os.environ, NO_COLOR="1", BULWARK_DB_DIR=os.path.join(d, "db"))

    def cap():
        resource.setrlimit(resource.RLIMIT_AS, (AS_CAP, AS_CAP))

    start = time.monotonic()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env,
                            preexec_fn=cap)
    stderr_chunks = []
    t = threading.Thread(target=lambda: stderr_chunks.append(proc.stderr.read()), daemon=True)
    t.start()
    killed = False
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        if time.monotonic() - start > WALL_LIMIT + 30:
            proc.kill()
            killed = True
        time.sleep(0.05)
    wall = time.monotonic() - start
    t.join(5)
    stderr = (stderr_chunks[0] if stderr_chunks else b"").decode(errors="replace")
    code = os.waitstatus_to_exitcode(status)
    rss = usage.ru_maxrss / 1024
    ok = (not killed and wall <= WALL_LIMIT and rss <= RSS_LIMIT_MIB and 0 <= code <= 3
          and "panicked" not in stderr)
    last = [l for l in stderr.strip().splitlines() if l.strip()]
    return {"case": name, "exit": "killed" if killed else code, "seconds": round(wall, 1),
            "rss_mib": round(rss), "ok": ok, "message": last[-1][:150] if last else ""}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bulwark", default="target/release/bulwark")
    ap.add_argument("--only", nargs="*")
    ap.add_argument("--save", action="store_true")
    args = ap.parse_args()
    bulwark = os.path.abspath(args.bulwark)
    names = args.only or list(CASES)
    rows = []
    with tempfile.TemporaryDirectory(prefix="bulwark-hostile-") as workdir:
        for name in names:
            row = run_case(bulwark, name, CASES[name], workdir)
            rows.append(row)
            shutil.rmtree(os.path.join(workdir, name), ignore_errors=True)
            print(f"{row['case']:28} exit={row['exit']!s:6} {row['seconds']:6.1f}s {row['rss_mib']:6} MiB "
                  f"{'ok' if row['ok'] else 'FAIL'}  {row['message']}", flush=True)
    for s in d_servers:
        s.shutdown()
    failed = [r["case"] for r in rows if not r["ok"]]
    summary = f"{len(rows) - len(failed)}/{len(rows)} within {WALL_LIMIT:.0f} s and {RSS_LIMIT_MIB} MiB, exit 0-3"
    print(summary + (f"; failed: {', '.join(failed)}" if failed else ""))
    if args.save:
        os.makedirs("bench/results", exist_ok=True)
        with open("bench/results/hostile.txt", "w") as f:
            for r in rows:
                f.write(json.dumps(r) + "\n")
            f.write(summary + "\n")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
