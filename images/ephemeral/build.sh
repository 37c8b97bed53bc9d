#!/bin/bash
# Builds metalflow's ephemeral environment (what a machine PXE-boots into for enlistment and
# commissioning) from Debian packages: the kernel linux-image-amd64 depends on (only vmlinuz and
# the NIC and disk driver modules) and a busybox-static initramfs whose /init is
# images/ephemeral/init. For secure erase it also holds hdparm (from Debian's package; ATA
# security erase) and nvme-format (images/ephemeral/nvme-format.c, compiled here with gcc: NVMe
# Format NVM with Secure Erase Settings), with the C library they run on (the build host's libc6);
# for LLDP, lldp-listen (images/ephemeral/lldp-listen.c, compiled the same way).
#
#   images/ephemeral/build.sh [--force] [--verify] [OUTDIR]
#
# OUTDIR defaults to build/boot/images/ephemeral/amd64, where the rack's HTTP boot server serves
# vmlinuz and initrd.gz (bootRoot build/boot). The kernel and hdparm .debs are cached in build/cache.
# Reproducible: fixed mtimes (SOURCE_DATE_EPOCH, by default the kernel's own build time), a sorted
# newc archive with owner 0:0 and renumbered inodes, gzip -n. The same inputs give the same bytes;
# --verify builds a second time elsewhere and compares. Nothing is rebuilt while the outputs match
# the stamp (packages, versions, hash of the inputs); --force rebuilds anyway.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
LIBRARY=$ROOT/src/api/run-scripts/maas-run-scripts.sh
CACHE=$ROOT/build/cache
# What a QEMU or ordinary PC needs to reach the network and see its disks: virtio, e1000, and
# IDE/SATA/SCSI and NVMe (all modules in Debian's kernel; their dependencies are added from the .ko
# files).
MODULES=(virtio_ring virtio virtio_pci_legacy_dev virtio_pci_modern_dev virtio_pci failover net_failover virtio_net e1000
  virtio_blk scsi_common scsi_mod sd_mod virtio_scsi libata ata_piix ata_generic libahci ahci nvme_core nvme
  crc32c_generic crc16 mbcache jbd2 ext4 dm_mod md_mod raid0 raid1 raid10 raid456 xfs efivarfs)
