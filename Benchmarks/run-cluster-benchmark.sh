#!/usr/bin/env bash
# Cross-node delivery: the same fan-out measured on one node and across two nodes
# joined by a local nats-server.
#
#   Benchmarks/run-cluster-benchmark.sh [BIN_DIR]     (make bench-cluster builds first)
#
# Subscribers connect to node B; events are published through node B's HTTP API
# (single node) and then through node A's (cross-node: A -> NATS -> B). Node B and
# the generator are pinned as in run-benchmarks.sh (cores 0 and 1); node A and
# nats-server share whatever is left, which on a 2-core machine is nothing: their
# CPU competes with B's and the generator's, so these numbers are an upper bound
# on what the NATS hop costs.
set -euo pipefail

BIN_DIR=${1:-.build/release}
SERVER_CPU=${SERVER_CPU:-0}
BENCH_CPU=${BENCH_CPU:-1}
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"

for tool in taskset nats-server; do
    command -v "$tool" >/dev/null 2>&1 || { echo "bench: $tool not found (make setup installs it)" >&2; exit 1; }
done

work=$(mktemp -d)
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT

nats_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
nats-server -a 127.0.0.1 -p "$nats_port" -js -sd "$work/jetstream" >"$work/nats.log" 2>&1 &
pids+=($!)

# start_node NAME [taskset cpu list]: starts a node; sets port_NAME and pid_NAME.
start_node() {
    local name=$1 cpus=${2:-}
    cat >"$work/$name.yaml" <<YAML
server: { host: 127.0.0.1, port: 0 }
backbone:
  kind: nats
  node_id: bench-$name
  nats: { urls: ["nats://127.0.0.1:$nats_port"] }
limits: { http_requests_per_second: 100000 }
apps:
  - { id: "1", key: app-key, secret: app-secret, client_events: true }
YAML
    if [ -n "$cpus" ]; then
        taskset -c "$cpus" "$BIN_DIR/switchboard" serve --config "$work/$name.yaml" --log-level warning \
            >"$work/$name.out" 2>"$work/$name.err" &
    else
        "$BIN_DIR/switchboard" serve --config "$work/$name.yaml" --log-level warning \
            >"$work/$name.out" 2>"$work/$name.err" &
    fi
    local pid=$!
    pids+=("$pid")
    local port=""
    for _ in $(seq 1 100); do
        port=$(sed -n 's/^switchboard listening on .*:\([0-9][0-9]*\)$/\1/p' "$work/$name.out" | head -n 1)
        [ -n "$port" ] && curl -sf "http://127.0.0.1:$port/ready" >/dev/null && break
        sleep 0.1
    done
    [ -n "$port" ] || { echo "bench: node $name did not start" >&2; cat "$work/$name.err" >&2; exit 1; }
    printf -v "port_$name" '%s' "$port"
    printf -v "pid_$name" '%s' "$pid"
}

start_node b "$SERVER_CPU"
start_node a
echo "bench: nats-server on $nats_port; node A (publishes) on $port_a, node B (subscribers, cpu $SERVER_CPU) on $port_b"
echo "bench: load average before: $(cut -d' ' -f1-3 /proc/loadavg)"

bench() {
    echo
    echo "\$ switchboard-bench $*"
    taskset -c "$BENCH_CPU" "$BIN_DIR/switchboard-bench" "$@" --url "ws://127.0.0.1:$port_b" --server-pid "$pid_b"
}

# The hop itself: with 10 subscribers the broadcast takes microseconds, so the
# difference between the two runs is what A -> NATS -> B adds.
bench fanout --connections 10 --rate 50 --duration 10
bench fanout --connections 10 --rate 50 --duration 10 --publish-url "ws://127.0.0.1:$port_a"
bench fanout --connections 1000 --rate 50 --duration 10
bench fanout --connections 1000 --rate 50 --duration 10 --publish-url "ws://127.0.0.1:$port_a"
bench fanout --connections 1000 --rate 0 --duration 10
bench fanout --connections 1000 --rate 0 --duration 10 --publish-url "ws://127.0.0.1:$port_a"

echo
echo "bench: load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
