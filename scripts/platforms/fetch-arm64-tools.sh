#!/usr/bin/env bash
# What runs linux-arm64 programs on an x86-64 Debian machine, fetched with apt-get download from Debian's archive
# and unpacked into <repo>/.cache/tools/arm64 (nothing is installed on the system, no root needed):
#   usr/bin/qemu-aarch64         qemu-user ≥ 8.1 (static), from <codename>-backports where there is one (bookworm has
#                                7.2, whose arm64 programs see the host's /proc/cpuinfo: onnxruntime's cpuinfo then
#                                crashes; from 8.1 qemu shows an arm64 one)
#   usr/aarch64-linux-gnu/lib/   the arm64 C and C++ runtime (libc6-, libstdc++6-, libgcc-s1-arm64-cross): QEMU_LD_PREFIX
# Idempotent: a second run that finds both returns at once. Prints the folder.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
DEST="$ROOT/.cache/tools/arm64"
QEMU="$DEST/usr/bin/qemu-aarch64"
LD="$DEST/usr/aarch64-linux-gnu/lib/ld-linux-aarch64.so.1"
if [ -x "$QEMU" ] && [ -e "$LD" ]; then echo "$DEST"; exit 0; fi

. /etc/os-release
CODENAME="${VERSION_CODENAME:?no VERSION_CODENAME in /etc/os-release: not Debian?}"
KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
mkdir -p "$TMP/lists/partial" "$TMP/debs"
{
  echo "deb [signed-by=$KEYRING] http://deb.debian.org/debian $CODENAME main"
  echo "deb [signed-by=$KEYRING] http://deb.debian.org/debian $CODENAME-backports main"
} >"$TMP/sources.list"
O=(-o "Dir::Etc::SourceList=$TMP/sources.list" -o Dir::Etc::SourceParts=/dev/null -o "Dir::State::Lists=$TMP/lists"
  -o Debug::NoLocking=1 -o APT::Sandbox::User=root)
echo "[fetch-arm64-tools] apt-get update ($CODENAME, $CODENAME-backports)" >&2
apt-get "${O[@]}" update -qq </dev/null >&2
cd "$TMP/debs"
apt-get "${O[@]}" download -qq "qemu-user/$CODENAME-backports" </dev/null >&2 2>/dev/null ||
  apt-get "${O[@]}" download -qq qemu-user </dev/null >&2
apt-get "${O[@]}" download -qq libc6-arm64-cross libstdc++6-arm64-cross libgcc-s1-arm64-cross </dev/null >&2
mkdir -p "$DEST"
for deb in *-arm64-cross_*.deb; do dpkg-deb -x "$deb" "$DEST"; done
# Only the one emulator out of qemu-user's ~30.
dpkg-deb --fsys-tarfile qemu-user_*.deb | tar -x -C "$DEST" ./usr/bin/qemu-aarch64
version="$("$QEMU" --version | head -1 | sed -E 's/.*version ([0-9]+)\.([0-9]+).*/\1 \2/')"
read -r major minor <<<"$version"
if ((major < 8 || (major == 8 && minor < 1))); then
  echo "[fetch-arm64-tools] qemu-aarch64 $major.$minor is older than 8.1 (no arm64 /proc/cpuinfo): onnxruntime would crash" >&2
  rm -f "$QEMU"
  exit 1
fi
test -e "$LD"
echo "[fetch-arm64-tools] qemu-aarch64 $major.$minor and the arm64 C library in ${DEST#"$ROOT"/}" >&2
echo "$DEST"
