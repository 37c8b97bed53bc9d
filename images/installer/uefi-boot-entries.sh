#!/bin/bash
# What install-to-disk.sh does to a UEFI machine's boot entries, decided from `efibootmgr`'s output
# (stdin) alone, so it is testable without firmware (test/unit/installer-uefi-boot-entries.test.ts).
#
#   uefi-boot-entries.sh stale LABEL   the entries labelled exactly LABEL, one 4-hex number a line:
#                                      a previous deploy's, removed before the new one is made (as
#                                      curtin does), so redeploys do not pile entries up in NVRAM
#   uefi-boot-entries.sh order NEW     the BootOrder to set after the new entry NEW was made: NEW
#                                      (the installed OS) first, then the entry this machine booted
#                                      from (BootCurrent: the network), then the others in their
#                                      order. So the machine boots its OS by itself, on every reboot
#                                      (a netbooted iPXE's `exit` back to the firmware stalls under
#                                      OVMF); the next operation netboots because the BMC is told to
#                                      (power on sets `chassis bootdev pxe options=efiboot`: BootNext),
#                                      and a disk that no longer boots (an erased one) falls through
#                                      to the network. MAAS's curtin puts the network first instead
#                                      and its netbooted GRUB chains the disk.
set -euo pipefail

mode=${1:-}
case $mode in
  stale) label=${2:?stale needs the LABEL} ;;
  order)
    new=${2:-}
    [[ $new =~ ^[0-9A-Fa-f]{4}$ ]] || { echo "order needs the new entry's 4-hex number, not '$new'" >&2; exit 2; }
    ;;
  *) echo "usage: uefi-boot-entries.sh stale LABEL | order NEW" >&2; exit 2 ;;
esac

current='' order=''
while IFS= read -r line; do
  line=${line%$'\r'}
  case $line in
    'BootCurrent: '*) current=${line#BootCurrent: } ;;
    'BootOrder: '*) order=${line#BootOrder: } ;;
    Boot[0-9A-Fa-f][0-9A-Fa-f][0-9A-Fa-f][0-9A-Fa-f][\*\ ]*)
      [ "$mode" = stale ] || continue
      # `Boot0003* debian<TAB>HD(…)`: the label ends at the tab before the device path (efibootmgr
      # 17 prints it), or at the end of the line (older ones without -v).
      name=${line:10}
      name=${name%%$'\t'*}
      [ "$name" != "$label" ] || echo "${line:4:4}"
      ;;
  esac
done

if [ "$mode" = order ]; then
  out=$new
  [[ ! $current =~ ^[0-9A-Fa-f]{4}$ ]] || [ "${current^^}" = "${new^^}" ] || out+=",$current"
  IFS=, read -r -a entries <<<"$order"
  for e in "${entries[@]}"; do
    [ -z "$e" ] || [ "${e^^}" = "${new^^}" ] || [ "${e^^}" = "${current^^}" ] || out+=",$e"
  done
  echo "$out"
fi
