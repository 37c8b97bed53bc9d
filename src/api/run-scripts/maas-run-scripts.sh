#!/bin/sh
# maas-run-scripts, served by metalflow at GET /MAAS/maas-run-scripts (MAAS 3.1's tool for
# machines that already run a workload). Runs on a stock Linux host with what it already has:
# POSIX sh, awk, sed, coreutils, and one of python3, curl or wget for HTTP. It never reboots,
# installs nothing and only reads small files under /proc and /sys.
#
#   register-machine [--hostname H] MAAS_URL API_KEY
#       Register this host as an already deployed machine (needs an admin API key) and write
#       <hostname>-creds.yaml in the current directory. Running it again on the same host returns
#       the same machine (found by this host's identity, below); the machine keeps its name.
#   report-results --config CREDS.yaml [--periodic]
#       Upload this host's hardware (CPU, memory, disks, NICs and its VLANs, bridges and bonds, DMI)
#       with the machine's token.
#       --periodic (for a timer) sends only when something changed since the last report; the
#       last report's hash is kept in CREDS.yaml.last-report.
#
# Host identity: /etc/machine-id (readable by any user, stable for the life of the installed OS),
# else DMI product_uuid, else MAAS_HOST_ID must be set. Set MAAS_HOST_ID when images were cloned
# with a fixed machine-id. MAAS_RUN_SCRIPTS_HTTP=python3|curl|wget forces the HTTP client.
#
# Example timer (cron): */15 * * * * root cd /etc/maas && sh maas-run-scripts report-results --config host-creds.yaml --periodic
#
# Also a library: `MAAS_RUN_SCRIPTS_LIB=1 . maas-run-scripts` defines the functions (HTTP with
# OAuth, multipart bodies, the hardware report) and runs nothing. metalflow's ephemeral
# environment (images/ephemeral/init, busybox) uses it that way; it sets $WORK itself.
set -u

PROG=maas-run-scripts
HARDWARE_FILE=metalflow-hardware.json

die() {
  printf '%s: %s\n' "$PROG" "$*" >&2
  exit 1
}

usage() {
  cat <<EOF
usage: $PROG register-machine [--hostname H] MAAS_URL API_KEY
       $PROG report-results --config CREDS.yaml [--periodic]
EOF
}

# --- HTTP -----------------------------------------------------------------------------------

pick_http() {
  if [ -n "${MAAS_RUN_SCRIPTS_HTTP:-}" ]; then
    HTTP=$MAAS_RUN_SCRIPTS_HTTP
    command -v "$HTTP" >/dev/null 2>&1 || die "MAAS_RUN_SCRIPTS_HTTP=$HTTP, but $HTTP is not installed"
    return
  fi
  for HTTP in python3 curl wget; do
    command -v "$HTTP" >/dev/null 2>&1 && break
  done
  command -v "$HTTP" >/dev/null 2>&1 || die "needs python3, curl or wget to talk to MAAS"
  # BusyBox's wget (the ephemeral environment's only client) speaks GET and POST with a body file.
  [ "$HTTP" = wget ] && wget --help 2>&1 | head -n 1 | grep -q BusyBox && HTTP=busybox-wget
  return 0
}

# urllib keeps the body of error answers (MAAS explains refusals there).
PY_HTTP='
import sys, urllib.request, urllib.error
method, url, auth, ctype, body, out = sys.argv[1:7]
data = open(body, "rb").read() if body else None
req = urllib.request.Request(url, data=data, method=method, headers={"Authorization": auth})
if body:
    req.add_header("Content-Type", ctype)
try:
    with urllib.request.urlopen(req, timeout=60) as r:
        code, payload = r.status, r.read()
except urllib.error.HTTPError as e:
    code, payload = e.code, e.read()
except Exception as e:
    sys.stderr.write("%s\n" % e)
    code, payload = 0, b""
open(out, "wb").write(payload)
print(code)
'

