# shellcheck shell=bash
# Sourced by the scripts that start servers: stop_process PID asks the process to stop
# (SIGTERM), gives it 5 seconds, then kills it, and reaps it.
stop_process() {
    local pid=$1
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 50); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}
