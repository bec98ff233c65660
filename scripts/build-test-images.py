#!/usr/bin/env python3
"""Build real container images from real Debian packages, as plain files.

No container engine is needed: the script debootstraps a Debian bookworm
minbase root filesystem once, then for every image copies it, runs build
steps in a chroot (apt-get install/purge, plain file copies), snapshots the
tree before and after every step and turns each difference into an image
layer (a tar with OCI whiteouts). It writes the image as

    <out>/<image>/oci/                 OCI image layout (gzip layers)
    <out>/<image>/oci-archive.tar      the same layout as one tar
    <out>/<image>/docker-archive.tar   classic `docker save` form
    <out>/<image>/oci-zstd/            zstd layers (minbase only)
    <out>/<image>/rootfs/              the final root filesystem
    <out>/<image>/expected/packages.tsv  dpkg ground truth (+ layer index)
    <out>/<image>/expected/image.json    layers, diff_ids, history, whiteouts

Usage: python3 scripts/build-test-images.py [--out DIR] [--force] IMAGE...
IMAGE is one of: minbase, python, big (or `all`). The default output is
$BULWARK_TESTIMAGES, else <repo>/.cache/testimages. Runs as root (debootstrap,
chroot, mount). Python standard library only.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as _dt
import errno
import fcntl
import gzip
import hashlib
import io
import json
import os
import shutil
import signal
import stat
import subprocess
import sys
import tarfile
import time
from dataclasses import dataclass, field

SCRIPT_PATH = os.path.realpath(__file__)
REPO_ROOT = os.path.dirname(os.path.dirname(SCRIPT_PATH))

SUITE = "bookworm"
ARCH = "amd64"
MIRROR = "http://deb.debian.org/debian"
# Bump when the base rootfs recipe changes (forces a new debootstrap).
BASE_RECIPE_VERSION = 1
BASE_NAME = f"{SUITE}-minbase"

REF_PREFIX = "bulwark-test"
MT_CONFIG = "application/vnd.oci.image.config.v1+json"
MT_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
MT_INDEX = "application/vnd.oci.image.index.v1+json"
MT_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"
MT_LAYER_ZSTD = "application/vnd.oci.image.layer.v1.tar+zstd"

CHROOT_ENV = {
    "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    "DEBIAN_FRONTEND": "noninteractive",
    "LANG": "C.UTF-8",
    "HOME": "/root",
    "TERM": "dumb",
}
IMAGE_PATH_ENV = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

DPKG_FIELDS = [
    # (tsv column, dpkg-query field)
    ("package", "${Package}"),
    ("binary_package", "${binary:Package}"),
    ("version", "${Version}"),
    ("architecture", "${Architecture}"),
    ("source_package", "${source:Package}"),
    ("source_version", "${source:Version}"),
]

T0 = time.monotonic()


def log(msg: str) -> None:
    print(f"[{time.monotonic() - T0:7.1f}s] {msg}", flush=True)


@contextlib.contextmanager
def timed(what: str):
    start = time.monotonic()
    log(f"{what} ...")
    try:
        yield
    except BaseException:
        log(f"{what}: FAILED after {time.monotonic() - start:.1f}s")
        raise
    log(f"{what}: done in {time.monotonic() - start:.1f}s")


def run(cmd, **kw):
    """Run a command, echoing it; raise on failure."""
    if kw.pop("echo", True):
        shown = cmd if isinstance(cmd, str) else " ".join(cmd)
        log(f"$ {shown}")
    return subprocess.run(cmd, check=True, **kw)


def sha256_file(path: str) -> str:
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def script_hash() -> str:
    """Hash of this script and the per-ecosystem layer scripts in scripts/testdata/."""
    h = hashlib.sha256()
    with open(SCRIPT_PATH, "rb") as f:
        h.update(f.read())
    testdata = os.path.join(REPO_ROOT, "scripts", "testdata")
    if os.path.isdir(testdata):
        for name in sorted(os.listdir(testdata)):
            with open(os.path.join(testdata, name), "rb") as f:
                h.update(name.encode() + b"\0" + f.read())
    return h.hexdigest()


def utc_now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def write_json(path: str, obj, indent=2) -> None:
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(obj, f, indent=indent, sort_keys=False)
        f.write("\n")
    os.replace(tmp, path)


def canonical_json(obj) -> bytes:
    return json.dumps(obj, separators=(",", ":"), sort_keys=True).encode()


# --------------------------------------------------------------------------
# mounts / chroot


def mounts_under(path: str) -> list[str]:
    path = os.path.realpath(path)
    found = []
    with open("/proc/self/mounts") as f:
        for line in f:
            mp = line.split()[1].encode().decode("unicode_escape")
            if mp == path or mp.startswith(path + "/"):
                found.append(mp)
    return sorted(found, key=len, reverse=True)


def umount_all_under(path: str) -> None:
    for mp in mounts_under(path):
        log(f"unmounting stale mount {mp}")
        if subprocess.run(["umount", mp]).returncode != 0:
            subprocess.run(["umount", "-l", mp])


def safe_rmtree(path: str) -> None:
    """rm -rf, but never through a mount point (e.g. a chroot's /proc)."""
    if not os.path.lexists(path):
        return
    umount_all_under(path)
    left = mounts_under(path)
    if left:
        raise RuntimeError(f"refusing to delete {path}: still mounted: {left}")
    shutil.rmtree(path)


@contextlib.contextmanager
def chroot_mounts(root: str):
    """Mount /proc (and /dev/pts) in the chroot for the duration of a step."""
    proc = os.path.join(root, "proc")
    os.makedirs(proc, exist_ok=True)
    pts = os.path.join(root, "dev", "pts")
    mounted = []
    try:
        run(["mount", "-t", "proc", "proc", proc], echo=False)
        mounted.append(proc)
        # apt wants a pty for its terminal log; optional
        if os.path.isdir(pts) and os.path.isdir("/dev/pts") and subprocess.run(
                ["mount", "--bind", "/dev/pts", pts], stderr=subprocess.DEVNULL).returncode == 0:
            mounted.append(pts)
        yield
    finally:
        for mp in reversed(mounted):
            if subprocess.run(["umount", mp]).returncode != 0:
                subprocess.run(["umount", "-l", mp])
        left = mounts_under(root)
        if left:
            raise RuntimeError(f"could not unmount {left}")


def chroot_sh(root: str, script: str) -> None:
    with chroot_mounts(root):
        log(f"chroot$ {script}")
        # own process group, so an interrupted build stops apt/dpkg too
        # before the mounts are taken down and the tree is deleted
        p = subprocess.Popen(["chroot", root, "/bin/sh", "-c", script], env=CHROOT_ENV,
                             stdin=subprocess.DEVNULL, start_new_session=True)
        try:
            rc = p.wait()
        except BaseException:
            for sig, grace in ((signal.SIGTERM, 10), (signal.SIGKILL, 10)):
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(p.pid, sig)
                try:
                    p.wait(timeout=grace)
                    break
                except subprocess.TimeoutExpired:
                    continue
            # let the rest of the group (dpkg children) go too
            with contextlib.suppress(ProcessLookupError):
                os.killpg(p.pid, signal.SIGKILL)
            raise
        if rc != 0:
            raise subprocess.CalledProcessError(rc, ["chroot", root, "/bin/sh", "-c", script])


# --------------------------------------------------------------------------
# tools


def apt_install_host(pkgs: list[str]) -> None:
    log(f"installing {' '.join(pkgs)} on the host with apt-get (missing)")
    run(["apt-get", "update"])
    run(["apt-get", "install", "-y", "--no-install-recommends", *pkgs],
        env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})


