#!/usr/bin/env bash
# Benchmark the release binary with wrk (`make bench`); see BENCHMARKS.md.
#
#   scripts/bench.sh
#
# Scenarios, each on a fresh service process:
#   memory-200, memory-20k    in-memory store seeded with 200 / 20,000 keys (1% need_refresh):
#                             GET /health, GET /webhook/openhands/status
#   memory-20k-2nr            control: 20,000 keys of which only 2 need_refresh (as many as in
#                             memory-200), GET /webhook/openhands/status
#   mongo-200, mongo-20k      the same pools in MongoDB: GET /webhook/openhands/status;
#                             on mongo-20k, last, POST /webhook/openhands/keys with a distinct
#                             apiKey per request at 1 and at 16 connections
# It prints a markdown table (req/s, p50, p99, non-2xx, CPU, peak RSS) and the ratios.
#
# MongoDB: scripts/with-test-mongodb.sh provides the server (TEST_MONGODB_URI when set, else
# SecantusDB in memory). The databases webhook_bench_200 and webhook_bench_20k are dropped and
# reloaded. All traffic goes to 127.0.0.1.
#
# Knobs: BENCH_DURATION (10s), BENCH_WARMUP (2s), BENCH_THREADS (2), BENCH_CONNECTIONS (32),
# BENCH_MONGO_CONNECTIONS (4, for GET status on MongoDB), BENCH_POST_CONNECTIONS (16),
# BENCH_TIMEOUT (10s: wrk counts slower answers as socket errors).
#
# On MongoDB the service runs with a 30 s operation timeout instead of 3 s, and GET status with
# fewer connections: SecantusDB is a single-threaded Python server that needs about a second of
# CPU per status request at 20,000 keys, so the defaults would measure its queue, not the
# service (see BENCHMARKS.md).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

duration="${BENCH_DURATION:-10s}"
warmup="${BENCH_WARMUP:-2s}"
threads="${BENCH_THREADS:-2}"
connections="${BENCH_CONNECTIONS:-32}"
post_connections="${BENCH_POST_CONNECTIONS:-16}"
mongo_connections="${BENCH_MONGO_CONNECTIONS:-4}"
timeout="${BENCH_TIMEOUT:-10s}"

bin="$root/target/release/webhook-api"
work="$root/target/bench"
venv_python="$root/target/test-mongodb/venv/bin/python"
lua="$root/scripts/bench/wrk.lua"
seed="$root/scripts/bench/seed.py"
secret="bench-secret-0123456789abcdef0123456789"

log() { echo "bench: $*" >&2; }
die() {
    log "$*"
    exit 1
}

ensure_wrk() {
    command -v wrk >/dev/null 2>&1 && return 0
    if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
        log "wrk is missing; installing it with apt-get"
        apt-get install -y wrk >&2 || { apt-get update >&2 && apt-get install -y wrk >&2; }
    else
        die "wrk is missing; install it (Debian/Ubuntu: sudo apt-get install wrk) and run again"
    fi
}

# ---------------------------------------------------------------------------------------------
# Outer run: tools, release build, then this script again with a MongoDB server.
if [ "${1:-}" != "--inner" ]; then
    ensure_wrk
    log "building the release binary"
    cargo build --release --bin webhook-api
    exec "$root/scripts/with-test-mongodb.sh" "$0" --inner
fi

# ---------------------------------------------------------------------------------------------
# Inner run: TEST_MONGODB_URI is set by scripts/with-test-mongodb.sh.
if [ -z "${TEST_MONGODB_URI:-}" ]; then
    die "no TEST_MONGODB_URI (with Docker running, scripts/with-test-mongodb.sh leaves MongoDB to
the Rust tests); set TEST_MONGODB_URI=mongodb://127.0.0.1:27017/ to a server and run again"
fi
[ -x "$venv_python" ] || die "no $venv_python (scripts/with-test-mongodb.sh installs it)"
mkdir -p "$work"

clock_ticks="$(getconf CLK_TCK)"
service_pid=""
db_pid=""
rows=()
declare -A rps

# shellcheck source=scripts/stop-process.sh
. "$root/scripts/stop-process.sh"
# shellcheck disable=SC2317  # called from the EXIT trap
stop_service() {
    [ -n "$service_pid" ] || return 0
    stop_process "$service_pid"
    service_pid=""
}
trap stop_service EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

