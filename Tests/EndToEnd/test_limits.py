"""Protection against buggy and hostile clients: size limits, rate limits, floods,
slow consumers, slow handshakes, connection quotas, HTTP API rate limits, origin
allow-lists, and `check-config` reporting every limit.

Most tests start a dedicated server with small limits (the `switchboard` factory
fixture) so a limit is reached with a handful of frames. The key property checked
throughout: abuse by one connection never affects the others.
"""

from __future__ import annotations

import base64
import json
import os
import select
import socket
import struct
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus

from conftest import _binary
from helpers import WS_QUERY, Event, PusherWS, RawWS, make_sdk, signed_request, unique, wait_until


# ---------------------------------------------------------------------------
# Local helpers


@pytest.fixture
def clients():
    """Open PusherWS clients against any server; all closed at the end."""
    opened: list[PusherWS] = []

    def connect(srv, key="app-key", **kw) -> PusherWS:
        ws = PusherWS.connect(srv, key=key, **kw)
        opened.append(ws)
        return ws

    yield connect
    for ws in opened:
        ws.close()


def assert_pusher_error(ev, code=None, allow_null_code=False):
    """`ev` is a pusher:error whose data (a JSON string) has a non-empty message
    and the expected code (or, when allowed, a null/absent one)."""
    assert ev.get("event") == "pusher:error", f"expected pusher:error, got {ev.raw}"
    assert isinstance(ev.raw_data, str), f"pusher:error data must be a JSON-encoded string: {ev.raw}"
    data = ev["data"]
    assert isinstance(data, dict), ev.raw
    assert isinstance(data.get("message"), str) and data["message"], f"no message: {ev.raw}"
    got = data.get("code")
    if code is not None:
        assert got == code, f"expected code {code}, got {ev.raw}"
    elif allow_null_code:
        assert got is None or (isinstance(got, int) and 4000 <= got <= 4999), ev.raw
    else:
        assert isinstance(got, int) and 4000 <= got <= 4999, ev.raw


def expect_refused(ws: PusherWS, code: int):
    """The server sends pusher:error `code` and closes with `code`, never established."""
    close_code, _reason, frames = ws.expect_close(timeout=5)
    raws = [f.raw for f in frames]
    assert close_code == code, f"close code {close_code}, expected {code}; frames {raws}"
    errors = [f for f in frames if f.get("event") == "pusher:error"]
    assert errors, f"no pusher:error before close {code}; frames {raws}"
    assert_pusher_error(errors[-1], code)
    assert not any(f.get("event") == "pusher:connection_established" for f in frames), raws


def collect_events(ws: PusherWS, name: str, count: int, timeout: float, into: list):
    """Append the `data` of `count` `name` frames to `into` (other frames are a failure)."""
    deadline = time.monotonic() + timeout
    while len(into) < count:
        left = deadline - time.monotonic()
        if left <= 0:
            return
        try:
            ev = ws.recv_event(timeout=left)
        except (TimeoutError, ConnectionClosed):
            return
        if ev.get("event") != name:
            into.append(("unexpected", ev.raw))
            return
        into.append(ev["data"])


def read_until(sock: socket.socket, timeout: float, done=lambda got: False) -> tuple[bool, bytes]:
    """Read until `done(bytes so far)`, EOF/reset, or `timeout`; (closed by peer?, bytes received)."""
    deadline = time.monotonic() + timeout
    got = b""
    while not done(got):
        left = deadline - time.monotonic()
        if left <= 0:
            return False, got
        r, _, _ = select.select([sock], [], [], left)
        if not r:
            continue
        try:
            chunk = sock.recv(65536)
        except (ConnectionResetError, ConnectionAbortedError):
            return True, got
        if not chunk:
            return True, got
        got += chunk
    return False, got


def closed_by_peer(sock: socket.socket, timeout: float) -> tuple[bool, bytes]:
    """Read until EOF/reset or `timeout`; (closed?, bytes received)."""
    return read_until(sock, timeout)


def api_get_channels(srv, app_id="1"):
    return signed_request(srv, "GET", f"/apps/{app_id}/channels", app_id=app_id)


def read_until_status_or_close(sock: socket.socket, timeout: float) -> tuple[bool, bytes]:
    """Read until an HTTP status line has arrived, EOF/reset, or `timeout`."""
    return read_until(sock, timeout, done=lambda got: b"\r\n" in got)