# ext4 for the deploy installer's target (crc32c_generic first: ext4 asks the crypto API for crc32c,
# which no `depends=` names); efivarfs for the UEFI boot entry it registers. What install-to-disk.sh runs that busybox lacks or does differently,
# from the build host's Debian packages with the shared libraries they load: bash, coreutils'
# install, util-linux's sfdisk/wipefs/partx/blkid, mke2fs, mkfs.fat, GNU tar (xattrs), mtools (the
# ESP). GRUB runs chrooted in the installed image, which has its own.
INSTALLER_PACKAGES=(bash coreutils util-linux fdisk e2fsprogs dosfstools tar mtools)
INSTALLER_TOOLS=(bash install sfdisk wipefs partx blkid mke2fs mkfs.fat tar mtools)
INSTALLER=$ROOT/images/installer/install-to-disk.sh
UEFI_ENTRIES=$ROOT/images/installer/uefi-boot-entries.sh
# The installer's LVM, md RAID and xfs (dm_mod, md_mod, raid*, xfs above): Debian's lvm2, mdadm and
# xfsprogs, downloaded once into build/cache as hdparm is (installing them on the build host would
# bring udev and a systemd upgrade), with the libraries of theirs the host lacks; the rest of what
# they load comes from the host like the tools above. No udev in the environment: the script
# tells LVM to make its own /dev nodes.
STORAGE_PACKAGES=(lvm2 libdevmapper1.02.1 libdevmapper-event1.02.1 libaio1 mdadm xfsprogs libinih1 liburcu8)
STORAGE_TOOLS=(sbin/lvm sbin/mdadm sbin/mkfs.xfs)
# What MAAS's built-in commissioning and testing scripts (scripts/builtin) run: lshw (00-maas-01-lshw)
# and e2fsprogs' badblocks from the build host like the installer's tools; smartctl, memtester and
# stress-ng (stress-ng-cpu-short) downloaded into build/cache like the storage tools. stress-ng's
# libraries (all of them but the C library's) are downloaded too rather than taken from the host:
# a build host seldom has libIPSec_MB, libJudy or libsctp, and a clean one lacks the EGL/GBM ones.
# fio is compiled here from Debian's source of bookworm's fio (FIO_SOURCE, checked against the
# SHA-256 of its .dsc): Debian's binary links the ceph (librbd, librados), glusterfs, nbd, pmem and
# RDMA engines, about 85 MB of libraries (more than twice this whole initrd). Built without them,
# with libaio (MAAS's fio runs --ioengine=libaio) and zlib linked in statically from Debian's -dev
# packages, it is one 1.7 MB program that loads only the C library. Built once into build/cache.
FIO_VERSION=3.33
FIO_SOURCE=${FIO_SOURCE:-http://deb.debian.org/debian/pool/main/f/fio/fio_${FIO_VERSION}.orig.tar.gz}
FIO_SHA256=d2410e13e0f379d061d077cc5ae325835bb7c6186aa7bafc1df954cbc9b014fc
FIO_DEV_PACKAGES=(libaio-dev libaio1 zlib1g-dev zlib1g)
SCRIPT_HOST_PACKAGES=(lshw e2fsprogs)
SCRIPT_HOST_TOOLS=(lshw badblocks)
SCRIPT_PACKAGES=(smartmontools memtester stress-ng)
SCRIPT_LIBRARY_PACKAGES=(libipsec-mb1 libjudydebian1 libsctp1 libegl1 libgles2 libgbm1 libglvnd0 libdrm2
  libwayland-server0 libexpat1 libffi8 libapparmor1 libbsd0 libmd0 libcrypt1 libjpeg62-turbo libkmod2
  libxxhash0 zlib1g libzstd1 liblzma5 libssl3)
SCRIPT_DEB_TOOLS=(usr/sbin/smartctl usr/sbin/memtester usr/bin/stress-ng)
SCRIPTS=$HERE/scripts

FORCE=no VERIFY=no OUT=''
for arg in "$@"; do
  case $arg in
    --force) FORCE=yes ;;
    --verify) VERIFY=yes ;;
    -h | --help) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "build.sh: unknown option $arg" >&2; exit 2 ;;
    *) [ -z "$OUT" ] || { echo "build.sh: one OUTDIR only" >&2; exit 2; }; OUT=$arg ;;
  esac
done
OUT=${OUT:-$ROOT/build/boot/images/ephemeral/amd64}
mkdir -p "$OUT" "$CACHE"
OUT=$(cd "$OUT" && pwd)

# Two builds at once (two e2e labs that find the image stale) would share build/cache's temporary
# files: the second waits for the first, then finds its outputs up to date. The lock file is opened
# for reading (flock needs no more), so an up-to-date check still runs where build/cache is not
# writable once the file exists. --verify's inner build runs under its caller's lock.
LOCK=$CACHE/ephemeral-build.lock
if [ -z "${METALFLOW_EPHEMERAL_BUILD_LOCKED:-}" ]; then
  : >>"$LOCK" 2>/dev/null || true
  if exec 9<"$LOCK"; then
    flock -n 9 || { echo "build.sh: waiting for another build of the ephemeral environment" >&2; flock 9; }
  else
    echo "build.sh: cannot open $LOCK; building without the lock" >&2
  fi
fi

say() { echo "build.sh: $*" >&2; }
fail() { say "$*"; exit 1; }
START=$(date +%s%N)

for tool in apt-get apt-cache dpkg-deb dpkg-query tar gzip sha256sum readelf; do
  command -v "$tool" >/dev/null || fail "needs $tool (a Debian system)"