def ensure_tool(binary: str, package: str) -> str:
    path = shutil.which(binary)
    if path is None:
        apt_install_host([package])
        path = shutil.which(binary)
        if path is None:
            raise RuntimeError(f"{binary} still missing after installing {package}")
    return path


# --------------------------------------------------------------------------
# filesystem snapshots and diffs

K_FILE, K_DIR, K_LINK, K_FIFO = "f", "d", "l", "p"


@dataclass(slots=True)
class Entry:
    kind: str
    mode: int
    uid: int
    gid: int
    size: int
    mtime_ns: int
    link: str | None
    ino: int
    nlink: int
    ctime_ns: int
    sha: str | None = None
    fresh: bool = False  # directory without our tag: created since the last snapshot

    def same_as(self, o: "Entry") -> bool:
        if (self.kind, self.mode, self.uid, self.gid, self.link) != (o.kind, o.mode, o.uid, o.gid, o.link):
            return False
        if self.mtime_ns != o.mtime_ns:
            return False
        if self.kind == K_FILE:
            return self.size == o.size and self.sha == o.sha
        return True


class HashCache:
    """Content hashes keyed by (ino, size, mtime, ctime) within one tree."""

    def __init__(self) -> None:
        self.d: dict[tuple, str] = {}

    def get(self, path: str, st: os.stat_result) -> str:
        key = (st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)
        h = self.d.get(key)
        if h is None:
            h = sha256_file(path)
            self.d[key] = h
        return h


DIR_TAG = "user.bulwark.snapshot"


def snapshot(root: str, hashes: HashCache | None, tag_dirs: bool = False) -> dict[str, Entry]:
    """Walk `root` (not crossing mounts); paths are relative, '/'-separated.

    Device nodes and sockets are skipped. Content of regular files is hashed
    when `hashes` is given. With `tag_dirs`, every directory gets an xattr
    tag; a directory found without it was (re-)created since the previous
    tagged snapshot. That is how `rm -rf d && mkdir d` is told apart from an
    edit of d (inode numbers are reused at once, so they cannot tell).
    """
    root_dev = os.lstat(root).st_dev
    out: dict[str, Entry] = {}
    stack = [""]
    while stack:
        rel = stack.pop()
        absdir = os.path.join(root, rel) if rel else root
        with os.scandir(absdir) as it:
            for de in it:
                r = f"{rel}/{de.name}" if rel else de.name
                st = de.stat(follow_symlinks=False)
                m = st.st_mode
                link = None
                if stat.S_ISDIR(m):
                    kind = K_DIR
                    if st.st_dev != root_dev:
                        raise RuntimeError(f"mount point inside rootfs: {de.path}")
                    stack.append(r)
                elif stat.S_ISREG(m):
                    kind = K_FILE
                elif stat.S_ISLNK(m):
                    kind = K_LINK
                    link = os.readlink(de.path)
                elif stat.S_ISFIFO(m):
                    kind = K_FIFO
                else:  # char/block devices, sockets
                    continue
                e = Entry(kind, stat.S_IMODE(m), st.st_uid, st.st_gid,
                          st.st_size if kind == K_FILE else 0, st.st_mtime_ns,
                          link, st.st_ino, st.st_nlink, st.st_ctime_ns)
                if kind == K_FILE and hashes is not None:
                    e.sha = hashes.get(de.path, st)
                elif kind == K_DIR and tag_dirs:
                    try:
                        os.getxattr(de.path, DIR_TAG, follow_symlinks=False)
                    except OSError as ex:
                        if ex.errno != errno.ENODATA:
                            raise
                        e.fresh = True
                        os.setxattr(de.path, DIR_TAG, b"1", follow_symlinks=False)
                out[r] = e
    return out


def parent_of(p: str) -> str:
    i = p.rfind("/")
    return p[:i] if i >= 0 else ""


def ancestors(p: str):
    while True:
        p = parent_of(p)
        if not p:
            return
        yield p


@dataclass
class Diff:
    changed: set[str] = field(default_factory=set)   # added or modified paths
    whiteouts: set[str] = field(default_factory=set)  # topmost deleted paths
    opaques: set[str] = field(default_factory=set)    # dirs replaced wholesale


