#!/bin/bash
# Baseline for issue 13's deploy benchmark: the real Debian image's plain boot, no orchestration.
# Installs build/boot/images/rootfs/debian/bookworm/amd64/root.tgz onto a raw disk with the
# installer's own script (images/installer/install-to-disk.sh: GPT, BIOS-boot + ESP + ext4 root,
# GRUB), boots it in QEMU (TCG unless --kvm) with a NoCloud seed disk (cloud-init's own
# datasource) carrying a fresh SSH key, and logs in with `ssh -i` over user-mode networking
# (hostfwd). Prints the install time, boot → SSH login, and boot → cloud-init done. As root.
#
#   bench/debian-boot.sh [--kvm] [--uefi] [--json FILE]
#
# Not part of npm test or npm run bench yet (minutes under TCG). Work files: build/debian-boot/.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
IMAGE=$ROOT/build/boot/images/rootfs/debian/bookworm/amd64/root.tgz
WORK=$ROOT/build/debian-boot
ACCEL=tcg FIRMWARE=bios JSON='' DISK_GIB=4 SSH_TIMEOUT_S=900
while [ $# -gt 0 ]; do
  case $1 in
    --kvm) ACCEL=kvm; shift ;;
    --uefi) FIRMWARE=uefi; shift ;;
    --json) JSON=$2; shift 2 ;;
    *) echo "debian-boot.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
say() { echo "debian-boot: $*" >&2; }
now_ms() { date +%s%3N; }
[ -f "$IMAGE" ] || { say "no image at $IMAGE (run images/debian/build.sh)"; exit 1; }
OVMF=/usr/share/OVMF/OVMF_CODE.fd
[ "$FIRMWARE" = bios ] || [ -f "$OVMF" ] || { say "--uefi needs $OVMF (apt-get install ovmf)"; exit 1; }

rm -rf "$WORK"
mkdir -p "$WORK"
LOOP='' QEMU_PID=''
finish() {
  [ -z "$QEMU_PID" ] || kill "$QEMU_PID" 2>/dev/null || true
  [ -z "$LOOP" ] || losetup -d "$LOOP" 2>/dev/null || true
}
trap finish EXIT

# The disk, laid out as a MAAS flat layout would be on a machine that may boot either way.
truncate -s "${DISK_GIB}G" "$WORK/disk.raw"
LOOP=$(losetup -f --show -P "$WORK/disk.raw")
cat >"$WORK/storage" <<EOF
disk $LOOP
part bios_grub 1M none none
part esp 256M vfat /boot/efi
part linux rest ext4 / root
EOF
T=$(now_ms)
"$ROOT/images/installer/install-to-disk.sh" --storage "$WORK/storage" --image "$IMAGE" --firmware both --target "$WORK/target"
INSTALL_MS=$(($(now_ms) - T))
losetup -d "$LOOP"
LOOP=''
say "installed in ${INSTALL_MS} ms"

# The NoCloud seed: a FAT volume labelled CIDATA with meta-data and user-data.
ssh-keygen -q -t ed25519 -N '' -C metalflow-bench -f "$WORK/key"
printf 'instance-id: mf-bench-1\nlocal-hostname: mf-bench\n' >"$WORK/meta-data"
printf '#cloud-config\nssh_authorized_keys:\n  - %s\n' "$(cat "$WORK/key.pub")" >"$WORK/user-data"
truncate -s 4M "$WORK/seed.img"
mkfs.vfat -n CIDATA "$WORK/seed.img" >/dev/null
MTOOLS_SKIP_CHECK=1 mcopy -i "$WORK/seed.img" "$WORK/meta-data" "$WORK/user-data" ::/

PORT=$((20000 + RANDOM % 20000))
FW=()
[ "$FIRMWARE" = bios ] || FW=(-drive "if=pflash,format=raw,readonly=on,file=$OVMF")
T0=$(now_ms)
qemu-system-x86_64 -accel "$ACCEL" -m 1536 -smp 1 "${FW[@]}" \
  -drive "file=$WORK/disk.raw,format=raw,if=virtio" -drive "file=$WORK/seed.img,format=raw,if=virtio" \
  -netdev "user,id=n0,hostfwd=tcp:127.0.0.1:$PORT-:22" -device virtio-net-pci,netdev=n0 \
  -display none -serial "file:$WORK/console.log" -monitor none &
QEMU_PID=$!
say "booting (qemu pid $QEMU_PID, $ACCEL, $FIRMWARE); console in $WORK/console.log"

SSH=(ssh -i "$WORK/key" -p "$PORT" -o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null
  -o ConnectTimeout=5 -o LogLevel=ERROR debian@127.0.0.1)
until "${SSH[@]}" true 2>/dev/null; do
  kill -0 "$QEMU_PID" 2>/dev/null || { say "QEMU exited before SSH answered"; exit 1; }
  [ $(($(now_ms) - T0)) -lt $((SSH_TIMEOUT_S * 1000)) ] || { say "no SSH login within ${SSH_TIMEOUT_S} s"; exit 1; }
  sleep 2
done
SSH_MS=$(($(now_ms) - T0))
say "SSH login after ${SSH_MS} ms"
"${SSH[@]}" 'cloud-init status --wait >/dev/null; cloud-init status --long; hostname; findmnt -n -o SOURCE,TARGET,FSTYPE /; uname -r' >&2
CLOUD_INIT_MS=$(($(now_ms) - T0))
say "cloud-init done after ${CLOUD_INIT_MS} ms"

RESULT=$(printf '{"accel":"%s","firmware":"%s","install_ms":%d,"boot_to_ssh_ms":%d,"boot_to_cloud_init_done_ms":%d}' \
  "$ACCEL" "$FIRMWARE" "$INSTALL_MS" "$SSH_MS" "$CLOUD_INIT_MS")
echo "$RESULT"
[ -z "$JSON" ] || echo "$RESULT" >"$JSON"
