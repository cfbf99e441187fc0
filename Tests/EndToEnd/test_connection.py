"""Connection lifecycle over a raw WebSocket (the `websockets` library)."""

import re
import time

import pytest
import requests
from websockets.exceptions import ConnectionClosed

from helpers import PusherWS

SOCKET_ID_RE = re.compile(r"^\d+\.\d+$")


def test_connection_established_has_socket_id_and_activity_timeout(server):
    ws = PusherWS.connect(server, handshake=False)
    try:
        ev = ws.recv_event(timeout=5)
        assert ev["event"] == "pusher:connection_established"
        assert isinstance(ev.raw_data, str), "pusher: event data must be a JSON-encoded string"
        data = ev["data"]
        assert SOCKET_ID_RE.match(data["socket_id"]), data
        assert data["activity_timeout"] == 120
        assert "channel" not in ev
    finally:
        ws.close()


def test_socket_ids_are_unique(server):
    a = PusherWS.connect(server)
    b = PusherWS.connect(server)
    try:
        assert a.socket_id != b.socket_id
    finally:
        a.close()
        b.close()


@pytest.mark.parametrize("protocol", ["5", "6", "7"])
def test_supported_protocol_versions_connect(server, protocol):
    ws = PusherWS.connect(server, protocol=protocol)
    try:
        assert SOCKET_ID_RE.match(ws.socket_id)
        ws.ping_pong()
    finally:
        ws.close()


@pytest.mark.parametrize(
    "key,query,code",
    [
        ("unknown-key", "protocol=7&client=js&version=8.4.0&flash=false", 4001),
        ("disabled-key", "protocol=7&client=js&version=8.4.0&flash=false", 4003),
        ("app-key", "protocol=abc&client=js&version=8.4.0&flash=false", 4006),
        ("app-key", "protocol=3&client=js&version=8.4.0&flash=false", 4007),
        ("app-key", "protocol=8&client=js&version=8.4.0&flash=false", 4007),
        ("app-key", "client=js&version=8.4.0&flash=false", 4008),
    ],
    ids=["unknown-key-4001", "disabled-app-4003", "protocol-not-a-number-4006",
         "protocol-3-4007", "protocol-8-4007", "protocol-missing-4008"],
)
def test_refused_connection_gets_pusher_error_then_close_code(server, key, query, code):
    ws = PusherWS.connect(server, key=key, query=query, handshake=False)
    try:
        close_code, _reason, frames = ws.expect_close(timeout=5)
    finally:
        ws.close()
    assert close_code == code, f"close code {close_code}, frames {[f.raw for f in frames]}"
    errors = [f for f in frames if f.get("event") == "pusher:error"]
    assert errors, f"no pusher:error before close {code}; frames {[f.raw for f in frames]}"
    assert isinstance(errors[-1].raw_data, str), "pusher:error data must be a JSON-encoded string"
    assert errors[-1]["data"]["code"] == code
    assert isinstance(errors[-1]["data"]["message"], str) and errors[-1]["data"]["message"]
    assert not any(f.get("event") == "pusher:connection_established" for f in frames)


@pytest.mark.parametrize("data", [{}, "", "absent"], ids=["object", "empty-string", "absent"])
def test_pusher_ping_answered_with_pong(server, data):
    ws = PusherWS.connect(server)
    try:
        if data == "absent":
            ws.send_event("pusher:ping", omit_data=True)
        else:
            ws.send_event("pusher:ping", data)
        ev = ws.recv_event(timeout=5)
        assert ev["event"] == "pusher:pong"
        assert isinstance(ev.raw_data, str)
        assert ev["data"] == {}
    finally:
        ws.close()


def test_rfc6455_ping_frame_is_answered(server):
    ws = PusherWS.connect(server)
    try:
        waiter = ws.ws.ping(b"e2e")
        assert waiter.wait(5), "no pong frame for a WebSocket ping frame"
        ws.ping_pong()  # and the connection is still usable
    finally:
        ws.close()


def test_server_pings_idle_client_and_closes_4201_without_answer(switchboard):
    srv = switchboard(limits={"activity_timeout_seconds": 1, "pong_timeout_seconds": 1})
    ws = PusherWS.connect(srv)
    try:
        assert ws.established["data"]["activity_timeout"] == 1
        t0 = time.monotonic()
        ev = ws.recv_event(timeout=4)
        assert ev["event"] == "pusher:ping", ev.raw
        assert isinstance(ev.raw_data, str)
        assert ev["data"] == {}
        waited = time.monotonic() - t0
        assert waited >= 0.5, f"server pinged after {waited:.2f}s, activity_timeout is 1s"
        code, _reason, frames = ws.expect_close(timeout=4)
        assert code == 4201, f"close code {code}; frames {[f.raw for f in frames]}"
    finally:
        ws.close()


def test_answering_server_ping_keeps_connection_open(switchboard):
    srv = switchboard(limits={"activity_timeout_seconds": 1, "pong_timeout_seconds": 1})
    ws = PusherWS.connect(srv)
    try:
        for _ in range(2):
            ev = ws.recv_event(timeout=4)
            assert ev["event"] == "pusher:ping", ev.raw
            ws.send_event("pusher:pong", {})
        # Past two full activity+pong windows and still open.
        ws.ping_pong()
    finally:
        ws.close()


def test_client_activity_postpones_server_ping(switchboard):
    srv = switchboard(limits={"activity_timeout_seconds": 2, "pong_timeout_seconds": 1})
    ws = PusherWS.connect(srv)
    try:
        # Talk every 0.5 s for 3 s (longer than the 2 s activity timeout):
        # the server must not ping, only answer our pings.
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline:
            ws.ping_pong()
            time.sleep(0.5)
    finally:
        ws.close()


@pytest.mark.parametrize("path", ["/does-not-exist", "/apps", "/app"])
def test_unknown_http_path_is_404_with_json_error(server, path):
    resp = requests.get(f"{server.http_base}{path}", timeout=5)
    assert resp.status_code == 404
    body = resp.json()
    assert isinstance(body.get("error"), str) and body["error"]


def test_invalid_json_frame_does_not_kill_server(server):
    ws = PusherWS.connect(server)
    try:
        ws.send_raw("this is not json")
        # The server may answer with pusher:error or close the socket; either
        # way it must keep serving others.
        try:
            ev = ws.recv_event(timeout=2)
        except (TimeoutError, ConnectionClosed):
            ev = None
        if ev is not None:
            assert ev["event"] == "pusher:error", ev.raw
    finally:
        ws.close()
    other = PusherWS.connect(server)
    try:
        other.ping_pong()
    finally:
        other.close()
