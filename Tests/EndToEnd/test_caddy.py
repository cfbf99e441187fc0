"""Switchboard behind Caddy, with the shipped Config/proxies/Caddyfile.

Caddy runs in the foreground (`caddy run`) with HOME and its XDG dirs in a temp dir,
the admin endpoint off and automatic HTTPS off. The shipped Caddyfile is used as is,
except that its site address becomes http://127.0.0.1:<free port> and its upstreams
(switchboard-N:6001) become the test's node; a global options block is put in front.
`make setup` installs Debian's `caddy` package.
"""

from __future__ import annotations

import re
import subprocess

import pytest
import requests

from helpers import PusherWS, make_sdk, unique
from test_nginx import (PROXIES, Proxied, check_pubsub_through, check_pysher_through, find_binary, free_port, stop,
                        wait_proxy_ready)

GLOBAL_OPTIONS = """{
	admin off
	auto_https off
}

"""


def render_caddyfile(node_port: int, listen_port: int) -> str:
    text = (PROXIES / "Caddyfile").read_text()
    upstreams = re.compile(r"^(\s*reverse_proxy)((?:\s+switchboard-\d+:\d+)+)(\s*\{)", re.M)
    m = upstreams.search(text)
    assert m and len(m.group(2).split()) >= 2, \
        "Config/proxies/Caddyfile: expected `reverse_proxy switchboard-1:PORT switchboard-2:PORT ... {`"
    text = upstreams.sub(rf"\g<1> 127.0.0.1:{node_port}\g<3>", text, count=1)
    text, n = re.subn(r"^pusher\.example\.com\s*\{", f"http://127.0.0.1:{listen_port} {{", text, flags=re.M)
    assert n == 1, "Config/proxies/Caddyfile: expected one `pusher.example.com {` site block"
    assert not re.search(r"^\{", text, flags=re.M), "the shipped Caddyfile has its own global options block"
    return GLOBAL_OPTIONS + text


def caddy_env(home) -> dict:
    import os

    env = dict(os.environ)
    env.update(HOME=str(home), XDG_DATA_HOME=str(home / "data"), XDG_CONFIG_HOME=str(home / "config"))
    return env


@pytest.fixture
def caddy(server, tmp_path):
    binary = find_binary("caddy")
    port = free_port()
    cfg = tmp_path / "Caddyfile"
    cfg.write_text(render_caddyfile(server.port, port))
    log = tmp_path / "caddy.log"
    with open(log, "w") as out:
        proc = subprocess.Popen([binary, "run", "--config", str(cfg), "--adapter", "caddyfile"],
                                stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                env=caddy_env(tmp_path), cwd=tmp_path)
    try:
        wait_proxy_ready(proc, port, [log])
        yield Proxied(port, server.apps), log
    finally:
        stop(proc)


def test_shipped_caddyfile_passes_caddy_validate(tmp_path):
    binary = find_binary("caddy")
    cfg = tmp_path / "Caddyfile"
    cfg.write_text(render_caddyfile(6001, free_port()))
    r = subprocess.run([binary, "validate", "--config", str(cfg), "--adapter", "caddyfile"],
                       capture_output=True, text=True, timeout=20, env=caddy_env(tmp_path), cwd=tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr


def test_shipped_caddyfile_is_caddy_fmt_clean(tmp_path):
    binary = find_binary("caddy")
    r = subprocess.run([binary, "fmt", str(PROXIES / "Caddyfile")], capture_output=True, text=True, timeout=20,
                       env=caddy_env(tmp_path), cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert r.stdout == (PROXIES / "Caddyfile").read_text(), "run `caddy fmt --overwrite Config/proxies/Caddyfile`"


def test_websocket_and_http_api_work_through_caddy(caddy):
    proxy, _ = caddy
    check_pubsub_through(proxy)


def test_private_channel_and_client_events_flow_both_ways_through_caddy(caddy):
    """Two clients through Caddy, an event triggered by the SDK through Caddy reaches both,
    and client events relay between them (frames flow both ways, unbuffered)."""
    proxy, _ = caddy
    a = PusherWS.connect(proxy)
    b = PusherWS.connect(proxy)
    try:
        channel = unique("private-caddy-")
        sdk = make_sdk(proxy, "1")
        a.subscribe_private(channel, sdk)
        b.subscribe_private(channel, sdk)
        assert sdk.trigger(channel, "via-caddy", {"n": 1}) == {}
        assert a.expect("via-caddy", channel=channel)["data"] == {"n": 1}
        assert b.expect("via-caddy", channel=channel)["data"] == {"n": 1}
        a.send_event("client-hello", {"from": "a"}, channel=channel)
        assert b.expect("client-hello", channel=channel)["data"] == {"from": "a"}
        a.ping_pong()
    finally:
        a.close()
        b.close()
    r = requests.get(f"http://{proxy.host}:{proxy.port}/ready", timeout=5)
    assert r.status_code == 200, r.text


def test_pysher_works_through_caddy(caddy):
    check_pysher_through(caddy[0], "caddy")
