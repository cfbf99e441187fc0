"""channel_occupied and channel_vacated across a cluster (PROTOCOL.md, "Webhooks"):
one of each per channel and occupancy period, whichever nodes its subscribers are
on, decided through the NATS occupancy bucket. Every node of a test sends app 1's
webhooks to one receiver, which validates each request with the official SDK.
Vacates are held ~3 s, and node loss is noticed within the 3 s lease, so these
tests take several seconds each.
"""

from __future__ import annotations

import time

import pytest

from helpers import APPS, unique, wait_until
from test_webhooks import HOLD, WebhookReceiver

LEASE_TTL = 3
OCCUPANCY = ["channel_occupied", "channel_vacated"]


@pytest.fixture
def hooked_cluster(cluster):
    """hooked_cluster(count) -> (nodes, receiver): nodes whose app 1 sends
    channel_occupied and channel_vacated to the receiver."""
    receivers: list[WebhookReceiver] = []

    def start(count: int = 2):
        receiver = WebhookReceiver()
        receivers.append(receiver)
        apps = [dict(a) for a in APPS]
        apps[0]["webhooks"] = [{"url": receiver.url, "event_types": OCCUPANCY}]
        return cluster(count, lease_ttl_seconds=LEASE_TTL, apps=apps), receiver

    yield start
    for receiver in receivers:
        receiver.close()


def occupancy(receiver: WebhookReceiver, channel: str) -> list[str]:
    return [ev["name"] for _, ev in receiver.events(channel=channel)]


def occupy_one_alone_and_one_shared(a, b, receiver, ws_factory) -> tuple[str, str]:
    """A channel with a subscriber on A only, and one with subscribers on A and B;
    returns their names once both are reported occupied."""
    only_a, shared = unique("room-a-"), unique("room-shared-")
    ws_factory(srv=a).subscribe_ok(only_a)
    ws_factory(srv=a).subscribe_ok(shared)
    ws_factory(srv=b).subscribe_ok(shared)
    wait_until(lambda: occupancy(receiver, only_a) and occupancy(receiver, shared), what="both occupied")
    return only_a, shared


def test_channel_on_two_nodes_is_occupied_once_and_vacated_once(hooked_cluster, ws_factory):
    """Subscribers on A then B: one channel_occupied. A's leaving vacates nothing
    while B still has its subscriber; B's leaving sends the one channel_vacated."""
    (a, b), receiver = hooked_cluster(2)
    ch = unique("room-")
    on_a, on_b = ws_factory(srv=a), ws_factory(srv=b)
    on_a.subscribe_ok(ch)
    wait_until(lambda: occupancy(receiver, ch), what="channel_occupied")
    on_b.subscribe_ok(ch)
    on_a.unsubscribe(ch)
    time.sleep(HOLD + 1.5)
    assert occupancy(receiver, ch) == ["channel_occupied"], "B's subscriber keeps the channel occupied"

    left = time.monotonic()
    on_b.unsubscribe(ch)
    wait_until(lambda: len(occupancy(receiver, ch)) == 2, timeout=HOLD + 3, what="channel_vacated")
    assert occupancy(receiver, ch) == ["channel_occupied", "channel_vacated"]
    (at, _), = receiver.events("channel_vacated", ch)
    assert at - left >= HOLD - 0.5, f"vacated after {at - left:.2f}s, expected the ~{HOLD}s hold"
    time.sleep(1.0)
    assert occupancy(receiver, ch) == ["channel_occupied", "channel_vacated"], "sent by one node only"
    receiver.assert_all_valid()


def test_subscribers_joining_on_every_node_at_once_make_one_occupied(hooked_cluster, ws_factory):
    """Three nodes, two subscribers each, all subscribing together: the nodes race
    on the occupancy record and exactly one of them reports channel_occupied."""
    nodes, receiver = hooked_cluster(3)
    ch = unique("room-")
    sockets = [ws_factory(srv=node) for node in nodes for _ in range(2)]
    for ws in sockets:
        ws.subscribe(ch)
    for ws in sockets:
        ws.expect("pusher_internal:subscription_succeeded", channel=ch)
    wait_until(lambda: occupancy(receiver, ch), what="channel_occupied")
    time.sleep(1.0)
    assert occupancy(receiver, ch) == ["channel_occupied"]
    receiver.assert_all_valid()


def test_channels_of_a_killed_node_are_vacated_by_a_survivor(hooked_cluster, ws_factory):
    """After `kill -9` of A, the channel only A had subscribers on is vacated by B
    within the lease and the hold; the channel B also has stays occupied."""
    (a, b), receiver = hooked_cluster(2)
    only_a, shared = occupy_one_alone_and_one_shared(a, b, receiver, ws_factory)

    killed = time.monotonic()
    a.kill9()
    limit = LEASE_TTL + HOLD + 3
    wait_until(lambda: receiver.events("channel_vacated", only_a), timeout=limit, what="dead node's channel vacated")
    assert time.monotonic() - killed <= limit
    assert occupancy(receiver, only_a) == ["channel_occupied", "channel_vacated"]
    time.sleep(1.0)
    assert occupancy(receiver, shared) == ["channel_occupied"], "B still has a subscriber"
    receiver.assert_all_valid()


def test_node_shutting_down_vacates_the_channels_it_was_the_last_node_of(hooked_cluster, ws_factory):
    """SIGTERM drains A: its channel nobody else has is vacated (sent before A exits),
    the one B shares is not."""
    (a, b), receiver = hooked_cluster(2)
    only_a, shared = occupy_one_alone_and_one_shared(a, b, receiver, ws_factory)

    a.terminate()
    assert a.proc.returncode == 0
    wait_until(lambda: receiver.events("channel_vacated", only_a), timeout=3, what="channel_vacated")
    time.sleep(1.0)
    assert occupancy(receiver, only_a) == ["channel_occupied", "channel_vacated"]
    assert occupancy(receiver, shared) == ["channel_occupied"]
    receiver.assert_all_valid()
