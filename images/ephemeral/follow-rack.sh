# Sourced by images/ephemeral/init (busybox sh; needs its log, $WORK and $IFACE): following the
# rack when the one this environment booted from dies (issue 18 item 1, docs/adr/0005-rack-failover.md).
#
# Every URL the environment uses (mf.metadata, mf.api, mf.image) names the rack it netbooted from:
# the metadata server and the API are the rack's proxy under /MAAS/, the image is on the rack's
# HTTP boot server. When that rack dies, nothing answers there again, but the VLAN's secondary rack
# takes DHCP over once the primary has been silent for 45 s (RACK_FAILOVER_AFTER_S) and serves the
# same paths on the same port. So on "no answer" the environment asks DHCP again and moves its URLs
# to the server that leased it an address (option 54, the server identifier, which our DHCP server
# sets to its own address on the subnet: src/rack/dhcp/reply.ts), then retries.

# Why 150 s: the secondary answers DHCP 45 s after the primary's last heartbeat plus a poll or two;
# this leaves room for a slow takeover and stays well inside the operation's deadline, which the
# region still enforces (a machine that never gets through fails there, not here).
RACK_FOLLOW_SECONDS=${RACK_FOLLOW_SECONDS:-150}
# Why a cap: a rack that keeps vanishing is not worth following forever; each follow is bounded
# above, so an environment waits at most RACK_FOLLOW_MAX * RACK_FOLLOW_SECONDS on dead racks.
RACK_FOLLOW_MAX=3
RACK_FOLLOWS=0
# After a follow: the old and the new rack as URL prefixes (http://HOST[:PORT]), for retry's words.
RACK_OLD='' RACK_NEW=''

# rack_rehost URL: URL with the old rack's scheme, host and port replaced by the new one's.
rack_rehost() {
  case $1 in
    "$RACK_OLD"/*) echo "$RACK_NEW${1#"$RACK_OLD"}" ;;
    *) echo "$1" ;;
  esac
}

# follow_rack: renews the DHCP lease on $IFACE (retrying for up to RACK_FOLLOW_SECONDS) and moves
# METADATA, API and IMAGE to the server that answered. Returns 0 once a server leased an address
# (its URLs may be the same ones: a rack that restarted), 1 when no server answered or the follows
# are used up.
follow_rack() {
  local hostport ip port server deadline
  [ -n "${IFACE:-}" ] || return 1
  if [ "$RACK_FOLLOWS" -ge "$RACK_FOLLOW_MAX" ]; then
    log "not following the rack again (already moved $RACK_FOLLOWS times)"
    return 1
  fi
  RACK_FOLLOWS=$((RACK_FOLLOWS + 1))
  hostport=${METADATA#http://}
  hostport=${hostport%%/*}
  ip=${hostport%:*}
  port=${hostport#"$ip"}
  log "the rack at $ip does not answer; asking DHCP which rack serves this network now"
  deadline=$(($(cut -d. -f1 /proc/uptime) + RACK_FOLLOW_SECONDS))
  while [ "$(cut -d. -f1 /proc/uptime)" -lt "$deadline" ]; do
    if udhcpc -i "$IFACE" -s /usr/share/udhcpc/default.script -n -q -t 5 -T 2 -x hostname:metalflow-ephemeral >"$WORK/udhcpc.log" 2>&1; then
      # The hook (udhcpc.script) prints the lease's server identifier.
      server=$(sed -n 's/^udhcpc: bound .* server=\([0-9.]*\)$/\1/p' "$WORK/udhcpc.log" | tail -n 1)
      if [ -n "$server" ]; then
        RACK_OLD=http://$hostport RACK_NEW=http://$server$port
        METADATA=$(rack_rehost "$METADATA")
        [ -z "$API" ] || API=$(rack_rehost "$API")
        [ -z "$IMAGE" ] || IMAGE=$(rack_rehost "$IMAGE")
        log "DHCP answered from $server: continuing through the rack at $server ($METADATA)"
        return 0
      fi
      log "DHCP answered without a server identifier: $(tail -n 1 "$WORK/udhcpc.log")"
    fi
    sleep 2
  done
  log "no DHCP answer within ${RACK_FOLLOW_SECONDS}s"
  return 1
}

# first_lease IFACE SECONDS: the environment's first DHCP lease, asked for again until SECONDS
# have passed (0: one udhcpc run, its own 20 s). The boot NIC waits RACK_FOLLOW_SECONDS: a rack
# that dies after the firmware's netboot (kernel and initrd loaded) leaves the network without a
# DHCP server until the secondary takes over, 45 s later; the URLs still name the dead rack, and
# the first request that gets no answer follows (retry in init).
first_lease() {
  local deadline
  deadline=$(($(cut -d. -f1 /proc/uptime) + $2))
  while :; do
    udhcpc -i "$1" -s /usr/share/udhcpc/default.script -n -q -t 10 -T 2 -x hostname:metalflow-ephemeral >"$WORK/udhcpc.log" 2>&1 && return 0
    [ "$(cut -d. -f1 /proc/uptime)" -lt "$deadline" ] || return 1
    log "no DHCP answer on $1 yet ($(tail -n 1 "$WORK/udhcpc.log")); asking again: a rack may be failing over"
  done
}

# image_source_lost: whether a failed image stream is worth restarting: the rack does not answer
# any more (a quick request to its metadata server gets no HTTP answer at all) and follow_rack
# found the rack that serves the network now. An answer of any kind means the failure is the
# image's or the disk's, and restarting would not help.
image_source_lost() {
  http_request GET "$METADATA/" '' && return 1
  [ "$HTTP_STATUS" = 0 ] || return 1
  follow_rack
}
