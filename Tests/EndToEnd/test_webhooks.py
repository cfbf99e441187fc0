"""Webhooks (PROTOCOL.md, "Webhooks") from a real switchboard to a local receiver.

Every request is checked with the official SDK's `validate_webhook`, so the
body, `X-Pusher-Key` and `X-Pusher-Signature` are exactly what Pusher handlers
accept. Vacates and removals are held ~3 s, so several tests take a few seconds.
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pusher
import pytest

from helpers import APPS, PusherWS, make_sdk, unique, wait_until

APP = APPS[0]  # id 1, client events on
ALL_EVENTS = ["channel_occupied", "channel_vacated", "member_added", "member_removed",
              "client_event", "cache_miss"]
HOLD = 3.0


class Received:
    def __init__(self, at: float, headers: dict, body: str, webhook: dict | None):
        self.at = at
        self.headers = headers
        self.body = body
        self.webhook = webhook  # validate_webhook's answer; None if it failed


class WebhookReceiver:
    """An `http.server` on a free port that records each POST, validates it with
    the official SDK and answers from a script of statuses (then 200)."""

    def __init__(self, statuses=()):
        self.statuses = list(statuses)
        self.received: list[Received] = []
        self.lock = threading.Lock()
        self.validator = pusher.Pusher(app_id=APP["id"], key=APP["key"], secret=APP["secret"])
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length).decode("utf-8")
                webhook = receiver.validator.validate_webhook(
                    key=self.headers.get("X-Pusher-Key", ""),
                    signature=self.headers.get("X-Pusher-Signature", ""),
                    body=body,
                )
                with receiver.lock:
                    receiver.received.append(Received(time.monotonic(), dict(self.headers), body, webhook))
                    status = receiver.statuses.pop(0) if receiver.statuses else 200
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/webhooks"

    def requests(self) -> list[Received]:
        with self.lock:
            return list(self.received)

    def events(self, name: str | None = None, channel: str | None = None) -> list[tuple[float, dict]]:
        """(arrival time, event) of every event received, in arrival order;
        only from requests the SDK validated (the others fail assert_all_valid)."""
        out = []
        for r in self.requests():
            for ev in (r.webhook or {}).get("events", []):
                if (name is None or ev["name"] == name) and (channel is None or ev.get("channel") == channel):
                    out.append((r.at, ev))
        return out

    def assert_all_valid(self):
        for r in self.requests():
            assert r.webhook is not None, f"validate_webhook rejected: headers={r.headers} body={r.body}"
            assert r.headers.get("Content-Type") == "application/json"
            assert isinstance(r.webhook["time_ms"], int)

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def receiver():
    made: list[WebhookReceiver] = []

    def make(statuses=()) -> WebhookReceiver:
        r = WebhookReceiver(statuses)
        made.append(r)
        return r

    yield make
    for r in made:
        r.close()


@pytest.fixture
def hooked(switchboard, receiver):
    """A server whose app 1 sends every webhook to a fresh receiver."""

    def start(statuses=(), event_types=ALL_EVENTS):
        r = receiver(statuses)
        apps = [dict(a) for a in APPS]
        apps[0]["webhooks"] = [{"url": r.url, "event_types": list(event_types)}]
        srv = switchboard(apps=apps)
        return srv, r, make_sdk(srv, "1")

    return start


def _connect(srv) -> PusherWS:
    return PusherWS.connect(srv, key=APP["key"])


def test_subscribe_sends_channel_occupied(hooked):
    srv, rcv, _ = hooked()
    ch = unique("room-")
    ws = _connect(srv)
    try:
        ws.subscribe_ok(ch)
        wait_until(lambda: rcv.events("channel_occupied", ch), what="channel_occupied")
        (_, ev), = rcv.events("channel_occupied", ch)
        assert ev == {"name": "channel_occupied", "channel": ch}
        rcv.assert_all_valid()
        assert rcv.requests()[0].headers["X-Pusher-Key"] == APP["key"]
    finally:
        ws.close()


def test_unsubscribe_sends_channel_vacated_after_the_hold(hooked):
    srv, rcv, _ = hooked()
    ch = unique("room-")
    ws = _connect(srv)
    try:
        ws.subscribe_ok(ch)
        wait_until(lambda: rcv.events("channel_occupied", ch), what="channel_occupied")
        left = time.monotonic()
        ws.unsubscribe(ch)
        wait_until(lambda: rcv.events("channel_vacated", ch), timeout=HOLD + 3, what="channel_vacated")
        (at, ev), = rcv.events("channel_vacated", ch)
        assert ev == {"name": "channel_vacated", "channel": ch}
        assert at - left >= HOLD - 0.5, f"vacated after {at - left:.2f}s, expected ~{HOLD}s"
        rcv.assert_all_valid()
    finally:
        ws.close()


def test_quick_resubscribe_sends_neither_vacated_nor_occupied(hooked):
    srv, rcv, _ = hooked()
    ch = unique("room-")
    ws = _connect(srv)
    try:
        ws.subscribe_ok(ch)
        wait_until(lambda: rcv.events("channel_occupied", ch), what="channel_occupied")
        ws.unsubscribe(ch)
        time.sleep(0.5)
        ws.subscribe_ok(ch)
        time.sleep(HOLD + 1.5)
        assert rcv.events("channel_vacated", ch) == []
        assert len(rcv.events("channel_occupied", ch)) == 1
        rcv.assert_all_valid()
    finally:
        ws.close()


def test_presence_members_added_and_removed_after_the_hold(hooked):
    srv, rcv, sdk = hooked()
    ch = unique("presence-")
    observer, member = _connect(srv), _connect(srv)
    try:
        observer.subscribe_presence(ch, sdk, "observer")
        member.subscribe_presence(ch, sdk, "alice", {"name": "Alice"})
        observer.expect("pusher_internal:member_added", channel=ch)
        wait_until(lambda: len(rcv.events("member_added", ch)) == 2, what="two member_added")
        users = sorted(ev["user_id"] for _, ev in rcv.events("member_added", ch))
        assert users == ["alice", "observer"]
        assert all(set(ev) == {"name", "channel", "user_id"} for _, ev in rcv.events("member_added", ch))

        # A quick leave and return is no change at all.
        member.unsubscribe(ch)
        observer.expect("pusher_internal:member_removed", channel=ch)
        time.sleep(0.3)
        member.subscribe_presence(ch, sdk, "alice", {"name": "Alice"})
        observer.expect("pusher_internal:member_added", channel=ch)
        time.sleep(HOLD + 1)
        assert rcv.events("member_removed", ch) == []
        assert len(rcv.events("member_added", ch)) == 2

        # A real leave is reported once the hold is over.
        left = time.monotonic()
        member.unsubscribe(ch)
        wait_until(lambda: rcv.events("member_removed", ch), timeout=HOLD + 3, what="member_removed")
        (at, ev), = rcv.events("member_removed", ch)
        assert ev == {"name": "member_removed", "channel": ch, "user_id": "alice"}
        assert at - left >= HOLD - 0.5
        rcv.assert_all_valid()
    finally:
        observer.close()
        member.close()


def test_client_event_on_presence_carries_user_and_socket(hooked):
    srv, rcv, sdk = hooked()
    ch = unique("presence-")
    sender, other = _connect(srv), _connect(srv)
    try:
        sender.subscribe_presence(ch, sdk, "writer")
        other.subscribe_presence(ch, sdk, "reader")
        data = '{"text": "hi",  "n": [1, 2]}'
        sender.send_event("client-typing", data, channel=ch)
        other.expect("client-typing", channel=ch)
        wait_until(lambda: rcv.events("client_event", ch), what="client_event")
        (_, ev), = rcv.events("client_event", ch)
        assert ev == {
            "name": "client_event",
            "channel": ch,
            "event": "client-typing",
            "data": data,
            "socket_id": sender.socket_id,
            "user_id": "writer",
        }
        rcv.assert_all_valid()
    finally:
        sender.close()
        other.close()


def test_empty_cache_channel_sends_cache_miss(hooked):
    srv, rcv, _ = hooked()
    ch = unique("cache-")
    ws = _connect(srv)
    try:
        ws.subscribe_ok(ch)
        wait_until(lambda: rcv.events("cache_miss", ch), what="cache_miss")
        (_, ev), = rcv.events("cache_miss", ch)
        assert ev == {"name": "cache_miss", "channel": ch}
        rcv.assert_all_valid()
    finally:
        ws.close()


def test_events_of_a_short_window_arrive_in_one_request(hooked):
    srv, rcv, _ = hooked(event_types=["channel_occupied"])
    channels = [unique("room-") for _ in range(4)]
    ws = _connect(srv)
    try:
        for ch in channels:
            ws.subscribe(ch)
        for ch in channels:
            ws.expect("pusher_internal:subscription_succeeded", channel=ch)
        wait_until(lambda: len(rcv.events("channel_occupied")) == 4, what="four channel_occupied")
        time.sleep(0.5)
        requests = rcv.requests()
        assert len(requests) == 1, [r.body for r in requests]
        assert [ev["channel"] for ev in requests[0].webhook["events"]] == channels
        rcv.assert_all_valid()
    finally:
        ws.close()


def test_server_errors_are_retried_with_backoff(hooked):
    srv, rcv, _ = hooked(statuses=[500, 500], event_types=["channel_occupied"])
    ch = unique("room-")
    ws = _connect(srv)
    try:
        ws.subscribe_ok(ch)
        wait_until(lambda: len(rcv.requests()) == 3, timeout=10, what="third attempt")
        requests = rcv.requests()
        # Back-off starts at ~1 s and doubles: attempts at ~0, ~1 and ~3 s.
        assert requests[1].at - requests[0].at >= 0.8
        assert requests[2].at - requests[1].at >= 1.6
        assert all([ev["channel"] for ev in r.webhook["events"]] == [ch] for r in requests)
        time.sleep(0.5)
        assert len(rcv.requests()) == 3
        rcv.assert_all_valid()
    finally:
        ws.close()
