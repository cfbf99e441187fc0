"""Presence channels: member lists, member_added/removed by user id, limits."""

import time

from helpers import PusherWS, make_sdk, presence_auth, unique


def _members(ev):
    p = ev["data"]["presence"]
    return p


def test_presence_subscription_succeeded_lists_members(sdk, ws_factory):
    ch = unique("presence-")
    a = ws_factory()
    ev = a.subscribe_presence(ch, sdk, "alice", {"name": "Alice"})
    assert isinstance(ev.raw_data, str)
    p = _members(ev)
    assert p["ids"] == ["alice"]
    assert p["hash"] == {"alice": {"name": "Alice"}}
    assert p["count"] == 1

    b = ws_factory()
    p = _members(b.subscribe_presence(ch, sdk, "bob", {"name": "Bob"}))
    assert sorted(p["ids"]) == ["alice", "bob"]
    assert p["hash"] == {"alice": {"name": "Alice"}, "bob": {"name": "Bob"}}
    assert p["count"] == 2


def test_member_added_and_removed_are_sent_to_others(sdk, ws_factory):
    ch = unique("presence-")
    observer = ws_factory()
    observer.subscribe_presence(ch, sdk, "observer")
    joiner = ws_factory()
    joiner.subscribe_presence(ch, sdk, "joiner", {"role": "guest"})
    added = observer.expect("pusher_internal:member_added", channel=ch)
    assert isinstance(added.raw_data, str)
    assert added["data"] == {"user_id": "joiner", "user_info": {"role": "guest"}}
    joiner.ping_pong()  # the joiner is not told about itself
    joiner.unsubscribe(ch)
    removed = observer.expect("pusher_internal:member_removed", channel=ch)
    assert removed["data"] == {"user_id": "joiner"}


def test_member_removed_when_socket_closes(sdk, ws_factory):
    ch = unique("presence-")
    observer = ws_factory()
    observer.subscribe_presence(ch, sdk, "observer")
    leaver = ws_factory()
    leaver.subscribe_presence(ch, sdk, "leaver")
    observer.expect("pusher_internal:member_added", channel=ch)
    leaver.close()
    removed = observer.expect("pusher_internal:member_removed", channel=ch)
    assert removed["data"] == {"user_id": "leaver"}


def test_same_user_on_two_sockets_is_one_member(sdk, ws_factory):
    ch = unique("presence-")
    observer = ws_factory()
    observer.subscribe_presence(ch, sdk, "observer")
    first = ws_factory()
    second = ws_factory()
    first.subscribe_presence(ch, sdk, "dup", {"n": 1})
    assert observer.expect("pusher_internal:member_added", channel=ch)["data"]["user_id"] == "dup"
    p = _members(second.subscribe_presence(ch, sdk, "dup", {"n": 1}))
    assert p["count"] == 2 and sorted(p["ids"]) == ["dup", "observer"], p
    time.sleep(0.3)
    observer.ping_pong()  # no second member_added

    first.unsubscribe(ch)
    first.ping_pong()
    time.sleep(0.3)
    observer.ping_pong()  # the user still has a socket: no member_removed

    second.close()
    removed = observer.expect("pusher_internal:member_removed", channel=ch)
    assert removed["data"] == {"user_id": "dup"}


def test_users_are_counted_once_in_channel_info(sdk, ws_factory):
    ch = unique("presence-")
    for uid in ("u1", "u1", "u2"):
        ws_factory().subscribe_presence(ch, sdk, uid)
    info = sdk.channel_info(ch, ["user_count", "subscription_count"])
    assert info["occupied"] is True
    assert info["user_count"] == 2
    assert info["subscription_count"] == 3


def test_numeric_user_id_is_accepted_and_stringified(sdk, ws_factory):
    ch = unique("presence-")
    observer = ws_factory()
    observer.subscribe_presence(ch, sdk, "observer")
    ws = ws_factory()
    auth, channel_data = presence_auth(sdk, ch, ws.socket_id, 42, {"name": "Numeric"})
    assert '"user_id": 42' in channel_data  # really a JSON number on the wire
    p = _members(ws.subscribe_ok(ch, auth=auth, channel_data=channel_data))
    assert "42" in p["ids"] and 42 not in p["ids"], p
    assert p["hash"]["42"] == {"name": "Numeric"}
    added = observer.expect("pusher_internal:member_added", channel=ch)
    assert added["data"]["user_id"] == "42"
    users = sdk.users_info(ch)["users"]
    assert {"id": "42"} in users, users


