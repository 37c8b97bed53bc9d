# The ephemeral environment's script runner: MAAS's maas-run-remote-scripts
# (src/metadataserver/user_data/templates/snippets/maas_run_remote_scripts.py) in busybox sh.
# Sourced by /init after maas-run-scripts.sh (http_request, oauth_header, mp_*). The caller sets
# METADATA (…/MAAS/metadata), CK/TK/TS, WORK, and provides log() and retry().
#
#   fetch_maas_scripts   GET <metadata>/2012-03-01/maas-scripts (MAAS's tar with index.json) into
#                        $WORK/scripts. Returns 0 (scripts to run), 1 (404: this region serves no
#                        scripts; the caller keeps its metalflow-hardware.json report), 2 (204: no
#                        content, MAAS's "nothing to run"), 3 (anything else).
#   run_maas_scripts     runs index.json's commissioning_scripts, then testing_scripts (after
#                        op=signal status=TESTING), signalling each result as MAAS's environment
#                        does, then OK "All scripts successfully ran" or FAILED "N … failed to run".
#
# Each result: op=signal status=WORKING (TIMEDOUT past its timeout), error "Finished NAME (id: N): RC",
# script_result_id, script_version_id, name, exit_status, runtime (seconds), and the files
# NAME (combined output), NAME.out, NAME.err and NAME.yaml (when the script wrote $RESULT_PATH).
# A built-in script (a file in $BUILTIN_SCRIPTS named as the index names it, marked `default` in
# the index or absent from the tar) runs from the image; any other from the tar at its index path.
#
# Scripts run in MAAS's batches by their `parallel` (run_section): the disabled (0) ones one at a
# time, then each instance (1) script's instances together, then every any (2) script together;
# each one of a batch is a background job with its own timeout, output, scratch files and result
# upload, so uploads interleave and one failing stops none of the others.
#
# Not done as MAAS does: packages/apt dependencies are not installed (no apt here), so the any
# batch is neither started in MAAS's fewest-packages-first order nor split around
# apply_configured_networking (MAAS splits it only to apply that networking, which is not done here
# either). As MAAS's, the tar is fetched again once commissioning has passed (run_index).

BUILTIN_SCRIPTS=${BUILTIN_SCRIPTS:-/lib/metalflow/scripts/builtin}
JSON_FLATTEN=${JSON_FLATTEN:-/lib/metalflow/scripts/json-flatten.awk}
MAAS_SCRIPTS_DIR=$WORK/scripts
# Kept apart from $WORK, which run_one points at each script's own scratch directory.
MAAS_OUT_DIR=$WORK/out
MAAS_RESOURCES=$WORK/resources.json

scripts_get() {
  http_request GET "$1" "$(oauth_header "$CK:$TK:$TS")"
}

fetch_maas_scripts() {
  rm -rf "$MAAS_SCRIPTS_DIR"
  mkdir -p "$MAAS_SCRIPTS_DIR"
  if ! retry 6 "maas-scripts" scripts_get "$METADATA/2012-03-01/maas-scripts"; then
    [ "$HTTP_STATUS" = 404 ] && return 1
    return 3
  fi
  [ "$HTTP_STATUS" = 204 ] && return 2
  [ -s "$WORK/resp" ] || return 2
  # MAAS's tar may be compressed (its environment opens it with mode "r|*"); busybox tar
  # recognises gzip/xz/bzip2 by their magic.
  tar -x -f "$WORK/resp" -C "$MAAS_SCRIPTS_DIR" || { log "maas-scripts: not a tar archive"; return 3; }
  [ -f "$MAAS_SCRIPTS_DIR/index.json" ] || { log "maas-scripts: the archive has no index.json"; return 3; }
  awk -f "$JSON_FLATTEN" "$MAAS_SCRIPTS_DIR/index.json" >"$MAAS_SCRIPTS_DIR/index.flat"
}

# index_value PATH: the value at PATH (json-flatten's notation) in index.json, empty when absent.
index_value() {
  awk -F '\t' -v k="$1" '$1 == k { print substr($0, length($1) + 2); exit }' "$MAAS_SCRIPTS_DIR/index.flat"
}

