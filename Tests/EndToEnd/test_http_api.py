"""The HTTP API, driven with the official `pusher` SDK (pusher-http-python).

Where the SDK refuses to send something (too many channels) or cannot say it
(`info` on trigger, tampered auth), the request is signed the SDK's way by
helpers.signed_request (the SDK's own `sign` and `make_query_string`).
"""

import hashlib
import time

import pusher
import pytest

from helpers import PusherWS, make_sdk, signed_request, unique, wait_until


def _json_error(res, status):
    assert res.status == status, res
    assert isinstance(res.json, dict), f"error body is not JSON: {res}"
    assert isinstance(res.json.get("error"), str) and res.json["error"], res


# ---------------------------------------------------------------------------
# Triggering


def test_trigger_single_channel_returns_empty_object(sdk, ws_factory):
    ws = ws_factory()
    ch = unique("public-")
    ws.subscribe_ok(ch)
    assert sdk.trigger(ch, "evt", {"a": 1}) == {}
    assert ws.expect("evt", channel=ch)["data"] == {"a": 1}


def test_trigger_multiple_channels(sdk, ws_factory):
    chans = [unique("public-") for _ in range(3)]
    clients = []
    for ch in chans:
        ws = ws_factory()
        ws.subscribe_ok(ch)
        clients.append(ws)
    sdk.trigger(chans, "multi", {"m": True})
    for ws, ch in zip(clients, chans):
        ev = ws.expect("multi", channel=ch)
        assert ev["data"] == {"m": True}


def test_trigger_to_100_channels_is_accepted(sdk, ws_factory):
    chans = [unique("public-") for _ in range(100)]
    ws = ws_factory()
    ws.subscribe_ok(chans[-1])
    sdk.trigger(chans, "hundred", {})
    ws.expect("hundred", channel=chans[-1])


def test_trigger_to_101_channels_is_refused_400(server):
    chans = [unique("public-") for _ in range(101)]
    # The SDK refuses this itself...
    with pytest.raises(ValueError):
        make_sdk(server).trigger(chans, "too-many", {})
    # ...so send it signed by hand.
    res = signed_request(server, "POST", "/apps/1/events",
                         body={"name": "too-many", "data": "{}", "channels": chans})
    _json_error(res, 400)


def test_trigger_with_info_reports_subscription_and_user_counts(sdk, server, ws_factory):
    pub = unique("public-")
    pres = unique("presence-")
    a, b = ws_factory(), ws_factory()
    a.subscribe_ok(pub)
    b.subscribe_ok(pub)
    a.subscribe_presence(pres, sdk, "ua")
    b.subscribe_presence(pres, sdk, "ua")
    res = signed_request(server, "POST", "/apps/1/events", body={
        "name": "counted", "data": "{}", "channels": [pub], "info": "subscription_count",
    })
    assert res.status == 200, res
    assert res.json["channels"][pub]["subscription_count"] == 2, res
    res = signed_request(server, "POST", "/apps/1/events", body={
        "name": "counted", "data": "{}", "channels": [pres], "info": "subscription_count,user_count",
    })
    assert res.status == 200, res
    assert res.json["channels"][pres]["subscription_count"] == 2, res
    assert res.json["channels"][pres]["user_count"] == 1, res


def test_trigger_batch_delivers_each_event(sdk, ws_factory):
    c1, c2 = unique("public-"), unique("private-")
    ws = ws_factory()
    ws.subscribe_ok(c1)
    ws.subscribe_private(c2, sdk)
    res = sdk.trigger_batch([
        {"channel": c1, "name": "b1", "data": {"i": 1}},
        {"channel": c2, "name": "b2", "data": {"i": 2}},
    ])
    assert res == {} or "batch" in res, res
    assert ws.expect("b1", channel=c1)["data"] == {"i": 1}
    assert ws.expect("b2", channel=c2)["data"] == {"i": 2}


def test_trigger_batch_of_10_accepted_and_11_refused(sdk, server, ws_factory):
    ch = unique("public-")
    ws = ws_factory()
    ws.subscribe_ok(ch)
    sdk.trigger_batch([{"channel": ch, "name": "ten", "data": {"i": i}} for i in range(10)])
    for i in range(10):
        assert ws.expect("ten", channel=ch)["data"] == {"i": i}
    res = signed_request(server, "POST", "/apps/1/batch_events", body={"batch": [
        {"channel": ch, "name": "eleven", "data": "{}"} for _ in range(11)]})
    assert res.status in (400, 413), res  # PROTOCOL.md: 400 bad request / 413 too large
    assert isinstance(res.json, dict) and isinstance(res.json.get("error"), str), res
    with pytest.raises((pusher.errors.PusherBadRequest, pusher.errors.PusherBadStatus)):
        sdk.trigger_batch([{"channel": ch, "name": "eleven", "data": {"i": i}} for i in range(11)])
    time.sleep(0.3)
    ws.ping_pong()  # nothing of the refused batch was delivered


