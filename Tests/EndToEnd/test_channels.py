"""Subscriptions and delivery: public, private, private-encrypted, cache channels.

Events are published with the official `pusher` HTTP SDK and received on raw
WebSockets; auth signatures come from the SDK's `authenticate`.
"""

import base64
import hashlib
import json
import time

import nacl.secret
import pytest

from helpers import ENCRYPTION_MASTER_KEY_B64, PusherWS, private_auth, presence_auth, unique


def test_public_channel_receives_sdk_trigger_with_data_string_unchanged(sdk, ws_factory):
    ws = ws_factory()
    ch = unique("public-")
    ev = ws.subscribe_ok(ch)
    assert isinstance(ev.raw_data, str)
    assert ev["data"] == {}
    payload = {"message": "héllo", "n": 1, "nested": {"a": [1, 2, 3]}}
    sdk.trigger(ch, "my-event", payload)
    got = ws.expect("my-event", channel=ch)
    # The SDK JSON-encodes the payload; the broker must relay that string untouched.
    assert got.raw_data == json.dumps(payload, ensure_ascii=False)
    assert got["data"] == payload


def test_public_subscribe_with_empty_auth_like_pusher_js(sdk, ws_factory):
    # pusher-js sends {"auth": "", "channel": ...} for public channels.
    ws = ws_factory()
    ch = unique("public-")
    ws.subscribe_ok(ch, auth="")
    sdk.trigger(ch, "e", {})
    ws.expect("e", channel=ch)


def test_plain_string_data_is_relayed_as_the_same_string(sdk, ws_factory):
    ws = ws_factory()
    ch = unique("public-")
    ws.subscribe_ok(ch)
    sdk.trigger(ch, "text", "just a string, not JSON")
    got = ws.expect("text", channel=ch)
    assert got.raw_data == "just a string, not JSON"


def test_every_subscriber_receives_the_event(sdk, ws_factory):
    ch = unique("public-")
    clients = [ws_factory() for _ in range(3)]
    for c in clients:
        c.subscribe_ok(ch)
    sdk.trigger(ch, "fan-out", {"x": 1})
    for c in clients:
        assert c.expect("fan-out", channel=ch)["data"] == {"x": 1}


def test_subscribing_twice_is_harmless(sdk, ws_factory):
    ws = ws_factory()
    ch = unique("public-")
    ws.subscribe_ok(ch)
    ws.subscribe(ch)
    ws.send_event("pusher:ping", {})
    # Before the pong, at most a second subscription_succeeded; no error.
    while True:
        ev = ws.recv_event(timeout=5)
        if ev["event"] == "pusher:pong":
            break
        assert ev["event"] == "pusher_internal:subscription_succeeded", ev.raw
    sdk.trigger(ch, "once", {})
    ws.expect("once", channel=ch)
    time.sleep(0.2)
    ws.ping_pong()  # delivered exactly once


def test_private_channel_with_sdk_auth_succeeds(sdk, ws_factory):
    ws = ws_factory()
    ch = unique("private-")
    ev = ws.subscribe_ok(ch, auth=private_auth(sdk, ch, ws.socket_id))
    assert ev["data"] == {}
    sdk.trigger(ch, "secret-event", {"ok": True})
    assert ws.expect("secret-event", channel=ch)["data"] == {"ok": True}


def _assert_auth_error(ws, ch, status=401):
    ev = ws.expect("pusher:subscription_error", channel=ch)
    assert isinstance(ev.raw_data, str)
    data = ev["data"]
    assert data["status"] == status, data
    assert isinstance(data.get("error"), str) and data["error"], data
    assert isinstance(data.get("type"), str) and data["type"], data
    return ev


def test_private_channel_with_forged_signature_is_refused_401(sdk, ws_factory):
    ws = ws_factory()
    ch = unique("private-")
    good = private_auth(sdk, ch, ws.socket_id)
    key, sig = good.split(":")
    forged = f"{key}:{sig[:-4]}{'0000' if sig[-4:] != '0000' else '1111'}"
    ws.subscribe(ch, auth=forged)
    _assert_auth_error(ws, ch)
    # Not subscribed: a trigger does not reach it.
    sdk.trigger(ch, "leak", {})
    time.sleep(0.3)
    ws.ping_pong()


