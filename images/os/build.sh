#!/bin/bash
# Builds the STAND-IN for fast tests, `custom/metalflow-standin` (not an OS a user would deploy:
# no sshd, no cloud-init; the real debian/bookworm is images/debian/build.sh): a raw MBR disk image
# with one FAT16 partition booted by SYSLINUX, holding the Debian kernel and the busybox initramfs
# of the ephemeral environment (images/ephemeral/build.sh, run first) with mf.purpose=installed on
# the kernel command line. On its first boot that system reads the credentials the installer wrote
# into the disk's config area (see below), brings up the network, fetches meta-data (instance-id,
# public-keys) and user-data from the metadata server as cloud-init would, installs the owner's
# SSH keys, runs a `#!` user-data script, and stays up.
#
#   images/os/build.sh [--force] [--verify] [OUTDIR]
#
# OUTDIR defaults to build/boot/images/os/custom/metalflow-standin/amd64 (served by the rack's HTTP
# boot server under /images/os/custom/metalflow-standin/amd64/): disk.img.gz, disk.img.gz.sha256 and
# metalflow.json (the boot resource the region lists: name, sizes, sha256 of the download and of
# the raw image). Layout of the raw image (IMAGE_MIB MiB): sector 0 SYSLINUX's mbr.bin + the
# partition table; sectors 1024-1151 the config area (zeros here; the installer writes the
# metadata URL and the machine's token there, `#metalflow-os-config` first); partition 1 from
# sector 2048 to the end. No root, no loop mounts: mkfs.fat --offset, mtools, syslinux --offset.
# Reproducible: mkfs.fat --invariant, fixed mtimes (SOURCE_DATE_EPOCH, else the kernel's), gzip -n;
# --verify builds twice and compares.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
EPH=$ROOT/build/boot/images/ephemeral/amd64
NAME=custom/metalflow-standin
IMAGE_MIB=64
PART_START=2048

FORCE=no VERIFY=no OUT=''
for arg in "$@"; do
  case $arg in
    --force) FORCE=yes ;;
    --verify) VERIFY=yes ;;
    -h | --help) sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "build.sh: unknown option $arg" >&2; exit 2 ;;
    *) [ -z "$OUT" ] || { echo "build.sh: one OUTDIR only" >&2; exit 2; }; OUT=$arg ;;
  esac
done
if [ -z "$OUT" ]; then
  OUT=$ROOT/build/boot/images/os/$NAME/amd64
  # Where builds before the rename put it: listed as debian/bookworm, which is the real image now.
  rm -rf "$ROOT/build/boot/images/os/debian/bookworm"
  rmdir "$ROOT/build/boot/images/os/debian" 2>/dev/null || true
fi
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
say() { echo "os/build.sh: $*" >&2; }
fail() { say "$*"; exit 1; }
START=$(date +%s%N)

MBR=/usr/lib/syslinux/mbr/mbr.bin
for tool in sfdisk mkfs.fat mcopy mmd syslinux gzip sha256sum; do
  command -v "$tool" >/dev/null || fail "needs $tool (apt-get install fdisk dosfstools mtools syslinux syslinux-common)"
done
[ -f "$MBR" ] || fail "needs $MBR (apt-get install syslinux-common)"

"$ROOT/images/ephemeral/build.sh" >/dev/null || fail "the ephemeral environment did not build"

STAMP=$(
  echo "syslinux $(dpkg-query -W -f='${Version}' syslinux 2>/dev/null) dosfstools $(dpkg-query -W -f='${Version}' dosfstools 2>/dev/null) mtools $(dpkg-query -W -f='${Version}' mtools 2>/dev/null)"
  echo "epoch ${SOURCE_DATE_EPOCH:-kernel} size $IMAGE_MIB"
  (cd "$ROOT" && sha256sum images/os/build.sh)
  (cd "$EPH" && sha256sum vmlinuz initrd.gz)
)
if [ "$FORCE" = no ] && [ "$VERIFY" = no ] && [ -f "$OUT/.stamp" ] && [ -f "$OUT/disk.img.gz" ] && [ -f "$OUT/metalflow.json" ] &&
  [ "$(sed '/^output /d' "$OUT/.stamp")" = "$STAMP" ] && [ "$(sed -n 's/^output //p' "$OUT/.stamp")" = "$(cd "$OUT" && sha256sum disk.img.gz)" ]; then
  say "up to date: $OUT/disk.img.gz"
  exit 0