free_port() {
    "$venv_python" -c \
        'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# CPU seconds (user + system) a process has used so far, in clock ticks; empty if unknown.
cpu_ticks() {
    [ -n "$1" ] && [ -r "/proc/$1/stat" ] || return 0
    # Fields after "(comm) ": state is 1st, utime 12th, stime 13th.
    sed 's/.*) //' "/proc/$1/stat" | awk '{ print $12 + $13 }'
}

peak_rss_mib() {
    awk '/^VmHWM:/ { printf "%.1f", $2 / 1024 }' "/proc/$service_pid/status"
}

# Wait (up to 60 s) until the MongoDB server has finished the work a run left queued: requests
# wrk gave up on still run there, and would slow down the next run.
wait_db_idle() {
    [ -n "$db_pid" ] || return 0
    local before after deadline=$((SECONDS + 60))
    while [ "$SECONDS" -lt "$deadline" ]; do
        before="$(cpu_ticks "$db_pid")"
        sleep 0.5
        after="$(cpu_ticks "$db_pid")"
        [ -n "$after" ] && [ $((after - before)) -le $((clock_ticks / 20)) ] && return 0
    done
    log "the MongoDB server is still busy after 60 s; measuring anyway"
}

# The MongoDB server's pid when it listens on this machine (for its CPU use), else empty.
find_db_pid() {
    local port
    port="$(sed -E 's|^mongodb://[^/]*:([0-9]+).*|\1|' <<<"$TEST_MONGODB_URI")"
    [[ "$port" =~ ^[0-9]+$ ]] || return 0
    ss -Hltnp "sport = :$port" 2>/dev/null | grep -o 'pid=[0-9]*' | head -n 1 | cut -d= -f2 || true
}

# start_service NAME VAR=VALUE...: start the binary with these settings on a free port.
start_service() {
    local name="$1"
    shift
    port="$(free_port)"
    env -u MONGODB_URI -u MONGODB_DB_NAME -u APP__STORE__SEED_FILE \
        OPENHANDS_WEBHOOK_SECRET="$secret" \
        APP__SERVER__HOST=127.0.0.1 \
        APP__SERVER__PORT="$port" \
        APP__SERVER__SHUTDOWN_TIMEOUT_SECS=2 \
        APP__RATE_LIMIT__REQUESTS_PER_MINUTE=0 \
        APP__RATE_LIMIT__AUTH_FAILURES_PER_MINUTE=0 \
        RUST_LOG=warn,webhook_api::store=info \
        "$@" "$bin" >"$work/service-$name.log" 2>&1 &
    service_pid=$!
    base="http://127.0.0.1:$port"
    # Start-up includes creating the indexes on MongoDB; allow for a slow server.
    local deadline=$((SECONDS + 120))
    until curl -fsS -o /dev/null "$base/health" 2>/dev/null; do
        if ! kill -0 "$service_pid" 2>/dev/null; then
            tail -n 20 "$work/service-$name.log" >&2
            die "the service ($name) exited during start-up"
        fi
        [ "$SECONDS" -lt "$deadline" ] || die "the service ($name) did not answer /health in 120 s"
        sleep 0.2
    done
}

# On MongoDB the service creates its indexes in the background after it starts listening.
wait_for_indexes() {
    local deadline=$((SECONDS + 180))
    until grep -q "MongoDB indexes are in place" "$work/service-$1.log"; do
        [ "$SECONDS" -lt "$deadline" ] || die "the service ($1) did not create its indexes in 180 s"
        sleep 0.5
    done
}

# The status webhook must answer 200 with the expected number of need_refresh keys.
check_status() {
    local expected="$1" body
    body="$(curl -fsS -H "X-Webhook-Secret: $secret" "$base/webhook/openhands/status")" ||
        die "GET /webhook/openhands/status failed"
    grep -q "\"count\":$expected," <<<"$body" ||
        die "status answered an unexpected count (want $expected): ${body:0:200}"
}

# measure SCENARIO LABEL CONNECTIONS AUTH PATH [script args...]: warm up, run wrk, record a row.
# AUTH is "secret" (send X-Webhook-Secret) or "none".
measure() {
    local scenario="$1" label="$2" conns="$3" auth="$4" path="$5"
    shift 5
    local wrk_threads=$((conns < threads ? conns : threads))
    local wrk_args=(-t "$wrk_threads" -c "$conns" --timeout "$timeout" -s "$lua")
    [ "$auth" = secret ] && wrk_args+=(-H "X-Webhook-Secret: $secret")
    local svc_before db_before svc_after db_after result out
    wrk "${wrk_args[@]}" -d "$warmup" "$base$path" -- "$@" >/dev/null
    wait_db_idle
    svc_before="$(cpu_ticks "$service_pid")"
    db_before="$(cpu_ticks "$db_pid")"
    out="$(wrk "${wrk_args[@]}" -d "$duration" "$base$path" -- "$@")"
    svc_after="$(cpu_ticks "$service_pid")"
    db_after="$(cpu_ticks "$db_pid")"
    result="$(grep '^RESULT ' <<<"$out")" || die "no RESULT line from wrk: $out"
    # RESULT requests=.. seconds=.. rps=.. p50_ms=.. p99_ms=.. non2xx=.. socket_errors=..
    local requests seconds rate p50 p99 non2xx socket_errors
    read -r requests seconds rate p50 p99 non2xx socket_errors < <(
        sed -E 's/[a-z0-9_]+=//g; s/^RESULT //' <<<"$result"
    )
    local svc_cpu="n/a" db_cpu="n/a" db_ms="n/a"
    [ -n "$svc_before" ] && svc_cpu="$(awk -v a="$svc_before" -v b="$svc_after" -v t="$clock_ticks" \
        -v s="$seconds" 'BEGIN { printf "%.0f%%", 100 * (b - a) / t / s }')"
    [ -n "$db_before" ] && [ -n "$db_after" ] && db_cpu="$(awk -v a="$db_before" -v b="$db_after" \
        -v t="$clock_ticks" -v s="$seconds" 'BEGIN { printf "%.0f%%", 100 * (b - a) / t / s }')" &&
        db_ms="$(awk -v a="$db_before" -v b="$db_after" -v t="$clock_ticks" -v n="$requests" \
            'BEGIN { if (n > 0) printf "%.1f", 1000 * (b - a) / t / n; else print "n/a" }')"
    rps["$scenario $label"]="$rate"
    rows+=("| $scenario | $label | $rate | $p50 | $p99 | $non2xx | $socket_errors | $svc_cpu | $db_cpu | $db_ms | $(peak_rss_mib) |")
    log "$scenario $label: $rate req/s, p50 $p50 ms, p99 $p99 ms, non-2xx $non2xx ($requests requests)"
}

# --- in-memory store ---------------------------------------------------------------------------
for keys in 200 20000; do
    name="memory-$((keys / 1000))k"
    [ "$keys" -lt 1000 ] && name="memory-$keys"
    log "$name: generating the seed and starting the service"
    "$venv_python" "$seed" json "$keys" "$work/seed-$keys.json"
    start_service "$name" APP__STORE__SEED_FILE="$work/seed-$keys.json"
    check_status $((keys / 100))
    measure "$name" "GET /health" "$connections" none /health
    measure "$name" "GET status" "$connections" secret /webhook/openhands/status
    stop_service
done
log "memory-20k-2nr: 20,000 keys, 2 of them need_refresh (control)"
"$venv_python" "$seed" json 20000 "$work/seed-20000-2nr.json" 2
start_service memory-20k-2nr APP__STORE__SEED_FILE="$work/seed-20000-2nr.json"
check_status 2
measure memory-20k-2nr "GET status" "$connections" secret /webhook/openhands/status
stop_service

# --- MongoDB -----------------------------------------------------------------------------------
db_pid="$(find_db_pid)"
for keys in 200 20000; do
    name="mongo-$((keys / 1000))k"
    [ "$keys" -lt 1000 ] && name="mongo-$keys"
    db_name="webhook_bench_$keys"
    log "$name: loading $keys keys into $db_name and starting the service"
    "$venv_python" "$seed" mongo "$keys" "$TEST_MONGODB_URI" "$db_name"
    start_service "$name" MONGODB_URI="$TEST_MONGODB_URI" MONGODB_DB_NAME="$db_name" \
        APP__MONGO__OPERATION_TIMEOUT_MS=30000
    wait_for_indexes "$name"
    check_status $((keys / 100))
    measure "$name" "GET status (c=$mongo_connections)" "$mongo_connections" secret \
        /webhook/openhands/status
    if [ "$keys" -eq 20000 ]; then
        # Last: every request adds a key (distinct apiKey per request). One connection first:
        # the latency of a POST without waiting behind others.
        wait_db_idle
        measure "$name" "POST keys (c=1)" 1 secret /webhook/openhands/keys post
        wait_db_idle
        measure "$name" "POST keys (c=$post_connections)" "$post_connections" secret \
            /webhook/openhands/keys post
        created="$("$venv_python" -c 'import sys, pymongo
print(pymongo.MongoClient(sys.argv[1])[sys.argv[2]].openhands_keys.count_documents({}) - 20000)' \
            "$TEST_MONGODB_URI" "$db_name")"
        log "$name: the POST runs (warm-up included) created $created keys"
    fi
    stop_service
done

# --- report ------------------------------------------------------------------------------------
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }
{
    echo
    echo "wrk: $threads threads, $connections connections for GETs ($mongo_connections on MongoDB)," \
        "$post_connections for POST," \
        "$duration per run after a $warmup warm-up, $timeout timeout. CPU = CPU time / wall time" \
        "(100% = one core); db ms/req = the MongoDB server's CPU time per answered request."
    echo
    echo "| scenario | request | req/s | p50 ms | p99 ms | non-2xx | socket errors | service CPU | db CPU | db ms/req | peak RSS MiB |"
    echo "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    printf '%s\n' "${rows[@]}"
    echo
    echo "- status / health (in-memory, 20k keys): $(ratio "${rps[memory-20k GET status]}" "${rps[memory-20k GET /health]}")"
    echo "- status 20k / 200 throughput (in-memory): $(ratio "${rps[memory-20k GET status]}" "${rps[memory-200 GET status]}")"
    echo "- status 20k (2 need_refresh) / 200 throughput (in-memory): $(ratio "${rps[memory-20k-2nr GET status]}" "${rps[memory-200 GET status]}")"
    echo "- status 20k / 200 throughput (MongoDB): $(ratio "${rps[mongo-20k GET status (c=$mongo_connections)]}" \
        "${rps[mongo-200 GET status (c=$mongo_connections)]}")"
} | tee "$work/results.md"
log "table saved to target/bench/results.md"