def diff_snapshots(old: dict[str, Entry], new: dict[str, Entry]) -> Diff:
    d = Diff()
    for p, e in new.items():
        o = old.get(p)
        if o is None:
            d.changed.add(p)
            continue
        if o.kind == K_DIR and e.kind != K_DIR:
            # dir replaced by a non-dir: hide the old dir, then add the new entry
            d.whiteouts.add(p)
            d.changed.add(p)
        elif o.kind == K_DIR and e.kind == K_DIR and (e.fresh or o.ino != e.ino):
            # directory deleted and re-created in this step: opaque whiteout
            d.opaques.add(p)
            d.changed.add(p)
        elif not e.same_as(o):
            d.changed.add(p)
    # everything below an opaque dir is (re-)emitted
    if d.opaques:
        for p in new:
            if any(a in d.opaques for a in ancestors(p)):
                d.changed.add(p)
    for p in old:
        if p in new:
            continue
        covered = False
        for a in ancestors(p):
            if a in d.opaques or a in d.whiteouts or a not in new or new[a].kind != K_DIR:
                covered = True
                break
        if not covered:
            d.whiteouts.add(p)
    return d


def _sort_key(name: str):
    # parents before children; within a directory, whiteout markers first
    return tuple((0 if c.startswith(".wh.") else 1, c) for c in name.split("/"))


@dataclass
class LayerTar:
    tar_path: str
    diff_id: str
    size: int
    entries: int
    whiteouts: list[str]          # deleted paths, absolute ("/usr/bin/curl")
    whiteout_entries: list[str]   # tar member names of the markers
    opaque_dirs: list[str]        # absolute dir paths with .wh..wh..opq
    hardlinks: int


def write_layer_tar(root: str, snap: dict[str, Entry], diff: Diff, tar_path: str) -> LayerTar:
    include: set[str] = set(diff.changed)
    for p in list(diff.changed) + list(diff.whiteouts) + list(diff.opaques):
        for a in ancestors(p):
            include.add(a)
    members: list[tuple[str, str, str | None]] = []  # (name, what, path)
    for p in include:
        members.append((p, "entry", p))
    wh_entries = []
    for p in diff.whiteouts:
        par = parent_of(p)
        base = p[len(par) + 1:] if par else p
        name = f"{par}/.wh.{base}" if par else f".wh.{base}"
        members.append((name, "wh", None))
        wh_entries.append(name)
    for p in diff.opaques:
        members.append((f"{p}/.wh..wh..opq", "wh", None))
        wh_entries.append(f"{p}/.wh..wh..opq")
    members.sort(key=lambda m: _sort_key(m[0]))

    first_link: dict[int, str] = {}
    hardlinks = 0
    with open(tar_path, "wb") as raw:
        with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT,
                          encoding="utf-8", errors="surrogateescape") as tf:
            for name, what, p in members:
                ti = tarfile.TarInfo(name)
                ti.uname = ti.gname = ""
                if what == "wh":
                    ti.type = tarfile.REGTYPE
                    ti.mode = 0o644
                    ti.size = 0
                    ti.mtime = 0
                    tf.addfile(ti)
                    continue
                e = snap[p]
                ti.mode, ti.uid, ti.gid = e.mode, e.uid, e.gid
                ti.mtime = e.mtime_ns // 1_000_000_000
                if e.kind == K_DIR:
                    ti.type = tarfile.DIRTYPE
                    tf.addfile(ti)
                elif e.kind == K_LINK:
                    ti.type = tarfile.SYMTYPE
                    ti.linkname = e.link
                    tf.addfile(ti)
                elif e.kind == K_FIFO:
                    ti.type = tarfile.FIFOTYPE
                    tf.addfile(ti)
                else:
                    if e.nlink > 1 and e.ino in first_link:
                        ti.type = tarfile.LNKTYPE
                        ti.linkname = first_link[e.ino]
                        ti.size = 0
                        tf.addfile(ti)
                        hardlinks += 1
                        continue
                    if e.nlink > 1:
                        first_link[e.ino] = name
                    ti.type = tarfile.REGTYPE
                    ti.size = e.size
                    with open(os.path.join(root, p), "rb") as f:
                        tf.addfile(ti, f)
    return LayerTar(
        tar_path=tar_path,
        diff_id="sha256:" + sha256_file(tar_path),
        size=os.path.getsize(tar_path),
        entries=len(members),
        whiteouts=sorted("/" + p for p in diff.whiteouts),
        whiteout_entries=sorted(wh_entries),
        opaque_dirs=sorted("/" + p for p in diff.opaques),
        hardlinks=hardlinks,
    )


# --------------------------------------------------------------------------
# compression


def gzip_file(src: str, dst: str) -> str:
    pigz = shutil.which("pigz")
    if pigz:
        with open(src, "rb") as fi, open(dst, "wb") as fo:
            subprocess.run([pigz, "-6", "-n", "-c"], stdin=fi, stdout=fo, check=True)
        return "pigz -6 -n"
    with open(src, "rb") as fi, open(dst, "wb") as fo:
        with gzip.GzipFile(filename="", fileobj=fo, mode="wb", compresslevel=6, mtime=0) as gz:
            shutil.copyfileobj(fi, gz, 1 << 20)
    return "python gzip level 6"


def zstd_file(src: str, dst: str) -> str:
    zstd = ensure_tool("zstd", "zstd")
    subprocess.run([zstd, "-q", "-3", "--no-progress", "-f", "-o", dst, src], check=True)
    return "zstd -3"


# --------------------------------------------------------------------------
# dpkg ground truth


