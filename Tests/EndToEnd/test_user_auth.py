"""User authentication: pusher:signin and the #server-to-user- channel."""

import json

from helpers import make_sdk, unique


def test_signin_with_sdk_signature_succeeds(sdk, ws_factory):
    ws = ws_factory()
    user = {"id": unique("user-"), "user_info": {"name": "Signed In"}, "watchlist": ["a", "b"]}
    payload = sdk.authenticate_user(ws.socket_id, user)
    ws.send_event("pusher:signin", {"auth": payload["auth"], "user_data": payload["user_data"]})
    ev = ws.expect("pusher:signin_success")
    assert isinstance(ev.raw_data, str)
    # user_data comes back as the string that was signed
    assert isinstance(ev["data"]["user_data"], str)
    assert json.loads(ev["data"]["user_data"]) == user
    ws.ping_pong()


def test_signin_with_bad_signature_errors_and_closes_4009(server, ws_factory):
    wrong = make_sdk(server, "1", secret="wrong-secret")
    ws = ws_factory()
    payload = wrong.authenticate_user(ws.socket_id, {"id": unique("user-")})
    ws.send_event("pusher:signin", {"auth": payload["auth"], "user_data": payload["user_data"]})
    code, _reason, frames = ws.expect_close(timeout=5)
    errors = [f for f in frames if f.get("event") == "pusher:error"]
    assert errors, f"no pusher:error before close; frames {[f.raw for f in frames]}"
    assert errors[-1]["data"]["code"] == 4009, errors[-1].raw
    assert code == 4009, code
    assert not any(f.get("event") == "pusher:signin_success" for f in frames)


def test_signin_signed_for_another_socket_is_refused(sdk, ws_factory):
    a, b = ws_factory(), ws_factory()
    payload = sdk.authenticate_user(a.socket_id, {"id": unique("user-")})
    b.send_event("pusher:signin", {"auth": payload["auth"], "user_data": payload["user_data"]})
    code, _reason, frames = b.expect_close(timeout=5)
    assert code == 4009, (code, [f.raw for f in frames])
    a.ping_pong()


def test_signin_with_tampered_user_data_is_refused(sdk, ws_factory):
    ws = ws_factory()
    payload = sdk.authenticate_user(ws.socket_id, {"id": "honest"})
    ws.send_event("pusher:signin", {"auth": payload["auth"], "user_data": json.dumps({"id": "admin"})})
    code, _reason, frames = ws.expect_close(timeout=5)
    assert code == 4009, (code, [f.raw for f in frames])


def test_server_to_user_channel_allowed_for_signed_in_user(sdk, ws_factory):
    uid = unique("user-")
    ws = ws_factory()
    ws.signin(sdk, {"id": uid})
    ws.subscribe_ok(f"#server-to-user-{uid}", auth="")


def test_server_to_user_channel_refused_without_signin_403(ws_factory):
    uid = unique("user-")
    ws = ws_factory()
    ch = f"#server-to-user-{uid}"
    ws.subscribe(ch, auth="")
    ev = ws.expect("pusher:subscription_error", channel=ch)
    assert ev["data"]["status"] == 403, ev.raw
    assert isinstance(ev["data"]["error"], str) and ev["data"]["error"]


def test_server_to_user_channel_of_another_user_refused_403(sdk, ws_factory):
    me, victim = unique("me-"), unique("victim-")
    ws = ws_factory()
    ws.signin(sdk, {"id": me})
    ch = f"#server-to-user-{victim}"
    ws.subscribe(ch, auth="")
    ev = ws.expect("pusher:subscription_error", channel=ch)
    assert ev["data"]["status"] == 403, ev.raw
    # and send_to_user(victim) does not reach this socket
    sdk.send_to_user(victim, "private-note", {})
    import time

    time.sleep(0.2)
    ws.ping_pong()
