"""pysher (a third-party Python Pusher client speaking protocol 6) against the broker.

pysher signs private/presence subscriptions itself when given `secret`.
"""

import json
import logging
import queue
import time

import pysher
import pytest

from helpers import PusherWS, unique, wait_until


@pytest.fixture
def pysher_client(server):
    clients = []

    def make(**kw):
        client = pysher.Pusher(
            "app-key",
            custom_host=server.host,
            port=server.port,
            secure=False,
            log_level=logging.WARNING,
            reconnect_interval=1,
            **kw,
        )
        # Record every channel event as pysher dispatches it, so nothing that
        # arrives between subscribe() and a bind() is missed.
        client.events = queue.Queue()
        dispatch = client.connection.event_handler

        def record(event_name, data, channel_name):
            client.events.put((channel_name, event_name, data))
            dispatch(event_name, data, channel_name)

        client.connection.event_handler = record
        established = queue.Queue()
        client.connection.bind("pusher:connection_established", lambda data: established.put(data))
        client.connect()
        clients.append(client)
        data = established.get(timeout=5)
        info = json.loads(data)
        assert client.connection.socket_id == info["socket_id"]
        wait_until(lambda: client.connection.state == "connected", timeout=5, what="pysher connected")
        return client

    yield make
    for c in clients:
        c.disconnect(timeout=1)


def _next(client, channel, timeout=5):
    """Next event pysher dispatched for `channel` (others are skipped)."""
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise AssertionError(f"pysher received nothing on {channel} within {timeout}s")
        try:
            ch, name, data = client.events.get(timeout=left)
        except queue.Empty:
            continue
        if ch == channel:
            return name, data


def test_pysher_connects_with_protocol_6(pysher_client):
    client = pysher_client()
    assert client.url.endswith("protocol=6")
    assert client.connection.socket_id


def test_pysher_public_channel_receives_sdk_event(pysher_client, sdk):
    client = pysher_client()
    ch = unique("public-")
    channel = client.subscribe(ch)
    assert _next(client, ch)[0] == "pusher_internal:subscription_succeeded"
    sdk.trigger(ch, "news", {"headline": "pysher works"})
    name, data = _next(client, ch)
    assert name == "news"
    assert json.loads(data) == {"headline": "pysher works"}


def test_pysher_private_channel_signed_with_secret(pysher_client, sdk):
    client = pysher_client(secret="app-secret")
    ch = unique("private-")
    channel = client.subscribe(ch)
    name, data = _next(client, ch)
    assert name == "pusher_internal:subscription_succeeded", data
    sdk.trigger(ch, "secret", {"s": 1})
    name, data = _next(client, ch)
    assert (name, json.loads(data)) == ("secret", {"s": 1})


def test_pysher_private_channel_with_wrong_secret_is_refused(pysher_client):
    client = pysher_client(secret="not-the-secret")
    ch = unique("private-")
    channel = client.subscribe(ch)
    name, data = _next(client, ch)
    assert name == "pusher:subscription_error"
    assert json.loads(data)["status"] == 401


def test_pysher_presence_channel_with_user_data(pysher_client, sdk, ws_factory):
    ch = unique("presence-")
    observer = ws_factory()
    observer.subscribe_presence(ch, sdk, "observer", {"name": "Obs"})
    client = pysher_client(secret="app-secret", user_data={"user_id": "py-user", "user_info": {"name": "Py"}})
    channel = client.subscribe(ch)
    name, data = _next(client, ch)
    assert name == "pusher_internal:subscription_succeeded", data
    presence = json.loads(data)["presence"]
    assert sorted(presence["ids"]) == ["observer", "py-user"]
    assert presence["hash"]["py-user"] == {"name": "Py"}
    assert presence["count"] == 2
    added = observer.expect("pusher_internal:member_added", channel=ch)
    assert added["data"] == {"user_id": "py-user", "user_info": {"name": "Py"}}


def test_pysher_client_event_relayed_to_raw_client(pysher_client, sdk, ws_factory):
    ch = unique("private-")
    receiver = ws_factory()
    receiver.subscribe_private(ch, sdk)
    client = pysher_client(secret="app-secret")
    channel = client.subscribe(ch)
    assert _next(client, ch)[0] == "pusher_internal:subscription_succeeded"
    channel.trigger("client-from-pysher", {"hello": "raw"})
    ev = receiver.expect("client-from-pysher", channel=ch)
    assert ev["data"] == {"hello": "raw"}


def test_pysher_receives_raw_client_event(pysher_client, sdk, ws_factory):
    ch = unique("private-")
    client = pysher_client(secret="app-secret")
    channel = client.subscribe(ch)
    assert _next(client, ch)[0] == "pusher_internal:subscription_succeeded"
    sender = ws_factory()
    sender.subscribe_private(ch, sdk)
    sender.send_event("client-to-pysher", {"x": 1}, channel=ch)
    name, data = _next(client, ch)
    assert name == "client-to-pysher"
    assert data == {"x": 1} or json.loads(data) == {"x": 1}


def test_pysher_unsubscribe_stops_delivery(pysher_client, sdk):
    client = pysher_client()
    ch = unique("public-")
    channel = client.subscribe(ch)
    assert _next(client, ch)[0] == "pusher_internal:subscription_succeeded"
    client.unsubscribe(ch)
    wait_until(lambda: not sdk.channel_info(ch).get("occupied"), timeout=5, what="channel vacated")
    sdk.trigger(ch, "tick", {})
    with pytest.raises(AssertionError):
        _next(client, ch, timeout=0.5)
