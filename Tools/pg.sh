#!/usr/bin/env bash
# A throwaway PostgreSQL 15 cluster for the tests (docs/OPERATIONS.md): made by initdb in a new
# temporary folder, listening on a Unix socket in that folder only (no TCP port, no password:
# trust authentication for local socket connections of that folder's owner), stopped and deleted
# by `stop`.
#
#   eval "$(bash Tools/pg.sh start)"   # prints: export LEDGER_TEST_PGDIR=… LEDGER_TEST_DATABASE_URL=…
#   bash Tools/pg.sh stop "$LEDGER_TEST_PGDIR"
#
# For the fault and replica tests:
#   bash Tools/pg.sh pause DIR      # the server stops at once (pg_ctl -m immediate), as in a crash
#   bash Tools/pg.sh resume DIR     # and starts again on the same data
#   bash Tools/pg.sh freeze DIR     # every server process stopped (SIGSTOP): a server that
#                                   # vanished without closing its connections
#   bash Tools/pg.sh thaw DIR       # and continued (SIGCONT)
#   bash Tools/pg.sh standby DIR    # a hot standby made with pg_basebackup, streaming from the
#                                   # primary, on port 5433 of the same socket folder
#
# As root (CI), the cluster runs as the `postgres` system user that Debian's package creates:
# PostgreSQL refuses to run as root. The folder is then made owned by that user.
set -euo pipefail
bin=/usr/lib/postgresql/15/bin
as_owner() {
    if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}
case "${1:-}" in
start)
    dir=$(mktemp -d /tmp/ledger-pg.XXXXXX)
    chmod 0755 "$dir"
    [ "$(id -u)" -eq 0 ] && chown postgres:postgres "$dir"
    user=$([ "$(id -u)" -eq 0 ] && echo postgres || id -un)
    as_owner "$bin/initdb" -D "$dir/data" --auth=trust --username="$user" --encoding=UTF8 --locale=C >"$dir/initdb.log" 2>&1 || {
        cat "$dir/initdb.log" >&2; exit 1; }
    # Replication slots and WAL senders for the hot-standby test (pg_basebackup over the socket).
    cat >>"$dir/data/postgresql.conf" <<CONF
listen_addresses = ''
unix_socket_directories = '$dir'
wal_level = replica
max_wal_senders = 4
fsync = on
CONF
    echo "local replication all trust" >>"$dir/data/pg_hba.conf"
    as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start >/dev/null || { cat "$dir/server.log" >&2; exit 1; }
    as_owner "$bin/createdb" -h "$dir" -U "$user" ledger_test
    echo "export LEDGER_TEST_PGDIR='$dir'"
    echo "export LEDGER_TEST_PGUSER='$user'"
    echo "export LEDGER_TEST_DATABASE_URL='postgres://$user@localhost/ledger_test?host=$dir'"
    ;;
pause)
    dir=${2:?usage: pg.sh pause DIR}
    as_owner "$bin/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null
    ;;
freeze | thaw)
    dir=${2:?usage: pg.sh freeze|thaw DIR}
    pid=$(head -n 1 "$dir/data/postmaster.pid")
    signal=STOP
    [ "$1" = thaw ] && signal=CONT
    kill -s "$signal" "$pid" $(pgrep -P "$pid" || true)
    ;;
resume)
    dir=${2:?usage: pg.sh resume DIR}
    as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start >/dev/null || { cat "$dir/server.log" >&2; exit 1; }
    ;;
standby)
    dir=${2:?usage: pg.sh standby DIR}
    user=$([ "$(id -u)" -eq 0 ] && echo postgres || id -un)
    as_owner "$bin/pg_basebackup" -h "$dir" -U "$user" -D "$dir/standby" -R -X stream --checkpoint=fast >"$dir/basebackup.log" 2>&1 || { cat "$dir/basebackup.log" >&2; exit 1; }
    echo "port = 5433" >>"$dir/standby/postgresql.conf"
    echo "hot_standby = on" >>"$dir/standby/postgresql.conf"
    as_owner "$bin/pg_ctl" -D "$dir/standby" -l "$dir/standby.log" -w -t 60 start >/dev/null || { cat "$dir/standby.log" >&2; exit 1; }
    echo "postgres://$user@localhost/ledger_test?host=$dir&port=5433"
    ;;
stop)
    dir=${2:?usage: pg.sh stop DIR}
    case "$dir" in /tmp/ledger-pg.*) ;; *) echo "pg.sh: refusing to remove $dir" >&2; exit 2 ;; esac
    for data in "$dir"/data "$dir"/standby*; do
        [ -f "$data/postmaster.pid" ] && as_owner "$bin/pg_ctl" -D "$data" -m immediate -w stop >/dev/null 2>&1 || true
    done
    rm -rf "$dir"
    ;;
*)
    echo "usage: pg.sh start | stop DIR" >&2
    exit 2
    ;;
esac
