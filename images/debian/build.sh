#!/bin/bash
# Builds metalflow's real Debian image, debian/bookworm amd64, from Debian's packages with
# mmdebstrap (as root): systemd, the Debian kernel, openssh-server, cloud-init with its MAAS
# datasource, GRUB for BIOS and UEFI, lvm2, mdadm, netplan (packages.list next to this script).
#
#   images/debian/build.sh [--force] [OUTDIR]
#
# OUTDIR defaults to build/boot/images/rootfs/debian/bookworm/amd64 (the rack's HTTP boot server
# serves the boot root, so an installer can fetch from there). It gets, as MAAS ships images:
#   root.tgz     the root filesystem (MAAS's `root-tgz`): a pax tar (xattrs kept), gzip -n.
#                tgz, not squashfs, because the installer unpacks it with plain `tar xzf` (busybox
#                has it; squashfs needs the squashfs kernel module and unsquashfs or a mount)
#   vmlinuz, initrd.img   the image's own kernel and initramfs (MAAS's boot-kernel/boot-initrd)
#   metalflow.json        the manifest the region lists: each file's SHA-256 and size, the kernel
#                version, every installed package with its version, the build inputs' hash
# Cached: nothing is done when the manifest's inputs_sha256 (this script, packages.list, mirrors,
# epoch, mmdebstrap's version) matches and the files still have the sizes it records.
# Reproducible: SOURCE_DATE_EPOCH (default below) clamps every mtime, mmdebstrap writes a sorted
# tar and drops its logs, gzip -n. The same bytes need the same package versions: set
# DEBIAN_MIRROR/DEBIAN_SECURITY to a snapshot.debian.org URL to pin them.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
NAME=debian/bookworm
SUITE=bookworm
ARCH=amd64
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
SECURITY=${DEBIAN_SECURITY:-http://security.debian.org/debian-security}
# 2025-06-01T00:00:00Z: every file's mtime is clamped to this (bookworm 12.11's month).
EPOCH=${SOURCE_DATE_EPOCH:-1748736000}

FORCE=no OUT=''
for arg in "$@"; do
  case $arg in
    --force) FORCE=yes ;;
    -h | --help) sed -n '2,21p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "debian/build.sh: unknown option $arg" >&2; exit 2 ;;
    *) [ -z "$OUT" ] || { echo "debian/build.sh: one OUTDIR only" >&2; exit 2; }; OUT=$arg ;;
  esac
done
OUT=${OUT:-$ROOT/build/boot/images/rootfs/$NAME/$ARCH}
say() { echo "debian/build.sh: $*" >&2; }
fail() { say "$*"; exit 1; }
START=$(date +%s)

for tool in mmdebstrap gzip sha256sum jq dpkg-query; do
  command -v "$tool" >/dev/null || fail "needs $tool (apt-get install mmdebstrap gzip coreutils jq dpkg)"
done
[ "$(id -u)" = 0 ] || fail "runs as root (mmdebstrap's root mode keeps owners, devices and xattrs)"

mapfile -t PACKAGES < <(sed 's/#.*//; s/[[:space:]]//g; /^$/d' "$HERE/packages.list")
INPUTS=$(
  {
    sha256sum <"$HERE/build.sh"
    sha256sum <"$HERE/packages.list"
    echo "$MIRROR $SECURITY $SUITE $ARCH $EPOCH mmdebstrap $(mmdebstrap --version)"
  } | sha256sum | cut -d' ' -f1
)

# Up to date: same inputs, and every file the manifest lists is there with its recorded size.
if [ "$FORCE" = no ] && [ -f "$OUT/metalflow.json" ] &&
  [ "$(jq -r .inputs_sha256 "$OUT/metalflow.json" 2>/dev/null)" = "$INPUTS" ] &&
  jq -r '.files | to_entries[] | "\(.key) \(.value.size)"' "$OUT/metalflow.json" |
  while read -r f size; do [ "$(stat -c %s "$OUT/$f" 2>/dev/null)" = "$size" ] || exit 1; done; then
  say "up to date: $OUT (inputs $INPUTS)"
  exit 0
fi

mkdir -p "$ROOT/build" "$OUT"
STAGE=$(mktemp -d "$ROOT/build/debian-stage.XXXXXX")
trap 'rm -rf "$STAGE"' EXIT
say "building $NAME $ARCH from $MIRROR (${#PACKAGES[@]} packages and their dependencies, SOURCE_DATE_EPOCH=$EPOCH)"

