"""Client events (`client-*`) sent over the socket and relayed by the broker."""

import time

from helpers import PusherWS, make_sdk, private_auth, unique


def _assert_refused(ws, sent_on=None):
    ev = ws.recv_event(timeout=5)
    assert ev["event"] == "pusher:error", f"expected pusher:error, got {ev.raw}"
    assert isinstance(ev.raw_data, str)
    code = ev["data"]["code"]
    assert isinstance(code, int) and 4000 <= code <= 4999, ev.raw
    assert isinstance(ev["data"]["message"], str) and ev["data"]["message"]
    return ev


def test_client_event_is_relayed_to_others_not_sender(sdk, ws_factory):
    ch = unique("private-")
    sender, receiver, other = ws_factory(), ws_factory(), ws_factory()
    for c in (sender, receiver, other):
        c.subscribe_private(ch, sdk)
    sender.send_event("client-typing", {"text": "hi", "n": [1, 2]}, channel=ch)
    for c in (receiver, other):
        ev = c.expect("client-typing", channel=ch)
        assert ev["data"] == {"text": "hi", "n": [1, 2]}
        assert "user_id" not in ev  # only presence channels add it
    sender.ping_pong()  # not echoed to the sender


def test_client_event_string_data_is_relayed_exactly(sdk, ws_factory):
    ch = unique("private-")
    sender, receiver = ws_factory(), ws_factory()
    sender.subscribe_private(ch, sdk)
    receiver.subscribe_private(ch, sdk)
    sender.send_event("client-raw", '{"a": 1,  "spaced": true}', channel=ch)
    ev = receiver.expect("client-raw", channel=ch)
    assert ev.raw_data == '{"a": 1,  "spaced": true}'


def test_presence_client_event_carries_sender_user_id(sdk, ws_factory):
    ch = unique("presence-")
    sender, receiver = ws_factory(), ws_factory()
    sender.subscribe_presence(ch, sdk, "speaker")
    receiver.subscribe_presence(ch, sdk, "listener")
    sender.expect("pusher_internal:member_added", channel=ch)
    sender.send_event("client-msg", {"body": "hello"}, channel=ch)
    ev = receiver.expect("client-msg", channel=ch)
    assert ev["user_id"] == "speaker"
    assert ev["data"] == {"body": "hello"}
    sender.ping_pong()


def test_client_event_refused_on_public_channel(ws_factory):
    ch = unique("public-")
    sender, receiver = ws_factory(), ws_factory()
    sender.subscribe_ok(ch)
    receiver.subscribe_ok(ch)
    sender.send_event("client-nope", {}, channel=ch)
    _assert_refused(sender)
    time.sleep(0.2)
    receiver.ping_pong()
    sender.ping_pong()  # refusal does not close the connection


def test_client_event_refused_when_app_disables_client_events(server):
    sdk2 = make_sdk(server, "2")
    ch = unique("private-")
    sender = PusherWS.connect(server, key="noclient-key")
    receiver = PusherWS.connect(server, key="noclient-key")
    try:
        sender.subscribe_private(ch, sdk2)
        receiver.subscribe_private(ch, sdk2)
        sender.send_event("client-nope", {"x": 1}, channel=ch)
        _assert_refused(sender)
        time.sleep(0.2)
        receiver.ping_pong()
    finally:
        sender.close()
        receiver.close()


def test_client_event_refused_on_private_encrypted_channel(sdk, ws_factory):
    ch = unique("private-encrypted-")
    sender, receiver = ws_factory(), ws_factory()
    sender.subscribe_private(ch, sdk)
    receiver.subscribe_private(ch, sdk)
    sender.send_event("client-nope", {"nonce": "x", "ciphertext": "y"}, channel=ch)
    _assert_refused(sender)
    time.sleep(0.2)
    receiver.ping_pong()


def test_client_event_refused_on_channel_not_subscribed(sdk, ws_factory):
    ch = unique("private-")
    outsider, member = ws_factory(), ws_factory()
    member.subscribe_private(ch, sdk)
    outsider.send_event("client-sneaky", {}, channel=ch)
    _assert_refused(outsider)
    time.sleep(0.2)
    member.ping_pong()


def test_event_without_client_prefix_is_not_relayed(sdk, ws_factory):
    ch = unique("private-")
    sender, receiver = ws_factory(), ws_factory()
    sender.subscribe_private(ch, sdk)
    receiver.subscribe_private(ch, sdk)
    sender.send_event("server-looking", {}, channel=ch)
    time.sleep(0.3)
    receiver.ping_pong()


def test_client_event_rate_limit_4301_keeps_connection_open(sdk, ws_factory):
    ch = unique("private-")
    sender, receiver = ws_factory(), ws_factory()
    sender.subscribe_private(ch, sdk)
    receiver.subscribe_private(ch, sdk)
    total = 15
    for i in range(total):
        sender.send_event("client-burst", {"i": i}, channel=ch)
    sender.send_event("pusher:ping", {})
    errors = []
    while True:
        ev = sender.recv_event(timeout=5)
        if ev["event"] == "pusher:pong":
            break
        assert ev["event"] == "pusher:error", ev.raw
        errors.append(ev)
    assert errors, "no pusher:error after 15 client events in well under a second"
    assert all(e["data"]["code"] == 4301 for e in errors), [e.raw for e in errors]

    relayed = []
    deadline = time.monotonic() + 2
    while time.monotonic() < deadline:
        try:
            ev = receiver.recv_event(timeout=0.3)
        except TimeoutError:
            break
        assert ev["event"] == "client-burst", ev.raw
        relayed.append(ev["data"]["i"])
    assert 10 <= len(relayed) <= 12, f"relayed {len(relayed)} of {total}: {relayed}"
    assert relayed == list(range(len(relayed))), "the first events pass, in order"
    assert len(relayed) + len(errors) == total, (len(relayed), len(errors))

    # Still open and, after the bucket refills, allowed again.
    sender.ping_pong()
    time.sleep(1.1)
    sender.send_event("client-after", {"ok": True}, channel=ch)
    assert receiver.expect("client-after", channel=ch)["data"] == {"ok": True}
    sender.ping_pong()