# PLAINTEXT OAuth 1.0 as MAAS uses it: key = consumer_key:token_key:token_secret, empty consumer
# secret, so the signature is "&" + token_secret.
oauth_header() {
  _ck=${1%%:*}
  _rest=${1#*:}
  _tk=${_rest%%:*}
  _ts=${_rest#*:}
  _nonce=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
  printf 'OAuth oauth_version="1.0", oauth_signature_method="PLAINTEXT", oauth_consumer_key="%s", oauth_token="%s", oauth_signature="&%s", oauth_nonce="%s", oauth_timestamp="%s"' \
    "$_ck" "$_tk" "$_ts" "$_nonce" "$(date +%s)"
}

check_key() {
  case $1 in
    *:*:*) ;;
    *) die "$2 must look like consumer_key:token_key:token_secret" ;;
  esac
  _r=${1#*:}
  [ -n "${1%%:*}" ] && [ -n "${_r%%:*}" ] && [ -n "${_r#*:}" ] || die "$2 must look like consumer_key:token_key:token_secret"
}

# http_request METHOD URL AUTHORIZATION [BODYFILE CONTENT_TYPE]: one request (AUTHORIZATION
# empty: anonymous). The answer goes to $WORK/resp, the status to $HTTP_STATUS (0: no answer).
# Returns 0 on 2xx.
http_request() {
  _method=$1 _url=$2 _auth=$3 _body=${4:-} _ctype=${5:-}
  _out=$WORK/resp
  : >"$_out"
  case $HTTP in
    python3)
      HTTP_STATUS=$(python3 -c "$PY_HTTP" "$_method" "$_url" "$_auth" "$_ctype" "$_body" "$_out")
      ;;
    curl)
      set -- -sS -o "$_out" -w '%{http_code}' -X "$_method"
      [ -n "$_auth" ] && set -- "$@" -H "Authorization: $_auth"
      [ -n "$_body" ] && set -- "$@" -H "Content-Type: $_ctype" --data-binary "@$_body"
      HTTP_STATUS=$(curl "$@" "$_url")
      ;;
    wget)
      set -- -O "$_out" --server-response --content-on-error --method="$_method"
      [ -n "$_auth" ] && set -- "$@" --header="Authorization: $_auth"
      [ -n "$_body" ] && set -- "$@" --header="Content-Type: $_ctype" --body-file="$_body"
      HTTP_STATUS=$(wget "$@" "$_url" 2>&1 | awk '/^ *HTTP\//{c=$2} END{print c}')
      ;;
    busybox-wget)
      # No body on error answers. Debian 12's BusyBox wget crashes with -T: timeout bounds it.
      set -- wget -O "$_out" -S
      command -v timeout >/dev/null 2>&1 && set -- timeout 120 "$@"
      [ -n "$_auth" ] && set -- "$@" --header "Authorization: $_auth"
      case $_method in
        GET) ;;
        POST) set -- "$@" --header "Content-Type: ${_ctype:-application/x-www-form-urlencoded}" --post-file "${_body:-/dev/null}" ;;
        *) die "BusyBox wget cannot send $_method" ;;
      esac
      HTTP_STATUS=$("$@" "$_url" 2>&1 | awk '/^ *HTTP\//{c=$2} END{print c}')
      ;;
    *) die "unknown HTTP client $HTTP" ;;
  esac
  case $HTTP_STATUS in
    2[0-9][0-9]) return 0 ;;
    '' | 000) HTTP_STATUS=0 ;;
  esac
  return 1
}

# call METHOD URL KEY [BODYFILE CONTENT_TYPE]: signed with KEY; fails unless 2xx.
call() {
  http_request "$1" "$2" "$(oauth_header "$3")" "${4:-}" "${5:-}" && return 0
  case $HTTP_STATUS in
    0) die "cannot reach $2" ;;
    *) die "$1 $2 refused ($HTTP_STATUS): $(head -c 2000 "$WORK/resp")" ;;
  esac
}

# Multipart bodies (MAAS takes every API call as multipart; files need it anyway).
mp_new() {
  MP_BODY=$WORK/body
  MP_BOUNDARY=maas-run-scripts-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')
  : >"$MP_BODY"
}
mp_field() {
  printf '%s\r\nContent-Disposition: form-data; name="%s"\r\n\r\n%s\r\n' "--$MP_BOUNDARY" "$1" "$2" >>"$MP_BODY"
}
mp_file() {
  printf '%s\r\nContent-Disposition: form-data; name="%s"; filename="%s"\r\nContent-Type: %s\r\n\r\n' "--$MP_BOUNDARY" "$1" "$1" "$3" >>"$MP_BODY"
  cat "$2" >>"$MP_BODY"
  printf '\r\n' >>"$MP_BODY"
}
mp_end() {
  printf '%s\r\n' "--$MP_BOUNDARY--" >>"$MP_BODY"
  MP_TYPE="multipart/form-data; boundary=$MP_BOUNDARY"
}

