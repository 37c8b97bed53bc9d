#!/bin/bash
# Installs a root-tgz image (images/debian/build.sh) as a storage description says, doing curtin's
# block_meta job for the deploy installer (the ephemeral environment runs it with the description
# the region renders from the machine's storage configuration; bench/debian-boot.sh on a loop
# device): GPT partitions on any number of disks, md RAIDs, LVM volume groups and logical volumes,
# filesystems, the unpacked image, fstab by UUID, mdadm.conf and the initramfs when the OS needs
# them to find its root, and GRUB for BIOS (on every disk with a bios_grub partition) and/or UEFI.
#
#   install-to-disk.sh --storage FILE --image ROOT_TGZ|- [--firmware bios|uefi|both]
#                      [--cloud-config FILE]... [--target DIR]
#
# The storage description, one item a line (`#` comments), in dependency order (a line names only
# devices defined above it); LABEL, OPTIONS and UUID may be `-` for none / fstab's defaults / mkfs's own:
#   disk DEVICE [gpt|whole]              a disk, wiped: a new GPT whose partitions are the `part`
#                                        lines that follow, or used whole (no table). DEVICE is
#                                        /dev/NAME or a RAID defined above (partitions on an md)
#   part ROLE SIZE FSTYPE MOUNTPOINT [LABEL [OPTIONS [UUID]]]
#     ROLE       bios_grub (GRUB's core.img on a BIOS machine), esp (EFI system), linux, swap
#     SIZE       1M, 512M, 4G (MiB aligned), or `rest` (the last one only)
#     FSTYPE     ext4, xfs, vfat, swap or none; MOUNTPOINT an absolute path, or none
#     LABEL      at most 16 (ext4), 12 (xfs), 11 (vfat), 15 (swap) of [A-Za-z0-9_.-]
#     UUID       the filesystem's UUID (mkfs -U; not vfat, which has only a volume id)
#   raid NAME LEVEL MEMBERS [SPARES]     md RAID LEVEL 0|1|5|6|10 over MEMBERS (comma-separated
#                                        names: vda2, vdb, md0p1), SPARES likewise
#   vg NAME MEMBERS                      an LVM volume group over MEMBERS
#   lv VG NAME SIZE                      a logical volume (named VG-NAME below); SIZE as part's
#   fs NAME FSTYPE MOUNTPOINT [LABEL [OPTIONS [UUID]]]   a filesystem on a whole disk, RAID or LV
# A partition is named as the kernel names it: the disk's name, `p` if that ends in a digit, its
# number (vda2, nvme0n1p1, md0p1).
# e.g.  disk /dev/vda / part bios_grub 1M none none / part linux 4G ext4 / root /
#       part linux rest none none / vg vg0 vda3 / lv vg0 srv rest / fs vg0-srv xfs /srv
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
    -h | --help) sed -n '2,35p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "install-to-disk: unknown argument $1" >&2; exit 2 ;;
  esac
done

