"""How many event loops a node runs.

By default one per CPU the process may run on: the affinity mask (`taskset`,
`docker --cpuset-cpus`) counts, not only the machine's cores, because two loops on one
allowed core only add context switches. `server.event_loops` overrides the count.
NIO names each loop's thread `NIO-ELT-<group>-#<n>`, so the threads in /proc show it.
"""

from __future__ import annotations

import os
from pathlib import Path

from helpers import PusherWS, make_sdk


def event_loop_threads(srv) -> int:
    tasks = Path(f"/proc/{srv.proc.pid}/task")
    return sum(1 for task in tasks.iterdir() if (task / "comm").read_text().startswith("NIO-ELT-"))


def publish_reaches_subscribers(srv, count: int) -> None:
    """Sockets land on every loop in turn; an event must reach all of them."""
    sockets = [PusherWS.connect(srv) for _ in range(count)]
    try:
        for ws in sockets:
            ws.subscribe_ok("loops")
        make_sdk(srv).trigger("loops", "e", {"n": 1})
        for ws in sockets:
            ws.expect("e", channel="loops")
    finally:
        for ws in sockets:
            ws.close()


def test_a_node_pinned_to_one_cpu_runs_one_event_loop(switchboard):
    allowed = os.sched_getaffinity(0)
    # The child inherits the test process's mask, as it would from taskset.
    os.sched_setaffinity(0, {min(allowed)})
    try:
        srv = switchboard()
    finally:
        os.sched_setaffinity(0, allowed)
    assert event_loop_threads(srv) == 1
    publish_reaches_subscribers(srv, 3)


def test_event_loops_in_the_config_sets_the_count(switchboard):
    srv = switchboard(server={"event_loops": 3})
    assert event_loop_threads(srv) == 3
    publish_reaches_subscribers(srv, 6)