# The first "FIELD": "string" of a JSON answer (top-level fields come first in MAAS's JSON).
json_str() {
  awk -v k="$1" 'BEGIN { RS = "\001" }
    { if (match($0, "\"" k "\" *: *\"[^\"]*\"")) { s = substr($0, RSTART, RLENGTH); sub(/^[^:]*: *"/, "", s); sub(/"$/, "", s); print s } }' "$2"
}

# --- facts about this host ------------------------------------------------------------------

local_hostname() {
  _h=$(hostname 2>/dev/null || cat /proc/sys/kernel/hostname)
  printf '%s' "${_h%%.*}" | tr 'A-Z' 'a-z'
}

read_file() {
  [ -r "$1" ] && tr -d '\000' <"$1" 2>/dev/null | head -n 1 | tr -d '\n'
}

host_id() {
  if [ -n "${MAAS_HOST_ID:-}" ]; then
    printf '%s' "$MAAS_HOST_ID"
    return
  fi
  for _f in /etc/machine-id /var/lib/dbus/machine-id; do
    _id=$(read_file "$_f")
    [ -n "$_id" ] && { printf 'machine-id-%s' "$_id"; return; }
  done
  _id=$(read_file /sys/class/dmi/id/product_uuid | tr 'A-Z' 'a-z')
  case $_id in
    '' | 00000000-0000-0000-0000-000000000000 | ffffffff-ffff-ffff-ffff-ffffffffffff | 03000200-0400-0500-0006-000700080009) ;;
    *) printf 'dmi-%s' "$_id"; return ;;
  esac
  die "no stable identity for this host (no /etc/machine-id, no DMI product_uuid): set MAAS_HOST_ID"
}

maas_arch() {
  case $(uname -m) in
    x86_64 | amd64) echo amd64/generic ;;
    aarch64 | arm64) echo arm64/generic ;;
    i?86) echo i386/generic ;;
    armv7* | armhf) echo armhf/generic ;;
    ppc64le) echo ppc64el/generic ;;
    s390x) echo s390x/generic ;;
    riscv64) echo riscv64/generic ;;
    *) echo "" ;;
  esac
}

json_escape() {
  printf '%s' "$1" | tr -d '\000-\037' | sed 's/\\/\\\\/g; s/"/\\"/g'
}

# What the running kernel manages (MemTotal). The ephemeral environment counts the installed
# modules instead (DMI type 17) by defining its own memory_mib after loading this file.
memory_mib() {
  awk '/^MemTotal:/ { print int($2 / 1024); exit }' /proc/meminfo
}