def dpkg_state(root: str) -> dict[str, dict]:
    fmt = "${db:Status-Status}\t" + "\t".join(f for _, f in DPKG_FIELDS) + "\n"
    res = subprocess.run(
        ["dpkg-query", f"--admindir={os.path.join(root, 'var/lib/dpkg')}", "-W", "-f", fmt],
        check=True, capture_output=True, text=True)
    pkgs = {}
    for line in res.stdout.splitlines():
        parts = line.split("\t")
        if parts[0] != "installed":
            continue
        row = dict(zip([c for c, _ in DPKG_FIELDS], parts[1:]))
        pkgs[row["binary_package"]] = row
    return pkgs


def package_rows(states: list[dict[str, dict]]) -> list[dict]:
    """Rows of the final state with the layer that introduced each package.

    `layer` is the first layer index i such that the package is listed, at the
    same version and architecture, in the dpkg status of layer i and of every
    layer after it (for a package never removed in between this is simply the
    first layer that lists it).
    """
    final = states[-1]
    rows = []
    for key in sorted(final):
        row = dict(final[key])
        ident = (row["version"], row["architecture"])
        layer = len(states) - 1
        for i in range(len(states) - 1, -1, -1):
            r = states[i].get(key)
            if r is not None and (r["version"], r["architecture"]) == ident:
                layer = i
            else:
                break
        row["layer"] = layer
        rows.append(row)
    return rows


def write_packages_tsv(path: str, rows: list[dict]) -> None:
    cols = [c for c, _ in DPKG_FIELDS] + ["layer"]
    with open(path, "w") as f:
        f.write("\t".join(cols) + "\n")
        for r in rows:
            f.write("\t".join(str(r[c]) for c in cols) + "\n")


# --------------------------------------------------------------------------
# base rootfs


def base_paths(out: str):
    d = os.path.join(out, "_rootfs")
    return d, os.path.join(d, BASE_NAME), os.path.join(d, BASE_NAME + ".json")


def read_base_stamp(out: str) -> dict | None:
    _, root, stamp = base_paths(out)
    try:
        with open(stamp) as f:
            s = json.load(f)
    except (OSError, ValueError):
        return None
    if s.get("recipe_version") != BASE_RECIPE_VERSION or not os.path.isdir(root):
        return None
    return s


def ensure_base(out: str) -> dict:
    s = read_base_stamp(out)
    if s is not None:
        log(f"base rootfs: reusing {BASE_NAME} (built {s['created']})")
        return s
    d, root, stamp = base_paths(out)
    os.makedirs(d, exist_ok=True)
    debootstrap = ensure_tool("debootstrap", "debootstrap")
    tmp = root + ".tmp"
    safe_rmtree(tmp)
    safe_rmtree(root)
    with contextlib.suppress(FileNotFoundError):
        os.unlink(stamp)
    try:
        with timed(f"debootstrap {SUITE} minbase"):
            run([debootstrap, "--variant=minbase", f"--arch={ARCH}", SUITE, tmp, MIRROR],
                stdout=subprocess.DEVNULL if not os.environ.get("VERBOSE") else None)
        # Like the rootfs of an official Debian image: no leftover .debs,
        # services never start during package installs, apt drops its caches.
        arch_dir = os.path.join(tmp, "var/cache/apt/archives")
        for n in os.listdir(arch_dir):
            if n.endswith(".deb"):
                os.unlink(os.path.join(arch_dir, n))
        prc = os.path.join(tmp, "usr/sbin/policy-rc.d")
        with open(prc, "w") as f:
            f.write("#!/bin/sh\n# services must not start during image builds\nexit 101\n")
        os.chmod(prc, 0o755)
        with open(os.path.join(tmp, "etc/apt/apt.conf.d/docker-clean"), "w") as f:
            f.write('DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb '
                    '/var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };\n'
                    'Dir::Cache::pkgcache "";\nDir::Cache::srcpkgcache "";\n')
        if mounts_under(tmp):
            raise RuntimeError(f"debootstrap left mounts: {mounts_under(tmp)}")
        os.rename(tmp, root)
    except BaseException:
        with contextlib.suppress(Exception):
            safe_rmtree(tmp)
        raise
    dv = subprocess.run(["dpkg-query", "-W", "-f", "${Version}", "debootstrap"],
                        capture_output=True, text=True).stdout.strip()
    s = {"recipe_version": BASE_RECIPE_VERSION, "created": utc_now(), "suite": SUITE,
         "arch": ARCH, "mirror": MIRROR, "debootstrap_version": dv}
    write_json(stamp, s)
    return s


class Layer0Cache:
    """Layer 0 (the whole base rootfs) is built once and shared by images."""

    def __init__(self, out: str, base: dict, shash: str) -> None:
        self.dir = os.path.join(out, "_rootfs", "layer0")
        self.base = base
        self.shash = shash
        self.meta_path = os.path.join(self.dir, "meta.json")

    def _valid(self) -> dict | None:
        try:
            with open(self.meta_path) as f:
                m = json.load(f)
        except (OSError, ValueError):
            return None
        if m.get("base_created") != self.base["created"] or m.get("script") != self.shash:
            return None
        if not os.path.exists(os.path.join(self.dir, "layer.tar")):
            return None
        return m

    def get(self) -> tuple[LayerTar, dict]:
        m = self._valid()
        if m is None:
            safe_rmtree(self.dir)
            os.makedirs(self.dir)
            _, root, _ = base_paths(os.path.dirname(os.path.dirname(self.dir)))
            with timed("layer 0: snapshot + tar of base rootfs"):
                snap = snapshot(root, None)
                lt = write_layer_tar(root, snap, Diff(changed=set(snap)),
                                     os.path.join(self.dir, "layer.tar"))
            m = {"base_created": self.base["created"], "script": self.shash,
                 "layer": {k: v for k, v in lt.__dict__.items() if k != "tar_path"},
                 "dpkg": dpkg_state(root)}
            write_json(self.meta_path, m)
        lt = LayerTar(tar_path=os.path.join(self.dir, "layer.tar"), **m["layer"])
        return lt, m["dpkg"]

    def compressed(self, kind: str) -> tuple[str, str]:
        """Path of the compressed layer 0 (cached) and the tool used."""
        ext = {"gzip": "gz", "zstd": "zst"}[kind]
        path = os.path.join(self.dir, f"layer.tar.{ext}")
        tool_file = path + ".tool"
        if os.path.exists(path) and os.path.exists(tool_file):
            with open(tool_file) as f:
                return path, f.read().strip()
        with timed(f"layer 0: {kind}"):
            tool = (gzip_file if kind == "gzip" else zstd_file)(
                os.path.join(self.dir, "layer.tar"), path + ".part")
        os.replace(path + ".part", path)
        with open(tool_file, "w") as f:
            f.write(tool + "\n")
        return path, tool


