#!/usr/bin/env bash
# Layer script for the `lang` test image: bash java.sh ROOTFS EXPECTED_DIR (see scripts/build-test-images.py).
#
# The Java layer, made of real jars only:
#
#  * Debian's liblog4j2-java (about 11 MB with its dependencies) installed in the chroot with
#    apt-get: its jars in /usr/share/java belong to dpkg, so a scanner must report them as the
#    deb packages only, never a second time as Maven packages.
#  * Application archives under /app assembled from the same real jars, taken from the host's
#    own liblog4j2-java (installed on the host if missing):
#      /app/lib/log4j-api-<v>.jar       plain copy                       (pom.properties)
#      /app/lib/log4j-to-slf4j.jar      META-INF/maven removed            (MANIFEST.MF only)
#      /app/lib/log4j-jcl-<v>.jar       META-INF removed                  (file name only)
#      /app/app.war                     WEB-INF/lib/log4j-core-<v>.jar, log4j-api-<v>.jar and
#                                       demo-plugins-1.0.0.jar, which holds lib/log4j-jul-<v>.jar
#                                       (a jar in a jar in a war)
#      /app/boot.jar                    Spring Boot layout, BOOT-INF/lib/*.jar stored
#      /app/suite.ear                   admin.war in an ear, with WEB-INF/lib/commons-codec-<v>.jar
#
# Ground truth, read from the real jars' pom.properties with `unzip -p`:
#   EXPECTED_DIR/java.tsv         path, groupId, artifactId, version, evidence: one row per
#                                 archive under /app, nested ones as `/app/app.war!/WEB-INF/lib/x.jar`;
#                                 evidence says what the archive itself still carries
#                                 (pom.properties, manifest, filename).
#   EXPECTED_DIR/java-debian.tsv  package, version (dpkg-query in the chroot), jar: Debian's
#                                 jars, which must not show up as Maven packages.
#
# Idempotent: /app/{lib,app.war,boot.jar,suite.ear} are rebuilt from scratch each run; the
# archives are byte-for-byte reproducible (fixed timestamps, sorted entries).
set -euo pipefail

