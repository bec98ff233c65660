#!/usr/bin/env python3
"""p50/p99 decision latency of `bulwark admission` for a known image, over TLS.

Starts, from one bulwark binary (default target/release/bulwark; `--bulwark PATH` or
BULWARK_BIN for another):

- a `bulwark server` (SQLite, throwaway data dir) holding one uploaded SBOM under a digest
  (crates/scan/tests/data/sboms/syft-minbase.cdx.json), so the image is known;
- the baseline: `bulwark admission --allow-all` (the same HTTP/TLS host answering "allowed"
  without any check);
- the measured webhook: `bulwark admission --server URL` with a bulwark.yaml of gates and
  modes, which runs the manifest checks and the vulnerability gate on the stored results.

Each webhook gets the same AdmissionReview v1 requests over one keep-alive TLS connection
(python's ssl + http.client, certificates made with the openssl CLI): after a warm-up (the
first review looks the image up; later ones hit the cache), `--requests N` (default 2,000)
reviews of each kind, one at a time. Prints a markdown table of p50/p90/p99/max in ms, the
check/baseline ratios, the commands, and with `--save` appends it to
bench/results/admission-<UTC date>.md. Exits 1 when the measured p99 of a known image is at
or above 10 ms (the bar of issue 21).
"""

import argparse
import datetime
import http.client
import json
import os
import platform
import socket
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ADMIN = "bwk_bench_admin_token_0123456789"
DIGEST = "sha256:" + "4b1c6b7d43c1e1a8a0e3a6c5a7b1a9e9c2d3f4a5b6c7d8e9f0a1b2c3d4e5f6a7"
IMAGE = "registry.example/bench/app@" + DIGEST
BAR_P99_MS = 10.0


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run(cmd, **kw):
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, **kw)


def make_pki(d):
    p = lambda n: os.path.join(d, n)
    run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-days", "2", "-subj", "/CN=bench CA", "-keyout", p("ca.key"), "-out", p("ca.crt")])
    run(["openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
         "-subj", "/CN=127.0.0.1", "-keyout", p("server.key"), "-out", p("server.csr")])
    with open(p("ext.cnf"), "w") as f:
        f.write("subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n")
    run(["openssl", "x509", "-req", "-days", "2", "-CAcreateserial", "-in", p("server.csr"), "-CA", p("ca.crt"),
         "-CAkey", p("ca.key"), "-extfile", p("ext.cnf"), "-out", p("server.crt")])
    return p("ca.crt"), p("server.crt"), p("server.key")


def wait_http(url, context=None, limit=30):
    start = time.time()
    while True:
        try:
            with urllib.request.urlopen(url, context=context, timeout=2) as r:
                if r.status == 200:
                    return
        except Exception:
            pass
        if time.time() - start > limit:
            sys.exit(f"{url} did not answer within {limit} s")
        time.sleep(0.05)


def review(uid, namespace, privileged):
    security = {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True,
                "capabilities": {"drop": ["ALL"]}}
    if privileged:
        security["privileged"] = True
    pod = {
        "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web", "labels": {"app": "web"}},
        "spec": {
            "automountServiceAccountToken": False,
            "securityContext": {"runAsNonRoot": True, "runAsUser": 10001,
                                "seccompProfile": {"type": "RuntimeDefault"}},
            "containers": [{
                "name": "app", "image": IMAGE, "securityContext": security,
                "resources": {"limits": {"cpu": "100m", "memory": "64Mi"},
                              "requests": {"cpu": "50m", "memory": "32Mi"}},
                "livenessProbe": {"httpGet": {"path": "/", "port": 8080}},
                "readinessProbe": {"httpGet": {"path": "/", "port": 8080}},
            }],
        },
    }
    return json.dumps({
        "apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
        "request": {
            "uid": uid, "kind": {"group": "", "version": "v1", "kind": "Pod"},
            "resource": {"group": "", "version": "v1", "resource": "pods"},
            "name": "web", "namespace": namespace, "operation": "CREATE",
            "userInfo": {"username": "bench"}, "object": pod, "oldObject": None, "dryRun": False,
        },
    }).encode()