def as_event(payload: bytes) -> Event:
    """A text frame's payload as a helpers.Event (data decoded when a JSON string)."""
    text = payload.decode()
    ev = Event(json.loads(text))
    ev.raw = text
    ev.raw_data = ev.get("data")
    if isinstance(ev.raw_data, str):
        try:
            ev["data"] = json.loads(ev.raw_data)
        except ValueError:
            pass
    return ev


# ---------------------------------------------------------------------------
# 1. max_payload_bytes: an oversized WebSocket message closes with 1009


def test_websocket_message_over_max_payload_bytes_closes_1009_others_unaffected(switchboard, clients):
    srv = switchboard(limits={"max_payload_bytes": 2048, "max_event_bytes": 1024})
    sdk = make_sdk(srv)
    ch = unique("public-")
    bystander = clients(srv)
    bystander.subscribe_ok(ch)
    # compression=None: the 4096 bytes must be 4096 bytes on the wire too.
    abuser = clients(srv, compression=None)
    head, tail = '{"event":"pusher:ping","data":{"pad":"', '"}}'
    pad = base64.b64encode(os.urandom(4096)).decode()[:4096 - len(head) - len(tail)]
    text = head + pad + tail
    assert len(text.encode()) == 4096
    abuser.send_raw(text)
    code, _reason, frames = abuser.expect_close(timeout=5)
    assert code == 1009, f"close code {code}; frames {[f.raw for f in frames]}"

    bystander.ping_pong()
    sdk.trigger(ch, "after-oversize", {"ok": 1})
    assert bystander.expect("after-oversize", channel=ch)["data"] == {"ok": 1}
    clients(srv).ping_pong()  # new connections are still accepted


def test_websocket_message_over_default_max_payload_bytes_closes_1009(server):
    abuser = PusherWS.connect(server, compression=None)
    other = PusherWS.connect(server)
    try:
        abuser.send_raw(json.dumps({"event": "pusher:ping", "data": {"pad": "q" * 110_000}}))
        code, _reason, frames = abuser.expect_close(timeout=5)
        assert code == 1009, f"close code {code}; frames {[f.raw for f in frames]}"
        other.ping_pong()
    finally:
        abuser.close()
        other.close()


def test_websocket_message_of_exactly_max_payload_bytes_is_accepted(switchboard, clients):
    srv = switchboard(limits={"max_payload_bytes": 2048, "max_event_bytes": 1024})
    ws = clients(srv, compression=None)
    head = '{"event":"pusher:ping","data":{"pad":"'
    tail = '"}}'
    text = head + "x" * (2048 - len(head) - len(tail)) + tail
    assert len(text.encode()) == 2048
    ws.send_raw(text)
    ev = ws.recv_event(timeout=5)
    assert ev["event"] == "pusher:pong", ev.raw
    ws.ping_pong()


# ---------------------------------------------------------------------------
# 2. max_event_bytes for client events: pusher:error 4301, connection stays


def test_client_event_over_max_event_bytes_gets_4301_and_connection_stays(sdk, ws_factory):
    ch = unique("private-")
    sender, receiver = ws_factory(), ws_factory()
    sender.subscribe_private(ch, sdk)
    receiver.subscribe_private(ch, sdk)

    sender.send_event("client-huge", {"blob": "x" * 10300}, channel=ch)  # > 10240 serialised
    assert_pusher_error(sender.recv_event(timeout=5), 4301)
    sender.ping_pong()

    sender.send_event("client-fits", {"blob": "y" * 9000}, channel=ch)  # < 10240 serialised
    ev = receiver.expect("client-fits", channel=ch)  # the huge one was never relayed
    assert ev["data"] == {"blob": "y" * 9000}
    sender.ping_pong()


def test_client_event_over_configured_max_event_bytes_gets_4301(switchboard, clients):
    srv = switchboard(limits={"max_event_bytes": 1000})
    sdk = make_sdk(srv)
    ch = unique("private-")
    sender, receiver = clients(srv), clients(srv)
    sender.subscribe_private(ch, sdk)
    receiver.subscribe_private(ch, sdk)
    sender.send_event("client-big", "z" * 1500, channel=ch)
    assert_pusher_error(sender.recv_event(timeout=5), 4301)
    sender.send_event("client-small", "z" * 500, channel=ch)
    assert receiver.expect("client-small", channel=ch).raw_data == "z" * 500
    sender.ping_pong()


