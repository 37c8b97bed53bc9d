#!/bin/bash
# Installs a root-tgz image (images/debian/build.sh) onto a disk as a storage description says:
# GPT partitions, filesystems, the unpacked image, fstab by UUID, GRUB for BIOS and/or UEFI,
# and optional cloud-init configuration. The core of the deploy installer (issue 13 part 2, which
# will run it in the ephemeral environment with a description made from the machine's storage
# configuration); today the boot benchmark (bench/debian-boot.sh) runs it on a loop device.
#
#   install-to-disk.sh --storage FILE --image ROOT_TGZ|- [--firmware bios|uefi|both]
#                      [--cloud-config FILE]... [--target DIR]
#
# The storage description, one item a line (`#` comments):
#   disk DEVICE                                     the disk to partition (wiped: a new GPT)
#   part ROLE SIZE FSTYPE MOUNTPOINT [LABEL]        partitions in order
#     ROLE       bios_grub (GRUB's core.img on a BIOS machine), esp (EFI system), linux, swap
#     SIZE       1M, 512M, 4G (MiB aligned), or `rest` (the last one only)
#     FSTYPE     ext4, vfat, swap or none; MOUNTPOINT an absolute path, or none
# e.g.  disk /dev/vda / part bios_grub 1M none none / part esp 512M vfat /boot/efi /
#       part linux rest ext4 / root
# `--image -` reads the archive from stdin at the unpack step (the deploy installer streams it from
# the rack: the ephemeral environment has no room to hold it).
# Each step is announced on stderr as `install-to-disk: step NAME` (the installer turns these into
# events); a failure exits non-zero with `install-to-disk: FAILED at step NAME: why`.
set -euo pipefail

STORAGE='' IMAGE='' FIRMWARE=both TARGET=/tmp/install-target
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CLOUD_CONFIGS=()
while [ $# -gt 0 ]; do
  case $1 in
    --storage) STORAGE=$2; shift 2 ;;
    --image) IMAGE=$2; shift 2 ;;
    --firmware) FIRMWARE=$2; shift 2 ;;
    --cloud-config) CLOUD_CONFIGS+=("$2"); shift 2 ;;
    --target) TARGET=$2; shift 2 ;;
    -h | --help) sed -n '2,25p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "install-to-disk: unknown argument $1" >&2; exit 2 ;;
  esac
done