done
command -v gcc >/dev/null && [ -f /usr/include/linux/nvme_ioctl.h ] || fail "needs gcc and the C library headers (apt-get install gcc libc6-dev)"
command -v make >/dev/null && command -v curl >/dev/null || fail "needs make and curl to build fio (apt-get install make curl)"
# (captured first: under pipefail, `cpio --help | grep -q` fails when grep leaves early and cpio gets SIGPIPE)
grep -q -- --reproducible <<<"$(cpio --help 2>/dev/null)" || fail "needs GNU cpio with --reproducible (apt-get install cpio)"
for tool in "${SCRIPT_HOST_TOOLS[@]}"; do
  command -v "$tool" >/dev/null || fail "needs $tool for the built-in scripts (apt-get install ${SCRIPT_HOST_PACKAGES[*]})"
done
for tool in "${INSTALLER_TOOLS[@]}"; do
  command -v "$tool" >/dev/null || fail "needs $tool for the deploy installer (apt-get install ${INSTALLER_PACKAGES[*]})"
done

as_root_apt() {
  if [ "$(id -u)" = 0 ]; then "$@"; else fail "needs root for: $* (or install it yourself)"; fi
}

# --- inputs ----------------------------------------------------------------------------------

if [ "$(dpkg-query -W -f='${Status}' busybox-static 2>/dev/null)" != 'install ok installed' ]; then
  say "installing busybox-static"
  as_root_apt apt-get install -y --no-install-recommends busybox-static >&2
fi
BUSYBOX_VERSION=$(dpkg-query -W -f='${Version}' busybox-static)

# The candidate version of each package build.sh fetches, from one apt-cache call (about a second
# each: one call per package made the up-to-date check, run by every e2e lab, take half a minute).
declare -A CANDIDATE=()
read_candidates() {
  local key value pkg=''
  while read -r key value; do
    case $key in
      Package:) pkg=$value ;;
      Version:) [ -z "$pkg" ] || [ -n "${CANDIDATE[$pkg]:-}" ] || CANDIDATE[$pkg]=$value ;;
    esac
  done < <(apt-cache show --no-all-versions "$@" 2>/dev/null || true)
}