def test_trigger_batch_with_info(sdk, server, ws_factory):
    ch = unique("public-")
    ws = ws_factory()
    ws.subscribe_ok(ch)
    res = signed_request(server, "POST", "/apps/1/batch_events", body={"batch": [
        {"channel": ch, "name": "b", "data": "{}", "info": "subscription_count"},
    ]})
    assert res.status == 200, res
    assert res.json["batch"][0]["subscription_count"] == 1


def test_event_over_max_event_bytes_is_413(sdk, server, ws_factory):
    ch = unique("public-")
    ws = ws_factory()
    ws.subscribe_ok(ch)
    big = "x" * 10241  # the SDK's own cap is 30 KB, the server's 10 KB
    with pytest.raises(pusher.errors.PusherBadStatus, match="413"):
        sdk.trigger(ch, "big", big)
    res = signed_request(server, "POST", "/apps/1/events",
                         body={"name": "big", "data": big, "channels": [ch]})
    _json_error(res, 413)
    time.sleep(0.2)
    ws.ping_pong()


def test_event_name_over_200_chars_is_refused(server):
    res = signed_request(server, "POST", "/apps/1/events",
                         body={"name": "e" * 201, "data": "{}", "channels": [unique("public-")]})
    assert res.status in (400, 413), res
    assert isinstance(res.json, dict) and isinstance(res.json.get("error"), str), res


def test_malformed_json_body_is_400(server):
    res = signed_request(server, "POST", "/apps/1/events", body=b'{"name": "x", "data": ')
    _json_error(res, 400)


def test_trigger_without_channels_is_400(server):
    res = signed_request(server, "POST", "/apps/1/events", body={"name": "x", "data": "{}"})
    _json_error(res, 400)


# ---------------------------------------------------------------------------
# Authentication of API requests


def test_wrong_secret_is_401(server):
    bad = make_sdk(server, "1", secret="wrong-secret")
    with pytest.raises(pusher.errors.PusherBadAuth):
        bad.trigger(unique("public-"), "x", {})
    res = signed_request(server, "POST", "/apps/1/events", secret="wrong-secret",
                         body={"name": "x", "data": "{}", "channels": ["a"]})
    _json_error(res, 401)


def test_unknown_auth_key_is_401(server):
    res = signed_request(server, "GET", "/apps/1/channels", key="no-such-key")
    _json_error(res, 401)


def test_key_of_another_app_is_refused(server):
    # app 2's key and secret, against app 1's path
    res = signed_request(server, "GET", "/apps/1/channels", key="noclient-key", secret="noclient-secret")
    assert res.status in (401, 403), res


def test_stale_timestamp_is_401(server):
    res = signed_request(server, "POST", "/apps/1/events", timestamp=int(time.time()) - 700,
                         body={"name": "x", "data": "{}", "channels": ["a"]})
    _json_error(res, 401)


def test_future_timestamp_is_401(server):
    res = signed_request(server, "GET", "/apps/1/channels", timestamp=int(time.time()) + 700)
    _json_error(res, 401)


def test_timestamp_within_window_is_accepted(server):
    res = signed_request(server, "GET", "/apps/1/channels", timestamp=int(time.time()) - 300)
    assert res.status == 200, res


def test_wrong_body_md5_is_401(server):
    body = {"name": "x", "data": "{}", "channels": ["a"]}
    res = signed_request(server, "POST", "/apps/1/events", body=body,
                         body_md5=hashlib.md5(b'{"other": "body"}').hexdigest())
    _json_error(res, 401)


def test_signature_over_another_path_is_401(server):
    res = signed_request(server, "GET", "/apps/1/channels", sign_path="/apps/1/channels/x")
    _json_error(res, 401)


def test_missing_auth_params_is_401(server):
    import requests

    resp = requests.get(f"{server.http_base}/apps/1/channels", timeout=5)
    assert resp.status_code == 401
    assert isinstance(resp.json().get("error"), str)


def test_unknown_app_id_is_404(server):
    other = make_sdk(server, "999")
    with pytest.raises(pusher.errors.PusherBadStatus, match="404"):
        other.trigger(unique("public-"), "x", {})
    res = signed_request(server, "GET", "/apps/999/channels")
    _json_error(res, 404)


def test_disabled_app_api_is_refused(server):
    res = signed_request(server, "POST", "/apps/3/events", app_id="3",
                         body={"name": "x", "data": "{}", "channels": ["a"]})
    assert res.status in (403, 404), res


# ---------------------------------------------------------------------------
# Queries