STEP=arguments
trap 'rc=$?; [ $rc = 0 ] || echo "install-to-disk: FAILED at step $STEP (exit $rc)" >&2; cleanup' EXIT
step() { STEP=$1; echo "install-to-disk: step $1" >&2; }
die() { echo "install-to-disk: FAILED at step $STEP: $*" >&2; exit 1; }
MOUNTED=() BY_UUID_LINKS=()
cleanup() {
  local i
  rm -f "${BY_UUID_LINKS[@]}"
  for ((i = ${#MOUNTED[@]} - 1; i >= 0; i--)); do umount "${MOUNTED[$i]}" 2>/dev/null || umount -l "${MOUNTED[$i]}" 2>/dev/null || true; done
  MOUNTED=()
}
mnt() { mount "$@" && MOUNTED+=("${!#}"); }

[ -f "$STORAGE" ] || die "--storage FILE is required and must exist"
[ "$IMAGE" = - ] || [ -f "$IMAGE" ] || die "--image ROOT_TGZ (or - for stdin) is required and must exist"
case $FIRMWARE in bios | uefi | both) ;; *) die "--firmware is bios, uefi or both, not $FIRMWARE" ;; esac
for c in "${CLOUD_CONFIGS[@]}"; do [ -f "$c" ] || die "no such cloud-config file: $c"; done

step parse
DISK='' ROLES=() SIZES=() FSTYPES=() MOUNTS=() LABELS=()
while read -r kind a b c d e _; do
  case $kind in
    '' | '#'*) continue ;;
    disk) [ -z "$DISK" ] || die "one disk per description"; DISK=$a ;;
    part)
      case $a in bios_grub | esp | linux | swap) ;; *) die "unknown partition role '$a'" ;; esac
      [[ $b =~ ^([0-9]+[MG]|rest)$ ]] || die "bad size '$b' (1M, 512M, 4G or rest)"
      [ ${#SIZES[@]} = 0 ] || [ "${SIZES[-1]}" != rest ] || die "only the last partition may be 'rest'"
      case $c in ext4 | vfat | swap | none) ;; *) die "unknown filesystem '$c'" ;; esac
      [ "$d" = none ] || [[ $d == /* ]] || die "mount point '$d' is not absolute"
      ROLES+=("$a") SIZES+=("$b") FSTYPES+=("$c") MOUNTS+=("$d") LABELS+=("${e:-}")
      ;;
    *) die "unknown line '$kind'" ;;
  esac
done <"$STORAGE"
[ -n "$DISK" ] || die "the description names no disk"
[ -b "$DISK" ] || die "$DISK is not a block device"
ROOT_INDEX=''
for i in "${!MOUNTS[@]}"; do [ "${MOUNTS[$i]}" != / ] || ROOT_INDEX=$i; done
[ -n "$ROOT_INDEX" ] || die "no partition is mounted at /"
# No `printf | grep -q` here: under pipefail, grep leaving early can SIGPIPE printf and fail the check.
has_role() { local r; for r in "${ROLES[@]}"; do [ "$r" != "$1" ] || return 0; done; return 1; }
if [ "$FIRMWARE" != uefi ]; then has_role bios_grub || die "BIOS boot needs a bios_grub partition"; fi
if [ "$FIRMWARE" != bios ]; then
  for i in "${!ROLES[@]}"; do [ "${ROLES[$i]}" != esp ] || [ "${MOUNTS[$i]}" = /boot/efi ] || die "the ESP must be mounted at /boot/efi"; done
  has_role esp || die "UEFI boot needs an esp partition"
fi

step partition
type_of() {
  case $1 in
    bios_grub) echo 21686148-6449-6E6F-744E-656564454649 ;;
    esp) echo C12A7328-F81F-11D2-BA4B-00A0C93EC93B ;;
    swap) echo 0657FD6D-A4AB-4C6F-8A4F-0B0A9BD7E3C2 ;;
    *) echo 0FC63DAF-8483-4772-8E79-3D69D8477DE4 ;;
  esac
}
wipefs -q -a "$DISK"
{
  echo 'label: gpt'
  for i in "${!ROLES[@]}"; do
    case ${SIZES[$i]} in
      rest) size='' ;;
      *M) size="size=${SIZES[$i]%M}MiB, " ;;
      *G) size="size=${SIZES[$i]%G}GiB, " ;;
    esac
    echo "${size}type=$(type_of "${ROLES[$i]}")"
  done
} | sfdisk -q --wipe always --wipe-partitions always "$DISK" >/dev/null
# The kernel's view of the new table; partx adds what a re-read left out (a loop device in a
# container shows its partitions only after it).
partprobe "$DISK" 2>/dev/null || blockdev --rereadpt "$DISK" 2>/dev/null || true
partx -a "$DISK" 2>/dev/null || true
udevadm settle 2>/dev/null || true

# The device of partition N: sda1, nvme0n1p1, loop0p1. Where no udev makes the node (a
# container's /dev), it is made from the kernel's sysfs entry.
part_dev() {
  local base name dev
  base=$(basename "$DISK")
  case $base in *[0-9]) name=${base}p$1 ;; *) name=$base$1 ;; esac
  dev=/dev/$name
  for _ in 1 2 3 4 5 6 7 8 9 10; do [ -b "$dev" ] || [ -f "/sys/class/block/$name/dev" ] && break; sleep 1; done
  if [ ! -b "$dev" ] && [ -f "/sys/class/block/$name/dev" ]; then
    mknod "$dev" b "$(cut -d: -f1 "/sys/class/block/$name/dev")" "$(cut -d: -f2 "/sys/class/block/$name/dev")"
  fi
  [ -b "$dev" ] || die "partition $1 of $DISK did not appear ($dev)"
  echo "$dev"
}

step format
DEVS=()
for i in "${!ROLES[@]}"; do
  dev=$(part_dev $((i + 1)))
  DEVS+=("$dev")
  label=${LABELS[$i]}
  case ${FSTYPES[$i]} in
    ext4) mkfs.ext4 -q -F ${label:+-L "$label"} "$dev" ;;
    vfat) mkfs.vfat -F 32 ${label:+-n "$label"} "$dev" >/dev/null ;;
    swap) mkswap ${label:+-L "$label"} "$dev" >/dev/null ;;
  esac
done

step mount
mkdir -p "$TARGET"
mnt "${DEVS[$ROOT_INDEX]}" "$TARGET"
# Parents before children: /boot before /boot/efi. FAT filesystems (the ESP) are not mounted but
# written with mtools, so the installer's kernel needs no vfat module.
while read -r _ i; do
  [ "$i" != "$ROOT_INDEX" ] && [ "${FSTYPES[$i]}" != vfat ] || continue
  mkdir -p "$TARGET${MOUNTS[$i]}"
  mnt "${DEVS[$i]}" "$TARGET${MOUNTS[$i]}"
done < <(for i in "${!MOUNTS[@]}"; do [ "${MOUNTS[$i]}" = none ] || echo "${MOUNTS[$i]//[^\/]/} $i"; done | sort)

step unpack
tar -xzp --numeric-owner --xattrs --xattrs-include='*' -f "$IMAGE" -C "$TARGET"

step fstab
{
  echo "# written by metalflow's installer from the machine's storage configuration"
  for i in "${!ROLES[@]}"; do
    uuid=$(blkid -s UUID -o value "${DEVS[$i]}" || true)
    case ${FSTYPES[$i]} in
      ext4) [ "${MOUNTS[$i]}" = / ] && pass=1 || pass=2
        echo "UUID=$uuid ${MOUNTS[$i]} ext4 errors=remount-ro 0 $pass" ;;
      vfat) echo "UUID=$uuid ${MOUNTS[$i]} vfat umask=0077 0 1" ;;
      swap) echo "UUID=$uuid none swap sw 0 0" ;;
    esac
  done
} >"$TARGET/etc/fstab"

step cloud-init
for c in "${CLOUD_CONFIGS[@]}"; do install -m 0600 "$c" "$TARGET/etc/cloud/cloud.cfg.d/$(basename "$c")"; done

# UEFI, as grub-install --uefi-secure-boot --removable lays it out, written with mtools: Debian's
# signed shim and GRUB in EFI/debian and in the removable path EFI/BOOT (which firmware boots
# without an NVRAM entry), and a grub.cfg that finds /boot/grub by filesystem UUID. On a machine
# booted by UEFI, the `debian` entry is registered too (register_uefi_entry).
install_uefi() {
  local esp_index='' esp boot_index=$ROOT_INDEX prefix=/boot/grub dir f
  for i in "${!ROLES[@]}"; do
    [ "${ROLES[$i]}" != esp ] || esp_index=$i
    [ "${MOUNTS[$i]}" != /boot ] || { boot_index=$i; prefix=/grub; }
  done
  esp=${DEVS[$esp_index]}
  command -v mcopy >/dev/null || die "UEFI needs mtools (mcopy, mmd)"
  export MTOOLS_SKIP_CHECK=1
  # mtools warns "Could not get geometry" on every call against a block device: noise only.
  mmd() { command mmd "$@" 2> >(grep -v 'Could not get geometry' >&2); }
  mcopy() { command mcopy "$@" 2> >(grep -v 'Could not get geometry' >&2); }
  local shim=$TARGET/usr/lib/shim/shimx64.efi.signed mok=$TARGET/usr/lib/shim/mmx64.efi.signed
  local grub=$TARGET/usr/lib/grub/x86_64-efi-signed/grubx64.efi.signed
  [ -f "$shim" ] && [ -f "$grub" ] || die "the image has no signed shim and GRUB (shim-signed, grub-efi-amd64-signed)"
  printf "search.fs_uuid %s root\nset prefix=(\$root)'%s'\nconfigfile \$prefix/grub.cfg\n" \
    "$(blkid -s UUID -o value "${DEVS[$boot_index]}")" "$prefix" >"$TARGET/tmp/esp-grub.cfg"
  mmd -i "$esp" ::/EFI ::/EFI/BOOT ::/EFI/debian
  for dir in BOOT debian; do
    [ $dir = BOOT ] && f=BOOTX64.EFI || f=shimx64.efi
    mcopy -i "$esp" "$shim" "::/EFI/$dir/$f"
    mcopy -i "$esp" "$grub" "::/EFI/$dir/grubx64.efi"
    [ ! -f "$mok" ] || mcopy -i "$esp" "$mok" "::/EFI/$dir/mmx64.efi"
    mcopy -i "$esp" "$TARGET/tmp/esp-grub.cfg" "::/EFI/$dir/grub.cfg"
  done
  rm -f "$TARGET/tmp/esp-grub.cfg"
  # Only with --firmware uefi (the deploy installer on a machine that booted by UEFI): `both` is
  # for images and benchmarks built on a host whose NVRAM is not ours to change.
  if [ "$FIRMWARE" = uefi ]; then register_uefi_entry $((esp_index + 1)); fi
}

# The `debian` boot entry in NVRAM, made with the image's own efibootmgr (chrooted, the installer
# carries none) through efivarfs; a previous deploy's entry goes first, and the network entry this
# machine booted from stays first in BootOrder, as curtin leaves a MAAS machine (uefi-boot-entries.sh).
register_uefi_entry() {
  local part=$1 efivars=$TARGET/sys/firmware/efi/efivars n order
  local entries=$HERE/uefi-boot-entries.sh
  [ -d /sys/firmware/efi ] || die "--firmware uefi, but this system did not boot by UEFI (no /sys/firmware/efi)"
  [ -e "$TARGET/usr/bin/efibootmgr" ] || [ -e "$TARGET/bin/efibootmgr" ] || die "the image has no efibootmgr"
  efi() { chroot "$TARGET" efibootmgr "$@"; }
  # /sys is bound into the target without its submounts: efivarfs is mounted there itself.
  mnt -t efivarfs efivarfs "$efivars" || die "could not mount efivarfs on $efivars"
  for n in $(efi | "$entries" stale debian); do efi -q -b "$n" -B || die "could not remove the old boot entry Boot$n"; done
  efi -q -c -d "$DISK" -p "$part" -L debian -l '\EFI\debian\shimx64.efi' || die "could not register the UEFI boot entry"
  order=$(efi | "$entries" order)
  [ -z "$order" ] || efi -q -o "$order" || die "could not set BootOrder $order"
  echo "install-to-disk: UEFI $(efi | grep -E '^Boot(Current|Order):' | tr '\n' ' ')" >&2
}

step bootloader
for d in dev dev/pts proc sys; do mnt --bind "/$d" "$TARGET/$d"; done
# update-grub writes root=UUID=… only when /dev/disk/by-uuid/<uuid> exists; without udev (a
# container, a busybox environment) the link is made here, and removed after.
for dev in "${DEVS[@]}"; do
  uuid=$(blkid -s UUID -o value "$dev" || true)
  [ -n "$uuid" ] && [ ! -e "/dev/disk/by-uuid/$uuid" ] || continue
  mkdir -p /dev/disk/by-uuid
  ln -s "$dev" "/dev/disk/by-uuid/$uuid"
  BY_UUID_LINKS+=("/dev/disk/by-uuid/$uuid")
done
if [ "$FIRMWARE" != uefi ]; then
  chroot "$TARGET" grub-install --target=i386-pc --recheck "$DISK"
fi
if [ "$FIRMWARE" != bios ]; then install_uefi; fi
# grub-install makes /boot/grub; on a UEFI-only install nothing ran it (shim and GRUB were copied).
mkdir -p "$TARGET/boot/grub"
chroot "$TARGET" update-grub
grep -q "root=UUID=$(blkid -s UUID -o value "${DEVS[$ROOT_INDEX]}")" "$TARGET/boot/grub/grub.cfg" ||
  die "grub.cfg does not name the root filesystem by UUID"

step unmount
cleanup
sync
step done
