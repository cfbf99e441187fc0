"""`serve --log-format json`: one JSON object per stderr line, for log pipelines.

- Every stderr line is a JSON object with time, level, label, message and source.
- The first line is `starting`, with the version and the config summary (`settings`),
  where the app secret is masked; the secret itself never appears in the log.
- A client's refusals are logged once per connection at info (with `limit` and
  `connection.id`); the ones after it go to debug, so a misbehaving client cannot
  flood the log at the default level.
"""

from __future__ import annotations

import json
import time
import uuid

import pytest

from helpers import PusherWS, wait_until

REQUIRED_KEYS = {"time", "level", "label", "message", "source"}
SECRET = f"log-secret-{uuid.uuid4().hex}"


def json_server(switchboard, *extra_args):
    apps = [{"id": "1", "key": "app-key", "secret": SECRET, "client_events": True}]
    return switchboard(apps=apps, args=("--log-format", "json", *extra_args))


def log_records(srv) -> list[dict]:
    """Every stderr line so far, parsed; a line that is not a JSON object fails."""
    records = []
    for line in srv.stderr_since(0).splitlines():
        try:
            obj = json.loads(line)
        except ValueError:
            raise AssertionError(f"stderr line is not JSON: {line!r}") from None
        assert isinstance(obj, dict), f"stderr line is not a JSON object: {line!r}"
        missing = REQUIRED_KEYS - obj.keys()
        assert not missing, f"log line lacks {missing}: {line!r}"
        records.append(obj)
    return records


def refusals(records, connection_id, level):
    return [r for r in records if r.get("connection.id") == connection_id and r.get("level") == level
            and r.get("limit") is not None]


def test_json_log_starts_with_version_and_masked_settings(switchboard):
    srv = json_server(switchboard)
    records = wait_until(lambda: [r for r in log_records(srv)] or None, what="a first log line")
    first = records[0]
    assert first["message"] == "starting", first
    assert first["level"] == "info", first
    assert first.get("version"), first
    settings = first.get("settings")
    assert isinstance(settings, str) and settings, first
    assert "apps[0].secret: ********" in settings, settings
    assert "apps[0].key: app-key" in settings, settings
    assert "backbone.kind: in-process" in settings, settings
    assert SECRET not in srv.stderr_since(0)
    assert all(SECRET not in line for line in srv.stdout_lines)


def test_first_refusal_of_a_connection_is_logged_at_info_and_the_rest_are_not(switchboard):
    srv = json_server(switchboard)
    client = PusherWS.connect(srv)
    try:
        client.send_raw("{not json")
        client.expect("pusher:error")
        found = wait_until(lambda: refusals(log_records(srv), client.socket_id, "info"),
                           what="an info log line for the malformed frame")
        assert len(found) == 1, found
        line = found[0]
        assert line["limit"] == "malformed", line
        assert line["connection.id"] == client.socket_id, line
        assert line.get("app.id") == "1", line

        for _ in range(20):
            client.send_raw("{not json")
            client.expect("pusher:error")
        client.ping_pong()
        time.sleep(0.3)  # the log writes are not ordered with the socket's frames
        records = log_records(srv)
        assert len(refusals(records, client.socket_id, "info")) == 1, refusals(records, client.socket_id, "info")
        # debug is off at the default level: nothing about this connection after it.
        assert refusals(records, client.socket_id, "debug") == []
        assert all(r["level"] != "debug" for r in records), [r for r in records if r["level"] == "debug"][:3]
    finally:
        client.close()
    assert SECRET not in srv.stderr_since(0)


def test_later_refusals_of_a_connection_are_logged_at_debug_when_enabled(switchboard):
    srv = json_server(switchboard, "--log-level", "debug")
    client = PusherWS.connect(srv)
    try:
        for _ in range(21):
            client.send_raw("{not json")
            client.expect("pusher:error")
        debug = wait_until(lambda: (lambda d: d if len(d) >= 20 else None)(
            refusals(log_records(srv), client.socket_id, "debug")), what="20 debug refusal lines")
        records = log_records(srv)
        info = refusals(records, client.socket_id, "info")
        assert len(info) == 1 and len(debug) == 20, (info, debug)
        assert {r["limit"] for r in info + debug} == {"malformed"}
    finally:
        client.close()


@pytest.mark.parametrize("args", [(), ("--log-level", "debug")], ids=["info", "debug"])
def test_app_secret_never_appears_in_the_log_during_signed_traffic(switchboard, args):
    """At any level: at debug, libraries log too (e.g. the service group describing its
    services), and none of it may print the configuration's secrets."""
    import requests

    from helpers import make_sdk, unique

    srv = json_server(switchboard, *args)
    sdk = make_sdk(srv, "1")
    client = PusherWS.connect(srv)
    try:
        channel = unique("private-logs-")
        client.subscribe_private(channel, sdk)
        client.subscribe(unique("private-logs-"), auth="app-key:" + "0" * 64)
        client.expect("pusher:subscription_error")
        assert sdk.trigger(channel, "e", {"x": 1}) == {}
        client.expect("e", channel=channel)
        requests.post(f"{srv.http_base}/apps/1/events?auth_key=app-key&auth_signature=bad", data="{}", timeout=5)
    finally:
        client.close()
    time.sleep(0.2)
    leaks = [(r["message"], [k for k, v in r.items() if SECRET in str(v)]) for r in log_records(srv)
             if SECRET in json.dumps(r)]
    assert not leaks, f"the app secret is in these log lines (message, keys): {leaks}"
    assert SECRET not in srv.stderr_since(0)


def test_connect_refusals_are_logged_once_per_code_per_window(switchboard):
    """A client retrying an unknown key in a loop yields one info line, not one per try."""
    srv = json_server(switchboard)
    for _ in range(5):
        ws = PusherWS.connect(srv, key="no-such-key", handshake=False)
        ws.expect_close()
        ws.close()
    lines = wait_until(
        lambda: [r for r in log_records(srv) if r["message"] == "connection refused"] or None,
        what="a connection refused line",
    )
    time.sleep(0.3)
    lines = [r for r in log_records(srv) if r["message"] == "connection refused"]
    assert len(lines) == 1, lines
    assert lines[0]["level"] == "info", lines[0]
    assert lines[0]["close.code"] == "4001", lines[0]
    assert lines[0]["app.key"] == "no-such-key", lines[0]