# Runs inside mmdebstrap after the packages are installed, with the image's root as $1 and
# STAGE in the environment: the image's configuration, then what ships next to the archive.
cat >"$STAGE/customize.sh" <<'HOOK'
#!/bin/bash
set -euo pipefail
R=$1
echo "debian/build.sh: configuring the image" >&2
# cloud-init: MAAS first (its config, written by the installer, names the metadata server and
# the machine's token), NoCloud for a seed disk (the boot benchmark), None so boot never hangs.
cat >"$R/etc/cloud/cloud.cfg.d/90_metalflow_datasources.cfg" <<'EOF'
# metalflow: the MAAS datasource (the installer adds metadata_url and the machine's OAuth token in
# another file here, as curtin does); NoCloud for a cidata seed disk; None as the last resort.
datasource_list: [ MAAS, NoCloud, None ]
EOF
# GRUB on the serial console too (labs and BMCs' serial-over-LAN); the installer runs
# grub-install and update-grub against this.
cat >"$R/etc/default/grub" <<'EOF'
GRUB_DEFAULT=0
GRUB_TIMEOUT=1
GRUB_DISTRIBUTOR=Debian
GRUB_CMDLINE_LINUX_DEFAULT=""
GRUB_CMDLINE_LINUX="console=tty0 console=ttyS0,115200n8"
GRUB_TERMINAL="console serial"
GRUB_SERIAL_COMMAND="serial --speed=115200 --unit=0 --word=8 --parity=no --stop=1"
EOF
# Host keys are per machine: none ship (cloud-init makes them on first boot; the drop-in makes
# them when sshd starts without cloud-init having run).
rm -f "$R"/etc/ssh/ssh_host_*
mkdir -p "$R/etc/systemd/system/ssh.service.d"
printf '[Service]\nExecStartPre=/usr/bin/ssh-keygen -A\n' >"$R/etc/systemd/system/ssh.service.d/metalflow-host-keys.conf"
# Per-machine identity, made on first boot.
: >"$R/etc/machine-id"
rm -f "$R/var/lib/dbus/machine-id" "$R/var/lib/systemd/random-seed"
echo debian >"$R/etc/hostname"
# One locale besides C.UTF-8.
echo 'en_US.UTF-8 UTF-8' >"$R/etc/locale.gen"
chroot "$R" locale-gen >/dev/null
echo 'LANG=C.UTF-8' >"$R/etc/default/locale"
# The deployed system installs Recommends as any Debian does; only the build skipped them.
rm -f "$R/etc/apt/apt.conf.d/99mmdebstrap"
# What ships next to the archive: the kernel and initramfs, and the package list.
kernels=("$R"/boot/vmlinuz-*)
[ ${#kernels[@]} = 1 ] || { echo "expected one kernel, found: ${kernels[*]}" >&2; exit 1; }
version=${kernels[0]#"$R"/boot/vmlinuz-}
cp "$R/boot/vmlinuz-$version" "$STAGE/vmlinuz"
cp "$R/boot/initrd.img-$version" "$STAGE/initrd.img"
echo "$version" >"$STAGE/kernel-version"
dpkg-query --admindir="$R/var/lib/dpkg" -W -f '${Package}\t${Version}\n' | LC_ALL=C sort >"$STAGE/packages.tsv"
HOOK
chmod +x "$STAGE/customize.sh"

export SOURCE_DATE_EPOCH=$EPOCH STAGE
# Docs, man pages and translations are left out (copyright files stay): a server image.
mmdebstrap --mode=root --variant=apt --arch="$ARCH" \
  --aptopt='APT::Install-Recommends "false"' \
  --dpkgopt='path-exclude=/usr/share/man/*' \
  --dpkgopt='path-exclude=/usr/share/locale/*' --dpkgopt='path-include=/usr/share/locale/locale.alias' \
  --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-include=/usr/share/doc/*/copyright' \
  --include="$(
    IFS=,
    echo "${PACKAGES[*]}"
  )" \
  --customize-hook="$STAGE/customize.sh \"\$1\"" \
  "$SUITE" "$STAGE/root.tar" \
  "deb $MIRROR $SUITE main" "deb $MIRROR $SUITE-updates main" "deb $SECURITY $SUITE-security main"

say "compressing the root filesystem ($(($(stat -c %s "$STAGE/root.tar") / 1048576)) MiB tar)"
gzip -n -6 <"$STAGE/root.tar" >"$STAGE/root.tgz"
rm -f "$STAGE/root.tar"

file_json() { jq -n --arg ft "$2" --argjson size "$(stat -c %s "$STAGE/$1")" --arg sha "$(sha256sum <"$STAGE/$1" | cut -d' ' -f1)" \
  '{filetype: $ft, size: $size, sha256: $sha}'; }
jq -n \
  --arg name "$NAME" --arg arch "$ARCH/generic" --arg suite "$SUITE" --arg inputs "$INPUTS" \
  --arg kernel "$(cat "$STAGE/kernel-version")" --arg mirror "$MIRROR" --argjson epoch "$EPOCH" \
  --arg built "$(date -u -d "@$EPOCH" +%Y-%m-%dT%H:%M:%SZ)" \
  --argjson root "$(file_json root.tgz root-tgz)" --argjson kern "$(file_json vmlinuz boot-kernel)" \
  --argjson initrd "$(file_json initrd.img boot-initrd)" \
  --argjson packages "$(jq -R -n '[inputs | split("\t") | {key: .[0], value: .[1]}] | from_entries' <"$STAGE/packages.tsv")" \
  '{
    name: $name,
    title: "Debian 12 (bookworm): systemd, cloud-init, openssh-server, GRUB (BIOS + UEFI)",
    architecture: $arch,
    deployable: false,
    state: "built; not deployable until the installer of issue 13 part 2 exists",
    file: "root.tgz", format: "root-tgz", size: $root.size, sha256: $root.sha256,
    files: {"root.tgz": $root, "vmlinuz": $kern, "initrd.img": $initrd},
    kernel_version: $kernel,
    suite: $suite, mirror: $mirror, source_date_epoch: $epoch, built: $built,
    inputs_sha256: $inputs,
    packages: $packages
  }' >"$STAGE/metalflow.json"

# The manifest goes last: a reader that sees it sees complete files.
rm -f "$OUT/metalflow.json"
for f in root.tgz vmlinuz initrd.img metalflow.json; do mv -f "$STAGE/$f" "$OUT/$f"; done
say "built $NAME in $(($(date +%s) - START)) s: $OUT/root.tgz $(stat -c %s "$OUT/root.tgz") bytes, $(jq '.packages | length' "$OUT/metalflow.json") packages, kernel $(jq -r .kernel_version "$OUT/metalflow.json")"