# --------------------------------------------------------------------------
# image recipes

BUILDKIT = " # buildkit"


def run_step(script: str) -> dict:
    return {"kind": "run", "script": script, "created_by": f"RUN /bin/sh -c {script}{BUILDKIT}"}


def copy_step(dest: str, content: bytes, src: str) -> dict:
    return {"kind": "copy", "dest": dest, "content": content,
            "created_by": f"COPY {src} {dest}{BUILDKIT}"}


def host_step(script: str, created_by: str) -> dict:
    """A layer made by a project script run on the host as `bash SCRIPT ROOTFS EXPECTED_DIR`,
    with the chroot's /proc, /dev and resolv.conf mounted so it may also `chroot ROOTFS ...`.
    It writes its ecosystem's ground truth (from the ecosystem's own tool) into EXPECTED_DIR."""
    return {"kind": "host", "script": script, "created_by": f"{created_by}{BUILDKIT}"}


def empty_step(created_by: str, env: str | None = None, cmd: list | None = None) -> dict:
    return {"kind": "empty", "created_by": created_by, "env": env, "cmd": cmd}


def apt_install(pkgs: str) -> str:
    return ("apt-get update && apt-get install -y --no-install-recommends "
            f"{pkgs} && rm -rf /var/lib/apt/lists/*")


RECIPES: dict[str, list[dict]] = {
    "minbase": [
        empty_step("ENV LANG=C.UTF-8", env="LANG=C.UTF-8"),
        run_step(apt_install("curl ca-certificates")
                 + " && mkdir -p /opt/app/conf && echo v1 > /opt/app/conf/a.conf"
                 + " && echo v1 > /opt/app/conf/b.conf"),
        run_step("apt-get purge -y --auto-remove curl && rm -rf /opt/app/conf"
                 " && mkdir /opt/app/conf && echo v2 > /opt/app/conf/c.conf"
                 " && rm -f /etc/issue.net"),
        empty_step("LABEL org.opencontainers.image.title=bulwark-test-minbase"),
        copy_step("/app/hello.txt", b"hello from bulwark test image\n", "hello.txt"),
        empty_step('CMD ["bash"]', cmd=["bash"]),
    ],
    "python": [
        empty_step("ENV LANG=C.UTF-8", env="LANG=C.UTF-8"),
        run_step(apt_install("python3")),
        empty_step('CMD ["python3"]', cmd=["python3"]),
    ],
    "big": [
        empty_step("ENV LANG=C.UTF-8", env="LANG=C.UTF-8"),
        run_step(apt_install("python3 build-essential")),
        empty_step('CMD ["bash"]', cmd=["bash"]),
    ],
}
# Language packages, one layer per ecosystem; each script documents what it installs and
# writes the ecosystem tool's own listing as ground truth.
RECIPES["lang"] = [
    empty_step("ENV LANG=C.UTF-8", env="LANG=C.UTF-8"),
    host_step("scripts/testdata/python.sh", "RUN pip install (python layer)"),
    host_step("scripts/testdata/node.sh", "RUN npm ci (node layer)"),
    host_step("scripts/testdata/go-rust.sh", "COPY go and rust binaries"),
    host_step("scripts/testdata/java.sh", "COPY java archives"),
    host_step("scripts/testdata/ruby-php-dotnet.sh", "RUN gem/composer/dotnet (ruby, php, .NET layer)"),
]
ZSTD_IMAGES = {"minbase"}
BASE_CREATED_BY = f"ADD rootfs.tar.gz / # debootstrap {SUITE} minbase"


def apply_copy(root: str, dest: str, content: bytes) -> None:
    target = os.path.join(root, dest.lstrip("/"))
    os.makedirs(os.path.dirname(target), mode=0o755, exist_ok=True)
    with open(target, "wb") as f:
        f.write(content)
    os.chmod(target, 0o644)
    os.chown(target, 0, 0)


# --------------------------------------------------------------------------
# writers: OCI layout, OCI archive, docker archive


def tar_dir(src_dir: str, tar_path: str, mtime: int) -> None:
    """Deterministic tar of a directory's contents (names relative to it)."""
    paths = []
    for dirpath, dirnames, filenames in os.walk(src_dir):
        rel = os.path.relpath(dirpath, src_dir)
        for n in dirnames + filenames:
            paths.append(n if rel == "." else f"{rel}/{n}")
    paths.sort(key=lambda p: tuple(p.split("/")))
    with tarfile.open(tar_path, "w", format=tarfile.PAX_FORMAT) as tf:
        for p in paths:
            full = os.path.join(src_dir, p)
            ti = tarfile.TarInfo(p)
            ti.mtime = mtime
            ti.uname = ti.gname = ""
            if os.path.isdir(full):
                ti.type, ti.mode = tarfile.DIRTYPE, 0o755
                tf.addfile(ti)
            else:
                ti.mode, ti.size = 0o644, os.path.getsize(full)
                with open(full, "rb") as f:
                    tf.addfile(ti, f)


