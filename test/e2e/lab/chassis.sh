#!/bin/bash
# ipmi_sim's chassis_control program for the e2e lab (after ../shared/lab/chassis.sh): power on
# starts a QEMU VM on tap0 (and tap1 with a second NIC; PXE first when the boot device is pxe), power off kills it. ipmi_sim
# runs this synchronously and reads stdout to EOF, so QEMU daemonizes with its output elsewhere.
# The boot device is IPMI's one-time override: the boot that uses it clears it, so a PXE boot
# after it needs `chassis bootdev pxe` again. chassis.log records every call, each VM start with
# the boot device it used, and whether a power off found the VM running.
#   chassis.sh <device> get power|boot ...   /   chassis.sh <device> set power 0|1 reset 1 boot pxe ...
# The VM's shape comes from $D/vm.env (written by test/e2e/lab/lab.ts); the disk is $VM_DISK
# ($VM_DISK_FORMAT, default disk0.qcow2), raw when a test reads what was written to it.
# VM_FIRMWARE=uefi boots OVMF (Debian's ovmf): its code read-only, its variables from this VM's own
# copy ($D/ovmf-vars.fd, writable), so boot entries and BootOrder persist across power cycles as in
# a machine's NVRAM. OVMF reads no `-boot order` (that is SeaBIOS's CMOS), and a bootindex would
# make it rewrite BootOrder on every boot: so on UEFI the IPMI override `bootdev pxe` reaches the
# firmware as a server's BMC makes it, BootNext = the network entry ($VM_OVMF_BOOT_NEXT, ovmf-boot-next.py, writes it
# into the powered-off VM's NVRAM), and every other boot follows BootOrder (a deployed machine's
# disk first). VM_REBOOTS=1 lets a guest reboot restart the VM in place (a deployed OS's reboot);
# otherwise a reboot powers it off (-no-reboot), so a failing environment does not loop.
# `chassis.sh <device> plain-boot` (not an IPMI call: the deploy bench's baseline) starts the same
# VM from its disk alone, no PXE: SeaBIOS `-boot order=c`; on UEFI a fresh NVRAM ($VM_OVMF_VARS)
# and the disk as bootindex 0, so OVMF boots its removable path. The disk is a QEMU snapshot
# (writes are dropped), so what the installer wrote stays as it was for the tests that follow.
D=$(cd "$(dirname "$0")" && pwd); PIDF=$D/vm.pid; BOOTF=$D/bootdev; QMP=$D/qmp.sock
# shellcheck disable=SC1091
. "$D/vm.env"
echo "$(date +%s.%N) chassis.sh $*" >> "$D/chassis.log"
shift; op=$1; shift
# alive = the pid exists and is not a zombie (a killed daemonized QEMU lingers as Z for a while)
alive() { local st; st=$(awk '/^State:/{print $2}' "/proc/$1/status" 2>/dev/null); [ -n "$st" ] && [ "$st" != Z ]; }
running() { [ -f "$PIDF" ] && alive "$(cat "$PIDF")"; }
start_vm() {
  local plain=${1:-} dev boot=order=cn firmware vars=$D/ovmf-vars.fd disk_opts='' blk_opts=''; dev=$(cat "$BOOTF" 2>/dev/null)
  case "$dev" in pxe) boot=order=nc ;; default) boot=order=c ;; esac
  if [ -n "$plain" ]; then
    dev=plain boot=order=c disk_opts=,snapshot=on vars=$D/ovmf-vars-plain.fd
    [ "${VM_FIRMWARE:-bios}" != uefi ] || { cp "$VM_OVMF_VARS" "$vars"; blk_opts=,bootindex=0; }
  fi
  firmware=(-boot "$boot")
  local nic="virtio-net-pci,netdev=n0,mac=$VM_MAC"
  # UEFI: no iPXE option ROM on the NIC, so OVMF's own PXE boots it as a server's firmware would
  # (DHCP option 93: EFI, then the rack's ipxe.efi over TFTP).
  [ "${VM_FIRMWARE:-bios}" != uefi ] || { firmware=(-drive "if=pflash,format=raw,unit=0,readonly=on,file=$VM_OVMF_CODE"
    -drive "if=pflash,format=raw,unit=1,file=$vars"); nic+=",romfile="; }
  if [ "${VM_FIRMWARE:-bios}" = uefi ] && [ "$dev" = pxe ]; then
    echo "$(date +%s.%N) efi boot next: $(python3 "$VM_OVMF_BOOT_NEXT" "$vars" 2>&1 || echo failed)" >> "$D/chassis.log"
  fi
  local reboot=-no-reboot
  [ "${VM_REBOOTS:-}" != 1 ] || reboot=''
  # "once": this boot consumes the override; the next one uses the firmware's own order.
  [ -n "$plain" ] || rm -f "$BOOTF"
  rm -f "$PIDF"
  echo "$(date +%s.%N) vm start boot=${dev:-none}${VM_FIRMWARE:+ firmware=$VM_FIRMWARE}" >> "$D/chassis.log"
  # A two-NIC VM (VM_MAC2 in vm.env) gets a second NIC on tap1, without a boot ROM: it netboots
  # from the first, as the machine's boot interface says.
  local second_nic=() second_disk=()
  # A lab with a scratch disk (VM_DISK2 in vm.env, raw) gets it as a second virtio disk.
  [ -z "${VM_DISK2:-}" ] || second_disk=(-drive "file=$D/$VM_DISK2,if=none,id=d1,format=raw"
    -device "virtio-blk-pci,drive=d1,serial=$VM_DISK2_SERIAL")
  [ -z "${VM_MAC2:-}" ] || second_nic=(-netdev tap,id=n1,ifname=tap1,script=no,downscript=no
    -device "virtio-net-pci,netdev=n1,mac=$VM_MAC2,romfile=")
  qemu-system-x86_64 -accel tcg -m "$VM_MEMORY_MIB" -smp "$VM_CPUS" -display none -machine graphics=off -daemonize -pidfile "$PIDF" \
    ${reboot:+"$reboot"} -qmp "unix:$QMP,server=on,wait=off" -serial "file:$D/vm-serial-$(date +%s%N).log" "${firmware[@]}" \
    -smbios "type=1,manufacturer=$VM_VENDOR,product=$VM_PRODUCT,serial=$VM_SERIAL,uuid=$VM_UUID" \
    -drive "file=$D/${VM_DISK:-disk0.qcow2},if=none,id=d0,format=${VM_DISK_FORMAT:-qcow2}$disk_opts" -device "virtio-blk-pci,drive=d0,serial=$VM_DISK_SERIAL$blk_opts" \
    -netdev tap,id=n0,ifname=tap0,script=no,downscript=no -device "$nic" \
    "${second_nic[@]}" "${second_disk[@]}" </dev/null >>"$D/qemu.log" 2>&1
}
stop_vm() {
  if ! running; then echo "$(date +%s.%N) vm stop: already off" >> "$D/chassis.log"; return 0; fi
  echo "$(date +%s.%N) vm stop: was running" >> "$D/chassis.log"
  local p; p=$(cat "$PIDF"); kill -TERM "$p"
  for _ in $(seq 1 50); do alive "$p" || break; sleep 0.05; done
  alive "$p" && kill -KILL "$p"; rm -f "$PIDF"
}
case $op in
get)
  for p in "$@"; do case $p in
    power) running && echo "power:1" || echo "power:0" ;;
    boot)  echo "boot:$(cat "$BOOTF" 2>/dev/null || echo default)" ;;
    *) echo "Invalid parameter: $p"; exit 1 ;;
  esac; done ;;
set)
  while [ $# -gt 0 ]; do p=$1; v=$2; shift 2
    case $p in
      power) if [ "$v" = 1 ]; then running || start_vm; else stop_vm; fi ;;
      reset) stop_vm; start_vm ;;
      shutdown) stop_vm ;;
      boot) echo "$v" > "$BOOTF" ;;
      identify) shift ;;
      *) echo "Invalid parameter: $p"; exit 1 ;;
    esac
  done ;;
plain-boot) running || start_vm plain ;;
check) exit 1 ;;
*) echo "Unknown operation: $op"; exit 1 ;;
esac
exit 0