if [ $# -ne 2 ]; then
    echo "usage: $0 ROOTFS EXPECTED_DIR" >&2
    exit 2
fi
mkdir -p "$1" "$2"
ROOTFS=$(realpath "$1")
EXP=$(realpath "$2")
JAVA=/usr/share/java

# --- host: the real jars ------------------------------------------------------------------
if ! dpkg-query -W -f='${Status}' liblog4j2-java 2>/dev/null | grep -q 'ok installed'; then
    echo "java.sh: installing liblog4j2-java on the host (source of the real jars)" >&2
    apt-get update
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends liblog4j2-java
fi
command -v unzip >/dev/null || {
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends unzip
}
command -v python3 >/dev/null

# --- chroot: Debian-owned jars ----------------------------------------------------------------
if [ -x "$ROOTFS/usr/bin/apt-get" ]; then
    chroot "$ROOTFS" /usr/bin/env -i \
        PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
        DEBIAN_FRONTEND=noninteractive LANG=C.UTF-8 HOME=/root TERM=dumb \
        /bin/sh -c 'apt-get update && apt-get install -y --no-install-recommends liblog4j2-java && rm -rf /var/lib/apt/lists/*'
    deb_version=$(chroot "$ROOTFS" dpkg-query -W -f='${Version}' liblog4j2-java)
else
    # Standalone runs (an empty ROOTFS): only the /app archives are made.
    echo "java.sh: $ROOTFS has no apt-get; skipping the liblog4j2-java install in the chroot" >&2
    deb_version=""
fi
{
    printf 'package\tversion\tjar\n'
    if [ -n "$deb_version" ]; then
        chroot "$ROOTFS" dpkg-query -L liblog4j2-java | grep '^/usr/share/java/.*\.jar$' | sort |
            while read -r jar; do printf 'liblog4j2-java\t%s\t%s\n' "$deb_version" "$jar"; done
    fi
} >"$EXP/java-debian.tsv"

# --- the application archives -----------------------------------------------------------------
# groupId<TAB>artifactId<TAB>version of a real jar, from its own pom.properties.
gav() {
    local props
    props=$(unzip -p "$1" 'META-INF/maven/*/*/pom.properties')
    local g a v
    g=$(printf '%s\n' "$props" | sed -n 's/^groupId=//p' | tr -d '\r')
    a=$(printf '%s\n' "$props" | sed -n 's/^artifactId=//p' | tr -d '\r')
    v=$(printf '%s\n' "$props" | sed -n 's/^version=//p' | tr -d '\r')
    if [ -z "$g" ] || [ -z "$a" ] || [ -z "$v" ]; then
        echo "java.sh: no pom.properties in $1" >&2
        return 1
    fi
    printf '%s\t%s\t%s\n' "$g" "$a" "$v"
}

args=()
for name in log4j-core log4j-api log4j-jul log4j-jcl log4j-to-slf4j gson httpcore commons-codec; do
    jar=$(realpath "$JAVA/$name.jar")
    args+=("$name" "$jar" "$(gav "$jar")")
done

rm -rf "$ROOTFS/app/lib" "$ROOTFS/app/app.war" "$ROOTFS/app/boot.jar" "$ROOTFS/app/suite.ear"
mkdir -p "$ROOTFS/app/lib"

python3 - "$ROOTFS/app" "$EXP/java.tsv" "${args[@]}" <<'PY'
import io
import os
import sys
import zipfile

app, tsv = sys.argv[1], sys.argv[2]
rest = sys.argv[3:]
jars = {}  # name -> (path, (g, a, v))
for i in range(0, len(rest), 3):
    name, path, gav = rest[i], rest[i + 1], rest[i + 2]
    jars[name] = (path, tuple(gav.split("\t")))

STAMP = (2024, 1, 1, 0, 0, 0)
rows = []


def real(name):
    path, gav = jars[name]
    with open(path, "rb") as f:
        return f.read(), gav


def zip_bytes(entries, stored=()):
    """A zip from [(name, bytes)], sorted, fixed timestamps; names in `stored` not deflated."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, data in entries:
            info = zipfile.ZipInfo(name, STAMP)
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_STORED if name in stored else zipfile.ZIP_DEFLATED
            z.writestr(info, data)
    return buf.getvalue()


def strip(data, drop):
    """The jar without the entries for which drop(name) holds."""
    src = zipfile.ZipFile(io.BytesIO(data))
    entries = [(i.filename, src.read(i)) for i in src.infolist() if not drop(i.filename)]
    return zip_bytes(entries)


def pom_properties(g, a, v):
    return f"#Created by Apache Maven 3.8.7\ngroupId={g}\nartifactId={a}\nversion={v}\n".encode()


def manifest(**fields):
    lines = ["Manifest-Version: 1.0", "Created-By: bulwark scripts/testdata/java.sh"]
    lines += [f"{k.replace('_', '-')}: {v}" for k, v in fields.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def row(path, gav, evidence):
    rows.append((path, *gav, evidence))


def write(rel, data):
    path = os.path.join(app, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)


# /app/lib: one jar per kind of evidence.
data, gav = real("log4j-api")
write(f"lib/log4j-api-{gav[2]}.jar", data)
row(f"/app/lib/log4j-api-{gav[2]}.jar", gav, "pom.properties")

data, gav = real("log4j-to-slf4j")
write("lib/log4j-to-slf4j.jar", strip(data, lambda n: n.startswith("META-INF/maven/")))
row("/app/lib/log4j-to-slf4j.jar", gav, "manifest")

data, gav = real("log4j-jcl")
write(f"lib/log4j-jcl-{gav[2]}.jar", strip(data, lambda n: n.startswith("META-INF/")))
row(f"/app/lib/log4j-jcl-{gav[2]}.jar", gav, "filename")

# /app/app.war: real jars in WEB-INF/lib, and a jar in a jar in the war.
core, core_gav = real("log4j-core")
api, api_gav = real("log4j-api")
jul, jul_gav = real("log4j-jul")
plugins_gav = ("com.example.bulwark", "demo-plugins", "1.0.0")
plugins = zip_bytes([
    ("META-INF/MANIFEST.MF", manifest(Implementation_Title="demo-plugins", Implementation_Version="1.0.0")),
    ("META-INF/maven/com.example.bulwark/demo-plugins/pom.properties", pom_properties(*plugins_gav)),
    (f"lib/log4j-jul-{jul_gav[2]}.jar", jul),
])
war_gav = ("com.example.bulwark", "demo-webapp", "1.0.0")
core_name = f"log4j-core-{core_gav[2]}.jar"
api_name = f"log4j-api-{api_gav[2]}.jar"
write("app.war", zip_bytes([
    ("META-INF/MANIFEST.MF", manifest()),
    ("META-INF/maven/com.example.bulwark/demo-webapp/pom.properties", pom_properties(*war_gav)),
    ("WEB-INF/web.xml", b'<?xml version="1.0"?>\n<web-app version="3.1"/>\n'),
    (f"WEB-INF/lib/{core_name}", core),
    (f"WEB-INF/lib/{api_name}", api),
    ("WEB-INF/lib/demo-plugins-1.0.0.jar", plugins),
]))
row("/app/app.war", war_gav, "pom.properties")
row(f"/app/app.war!/WEB-INF/lib/{core_name}", core_gav, "pom.properties")
row(f"/app/app.war!/WEB-INF/lib/{api_name}", api_gav, "pom.properties")
row("/app/app.war!/WEB-INF/lib/demo-plugins-1.0.0.jar", plugins_gav, "pom.properties")
row(f"/app/app.war!/WEB-INF/lib/demo-plugins-1.0.0.jar!/lib/log4j-jul-{jul_gav[2]}.jar", jul_gav,
    "pom.properties")

# /app/boot.jar: Spring Boot's executable jar layout (nested jars must be stored).
gson, gson_gav = real("gson")
httpcore, httpcore_gav = real("httpcore")
boot_gav = ("com.example.bulwark", "demo-boot", "1.0.0")
gson_name = f"BOOT-INF/lib/gson-{gson_gav[2]}.jar"
httpcore_name = f"BOOT-INF/lib/httpcore-{httpcore_gav[2]}.jar"
write("boot.jar", zip_bytes([
    ("META-INF/MANIFEST.MF", manifest(Main_Class="org.springframework.boot.loader.JarLauncher",
                                      Start_Class="com.example.bulwark.Demo",
                                      Spring_Boot_Lib="BOOT-INF/lib/")),
    ("META-INF/maven/com.example.bulwark/demo-boot/pom.properties", pom_properties(*boot_gav)),
    ("BOOT-INF/classes/application.properties", b"server.port=8080\n"),
    (gson_name, gson),
    (httpcore_name, httpcore),
], stored={gson_name, httpcore_name}))
row("/app/boot.jar", boot_gav, "pom.properties")
row(f"/app/boot.jar!/{gson_name}", gson_gav, "pom.properties")
row(f"/app/boot.jar!/{httpcore_name}", httpcore_gav, "pom.properties")

# /app/suite.ear: a war in an ear.
codec, codec_gav = real("commons-codec")
admin_gav = ("com.example.bulwark", "demo-admin", "1.0.0")
codec_name = f"WEB-INF/lib/commons-codec-{codec_gav[2]}.jar"
admin = zip_bytes([
    ("META-INF/maven/com.example.bulwark/demo-admin/pom.properties", pom_properties(*admin_gav)),
    (codec_name, codec),
])
write("suite.ear", zip_bytes([
    ("META-INF/application.xml", b'<?xml version="1.0"?>\n<application version="7"/>\n'),
    ("admin.war", admin),
]))
row("/app/suite.ear!/admin.war", admin_gav, "pom.properties")
row(f"/app/suite.ear!/admin.war!/{codec_name}", codec_gav, "pom.properties")

with open(tsv, "w") as f:
    f.write("path\tgroupId\tartifactId\tversion\tevidence\n")
    for r in sorted(rows):
        f.write("\t".join(r) + "\n")
PY

echo "java.sh: $(($(wc -l <"$EXP/java.tsv") - 1)) archives in /app, liblog4j2-java ${deb_version:-not installed}" >&2
