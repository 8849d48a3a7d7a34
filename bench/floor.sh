#!/usr/bin/env bash
# floor.sh - how much of a request's server CPU is the kernel's socket work.
#
# Runs redis-server, viator-server and examples/floor_server (a responder
# that parses requests and answers a null, with one read and one write per
# ready connection) one after the other under the same redis-benchmark load,
# and prints each one's server CPU per request (utime+stime from /proc) and
# its ratio to redis-server's. The floor server's ratio is the lowest any
# server built on the same socket calls can reach on this machine.
#
# Usage: bench/floor.sh [--rounds N] [--requests N] [--tests get,set] [--pipeline "1 16"]
# --requests is the count at -P 1 (default 300000); pipelined runs send ten
# times as many, so that /proc's 10 ms CPU ticks stay fine enough.
# Needs redis-server, redis-benchmark and redis-cli (Debian: redis-server,
# redis-tools), taskset, and release builds:
#   cargo build --release --bin viator-server
#   cargo build --release -p viator-examples --example floor_server
# Servers run on CPU 0 and redis-benchmark on CPU 1, as in compare.sh.
set -u -o pipefail

ROUNDS=3
REQUESTS=300000
TESTS=get
PIPELINES="1 16"
while [ $# -gt 0 ]; do
    case "$1" in
        --rounds) ROUNDS=$2; shift 2 ;;
        --requests) REQUESTS=$2; shift 2 ;;
        --tests) TESTS=$2; shift 2 ;;
        --pipeline) PIPELINES=$2; shift 2 ;;
        *) echo "floor.sh: unknown option $1" >&2; exit 1 ;;
    esac
done

ROOT=$(cd "$(dirname "$0")/.." && pwd)
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
VIATOR=$TARGET/release/viator-server
FLOOR=$TARGET/release/examples/floor_server
for b in "$VIATOR" "$FLOOR"; do
    [ -x "$b" ] || { echo "floor.sh: $b is not built" >&2; exit 1; }
done

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# run NAME PIPELINE TEST: prints "NAME P TEST us_per_request requests_per_second"
run() {
    local name=$1 p=$2 t=$3 port pid n=$REQUESTS
    [ "$p" -gt 1 ] && n=$((REQUESTS * 10))
    port=$(free_port)
    case "$name" in
        redis) taskset -c 0 redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no >/dev/null 2>&1 & ;;
        viator) taskset -c 0 "$VIATOR" --port "$port" --bind 127.0.0.1 --save '' --appendonly no >/dev/null 2>&1 & ;;
        floor) taskset -c 0 "$FLOOR" "$port" >/dev/null 2>&1 & ;;
    esac
    pid=$!
    for _ in $(seq 100); do
        redis-cli -p "$port" ping >/dev/null 2>&1 && break
        sleep 0.05
    done
    local before after rps
    before=$(awk '{print $14 + $15}' "/proc/$pid/stat")
    rps=$(taskset -c 1 redis-benchmark -p "$port" -n "$n" -c 50 -P "$p" -t "$t" --csv 2>/dev/null |
        awk -F, 'NR == 2 { gsub(/"/, "", $2); print $2 }')
    after=$(awk '{print $14 + $15}' "/proc/$pid/stat")
    kill "$pid"
    wait "$pid" 2>/dev/null
    local ticks
    ticks=$(getconf CLK_TCK)
    python3 -c "print('$name $p $t %.3f $rps' % (($after - $before) * 1e6 / $ticks / $n))"
}

results=$(mktemp)
trap 'rm -f "$results"' EXIT
for t in ${TESTS//,/ }; do
    for p in $PIPELINES; do
        for r in $(seq "$ROUNDS"); do
            # The order turns every round so that no server always goes first.
            case $((r % 3)) in
                1) order="redis viator floor" ;;
                2) order="viator floor redis" ;;
                0) order="floor redis viator" ;;
            esac
            for name in $order; do
                run "$name" "$p" "$t" >>"$results"
            done
        done
    done
done

python3 - "$results" <<'PY'
import statistics, sys
rows = {}
for line in open(sys.argv[1]):
    name, p, t, us, rps = line.split()
    rows.setdefault((t, p), {}).setdefault(name, []).append((float(us), float(rps or 0)))
print("%-6s %3s %-7s %10s %10s %9s" % ("test", "P", "server", "us/req", "req/s", "cpu_rat"))
for (t, p), by in rows.items():
    ref = statistics.median(u for u, _ in by["redis"])
    for name in ("redis", "viator", "floor"):
        us = statistics.median(u for u, _ in by[name])
        rps = statistics.median(r for _, r in by[name])
        print("%-6s %3s %-7s %10.3f %10.0f %9.3f" % (t, p, name, us, rps, us / ref))
print("us/req = server CPU microseconds per request, median of rounds; cpu_rat = server / redis-server")
PY
