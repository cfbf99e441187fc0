#!/usr/bin/env bash
# Runs the switchboard-bench scenarios against a freshly started release Switchboard and
# then against nats-server's WebSocket listener, and prints the two side by side.
#
#   Benchmarks/run-benchmarks.sh [BIN_DIR]     (make bench builds first, then calls this)
#
# Each server runs on core 0 and the generator on core 1 (taskset), so neither steals
# the other's CPU and each one's CPU time is its own. Results go to stdout and, one
# JSON line per scenario, to BIN_DIR/bench-switchboard.jsonl and bench-nats.jsonl.
#
#   SERVER_CPU / BENCH_CPU   other cores
#   BENCH_TARGETS            "switchboard nats" (default), or either alone
#   NATS_SERVER              the nats-server binary (default: nats-server on PATH)
#   BENCH_QUIET_SECONDS      wait up to this long for the 1-minute load average to drop
#                            below BENCH_QUIET_LOAD (0.4) before each broker's run (default 0)
#
# Each scenario prints the load average before it starts: other work on the machine
# shares the pinned cores, and latency is the first number it spoils.
set -euo pipefail

BIN_DIR=${1:-.build/release}
SERVER_CPU=${SERVER_CPU:-0}
BENCH_CPU=${BENCH_CPU:-1}
BENCH_TARGETS=${BENCH_TARGETS:-switchboard nats}
NATS_SERVER=${NATS_SERVER:-nats-server}
BENCH_QUIET_SECONDS=${BENCH_QUIET_SECONDS:-0}
BENCH_QUIET_LOAD=${BENCH_QUIET_LOAD:-0.4}

# Every connection is a descriptor on both sides; ask for 65536, settle for the hard limit.
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"

if ! command -v taskset >/dev/null 2>&1; then
    echo "bench: taskset not found; install util-linux" >&2
    exit 1
fi

work=$(mktemp -d)
server_pid=""
stop_server() {
    if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
        kill "$server_pid"
        wait "$server_pid" 2>/dev/null || true
    fi
    server_pid=""
}
cleanup() {
    stop_server
    rm -rf "$work"
}
trap cleanup EXIT

# Starts "$@" pinned to the server core and waits until its log names a port.
# Sets server_pid and port. $1: sed expression printing the port from the log.
start_server() {
    local pattern=$1
    port=""
    shift
    taskset -c "$SERVER_CPU" "$@" >"$work/server.out" 2>"$work/server.err" &
    server_pid=$!
    for _ in $(seq 1 100); do
        port=$(sed -n "$pattern" "$work/server.out" "$work/server.err" | head -n 1)
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
}

# Other work on the machine competes for the pinned cores: wait (bounded) for quiet,
# and always print the load average so the numbers can be judged.
wait_for_quiet() {
    local waited=0
    while [ "$waited" -lt "$BENCH_QUIET_SECONDS" ] &&
        awk -v limit="$BENCH_QUIET_LOAD" '{ exit !($1 >= limit) }' /proc/loadavg; do
        sleep 20
        waited=$((waited + 20))
    done
    echo "bench: load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
}

# $1: results file; the rest: the scenario's arguments. Uses $url, $extra, $server_pid.
bench() {
    local results=$1
    shift
    echo
    echo "\$ switchboard-bench $* $extra    # load $(cut -d' ' -f1-3 /proc/loadavg)"
    # shellcheck disable=SC2086 # $extra is a list of options
    taskset -c "$BENCH_CPU" "$BIN_DIR/switchboard-bench" "$@" --url "$url" --server-pid "$server_pid" $extra \
        | tee "$work/last.txt"
    grep '^{' "$work/last.txt" >>"$results"
}

# Writes the config and starts Switchboard; sets url and extra for bench().
start_switchboard() {
    cat >"$work/switchboard.yaml" <<'YAML'
server:
  host: 127.0.0.1
  port: 0
backbone:
  kind: in-process
limits:
  # The closed-loop scenarios publish far more than the default 1,000 requests/s.
  http_requests_per_second: 100000
drain:
  # Nothing to drain between scenarios: stop at once.
  grace_seconds: 0
apps:
  - id: "1"
    key: app-key
    secret: app-secret
    client_events: true
YAML
    start_server 's/^switchboard listening on .*:\([0-9][0-9]*\)$/\1/p' \
        "$BIN_DIR/switchboard" serve --config "$work/switchboard.yaml" --log-level warning
    echo "bench: switchboard pid $server_pid on 127.0.0.1:$port"
    url="ws://127.0.0.1:$port" extra=""
}