def put_blob(layout: str, data: bytes | None = None, src: str | None = None,
             digest: str | None = None) -> tuple[str, int]:
    blobs = os.path.join(layout, "blobs", "sha256")
    os.makedirs(blobs, exist_ok=True)
    if data is not None:
        hexd = hashlib.sha256(data).hexdigest()
        with open(os.path.join(blobs, hexd), "wb") as f:
            f.write(data)
        return "sha256:" + hexd, len(data)
    hexd = digest.split(":", 1)[1] if digest else sha256_file(src)
    dst = os.path.join(blobs, hexd)
    shutil.copyfile(src, dst)
    return "sha256:" + hexd, os.path.getsize(dst)


def write_oci_layout(layout: str, config_bytes: bytes, layer_blobs: list[tuple[str, str, int]],
                     media_type: str, ref: str) -> dict:
    """layer_blobs: (path of compressed blob, digest, size)."""
    os.makedirs(layout, exist_ok=True)
    with open(os.path.join(layout, "oci-layout"), "w") as f:
        json.dump({"imageLayoutVersion": "1.0.0"}, f)
    cfg_digest, cfg_size = put_blob(layout, data=config_bytes)
    layers = []
    for path, digest, size in layer_blobs:
        put_blob(layout, src=path, digest=digest)
        layers.append({"mediaType": media_type, "digest": digest, "size": size})
    manifest = {
        "schemaVersion": 2,
        "mediaType": MT_MANIFEST,
        "config": {"mediaType": MT_CONFIG, "digest": cfg_digest, "size": cfg_size},
        "layers": layers,
        "annotations": {"org.opencontainers.image.ref.name": ref},
    }
    mbytes = json.dumps(manifest, indent=2).encode()
    m_digest, m_size = put_blob(layout, data=mbytes)
    index = {
        "schemaVersion": 2,
        "mediaType": MT_INDEX,
        "manifests": [{
            "mediaType": MT_MANIFEST,
            "digest": m_digest,
            "size": m_size,
            "platform": {"architecture": ARCH, "os": "linux"},
            "annotations": {"org.opencontainers.image.ref.name": "latest"},
        }],
    }
    with open(os.path.join(layout, "index.json"), "w") as f:
        json.dump(index, f, indent=2)
        f.write("\n")
    return {"manifest_digest": m_digest, "manifest_size": m_size,
            "config_digest": cfg_digest, "config_size": cfg_size}


def write_docker_archive(path: str, repo: str, config_bytes: bytes, layers: list[LayerTar],
                         config: dict, mtime: int) -> None:
    """Classic `docker save` layout: <id>/{VERSION,json,layer.tar}, manifest.json."""
    cfg_hex = hashlib.sha256(config_bytes).hexdigest()
    ids = []
    jsons = []
    parent = ""
    for i, lt in enumerate(layers):
        v1 = {"created": config["created"], "os": config["os"], "architecture": config["architecture"],
              "container_config": {"Cmd": None, "Env": None}}
        if parent:
            v1["parent"] = parent
        if i == len(layers) - 1:
            v1["config"] = config["config"]
        lid = hashlib.sha256(f"{parent}\n{lt.diff_id}\n".encode() + canonical_json(v1)).hexdigest()
        v1 = {"id": lid, **v1}
        ids.append(lid)
        jsons.append(json.dumps(v1).encode())
        parent = lid
    manifest = [{"Config": f"{cfg_hex}.json", "RepoTags": [f"{repo}:latest"],
                 "Layers": [f"{lid}/layer.tar" for lid in ids]}]
    repositories = {repo: {"latest": ids[-1]}}

    def add_bytes(tf, name, data, mode=0o644):
        ti = tarfile.TarInfo(name)
        ti.size, ti.mode, ti.mtime = len(data), mode, mtime
        tf.addfile(ti, io.BytesIO(data))

    with tarfile.open(path, "w", format=tarfile.PAX_FORMAT) as tf:
        entries = []
        for lid, lt, js in zip(ids, layers, jsons):
            entries.append((lid + "/", "dir", None))
            entries.append((f"{lid}/VERSION", "bytes", b"1.0"))
            entries.append((f"{lid}/json", "bytes", js))
            entries.append((f"{lid}/layer.tar", "file", lt.tar_path))
        entries.append((f"{cfg_hex}.json", "bytes", config_bytes))
        entries.append(("manifest.json", "bytes", json.dumps(manifest).encode()))
        entries.append(("repositories", "bytes", json.dumps(repositories).encode()))
        entries.sort(key=lambda e: e[0])
        for name, what, payload in entries:
            if what == "dir":
                ti = tarfile.TarInfo(name.rstrip("/"))
                ti.type, ti.mode, ti.mtime = tarfile.DIRTYPE, 0o755, mtime
                tf.addfile(ti)
            elif what == "bytes":
                add_bytes(tf, name, payload)
            else:
                ti = tarfile.TarInfo(name)
                ti.size, ti.mode, ti.mtime = os.path.getsize(payload), 0o644, mtime
                with open(payload, "rb") as f:
                    tf.addfile(ti, f)


# --------------------------------------------------------------------------
# image build


def image_is_current(out: str, name: str, shash: str) -> bool:
    d = os.path.join(out, name)
    try:
        with open(os.path.join(d, ".stamp.json")) as f:
            s = json.load(f)
    except (OSError, ValueError):
        return False
    if s.get("script_sha256") != shash:
        return False
    base = read_base_stamp(out)
    if base is not None and base["created"] != s.get("base_created"):
        return False
    needed = ["oci/index.json", "oci-archive.tar", "docker-archive.tar", "rootfs",
              "expected/packages.tsv", "expected/image.json"]
    if name in ZSTD_IMAGES:
        needed.append("oci-zstd/index.json")
    return all(os.path.exists(os.path.join(d, n)) for n in needed)


