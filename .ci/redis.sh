#!/usr/bin/env bash
# Start (or stop) a throw-away Redis server for the Celery tests and the fan-out benchmark.
#
#   eval "$(.ci/redis.sh start)"    # exports SYNCSTATE_TEST_REDIS_URL and SYNCSTATE_REDIS_DATA
#   .ci/redis.sh stop "$SYNCSTATE_REDIS_DATA"
#
# start: installs redis-server from the Debian packages when it is missing, starts it on
# 127.0.0.1 on a free port without persistence, with its pid file and log in a temporary
# directory, and prints `export` lines on stdout (progress goes to stderr). When
# SYNCSTATE_TEST_REDIS_URL is already set, it is used as is and nothing is started. With
# GITHUB_ENV set, the variables are appended there too.
set -euo pipefail

log() { echo "redis.sh: $*" >&2; }

start() {
    if [ -n "${SYNCSTATE_TEST_REDIS_URL:-}" ]; then
        log "using the existing server from SYNCSTATE_TEST_REDIS_URL"
        echo "export SYNCSTATE_TEST_REDIS_URL='${SYNCSTATE_TEST_REDIS_URL}'"
        return 0
    fi
    if ! command -v redis-server >/dev/null 2>&1; then
        log "redis-server is not installed; installing it with apt-get"
        export DEBIAN_FRONTEND=noninteractive
        apt-get install -y -q redis-server >&2 || { apt-get update -q >&2 && apt-get install -y -q redis-server >&2; }
    fi
    local data port
    data="$(mktemp -d "${TMPDIR:-/tmp}/syncstate-redis.XXXXXX")"
    port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
    redis-server --port "$port" --bind 127.0.0.1 --save "" --appendonly no --daemonize yes \
        --pidfile "$data/redis.pid" --logfile "$data/redis.log" --dir "$data" >&2
    for _ in $(seq 100); do
        if redis-cli -p "$port" ping >/dev/null 2>&1; then break; fi
        sleep 0.1
    done
    redis-cli -p "$port" ping >/dev/null || { cat "$data/redis.log" >&2; exit 1; }
    local url="redis://127.0.0.1:$port/0"
    log "server running on 127.0.0.1:$port (data in $data)"
    echo "export SYNCSTATE_TEST_REDIS_URL='$url'"
    echo "export SYNCSTATE_REDIS_DATA='$data'"
    if [ -n "${GITHUB_ENV:-}" ]; then
        { echo "SYNCSTATE_TEST_REDIS_URL=$url"; echo "SYNCSTATE_REDIS_DATA=$data"; } >>"$GITHUB_ENV"
    fi
}

stop() {
    local data="${1:-${SYNCSTATE_REDIS_DATA:-}}"
    if [ -z "$data" ] || [ ! -f "$data/redis.pid" ]; then
        log "no server data directory given; nothing to stop"
        return 0
    fi
    kill "$(cat "$data/redis.pid")" 2>/dev/null || true
    rm -rf "$data"
}

case "${1:-start}" in
    start) start ;;
    stop) stop "${2:-}" ;;
    *) echo "usage: $0 start | stop DATA_DIR" >&2; exit 2 ;;
esac
