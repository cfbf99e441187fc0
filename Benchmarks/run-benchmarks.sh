#!/usr/bin/env bash
# Runs the switchboard-bench scenarios against a freshly started release server.
#
#   Benchmarks/run-benchmarks.sh [BIN_DIR]     (make bench builds first, then calls this)
#
# The server runs on core 0 and the generator on core 1 (taskset), so neither steals
# the other's CPU and each one's CPU time is its own. Results go to stdout and, one
# JSON line per scenario, to $BENCH_RESULTS (default BIN_DIR/bench-results.jsonl).
# SERVER_CPU / BENCH_CPU choose other cores.
set -euo pipefail

BIN_DIR=${1:-.build/release}
SERVER_CPU=${SERVER_CPU:-0}
BENCH_CPU=${BENCH_CPU:-1}
RESULTS=${BENCH_RESULTS:-$BIN_DIR/bench-results.jsonl}

# Every connection is a descriptor on both sides; ask for 65536, settle for the hard limit.
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"

if ! command -v taskset >/dev/null 2>&1; then
    echo "bench: taskset not found; install util-linux" >&2
    exit 1
fi

work=$(mktemp -d)
server_pid=""
cleanup() {
    if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
        kill "$server_pid"
        wait "$server_pid" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT

cat >"$work/switchboard.yaml" <<'YAML'
server:
  host: 127.0.0.1
  port: 0
backbone:
  kind: in-process
apps:
  - id: "1"
    key: app-key
    secret: app-secret
    client_events: true
YAML

taskset -c "$SERVER_CPU" "$BIN_DIR/switchboard" serve --config "$work/switchboard.yaml" --log-level warning \
    >"$work/server.out" 2>"$work/server.err" &
server_pid=$!

port=""
for _ in $(seq 1 100); do
    port=$(sed -n 's/^switchboard listening on .*:\([0-9][0-9]*\)$/\1/p' "$work/server.out" | head -n 1)
    [ -n "$port" ] && break
    if ! kill -0 "$server_pid" 2>/dev/null; then
        echo "bench: server exited:" >&2
        cat "$work/server.err" >&2
        exit 1
    fi
    sleep 0.1
done
if [ -z "$port" ]; then
    echo "bench: server did not report its port within 10 s" >&2
    exit 1
fi

echo "bench: server pid $server_pid on 127.0.0.1:$port (cpu $SERVER_CPU), generator on cpu $BENCH_CPU"
echo "bench: $(nproc) cpus, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)"
# Other work on the machine competes for the pinned cores; the load average says how much.
echo "bench: load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
: >"$RESULTS"

bench() {
    echo
    echo "\$ switchboard-bench $*"
    taskset -c "$BENCH_CPU" "$BIN_DIR/switchboard-bench" "$@" \
        --url "ws://127.0.0.1:$port" --server-pid "$server_pid" | tee "$work/last.txt"
    grep '^{' "$work/last.txt" >>"$RESULTS"
}

bench idle --connections 1000
bench idle --connections 5000
bench fanout --connections 1000 --rate 50 --duration 10
bench fanout --connections 1000 --rate 0 --duration 10
# The limits issue's case: one reader that never reads among 1,000 at 50 events/s;
# healthy p99 against the same run without it.
bench slow-consumer --connections 1000 --rate 50 --duration 10 --compare-baseline
# To see the slow socket shed, it must receive enough to fill the server's kernel send
# buffer (about 2.8 MB on loopback with the default tcp_wmem) before the server's own
# 1 MiB outbound budget even starts to count: 8 KiB events at 100/s give it 800 KB/s.
# 250 healthy subscribers keep the total (200 MB/s) within what one generator core reads.
bench slow-consumer --connections 250 --rate 100 --size 8192 --duration 15 --compare-baseline
bench channels --channels 1000 --rate 5000 --duration 10

echo
echo "bench: load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "bench: server RSS at end: $(sed -n 's/^VmRSS:[[:space:]]*//p' "/proc/$server_pid/status")"
echo "bench: JSON results in $RESULTS"