# ---------------------------------------------------------------------------
# 3. max_channels_per_connection: subscription_error 400 LimitReached


def test_subscribing_past_max_channels_per_connection_is_400_limit_reached(switchboard, clients):
    srv = switchboard(limits={"max_channels_per_connection": 3})
    sdk = make_sdk(srv)
    ws = clients(srv)
    chans = [unique("public-") for _ in range(3)]
    for ch in chans:
        ws.subscribe_ok(ch)
    extra = unique("public-")
    ws.subscribe(extra)
    ev = ws.expect("pusher:subscription_error", channel=extra)
    assert isinstance(ev.raw_data, str), ev.raw
    assert ev["data"]["status"] == 400, ev.raw
    assert ev["data"]["type"] == "LimitReached", ev.raw
    assert isinstance(ev["data"].get("error"), str) and ev["data"]["error"], ev.raw
    ws.ping_pong()  # the connection stays

    # Not subscribed to the refused channel; still subscribed to the others.
    sdk.trigger(extra, "nope", {})
    sdk.trigger(chans[0], "yes", {})
    assert ws.expect("yes", channel=chans[0])["data"] == {}

    # Unsubscribing frees a slot.
    ws.unsubscribe(chans[1])
    ws.subscribe_ok(extra)
    ws.ping_pong()


# ---------------------------------------------------------------------------
# 4. Inbound flood: dropped frames get 4301, then close 4301; others unaffected

FLOOD_LIMITS = {
    "inbound_messages_per_second": 5,
    "inbound_messages_burst": 5,
    "inbound_violations_before_close": 3,
}


def _flood_once(srv, pings=50):
    """Blast `pings` pusher:ping frames in one write, then read every frame up to
    the close frame. Returns (close code or None, frames before it as Events).

    A raw socket, not `websockets`: that client may lose frames already received
    when its own sends hit the socket the server has just closed."""
    ws = RawWS.connect(srv)
    try:
        assert ws.recv_json()["event"] == "pusher:connection_established"
        payload = json.dumps({"event": "pusher:ping", "data": {}}).encode()
        blast = b""
        for _ in range(pings):
            mask = os.urandom(4)
            blast += struct.pack("!BB", 0x81, 0x80 | len(payload)) + mask
            blast += bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        ws.sock.sendall(blast)
        frames = []
        deadline = time.monotonic() + 5
        while True:
            try:
                opcode, data = ws.recv_frame(timeout=max(0.01, deadline - time.monotonic()))
            except (EOFError, ConnectionResetError, ConnectionAbortedError):
                return None, frames
            if opcode == 8:
                return (struct.unpack("!H", data[:2])[0] if len(data) >= 2 else None), frames
            assert opcode == 1, f"unexpected opcode {opcode}"
            frames.append(as_event(data))
    finally:
        ws.close()


def test_ping_flood_gets_4301_errors_then_close_4301(switchboard):
    srv = switchboard(limits=FLOOD_LIMITS)
    code, frames = _flood_once(srv)
    raws = [f.raw for f in frames]
    assert code == 4301, f"close code {code}; frames {raws}"
    pongs = [f for f in frames if f.get("event") == "pusher:pong"]
    errors = [f for f in frames if f.get("event") == "pusher:error"]
    assert all(f.get("event") in ("pusher:pong", "pusher:error") for f in frames), raws
    assert frames and frames[0].get("event") == "pusher:pong", f"the burst is served first: {raws}"
    assert 1 <= len(pongs) <= 7, f"{len(pongs)} pongs for burst 5 at 5/s: {raws}"
    assert errors, f"no pusher:error for dropped frames before close: {raws}"
    assert len(errors) <= 3, f"at most inbound_violations_before_close errors: {raws}"
    for e in errors:
        assert_pusher_error(e, 4301)


