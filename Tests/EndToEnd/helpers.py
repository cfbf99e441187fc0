"""Small helpers for the end-to-end suite.

Signatures are made with the official `pusher` SDK (authenticate,
authenticate_user, its request signer), so the signing code under test is
not our own.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import socket
import struct
import time
import uuid
from urllib.parse import quote

import pusher
import requests
from pusher.http import make_query_string
from pusher.signature import sign
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect as ws_connect

# Same 32 bytes everywhere: the SDK encrypts with it, the tests decrypt with it.
ENCRYPTION_MASTER_KEY_B64 = base64.b64encode(bytes(range(32))).decode()

APPS = [
    {"id": "1", "key": "app-key", "secret": "app-secret", "client_events": True},
    {"id": "2", "key": "noclient-key", "secret": "noclient-secret", "client_events": False},
    {"id": "3", "key": "disabled-key", "secret": "disabled-secret", "enabled": False},
]

DEFAULT_LIMITS = {
    "activity_timeout_seconds": 120,
    "pong_timeout_seconds": 30,
    "max_presence_members": 100,
    "max_presence_user_info_bytes": 1024,
    "max_event_bytes": 10240,
    "max_payload_bytes": 102400,
    "max_channels_per_trigger": 100,
    "max_batch_size": 10,
    "auth_timestamp_window_seconds": 600,
}

DEFAULT_TIMEOUT = 5.0


def unique(prefix: str) -> str:
    """A channel name no other test uses (the shared server keeps state)."""
    return f"{prefix}{uuid.uuid4().hex[:12]}"


class Server:
    """Mixin giving URLs and app lookups to a running server (host, port, apps)."""

    host: str
    port: int
    apps: list

    def app(self, app_id: str) -> dict:
        for a in self.apps:
            if a["id"] == app_id:
                return a
        raise KeyError(app_id)

    def app_by_key(self, key: str) -> dict:
        for a in self.apps:
            if a["key"] == key:
                return a
        raise KeyError(key)

    @property
    def http_base(self) -> str:
        return f"http://{self.host}:{self.port}"

    def ws_url(self, key: str = "app-key", protocol="7", query: str | None = None) -> str:
        if query is None:
            parts = []
            if protocol is not None:
                parts.append(f"protocol={protocol}")
            parts += ["client=js", "version=8.4.0", "flash=false"]
            query = "&".join(parts)
        return f"ws://{self.host}:{self.port}/app/{key}?{query}"


def make_sdk(server: Server, app_id: str = "1", key: str | None = None, secret: str | None = None,
             **kw) -> pusher.Pusher:
    """The official HTTP SDK pointed at `server` (key/secret default to the app's)."""
    known = {a["id"]: a for a in server.apps}
    app = known.get(app_id, known["1"])
    return pusher.Pusher(
        app_id=app_id,
        key=key or app["key"],
        secret=secret or app["secret"],
        host=server.host,
        port=server.port,
        ssl=False,
        timeout=5,
        encryption_master_key_base64=ENCRYPTION_MASTER_KEY_B64,
        **kw,
    )


# ---------------------------------------------------------------------------
# Raw WebSocket client


class Event(dict):
    """A received frame: the parsed JSON object, with `data` decoded from its
    JSON string when it is one. `.raw` is the frame text, `.raw_data` the data
    field exactly as it came on the wire."""

    raw: str = ""
    raw_data = None


class NoEvent(AssertionError):
    pass


class PusherWS:
    """A raw Pusher protocol client over `websockets`' sync client."""

    def __init__(self, ws, server: Server | None = None, key: str = "app-key"):
        self.ws = ws
        self.server = server
        self.key = key
        self.socket_id: str | None = None
        self.established: Event | None = None
        self.log: list[Event] = []

    @classmethod
    def connect(cls, server: Server, key: str = "app-key", protocol="7", query=None,
                handshake: bool = True, timeout: float = DEFAULT_TIMEOUT, **ws_kwargs) -> "PusherWS":
        """ws_kwargs go to websockets' connect (e.g. origin=, max_queue=, compression=)."""
        options = dict(
            open_timeout=timeout,
            close_timeout=2,
            ping_interval=None,  # no keepalive pings of our own: they would count as activity
            proxy=None,
        )
        options.update(ws_kwargs)
        ws = ws_connect(server.ws_url(key, protocol, query), **options)
        self = cls(ws, server, key)
        if handshake:
            ev = self.expect("pusher:connection_established", timeout=timeout)
            self.established = ev
            self.socket_id = ev["data"]["socket_id"]
        return self

    # -- frames ------------------------------------------------------------
    def send_raw(self, text: str):
        self.ws.send(text)

    def send_event(self, event: str, data=None, channel: str | None = None, omit_data: bool = False):
        msg = {"event": event}
        if not omit_data:
            msg["data"] = data
        if channel is not None:
            msg["channel"] = channel
        self.ws.send(json.dumps(msg))

    def recv_event(self, timeout: float = DEFAULT_TIMEOUT) -> Event:
        """Next frame as an Event; raises TimeoutError or ConnectionClosed."""
        text = self.ws.recv(timeout=timeout)
        if isinstance(text, bytes):
            raise AssertionError(f"server sent a binary frame: {text[:200]!r}")
        obj = json.loads(text)
        ev = Event(obj)
        ev.raw = text
        ev.raw_data = obj.get("data")
        if isinstance(ev.raw_data, str):
            try:
                ev["data"] = json.loads(ev.raw_data)
            except ValueError:
                pass
        self.log.append(ev)
        return ev

    def expect(self, event: str, timeout: float = DEFAULT_TIMEOUT, channel: str | None = None,
               skip: tuple = ()) -> Event:
        """Wait for `event` (on `channel` if given). Frames whose name is in
        `skip` are passed over; any other frame first is a failure."""
        deadline = time.monotonic() + timeout
        seen = []
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise NoEvent(f"no {event!r} (channel {channel!r}) within {timeout}s; got {seen}")
            try:
                ev = self.recv_event(timeout=left)
            except TimeoutError:
                raise NoEvent(f"no {event!r} (channel {channel!r}) within {timeout}s; got {seen}") from None
            except ConnectionClosed as e:
                raise AssertionError(
                    f"connection closed ({_close_desc(e)}) while waiting for {event!r}; got {seen}") from None
            if ev.get("event") == event and (channel is None or ev.get("channel") == channel):
                return ev
            if ev.get("event") in skip:
                seen.append(ev.raw)
                continue
            raise AssertionError(f"expected {event!r} (channel {channel!r}) but got {ev.raw}; before it {seen}")

    def assert_quiet(self, timeout: float = 0.5):
        """Nothing arrives within `timeout` (use after giving the server a moment)."""
        try:
            ev = self.recv_event(timeout=timeout)
        except TimeoutError:
            return
        raise AssertionError(f"expected no frame, got {ev.raw}")

    def ping_pong(self, timeout: float = DEFAULT_TIMEOUT) -> Event:
        """Send pusher:ping; the very next frame must be pusher:pong. Because the
        server answers in order, this proves nothing else was queued before it."""
        self.send_event("pusher:ping", {})
        ev = self.recv_event(timeout=timeout)
        assert ev.get("event") == "pusher:pong", f"expected pusher:pong, got {ev.raw}"
        return ev

    def expect_close(self, timeout: float = DEFAULT_TIMEOUT):
        """Read until the server closes; returns (close code, reason, frames before it)."""
        deadline = time.monotonic() + timeout
        frames = []
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"server did not close within {timeout}s; frames: {[f.raw for f in frames]}")
            try:
                frames.append(self.recv_event(timeout=left))
            except TimeoutError:
                continue
            except ConnectionClosed as e:
                code = e.rcvd.code if e.rcvd is not None else None
                reason = e.rcvd.reason if e.rcvd is not None else None
                return code, reason, frames

    # -- protocol actions ----------------------------------------------------
    def subscribe(self, channel: str, auth: str | None = None, channel_data: str | None = None):
        data = {"channel": channel}
        if auth is not None:
            data["auth"] = auth
        if channel_data is not None:
            data["channel_data"] = channel_data
        self.send_event("pusher:subscribe", data)

    def subscribe_ok(self, channel: str, auth=None, channel_data=None, timeout=DEFAULT_TIMEOUT) -> Event:
        self.subscribe(channel, auth, channel_data)
        ev = self.expect("pusher_internal:subscription_succeeded", channel=channel, timeout=timeout)
        return ev

    def subscribe_private(self, channel: str, sdk: pusher.Pusher) -> Event:
        return self.subscribe_ok(channel, auth=private_auth(sdk, channel, self.socket_id))

    def subscribe_presence(self, channel: str, sdk: pusher.Pusher, user_id, user_info=None) -> Event:
        auth, channel_data = presence_auth(sdk, channel, self.socket_id, user_id, user_info)
        return self.subscribe_ok(channel, auth=auth, channel_data=channel_data)

    def unsubscribe(self, channel: str):
        self.send_event("pusher:unsubscribe", {"channel": channel})

    def signin(self, sdk: pusher.Pusher, user_data: dict) -> Event:
        payload = sdk.authenticate_user(self.socket_id, user_data)
        self.send_event("pusher:signin", {"auth": payload["auth"], "user_data": payload["user_data"]})
        return self.expect("pusher:signin_success")

    def close(self):
        try:
            self.ws.close()
        except Exception:
            pass