STEP=arguments
trap 'rc=$?; [ $rc = 0 ] || echo "install-to-disk: FAILED at step $STEP (exit $rc)" >&2; cleanup' EXIT
step() { STEP=$1; echo "install-to-disk: step $1" >&2; }
die() { echo "install-to-disk: FAILED at step $STEP: $*" >&2; exit 1; }
MOUNTED=() BY_UUID_LINKS=() ACTIVE_VGS=() ACTIVE_MDS=()
# Unmounts, then lets go of the VGs and RAIDs (so loop devices detach, and a disk is not busy).
cleanup() {
  local i
  rm -f "${BY_UUID_LINKS[@]}"
  for ((i = ${#MOUNTED[@]} - 1; i >= 0; i--)); do umount "${MOUNTED[$i]}" 2>/dev/null || umount -l "${MOUNTED[$i]}" 2>/dev/null || true; done
  MOUNTED=()
  for ((i = ${#ACTIVE_VGS[@]} - 1; i >= 0; i--)); do lvm_ vgchange -q -an "${ACTIVE_VGS[$i]}" >/dev/null 2>&1 || true; done
  ACTIVE_VGS=()
  for ((i = ${#ACTIVE_MDS[@]} - 1; i >= 0; i--)); do mdadm --stop "${ACTIVE_MDS[$i]}" >/dev/null 2>&1 || true; done
  ACTIVE_MDS=()
}
mnt() { mount "$@" && MOUNTED+=("${!#}"); }
# LVM without udev (the ephemeral environment, a container) makes its /dev nodes itself.
LVM_CONFIG=''
[ -e /run/udev/control ] || LVM_CONFIG='activation { udev_sync = 0 udev_rules = 0 } devices { obtain_device_list_from_udev = 0 }'
export LVM_SUPPRESS_FD_WARNINGS=1
lvm_() { local cmd=$1; shift; mkdir -p /run/lock; lvm "$cmd" ${LVM_CONFIG:+--config "$LVM_CONFIG"} "$@"; }

[ -f "$STORAGE" ] || die "--storage FILE is required and must exist"
[ "$IMAGE" = - ] || [ -f "$IMAGE" ] || die "--image ROOT_TGZ (or - for stdin) is required and must exist"
case $FIRMWARE in bios | uefi | both) ;; *) die "--firmware is bios, uefi or both, not $FIRMWARE" ;; esac
for c in "${CLOUD_CONFIGS[@]}"; do [ -f "$c" ] || die "no such cloud-config file: $c"; done

step parse
# What the description defines, by name: KIND disk|part|raid|lv; DEV the device once it exists.
declare -A KIND=() DEV=() USED=() RAID_LEVEL=() RAID_MEMBERS=() RAID_SPARES=() VG_MEMBERS=() LV_SIZE=()
ACTIONS=()                                    # disk:I, raid:NAME, vg:NAME, lv:VG-NAME, in order
DISK_DEVS=() DISK_TABLES=() DISK_NAMES=()     # per disk line
P_DISK=() P_ROLE=() P_SIZE=() P_NAME=() P_NUM=()   # per partition
F_NAME=() F_TYPE=() F_MOUNT=() F_LABEL=() F_OPTS=() F_UUID=()  # per filesystem
RAID_COUNT=0
size_ok() { [[ $1 =~ ^([0-9]+[MG]|rest)$ ]] || die "bad size '$1' (1M, 512M, 4G or rest)"; }
define() {
  [ -z "${KIND[$1]:-}" ] || die "'$1' is defined twice"
  KIND[$1]=$2
}
# use NAME WHAT: NAME becomes a member, filesystem or table of one thing only.
use() {
  [ -n "${KIND[$1]:-}" ] || die "$2 names '$1', which no line above defines"
  [ -z "${USED[$1]:-}" ] || die "'$1' is used twice (${USED[$1]}, $2)"
  USED[$1]=$2
}
add_fs() { # NAME FSTYPE MOUNT LABEL OPTIONS UUID
  local max
  case $2 in ext4) max=16 ;; xfs) max=12 ;; vfat) max=11 ;; swap) max=15 ;; *) die "unknown filesystem '$2'" ;; esac
  [ "$3" = none ] || [[ $3 == /* ]] || die "mount point '$3' is not absolute"
  local o
  for o in "${F_MOUNT[@]}"; do [ "$3" = none ] || [ "$o" != "$3" ] || die "two filesystems are mounted at $3"; done
  local label=$4 uuid=${6:--}
  [ "$label" != - ] || label=''
  # Checked before any disk is touched: mkfs refusing them would fail the install half way.
  [ -z "$label" ] || { [[ $label =~ ^[A-Za-z0-9_.][A-Za-z0-9_.-]*$ ]] && [ ${#label} -le $max ]; } ||
    die "$1: '$label' is not a $2 label (at most $max of A-Z a-z 0-9 _ . -)"
  [ "$uuid" != - ] || uuid=''
  [ -z "$uuid" ] || [[ $uuid =~ ^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$ ]] || die "$1: '$uuid' is not a UUID"
  [ -z "$uuid" ] || [ "$2" != vfat ] || die "$1: vfat takes no UUID"
  F_NAME+=("$1") F_TYPE+=("$2") F_MOUNT+=("$3") F_LABEL+=("$label") F_OPTS+=("${5:--}") F_UUID+=("$uuid")
}
members() { # KIND LISTNAME CSV: each name used once, by this group
  local m
  [ "$3" != - ] || return 0
  for m in ${3//,/ }; do use "$m" "$1"; done
}
CUR_DISK=''
while read -r kind a b c d e f g _; do
  case $kind in
    '' | '#'*) continue ;;
    disk)
      case ${b:-gpt} in gpt | whole) ;; *) die "disk $a: the table is gpt or whole, not '$b'" ;; esac
      if [[ $a == /dev/* ]]; then
        name=${a#/dev/}
        define "$name" disk
      else
        [ "${KIND[$a]:-}" = raid ] || die "disk '$a' is neither /dev/NAME nor a RAID defined above"
        name=$a
      fi
      # A disk used whole is then a member or a filesystem; a partitioned one is only its table.
      [ "${b:-gpt}" = whole ] || use "$name" "disk $a"
      CUR_DISK=${#DISK_DEVS[@]}
      DISK_DEVS+=("$a") DISK_TABLES+=("${b:-gpt}") DISK_NAMES+=("$name")
      ACTIONS+=("disk:$CUR_DISK")
      ;;
    part)
      [ -n "$CUR_DISK" ] || die "a part line before any disk line"
      [ "${DISK_TABLES[$CUR_DISK]}" = gpt ] || die "disk ${DISK_DEVS[$CUR_DISK]} is used whole: no partitions"
      case $a in bios_grub | esp | linux | swap) ;; *) die "unknown partition role '$a'" ;; esac
      size_ok "$b"
      k=${#P_DISK[@]}
      [ "$k" = 0 ] || [ "${P_DISK[-1]}" != "$CUR_DISK" ] || [ "${P_SIZE[-1]}" != rest ] || die "only the last partition may be 'rest'"
      n=1
      for x in "${P_DISK[@]}"; do [ "$x" != "$CUR_DISK" ] || n=$((n + 1)); done
      base=${DISK_NAMES[$CUR_DISK]}
      case $base in *[0-9]) pname=${base}p$n ;; *) pname=$base$n ;; esac
      define "$pname" part
      P_DISK+=("$CUR_DISK") P_ROLE+=("$a") P_SIZE+=("$b") P_NAME+=("$pname") P_NUM+=("$n")
      if [ "$c" != none ]; then use "$pname" "filesystem"; add_fs "$pname" "$c" "$d" "${e:--}" "${f:--}" "${g:--}"; fi
      ;;
    raid)
      [[ ${b:-} =~ ^(0|1|5|6|10)$ ]] || die "raid $a: level is 0, 1, 5, 6 or 10, not '${b:-}'"
      [ -n "${c:-}" ] || die "raid $a names no members"
      members "raid $a" "" "$c"
      members "raid $a" "" "${d:--}"
      define "$a" raid
      RAID_LEVEL[$a]=$b RAID_MEMBERS[$a]=$c RAID_SPARES[$a]=${d:--}
      RAID_COUNT=$((RAID_COUNT + 1))
      ACTIONS+=("raid:$a")
      ;;
    vg)
      [[ $a =~ ^[A-Za-z0-9_.+][A-Za-z0-9_.+-]*$ ]] || die "bad volume group name '$a'"
      [ -n "${b:-}" ] || die "vg $a names no members"
      members "vg $a" "" "$b"
      define "$a" vg
      USED[$a]="vg $a"
      VG_MEMBERS[$a]=$b
      ACTIONS+=("vg:$a")
      ;;
    lv)
      [ "${KIND[$a]:-}" = vg ] || die "lv $b: '$a' is not a volume group defined above"
      [[ ${b:-} =~ ^[A-Za-z0-9_.+][A-Za-z0-9_.+-]*$ ]] || die "bad logical volume name '${b:-}'"
      size_ok "${c:-}"
      define "$a-$b" lv
      LV_SIZE[$a-$b]=$c
      ACTIONS+=("lv:$a-$b")
      ;;
    fs)
      [ -n "${KIND[$a]:-}" ] && [ "${KIND[$a]}" != part ] && [ "${KIND[$a]}" != vg ] ||
        die "fs $a: name a whole disk, RAID or LV defined above (a partition's filesystem is on its part line)"
      use "$a" filesystem
      add_fs "$a" "$b" "${c:-none}" "${d:--}" "${e:--}" "${f:--}"
      ;;
    *) die "unknown line '$kind'" ;;
  esac
done <"$STORAGE"
[ ${#DISK_DEVS[@]} -gt 0 ] || die "the description names no disk"
for i in "${!DISK_DEVS[@]}"; do
  [[ ${DISK_DEVS[$i]} != /dev/* ]] || [ -b "${DISK_DEVS[$i]}" ] || die "${DISK_DEVS[$i]} is not a block device"
done
ROOT_INDEX=''
for i in "${!F_MOUNT[@]}"; do [ "${F_MOUNT[$i]}" != / ] || ROOT_INDEX=$i; done
[ -n "$ROOT_INDEX" ] || die "no filesystem is mounted at /"
# No `printf | grep -q` here: under pipefail, grep leaving early can SIGPIPE printf and fail the check.
has_role() { local r; for r in "${P_ROLE[@]}"; do [ "$r" != "$1" ] || return 0; done; return 1; }
if [ "$FIRMWARE" != uefi ]; then has_role bios_grub || die "BIOS boot needs a bios_grub partition"; fi
ESP=''
if [ "$FIRMWARE" != bios ]; then
  for k in "${!P_ROLE[@]}"; do [ "${P_ROLE[$k]}" != esp ] || ESP=$k; done
  [ -n "$ESP" ] || die "UEFI boot needs an esp partition"
  for i in "${!F_NAME[@]}"; do
    [ "${F_NAME[$i]}" != "${P_NAME[$ESP]}" ] || [ "${F_MOUNT[$i]}" = /boot/efi ] || die "the ESP must be mounted at /boot/efi"
  done
fi
for i in "${!F_TYPE[@]}"; do
  case ${F_TYPE[$i]} in
    xfs) command -v mkfs.xfs >/dev/null || die "${F_MOUNT[$i]}: this environment has no mkfs.xfs" ;;
  esac
done
[ ${#VG_MEMBERS[@]} = 0 ] || command -v lvm >/dev/null || die "LVM is asked for and this environment has no lvm"
[ "$RAID_COUNT" = 0 ] || command -v mdadm >/dev/null || die "a RAID is asked for and this environment has no mdadm"

type_of() {
  case $1 in
    bios_grub) echo 21686148-6449-6E6F-744E-656564454649 ;;
    esp) echo C12A7328-F81F-11D2-BA4B-00A0C93EC93B ;;
    swap) echo 0657FD6D-A4AB-4C6F-8A4F-0B0A9BD7E3C2 ;;
    *) echo 0FC63DAF-8483-4772-8E79-3D69D8477DE4 ;;
  esac
}
# The device of partition N of DISK: sda1, nvme0n1p1, loop0p1, md0p1. Where no udev makes the
# node (a container's /dev), it is made from the kernel's sysfs entry.
part_dev() {
  local base name dev
  base=$(basename "$1")
  case $base in *[0-9]) name=${base}p$2 ;; *) name=$base$2 ;; esac
  dev=/dev/$name
  for _ in 1 2 3 4 5 6 7 8 9 10; do [ -b "$dev" ] || [ -f "/sys/class/block/$name/dev" ] && break; sleep 1; done
  if [ ! -b "$dev" ] && [ -f "/sys/class/block/$name/dev" ]; then
    mknod "$dev" b "$(cut -d: -f1 "/sys/class/block/$name/dev")" "$(cut -d: -f2 "/sys/class/block/$name/dev")"
  fi
  [ -b "$dev" ] || die "partition $2 of $1 did not appear ($dev)"
  echo "$dev"
}
devs_of() { local m out=(); [ "$1" != - ] || return 0; for m in ${1//,/ }; do out+=("${DEV[$m]}"); done; echo "${out[@]}"; }
lvm_size() { case $1 in rest) echo -l 100%FREE ;; *M) echo -L "${1%M}m" ;; *G) echo -L "${1%G}g" ;; esac; }

partition_disk() {
  local i=$1 dev=${DISK_DEVS[$1]} k size
  [[ $dev == /dev/* ]] || dev=${DEV[$dev]}
  DEV[${DISK_NAMES[$i]}]=$dev
  wipefs -q -a "$dev"
  [ "${DISK_TABLES[$i]}" = gpt ] || return 0
  {
    echo 'label: gpt'
    for k in "${!P_DISK[@]}"; do
      [ "${P_DISK[$k]}" = "$i" ] || continue
      case ${P_SIZE[$k]} in
        rest) size='' ;;
        *M) size="size=${P_SIZE[$k]%M}MiB, " ;;
        *G) size="size=${P_SIZE[$k]%G}GiB, " ;;
      esac
      echo "${size}type=$(type_of "${P_ROLE[$k]}")"
    done
  } | sfdisk -q --wipe always --wipe-partitions always "$dev" >/dev/null
  # The kernel's view of the new table; partx adds what a re-read left out (a loop device in a
  # container shows its partitions only after it).
  partprobe "$dev" 2>/dev/null || blockdev --rereadpt "$dev" 2>/dev/null || true
  partx -a "$dev" 2>/dev/null || true
  udevadm settle 2>/dev/null || true
  for k in "${!P_DISK[@]}"; do
    [ "${P_DISK[$k]}" = "$i" ] || continue
    DEV[${P_NAME[$k]}]=$(part_dev "$dev" "${P_NUM[$k]}")
    # Old signatures at the new partition's start (a previous deploy's md or LVM metadata) would be
    # found again by mdadm/LVM or by blkid.
    wipefs -q -a "${DEV[${P_NAME[$k]}]}"
  done
}

create_raid() {
  local name=$1 md n spares=() active
  n=0
  while [ -e "/sys/block/md$n" ] || [ -e "/dev/md$n" ]; do n=$((n + 1)); done
  md=/dev/md$n
  read -r -a active <<<"$(devs_of "${RAID_MEMBERS[$name]}")"
  [ "${RAID_SPARES[$name]}" = - ] || read -r -a spares <<<"$(devs_of "${RAID_SPARES[$name]}")"
  for n in "${active[@]}" "${spares[@]}"; do wipefs -q -a "$n"; done
  mdadm --create "$md" --run --quiet --metadata=1.2 --homehost=any --name="$name" --level="${RAID_LEVEL[$name]}" \
    --raid-devices=${#active[@]} ${spares[0]:+--spare-devices=${#spares[@]}} "${active[@]}" "${spares[@]}" ||
    die "mdadm could not create $name (RAID ${RAID_LEVEL[$name]}) over ${active[*]} ${spares[*]}"
  ACTIVE_MDS+=("$md")
  DEV[$name]=$md
}

create_vg() {
  local pvs
  read -r -a pvs <<<"$(devs_of "${VG_MEMBERS[$1]}")"
  lvm_ pvcreate -q -ff -y "${pvs[@]}" >/dev/null || die "pvcreate ${pvs[*]} failed"
  lvm_ vgcreate -q "$1" "${pvs[@]}" >/dev/null || die "vgcreate $1 failed"
  ACTIVE_VGS+=("$1")
}

create_lv() {
  local vg=${1%%-*} lv=${1#*-} size
  # The first VG whose name prefixes this LV's: names may hold dashes.
  for v in "${ACTIVE_VGS[@]}"; do [[ $1 != "$v-"* ]] || { vg=$v; lv=${1#"$v-"}; break; }; done
  read -r -a size <<<"$(lvm_size "${LV_SIZE[$1]}")"
  lvm_ lvcreate -q -y -W y -Z y "${size[@]}" -n "$lv" "$vg" >/dev/null || die "lvcreate $lv (${LV_SIZE[$1]}) in $vg failed"
  lvm_ vgmknodes -q "$vg" >/dev/null 2>&1 || true
  DEV[$1]=/dev/mapper/${vg//-/--}-${lv//-/--}
  [ -b "${DEV[$1]}" ] || die "the logical volume ${DEV[$1]} did not appear"
}

# Partition tables, RAIDs, volume groups and logical volumes, in the description's order; a step
# is announced when it changes (two disks are one partition event).
step_to() { [ "$STEP" = "$1" ] || step "$1"; }
for a in "${ACTIONS[@]}"; do
  case $a in
    disk:*) step_to partition; partition_disk "${a#disk:}" ;;
    raid:*) step_to raid; create_raid "${a#raid:}" ;;
    vg:*) step_to lvm; create_vg "${a#vg:}" ;;
    lv:*) step_to lvm; create_lv "${a#lv:}" ;;
  esac
done

step format
for i in "${!F_NAME[@]}"; do
  dev=${DEV[${F_NAME[$i]}]}
  label=${F_LABEL[$i]} uuid=${F_UUID[$i]}
  case ${F_TYPE[$i]} in
    ext4) mkfs.ext4 -q -F ${label:+-L "$label"} ${uuid:+-U "$uuid"} "$dev" ;;
    xfs) mkfs.xfs -q -f ${label:+-L "$label"} ${uuid:+-m "uuid=$uuid"} "$dev" ;;
    vfat) mkfs.vfat -F 32 ${label:+-n "$label"} "$dev" >/dev/null ;;
    swap) mkswap ${label:+-L "$label"} ${uuid:+-U "$uuid"} "$dev" >/dev/null ;;
  esac
done

step mount
mkdir -p "$TARGET"
mnt "${DEV[${F_NAME[$ROOT_INDEX]}]}" "$TARGET"
# Parents before children: /boot before /boot/efi. FAT filesystems (the ESP) are not mounted but
# written with mtools, so the installer's kernel needs no vfat module.
while read -r _ i; do
  [ "$i" != "$ROOT_INDEX" ] && [ "${F_TYPE[$i]}" != vfat ] && [ "${F_TYPE[$i]}" != swap ] || continue
  mkdir -p "$TARGET${F_MOUNT[$i]}"
  mnt "${DEV[${F_NAME[$i]}]}" "$TARGET${F_MOUNT[$i]}"
done < <(for i in "${!F_MOUNT[@]}"; do [ "${F_MOUNT[$i]}" = none ] || echo "${F_MOUNT[$i]//[^\/]/} $i"; done | sort)

step unpack
tar -xzp --numeric-owner --xattrs --xattrs-include='*' -f "$IMAGE" -C "$TARGET"

step fstab
uuid_of() { blkid -s UUID -o value "${DEV[${F_NAME[$1]}]}" || true; }
{
  echo "# written by metalflow's installer from the machine's storage configuration"
  # In mount-point order, so a parent is mounted before its children; swap last.
  while read -r _ i; do
    uuid=$(uuid_of "$i") opts=${F_OPTS[$i]}
    case ${F_TYPE[$i]} in
      swap) echo "UUID=$uuid none swap ${opts/#-/sw} 0 0"; continue ;;
    esac
    [ "${F_MOUNT[$i]}" != none ] || continue
    case ${F_TYPE[$i]} in
      ext4) [ "${F_MOUNT[$i]}" = / ] && pass=1 || pass=2
        echo "UUID=$uuid ${F_MOUNT[$i]} ext4 ${opts/#-/errors=remount-ro} 0 $pass" ;;
      # fsck.xfs does nothing (xfs replays its log at mount), and the image need not have it.
      xfs) echo "UUID=$uuid ${F_MOUNT[$i]} xfs ${opts/#-/defaults} 0 0" ;;
      vfat) echo "UUID=$uuid ${F_MOUNT[$i]} vfat ${opts/#-/umask=0077} 0 1" ;;
    esac
  done < <(for i in "${!F_MOUNT[@]}"; do
    if [ "${F_MOUNT[$i]}" = none ]; then echo "~ $i"; else echo "${F_MOUNT[$i]//[^\/]/} $i"; fi
  done | LC_ALL=C sort)
} >"$TARGET/etc/fstab"

step cloud-init
for c in "${CLOUD_CONFIGS[@]}"; do install -m 0600 "$c" "$TARGET/etc/cloud/cloud.cfg.d/$(basename "$c")"; done

# UEFI, as grub-install --uefi-secure-boot --removable lays it out, written with mtools: Debian's
# signed shim and GRUB in EFI/debian and in the removable path EFI/BOOT (which firmware boots
# without an NVRAM entry), and a grub.cfg that finds /boot/grub by filesystem UUID. On a machine
# booted by UEFI, the `debian` entry is registered too, first in BootOrder (register_uefi_entry).
install_uefi() {
  local esp boot_index=$ROOT_INDEX prefix=/boot/grub dir f disk
  for i in "${!F_MOUNT[@]}"; do
    [ "${F_MOUNT[$i]}" != /boot ] || { boot_index=$i; prefix=/grub; }
  done
  esp=${DEV[${P_NAME[$ESP]}]}
  disk=${DEV[${DISK_NAMES[${P_DISK[$ESP]}]}]}
  command -v mcopy >/dev/null || die "UEFI needs mtools (mcopy, mmd)"
  export MTOOLS_SKIP_CHECK=1
  # mtools warns "Could not get geometry" on every call against a block device: noise only.
  mmd() { command mmd "$@" 2> >(grep -v 'Could not get geometry' >&2); }
  mcopy() { command mcopy "$@" 2> >(grep -v 'Could not get geometry' >&2); }
  local shim=$TARGET/usr/lib/shim/shimx64.efi.signed mok=$TARGET/usr/lib/shim/mmx64.efi.signed
  local grub=$TARGET/usr/lib/grub/x86_64-efi-signed/grubx64.efi.signed
  [ -f "$shim" ] && [ -f "$grub" ] || die "the image has no signed shim and GRUB (shim-signed, grub-efi-amd64-signed)"
  printf "search.fs_uuid %s root\nset prefix=(\$root)'%s'\nconfigfile \$prefix/grub.cfg\n" \
    "$(uuid_of "$boot_index")" "$prefix" >"$TARGET/tmp/esp-grub.cfg"
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
  if [ "$FIRMWARE" = uefi ]; then register_uefi_entry "$disk" "${P_NUM[$ESP]}"; fi
}

# The `debian` boot entry in NVRAM, made with the image's own efibootmgr (chrooted, the installer
# carries none) through efivarfs; a previous deploy's entry goes first, and the new one leads
# BootOrder, ahead of the network entry this machine booted from (uefi-boot-entries.sh says why).
register_uefi_entry() {
  local disk=$1 part=$2 efivars=$TARGET/sys/firmware/efi/efivars n order
  local entries=$HERE/uefi-boot-entries.sh
  [ -d /sys/firmware/efi ] || die "--firmware uefi, but this system did not boot by UEFI (no /sys/firmware/efi)"
  [ -e "$TARGET/usr/bin/efibootmgr" ] || [ -e "$TARGET/bin/efibootmgr" ] || die "the image has no efibootmgr"
  efi() { chroot "$TARGET" efibootmgr "$@"; }
  # /sys is bound into the target without its submounts: efivarfs is mounted there itself.
  mnt -t efivarfs efivarfs "$efivars" || die "could not mount efivarfs on $efivars"
  for n in $(efi | "$entries" stale debian); do efi -q -b "$n" -B || die "could not remove the old boot entry Boot$n"; done
  efi -q -c -d "$disk" -p "$part" -L debian -l '\EFI\debian\shimx64.efi' || die "could not register the UEFI boot entry"
  n=$(efi | "$entries" stale debian)
  [ "$(printf '%s\n' "$n" | wc -l)" = 1 ] && [ -n "$n" ] || die "expected one debian boot entry, found: ${n:-none}"
  order=$(efi | "$entries" order "$n") || die "could not work out the BootOrder"
  efi -q -o "$order" || die "could not set BootOrder $order"
  echo "install-to-disk: UEFI $(efi | grep -E '^Boot(Current|Next|Order):' | tr '\n' ' ')" >&2
}

step bootloader
for d in dev dev/pts proc sys; do mnt --bind "/$d" "$TARGET/$d"; done
# update-grub writes root=UUID=… only when /dev/disk/by-uuid/<uuid> exists; without udev (a
# container, a busybox environment) the link is made here, and removed after.
for i in "${!F_NAME[@]}"; do
  dev=${DEV[${F_NAME[$i]}]}
  uuid=$(uuid_of "$i")
  [ -n "$uuid" ] && [ ! -e "/dev/disk/by-uuid/$uuid" ] || continue
  mkdir -p /dev/disk/by-uuid
  ln -s "$dev" "/dev/disk/by-uuid/$uuid"
  BY_UUID_LINKS+=("/dev/disk/by-uuid/$uuid")
done
# The installed OS assembles its RAIDs from mdadm.conf, which its initramfs carries: both written
# here, as curtin does. LVM needs no rebuild: the image's initramfs has lvm2's hook (it activates
# a /dev/mapper root), and the running system activates the other VGs through udev.
if [ "$RAID_COUNT" != 0 ]; then
  mkdir -p "$TARGET/etc/mdadm"
  { echo "# RAIDs written by metalflow's installer"; mdadm --detail --scan; } >>"$TARGET/etc/mdadm/mdadm.conf" ||
    die "mdadm --detail --scan failed"
  chroot "$TARGET" update-initramfs -u -k all || die "update-initramfs failed in the target"
fi
if [ "$FIRMWARE" != uefi ]; then
  # GRUB's core.img on every disk with a bios_grub partition (each member of a RAID 1 /boot or /).
  for k in "${!P_ROLE[@]}"; do
    [ "${P_ROLE[$k]}" = bios_grub ] || continue
    chroot "$TARGET" grub-install --target=i386-pc --recheck "${DEV[${DISK_NAMES[${P_DISK[$k]}]}]}"
  done
fi
if [ "$FIRMWARE" != bios ]; then install_uefi; fi
# grub-install makes /boot/grub; on a UEFI-only install nothing ran it (shim and GRUB were copied).
mkdir -p "$TARGET/boot/grub"
chroot "$TARGET" update-grub
# root=UUID=…, or on LVM the /dev/mapper name (GRUB's choice: the initramfs activates it by name).
root_dev=${DEV[${F_NAME[$ROOT_INDEX]}]}
grep -qE "root=(UUID=$(uuid_of "$ROOT_INDEX")|$root_dev)( |$)" "$TARGET/boot/grub/grub.cfg" ||
  die "grub.cfg does not name the root filesystem (UUID or $root_dev)"

step unmount
cleanup
sync
step done