def remove_special_files(root: str) -> int:
    """Drop device nodes and sockets, and our directory tags."""
    n = 0
    for dirpath, dirnames, filenames in os.walk(root):
        with contextlib.suppress(OSError):
            os.removexattr(dirpath, DIR_TAG, follow_symlinks=False)
        for fn in filenames:
            p = os.path.join(dirpath, fn)
            m = os.lstat(p).st_mode
            if stat.S_ISCHR(m) or stat.S_ISBLK(m) or stat.S_ISSOCK(m):
                os.unlink(p)
                n += 1
    return n


def build_image(out: str, name: str, shash: str, base: dict, layer0: Layer0Cache) -> None:
    t_img = time.monotonic()
    final = os.path.join(out, name)
    tmp = os.path.join(out, f".{name}.tmp")
    safe_rmtree(tmp)
    safe_rmtree(os.path.join(out, f".{name}.old"))  # left by an interrupted run
    os.makedirs(tmp)
    ok = False
    try:
        _, base_root, _ = base_paths(out)
        lt0, dpkg0 = layer0.get()
        work = os.path.join(tmp, "rootfs")
        layers_dir = os.path.join(tmp, "_layers")
        os.makedirs(layers_dir)
        with timed(f"{name}: copy base rootfs"):
            run(["cp", "-a", base_root, work], echo=False)
        hashes = HashCache()
        with timed(f"{name}: snapshot base"):
            snap = snapshot(work, hashes, tag_dirs=True)

        layers: list[LayerTar] = [lt0]
        layer_created_by = [BASE_CREATED_BY]
        states = [dpkg0]
        history = [{"created": None, "created_by": BASE_CREATED_BY}]
        env = [IMAGE_PATH_ENV]
        cmd = None
        for step in RECIPES[name]:
            if step["kind"] == "empty":
                history.append({"created_by": step["created_by"], "empty_layer": True})
                if step["env"]:
                    env.append(step["env"])
                if step["cmd"]:
                    cmd = step["cmd"]
                continue
            idx = len(layers)
            with timed(f"{name}: layer {idx}: {step['created_by']}"):
                if step["kind"] == "run":
                    chroot_sh(work, step["script"])
                elif step["kind"] == "host":
                    exp_dir = os.path.join(tmp, "expected")
                    os.makedirs(exp_dir, exist_ok=True)
                    with chroot_mounts(work):
                        run(["bash", os.path.join(REPO_ROOT, step["script"]), work, exp_dir])
                else:
                    apply_copy(work, step["dest"], step["content"])
            with timed(f"{name}: layer {idx}: snapshot + diff + tar"):
                new = snapshot(work, hashes, tag_dirs=True)
                d = diff_snapshots(snap, new)
                lt = write_layer_tar(work, new, d, os.path.join(layers_dir, f"layer{idx}.tar"))
                snap = new
            log(f"{name}: layer {idx}: {lt.entries} entries, {lt.size / 1e6:.1f} MB, "
                f"{len(lt.whiteouts)} whiteouts, {len(lt.opaque_dirs)} opaque dirs")
            states.append(dpkg_state(work))
            layers.append(lt)
            layer_created_by.append(step["created_by"])
            history.append({"created_by": step["created_by"]})

        created = utc_now()
        for h in history:
            h["created"] = created
            h.setdefault("comment", "bulwark build-test-images.py")
        # key order as docker/buildkit write it
        history = [{k: h[k] for k in ("created", "created_by", "comment", "empty_layer") if k in h}
                   for h in history]
        container_cfg: dict = {"Env": env, "Cmd": cmd or ["bash"],
                               "Labels": {"org.opencontainers.image.title": f"{REF_PREFIX}-{name}",
                                          "org.opencontainers.image.source": "scripts/build-test-images.py",
                                          "org.opencontainers.image.base.name": f"debian:{SUITE}"}}
        config = {
            "created": created,
            "architecture": ARCH,
            "os": "linux",
            "config": container_cfg,
            "rootfs": {"type": "layers", "diff_ids": [lt.diff_id for lt in layers]},
            "history": history,
        }
        config_bytes = json.dumps(config, indent=2).encode()
        mtime = int(_dt.datetime.now(_dt.timezone.utc).timestamp())

        # compress layers
        gz_blobs, zst_blobs = [], []
        compressors = {}
        with timed(f"{name}: compress layers"):
            for i, lt in enumerate(layers):
                kinds = ["gzip"] + (["zstd"] if name in ZSTD_IMAGES else [])
                for kind in kinds:
                    if i == 0:
                        path, tool = layer0.compressed(kind)
                    else:
                        path = lt.tar_path + (".gz" if kind == "gzip" else ".zst")
                        tool = (gzip_file if kind == "gzip" else zstd_file)(lt.tar_path, path)
                    compressors[kind] = tool
                    blob = (path, "sha256:" + sha256_file(path), os.path.getsize(path))
                    (gz_blobs if kind == "gzip" else zst_blobs).append(blob)
        with timed(f"{name}: write oci/, oci-archive.tar, docker-archive.tar"):
            oci = write_oci_layout(os.path.join(tmp, "oci"), config_bytes, gz_blobs,
                                   MT_LAYER_GZIP, "latest")
            tar_dir(os.path.join(tmp, "oci"), os.path.join(tmp, "oci-archive.tar"), mtime)
            ozst = None
            if name in ZSTD_IMAGES:
                ozst = write_oci_layout(os.path.join(tmp, "oci-zstd"), config_bytes, zst_blobs,
                                        MT_LAYER_ZSTD, "latest")
            write_docker_archive(os.path.join(tmp, "docker-archive.tar"), f"{REF_PREFIX}/{name}",
                                 config_bytes, layers, config, mtime)

        # ground truth
        exp = os.path.join(tmp, "expected")
        os.makedirs(exp, exist_ok=True)
        rows = package_rows(states)
        write_packages_tsv(os.path.join(exp, "packages.tsv"), rows)
        layer_info = []
        for i, lt in enumerate(layers):
            prev = states[i - 1] if i else {}
            cur = states[i]
            info = {
                "index": i,
                "created_by": layer_created_by[i],
                "diff_id": lt.diff_id,
                "size": lt.size,
                "entries": lt.entries,
                "hardlinks": lt.hardlinks,
                "gzip": {"digest": gz_blobs[i][1], "size": gz_blobs[i][2]},
                "whiteouts": lt.whiteouts,
                "whiteout_entries": lt.whiteout_entries,
                "opaque_dirs": lt.opaque_dirs,
                "dpkg_packages": len(cur),
                "dpkg_added": sorted(k for k in cur if k not in prev),
                "dpkg_removed": sorted(k for k in prev if k not in cur),
                "dpkg_changed": sorted(k for k in cur if k in prev and cur[k]["version"] != prev[k]["version"]),
            }
            if zst_blobs:
                info["zstd"] = {"digest": zst_blobs[i][1], "size": zst_blobs[i][2]}
            if i == 0:
                info["dpkg_added"] = f"{len(cur)} packages (all of the base)"
            layer_info.append(info)
        image_json = {
            "image": name,
            "ref": f"{REF_PREFIX}/{name}:latest",
            "oci_ref_name": "latest",
            "architecture": ARCH,
            "os": "linux",
            "suite": SUITE,
            "layer_count": len(layers),
            "diff_ids": [lt.diff_id for lt in layers],
            "config_digest": oci["config_digest"],
            "manifest_digest": oci["manifest_digest"],
            "manifest_digest_zstd": ozst["manifest_digest"] if ozst else None,
            "compressors": compressors,
            "history": [{"created_by": h["created_by"], "empty_layer": h.get("empty_layer", False)}
                        for h in history],
            "config": container_cfg,
            "package_count": len(rows),
            "packages_by_layer": {str(i): sum(1 for r in rows if r["layer"] == i) for i in range(len(layers))},
            "whiteouts": {str(i): lt.whiteouts for i, lt in enumerate(layers) if lt.whiteouts},
            "opaque_dirs": {str(i): lt.opaque_dirs for i, lt in enumerate(layers) if lt.opaque_dirs},
            "layers": layer_info,
            "uncompressed_size": sum(lt.size for lt in layers),
            "base": {k: base[k] for k in ("created", "suite", "arch", "mirror", "debootstrap_version")},
            "package_layer_rule": "layer = first layer index from which the package is listed at this "
                                  "version in the dpkg status of every later layer",
            "notes": "rootfs/ is the final filesystem without device nodes; packages.tsv lists "
                     "packages whose dpkg status is 'installed' in the final rootfs",
        }
        write_json(os.path.join(exp, "image.json"), image_json)

        with timed(f"{name}: finish (drop temp layers, device nodes, old output)"):
            safe_rmtree(layers_dir)
            removed = remove_special_files(work)
            log(f"{name}: rootfs kept ({removed} device nodes removed)")
            write_json(os.path.join(tmp, ".stamp.json"),
                       {"script_sha256": shash, "base_created": base["created"], "built": created,
                        "seconds": round(time.monotonic() - t_img, 1)})
            if os.path.lexists(final):
                # move the old output aside first so the new one appears at once
                old = os.path.join(out, f".{name}.old")
                safe_rmtree(old)
                os.rename(final, old)
                os.rename(tmp, final)
                safe_rmtree(old)
            else:
                os.rename(tmp, final)
        ok = True
        sizes = ", ".join(f"L{i} {lt.size / 1e6:.1f} MB/{gz_blobs[i][2] / 1e6:.1f} MB gz"
                          for i, lt in enumerate(layers))
        log(f"{name}: built in {time.monotonic() - t_img:.1f}s: {sizes}")
    finally:
        if not ok:
            umount_all_under(tmp)
            with contextlib.suppress(Exception):
                safe_rmtree(tmp)


