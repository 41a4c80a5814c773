#!/usr/bin/env bash
# Start (or stop) a throw-away PostgreSQL server for the test suite.
#
#   eval "$(.ci/postgres.sh start)"    # exports SYNCSTATE_TEST_PG_DSN and SYNCSTATE_PG_DATA
#   .ci/postgres.sh stop "$SYNCSTATE_PG_DATA"
#
# start: installs PostgreSQL from the Debian packages when it is missing, runs initdb in a
# temporary directory, starts a server on 127.0.0.1 on a free port (as the `postgres` user
# when run as root), creates the database `syncstate_test` and prints `export` lines on
# stdout (progress goes to stderr). When SYNCSTATE_TEST_PG_DSN is already set, it is used
# as is and nothing is started. With GITHUB_ENV set, the variables are appended there too.
set -euo pipefail

log() { echo "postgres.sh: $*" >&2; }

find_bindir() {
    local dir
    if command -v pg_config >/dev/null 2>&1 && [ -x "$(pg_config --bindir)/initdb" ]; then
        pg_config --bindir
        return 0
    fi
    for dir in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
        if [ -x "$dir/initdb" ] && [ -x "$dir/pg_ctl" ]; then
            echo "$dir"
            return 0
        fi
    done
    return 1
}

as_owner() {
    # run a command as the unprivileged owner of the data directory
    if [ "$(id -u)" = 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

start() {
    if [ -n "${SYNCSTATE_TEST_PG_DSN:-}" ]; then
        log "using the existing server from SYNCSTATE_TEST_PG_DSN"
        echo "export SYNCSTATE_TEST_PG_DSN='${SYNCSTATE_TEST_PG_DSN}'"
        return 0
    fi
    local bindir
    if ! bindir="$(find_bindir)"; then
        log "PostgreSQL is not installed; installing it with apt-get"
        export DEBIAN_FRONTEND=noninteractive
        apt-get install -y -q postgresql >&2 || { apt-get update -q >&2 && apt-get install -y -q postgresql >&2; }
        bindir="$(find_bindir)"
    fi
    log "PostgreSQL binaries in $bindir"
    local data port user=syncstate
    data="$(mktemp -d "${TMPDIR:-/tmp}/syncstate-pg.XXXXXX")"
    if [ "$(id -u)" = 0 ]; then
        id postgres >/dev/null 2>&1 || useradd --system --home-dir "$data" postgres
        chown postgres "$data"
    fi
    chmod 700 "$data"
    port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
    as_owner "$bindir/initdb" -D "$data/db" -U "$user" --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null \
        || as_owner "$bindir/initdb" -D "$data/db" -U "$user" --auth=trust -E UTF8 --locale=C >/dev/null
    # a test server: durability off, so the suite is fast
    as_owner "$bindir/pg_ctl" -D "$data/db" -l "$data/server.log" -w -t 60 start -o \
        "-p $port -k $data -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=100" >&2 \
        || { cat "$data/server.log" >&2; exit 1; }
    as_owner "$bindir/createdb" -h 127.0.0.1 -p "$port" -U "$user" syncstate_test
    local dsn="postgresql://$user@127.0.0.1:$port/syncstate_test"
    log "server running on 127.0.0.1:$port (data in $data)"
    echo "export SYNCSTATE_TEST_PG_DSN='$dsn'"
    echo "export SYNCSTATE_PG_DATA='$data'"
    if [ -n "${GITHUB_ENV:-}" ]; then
        { echo "SYNCSTATE_TEST_PG_DSN=$dsn"; echo "SYNCSTATE_PG_DATA=$data"; } >>"$GITHUB_ENV"
    fi
}

stop() {
    local data="${1:-${SYNCSTATE_PG_DATA:-}}"
    if [ -z "$data" ] || [ ! -d "$data/db" ]; then
        log "no server data directory given; nothing to stop"
        return 0
    fi
    local bindir
    bindir="$(find_bindir)"
    as_owner "$bindir/pg_ctl" -D "$data/db" -m fast -w stop >&2 || true
    rm -rf "$data"
}

case "${1:-start}" in
    start) start ;;
    stop) stop "${2:-}" ;;
    *) echo "usage: $0 start | stop DATA_DIR" >&2; exit 2 ;;
esac
