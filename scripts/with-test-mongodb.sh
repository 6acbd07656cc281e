#!/usr/bin/env bash
# Run a command with a MongoDB-wire-compatible test server available.
#
#   scripts/with-test-mongodb.sh cargo test --workspace
#
# SecantusDB (pure-Python, MongoDB wire protocol) is installed from PyPI into
# target/test-mongodb/venv and TEST_MONGODB_SERVER_CMD set to its server, unless
# already set. Then:
# - TEST_MONGODB_URI already set: run the command against that server.
# - A working Docker daemon: run the command as is; the Rust tests start
#   MongoDB themselves through testcontainers.
# - Otherwise: start SecantusDB in memory on a free port, export
#   TEST_MONGODB_URI, run the command, then stop the server.
#
# TEST_MONGODB_SERVER_CMD lets the outage tests start (and kill) private
# instances of their own:
#   $TEST_MONGODB_SERVER_CMD --host 127.0.0.1 --port <port> --storage-path :memory:
set -euo pipefail

SECANTUS_VERSION=0.7.0b3
START_TIMEOUT_SECS=30

if [ "$#" -eq 0 ]; then
    echo "usage: $0 <command> [args...]" >&2
    exit 2
fi

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dir="$root/target/test-mongodb"
venv="$dir/venv"
log="$dir/secantusd.log"
mkdir -p "$dir"

# Reuse the venv when it already has the pinned version; else (re)build it.
installed_version() {
    "$venv/bin/python" -c \
        'import importlib.metadata as m; print(m.version("secantusdb"))' 2>/dev/null
}
install_secantus() {
    [ "$(installed_version || true)" = "$SECANTUS_VERSION" ] && return 0
    echo "with-test-mongodb: installing secantusdb==$SECANTUS_VERSION into $venv" >&2
    rm -rf "$venv"
    if ! { python3 -m venv "$venv" &&
        "$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
            "secantusdb==$SECANTUS_VERSION"; } >&2; then
        rm -rf "$venv"
        return 1
    fi
}
how_to_provide() {
    cat >&2 <<EOF
with-test-mongodb: could not install secantusdb==$SECANTUS_VERSION from PyPI.
Provide a MongoDB server for the tests in one of these ways:
  - set TEST_MONGODB_URI, e.g. TEST_MONGODB_URI=mongodb://127.0.0.1:27017/
  - or start a Docker daemon, so the tests use testcontainers.
The outage tests also need TEST_MONGODB_SERVER_CMD: a MongoDB-wire server command that
they start and stop themselves (taking --host, --port and --storage-path :memory:).
EOF
}
docker_answers() {
    # `docker info` fails fast (about 0.1 s) when there is no daemon; the timeout covers a
    # daemon that hangs.
    command -v docker >/dev/null 2>&1 && timeout 10 docker info >/dev/null 2>&1
}

# The outage tests start and stop private servers of their own, whichever server the other
# tests use, so the server command is provided on every path.
if [ -z "${TEST_MONGODB_SERVER_CMD:-}" ]; then
    if install_secantus; then
        export TEST_MONGODB_SERVER_CMD="$venv/bin/secantusd-py"
    elif [ -z "${TEST_MONGODB_URI:-}" ] && ! docker_answers; then
        how_to_provide
        exit 1
    else
        echo "with-test-mongodb: no TEST_MONGODB_SERVER_CMD; the outage tests will fail" >&2
    fi
fi

if [ -n "${TEST_MONGODB_URI:-}" ] || docker_answers; then
    exec "$@"
fi
server="$venv/bin/secantusd-py"

# Ask the kernel for a free port (tiny race until the server binds it; the
# readiness check below catches a lost race).
port="$("$venv/bin/python" -c \
    'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"

# ':memory:' storage lives in a temp dir; keep it under target/ so a server
# that dies hard leaves nothing behind in /tmp.
tmp="$dir/tmp.$$"
mkdir -p "$tmp"
TMPDIR="$tmp" "$server" --host 127.0.0.1 --port "$port" --storage-path :memory: \
    >"$log" 2>&1 &
pid=$!

# shellcheck source=scripts/stop-process.sh
. "$root/scripts/stop-process.sh"
# shellcheck disable=SC2317  # called from the EXIT trap
stop_server() {
    stop_process "$pid"
    rm -rf "$tmp"
}
trap stop_server EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

fail_start() {
    echo "with-test-mongodb: SecantusDB did not start on 127.0.0.1:$port: $1" >&2
    echo "--- last lines of $log:" >&2
    tail -n 30 "$log" >&2 || true
    exit 1
}

# Ready = our process is alive, logged that it listens on our port (so a
# foreign process that grabbed the port doesn't count), and accepts a connection.
deadline=$((SECONDS + START_TIMEOUT_SECS))
until grep -q "listening on 127.0.0.1:$port" "$log" &&
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do
    kill -0 "$pid" 2>/dev/null || fail_start "the server exited"
    [ "$SECONDS" -lt "$deadline" ] || fail_start "not ready after ${START_TIMEOUT_SECS}s"
    sleep 0.1
done
kill -0 "$pid" 2>/dev/null || fail_start "the server exited"

# SecantusDB advertises itself as the primary of a one-node replica set named
# "secantus" (hosts = ["127.0.0.1:<port>"]); the driver discovers that from a
# plain URI, so no directConnection/replicaSet option is needed and
# transactions work.
export TEST_MONGODB_URI="mongodb://127.0.0.1:$port/"
echo "with-test-mongodb: SecantusDB $SECANTUS_VERSION at $TEST_MONGODB_URI (log: $log)" >&2

# Not exec: the EXIT trap must stop the server afterwards.
rc=0
"$@" || rc=$?
exit "$rc"