# --------------------------------------------------------------------------


def default_out() -> str:
    return os.environ.get("BULWARK_TESTIMAGES") or os.path.join(REPO_ROOT, ".cache", "testimages")


def _sigterm(signum, frame):
    raise KeyboardInterrupt(f"signal {signum}")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=None, help="output dir (default $BULWARK_TESTIMAGES or <repo>/.cache/testimages)")
    ap.add_argument("--force", action="store_true", help="rebuild even if the stamp matches")
    ap.add_argument("images", nargs="+", metavar="IMAGE", choices=sorted(RECIPES) + ["all"])
    args = ap.parse_args(argv)
    if os.geteuid() != 0:
        print("build-test-images.py must run as root (debootstrap, chroot, mount)", file=sys.stderr)
        return 2
    signal.signal(signal.SIGTERM, _sigterm)
    signal.signal(signal.SIGHUP, _sigterm)
    names = sorted(RECIPES) if "all" in args.images else list(dict.fromkeys(args.images))
    out = os.path.abspath(args.out or default_out())
    os.makedirs(out, exist_ok=True)
    shash = script_hash()
    lock = open(os.path.join(out, ".lock"), "w")
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as e:
        if e.errno not in (errno.EAGAIN, errno.EACCES):
            raise
        log(f"waiting for another build-test-images.py run on {out}")
        fcntl.flock(lock, fcntl.LOCK_EX)
    log(f"output: {out}")
    todo = [n for n in names if args.force or not image_is_current(out, n, shash)]
    for n in names:
        if n not in todo:
            log(f"{n}: up to date, skipping")
    if not todo:
        return 0
    # leftovers of an interrupted run
    umount_all_under(out)
    base = ensure_base(out)
    layer0 = Layer0Cache(out, base, shash)
    for n in todo:
        with timed(f"image {n}"):
            build_image(out, n, shash, base, layer0)
    log("all done")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt as e:
        print(f"interrupted: {e}", file=sys.stderr)
        sys.exit(130)
    except subprocess.CalledProcessError as e:
        print(f"error: command failed ({e.returncode}): {e.cmd}", file=sys.stderr)
        sys.exit(1)