def test_presence_without_channel_data_is_refused(sdk, ws_factory):
    ch = unique("presence-")
    ws = ws_factory()
    auth = sdk.authenticate(channel=ch, socket_id=ws.socket_id)["auth"]
    ws.subscribe(ch, auth=auth)
    ev = ws.recv_event(timeout=5)
    assert ev["event"] in ("pusher:subscription_error", "pusher:error"), ev.raw


def test_presence_with_tampered_channel_data_is_refused_401(sdk, ws_factory):
    ch = unique("presence-")
    ws = ws_factory()
    auth, _ = presence_auth(sdk, ch, ws.socket_id, "honest")
    ws.subscribe(ch, auth=auth, channel_data='{"user_id": "impostor"}')
    ev = ws.expect("pusher:subscription_error", channel=ch)
    assert ev["data"]["status"] == 401, ev.raw
    assert isinstance(ev["data"]["error"], str) and ev["data"]["error"]


def test_presence_member_limit_refuses_extra_user_403(switchboard):
    srv = switchboard(limits={"max_presence_members": 2})
    sdk = make_sdk(srv)
    ch = unique("presence-")
    clients = []
    try:
        for uid in ("m1", "m2"):
            c = PusherWS.connect(srv)
            clients.append(c)
            c.subscribe_presence(ch, sdk, uid)
        clients[0].expect("pusher_internal:member_added", channel=ch)  # m2
        third = PusherWS.connect(srv)
        clients.append(third)
        auth, cd = presence_auth(sdk, ch, third.socket_id, "m3")
        third.subscribe(ch, auth=auth, channel_data=cd)
        ev = third.expect("pusher:subscription_error", channel=ch)
        assert ev["data"]["status"] == 403, ev.raw
        assert isinstance(ev["data"]["error"], str) and ev["data"]["error"]
        time.sleep(0.2)
        clients[0].ping_pong()  # no member_added for the refused user
        assert sdk.channel_info(ch, ["user_count"])["user_count"] == 2
    finally:
        for c in clients:
            c.close()


def test_presence_member_limit_still_admits_existing_user_on_new_socket(switchboard):
    srv = switchboard(limits={"max_presence_members": 2})
    sdk = make_sdk(srv)
    ch = unique("presence-")
    clients = []
    try:
        for uid in ("m1", "m2", "m1"):
            c = PusherWS.connect(srv)
            clients.append(c)
            p = c.subscribe_presence(ch, sdk, uid)["data"]["presence"]
        assert p["count"] == 2
    finally:
        for c in clients:
            c.close()


def test_presence_user_info_over_limit_is_refused(sdk, ws_factory):
    ch = unique("presence-")
    observer = ws_factory()
    observer.subscribe_presence(ch, sdk, "observer")
    ws = ws_factory()
    big = {"blob": "x" * 1100}  # > max_presence_user_info_bytes (1024)
    auth, cd = presence_auth(sdk, ch, ws.socket_id, "big", big)
    ws.subscribe(ch, auth=auth, channel_data=cd)
    ev = ws.recv_event(timeout=5)
    assert ev["event"] in ("pusher:subscription_error", "pusher:error"), ev.raw
    if ev["event"] == "pusher:subscription_error":
        assert ev["channel"] == ch
        assert 400 <= ev["data"]["status"] < 500, ev.raw
    time.sleep(0.2)
    observer.ping_pong()  # never became a member
    ws.ping_pong()


def test_presence_user_info_just_under_limit_is_accepted(sdk, ws_factory):
    ch = unique("presence-")
    ws = ws_factory()
    info = {"blob": "x" * 900}
    ws.subscribe_presence(ch, sdk, "medium", info)


def test_presence_user_id_too_long_is_refused(sdk, ws_factory):
    ch = unique("presence-")
    ws = ws_factory()
    auth, cd = presence_auth(sdk, ch, ws.socket_id, "u" * 129)
    ws.subscribe(ch, auth=auth, channel_data=cd)
    ev = ws.recv_event(timeout=5)
    assert ev["event"] in ("pusher:subscription_error", "pusher:error"), ev.raw