def test_channels_info_lists_occupied_channels_with_prefix_filter(sdk, ws_factory):
    tag = unique("")
    a = f"public-{tag}-a"
    b = f"public-{tag}-b"
    p = f"presence-{tag}-p"
    ws = ws_factory()
    ws.subscribe_ok(a)
    ws.subscribe_ok(b)
    ws.subscribe_presence(p, sdk, "lister")
    res = sdk.channels_info(prefix_filter=f"public-{tag}")
    assert set(res["channels"]) == {a, b}, res
    # channels with no subscribers are not listed
    ws.unsubscribe(b)
    ws.ping_pong()
    wait_until(lambda: set(sdk.channels_info(prefix_filter=f"public-{tag}")["channels"]) == {a},
               what="unsubscribed channel dropped from /channels")


def test_channels_info_user_count_for_presence(sdk, ws_factory):
    tag = unique("")
    p1, p2 = f"presence-{tag}-1", f"presence-{tag}-2"
    for uid in ("x", "y", "x"):
        ws_factory().subscribe_presence(p1, sdk, uid)
    ws_factory().subscribe_presence(p2, sdk, "z")
    res = sdk.channels_info(prefix_filter=f"presence-{tag}", attributes=["user_count"])
    assert res["channels"] == {p1: {"user_count": 2}, p2: {"user_count": 1}}, res


def test_channel_info_counts(sdk, ws_factory):
    ch = unique("public-")
    assert sdk.channel_info(ch, ["subscription_count"])["occupied"] is False
    for _ in range(3):
        ws_factory().subscribe_ok(ch)
    info = sdk.channel_info(ch, ["subscription_count"])
    assert info["occupied"] is True
    assert info["subscription_count"] == 3


def test_channel_info_presence_user_count(sdk, ws_factory):
    ch = unique("presence-")
    ws_factory().subscribe_presence(ch, sdk, "one")
    ws_factory().subscribe_presence(ch, sdk, "two")
    info = sdk.channel_info(ch, ["user_count", "subscription_count"])
    assert info["occupied"] is True
    assert info["user_count"] == 2
    assert info["subscription_count"] == 2


def test_users_info_lists_presence_users(sdk, ws_factory):
    ch = unique("presence-")
    for uid in ("ann", "ben", "ann"):
        ws_factory().subscribe_presence(ch, sdk, uid)
    users = sdk.users_info(ch)["users"]
    assert sorted(users, key=lambda u: u["id"]) == [{"id": "ann"}, {"id": "ben"}]


def test_users_info_on_non_presence_channel_is_400(server):
    res = signed_request(server, "GET", f"/apps/1/channels/{unique('public-')}/users")
    _json_error(res, 400)


# ---------------------------------------------------------------------------
# Users: terminate connections, send to user


def _signed_in(ws_factory, sdk, user_id):
    ws = ws_factory()
    ws.signin(sdk, {"id": user_id})
    return ws


def test_terminate_user_connections_closes_all_user_sockets_4009(sdk, ws_factory):
    uid = unique("term-")
    s1 = _signed_in(ws_factory, sdk, uid)
    s2 = _signed_in(ws_factory, sdk, uid)
    bystander = _signed_in(ws_factory, sdk, unique("keep-"))
    anonymous = ws_factory()
    assert sdk.terminate_user_connections(uid) == {}
    for s in (s1, s2):
        code, _reason, frames = s.expect_close(timeout=5)
        assert code == 4009, (code, [f.raw for f in frames])
    bystander.ping_pong()
    anonymous.ping_pong()


def test_terminate_connections_under_apps_path(server, sdk, ws_factory):
    uid = unique("term-")
    s1 = _signed_in(ws_factory, sdk, uid)
    res = signed_request(server, "POST", f"/apps/1/users/{uid}/terminate_connections", body={})
    assert res.status == 200, res
    assert res.json == {}, res
    code, _reason, _frames = s1.expect_close(timeout=5)
    assert code == 4009


def test_terminate_connections_of_unknown_user_is_ok(sdk):
    assert sdk.terminate_user_connections(unique("nobody-")) == {}


def test_send_to_user_reaches_only_that_user(sdk, ws_factory):
    alice_id, bob_id = unique("alice-"), unique("bob-")
    alice = _signed_in(ws_factory, sdk, alice_id)
    bob = _signed_in(ws_factory, sdk, bob_id)
    a_ch, b_ch = f"#server-to-user-{alice_id}", f"#server-to-user-{bob_id}"
    alice.subscribe_ok(a_ch, auth="")
    bob.subscribe_ok(b_ch, auth="")
    sdk.send_to_user(alice_id, "direct", {"to": "alice"})
    ev = alice.expect("direct", channel=a_ch)
    assert ev["data"] == {"to": "alice"}
    time.sleep(0.2)
    bob.ping_pong()


def test_send_to_user_reaches_every_socket_of_that_user(sdk, ws_factory):
    uid = unique("multi-")
    ch = f"#server-to-user-{uid}"
    sockets = [_signed_in(ws_factory, sdk, uid) for _ in range(2)]
    for s in sockets:
        s.subscribe_ok(ch, auth="")
    sdk.send_to_user(uid, "both", {"n": 2})
    for s in sockets:
        assert s.expect("both", channel=ch)["data"] == {"n": 2}