def test_private_channel_with_auth_signed_by_another_secret_is_refused_401(server, ws_factory):
    from helpers import make_sdk

    wrong = make_sdk(server, "1", secret="not-the-secret")
    ws = ws_factory()
    ch = unique("private-")
    ws.subscribe(ch, auth=private_auth(wrong, ch, ws.socket_id))
    _assert_auth_error(ws, ch)


def test_private_channel_with_auth_for_another_socket_is_refused_401(sdk, ws_factory):
    a = ws_factory()
    b = ws_factory()
    ch = unique("private-")
    b.subscribe(ch, auth=private_auth(sdk, ch, a.socket_id))
    _assert_auth_error(b, ch)


def test_private_channel_without_auth_is_refused_401(ws_factory):
    ws = ws_factory()
    ch = unique("private-")
    ws.subscribe(ch)
    _assert_auth_error(ws, ch)


def test_private_channel_auth_for_another_channel_is_refused_401(sdk, ws_factory):
    ws = ws_factory()
    ch = unique("private-")
    ws.subscribe(ch, auth=private_auth(sdk, ch + "x", ws.socket_id))
    _assert_auth_error(ws, ch)


def test_private_channel_auth_with_another_apps_key_is_refused(sdk, server, ws_factory):
    from helpers import make_sdk

    other = make_sdk(server, "2")
    ws = ws_factory()
    ch = unique("private-")
    ws.subscribe(ch, auth=private_auth(other, ch, ws.socket_id))
    ev = ws.expect("pusher:subscription_error", channel=ch)
    assert ev["data"]["status"] in (401, 403), ev.raw


@pytest.mark.parametrize("name", ["bad channel!", "x" * 165, "ümlaut"], ids=["space-bang", "too-long", "non-ascii"])
def test_invalid_channel_name_is_refused(ws_factory, name):
    ws = ws_factory()
    ws.subscribe(name)
    ev = ws.recv_event(timeout=5)
    assert ev["event"] in ("pusher:error", "pusher:subscription_error"), ev.raw
    if ev["event"] == "pusher:subscription_error":
        assert ev["data"]["status"] == 400, ev.raw
    else:
        assert 4000 <= ev["data"]["code"] <= 4999, ev.raw
    ws.ping_pong()  # the connection survives


def test_channel_name_of_164_characters_is_accepted(ws_factory):
    ws = ws_factory()
    ch = unique("public-")
    ch = ch + "a" * (164 - len(ch))
    assert len(ch) == 164
    ws.subscribe_ok(ch)


def test_private_encrypted_channel_relays_ciphertext_untouched(sdk, ws_factory):
    ws = ws_factory()
    ch = unique("private-encrypted-")
    ws.subscribe_ok(ch, auth=private_auth(sdk, ch, ws.socket_id))
    payload = {"secret": "plans", "n": 42}
    sdk.trigger(ch, "enc-event", payload)
    got = ws.expect("enc-event", channel=ch)
    assert isinstance(got.raw_data, str)
    data = got["data"]
    assert set(data) == {"nonce", "ciphertext"}, data
    # Decrypt as pusher-js does: key = sha256(channel + master key).
    key = hashlib.sha256(ch.encode() + base64.b64decode(ENCRYPTION_MASTER_KEY_B64)).digest()
    box = nacl.secret.SecretBox(key)
    plain = box.decrypt(base64.b64decode(data["ciphertext"]), base64.b64decode(data["nonce"]))
    assert json.loads(plain) == payload


def test_unsubscribe_stops_delivery(sdk, ws_factory):
    ws = ws_factory()
    ch = unique("public-")
    ws.subscribe_ok(ch)
    sdk.trigger(ch, "before", {})
    ws.expect("before", channel=ch)
    ws.unsubscribe(ch)
    ws.ping_pong()  # unsubscribe processed (answered in order, and it has no reply)
    sdk.trigger(ch, "after", {})
    time.sleep(0.3)
    ws.ping_pong()


