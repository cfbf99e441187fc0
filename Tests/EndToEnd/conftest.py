"""End-to-end fixtures: a real `switchboard` process and small real clients.

The server binary comes from $SWITCHBOARD_BIN (default
<repo>/.build/debug/switchboard). Each server is started with a config written
to a temp dir, `server.port: 0`, and the port is read from the stdout line
`switchboard listening on HOST:PORT`.

Fixtures:
  server        the shared default server (one per session, restarted if it died)
  switchboard   factory: switchboard(limits={...}) starts an extra server for one test
  sdk           official `pusher` HTTP SDK for app 1 against `server`
Helpers (importable from conftest via `from helpers import ...`): see helpers.py.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import tempfile
import threading
import time
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
                  server: dict | None = None) -> str:
    """`server` adds keys under `server:` (e.g. tls, trusted_proxies); `extra` is
    appended verbatim (other top-level sections such as `drain:`)."""
    lim = dict(DEFAULT_LIMITS)
    lim.update(limits or {})
    lines = [
        "server:",
        "  host: 127.0.0.1",
        "  port: 0",
    ]
    lines += [f"  {k}: {_yaml_scalar(v)}" for k, v in (server or {}).items()]
    lines += [
        "backbone:",
        "  kind: in-process",
        "limits:",
    ]
    lines += [f"  {k}: {_yaml_scalar(v)}" for k, v in lim.items() if v is not None]
    lines.append("apps:")
    for app in apps or APPS:
        items = ", ".join(f"{k}: {_yaml_scalar(v)}" for k, v in app.items())
        lines.append(f"  - {{ {items} }}")
    text = "\n".join(lines) + "\n"
    if extra:
        text += extra
    return text


class SwitchboardProcess(Server):
    """A running switchboard process; stdout/stderr are drained by threads."""

    def __init__(self, limits=None, apps=None, extra="", server=None, args=()):
        self.limits = dict(DEFAULT_LIMITS)
        self.limits.update(limits or {})
        self.apps = [dict(a) for a in (apps or APPS)]
        self._tmp = tempfile.TemporaryDirectory(prefix="sb-e2e-")
        self.config_path = Path(self._tmp.name) / "config.yaml"
        self.config_path.write_text(render_config(limits, apps, extra, server))
        self.stderr_lines: list[str] = []
        self.stdout_lines: list[str] = []
        self._lock = threading.Lock()
        self._listening = threading.Event()
        self.host = "127.0.0.1"
        self.port = 0
        binary = _binary()
        if not binary.exists():
            raise RuntimeError(
                f"switchboard binary not found at {binary}; run `swift build` or set SWITCHBOARD_BIN"
            )
        self.proc = subprocess.Popen(
            [str(binary), "serve", "--config", str(self.config_path), *args],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            bufsize=1,
        )
        threading.Thread(target=self._drain_stdout, daemon=True).start()
        threading.Thread(target=self._drain_stderr, daemon=True).start()
        deadline = time.monotonic() + START_TIMEOUT
        while not self._listening.wait(0.05):
            if self.proc.poll() is not None:
                time.sleep(0.2)  # let the drain threads catch up
                raise RuntimeError(
                    f"switchboard exited with {self.proc.returncode} before listening\n"
                    f"--- config ---\n{self.config_path.read_text()}"
                    f"--- stdout ---\n{''.join(self.stdout_lines)}"
                    f"--- stderr ---\n{''.join(self.stderr_lines)}"
                )
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(
                    f"switchboard did not print 'switchboard listening on HOST:PORT' within {START_TIMEOUT}s\n"
                    f"--- stdout ---\n{''.join(self.stdout_lines)}"
                    f"--- stderr ---\n{''.join(self.stderr_lines)}"
                )

    def _drain_stdout(self):
        for line in self.proc.stdout:
            with self._lock:
                self.stdout_lines.append(line)
            m = LISTENING_RE.search(line)
            if m and not self._listening.is_set():
                host = m.group(1)
                self.host = "127.0.0.1" if host in ("0.0.0.0", "::", "[::]", "localhost") else host.strip("[]")
                self.port = int(m.group(2))
                self._listening.set()

    def _drain_stderr(self):
        for line in self.proc.stderr:
            with self._lock:
                self.stderr_lines.append(line)

    def alive(self) -> bool:
        return self.proc.poll() is None

    def stderr_since(self, index: int) -> str:
        with self._lock:
            return "".join(self.stderr_lines[index:])

    def stderr_mark(self) -> int:
        with self._lock:
            return len(self.stderr_lines)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        self._tmp.cleanup()


# ---------------------------------------------------------------------------
# Reporting: attach the stderr a server wrote during a failed test.

_WATCHED_KEY = pytest.StashKey[list]()


def _watch(request, srv: SwitchboardProcess, label: str):
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
                (f"switchboard stderr ({label}, port {srv.port}, {status}, {rep.when})",
                 text[-20000:] or "(empty)")
            )


# ---------------------------------------------------------------------------
# A hard per-test time limit, so a hung socket can never hang CI.

TEST_TIME_LIMIT = float(os.environ.get("E2E_TEST_TIME_LIMIT", "30"))


class TestTimeLimit(Exception):
    pass


@pytest.fixture(autouse=True)
def _time_limit():
    def on_alarm(signum, frame):
        raise TestTimeLimit(f"test exceeded {TEST_TIME_LIMIT}s")

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, TEST_TIME_LIMIT)
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
    _watch(request, srv, "shared server")
    yield srv
    assert srv.alive(), f"switchboard exited with {srv.proc.returncode} during this test"


@pytest.fixture
def switchboard(request):
    """Factory: start a dedicated server with other limits/apps for this test."""
    started: list[SwitchboardProcess] = []

    def start(limits=None, apps=None, extra="", server=None, args=()) -> SwitchboardProcess:
        """`args` are extra command-line arguments to `serve` (e.g. --log-format json)."""
        srv = SwitchboardProcess(limits=limits, apps=apps, extra=extra, server=server, args=args)
        started.append(srv)
        _watch(request, srv, f"dedicated server #{len(started)}")
        return srv

    yield start
    for srv in started:
        srv.stop()


@pytest.fixture
def sdk(server):
    """Official pusher HTTP SDK for app 1 (client events on)."""
    return make_sdk(server, "1")


@pytest.fixture
def ws_factory(server):
    """Open raw websocket connections to the shared server; all closed at the end."""
    from helpers import PusherWS

    opened: list = []

    def connect(key="app-key", srv=None, **kw) -> PusherWS:
        ws = PusherWS.connect(srv or server, key=key, **kw)
        opened.append(ws)
        return ws

    yield connect
    for ws in opened:
        ws.close()
