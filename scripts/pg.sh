#!/usr/bin/env bash
# A throw-away PostgreSQL for the test suite: `pg.sh start` / `pg.sh stop`.
# Listens on 127.0.0.1:$PGPORT (default 5433) with a socket and data in $PGDIR.
set -euo pipefail

PGPORT=${CRMADMIN_TEST_PG_PORT:-5433}
PGDIR=${CRMADMIN_TEST_PG_DIR:-/tmp/crmadmin-pg-$PGPORT}
PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
[ -n "$PGBIN" ] || { echo "PostgreSQL is not installed (scripts/system-deps.sh installs it)" >&2; exit 1; }

# initdb refuses to run as root: run the server as the postgres user then.
as_pg() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

case "${1:-}" in
  start)
    if [ -f "$PGDIR/postmaster.pid" ]; then as_pg "$PGBIN/pg_ctl" -D "$PGDIR" -m immediate stop >/dev/null 2>&1 || true; fi
    rm -rf "$PGDIR" && mkdir -p "$PGDIR"
    [ "$(id -u)" -eq 0 ] && chown postgres: "$PGDIR"
    as_pg "$PGBIN/initdb" -D "$PGDIR" -U postgres -A trust >/dev/null
    as_pg "$PGBIN/pg_ctl" -D "$PGDIR" -w -l "$PGDIR/server.log" start \
      -o "-p $PGPORT -k $PGDIR -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off" >/dev/null
    "$PGBIN/psql" -q -h 127.0.0.1 -p "$PGPORT" -U postgres \
      -c "CREATE ROLE crmadmin LOGIN CREATEDB PASSWORD 'crmadmin'" \
      -c "CREATE DATABASE crmadmin OWNER crmadmin" >/dev/null
    echo "postgres://crmadmin:crmadmin@127.0.0.1:$PGPORT/crmadmin"
    ;;
  stop)
    [ -d "$PGDIR" ] && as_pg "$PGBIN/pg_ctl" -D "$PGDIR" -m fast stop >/dev/null 2>&1 || true
    rm -rf "$PGDIR"
    ;;
  *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