# script_batches SECTION: SECTION's scripts as MAAS's run_scripts runs them, one batch (the
# indexes that run together) a line. The scripts in MAAS's order first: cpu(1), memory(2),
# storage(3), network(4), then node(0) last, by name within each. Then each disabled (parallel 0)
# one alone, in that order; then, script by script, all the instances of one instance (1) script;
# then every any (2) script. MAAS skips a script with any other parallel; here it runs alone, the
# safe reading of a value the region never sends.
script_batches() {
  awk -F '\t' -v s="1.0/$1/" '
    index($1, s) == 1 {
      rest = substr($1, length(s) + 1); i = rest; sub(/\/.*/, "", i); f = substr(rest, length(i) + 2)
      seen[i] = 1
      if (f == "name") name[i] = substr($0, length($1) + 2)
      if (f == "hardware_type") hw[i] = substr($0, length($1) + 2) + 0
      if (f == "parallel") par[i] = substr($0, length($1) + 2) + 0
    }
    END { for (i in seen) printf "%02d\t%s\t%s\t%d\n", (hw[i] == 0 ? 99 : hw[i]), name[i], i, par[i] }' \
    "$MAAS_SCRIPTS_DIR/index.flat" | sort | awk -F '\t' '
    $4 == 1 {
      if (!($2 in instances)) { names[++n] = $2; instances[$2] = $3 } else instances[$2] = instances[$2] " " $3
      next
    }
    $4 == 2 { any = any == "" ? $3 : any " " $3; next }
    { print $3 }
    END {
      for (k = 1; k <= n; k++) print instances[names[k]]
      if (any != "") print any
    }'
}

# script_params SECTION INDEX: the parameter names of one script.
script_params() {
  awk -F '\t' -v s="1.0/$1/$2/parameters/" '
    index($1, s) == 1 { p = substr($1, length(s) + 1); sub(/\/.*/, "", p); if (!(p in seen)) { seen[p] = 1; print p } }' \
    "$MAAS_SCRIPTS_DIR/index.flat"
}

# fill_format FORMAT PREFIX: FORMAT with each {field} replaced by index.json's PREFIX/field.
fill_format() {
  local out=$1 field value
  while :; do
    case $out in *'{'*'}'*) ;; *) break ;; esac
    field=${out#*\{}
    field=${field%%\}*}
    value=$(index_value "$2/$field")
    out=${out%%\{"$field"\}*}$value${out#*\{"$field"\}}
  done
  echo "$out"
}

# disk_by_model_serial MODEL SERIAL: the /dev path of the disk with that model and serial.
disk_by_model_serial() {
  local d
  for d in /sys/block/*; do
    [ "$(tr -s ' ' <"$d/device/model" 2>/dev/null | sed 's/ *$//')" = "$1" ] || continue
    [ "$(cat "$d/device/serial" 2>/dev/null || cat "$d/serial" 2>/dev/null)" = "$2" ] || continue
    echo "/dev/${d##*/}"
    return 0
  done
  return 1
}

# script_args SECTION INDEX: the script's arguments, one a line (MAAS's parse_parameters); sets
# SCRIPT_TIMEOUT from a runtime parameter. Fails with the reason in $WORK/param-error.
script_args() {
  local base="1.0/$1/$2" p ptype value fmt path mac name
  for p in $(script_params "$1" "$2"); do
    ptype=$(index_value "$base/parameters/$p/type")
    fmt=$(index_value "$base/parameters/$p/argument_format")
    case $ptype in
      storage)
        # A value that names no disk (MAAS's `all`, kept when the region knew no disks yet) is not
        # resolved here: any disk without a model and serial would match it.
        if [ -n "$(index_value "$base/parameters/$p/value")" ]; then
          echo "Storage device '$(index_value "$base/parameters/$p/value")' was not resolved to a disk of this machine (commission it first)" >"$WORK/param-error"
          return 1
        fi
        path=$(index_value "$base/parameters/$p/value/id_path")
        if [ -z "$path" ] || [ ! -e "$path" ]; then
          path=$(disk_by_model_serial "$(index_value "$base/parameters/$p/value/model")" \
            "$(index_value "$base/parameters/$p/value/serial")") || path=''
        fi
        [ -n "$path" ] || path=/dev/$(index_value "$base/parameters/$p/value/name")
        if [ ! -b "$path" ]; then
          echo "Storage device '$(index_value "$base/parameters/$p/value/model")' with serial '$(index_value "$base/parameters/$p/value/serial")' not found!" >"$WORK/param-error"
          return 1
        fi
        fmt=${fmt:-'--storage={path}'}
        value=$(fill_format "$(echo "$fmt" | sed "s|{path}|$path|g; s|{input}|$path|g")" "$base/parameters/$p/value")
        ;;
      interface)
        if [ -n "$(index_value "$base/parameters/$p/value")" ]; then
          echo "Interface '$(index_value "$base/parameters/$p/value")' was not resolved to an interface of this machine (commission it first)" >"$WORK/param-error"
          return 1
        fi
        mac=$(index_value "$base/parameters/$p/value/mac_address")
        name=''
        for _n in /sys/class/net/*; do
          [ "$(cat "$_n/address" 2>/dev/null)" = "$mac" ] && name=${_n##*/}
        done
        if [ -z "$name" ]; then
          echo "Interface device with MAC address $mac has not been found!" >"$WORK/param-error"
          return 1
        fi
        fmt=${fmt:-'--interface={name}'}
        value=$(fill_format "$(echo "$fmt" | sed "s|{name}|$name|g; s|{input}|$name|g")" "$base/parameters/$p/value")
        ;;
      *)
        value=$(index_value "$base/parameters/$p/value")
        [ -n "$value" ] || value=$(index_value "$base/parameters/$p/default")
        [ "$ptype" = runtime ] && [ -n "$value" ] && SCRIPT_TIMEOUT=$value
        fmt=${fmt:-"--$p={input}"}
        value=$(echo "$fmt" | sed "s|{input}|$value|g")
        ;;
    esac
    # MAAS splits the formatted argument on whitespace.
    for _w in $value; do echo "$_w"; done
  done
}

