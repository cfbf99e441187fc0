"""Hundreds of raw Pusher subscribers in one process, for test_drain.py.

    python drain_clients.py HOST PORT APP_KEY CHANNEL N RESULT_FILE [--timeout S]

Why a separate process with its own minimal WebSocket client: the test checks
*when* the server closed each socket against when each publish was acknowledged.
A client library in the test process would read hundreds of sockets late under
load (and hold the GIL the test times `/ready` with), and a late read looks like
a late close. So each socket has SO_TIMESTAMPNS on, and every frame is stamped
with the kernel's receive time of the data that completed it (CLOCK_REALTIME,
comparable with time.time() in the test process): on loopback that is the moment
the server wrote it, whatever this process's own lag.

Connects N clients (the handshake is plain RFC 6455 over a blocking socket),
subscribes each to CHANNEL, prints `SUBSCRIBED`, then records per client every
`seq` event (seq and time), the `pusher:error` 4200, any other frame, and the
close code and time; it answers the close frame like a well-behaved client. When
every socket is closed (or after --timeout) it writes the records as JSON to
RESULT_FILE and prints `DONE`. A problem before `SUBSCRIBED` prints `FAILED ...`.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import resource
import selectors
import socket
import struct
import sys
import time

SO_TIMESTAMPNS = 35          # Linux asm-generic and x86; SCM_TIMESTAMPNS has the same value
CMSG_SPACE = socket.CMSG_SPACE(16)
WS_QUERY = "protocol=7&client=js&version=8.4.0&flash=false"


def raise_fd_limit(wanted: int):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < wanted:
        target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))


def masked_frame(opcode: int, payload: bytes) -> bytes:
    mask = os.urandom(4)
    n = len(payload)
    if n < 126:
        head = struct.pack("!BB", 0x80 | opcode, 0x80 | n)
    elif n < 65536:
        head = struct.pack("!BBH", 0x80 | opcode, 0x80 | 126, n)
    else:
        head = struct.pack("!BBQ", 0x80 | opcode, 0x80 | 127, n)
    body = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    return head + mask + body


class Client:
    def __init__(self, index: int, host: str, port: int, key: str, channel: str):
        self.index = index
        self.channel = channel
        self.seqs: list[int] = []
        self.arrivals: list[float] = []
        self.error_4200_at: float | None = None
        self.frames_after_error: list[str] = []
        self.unexpected: list[str] = []
        self.close_code = None
        self.close_time: float | None = None
        self.failure: str | None = None
        self.subscribed = False
        self.established = False
        self.buf = b""
        self.closed = False

        s = socket.create_connection((host, port), timeout=10)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        s.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
        wskey = base64.b64encode(os.urandom(16)).decode()
        s.sendall((f"GET /app/{key}?{WS_QUERY} HTTP/1.1\r\nHost: {host}:{port}\r\n"
                   f"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {wskey}\r\n"
                   f"Sec-WebSocket-Version: 13\r\n\r\n").encode())
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = s.recv(4096)
            if not chunk:
                raise RuntimeError(f"client {index}: connection closed during the handshake: {data!r}")
            data += chunk
        head, _, rest = data.partition(b"\r\n\r\n")
        if not head.startswith(b"HTTP/1.1 101"):
            raise RuntimeError(f"client {index}: upgrade refused: {head[:200]!r}")
        s.setblocking(False)
        self.sock = s
        self.buf = rest

    def send(self, opcode: int, payload: bytes):
        data = masked_frame(opcode, payload)
        self.sock.setblocking(True)
        try:
            self.sock.sendall(data)
        finally:
            self.sock.setblocking(False)

    def on_readable(self) -> bool:
        """Reads what is there; returns False once the socket is done."""
        try:
            data, ancdata, _flags, _addr = self.sock.recvmsg(262144, CMSG_SPACE)
        except BlockingIOError:
            return True
        except OSError as e:
            if self.close_code is None:
                self.failure = f"read: {e!r}"
            return False
        stamp = None
        for level, ctype, cdata in ancdata:
            if level == socket.SOL_SOCKET and ctype == SO_TIMESTAMPNS and len(cdata) >= 16:
                sec, nsec = struct.unpack("qq", cdata[:16])
                stamp = sec + nsec / 1e9
        if stamp is None:
            stamp = time.time()
        if not data:
            if self.close_code is None:
                self.failure = "TCP closed without a close frame"
            return False
        self.buf += data
        return self.parse(stamp)

    def parse(self, stamp: float) -> bool:
        buf = self.buf
        while True:
            if len(buf) < 2:
                break
            b0, b1 = buf[0], buf[1]
            n = b1 & 0x7F
            off = 2
            if n == 126:
                if len(buf) < 4:
                    break
                n = struct.unpack("!H", buf[2:4])[0]
                off = 4
            elif n == 127:
                if len(buf) < 10:
                    break
                n = struct.unpack("!Q", buf[2:10])[0]
                off = 10
            if b1 & 0x80:
                self.failure = "server sent a masked frame"
                return False
            if len(buf) < off + n:
                break
            payload = buf[off:off + n]
            buf = buf[off + n:]
            opcode = b0 & 0x0F
            if not b0 & 0x80:
                self.unexpected.append(f"fragmented frame opcode {opcode}")
                continue
            if opcode == 1:
                self.on_text(payload.decode(), stamp)
            elif opcode == 8:
                self.close_code = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else None
                self.close_time = stamp
                try:
                    self.send(8, payload[:2])
                except OSError:
                    pass
                self.buf = b""
                return False
            elif opcode == 9:
                self.send(10, payload)
            else:
                self.unexpected.append(f"opcode {opcode}")
        self.buf = buf
        return True

    def on_text(self, text: str, stamp: float):
        msg = json.loads(text)
        ev = msg.get("event")
        if self.error_4200_at is not None:
            self.frames_after_error.append(text[:200])
        if ev == "seq":
            self.seqs.append(json.loads(msg["data"])["seq"])
            self.arrivals.append(stamp)
        elif ev == "pusher:error":
            data = msg.get("data")
            if isinstance(data, str):
                data = json.loads(data)
            if isinstance(data, dict) and data.get("code") == 4200:
                self.error_4200_at = stamp
            else:
                self.unexpected.append(text[:200])
        elif ev == "pusher:connection_established" and not self.established:
            self.established = True
            self.send(1, json.dumps({"event": "pusher:subscribe",
                                     "data": {"channel": self.channel}}).encode())
        elif ev == "pusher_internal:subscription_succeeded" and not self.subscribed:
            self.subscribed = True
        else:
            self.unexpected.append(text[:200])

    def record(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if k not in ("sock", "buf")}


def main(args) -> int:
    raise_fd_limit(args.n * 2 + 256)
    sel = selectors.DefaultSelector()
    clients = []
    try:
        for i in range(args.n):
            c = Client(i, args.host, args.port, args.key, args.channel)
            clients.append(c)
            sel.register(c.sock, selectors.EVENT_READ, c)
            if c.buf:
                c.parse(time.time())
    except Exception as e:
        print(f"FAILED connecting client {len(clients)}: {e!r}", flush=True)
        return 1
    open_count = len(clients)
    announced = False
    setup_deadline = time.monotonic() + args.setup_timeout
    deadline = None
    while open_count:
        now = time.monotonic()
        if not announced:
            if sum(c.subscribed for c in clients) == args.n:
                print("SUBSCRIBED", flush=True)
                announced = True
                deadline = now + args.timeout
            elif now > setup_deadline:
                broken = [c for c in clients if c.failure or c.unexpected]
                print(f"FAILED only {sum(c.subscribed for c in clients)}/{args.n} subscribed; "
                      f"e.g. {broken[0].record() if broken else 'none failed'}", flush=True)
                return 1
        elif now > deadline:
            break
        for key, _ in sel.select(timeout=0.2):
            c = key.data
            if not c.on_readable():
                sel.unregister(c.sock)
                c.sock.close()
                c.closed = True
                open_count -= 1
    with open(args.result_file, "w") as f:
        json.dump([c.record() for c in clients], f)
    print("DONE", flush=True)
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("host")
    parser.add_argument("port", type=int)
    parser.add_argument("key")
    parser.add_argument("channel")
    parser.add_argument("n", type=int)
    parser.add_argument("result_file")
    parser.add_argument("--setup-timeout", type=float, default=20)
    parser.add_argument("--timeout", type=float, default=60, help="seconds to wait for the closes")
    sys.exit(main(parser.parse_args()))