# The hardware report (src/contracts/hardware.ts), built from /proc and /sys only.
collect_hardware() {
  _count=$(grep -c '^processor' /proc/cpuinfo 2>/dev/null)
  [ "${_count:-0}" -gt 0 ] 2>/dev/null || _count=$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo 0)
  _model=$(awk -F': *' '/^(model name|cpu model|Processor|cpu)[ \t]*:/ { print $2; exit }' /proc/cpuinfo 2>/dev/null)
  # The maximum frequency, not the current one: a report must not change with the CPU's load.
  _khz=$(read_file /sys/devices/system/cpu/cpu0/cpufreq/cpuinfo_max_freq)
  if [ -n "$_khz" ]; then
    _mhz=$((_khz / 1000))
  else
    _mhz=$(awk -F': *' '/^cpu MHz/ { split($2, a, "."); print a[1]; exit }' /proc/cpuinfo 2>/dev/null)
  fi
  _mem=$(memory_mib)

  printf '{"architecture":"%s","cpu":{"count":%s,"model":"%s","speed_mhz":%s},"memory_mib":%s,' \
    "${_arch%/generic}" "${_count:-0}" "$(json_escape "$_model")" "${_mhz:-0}" "${_mem:-0}"

  # Disks: block devices backed by a device (not loop, ram, zram, dm), with a size.
  printf '"block_devices":['
  _sep=
  for _d in /sys/block/*; do
    [ -e "$_d/device" ] || continue
    _sectors=$(read_file "$_d/size")
    [ "${_sectors:-0}" -gt 0 ] 2>/dev/null || continue
    _serial=$(read_file "$_d/device/serial")
    [ -n "$_serial" ] || _serial=$(read_file "$_d/serial")
    _dmodel=$(read_file "$_d/device/model")
    _bsize=$(read_file "$_d/queue/logical_block_size")
    [ "${_bsize:-0}" -gt 0 ] 2>/dev/null || _bsize=512
    printf '%s{"name":"%s","size_bytes":%s,"serial":"%s","model":"%s","block_size":%s}' "$_sep" "${_d##*/}" "$((_sectors * 512))" \
      "$(json_escape "$_serial" | sed 's/^ *//; s/ *$//')" "$(json_escape "$_dmodel" | sed 's/^ *//; s/ *$//')" "$_bsize"
    _sep=,
  done

  # NICs: physical ones (backed by a device), and the workload's VLANs, bridges and bonds with
  # their type (release removes those); veths, tunnels and the like are left out.
  printf '],"interfaces":['
  _sep=
  for _n in /sys/class/net/*; do
    if [ -e "$_n/device" ]; then
      _type=physical
    elif [ -d "$_n/bridge" ]; then
      _type=bridge
    elif [ -d "$_n/bonding" ]; then
      _type=bond
    elif [ -e "/proc/net/vlan/${_n##*/}" ] || grep -qx 'DEVTYPE=vlan' "$_n/uevent" 2>/dev/null; then
      _type=vlan
    else
      continue
    fi
    # A bond's ports show the bond's MAC; their own is perm_hwaddr.
    _mac=$(read_file "$_n/bonding_slave/perm_hwaddr")
    [ -n "$_mac" ] || _mac=$(read_file "$_n/address")
    _speed=$(read_file "$_n/speed")
    [ "${_speed:-0}" -gt 0 ] 2>/dev/null || _speed=0
    # The carrier reads only on an interface that is up; unknown is left out (the region keeps its default).
    _carrier=$(read_file "$_n/carrier")
    case "$_carrier" in 1) _carrier=',"link_connected":true' ;; 0) _carrier=',"link_connected":false' ;; *) _carrier= ;; esac
    printf '%s{"name":"%s","type":"%s","mac":"%s","link_speed_mbps":%s%s}' "$_sep" "${_n##*/}" "$_type" "$_mac" "$_speed" "$_carrier"
    _sep=,
  done

  printf '],"dmi":{'
  _sep=
  for _pair in vendor:sys_vendor product:product_name serial:product_serial uuid:product_uuid \
    board_vendor:board_vendor board_name:board_name board_serial:board_serial chassis_vendor:chassis_vendor \
    chassis_type:chassis_type chassis_serial:chassis_serial bios_vendor:bios_vendor bios_version:bios_version; do
    _v=$(read_file "/sys/class/dmi/id/${_pair#*:}")
    [ -n "$_v" ] || continue
    printf '%s"%s":"%s"' "$_sep" "${_pair%%:*}" "$(json_escape "$_v")"
    _sep=,
  done
  # How this system booted (MAAS's bios_boot_method): UEFI firmware shows /sys/firmware/efi.
  _firmware=bios
  [ -d /sys/firmware/efi ] && _firmware=uefi
  printf '},"firmware":"%s"}\n' "$_firmware"
}

# --- commands -------------------------------------------------------------------------------

# MAAS_URL as given (http://host:5240/MAAS, with or without a slash or api/2.0).
base_url() {
  _u=$1
  while :; do
    case $_u in
      */) _u=${_u%/} ;;
      */api/2.0) _u=${_u%/api/2.0} ;;
      *) break ;;
    esac
  done
  case $_u in
    http://* | https://*) printf '%s' "$_u" ;;
    *) die "MAAS_URL must start with http:// or https:// (got '$1')" ;;
  esac
}

