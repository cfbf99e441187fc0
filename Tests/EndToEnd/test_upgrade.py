"""The WebSocket opening handshake on a plain socket, byte by byte.

The server reads upgrade requests itself and hands anything else to its HTTP
pipeline, so these tests send heads the way different clients and networks
deliver them: split into tiny writes, with frames right behind them, in the
header spellings browsers use, and malformed.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import time

import pytest

from helpers import WS_QUERY, RawWS, masked_text_frame

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


def upgrade_head(srv, lines: list[str] | None = None, key: str | None = None) -> tuple[bytes, str]:
    """A version-13 upgrade to /app/app-key; `lines` replace the usual upgrade headers."""
    key = key or base64.b64encode(os.urandom(16)).decode()
    headers = lines if lines is not None else [
        "Upgrade: websocket", "Connection: Upgrade", f"Sec-WebSocket-Key: {key}", "Sec-WebSocket-Version: 13",
    ]
    head = f"GET /app/app-key?{WS_QUERY} HTTP/1.1\r\nHost: {srv.host}:{srv.port}\r\n"
    return (head + "".join(f"{line}\r\n" for line in headers) + "\r\n").encode(), key


def read_response(ws: RawWS) -> tuple[str, bytes]:
    """One HTTP response: its head and the body its Content-Length announces."""
    head = ws.read_response_head()
    length = next((int(line.split(":", 1)[1]) for line in head.split("\r\n")
                   if line.lower().startswith("content-length:")), 0)
    deadline = time.monotonic() + 5
    while len(ws.buf) < length:
        ws._fill(deadline)
    body, ws.buf = ws.buf[:length], ws.buf[length:]
    return head, body


def expected_accept(key: str) -> str:
    return base64.b64encode(hashlib.sha1(key.encode() + GUID).digest()).decode()


def assert_switched(ws: RawWS, key: str):
    head = ws.read_response_head()
    assert head.startswith("HTTP/1.1 101 "), head
    fields = {k.strip().lower(): v.strip() for k, v in (line.split(":", 1) for line in head.split("\r\n")[1:])}
    assert fields.get("upgrade", "").lower() == "websocket", head
    assert fields.get("connection", "").lower() == "upgrade", head
    assert fields.get("sec-websocket-accept") == expected_accept(key), head
    established = ws.recv_json()
    assert established["event"] == "pusher:connection_established", established
    return json.loads(established["data"])


@pytest.mark.parametrize("chunk", [1, 7, 64])
def test_upgrade_request_split_into_small_writes_is_upgraded(server, chunk):
    head, key = upgrade_head(server)
    ws = RawWS.send_head(server, head, chunk=chunk)
    try:
        assert_switched(ws, key)
        ws.send_text('{"event":"pusher:ping","data":{}}')
        assert ws.recv_json()["event"] == "pusher:pong"
    finally:
        ws.close()


def test_frames_sent_right_behind_the_request_are_read(server):
    head, key = upgrade_head(server)
    behind = masked_text_frame('{"event":"pusher:subscribe","data":{"channel":"behind"}}')
    ws = RawWS.send_head(server, head + behind + masked_text_frame('{"event":"pusher:ping","data":{}}'))
    try:
        assert_switched(ws, key)
        succeeded = ws.recv_json()
        assert succeeded["event"] == "pusher_internal:subscription_succeeded", succeeded
        assert succeeded["channel"] == "behind"
        assert ws.recv_json()["event"] == "pusher:pong"
    finally:
        ws.close()


@pytest.mark.parametrize("lines", [
    # Firefox
    ["Connection: keep-alive, Upgrade", "Upgrade: websocket", "Sec-WebSocket-Version: 13", "Sec-WebSocket-Key: {key}"],
    # lowercase names, odd case and spacing in values, list elements spread over two lines
    ["upgrade: WebSocket", "connection: close", "connection:  UPGRADE ", "sec-websocket-key:\t{key}",
     "sec-websocket-version: 13"],
])
def test_header_spellings_clients_use_are_upgraded(server, lines):
    key = base64.b64encode(os.urandom(16)).decode()
    head, _ = upgrade_head(server, [line.replace("{key}", key) for line in lines])
    ws = RawWS.send_head(server, head)
    try:
        data = assert_switched(ws, key)
        assert data["socket_id"]
    finally:
        ws.close()


@pytest.mark.parametrize("lines, reason, has_json", [
    (["Upgrade: websocket", "Connection: Upgrade", "Sec-WebSocket-Version: 13"], "no key", True),
    (["Upgrade: websocket", "Connection: Upgrade", "Sec-WebSocket-Key: a2V5a2V5a2V5a2V5a2V5aw==",
      "Sec-WebSocket-Version: 8"], "version 8", True),
    # Not HTTP at all: the HTTP parser refuses it and closes.
    (["Upgrade: websocket", "Connection: Upgrade", "Sec-WebSocket-Key: a2V5a2V5a2V5a2V5a2V5aw==",
      "Sec-WebSocket-Version: 13", "X-Folded: first", " second"], "folded header", False),
])
def test_malformed_upgrade_is_answered_400_and_server_keeps_serving(server, lines, reason, has_json):
    head, _ = upgrade_head(server, lines)
    ws = RawWS.send_head(server, head)
    try:
        response, body = read_response(ws)
        assert response.startswith("HTTP/1.1 400 "), f"{reason}: {response}"
        if has_json:
            assert json.loads(body)["error"], f"{reason}: {body!r}"
        else:
            assert "connection: close" in response.lower(), f"{reason}: {response}"
    finally:
        ws.close()
    ok, key = upgrade_head(server)
    healthy = RawWS.send_head(server, ok)
    try:
        assert_switched(healthy, key)
    finally:
        healthy.close()


def test_requests_pipelined_behind_a_non_upgrade_are_each_answered(server):
    """The first request of a connection goes through the upgrade reader, the rest
    straight to the HTTP pipeline; keep-alive and pipelining work across the two."""
    ws = RawWS.send_head(server, (
        "GET /app/app-key HTTP/1.1\r\nHost: x\r\n\r\n"
        "GET /does-not-exist HTTP/1.1\r\nHost: x\r\n\r\n"
    ).encode())
    try:
        for expected in ("400", "404"):
            head, body = read_response(ws)
            assert head.split(" ")[1] == expected, head
            assert json.loads(body)["error"]
    finally:
        ws.close()


LIVE = b"GET /live HTTP/1.1\r\nHost: x\r\n\r\n"


def test_upgrade_on_a_kept_alive_api_connection_is_upgraded(server):
    """What nginx does with `keepalive` upstreams: a WebSocket handshake sent over a
    connection that already carried API requests. The socket then works both ways."""
    ws = RawWS.send_head(server, LIVE)
    try:
        for _ in range(2):
            head, body = read_response(ws)
            assert head.startswith("HTTP/1.1 200 ") and json.loads(body) == {"status": "live"}, head
            assert "connection: close" not in head.lower(), head
            if _ == 0:
                ws.sock.sendall(LIVE)
        upgrade, key = upgrade_head(server)
        ws.sock.sendall(upgrade)
        assert_switched(ws, key)
        ws.send_text(json.dumps({"event": "pusher:subscribe", "data": {"channel": "kept-alive"}}))
        assert ws.recv_json()["event"] == "pusher_internal:subscription_succeeded"
        ws.send_text(json.dumps({"event": "pusher:ping", "data": {}}))
        assert ws.recv_json()["event"] == "pusher:pong"
    finally:
        ws.close()


@pytest.mark.parametrize("lines, status", [
    # A malformed handshake: refused by the API as on a fresh connection.
    (["Upgrade: websocket", "Connection: Upgrade", "Sec-WebSocket-Key: a2V5a2V5a2V5a2V5a2V5aw==",
      "Sec-WebSocket-Version: 8"], "400"),
    # Another protocol: the request is served, the upgrade ignored (RFC 9110 §7.8).
    (["Upgrade: h2c", "Connection: Upgrade, HTTP2-Settings", "HTTP2-Settings: AAMAAABkAAQCAAAAAAIAAAAA"], "200"),
])
def test_refused_upgrade_on_a_kept_alive_api_connection_is_answered_and_closed(server, lines, status):
    """After a request that asks to upgrade, HTTP parsing stops; when the upgrade is
    not made, the answer says `Connection: close` and the server closes."""
    ws = RawWS.send_head(server, LIVE)
    try:
        head, _ = read_response(ws)
        assert head.startswith("HTTP/1.1 200 "), head
        target = "/live" if status == "200" else f"/app/app-key?{WS_QUERY}"
        request = f"GET {target} HTTP/1.1\r\nHost: x\r\n" + "".join(f"{line}\r\n" for line in lines) + "\r\n"
        ws.sock.sendall(request.encode())
        head, body = read_response(ws)
        assert head.split(" ")[1] == status, head
        assert "connection: close" in head.lower(), head
        if status == "400":
            assert json.loads(body)["error"]
        with pytest.raises(EOFError):
            ws._fill(time.monotonic() + 5)
    finally:
        ws.close()


def test_upgrade_header_without_connection_upgrade_is_an_ordinary_request(server):
    """Only `Connection: upgrade` with `Upgrade` asks to switch (RFC 9110 §7.8): an
    `Upgrade` header alone is answered like any request, and the connection stays open."""
    ws = RawWS.send_head(server, LIVE)
    try:
        read_response(ws)
        ws.sock.sendall(b"GET /live HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n\r\n" + LIVE)
        for _ in range(2):
            head, body = read_response(ws)
            assert head.startswith("HTTP/1.1 200 ") and json.loads(body) == {"status": "live"}, head
            assert "connection: close" not in head.lower(), head
    finally:
        ws.close()
