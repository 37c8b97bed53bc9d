#!/bin/sh
# Runs in Temporal's admin-tools image (docker-compose.yml), in one of two steps:
#   temporal-setup.sh schema      before the server starts: its two databases' schemas, created or
#                                 brought up to this admin-tools version (safe to run again)
#   temporal-setup.sh namespace   once the server answers: the namespace and the Keyword search
#                                 attributes metalflow's workflows set (SEARCH_ATTRIBUTES)
# The published temporalio/server image does neither itself (only the deprecated auto-setup did).
set -eu

case "${1:-}" in
schema)
  for db in temporal temporal_visibility; do
    kind=temporal
    [ "$db" = temporal_visibility ] && kind=visibility
    # The databases exist already (postgres-init.sql); setup-schema -v 0.0 makes the version table
    # when missing and update-schema applies what this version adds.
    temporal-sql-tool --plugin postgres12 --ep "$SQL_HOST" -p 5432 -u "$SQL_USER" --pw "$SQL_PASSWORD" --db "$db" \
      setup-schema -v 0.0
    temporal-sql-tool --plugin postgres12 --ep "$SQL_HOST" -p 5432 -u "$SQL_USER" --pw "$SQL_PASSWORD" --db "$db" \
      update-schema -d "/etc/temporal/schema/postgresql/v12/$kind/versioned"
  done
  ;;
namespace)
  tries=0
  until temporal operator cluster health --address "$TEMPORAL_ADDRESS" >/dev/null 2>&1; do
    tries=$((tries + 1))
    [ "$tries" -lt 60 ] || { echo "Temporal at $TEMPORAL_ADDRESS did not become healthy" >&2; exit 1; }
    sleep 2
  done
  temporal operator namespace describe --address "$TEMPORAL_ADDRESS" -n "$TEMPORAL_NAMESPACE" >/dev/null 2>&1 ||
    temporal operator namespace create --address "$TEMPORAL_ADDRESS" -n "$TEMPORAL_NAMESPACE" --retention 30d
  for name in $SEARCH_ATTRIBUTES; do
    # An attribute that exists already is fine; any other failure stops the setup (and the region).
    temporal operator search-attribute create --address "$TEMPORAL_ADDRESS" -n "$TEMPORAL_NAMESPACE" \
      --name "$name" --type Keyword ||
      temporal operator search-attribute list --address "$TEMPORAL_ADDRESS" -n "$TEMPORAL_NAMESPACE" | grep -qw "$name"
  done
  ;;
*)
  echo "usage: temporal-setup.sh schema|namespace" >&2
  exit 2
  ;;
esac