fi

EPOCH=${SOURCE_DATE_EPOCH:-$(stat -c %Y "$EPH/vmlinuz")}
STAGE=$(mktemp -d "$ROOT/build/os-stage.XXXXXX")
trap 'rm -rf "$STAGE"' EXIT
IMG=$STAGE/disk.img
export MTOOLS_SKIP_CHECK=1 TZ=UTC SOURCE_DATE_EPOCH=$EPOCH
truncate -s "${IMAGE_MIB}M" "$IMG"
SECTORS=$((IMAGE_MIB * 2048 - PART_START))
printf 'label: dos\nlabel-id: 0x6d666f73\nunit: sectors\n\nstart=%d, size=%d, type=6, bootable\n' "$PART_START" "$SECTORS" | sfdisk -q "$IMG"
mkfs.fat -F 16 -n METALFLOW --invariant --offset "$PART_START" "$IMG" $((SECTORS / 2)) >/dev/null
dd if="$MBR" of="$IMG" bs=440 count=1 conv=notrunc status=none

F=$STAGE/files
mkdir -p "$F/syslinux"
cp "$EPH/vmlinuz" "$F/vmlinuz"
cp "$EPH/initrd.gz" "$F/initrd.gz"
cat >"$F/syslinux/syslinux.cfg" <<'EOF'
SERIAL 0 115200
DEFAULT metalflow
PROMPT 0
TIMEOUT 0
LABEL metalflow
  KERNEL /vmlinuz
  INITRD /initrd.gz
  APPEND console=tty0 console=ttyS0 panic=-1 mf.purpose=installed
EOF
printf 'NAME="metalflow minimal"\nID=metalflow\nID_LIKE=debian\nVERSION_CODENAME=bookworm\nMETALFLOW_IMAGE=%s\n' "$NAME" >"$F/os-release"
find "$F" -exec touch -h -d "@$EPOCH" {} +
M=("$IMG@@$((PART_START * 512))")
mmd -i "${M[0]}" ::/syslinux
for f in vmlinuz initrd.gz os-release syslinux/syslinux.cfg; do mcopy -m -i "${M[0]}" "$F/$f" "::/$f"; done
syslinux --offset $((PART_START * 512)) --directory /syslinux --install "$IMG"
gzip -n -9 <"$IMG" >"$STAGE/disk.img.gz"
RAW_SHA=$(sha256sum <"$IMG" | cut -d' ' -f1)
GZ_SHA=$(sha256sum <"$STAGE/disk.img.gz" | cut -d' ' -f1)
cat >"$STAGE/metalflow.json" <<EOF
{
  "name": "$NAME",
  "title": "metalflow stand-in for fast tests: Debian 12 kernel + busybox",
  "architecture": "amd64/generic",
  "file": "disk.img.gz",
  "format": "raw.gz",
  "size": $(stat -c %s "$STAGE/disk.img.gz"),
  "sha256": "$GZ_SHA",
  "raw_size": $(stat -c %s "$IMG"),
  "raw_sha256": "$RAW_SHA",
  "config_offset": $((1024 * 512)),
  "built": "$(date -u -d "@$EPOCH" +%Y-%m-%dT%H:%M:%SZ)"
}
EOF
echo "$GZ_SHA  disk.img.gz" >"$STAGE/disk.img.gz.sha256"
for f in disk.img.gz disk.img.gz.sha256 metalflow.json; do mv -f "$STAGE/$f" "$OUT/$f"; done
{
  echo "$STAMP"
  (cd "$OUT" && sha256sum disk.img.gz) | sed 's/^/output /'
} >"$OUT/.stamp"
say "built $NAME in $((($(date +%s%N) - START) / 1000000)) ms: $OUT/disk.img.gz $(stat -c %s "$OUT/disk.img.gz") bytes sha256 $GZ_SHA (raw $RAW_SHA)"

if [ "$VERIFY" = yes ]; then
  AGAIN=$(mktemp -d "$ROOT/build/os-verify.XXXXXX")
  "$0" --force "$AGAIN" 2>/dev/null
  if cmp -s "$OUT/disk.img.gz" "$AGAIN/disk.img.gz"; then
    rm -rf "$AGAIN"
    say "reproducible: a second build gave the same bytes"
  else
    fail "NOT reproducible: compare $OUT and $AGAIN"
  fi
fi