uptime_cs() {
  awk '{ printf "%d\n", $1 * 100 }' /proc/uptime
}

# signal_result STATUS ERROR DIR NAME: one script's result, MAAS's op=signal fields and files.
signal_result() {
  mp_new
  mp_field op signal
  mp_field status "$1"
  mp_field error "$2"
  mp_field name "$4"
  [ -n "$RESULT_ID" ] && mp_field script_result_id "$RESULT_ID"
  [ -n "$VERSION_ID" ] && mp_field script_version_id "$VERSION_ID"
  [ -n "$EXIT_STATUS" ] && mp_field exit_status "$EXIT_STATUS"
  [ -n "$RUNTIME" ] && mp_field runtime "$RUNTIME"
  for _f in "$4" "$4.out" "$4.err" "$4.yaml"; do
    [ -f "$3/$_f" ] && mp_file "$_f" "$3/$_f" application/octet-stream
  done
  mp_end
  retry 10 "signal $4" signed_post "$METADATA/2012-03-01/"
}

# signal_simple STATUS ERROR: a status with a message and no script fields.
signal_simple() {
  mp_new
  mp_field op signal
  mp_field status "$1"
  [ -n "$2" ] && mp_field error "$2"
  mp_end
  retry 10 "signal $1" signed_post "$METADATA/2012-03-01/"
}

