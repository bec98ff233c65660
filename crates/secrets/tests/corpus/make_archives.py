#!/usr/bin/env python3
"""Writes the archive fixtures of the secrets corpus (positive/archives, negative/archives).

Every credential is generated here from a fixed seed: structurally valid, never real. The
output is deterministic (fixed mtimes, owners and member order; gzip without a name or time;
zstd through the `zstd` command at a fixed level), so running it again changes no byte.

    python3 crates/secrets/tests/corpus/make_archives.py
"""
import bz2
import gzip
import io
import lzma
import os
import random
import string
import subprocess
import tarfile
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
POS = os.path.join(HERE, "positive", "archives")
NEG = os.path.join(HERE, "negative", "archives")
MTIME = 1577836800  # 2020-01-01T00:00:00Z
rnd = random.Random(20261207)
B64 = string.ascii_letters + string.digits + "+/"
AKID = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"


def s(alphabet, n):
    return "".join(rnd.choice(alphabet) for _ in range(n))


def aws_pair():
    return (
        "[default]\n"
        f"aws_access_key_id = AKIA{s(AKID, 16)}\n"
        f"aws_secret_access_key = {s(string.ascii_letters + string.digits, 40)}\n"
        "region = eu-west-1\n"
    )


def rsa_pem():
    body = "\n".join(s(B64, 64) for _ in range(20)) + "\n" + s(B64, 40) + "=="
    return f"-----BEGIN RSA PRIVATE KEY-----\n{body}\n-----END RSA PRIVATE KEY-----\n"


def tar_bytes(members):
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.GNU_FORMAT) as tar:
        for name, data in members:
            if isinstance(data, str):
                data = data.encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mtime = MTIME
            info.mode = 0o644
            info.uname = info.gname = "root"
            tar.addfile(info, io.BytesIO(data))
    return out.getvalue()


def zip_bytes(members):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in members:
            info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            z.writestr(info, data)
    return out.getvalue()


def gz(data):
    return gzip.compress(data, compresslevel=9, mtime=0)


def xz(data):
    return lzma.compress(data, preset=6)


def bz(data):
    return bz2.compress(data, 9)


def zst(data):
    return subprocess.run(
        ["zstd", "-q", "-19", "--no-progress", "-c"], input=data, check=True, capture_output=True
    ).stdout


CLASS = bytes.fromhex("cafebabe00000037") + bytes(range(64))
MANIFEST = "Manifest-Version: 1.0\nCreated-By: bulwark corpus\n"


def write(directory, name, data):
    os.makedirs(directory, exist_ok=True)
    with open(os.path.join(directory, name), "wb") as f:
        f.write(data)


def main():
    write(POS, "aws-credentials.zip", zip_bytes([("home/app/.aws/credentials", aws_pair())]))
    write(
        POS,
        "service.jar",
        zip_bytes(
            [
                ("META-INF/MANIFEST.MF", MANIFEST),
                ("com/example/App.class", CLASS),
                ("BOOT-INF/classes/application.properties", "server.port=8080\n" + aws_pair()),
            ]
        ),
    )
    write(POS, "ssh-backup.tar.gz", gz(tar_bytes([("home/deploy/.ssh/id_rsa", rsa_pem())])))
    write(POS, "site.tgz", gz(tar_bytes([("site/README", "site\n"), ("site/config/.env", aws_pair())])))
    write(POS, "etc.tar.xz", xz(tar_bytes([("etc/app/credentials", aws_pair())])))
    write(POS, "deploy.tar.bz2", bz(tar_bytes([("deploy/keys/server.key", rsa_pem())])))
    write(POS, "release.tar.zst", zst(tar_bytes([("release/aws.ini", aws_pair())])))
    write(POS, "bundle.tar", tar_bytes([("bundle/id_rsa", rsa_pem())]))
    write(POS, "credentials.gz", gz(aws_pair().encode()))
    inner_jar = zip_bytes([("META-INF/MANIFEST.MF", MANIFEST), ("conf/app.properties", aws_pair())])
    war = zip_bytes([("WEB-INF/web.xml", "<web-app/>\n"), ("WEB-INF/lib/conf.jar", inner_jar)])
    write(POS, "nested.tar.gz", gz(tar_bytes([("opt/app/service.war", war)])))

    harmless = (
        "# Example configuration\n"
        "region = eu-west-1\n"
        "log_level = info\n"
        "checksum = 3f786850e387550fdab836ed7e6dc881de23001b\n"
    )
    write(NEG, "docs.zip", zip_bytes([("README.md", "# docs\n"), ("config.ini", harmless)]))
    write(NEG, "library.jar", zip_bytes([("META-INF/MANIFEST.MF", MANIFEST), ("a/B.class", CLASS)]))
    write(NEG, "assets.tar.gz", gz(tar_bytes([("assets/app.conf", harmless)])))
    write(NEG, "notes.txt.xz", xz(b"nothing to see here\n"))
    write(NEG, "data.tar.zst", zst(tar_bytes([("data/values.csv", "a,b\n1,2\n")])))


if __name__ == "__main__":
    main()