def _close_desc(e: ConnectionClosed) -> str:
    if e.rcvd is not None:
        return f"code {e.rcvd.code} reason {e.rcvd.reason!r}"
    return "no close frame"


# ---------------------------------------------------------------------------
# Signatures (made by the official SDK)


def private_auth(sdk: pusher.Pusher, channel: str, socket_id: str) -> str:
    return sdk.authenticate(channel=channel, socket_id=socket_id)["auth"]


def presence_auth(sdk: pusher.Pusher, channel: str, socket_id: str, user_id, user_info=None):
    custom = {"user_id": user_id}
    if user_info is not None:
        custom["user_info"] = user_info
    res = sdk.authenticate(channel=channel, socket_id=socket_id, custom_data=custom)
    return res["auth"], res["channel_data"]


# ---------------------------------------------------------------------------
# Raw signed HTTP requests, for what the SDK refuses to send or cannot express


class HTTPResult:
    def __init__(self, resp: requests.Response):
        self.status = resp.status_code
        self.text = resp.text
        self.headers = resp.headers
        try:
            self.json = resp.json()
        except ValueError:
            self.json = None

    def __repr__(self):
        return f"<HTTP {self.status} {self.text[:300]!r}>"


def signed_request(server: Server, method: str, path: str, *, app_id: str = "1", body=None,
                   query: dict | None = None, key: str | None = None, secret: str | None = None,
                   timestamp: int | None = None, body_md5: str | None = None,
                   sign_path: str | None = None) -> HTTPResult:
    """Sign like pusher-http-python (its `sign` and `make_query_string`) and send.

    body: dict/list (JSON-encoded), str or bytes (sent as is).
    timestamp / body_md5 override what would be signed (to make bad requests).
    """
    known = {a["id"]: a for a in server.apps}
    app = known.get(app_id, known["1"])
    key = key or app["key"]
    secret = secret or app["secret"]
    if body is None:
        raw = b"" if method == "GET" else b"{}"
    elif isinstance(body, bytes):
        raw = body
    elif isinstance(body, str):
        raw = body.encode()
    else:
        raw = json.dumps(body).encode()
    params = dict(query or {})
    params.update({
        "auth_key": key,
        "auth_timestamp": str(int(time.time()) if timestamp is None else timestamp),
        "auth_version": "1.0",
        "body_md5": body_md5 if body_md5 is not None else hashlib.md5(raw).hexdigest(),
    })
    string_to_sign = "\n".join([method, sign_path or path, make_query_string(params)])
    params["auth_signature"] = sign(secret, string_to_sign)
    qs = "&".join(f"{k}={quote(str(v), safe='')}" for k, v in sorted(params.items()))
    headers = {"Content-Type": "application/json"} if method == "POST" else {}
    resp = requests.request(method, f"{server.http_base}{quote(path, safe='/')}?{qs}",
                            data=raw if method != "GET" else None, headers=headers, timeout=5)
    return HTTPResult(resp)