# run_one SECTION INDEX: runs one script and signals its result; fails when it did not pass.
run_one() {
  local base="1.0/$1/$2" name path exe dir started ended msg rc pid watcher
  # Its own scratch files (the HTTP answer and body, args, param-error): the scripts of a batch
  # run at the same time.
  local WORK=$WORK/jobs/$1.$2
  rm -rf "$WORK"
  mkdir -p "$WORK"
  name=$(index_value "$base/name")
  path=$(index_value "$base/path")
  RESULT_ID=$(index_value "$base/script_result_id")
  VERSION_ID=$(index_value "$base/script_version_id")
  SCRIPT_TIMEOUT=$(index_value "$base/timeout_seconds")
  EXIT_STATUS='' RUNTIME=''
  # The name is a directory under $MAAS_OUT_DIR and downloads/: the region refuses one that leaves
  # them, and so does the runner, whatever region it talks to.
  case $name in
    */* | .* | *..*)
      echo "Refusing to run script '$name': its name is not a plain file name" >&2
      return 1
      ;;
  esac
  msg=$name
  [ -n "$RESULT_ID" ] && msg="$name (id: $RESULT_ID)"
  dir=$MAAS_OUT_DIR/$name${RESULT_ID:+.$RESULT_ID}
  rm -rf "$dir"
  mkdir -p "$dir" "$MAAS_SCRIPTS_DIR/downloads/$name"
  # The image's copy of a built-in: the index says it is one (`default`), or the tar holds no file
  # for it. A user's script that took a built-in's name (an older region's) runs its own text.
  if [ -f "$BUILTIN_SCRIPTS/$name" ] && { [ "$(index_value "$base/default")" = true ] || [ ! -f "$MAAS_SCRIPTS_DIR/$path" ]; }; then
    exe=$BUILTIN_SCRIPTS/$name
  else
    exe=$MAAS_SCRIPTS_DIR/$path
  fi
  signal_simple WORKING "Starting $msg" || true
  : >"$WORK/param-error"
  if [ -z "$path$name" ] || [ ! -f "$exe" ]; then
    echo "Unable to run '$name': $exe does not exist" >"$WORK/param-error"
  fi
  script_args "$1" "$2" >"$WORK/args" || true
  if [ -s "$WORK/param-error" ]; then
    # 2: what bash gives when it cannot execute (MAAS's choice too).
    EXIT_STATUS=2
    cp "$WORK/param-error" "$dir/$name"
    cp "$WORK/param-error" "$dir/$name.err"
    signal_result WORKING "Failed to execute $msg: 2" "$dir" "$name" || true
    return 1
  fi
  chmod +x "$exe" 2>/dev/null || true
  # Combined output as MAAS keeps it: both streams, in the order they were written.
  rm -f "$dir/.o" "$dir/.e"
  mkfifo "$dir/.o" "$dir/.e"
  tee "$dir/$name.out" <"$dir/.o" >>"$dir/$name" &
  _t1=$!
  tee "$dir/$name.err" <"$dir/.e" >>"$dir/$name" &
  _t2=$!
  started=$(uptime_cs)
  set -f
  # The script leads its own session (setsid without a fork: a background job of this
  # non-interactive shell is no group leader), so a timeout kills it with everything it started;
  # a leftover child would hold the output pipes open.
  # shellcheck disable=SC2046 # one argument a line
  (
    IFS='
'
    export OUTPUT_COMBINED_PATH="$dir/$name" OUTPUT_STDOUT_PATH="$dir/$name.out" OUTPUT_STDERR_PATH="$dir/$name.err" \
      RESULT_PATH="$dir/$name.yaml" DOWNLOAD_PATH="$MAAS_SCRIPTS_DIR/downloads/$name" RUNTIME="${SCRIPT_TIMEOUT:-0}" \
      HAS_STARTED="$(index_value "$base/has_started" | sed 's/^true$/True/; s/^false$/False/; s/^$/False/')" \
      MAAS_BASE_URL="${METADATA%/metadata}" MAAS_RESOURCES_FILE="$MAAS_RESOURCES"
    exec setsid "$exe" $(cat "$WORK/args")
  ) >"$dir/.o" 2>"$dir/.e" </dev/null &
  pid=$!
  set +f
  watcher=''
  if [ -n "$SCRIPT_TIMEOUT" ] && [ "$SCRIPT_TIMEOUT" -gt 0 ] 2>/dev/null; then
    (
      sleep "$SCRIPT_TIMEOUT" &
      echo $! >"$dir/.timer"
      wait $! && : >"$dir/.timedout" && kill -KILL -- "-$pid"
    ) >/dev/null 2>&1 </dev/null &
    watcher=$!
  fi
  wait $pid
  rc=$?
  # The script ended first: stop the timer and its sleep.
  if [ -n "$watcher" ]; then
    kill "$watcher" "$(cat "$dir/.timer" 2>/dev/null)" 2>/dev/null
    rm -f "$dir/.timer"
  fi
  ended=$(uptime_cs)
  wait $_t1 $_t2
  rm -f "$dir/.o" "$dir/.e"
  RUNTIME=$(awk -v a="$started" -v b="$ended" 'BEGIN { printf "%.2f\n", (b - a) / 100 }')
  if [ -f "$dir/.timedout" ]; then
    rm -f "$dir/.timedout"
    # 124: what the timeout command exits with, MAAS's choice too.
    EXIT_STATUS=124
    signal_result TIMEDOUT "Timeout($SCRIPT_TIMEOUT s) expired on $msg" "$dir" "$name" || true
    return 1
  fi
  EXIT_STATUS=$rc
  signal_result WORKING "Finished $msg: $rc" "$dir" "$name" || true
  [ $rc = 0 ]
}

# run_batch SECTION INDEX...: runs the scripts together, each a background job; sets BATCH_FAILED
# to how many did not pass once all have ended.
run_batch() {
  local section=$1 pids='' pid i
  shift
  for i; do
    run_one "$section" "$i" >&2 &
    pids="$pids $!"
  done
  BATCH_FAILED=0
  for pid in $pids; do
    wait "$pid" || BATCH_FAILED=$((BATCH_FAILED + 1))
  done
}

# run_section SECTION: runs every script of SECTION, batch by batch; echoes how many failed.
run_section() {
  local failed=0 batches batch ifs=$IFS
  batches=$(script_batches "$1")
  # One batch a line; the scripts run with the usual IFS, which splits the batch into its indexes.
  IFS='
'
  for batch in $batches; do
    IFS=$ifs
    # shellcheck disable=SC2086 # the batch's indexes, one word each
    case $batch in
      *' '*)
        run_batch "$1" $batch
        failed=$((failed + BATCH_FAILED))
        ;;
      *) run_one "$1" "$batch" >&2 || failed=$((failed + 1)) ;;
    esac
  done
  IFS=$ifs
  echo $failed
}

# MAAS's HeartBeat: op=signal WORKING every two minutes while scripts run, so a long test (badblocks
# on a big disk) does not look like a silent machine. Its own body and answer files.
heartbeat() {
  local WORK=$WORK/heartbeat
  mkdir -p "$WORK"
  while :; do
    # The sleep's pid for run_maas_scripts to stop it with the loop.
    sleep 120 &
    echo $! >"$WORK/sleep.pid"
    wait $! || return 0
    mp_new
    mp_field op signal
    mp_field status WORKING
    mp_end
    signed_post "$METADATA/2012-03-01/" || true
  done
}

# deadline_for_scripts: the environment's last-resort poweroff guard, moved to 15 minutes past
# the scripts' summed timeouts; none at all when a script has no timeout (MAAS has no such guard:
# the region's silence deadline, kept alive by the heartbeat, decides).
deadline_for_scripts() {
  local total
  total=$(awk -F '\t' '$1 ~ /\/timeout_seconds$/ { if ($2 + 0 <= 0) unbounded = 1; t += $2 }
    END { print unbounded ? "" : t + 900 }' "$MAAS_SCRIPTS_DIR/index.flat")
  # Only where /init set a guard (not under a test's shell).
  [ -n "${DEADLINE_GUARD:-}" ] || return 0
  kill "$DEADLINE_GUARD" 2>/dev/null
  DEADLINE_GUARD=''
  [ -n "$total" ] || return 0
  (sleep "$total" && log "scripts still running after ${total}s" && poweroff -f) &
  DEADLINE_GUARD=$!
}

run_maas_scripts() {
  local failed beat rc=0
  deadline_for_scripts
  heartbeat >/dev/null 2>&1 </dev/null &
  beat=$!
  run_index || rc=1
  kill $beat 2>/dev/null
  kill "$(cat "$WORK/heartbeat/sleep.pid" 2>/dev/null)" 2>/dev/null
  return $rc
}

run_index() {
  local failed
  if grep -q '^1\.0/commissioning_scripts/' "$MAAS_SCRIPTS_DIR/index.flat"; then
    log "Starting commissioning scripts..."
    failed=$(run_section commissioning_scripts)
    if [ "$failed" -gt 0 ]; then
      signal_simple FAILED "$failed commissioning scripts failed to run" || true
      return 1
    fi
    # MAAS's environment fetches the scripts again once commissioning has passed: the region has
    # the hardware now, so a test it was given for `all` disks or interfaces is one result per
    # device (and a for_hardware script may have been added). A bounded number of times, in case
    # a commissioning script's result never leaves the list.
    if [ "${MAAS_REFETCHES:-0}" -lt 3 ]; then
      MAAS_REFETCHES=$((${MAAS_REFETCHES:-0} + 1))
      rm -rf "$WORK/scripts.before"
      cp -a "$MAAS_SCRIPTS_DIR" "$WORK/scripts.before"
      fetch_maas_scripts
      case $? in
        # The guard again, from the new index: a test per disk now, each with its timeout.
        0) rm -rf "$WORK/scripts.before"; deadline_for_scripts; run_index; return $? ;;
        2) rm -rf "$WORK/scripts.before"; signal_simple OK "All scripts successfully ran"; return $? ;;
        *)
          log "maas-scripts: not fetched again after commissioning; running the tests listed before"
          rm -rf "$MAAS_SCRIPTS_DIR"
          mv "$WORK/scripts.before" "$MAAS_SCRIPTS_DIR"
          ;;
      esac
    fi
  fi
  if grep -q '^1\.0/testing_scripts/' "$MAAS_SCRIPTS_DIR/index.flat"; then
    # MAAS: a COMMISSIONING machine moves to TESTING; one already TESTING ignores it.
    signal_simple TESTING '' || true
    log "Starting testing scripts..."
    failed=$(run_section testing_scripts)
    if [ "$failed" -gt 0 ]; then
      signal_simple FAILED "$failed test scripts failed to run" || true
      return 1
    fi
  fi
  signal_simple OK "All scripts successfully ran"
}