def test_flood_does_not_delay_or_drop_events_for_healthy_client(switchboard, clients):
    srv = switchboard(limits=FLOOD_LIMITS)
    sdk = make_sdk(srv)
    ch = unique("public-")
    healthy = clients(srv, max_queue=None)
    healthy.subscribe_ok(ch)

    stop = threading.Event()
    rounds: list = []
    failures: list = []

    def flooder():
        while not stop.is_set():
            try:
                rounds.append(_flood_once(srv))
            except Exception as e:  # reported below
                failures.append(repr(e))
                return

    threads = [threading.Thread(target=flooder, daemon=True) for _ in range(2)]
    for t in threads:
        t.start()
    try:
        wait_until(lambda: len(rounds) >= 1 or failures, timeout=5, what="a first flood round")
        n = 50
        for i in range(n):
            sdk.trigger(ch, "during-flood", {"i": i})
        received: list = []
        collect_events(healthy, "during-flood", n, timeout=8, into=received)
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=6)
    assert received == [{"i": i} for i in range(n)], f"healthy client got {len(received)}: {received[:5]}..."
    healthy.ping_pong()
    assert not failures, failures
    assert rounds, "no flood round completed"
    codes = [code for code, _f in rounds]
    assert all(c == 4301 for c in codes), f"flood close codes {codes}"


# ---------------------------------------------------------------------------
# 5. Client event rate with a configurable burst


def test_client_event_burst_5_rate_2_relays_exactly_5_of_10(switchboard, clients):
    srv = switchboard(limits={"client_events_per_second": 2, "client_events_burst": 5})
    sdk = make_sdk(srv)
    ch = unique("private-")
    sender, receiver = clients(srv), clients(srv)
    sender.subscribe_private(ch, sdk)
    receiver.subscribe_private(ch, sdk)

    for i in range(10):
        sender.send_event("client-burst", {"i": i}, channel=ch)
    sender.send_event("pusher:ping", {})
    errors = []
    while True:
        ev = sender.recv_event(timeout=5)
        if ev["event"] == "pusher:pong":
            break
        assert_pusher_error(ev, 4301)
        errors.append(ev)
    assert len(errors) == 5, f"{len(errors)} refusals: {[e.raw for e in errors]}"

    relayed = []
    collect_events(receiver, "client-burst", 10, timeout=1.0, into=relayed)
    assert relayed == [{"i": i} for i in range(5)], relayed

    # The connection stays and a token comes back after 1/rate s.
    sender.ping_pong()
    time.sleep(0.8)
    sender.send_event("client-later", {"ok": True}, channel=ch)
    assert receiver.expect("client-later", channel=ch)["data"] == {"ok": True}
    sender.ping_pong()


# ---------------------------------------------------------------------------
# 6/7. Binary and malformed frames: pusher:error, connection stays


def test_binary_websocket_message_gets_pusher_error_and_connection_stays(ws_factory):
    ws = ws_factory()
    ws.ws.send(b"\x00\x01\x02binary\xff")
    assert_pusher_error(ws.recv_event(timeout=5), allow_null_code=True)
    ws.ping_pong()
    ch = unique("public-")
    ws.subscribe_ok(ch)


@pytest.mark.parametrize(
    "frame",
    [
        "this is not json",
        '{"event": "pusher:ping", "data": ',
        '[{"event": "pusher:ping"}]',
        '"pusher:ping"',
        '{"data": {}}',
        '{"event": 42, "data": {}}',
        '{"event": null, "data": {}}',
        '{"event": "pusher:foo", "data": {}}',
        '{"event": "pusher:subscribe"}',
    ],
    ids=["not-json", "truncated-json", "json-array", "json-string", "missing-event",
         "event-not-string", "event-null", "unknown-pusher-event", "subscribe-without-data"],
)
def test_malformed_frame_gets_pusher_error_and_connection_stays(ws_factory, frame):
    ws = ws_factory()
    ws.send_raw(frame)
    assert_pusher_error(ws.recv_event(timeout=5), allow_null_code=True)
    ws.ping_pong()
    ws.subscribe_ok(unique("public-"))


def test_private_subscribe_without_auth_is_401_and_connection_stays(ws_factory):
    ws = ws_factory()
    ch = unique("private-")
    ws.subscribe(ch)
    ev = ws.expect("pusher:subscription_error", channel=ch)
    assert isinstance(ev.raw_data, str), ev.raw
    assert ev["data"]["status"] == 401, ev.raw
    ws.ping_pong()