# Writes the config and starts nats-server with its WebSocket listener; sets url and extra.
start_nats() {
    cat >"$work/nats.conf" <<'CONF'
listen: 127.0.0.1:-1
websocket {
  listen: 127.0.0.1:-1
  no_tls: true
}
CONF
    # The WebSocket port is the one to wait for; the client port is logged after it.
    start_server 's/.*Listening for websocket clients on ws:\/\/.*:\([0-9][0-9]*\)$/\1/p' \
        "$NATS_SERVER" -c "$work/nats.conf"
    local ws_port=$port nats_port=""
    for _ in $(seq 1 50); do
        nats_port=$(sed -n 's/.*Listening for client connections on .*:\([0-9][0-9]*\)$/\1/p' \
            "$work/server.err" "$work/server.out" | head -n 1)
        [ -n "$nats_port" ] && break
        sleep 0.1
    done
    echo "bench: nats-server $("$NATS_SERVER" --version | cut -d' ' -f2) pid $server_pid," \
        "ws://127.0.0.1:$ws_port, nats://127.0.0.1:$nats_port"
    url="ws://127.0.0.1:$ws_port" extra="--target nats --publish-url nats://127.0.0.1:$nats_port"
}

# Every scenario against one broker, in the order `compare` pairs them. Each idle run gets
# a fresh server: memory freed by the previous run's connections would be reused and
# make the next run's RSS per connection look smaller than it is.
# $1: switchboard or nats; $2: results file.
run_target() {
    local target=$1 results=$2
    : >"$results"
    wait_for_quiet
    for connections in 1000 5000 10000; do
        "start_$target"
        bench "$results" idle --connections "$connections"
        stop_server
    done
    "start_$target"
    bench "$results" fanout --connections 1000 --rate 50 --duration 10
    bench "$results" fanout --connections 1000 --rate 0 --duration 10
    bench "$results" channels --channels 1000 --rate 5000 --duration 10
    bench "$results" channels --channels 1000 --rate 0 --duration 10
    if [ "$target" = switchboard ]; then
        # The limits issue's case: one reader that never reads among 1,000 at 50 events/s;
        # healthy p99 against the same run without it.
        bench "$work/slow.jsonl" slow-consumer --connections 1000 --rate 50 --duration 10 --compare-baseline
        # To see the slow socket shed, it must receive enough to fill the server's kernel send
        # buffer (about 2.8 MB on loopback with the default tcp_wmem) before the server's own
        # 1 MiB outbound budget even starts to count: 8 KiB events at 100/s give it 800 KB/s.
        bench "$work/slow.jsonl" slow-consumer --connections 250 --rate 100 --size 8192 --duration 15 \
            --compare-baseline
    fi
    echo "bench: $target RSS at end: $(sed -n 's/^VmRSS:[[:space:]]*//p' "/proc/$server_pid/status")"
    stop_server
}

echo "bench: $(nproc) cpus, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)"
echo "bench: servers on cpu $SERVER_CPU, generator on cpu $BENCH_CPU"

ours="$BIN_DIR/bench-switchboard.jsonl"
peer="$BIN_DIR/bench-nats.jsonl"

for target in $BENCH_TARGETS; do
    case "$target" in
    switchboard)
        run_target switchboard "$ours"
        ;;
    nats)
        if ! command -v "$NATS_SERVER" >/dev/null 2>&1; then
            echo "bench: $NATS_SERVER not found; install the nats-server package (make setup)" >&2
            exit 1
        fi
        run_target nats "$peer"
        ;;
    *)
        echo "bench: unknown target $target (switchboard or nats)" >&2
        exit 1
        ;;
    esac
done

echo
echo "bench: load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
if [ -s "$ours" ] && [ -s "$peer" ]; then
    echo
    "$BIN_DIR/switchboard-bench" compare "$ours" "$peer"
fi
echo "bench: JSON results in $ours and $peer"
