"""Helpers for the cluster tests (test_cluster*.py): switchboard nodes joined over
a real nats-server (fixtures `nats_server`, `start_nats` and `cluster` in conftest).

  nats_backbone(url, node_id)   a node's `backbone:` config section
  readiness(node)               GET /ready as (status code, JSON body)
  wait_ready(nodes)             until every node's /ready is 200
  assert_backbone_unready(node) /ready is 503 and its reason names the backbone
  BackboneCounters.of(node)     the node's switchboard_backbone_* series
  frames_until(ws, done)        every frame a socket gets until done(frames) holds
  quiet(*sockets)               nothing more is queued for the sockets
  presence_of(ev)               the `presence` object of a subscription_succeeded
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import requests

from helpers import DEFAULT_TIMEOUT, PusherWS
from test_metrics import scrape

MEMBER_ADDED = "pusher_internal:member_added"
MEMBER_REMOVED = "pusher_internal:member_removed"


def nats_backbone(url: str, node_id: str, lease_ttl_seconds: int = 3, request_timeout_ms: int = 500) -> dict:
    """`backbone:` of a node on the NATS server at `url`. The tests use a 3 s presence
    lease (the default is 15 s) so a killed node's members go within a few seconds."""
    return {
        "kind": "nats",
        "node_id": node_id,
        "nats": {"urls": [url], "lease_ttl_seconds": lease_ttl_seconds, "request_timeout_ms": request_timeout_ms},
    }


def readiness(node) -> tuple[int, dict]:
    r = requests.get(f"{node.http_base}/ready", timeout=2)
    return r.status_code, r.json()


def wait_ready(nodes, timeout: float = 10.0):
    """Until every node's /ready is 200 `{"status": "ready"}` (listening and on NATS)."""
    deadline = time.monotonic() + timeout
    for node in nodes:
        while True:
            status, body = readiness(node)
            if status == 200:
                assert body == {"status": "ready"}, body
                break
            assert time.monotonic() < deadline, \
                f"{node.node_id} /ready still {status} {body} after {timeout}s"
            time.sleep(0.05)


def assert_backbone_unready(node):
    """/ready is 503 with a JSON reason that says the backbone is the cause."""
    status, body = readiness(node)
    assert status == 503, (status, body)
    reasons = list(_strings(body))
    assert any("backbone" in r.lower() for r in reasons), f"/ready 503 body does not name the backbone: {body}"


def _strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from _strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v)


@dataclass
class BackboneCounters:
    """A node's backbone series at one scrape."""

    connected: float
    dropped: float
    published: float
    received: float

    @classmethod
    def of(cls, node) -> "BackboneCounters":
        s = scrape(node)
        return cls(
            connected=s.value("switchboard_backbone_connected"),
            dropped=s.value("switchboard_backbone_dropped_total"),
            published=s.value("switchboard_backbone_events_total", direction="published"),
            received=s.value("switchboard_backbone_events_total", direction="received"),
        )


def frames_until(ws: PusherWS, done, timeout: float = DEFAULT_TIMEOUT) -> list:
    """Every frame `ws` receives until `done(frames)` is true; fails after `timeout`."""
    deadline = time.monotonic() + timeout
    frames = []
    while not done(frames):
        left = deadline - time.monotonic()
        assert left > 0, f"timed out after {timeout}s; frames so far: {[f.raw for f in frames]}"
        try:
            frames.append(ws.recv_event(timeout=left))
        except TimeoutError:
            pass
    return frames


def quiet(*sockets, settle: float = 0.3):
    """After `settle` s, nothing more is queued for any of `sockets` (no late duplicate)."""
    time.sleep(settle)
    for ws in sockets:
        ws.ping_pong()


def presence_of(ev) -> dict:
    return ev["data"]["presence"]
