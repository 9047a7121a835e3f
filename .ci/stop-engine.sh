#!/usr/bin/env bash
# Stop the daemons started by .ci/provision-engine.sh (dockerd, containerd, registry),
# cleanly: SIGTERM, wait, SIGKILL only as a last resort. Only processes recorded in
# /run/buildgraph-engine/*.pid are touched, and only if the pid still names the
# expected program (pids get reused).
#
# Usage: .ci/stop-engine.sh [dockerd|containerd|registry ...]   (default: all)
set -euo pipefail

RUN_DIR=/run/buildgraph-engine

# name -> program name expected in /proc/PID/comm
declare -A COMM=([dockerd]=dockerd [containerd]=containerd [registry]=docker-registry)

stop_one() {
    local name=$1 pidfile="$RUN_DIR/$1.pid" pid comm i
    if [[ ! -s $pidfile ]]; then
        echo "$name: not running (no $pidfile)"
        return 0
    fi
    pid=$(<"$pidfile")
    comm=$(cat "/proc/$pid/comm" 2>/dev/null || true)
    if [[ $comm != "${COMM[$name]}" ]]; then
        echo "$name: not running (stale pid $pid)"
        rm -f "$pidfile"
        return 0
    fi
    kill -TERM "$pid"
    # dockerd may take a while to shut down its builder and containerd clients.
    for ((i = 0; i < 300; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
        echo "$name: still alive after 30s, sending SIGKILL" >&2
        kill -KILL "$pid" 2>/dev/null || true
        sleep 0.5
    fi
    rm -f "$pidfile"
    echo "$name: stopped (pid $pid)"
}

targets=("$@")
# Order matters: dockerd is a client of containerd, so stop it first.
[[ ${#targets[@]} -gt 0 ]] || targets=(dockerd containerd registry)
for t in "${targets[@]}"; do
    [[ -n ${COMM[$t]:-} ]] || { echo "unknown daemon: $t" >&2; exit 2; }
    stop_one "$t"
done