def test_unsubscribe_of_unknown_channel_is_silent(ws_factory):
    ws = ws_factory()
    ws.unsubscribe(unique("public-"))
    ws.ping_pong()


def test_trigger_with_socket_id_excludes_that_socket(sdk, ws_factory):
    a = ws_factory()
    b = ws_factory()
    ch = unique("public-")
    a.subscribe_ok(ch)
    b.subscribe_ok(ch)
    sdk.trigger(ch, "excluded", {"v": 1}, socket_id=a.socket_id)
    assert b.expect("excluded", channel=ch)["data"] == {"v": 1}
    time.sleep(0.2)
    a.ping_pong()


def test_closed_socket_no_longer_counts_as_subscriber(sdk, ws_factory):
    a = ws_factory()
    ch = unique("public-")
    a.subscribe_ok(ch)
    a.close()
    from helpers import wait_until

    wait_until(lambda: not sdk.channel_info(ch).get("occupied"), timeout=5, what=f"{ch} vacated")


# ---------------------------------------------------------------------------
# Cache channels

CACHE_PREFIXES = ["cache-", "private-cache-", "presence-cache-", "private-encrypted-cache-"]


def subscribe_any(ws, sdk, ch, user_id="cache-user"):
    """Subscribe with whatever auth the channel kind needs, without waiting."""
    if ch.startswith("presence-"):
        auth, cd = presence_auth(sdk, ch, ws.socket_id, user_id, {"name": user_id})
        ws.subscribe(ch, auth=auth, channel_data=cd)
    elif ch.startswith("private-"):
        ws.subscribe(ch, auth=private_auth(sdk, ch, ws.socket_id))
    else:
        ws.subscribe(ch)


@pytest.mark.parametrize("prefix", CACHE_PREFIXES)
def test_cache_channel_sends_cache_miss_when_empty(sdk, ws_factory, prefix):
    ws = ws_factory()
    ch = unique(prefix)
    subscribe_any(ws, sdk, ch)
    ws.expect("pusher_internal:subscription_succeeded", channel=ch)
    ev = ws.expect("pusher:cache_miss", channel=ch)
    assert ev["channel"] == ch


@pytest.mark.parametrize("prefix", CACHE_PREFIXES)
def test_cache_channel_replays_last_event_to_new_subscriber(sdk, ws_factory, prefix):
    first = ws_factory()
    ch = unique(prefix)
    subscribe_any(first, sdk, ch, "first-user")
    first.expect("pusher_internal:subscription_succeeded", channel=ch)
    first.expect("pusher:cache_miss", channel=ch)
    sdk.trigger(ch, "price", {"v": 1})
    first.expect("price", channel=ch)
    sdk.trigger(ch, "price", {"v": 2})
    last = first.expect("price", channel=ch)

    second = ws_factory()
    subscribe_any(second, sdk, ch, "second-user")
    second.expect("pusher_internal:subscription_succeeded", channel=ch)
    replay = second.expect("price", channel=ch)
    assert replay.raw_data == last.raw_data  # the last event, exactly as delivered
    if prefix == "private-encrypted-cache-":
        assert set(replay["data"]) == {"nonce", "ciphertext"}
    else:
        assert replay["data"] == {"v": 2}
    second.ping_pong()  # replayed once, and no cache_miss


def test_cache_channel_keeps_last_event_published_while_unoccupied(sdk, ws_factory):
    ch = unique("cache-")
    sdk.trigger(ch, "state", {"v": "kept"})
    ws = ws_factory()
    ws.subscribe_ok(ch)
    replay = ws.expect("state", channel=ch)
    assert replay["data"] == {"v": "kept"}


def test_non_cache_channel_sends_no_cache_miss(ws_factory):
    ws = ws_factory()
    ch = unique("public-")
    ws.subscribe_ok(ch)
    ws.ping_pong()