def wait_until(pred, timeout: float = DEFAULT_TIMEOUT, interval: float = 0.05, what: str = "condition"):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = pred()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what} (last: {last!r})")


WS_QUERY = "protocol=7&client=js&version=8.4.0&flash=false"


def masked_text_frame(text: str) -> bytes:
    """A client's text frame (RFC 6455 §5.2), masked with a random key."""
    payload = text.encode()
    mask = os.urandom(4)
    n = len(payload)
    if n < 126:
        header = struct.pack("!BB", 0x81, 0x80 | n)
    elif n < 65536:
        header = struct.pack("!BBH", 0x81, 0x80 | 126, n)
    else:
        header = struct.pack("!BBQ", 0x81, 0x80 | 127, n)
    return header + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


class RawWS:
    """A WebSocket client on a plain socket: it reads only when told to, so it
    can play a consumer that stops reading."""

    def __init__(self, sock: socket.socket):
        self.sock = sock
        self.buf = b""
        self.response_head = ""

    @classmethod
    def connect(cls, srv, key="app-key", rcvbuf: int | None = None, timeout: float = 5.0) -> "RawWS":
        nonce = base64.b64encode(os.urandom(16)).decode()
        head = (
            f"GET /app/{key}?{WS_QUERY} HTTP/1.1\r\nHost: {srv.host}:{srv.port}\r\n"
            f"Upgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {nonce}\r\nSec-WebSocket-Version: 13\r\n\r\n"
        ).encode()
        self = cls.send_head(srv, head, rcvbuf=rcvbuf, timeout=timeout)
        self.read_response_head(timeout)
        assert self.response_head.startswith("HTTP/1.1 101"), self.response_head
        return self

    @classmethod
    def send_head(cls, srv, head: bytes, rcvbuf: int | None = None, timeout: float = 5.0,
                  chunk: int | None = None) -> "RawWS":
        """Connects and sends `head` (and whatever follows it), in writes of `chunk` bytes if given."""
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        s.settimeout(timeout)
        s.connect((srv.host, srv.port))
        step = chunk or len(head)
        for offset in range(0, len(head), step):
            s.sendall(head[offset:offset + step])
        return cls(s)

    def read_response_head(self, timeout: float = 5.0) -> str:
        deadline = time.monotonic() + timeout
        while b"\r\n\r\n" not in self.buf:
            self._fill(deadline)
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        self.response_head = head.decode("latin-1")
        return self.response_head

    def _fill(self, deadline):
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError
        self.sock.settimeout(left)
        chunk = self.sock.recv(1 << 20)
        if not chunk:
            raise EOFError
        self.buf += chunk

    def send_text(self, text: str):
        self.sock.sendall(masked_text_frame(text))

    def recv_frame(self, timeout: float = 5.0):
        """(opcode, payload); raises EOFError, ConnectionResetError or TimeoutError."""
        deadline = time.monotonic() + timeout
        while len(self.buf) < 2:
            self._fill(deadline)
        n = self.buf[1] & 0x7F
        offset = 2
        if n == 126:
            while len(self.buf) < 4:
                self._fill(deadline)
            n, offset = struct.unpack("!H", self.buf[2:4])[0], 4
        elif n == 127:
            while len(self.buf) < 10:
                self._fill(deadline)
            n, offset = struct.unpack("!Q", self.buf[2:10])[0], 10
        while len(self.buf) < offset + n:
            self._fill(deadline)
        opcode = self.buf[0] & 0x0F
        payload = self.buf[offset:offset + n]
        self.buf = self.buf[offset + n:]
        return opcode, payload

    def recv_json(self, timeout: float = 5.0) -> dict:
        opcode, payload = self.recv_frame(timeout)
        assert opcode == 1, f"expected a text frame, got opcode {opcode}: {payload[:200]!r}"
        return json.loads(payload)

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass
