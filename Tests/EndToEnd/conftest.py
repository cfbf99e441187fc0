"""End-to-end fixtures: a real `switchboard` process and small real clients.

The server binary comes from $SWITCHBOARD_BIN (default
<repo>/.build/debug/switchboard). Each server is started with a config written
to a temp dir, `server.port: 0`, and the port is read from the stdout line
`switchboard listening on HOST:PORT`.

Fixtures:
  server        the shared default server (one per session, restarted if it died)
  switchboard   factory: switchboard(limits={...}) starts an extra server for one test
  sdk           official `pusher` HTTP SDK for app 1 against `server`
  ws_factory    raw WebSocket clients (to `server`, or to any node with srv=), closed at the end
  nats_server   a real nats-server with JetStream (one per session, restarted if it died)
  start_nats    factory: a nats-server of the test's own, which it may kill and restart
  cluster       factory: cluster(3) starts that many switchboard nodes joined over NATS
Markers:
  time_limit(seconds)  a longer hard limit than E2E_TEST_TIME_LIMIT for one test
Helpers (importable from conftest via `from helpers import ...`): see helpers.py.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import uuid
from pathlib import Path

import pytest

from helpers import APPS, DEFAULT_LIMITS, Server, make_sdk

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_BIN = REPO_ROOT / ".build" / "debug" / "switchboard"
LISTENING_RE = re.compile(r"switchboard listening on (\S+):(\d+)\s*$")
START_TIMEOUT = 20.0


def _binary() -> Path:
    return Path(os.environ.get("SWITCHBOARD_BIN", str(DEFAULT_BIN)))


def _yaml_scalar(v) -> str:
    """A YAML value in flow style: scalars, and (for per-app settings such as
    `limits` or `allowed_origins`) nested dicts and lists."""
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{k}: {_yaml_scalar(x)}" for k, x in v.items()) + " }"
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_yaml_scalar(x) for x in v) + "]"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return str(v)
    s = str(v)
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def render_config(limits: dict | None = None, apps: list[dict] | None = None, extra: str = "",
                  server: dict | None = None, backbone: dict | None = None) -> str:
    """`server` adds keys under `server:` (e.g. tls, trusted_proxies); `backbone`
    replaces the `backbone:` section (default `{"kind": "in-process"}`, see
    cluster.nats_backbone); `extra` is appended verbatim (other top-level sections
    such as `drain:`)."""
    lim = dict(DEFAULT_LIMITS)
    lim.update(limits or {})
    lines = [
        "server:",
        "  host: 127.0.0.1",
        "  port: 0",
    ]
    lines += [f"  {k}: {_yaml_scalar(v)}" for k, v in (server or {}).items()]
    lines.append("backbone:")
    lines += [f"  {k}: {_yaml_scalar(v)}" for k, v in (backbone or {"kind": "in-process"}).items()]
    lines.append("limits:")
    lines += [f"  {k}: {_yaml_scalar(v)}" for k, v in lim.items() if v is not None]
    lines.append("apps:")
    for app in apps or APPS:
        items = ", ".join(f"{k}: {_yaml_scalar(v)}" for k, v in app.items())
        lines.append(f"  - {{ {items} }}")
    text = "\n".join(lines) + "\n"
    if extra:
        text += extra
    return text


class ChildProcess:
    """A child process whose stdout and stderr are drained by threads into line
    lists, so a test can wait for a line and a failed test's report can show them.
    Subclasses watch lines in `_on_stdout` / `_on_stderr`."""

    def __init__(self):
        self.stdout_lines: list[str] = []
        self.stderr_lines: list[str] = []
        self._lock = threading.Lock()
        self.proc: subprocess.Popen | None = None

    def _spawn(self, argv: list[str]):
        self.proc = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            bufsize=1,
        )
        threading.Thread(target=self._drain, args=(self.proc.stdout, self.stdout_lines, self._on_stdout),
                         daemon=True).start()
        threading.Thread(target=self._drain, args=(self.proc.stderr, self.stderr_lines, self._on_stderr),
                         daemon=True).start()

    def _drain(self, stream, lines: list[str], on_line):
        for line in stream:
            with self._lock:
                lines.append(line)
            on_line(line)

    def _on_stdout(self, line: str):
        pass

    def _on_stderr(self, line: str):
        pass

    def _wait_started(self, started: threading.Event, what: str, timeout: float, details: str = ""):
        """Until `started` is set; raises with the output if the process exits or times out."""
        deadline = time.monotonic() + timeout
        while not started.wait(0.05):
            if self.proc.poll() is not None:
                time.sleep(0.2)  # let the drain threads catch up
                raise RuntimeError(f"{what}: exited with {self.proc.returncode} first\n{details}{self.output()}")
            if time.monotonic() > deadline:
                self.terminate()
                raise RuntimeError(f"{what}: not within {timeout}s\n{details}{self.output()}")

    def output(self) -> str:
        with self._lock:
            return f"--- stdout ---\n{''.join(self.stdout_lines)}--- stderr ---\n{''.join(self.stderr_lines)}"

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stderr_since(self, index: int) -> str:
        with self._lock:
            return "".join(self.stderr_lines[index:])

    def stderr_mark(self) -> int:
        with self._lock:
            return len(self.stderr_lines)

    def terminate(self):
        """SIGTERM, then SIGKILL if it has not exited within 5 s."""
        if self.alive():
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)

    def kill9(self):
        """SIGKILL: the process dies without any goodbye."""
        if self.alive():
            self.proc.kill()
            self.proc.wait(timeout=5)


class SwitchboardProcess(ChildProcess, Server):
    """A running switchboard process; stdout/stderr are drained by threads."""

    def __init__(self, limits=None, apps=None, extra="", server=None, args=(), backbone=None):
        super().__init__()
        self.limits = dict(DEFAULT_LIMITS)
        self.limits.update(limits or {})
        self.apps = [dict(a) for a in (apps or APPS)]
        self._tmp = tempfile.TemporaryDirectory(prefix="sb-e2e-")
        self.config_path = Path(self._tmp.name) / "config.yaml"
        self.config_path.write_text(render_config(limits, apps, extra, server, backbone))
        self._listening = threading.Event()
        self.host = "127.0.0.1"
        self.port = 0
        binary = _binary()
        if not binary.exists():
            raise RuntimeError(
                f"switchboard binary not found at {binary}; run `swift build` or set SWITCHBOARD_BIN"
            )
        self._spawn([str(binary), "serve", "--config", str(self.config_path), *args])
        self._wait_started(self._listening, "switchboard printing 'switchboard listening on HOST:PORT'",
                           START_TIMEOUT, details=f"--- config ---\n{self.config_path.read_text()}")

    def _on_stdout(self, line: str):
        m = LISTENING_RE.search(line)
        if m and not self._listening.is_set():
            host = m.group(1)
            self.host = "127.0.0.1" if host in ("0.0.0.0", "::", "[::]", "localhost") else host.strip("[]")
            self.port = int(m.group(2))
            self._listening.set()

    def stop(self):
        self.terminate()
        self._tmp.cleanup()


class NatsServer(ChildProcess):
    """A real nats-server with JetStream on 127.0.0.1. The port and store directory
    are fixed for the object's life, so after `kill9()` a `start()` brings the same
    server back where the nodes expect it, with its JetStream state."""

    READY_LINE = "Server is ready"

    def __init__(self, port: int | None = None):
        super().__init__()
        self.binary = shutil.which("nats-server") or "/usr/sbin/nats-server"
        if not Path(self.binary).exists():
            pytest.fail("nats-server is not installed (Debian package `nats-server`; `make setup` installs it)")
        self.port = port or free_port()
        self._tmp = tempfile.TemporaryDirectory(prefix="sb-nats-")
        self.store_dir = Path(self._tmp.name)
        self._ready = threading.Event()

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    def start(self) -> "NatsServer":
        assert not self.alive(), "nats-server is already running"
        self._ready.clear()
        self._spawn([self.binary, "-a", "127.0.0.1", "-p", str(self.port), "-js", "-sd", str(self.store_dir)])
        self._wait_started(self._ready, f"nats-server printing {self.READY_LINE!r} on port {self.port}", 10)
        return self

    def _on_stderr(self, line: str):
        if self.READY_LINE in line:
            self._ready.set()

    def stop(self):
        self.terminate()
        self._tmp.cleanup()


def free_port() -> int:
    """A port nothing listens on right now (the OS's pick for a bind to port 0)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ---------------------------------------------------------------------------
# Reporting: attach the stderr a server wrote during a failed test.

_WATCHED_KEY = pytest.StashKey[list]()


def _watch(request, srv: ChildProcess, label: str):
    watched = request.node.stash.setdefault(_WATCHED_KEY, [])
    watched.append((label, srv, srv.stderr_mark()))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    if rep.failed:
        for label, srv, mark in item.stash.get(_WATCHED_KEY, []):
            text = srv.stderr_since(mark)
            status = "running" if srv.alive() else f"EXITED with {srv.proc.returncode}"
            rep.sections.append(
                (f"{label} stderr (port {srv.port}, {status}, {rep.when})",
                 text[-20000:] or "(empty)")
            )


# ---------------------------------------------------------------------------
# A hard per-test time limit, so a hung socket can never hang CI.

TEST_TIME_LIMIT = float(os.environ.get("E2E_TEST_TIME_LIMIT", "30"))


class TestTimeLimit(Exception):
    pass


def pytest_configure(config):
    config.addinivalue_line("markers", "time_limit(seconds): a longer hard time limit for this test")


@pytest.fixture(autouse=True)
def _time_limit(request):
    marker = request.node.get_closest_marker("time_limit")
    limit = max(TEST_TIME_LIMIT, float(marker.args[0])) if marker else TEST_TIME_LIMIT

    def on_alarm(signum, frame):
        raise TestTimeLimit(f"test exceeded {limit}s")

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, limit)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


# ---------------------------------------------------------------------------
# Fixtures


@pytest.fixture(scope="session")
def _server_holder():
    holder = {}
    yield holder
    srv = holder.get("srv")
    if srv is not None:
        srv.stop()


@pytest.fixture
def server(request, _server_holder) -> SwitchboardProcess:
    """The shared default server; a crashed one is reported and replaced."""
    srv = _server_holder.get("srv")
    if srv is not None and not srv.alive():
        crashed = srv
        _server_holder["srv"] = None
        srv = None
        crashed_log = crashed.stderr_since(max(0, len(crashed.stderr_lines) - 200))
        crashed.stop()
        print(f"NOTE: the shared switchboard exited with {crashed.proc.returncode} "
              f"during an earlier test; stderr tail:\n{crashed_log}")
    if srv is None:
        srv = SwitchboardProcess()
        _server_holder["srv"] = srv
    _watch(request, srv, "switchboard shared server")
    yield srv
    assert srv.alive(), f"switchboard exited with {srv.proc.returncode} during this test"


@pytest.fixture
def switchboard(request):
    """Factory: start a dedicated server with other limits/apps for this test."""
    started: list[SwitchboardProcess] = []

    def start(limits=None, apps=None, extra="", server=None, args=(), backbone=None,
              label=None) -> SwitchboardProcess:
        """`args` are extra command-line arguments to `serve` (e.g. --log-format json);
        `backbone` is the config's `backbone:` section; `label` names it in failure reports."""
        srv = SwitchboardProcess(limits=limits, apps=apps, extra=extra, server=server, args=args,
                                 backbone=backbone)
        started.append(srv)
        _watch(request, srv, label or f"switchboard dedicated server #{len(started)}")
        return srv

    yield start
    for srv in started:
        srv.stop()


@pytest.fixture
def sdk(server):
    """Official pusher HTTP SDK for app 1 (client events on)."""
    return make_sdk(server, "1")


@pytest.fixture
def ws_factory(request):
    """Open raw websocket connections to the shared server (or to `srv`, e.g. a
    cluster node, which leaves the shared server unstarted); all closed at the end."""
    from helpers import PusherWS

    opened: list = []

    def connect(key="app-key", srv=None, **kw) -> PusherWS:
        ws = PusherWS.connect(srv or request.getfixturevalue("server"), key=key, **kw)
        opened.append(ws)
        return ws

    yield connect
    for ws in opened:
        ws.close()


@pytest.fixture(scope="session")
def _nats_holder():
    holder = {}
    yield holder
    if "nats" in holder:
        holder["nats"].stop()


@pytest.fixture
def nats_server(request, _nats_holder) -> NatsServer:
    """The shared nats-server with JetStream; started again (same port) if it died."""
    nats = _nats_holder.get("nats")
    if nats is None:
        nats = _nats_holder["nats"] = NatsServer()
    if not nats.alive():
        nats.start()
    _watch(request, nats, "nats-server (shared)")
    yield nats
    assert nats.alive(), f"nats-server exited with {nats.proc.returncode} during this test"


@pytest.fixture
def start_nats(request):
    """Factory: start_nats(port=None) starts a nats-server of this test's own (it may
    kill9() and start() it again); stopped at the end."""
    started: list[NatsServer] = []

    def start(port: int | None = None, running: bool = True) -> NatsServer:
        """`running=False` returns it unstarted: its port is then one nothing listens on."""
        nats = NatsServer(port)
        started.append(nats)
        _watch(request, nats, f"nats-server #{len(started)}")
        return nats.start() if running else nats

    yield start
    for nats in started:
        nats.stop()


@pytest.fixture
def cluster(request, switchboard):
    """Factory: cluster(count, nats=None, lease_ttl_seconds=3, apps=None) starts `count`
    switchboard nodes with the same apps, joined over `nats` (default: the shared
    nats_server), each with a unique node id, and waits until every node's /ready
    is 200 (unless ready=False). Returns the nodes in order (node_id on each)."""
    from cluster import nats_backbone, wait_ready

    def start(count: int = 2, nats: NatsServer | None = None, lease_ttl_seconds: int = 3,
              ready: bool = True, apps: list[dict] | None = None) -> list[SwitchboardProcess]:
        nats = nats or request.getfixturevalue("nats_server")
        nodes = []
        for i in range(count):
            node_id = f"node-{'abcdefgh'[i]}-{uuid.uuid4().hex[:6]}"
            node = switchboard(apps=apps,
                               backbone=nats_backbone(nats.url, node_id, lease_ttl_seconds=lease_ttl_seconds),
                               extra="drain:\n  grace_seconds: 1\n", label=f"switchboard {node_id}")
            node.node_id = node_id
            nodes.append(node)
        if ready:
            wait_ready(nodes)
        return nodes

    return start