# fetch_deb PACKAGE: the path of PACKAGE's candidate .deb in build/cache (downloaded once); with no
# package lists (offline, or apt-get update never ran), the newest cached one of that name.
fetch_deb() {
  local pkg=$1 version=${CANDIDATE[$1]:-} deb dl sandbox=()
  if [ -z "$version" ]; then
    deb=$(find "$CACHE" -maxdepth 1 -name "${pkg}_*_amd64.deb" | sort -V | tail -n 1)
    [ -n "$deb" ] || fail "apt-cache does not know $pkg and build/cache holds no $pkg: run apt-get update"
    say "apt-cache does not know $pkg; using the cached $(basename "$deb")"
    echo "$deb"
    return
  fi
  deb=$CACHE/${pkg}_${version//:/%3a}_amd64.deb
  if [ ! -f "$deb" ]; then
    say "downloading $pkg $version"
    dl=$(mktemp -d "$CACHE/download.XXXXXX")
    [ "$(id -u)" != 0 ] || sandbox=(-o APT::Sandbox::User=root)
    (cd "$dl" && apt-get download -q "${sandbox[@]}" "$pkg=$version" >&2) || { rm -rf "$dl"; fail "apt-get download $pkg failed"; }
    mv "$dl"/*.deb "$deb"
    rmdir "$dl"
  fi
  echo "$deb"
}

# (|| true: with no package lists apt-cache fails, and the newest cached kernel below will do.)
KPKG=$(apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/ { print $2; exit }' || true)
read_candidates ${KPKG:+"$KPKG"} hdparm "${STORAGE_PACKAGES[@]}" "${SCRIPT_PACKAGES[@]}" "${SCRIPT_LIBRARY_PACKAGES[@]}" \
  "${FIO_DEV_PACKAGES[@]}"
if [ -n "$KPKG" ]; then
  DEB=$(fetch_deb "$KPKG")
else
  # No package lists: the newest cached kernel will do.
  DEB=$(find "$CACHE" -maxdepth 1 -name 'linux-image-*-amd64_*.deb' | sort -V | tail -n 1)
  [ -n "$DEB" ] || fail "apt-cache does not know linux-image-amd64 and build/cache holds no kernel: run apt-get update"
  KPKG=$(dpkg-deb -f "$DEB" Package)
  say "apt-cache does not know linux-image-amd64; using the cached $(basename "$DEB")"
fi
KABI=${KPKG#linux-image-}
HDPARM_DEB=$(fetch_deb hdparm)
STORAGE_DEBS=()
for pkg in "${STORAGE_PACKAGES[@]}"; do STORAGE_DEBS+=("$(fetch_deb "$pkg")"); done
SCRIPT_DEBS=()
for pkg in "${SCRIPT_PACKAGES[@]}" "${SCRIPT_LIBRARY_PACKAGES[@]}"; do SCRIPT_DEBS+=("$(fetch_deb "$pkg")"); done
FIO_DEBS=()
for pkg in "${FIO_DEV_PACKAGES[@]}"; do FIO_DEBS+=("$(fetch_deb "$pkg")"); done
LIBC_VERSION=$(dpkg-query -W -f='${Version}' libc6)
GCC_VERSION=$(gcc -dumpfullversion)

INPUTS=("$SCRIPTS"/runner.sh "$SCRIPTS"/json-flatten.awk "$SCRIPTS"/builtin/* "$HERE/init" "$HERE/follow-rack.sh" "$HERE/udhcpc.script" "$HERE/nvme-format.c" "$HERE/lldp-listen.c" "$HERE/build.sh" "$LIBRARY" "$INSTALLER" "$UEFI_ENTRIES")
STAMP=$(
  echo "kernel $(basename "$DEB")"
  echo "busybox-static $BUSYBOX_VERSION"
  echo "hdparm $(basename "$HDPARM_DEB")"
  for deb in "${STORAGE_DEBS[@]}"; do echo "storage $(basename "$deb")"; done
  for deb in "${SCRIPT_DEBS[@]}"; do echo "scripts $(basename "$deb")"; done
  echo "fio $FIO_VERSION $FIO_SHA256 $(for deb in "${FIO_DEBS[@]}"; do basename "$deb"; done | tr '\n' ' ')"
  echo "script-tools $(dpkg-query -W -f='${Package}=${Version} ' "${SCRIPT_HOST_PACKAGES[@]}")"
  echo "libc6 $LIBC_VERSION"
  echo "gcc $GCC_VERSION"
  echo "installer-tools $(dpkg-query -W -f='${Package}=${Version} ' "${INSTALLER_PACKAGES[@]}")"
  echo "modules ${MODULES[*]}"
  echo "epoch ${SOURCE_DATE_EPOCH:-kernel}"
  (cd "$ROOT" && sha256sum "${INPUTS[@]#"$ROOT/"}")
)

report() {
  (cd "$OUT" && for f in vmlinuz initrd.gz; do
    printf '%s  %s bytes  sha256 %s\n' "$OUT/$f" "$(stat -c %s "$f")" "$(sha256sum "$f" | cut -d' ' -f1)"
  done)
}

outputs_match_stamp() {
  [ -f "$OUT/.stamp" ] && [ -f "$OUT/vmlinuz" ] && [ -f "$OUT/initrd.gz" ] || return 1
  [ "$(sed '/^output /d' "$OUT/.stamp")" = "$STAMP" ] || return 1
  [ "$(sed -n 's/^output //p' "$OUT/.stamp")" = "$(cd "$OUT" && sha256sum vmlinuz initrd.gz)" ]
}

if [ "$FORCE" = no ] && [ "$VERIFY" = no ] && outputs_match_stamp; then
  say "up to date ($KPKG, busybox $BUSYBOX_VERSION)"
  report
  exit 0
fi

# --- the kernel: vmlinuz and the modules with their dependencies ------------------------------

KDIR=$CACHE/$(basename "$DEB" .deb)
mkdir -p "$KDIR"
if [ ! -s "$KDIR/contents" ]; then
  dpkg-deb --fsys-tarfile "$DEB" | tar -t >"$KDIR/contents.tmp"
  mv "$KDIR/contents.tmp" "$KDIR/contents"
fi

extract() { # paths in the package that are not extracted yet
  local missing=() p
  for p in "$@"; do [ -e "$KDIR/$p" ] || missing+=("$p"); done
  [ ${#missing[@]} -eq 0 ] || dpkg-deb --fsys-tarfile "$DEB" | tar -x -C "$KDIR" "${missing[@]}"
}

VMLINUZ=./boot/vmlinuz-$KABI
BUILTIN=./lib/modules/$KABI/modules.builtin
grep -qx "$VMLINUZ" "$KDIR/contents" || fail "$VMLINUZ is not in $(basename "$DEB")"
extract "$VMLINUZ" "$BUILTIN"

declare -A PATH_OF=() BUILTIN_NAMES=()
while read -r p; do
  case $p in
    *.ko | *.ko.xz | *.ko.zst) n=${p##*/}; n=${n%%.ko*}; PATH_OF[${n//-/_}]=$p ;;
  esac
done <"$KDIR/contents"
while read -r p; do n=${p##*/}; n=${n%.ko}; BUILTIN_NAMES[${n//-/_}]=1; done <"$KDIR/$BUILTIN"

# Plain .ko in the cache (busybox insmod does not decompress).
plain_ko() {
  local p=$1 out=$KDIR/${1%%.ko*}.ko
  if [ ! -e "$out" ]; then
    case $p in
      *.xz) xz -dc "$KDIR/$p" >"$out" ;;
      *.zst) zstd -qdc "$KDIR/$p" >"$out" ;;
    esac
  fi
  echo "$out"
}
depends_of() {
  tr '\0' '\n' <"$(plain_ko "${PATH_OF[$1]}")" | sed -n 's/^depends=//p' | tr ',' ' '
}

# Fetch the closure a level at a time (one pass over the package each), then order it so every
# module comes after what it depends on.
declare -A DEPS=()
level=()
for m in "${MODULES[@]}"; do
  if [ -n "${BUILTIN_NAMES[$m]:-}" ]; then say "$m is built into $KABI"; continue; fi
  [ -n "${PATH_OF[$m]:-}" ] || fail "module $m is neither in $(basename "$DEB") nor built in"
  level+=("$m")
done
while [ ${#level[@]} -gt 0 ]; do
  paths=()
  for m in "${level[@]}"; do paths+=("${PATH_OF[$m]}"); done
  extract "${paths[@]}"
  next=()
  for m in "${level[@]}"; do
    DEPS[$m]=''
    for d in $(depends_of "$m"); do
      d=${d//-/_}
      [ -n "${BUILTIN_NAMES[$d]:-}" ] && continue
      [ -n "${PATH_OF[$d]:-}" ] || fail "$m depends on $d, which is not in the package"
      DEPS[$m]+=" $d"
      [ -n "${DEPS[$d]+x}" ] || [[ " ${next[*]} ${level[*]} " == *" $d "* ]] || next+=("$d")
    done
  done
  level=("${next[@]}")
done
ORDER=()
declare -A PLACED=()
place() {
  local m=$1 d
  [ -z "${PLACED[$m]:-}" ] || return 0
  PLACED[$m]=1
  for d in ${DEPS[$m]}; do place "$d"; done
  ORDER+=("$m")
}
for m in "${MODULES[@]}"; do [ -n "${BUILTIN_NAMES[$m]:-}" ] || place "$m"; done

# --- fio ------------------------------------------------------------------------------------

# build_fio: the path of fio built from FIO_SOURCE (cached in build/cache under a key of everything
# that goes into it; configure is told every optional engine it must leave out, so what the build
# host happens to have installed changes nothing).
build_fio() {
  local key dir src sysroot tarball=$CACHE/fio_${FIO_VERSION}.orig.tar.gz
  key=$(printf '%s\n' "$FIO_SHA256" "$GCC_VERSION" "$LIBC_VERSION" "${FIO_DEBS[@]##*/}" | sha256sum | cut -c1-16)
  dir=$CACHE/fio-$FIO_VERSION-$key
  if [ -x "$dir/fio" ]; then echo "$dir/fio"; return; fi
  if [ ! -f "$tarball" ] || [ "$(sha256sum "$tarball" | cut -d' ' -f1)" != "$FIO_SHA256" ]; then
    say "downloading fio $FIO_VERSION's source from $FIO_SOURCE"
    curl -fsSL -o "$tarball.part" "$FIO_SOURCE" || fail "could not download $FIO_SOURCE"
    [ "$(sha256sum "$tarball.part" | cut -d' ' -f1)" = "$FIO_SHA256" ] || fail "$FIO_SOURCE is not the fio $FIO_VERSION source Debian lists (SHA-256 differs)"
    mv "$tarball.part" "$tarball"
  fi
  rm -rf "$dir.tmp"
  mkdir -p "$dir.tmp"
  tar -xzf "$tarball" -C "$dir.tmp"
  src=$dir.tmp/fio-$FIO_VERSION
  # The -dev packages' headers and static archives only: with no .so beside them the linker takes
  # the archives, so the program needs neither library at run time.
  sysroot=$dir.tmp/sysroot
  for deb in "${FIO_DEBS[@]}"; do dpkg-deb -x "$deb" "$sysroot"; done
  find "$sysroot" -name '*.so*' -delete
  say "building fio $FIO_VERSION (once; cached in ${dir#"$ROOT/"})"
  (
    cd "$src"
    ./configure --disable-native --disable-numa --disable-rdma --disable-rados --disable-rbd --disable-http \
      --disable-gfapi --disable-libnfs --disable-pmem --disable-xnvme --disable-libzbc --disable-tcmalloc \
      --disable-dfs --disable-lex \
      --extra-cflags="-I$sysroot/usr/include -L$sysroot/usr/lib/x86_64-linux-gnu"
    make -j"$(nproc)" LDFLAGS="-L$sysroot/usr/lib/x86_64-linux-gnu -Wl,--build-id=none" fio
  ) >"$dir.tmp/build.log" 2>&1 || fail "fio's build failed: see ${dir#"$ROOT/"}.tmp/build.log"
  grep -q '^CONFIG_LIBAIO=y' "$src/config-host.mak" || fail "fio was configured without libaio (see ${dir#"$ROOT/"}.tmp/build.log)"
  strip -o "$dir.tmp/fio" "$src/fio"
  mkdir -p "$dir"
  mv "$dir.tmp/fio" "$dir/fio"
  rm -rf "$dir.tmp"
  echo "$dir/fio"
}

# --- the initramfs ---------------------------------------------------------------------------

EPOCH=${SOURCE_DATE_EPOCH:-$(stat -c %Y "$KDIR/$VMLINUZ")}
STAGE=$(mktemp -d "$ROOT/build/ephemeral-stage.XXXXXX")
trap 'rm -rf "$STAGE"' EXIT
R=$STAGE/root
mkdir -p "$R"/{bin,dev,etc,proc,run,sys,tmp,lib/modules,lib/metalflow,lib/x86_64-linux-gnu,lib64,usr/sbin,usr/share/udhcpc}
install -m 0755 /bin/busybox "$R/bin/busybox"
# Secure erase: hdparm from its package, nvme-format compiled here (no build id, stripped: the same
# compiler and C library give the same bytes), and the two files of the C library they load.
dpkg-deb --fsys-tarfile "$HDPARM_DEB" | tar -x -O ./sbin/hdparm >"$STAGE/hdparm"
install -m 0755 "$STAGE/hdparm" "$R/usr/sbin/hdparm"
gcc -Os -Wall -s -Wl,--build-id=none -o "$STAGE/nvme-format" "$HERE/nvme-format.c"
install -m 0755 "$STAGE/nvme-format" "$R/usr/sbin/nvme-format"
# LLDP (20-maas-01-install-lldpd, maas-capture-lldpd): lldp-listen, compiled the same way, in place
# of Debian's lldpd (whose XML output needs libxml2 and libicu, ~35 MB, and whose daemon links libsnmp).
# Hardened: it parses frames off the network as root.
gcc -Os -Wall -D_FORTIFY_SOURCE=2 -fstack-protector-strong -s -Wl,--build-id=none -o "$STAGE/lldp-listen" "$HERE/lldp-listen.c"
install -m 0755 "$STAGE/lldp-listen" "$R/usr/sbin/lldp-listen"
install -m 0755 "$(readlink -f /lib/x86_64-linux-gnu/libc.so.6)" "$R/lib/x86_64-linux-gnu/libc.so.6"
install -m 0755 "$(readlink -f /lib64/ld-linux-x86-64.so.2)" "$R/lib64/ld-linux-x86-64.so.2"
# The deploy installer's tools in /bin, before busybox's links (`--install -s` leaves a name that
# exists alone), with every library they load at the path the loader looks for it.
for tool in "${INSTALLER_TOOLS[@]}" "${SCRIPT_HOST_TOOLS[@]}"; do
  bin=$(readlink -f "$(command -v "$tool")")
  install -m 0755 "$bin" "$R/bin/$tool"
  ldd "$bin" | grep -o '/[^ ]*\.so[^ ]*' | while read -r lib; do
    mkdir -p "$R$(dirname "$lib")"
    install -m 0755 "$(readlink -f "$lib")" "$R$lib"
  done
done
X=$STAGE/storage-debs
mkdir -p "$X"
for deb in "${STORAGE_DEBS[@]}"; do dpkg-deb -x "$deb" "$X"; done
for tool in "${STORAGE_TOOLS[@]}"; do
  install -m 0755 "$X/$tool" "$R/bin/${tool##*/}"
  LD_LIBRARY_PATH=$X/lib/x86_64-linux-gnu:$X/usr/lib/x86_64-linux-gnu ldd "$X/$tool" | grep -o '/[^ ]*\.so[^ ]*' |
    while read -r lib; do
      case $lib in
        "$X"/*) install -m 0755 "$(readlink -f "$lib")" "$R/lib/x86_64-linux-gnu/${lib##*/}" ;;
        *) mkdir -p "$R$(dirname "$lib")"; install -m 0755 "$(readlink -f "$lib")" "$R$lib" ;;
      esac
    done
done
S=$STAGE/script-debs
mkdir -p "$S"
for deb in "${SCRIPT_DEBS[@]}"; do dpkg-deb -x "$deb" "$S"; done
for tool in "${SCRIPT_DEB_TOOLS[@]}"; do
  install -m 0755 "$S/$tool" "$R/bin/${tool##*/}"
  LD_LIBRARY_PATH=$S/lib/x86_64-linux-gnu:$S/usr/lib/x86_64-linux-gnu ldd "$S/$tool" | grep -o '/[^ ]*\.so[^ ]*' |
    while read -r lib; do
      case $lib in
        "$S"/*) install -m 0755 "$(readlink -f "$lib")" "$R/lib/x86_64-linux-gnu/${lib##*/}" ;;
        *) mkdir -p "$R$(dirname "$lib")"; install -m 0755 "$(readlink -f "$lib")" "$R$lib" ;;
      esac
    done
done
# fio loads only the C library's files (libc, libm, libmvec), the build host's like libc.so.6 above.
FIO=$(build_fio)
install -m 0755 "$FIO" "$R/bin/fio"
ldd "$FIO" | grep -o '/[^ ]*\.so[^ ]*' | while read -r lib; do
  mkdir -p "$R$(dirname "$lib")"
  install -m 0755 "$(readlink -f "$lib")" "$R$lib"
done
mkdir -p "$R/lib/metalflow/scripts/builtin"
install -m 0644 "$SCRIPTS/runner.sh" "$SCRIPTS/json-flatten.awk" "$R/lib/metalflow/scripts/"
install -m 0755 "$SCRIPTS"/builtin/* "$R/lib/metalflow/scripts/builtin/"
ln -s mke2fs "$R/bin/mkfs.ext4"
ln -s mkfs.fat "$R/bin/mkfs.vfat"
ln -s mtools "$R/bin/mcopy"
ln -s mtools "$R/bin/mmd"
install -m 0644 /etc/mke2fs.conf "$R/etc/mke2fs.conf"
# mtools converts FAT names through iconv to its default codepage (850): glibc's module for it and
# the module cache (the same libc6 as the one installed above).
GCONV=/usr/lib/x86_64-linux-gnu/gconv
mkdir -p "$R$GCONV"
install -m 0644 "$GCONV/IBM850.so" "$GCONV/gconv-modules.cache" "$R$GCONV/"
install -m 0755 "$INSTALLER" "$R/lib/metalflow/install-to-disk.sh"
install -m 0755 "$UEFI_ENTRIES" "$R/lib/metalflow/uefi-boot-entries.sh"
install -m 0755 "$HERE/init" "$R/init"
install -m 0644 "$HERE/follow-rack.sh" "$R/lib/metalflow/follow-rack.sh"
install -m 0755 "$HERE/udhcpc.script" "$R/usr/share/udhcpc/default.script"
install -m 0644 "$LIBRARY" "$R/lib/metalflow/maas-run-scripts.sh"
for m in "${ORDER[@]}"; do
  install -m 0644 "$(plain_ko "${PATH_OF[$m]}")" "$R/lib/modules/$m.ko"
  echo "$m"
done >"$R/lib/modules/load-order"
chmod 0644 "$R/lib/modules/load-order"
printf 'kernel=%s\nbusybox=%s\nhdparm=%s\nlibc6=%s\n' "$(basename "$DEB" .deb)" "$BUSYBOX_VERSION" "$(basename "$HDPARM_DEB" .deb)" "$LIBC_VERSION" >"$R/etc/metalflow-ephemeral"
chmod 0644 "$R/etc/metalflow-ephemeral"
# Every program's shared libraries must be in the image: the image's own loader lists each one's
# with the image's library directories only (no host cache); one found on the host instead, or not
# at all, fails the build rather than the machine (ldd above drops a library it cannot find).
IMAGE_LIBS=$R/lib/x86_64-linux-gnu:$R/usr/lib/x86_64-linux-gnu
for bin in $(find "$R/bin" "$R/usr/sbin" -type f | LC_ALL=C sort); do
  # (readelf, from gcc's binutils: asking the loader about a static program crashes it)
  readelf -l "$bin" 2>/dev/null | grep -q 'program interpreter' || continue
  listed=$("$R/lib64/ld-linux-x86-64.so.2" --inhibit-cache --library-path "$IMAGE_LIBS" --list "$bin" 2>&1) || true
  missing=$(awk -v root="$R/" '/not found|error while loading/ || (/=> \// && index($3, root) != 1)' <<<"$listed")
  [ -z "$missing" ] || fail "${bin#"$R"} loads libraries the image lacks:"$'\n'"$missing"
done
find "$R" -type d -exec chmod 0755 {} +
chmod 1777 "$R/tmp"
find "$R" -exec touch -h -d "@$EPOCH" {} +

(cd "$R" && find . -mindepth 1 -print0 | LC_ALL=C sort -z |
  cpio -o -H newc --null --reproducible --owner=0:0 --quiet) | gzip -n -9 >"$STAGE/initrd.gz"
install -m 0644 "$KDIR/$VMLINUZ" "$STAGE/vmlinuz"
touch -d "@$EPOCH" "$STAGE/vmlinuz"
mv -f "$STAGE/vmlinuz" "$OUT/vmlinuz"
mv -f "$STAGE/initrd.gz" "$OUT/initrd.gz"
{
  echo "$STAMP"
  (cd "$OUT" && sha256sum vmlinuz initrd.gz) | sed 's/^/output /'
} >"$OUT/.stamp"

say "built $KPKG with ${#ORDER[@]} modules (${ORDER[*]}) in $((($(date +%s%N) - START) / 1000000)) ms"
report

if [ "$VERIFY" = yes ]; then
  AGAIN=$(mktemp -d "$ROOT/build/ephemeral-verify.XXXXXX")
  METALFLOW_EPHEMERAL_BUILD_LOCKED=1 "$0" --force "$AGAIN" >/dev/null
  if cmp -s "$OUT/initrd.gz" "$AGAIN/initrd.gz" && cmp -s "$OUT/vmlinuz" "$AGAIN/vmlinuz"; then
    rm -rf "$AGAIN"
    say "reproducible: a second build gave the same bytes"
  else
    fail "NOT reproducible: compare $OUT and $AGAIN"
  fi
fi