# ---------------------------------------------------------------------------
# 8. Slow consumer: a socket that stops reading is closed (4100); others get everything

SLOW_EVENT_PAD = 8_000      # bytes of data per event (under the default max_event_bytes)
SLOW_BATCH = 10             # the default max_batch_size


def _slow_event_count() -> int:
    """Enough 8 KB events to overflow what the kernel absorbs before the server's own
    buffer grows: Linux autotunes the server's send buffer up to tcp_wmem's maximum
    (4 MiB by default; measured: 200 x 8 KB all fit in it), so send that plus 2 MiB."""
    try:
        wmem_max = int(Path("/proc/sys/net/ipv4/tcp_wmem").read_text().split()[2])
    except (OSError, ValueError, IndexError):
        wmem_max = 4 * 1024 * 1024
    total = min(wmem_max, 16 * 1024 * 1024) + 2 * 1024 * 1024
    count = -(-total // SLOW_EVENT_PAD)
    return -(-count // SLOW_BATCH) * SLOW_BATCH


SLOW_EVENTS = _slow_event_count()   # 800 with the default 4 MiB tcp_wmem maximum


def test_slow_consumer_is_closed_and_healthy_subscriber_gets_every_event(switchboard, clients):
    srv = switchboard(limits={"max_outbound_buffer_bytes": 65536})
    sdk = make_sdk(srv)
    ch = unique("public-")

    slow = RawWS.connect(srv, rcvbuf=4096)
    try:
        assert slow.recv_json()["event"] == "pusher:connection_established"
        slow.send_text(json.dumps({"event": "pusher:subscribe", "data": {"channel": ch}}))
        ev = slow.recv_json()
        assert ev["event"] == "pusher_internal:subscription_succeeded", ev
        # From here on `slow` reads nothing until the end.

        healthy = clients(srv, max_queue=None, max_size=None)
        healthy.subscribe_ok(ch)
        received: list = []
        reader = threading.Thread(
            target=collect_events, args=(healthy, "big", SLOW_EVENTS, 12.0, received), daemon=True)
        reader.start()

        pad = "p" * SLOW_EVENT_PAD
        for start in range(0, SLOW_EVENTS, SLOW_BATCH):
            res = signed_request(srv, "POST", "/apps/1/batch_events", body={"batch": [
                {"channel": ch, "name": "big", "data": json.dumps({"i": i, "pad": pad})}
                for i in range(start, start + SLOW_BATCH)
            ]})
            assert res.status == 200, res
        reader.join(timeout=12)
        assert len(received) == SLOW_EVENTS and [d["i"] for d in received] == list(range(SLOW_EVENTS)), \
            f"healthy subscriber got {len(received)} of {SLOW_EVENTS}: {[d.get('i') if isinstance(d, dict) else d for d in received][-5:]}"
        healthy.ping_pong()

        # Now drain the slow socket: the server must have given up on it, so the
        # stream ends (close frame 4100 and/or EOF/RST) before all events arrive.
        events = 0
        close_code = None
        ended = False
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline:
            try:
                opcode, payload = slow.recv_frame(timeout=deadline - time.monotonic())
            except (EOFError, ConnectionResetError, ConnectionAbortedError):
                ended = True
                break
            except TimeoutError:
                break
            if opcode == 8:
                close_code = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else None
                continue  # keep reading until the server drops the TCP connection
            if opcode == 1 and b'"big"' in payload[:40]:
                events += 1
        assert ended or close_code is not None, \
            f"the server never closed the slow consumer (read {events} events, no close, no EOF)"
        assert close_code in (None, 4100), f"slow consumer closed with {close_code}, expected 4100"
        assert events < SLOW_EVENTS, f"slow consumer still got all {events} events: not cut off"
    finally:
        slow.close()

    def subs():
        res = signed_request(srv, "GET", f"/apps/1/channels/{ch}", query={"info": "subscription_count"})
        return res.json and res.json.get("subscription_count") == 1 and res
    wait_until(subs, timeout=3, what="only the healthy subscriber left on the channel")


# ---------------------------------------------------------------------------
# 9. Handshake timeout and header size


def test_silent_tcp_connection_is_closed_after_handshake_timeout(switchboard):
    srv = switchboard(limits={"handshake_timeout_seconds": 1})
    t0 = time.monotonic()
    with socket.create_connection((srv.host, srv.port), timeout=5) as s:
        closed, _data = closed_by_peer(s, timeout=3)
    elapsed = time.monotonic() - t0
    assert closed, "a connection that sent nothing was still open after handshake_timeout + 2 s"
    assert elapsed >= 0.5, f"closed after {elapsed:.2f}s, before the 1 s handshake timeout"
    # The server keeps serving.
    assert api_get_channels(srv).status == 200


def test_slowloris_handshake_is_closed_after_handshake_timeout(switchboard):
    srv = switchboard(limits={"handshake_timeout_seconds": 1})
    request = (f"GET /app/app-key?{WS_QUERY} HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
               "Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n").encode()
    t0 = time.monotonic()
    closed = False
    with socket.create_connection((srv.host, srv.port), timeout=5) as s:
        for i in range(len(request)):
            try:
                s.send(request[i:i + 1])
            except (BrokenPipeError, ConnectionResetError):
                closed = True
                break
            done, _ = closed_by_peer(s, timeout=0.5)
            if done:
                closed = True
                break
            if time.monotonic() - t0 > 3.5:
                break
    elapsed = time.monotonic() - t0
    assert closed, f"a header trickling one byte per 0.5 s was still open after {elapsed:.1f}s"
    assert elapsed <= 3.5, f"closed only after {elapsed:.1f}s (timeout 1 s)"
    assert api_get_channels(srv).status == 200


def test_established_websocket_is_not_subject_to_handshake_timeout(switchboard, clients):
    srv = switchboard(limits={"handshake_timeout_seconds": 1})
    ws = clients(srv)
    time.sleep(2.5)
    ws.ping_pong()


def test_oversized_http_header_is_refused_and_server_keeps_serving(server):
    with socket.create_connection((server.host, server.port), timeout=5) as s:
        try:
            s.sendall(b"GET /apps/1/channels HTTP/1.1\r\nHost: x\r\nX-Pad: " + b"a" * 20_000 + b"\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass  # closed before the whole header was read: acceptable
        closed, data = read_until_status_or_close(s, timeout=5)
    assert closed or data, "no answer and no close within 5 s for a 20 KB header"
    if data:
        status_line = data.split(b"\r\n", 1)[0].decode("latin-1")
        assert status_line.split(" ")[1] in ("400", "431"), f"a 20 KB header got {status_line!r}"
    # (no bytes at all: the server just closed the connection, also acceptable)
    assert api_get_channels(server).status == 200
    ws = PusherWS.connect(server)
    try:
        ws.ping_pong()
    finally:
        ws.close()


def test_websocket_upgrade_with_oversized_header_is_refused(switchboard):
    srv = switchboard(limits={"max_http_header_bytes": 4096})
    ok = PusherWS.connect(srv, additional_headers={"X-Pad": "a" * 2000})
    try:
        ok.ping_pong()
    finally:
        ok.close()
    with pytest.raises(Exception) as info:
        PusherWS.connect(srv, additional_headers={"X-Pad": "a" * 6000})
    if isinstance(info.value, InvalidStatus):
        assert info.value.response.status_code in (400, 431), info.value
    PusherWS.connect(srv).close()


# ---------------------------------------------------------------------------
# 10. Connection quotas: node max_connections (4100), app max_connections (4004)


def _admitted_after_close(srv, key="app-key", timeout=3.0) -> PusherWS:
    """Connects until admitted (the server may take a moment to count a close)."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        ws = PusherWS.connect(srv, key=key, handshake=False)
        ev = ws.recv_event(timeout=5)
        if ev.get("event") == "pusher:connection_established":
            ws.established = ev
            ws.socket_id = ev["data"]["socket_id"]
            return ws
        last = ev.raw
        ws.close()
        time.sleep(0.1)
    raise AssertionError(f"no connection admitted within {timeout}s after one closed; last {last}")


def test_node_max_connections_refuses_with_4100_and_frees_on_close(switchboard, clients):
    srv = switchboard(limits={"max_connections": 3})
    a = clients(srv)
    b = clients(srv)
    c = clients(srv, key="noclient-key")  # the node-wide quota counts every app
    fourth = clients(srv, handshake=False)
    expect_refused(fourth, 4100)
    other_app = clients(srv, key="noclient-key", handshake=False)
    expect_refused(other_app, 4100)
    for ws in (a, b, c):
        ws.ping_pong()  # the admitted ones are unaffected

    b.close()
    again = _admitted_after_close(srv)
    try:
        again.ping_pong()
        # Refusals were not counted: the node is exactly full again.
        expect_refused(clients(srv, handshake=False), 4100)
    finally:
        again.close()


def test_app_max_connections_refuses_with_4004_other_apps_unaffected(switchboard, clients):
    apps = [
        {"id": "1", "key": "app-key", "secret": "app-secret", "client_events": True, "max_connections": 2},
        {"id": "2", "key": "noclient-key", "secret": "noclient-secret"},
    ]
    srv = switchboard(apps=apps)
    a = clients(srv)
    b = clients(srv)
    third = clients(srv, handshake=False)
    expect_refused(third, 4004)
    others = [clients(srv, key="noclient-key") for _ in range(4)]
    for ws in others + [a, b]:
        ws.ping_pong()

    a.close()
    again = _admitted_after_close(srv)
    try:
        again.ping_pong()
        expect_refused(clients(srv, handshake=False), 4004)
    finally:
        again.close()


# ---------------------------------------------------------------------------
# 11. HTTP API rate limit per app: 429 with Retry-After


def _assert_429(res):
    assert res.status == 429, f"expected 429, got {res!r}"
    assert isinstance(res.json, dict) and isinstance(res.json.get("error"), str) and res.json["error"], res
    retry_after = res.headers.get("Retry-After")
    assert retry_after is not None and retry_after.strip().isdigit(), f"Retry-After {retry_after!r}"
    seconds = int(retry_after)
    assert 1 <= seconds <= 5, f"Retry-After {seconds} for a 2/s rate"
    return seconds


def test_http_api_over_rate_gets_429_with_retry_after(switchboard):
    srv = switchboard(limits={"http_requests_per_second": 2, "http_requests_burst": 3})
    statuses = [api_get_channels(srv).status for _ in range(3)]
    assert statuses == [200, 200, 200], statuses
    wait = _assert_429(api_get_channels(srv))
    time.sleep(wait)
    res = api_get_channels(srv)
    assert res.status == 200, f"after waiting Retry-After={wait}s: {res!r}"


def test_http_rate_limit_is_per_app_with_app_override(switchboard):
    apps = [
        {"id": "1", "key": "app-key", "secret": "app-secret",
         "limits": {"http_requests_per_second": 2, "http_requests_burst": 3}},
        {"id": "2", "key": "noclient-key", "secret": "noclient-secret"},
    ]
    srv = switchboard(apps=apps)
    statuses = [api_get_channels(srv, "1").status for _ in range(3)]
    assert statuses == [200, 200, 200], statuses
    wait = _assert_429(api_get_channels(srv, "1"))
    # Another app has its own (default) budget.
    statuses = [api_get_channels(srv, "2").status for _ in range(10)]
    assert statuses == [200] * 10, statuses
    time.sleep(wait)
    assert api_get_channels(srv, "1").status == 200


# ---------------------------------------------------------------------------
# 12. Origin allow-list


ORIGIN_APPS = [
    {"id": "1", "key": "app-key", "secret": "app-secret", "client_events": True,
     "allowed_origins": ["https://good.example", "*.trusted.example"]},
    {"id": "2", "key": "noclient-key", "secret": "noclient-secret"},
]


@pytest.mark.parametrize("origin", ["https://evil.example", "https://eviltrusted.example",
                                    "https://good.example.evil.example"])
def test_websocket_from_disallowed_origin_is_403(switchboard, origin):
    srv = switchboard(apps=ORIGIN_APPS)
    with pytest.raises(InvalidStatus) as info:
        PusherWS.connect(srv, origin=origin)
    assert info.value.response.status_code == 403, info.value
    # The same origin may use an app without an allow-list.
    ws = PusherWS.connect(srv, key="noclient-key", origin=origin)
    try:
        ws.ping_pong()
    finally:
        ws.close()


@pytest.mark.parametrize("origin", ["https://good.example", "https://a.trusted.example", None],
                         ids=["exact", "subdomain-wildcard", "no-origin-header"])
def test_websocket_from_allowed_origin_or_without_origin_is_accepted(switchboard, origin):
    srv = switchboard(apps=ORIGIN_APPS)
    kw = {"origin": origin} if origin else {}
    ws = PusherWS.connect(srv, **kw)
    try:
        ws.ping_pong()
    finally:
        ws.close()


# ---------------------------------------------------------------------------
# 13. check-config prints every limit with its effective value


LIMIT_DEFAULTS = {
    "max_payload_bytes": "102400",
    "max_event_bytes": "10240",
    "client_events_per_second": "10",
    "client_events_burst": "10",
    "activity_timeout_seconds": "120",
    "pong_timeout_seconds": "30",
    "max_channels_per_connection": "100",
    "max_channels_per_trigger": "100",
    "max_batch_size": "10",
    "max_event_name_length": "200",
    "max_presence_members": "100",
    "max_presence_user_info_bytes": "1024",
    "max_user_id_length": "128",
    "auth_timestamp_window_seconds": "600",
    "max_http_body_bytes": "1048576",
    "inbound_messages_per_second": "100",
    "inbound_messages_burst": "200",
    "inbound_violations_before_close": "10",
    "max_outbound_buffer_bytes": "1048576",
    "handshake_timeout_seconds": "10",
    "max_http_header_bytes": "16384",
    "http_requests_per_second": "1000",
    "http_requests_burst": "2000",
    "max_connections": "unlimited",
}


def _check_config(text: str):
    with tempfile.TemporaryDirectory(prefix="sb-e2e-cc-") as d:
        path = Path(d) / "config.yaml"
        path.write_text(text)
        proc = subprocess.run([str(_binary()), "check-config", str(path)],
                              capture_output=True, text=True, timeout=10)
    return proc


def _summary(proc) -> dict:
    out = {}
    for line in proc.stdout.splitlines():
        if ": " in line:
            k, v = line.split(": ", 1)
            out[k.strip()] = v.strip()
    return out


def test_check_config_lists_every_limit_with_its_default():
    proc = _check_config('apps:\n  - { id: "1", key: k, secret: s }\n')
    assert proc.returncode == 0, proc.stderr
    summary = _summary(proc)
    wrong = {k: (summary.get(f"limits.{k}"), v) for k, v in LIMIT_DEFAULTS.items()
             if summary.get(f"limits.{k}") != v}
    assert not wrong, f"limits.KEY: (printed, expected) {wrong}\n--- stdout ---\n{proc.stdout}"


def test_check_config_shows_configured_limit_values():
    overrides = {
        "client_events_burst": 7, "inbound_messages_per_second": 11, "inbound_messages_burst": 22,
        "inbound_violations_before_close": 3, "max_outbound_buffer_bytes": 65536,
        "handshake_timeout_seconds": 2, "max_http_header_bytes": 8192,
        "http_requests_per_second": 5, "http_requests_burst": 9, "max_connections": 1000,
    }
    text = "limits:\n" + "".join(f"  {k}: {v}\n" for k, v in overrides.items())
    text += 'apps:\n  - { id: "1", key: k, secret: s, max_connections: 10, ' \
            'allowed_origins: ["https://good.example"], limits: { http_requests_per_second: 3 } }\n'
    proc = _check_config(text)
    assert proc.returncode == 0, proc.stderr
    summary = _summary(proc)
    wrong = {k: (summary.get(f"limits.{k}"), str(v)) for k, v in overrides.items()
             if summary.get(f"limits.{k}") != str(v)}
    assert not wrong, f"limits.KEY: (printed, expected) {wrong}\n--- stdout ---\n{proc.stdout}"


@pytest.mark.parametrize("key", ["max_connections", "handshake_timeout_seconds",
                                 "max_http_header_bytes", "max_http_body_bytes"])
def test_check_config_rejects_node_wide_limit_in_app_limits(key):
    proc = _check_config(f'apps:\n  - {{ id: "1", key: k, secret: s, limits: {{ {key}: 5 }} }}\n')
    assert proc.returncode != 0, f"apps[0].limits.{key} accepted:\n{proc.stdout}"
    assert key in proc.stderr, proc.stderr