def measure(port, ca, body, n, warmup):
    ctx = ssl.create_default_context(cafile=ca)
    conn = http.client.HTTPSConnection("127.0.0.1", port, context=ctx, timeout=30)
    headers = {"Content-Type": "application/json"}
    answer = None
    times = []
    for i in range(warmup + n):
        start = time.perf_counter()
        conn.request("POST", "/validate", body=body, headers=headers)
        r = conn.getresponse()
        data = r.read()
        elapsed = (time.perf_counter() - start) * 1000.0
        if r.status != 200:
            sys.exit(f"HTTP {r.status}: {data[:300]!r}")
        if i >= warmup:
            times.append(elapsed)
        answer = json.loads(data)["response"]
    conn.close()
    times.sort()
    q = lambda p: times[min(len(times) - 1, int(round(p * (len(times) - 1))))]
    return {"p50": q(0.50), "p90": q(0.90), "p99": q(0.99), "max": times[-1],
            "mean": statistics.fmean(times)}, answer


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bulwark", default=os.environ.get("BULWARK_BIN", os.path.join(ROOT, "target/release/bulwark")))
    ap.add_argument("--requests", type=int, default=2000)
    ap.add_argument("--warmup", type=int, default=200)
    ap.add_argument("--save", action="store_true")
    args = ap.parse_args()
    bulwark = args.bulwark
    if not os.path.exists(bulwark):
        sys.exit(f"{bulwark} not found: cargo build --release -p bulwark-cli, or --bulwark PATH")
    version = subprocess.run([bulwark, "--version"], capture_output=True, text=True).stdout.strip()
    procs = []
    with tempfile.TemporaryDirectory(prefix="bulwark-bench-admission-") as tmp:
        try:
            ca, cert, key = make_pki(tmp)
            env = dict(os.environ, BULWARK_ADMIN_TOKEN=ADMIN)
            env.pop("BULWARK_CONFIG", None)
            sport = free_port()
            server_cmd = [bulwark, "server", "--data-dir", os.path.join(tmp, "data"), "--listen",
                          f"127.0.0.1:{sport}", "--db-update-every", "0"]
            procs.append(subprocess.Popen(server_cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
            server = f"http://127.0.0.1:{sport}"
            wait_http(server + "/healthz")
            with open(os.path.join(ROOT, "crates/scan/tests/data/sboms/syft-minbase.cdx.json"), "rb") as f:
                sbom = f.read()
            req = urllib.request.Request(
                f"{server}/api/v1/reports?asset=bench/app&version={DIGEST}", data=sbom, method="POST",
                headers={"Authorization": f"Bearer {ADMIN}", "Content-Type": "application/json"})
            with urllib.request.urlopen(req) as r:
                assert r.status in (200, 201), r.status
            config = os.path.join(tmp, "bulwark.yaml")
            with open(config, "w") as f:
                f.write("gates:\n  misconfigurations: {severity: high}\n  vulnerabilities: {severity: critical}\n"
                        "admission:\n  default: enforce\n  namespaces: {dev: warn}\n")
            common = ["--tls-cert", cert, "--tls-key", key, "--cache-ttl", "3600"]
            webhooks = {}
            for name, extra in [("baseline", ["--allow-all"]),
                                ("checks", ["--config", config, "--server", server, "--token", ADMIN])]:
                port = free_port()
                cmd = [bulwark, "admission", "--listen", f"127.0.0.1:{port}"] + common + extra
                procs.append(subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
                wait_http(f"https://127.0.0.1:{port}/healthz", ssl.create_default_context(cafile=ca))
                webhooks[name] = (port, cmd)
            cases = [("pass (prod)", review("bench-pass", "prod", False)),
                     ("deny privileged (prod)", review("bench-deny", "prod", True)),
                     ("warn privileged (dev)", review("bench-warn", "dev", True))]
            rows = []
            for label, body in cases:
                base, _ = measure(webhooks["baseline"][0], ca, body, args.requests, args.warmup)
                chk, answer = measure(webhooks["checks"][0], ca, body, args.requests, args.warmup)
                if label.startswith("pass") and answer.get("warnings"):
                    sys.exit(f"the image is not known to the webhook: {answer['warnings']}")
                rows.append((label, base, chk, answer))
        finally:
            for p in procs:
                p.terminate()
            for p in procs:
                p.wait()
    now = datetime.datetime.now(datetime.timezone.utc)
    out = [f"# admission webhook latency, {now:%Y-%m-%d %H:%M} UTC", "",
           f"- bulwark: `{version}` ({os.path.relpath(bulwark, ROOT) if bulwark.startswith(ROOT) else bulwark})",
           f"- machine: {platform.machine()}, {os.cpu_count()} CPUs, {platform.platform()}",
           f"- {args.requests} reviews per row after {args.warmup} warm-up, one keep-alive TLS connection "
           f"(python {platform.python_version()} ssl), one at a time; the image is known (stored in a "
           "bulwark server, cached by the webhook after the first review)", "",
           "| review | baseline p50 | baseline p99 | checks p50 | checks p90 | checks p99 | checks max | p50 ratio | p99 ratio | allowed |",
           "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |"]
    worst = 0.0
    for label, base, chk, answer in rows:
        worst = max(worst, chk["p99"])
        out.append(f"| {label} | {base['p50']:.2f} | {base['p99']:.2f} | {chk['p50']:.2f} | {chk['p90']:.2f} | "
                   f"{chk['p99']:.2f} | {chk['max']:.2f} | {chk['p50'] / base['p50']:.2f}x | "
                   f"{chk['p99'] / base['p99']:.2f}x | {answer['allowed']} |")
    out += ["", f"Bar: checks p99 < {BAR_P99_MS} ms: {'PASS' if worst < BAR_P99_MS else 'FAIL'} (worst {worst:.2f} ms).",
            "", "Commands (ports and paths are the run's):", "",
            "```", " ".join(server_cmd)] + [" ".join(c) for _, c in webhooks.values()] + ["```", ""]
    text = "\n".join(out)
    print(text)
    if args.save:
        os.makedirs(os.path.join(ROOT, "bench/results"), exist_ok=True)
        path = os.path.join(ROOT, f"bench/results/admission-{now:%Y-%m-%d}.md")
        # Machine paths stay out of the committed results.
        with open(path, "a") as f:
            f.write(text.replace(tmp, "$TMP").replace(ROOT + "/", "") + "\n")
        print(f"appended to {os.path.relpath(path, ROOT)}")
    sys.exit(0 if worst < BAR_P99_MS else 1)


if __name__ == "__main__":
    main()