register_machine() {
  _name=
  while [ $# -gt 0 ]; do
    case $1 in
      --hostname) [ $# -ge 2 ] || die "--hostname needs a value"; _name=$2; shift 2 ;;
      --hostname=*) _name=${1#--hostname=}; shift ;;
      -h | --help) usage; exit 0 ;;
      -*) die "unknown option $1" ;;
      *) break ;;
    esac
  done
  [ $# -eq 2 ] || { usage >&2; exit 2; }
  _base=$(base_url "$1") || exit 1
  _key=$2
  check_key "$_key" API_KEY
  [ -n "$_name" ] || _name=$(local_hostname)
  _hid=$(host_id) || exit 1
  pick_http

  mp_new
  mp_field deployed true
  mp_field hostname "$_name"
  mp_field host_id "$_hid"
  _arch=$(maas_arch)
  [ -n "$_arch" ] && mp_field architecture "$_arch"
  mp_end
  call POST "$_base/api/2.0/machines/" "$_key" "$MP_BODY" "$MP_TYPE"
  _id=$(json_str system_id "$WORK/resp")
  _machine_name=$(json_str hostname "$WORK/resp")
  [ -n "$_id" ] || die "MAAS answered without a system_id: $(head -c 500 "$WORK/resp")"

  call GET "$_base/api/2.0/machines/$_id/?op=get_token" "$_key"
  _ck=$(json_str consumer_key "$WORK/resp")
  _tk=$(json_str token_key "$WORK/resp")
  _ts=$(json_str token_secret "$WORK/resp")
  [ -n "$_ck" ] && [ -n "$_tk" ] && [ -n "$_ts" ] || die "MAAS answered get_token without a token"

  _creds=$_name-creds.yaml
  (
    umask 077
    printf 'reporting:\n  maas:\n    consumer_key: %s\n    token_key: %s\n    token_secret: %s\n    endpoint: %s/metadata/status/%s\n' \
      "$_ck" "$_tk" "$_ts" "$_base" "$_id" >"$_creds.tmp"
  ) && mv "$_creds.tmp" "$_creds" || die "cannot write $_creds"
  printf 'Registered as machine %s (%s); credentials in %s.\n' "$_machine_name" "$_id" "$_creds"
  printf 'Next: %s report-results --config %s\n' "$PROG" "$_creds"
}

yaml_value() {
  sed -n "s/^[ \t]*$1:[ \t]*//p" "$2" | head -n 1 | tr -d "\"'\r"
}

report_results() {
  _config= _periodic=no
  while [ $# -gt 0 ]; do
    case $1 in
      --config) [ $# -ge 2 ] || die "--config needs a file"; _config=$2; shift 2 ;;
      --config=*) _config=${1#--config=}; shift ;;
      --periodic) _periodic=yes; shift ;;
      -h | --help) usage; exit 0 ;;
      *) die "unknown argument $1" ;;
    esac
  done
  [ -n "$_config" ] || die "report-results needs --config CREDS.yaml (written by register-machine)"
  [ -r "$_config" ] || die "cannot read $_config"
  _ck=$(yaml_value consumer_key "$_config")
  _tk=$(yaml_value token_key "$_config")
  _ts=$(yaml_value token_secret "$_config")
  _endpoint=$(yaml_value endpoint "$_config")
  case $_endpoint in
    */metadata/status/*) ;;
    *) die "$_config has no endpoint .../metadata/status/<system_id>" ;;
  esac
  _base=${_endpoint%/metadata/status/*}
  check_key "$_ck:$_tk:$_ts" "the token in $_config"

  _arch=$(maas_arch)
  collect_hardware >"$WORK/$HARDWARE_FILE"
  if command -v sha256sum >/dev/null 2>&1; then
    _hash=$(sha256sum <"$WORK/$HARDWARE_FILE" | cut -d' ' -f1)
  else
    _hash=$(cksum <"$WORK/$HARDWARE_FILE" | tr ' ' '-')
  fi
  _state=$_config.last-report
  if [ "$_periodic" = yes ] && [ "$(read_file "$_state")" = "$_hash" ]; then
    printf 'Hardware unchanged since the last report; nothing sent.\n'
    return 0
  fi

  pick_http
  mp_new
  mp_field op signal
  mp_field status OK
  mp_file "$HARDWARE_FILE" "$WORK/$HARDWARE_FILE" application/json
  mp_end
  call POST "$_base/metadata/2012-03-01/" "$_ck:$_tk:$_ts" "$MP_BODY" "$MP_TYPE"
  # Remembered in every mode, so a later --periodic run compares with what MAAS has.
  printf '%s\n' "$_hash" >"$_state" || die "cannot write $_state"
  printf 'Hardware reported.\n'
}

[ "${MAAS_RUN_SCRIPTS_LIB:-}" = 1 ] && return 0

[ $# -ge 1 ] || { usage >&2; exit 2; }
WORK=$(mktemp -d 2>/dev/null) || die "cannot create a temporary directory"
trap 'rm -rf "$WORK"' EXIT
trap 'exit 130' INT TERM
_command=$1
shift
case $_command in
  register-machine) register_machine "$@" ;;
  report-results) report_results "$@" ;;
  -h | --help | help) usage ;;
  *) usage >&2; exit 2 ;;
esac
