#!/bin/bash
# What install-to-disk.sh does to a UEFI machine's boot entries, decided from `efibootmgr`'s output
# (stdin) alone, so it is testable without firmware (test/unit/installer-uefi-boot-entries.test.ts).
#
#   uefi-boot-entries.sh stale LABEL   the entries labelled exactly LABEL, one 4-hex number a line:
#                                      a previous deploy's, removed before the new one is made (as
#                                      curtin does), so redeploys do not pile entries up in NVRAM
#   uefi-boot-entries.sh order         the BootOrder to set after the new entry was made: the entry
#                                      this machine booted from (BootCurrent: MAAS's network boot)
#                                      first, then the others in their order (curtin's reorder_uefi,
#                                      which MAAS leaves on), so the machine keeps PXE-booting for
#                                      release and commissioning and the rack's `local` answer hands
#                                      it on to the installed OS; nothing when there is no
#                                      BootCurrent (efibootmgr's order, the new entry first, stays)
set -euo pipefail

mode=${1:-}
case $mode in
  stale) label=${2:?stale needs the LABEL} ;;
  order) ;;
  *) echo "usage: uefi-boot-entries.sh stale LABEL | order" >&2; exit 2 ;;
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
  [[ $current =~ ^[0-9A-Fa-f]{4}$ ]] || exit 0
  out=$current
  IFS=, read -r -a entries <<<"$order"
  for e in "${entries[@]}"; do
    [ -z "$e" ] || [ "${e^^}" = "${current^^}" ] || out+=",$e"
  done
  echo "$out"
fi
