"""`GET /metrics`: the Prometheus text exposition on the API port.

A dedicated server runs one scripted scenario (so no other test's traffic is in
its counters), then the scrape is parsed with a small text-format parser and the
counters are compared with exactly what the scenario did:

  socket A  subscribes to public channel P, sends 1 malformed frame and
            1 forged private-channel subscribe, then closes with 1000
  socket B  subscribes to P and to presence channel R as user u-1
  socket C  subscribes to R as user u-2 (B receives member_added: 1 delivery)
  HTTP      5 events to P (A and B subscribed: 10 deliveries),
            1 events request with a bad signature

Finally no label value anywhere may carry a channel name or a socket id.
"""

from __future__ import annotations

import json
import math
import re

import pytest
import requests

from helpers import PusherWS, make_sdk, signed_request, unique, wait_until

# name{k="v",...} value [timestamp]
SAMPLE_RE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+-?\d+)?$')
LABEL_RE = re.compile(r'\s*([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"\s*(?:,|$)')


def parse_metrics(text: str) -> dict:
    """{(name, frozenset(labels.items())): float}; raises on a line that is not
    a comment, blank, or a well-formed sample."""
    samples = {}
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        m = SAMPLE_RE.match(line)
        assert m, f"not a Prometheus sample line: {line!r}"
        name, raw_labels, value = m.groups()
        labels = {}
        pos = 0
        raw_labels = raw_labels or ""
        while pos < len(raw_labels):
            lm = LABEL_RE.match(raw_labels, pos)
            assert lm, f"bad label set in {line!r} at {raw_labels[pos:]!r}"
            labels[lm.group(1)] = lm.group(2).replace('\\"', '"').replace("\\n", "\n").replace("\\\\", "\\")
            pos = lm.end()
        key = (name, frozenset(labels.items()))
        assert key not in samples, f"duplicate series {line!r}"
        samples[key] = float(value) if value not in ("+Inf", "-Inf", "NaN") else float(value.replace("Inf", "inf"))
    return samples


class Scrape:
    def __init__(self, samples: dict):
        self.samples = samples

    def get(self, name: str, **labels) -> float | None:
        want = frozenset((k, str(v)) for k, v in labels.items())
        return self.samples.get((name, want))

    def value(self, name: str, **labels) -> float:
        v = self.get(name, **labels)
        if v is None:
            near = sorted(dict(k[1]) for k in self.samples if k[0] == name)
            raise AssertionError(f"no series {name}{labels}; series of that name: {near}")
        return v

    def names(self) -> set[str]:
        return {k[0] for k in self.samples}

    def label_values(self) -> set[str]:
        return {v for (_, labels) in self.samples for (_, v) in labels}


def record_sends(send, log: list):
    """Wraps a websockets `send` to keep every text message's UTF-8 bytes."""
    def wrapped(message, *args, **kw):
        log.append(message.encode() if isinstance(message, str) else bytes(message))
        return send(message, *args, **kw)
    return wrapped


def scrape(srv) -> Scrape:
    r = requests.get(f"{srv.http_base}/metrics", timeout=5)
    assert r.status_code == 200, r.text[:500]
    assert r.headers.get("Content-Type", "").startswith("text/plain"), r.headers
    return Scrape(parse_metrics(r.text))


@pytest.fixture
def metrics_server(switchboard):
    return switchboard()


def test_parser_reads_the_exposition_and_every_series_is_a_number(metrics_server):
    s = scrape(metrics_server)
    assert s.samples, "empty /metrics"
    for (name, labels), value in s.samples.items():
        assert not math.isnan(value), (name, labels)
    # The app's counters exist from the moment the app is loaded, at zero.
    assert s.value("switchboard_connections_opened_total", app="1") == 0
    assert s.value("switchboard_refusals_total", app="", limit="unknown_app") == 0
    assert s.value("switchboard_backbone_connected") == 1
    assert s.value("switchboard_draining") == 0


def test_a_batch_to_one_channel_counts_every_event_to_every_socket(metrics_server):
    """The server writes a batch's events to each socket as one buffer; the counters
    still count one message, and its payload bytes, per event per socket."""
    srv = metrics_server
    sdk = make_sdk(srv, "1")
    channel = unique("metrics-batch-")
    clients = [PusherWS.connect(srv) for _ in range(3)]
    try:
        for client in clients:
            client.subscribe_ok(channel)
        before = scrape(srv)
        batch = [{"channel": channel, "name": "tick", "data": json.dumps({"i": i})} for i in range(10)]
        assert sdk.trigger_batch(batch) == {}
        payload_bytes = 0
        for client in clients:
            for i in range(10):
                ev = client.expect("tick", channel=channel)
                assert ev["data"] == {"i": i}
                payload_bytes += len(ev.raw.encode())
        after = scrape(srv)
    finally:
        for client in clients:
            client.close()
    assert (after.value("switchboard_messages_out_total", app="1")
            - before.value("switchboard_messages_out_total", app="1")) == 30
    assert (after.value("switchboard_bytes_out_total", app="1")
            - before.value("switchboard_bytes_out_total", app="1")) == payload_bytes


def test_scrape_counts_exactly_what_a_scripted_scenario_did(metrics_server):
    srv = metrics_server
    sdk = make_sdk(srv, "1")
    public = unique("metrics-pub-")
    presence = unique("presence-metrics-")
    forged = unique("private-metrics-")
    clients = []
    try:
        a = PusherWS.connect(srv)
        b = PusherWS.connect(srv)
        c = PusherWS.connect(srv)
        clients += [a, b, c]
        sent: list[bytes] = []
        for client in clients:
            client.ws.send = record_sends(client.ws.send, sent)
        a.subscribe_ok(public)                                  # A: frame 1
        b.subscribe_ok(public)                                  # B: frame 1
        b.subscribe_presence(presence, sdk, "u-1", {"n": 1})    # B: frame 2
        c.subscribe_presence(presence, sdk, "u-2", {"n": 2})    # C: frame 1
        b.expect("pusher_internal:member_added", channel=presence)

        a.send_raw("{this is not json")                         # A: frame 2
        a.expect("pusher:error")
        a.subscribe(forged, auth="app-key:" + "0" * 64)         # A: frame 3
        a.expect("pusher:subscription_error", channel=forged, skip=("pusher:error",))

        bad = signed_request(srv, "POST", "/apps/1/events",
                             body={"name": "x", "channels": [public], "data": "{}"}, secret="wrong-secret")
        assert bad.status == 401, bad

        before_publish = scrape(srv)
        for i in range(5):
            assert sdk.trigger(public, "tick", {"i": i}) == {}
        frames_bytes = []
        for client in (a, b):
            for i in range(5):
                ev = client.expect("tick", channel=public)
                assert ev["data"] == {"i": i}
                frames_bytes.append(len(ev.raw.encode()))
        # Nothing else was delivered to C.
        c.ping_pong()
        after_publish = scrape(srv)

        a.ws.close(code=1000)
        wait_until(lambda: scrape(srv).value("switchboard_connections", app="1") == 2,
                   what="connections gauge back to 2 after A closed")
        s = scrape(srv)
    finally:
        for client in clients:
            client.close()

    # Connections
    assert s.value("switchboard_connections_opened_total", app="1") == 3
    assert s.value("switchboard_connections", app="1") == 2
    assert s.value("switchboard_connections_closed_total", app="1", code="1000") == 1
    closed = {dict(k[1])["code"]: v for k, v in s.samples.items() if k[0] == "switchboard_connections_closed_total"}
    assert closed == {"1000": 1}, closed
    assert s.value("switchboard_connection_duration_seconds_count", app="1") == 1
    assert s.value("switchboard_connection_duration_seconds_bucket", app="1", le="+Inf") == 1

    # Subscriptions: A's P left with A; B has P and R, C has R.
    assert s.value("switchboard_subscriptions", app="1") == 3
    assert s.value("switchboard_occupied_channels", app="1") == 2
    assert s.value("switchboard_presence_members", app="1") == 2

    # Messages in: 7 websocket frames (A 3, B 2, C 1 subscribe + 1 pusher:ping);
    # 5 HTTP events, each to one channel, the refused one not counted.
    assert s.value("switchboard_messages_in_total", app="1", source="websocket") == 7
    assert s.value("switchboard_messages_in_total", app="1", source="http") == 5
    assert len(sent) == 7, sent
    # bytes_in for websocket: the messages' payload bytes (no frame header or mask).
    assert s.value("switchboard_bytes_in_total", app="1", source="websocket") == sum(map(len, sent))
    # bytes_in for HTTP counts the event data per channel.
    assert s.value("switchboard_bytes_in_total", app="1", source="http") == \
        sum(len(json.dumps({"i": i})) for i in range(5))

    # Messages out: the publishes caused exactly 10 deliveries; bytes_out counts each
    # delivery's payload (no frame header), like bytes_in. Before them, member_added to B
    # was 1 delivery.
    delta_out = (after_publish.value("switchboard_messages_out_total", app="1")
                 - before_publish.value("switchboard_messages_out_total", app="1"))
    assert delta_out == 10
    delta_bytes = (after_publish.value("switchboard_bytes_out_total", app="1")
                   - before_publish.value("switchboard_bytes_out_total", app="1"))
    assert delta_bytes == sum(frames_bytes), (delta_bytes, frames_bytes)
    assert s.value("switchboard_messages_out_total", app="1") >= 11
    assert s.value("switchboard_client_events_total", app="1") == 0

    # Refusals: exactly the three the scenario provoked, nothing else.
    refusals = {dict(k[1])["limit"]: v for k, v in s.samples.items()
                if k[0] == "switchboard_refusals_total" and v}
    assert refusals == {"malformed": 1, "authorization": 1, "http_signature": 1}, refusals

    # HTTP requests by route and status.
    assert s.value("switchboard_http_requests_total", route="events", status="200") == 5
    assert s.value("switchboard_http_requests_total", route="events", status="401") == 1
    assert s.value("switchboard_http_request_duration_seconds_count", route="events") == 6
    assert s.value("switchboard_slow_consumer_closes_total", app="1") == 0
    # The in-process backbone carried the 5 events (and presence traffic, if any).
    assert s.value("switchboard_backbone_events_total", direction="published") >= 5

    # Bounded cardinality: no channel name or socket id in any label value.
    forbidden = [public, presence, forged, a.socket_id, b.socket_id, c.socket_id]
    for value in s.label_values():
        for f in forbidden:
            assert f not in value, f"label value {value!r} contains {f!r}"
    r = requests.get(f"{srv.http_base}/metrics", timeout=5)
    for f in forbidden:
        assert f not in r.text, f"/metrics mentions {f!r}"


def test_refused_unknown_app_key_is_counted_without_an_app_label(metrics_server):
    srv = metrics_server
    ws = PusherWS.connect(srv, key="no-such-key", handshake=False)
    try:
        code, _, _ = ws.expect_close()
        assert code == 4001
    finally:
        ws.close()
    s = scrape(srv)
    assert s.value("switchboard_refusals_total", app="", limit="unknown_app") == 1
    assert "no-such-key" not in s.label_values()
    assert s.value("switchboard_connections_opened_total", app="1") == 0


def test_metrics_scrapes_are_counted_under_their_own_route(metrics_server):
    srv = metrics_server
    scrape(srv)
    scrape(srv)
    s = scrape(srv)
    assert s.value("switchboard_http_requests_total", route="metrics", status="200") >= 2
    requests.get(f"{srv.http_base}/no/such/path/{unique('x')}", timeout=5)
    s = scrape(srv)
    routes = {dict(k[1]).get("route") for k in s.samples if k[0] == "switchboard_http_requests_total"}
    assert routes <= {"live", "ready", "metrics", "events", "batch_events", "channels", "channel", "users",
                      "terminate", "websocket", "other"}, routes
    assert "other" in routes, routes


def test_a_metrics_token_guards_the_scrape_and_nothing_else(switchboard):
    """With server.metrics_token set, /metrics answers 401 (JSON error naming the
    setting, WWW-Authenticate: Bearer) to no token and to a wrong one, and the
    exposition to the right one; health checks and the API stay as they were."""
    token = "scrape-" + unique("t")[:24].ljust(24, "x")
    srv = switchboard(server={"metrics_token": token})
    url = f"{srv.http_base}/metrics"
    for headers in ({}, {"Authorization": f"Bearer {token[:-1]}y"}, {"Authorization": token},
                    {"Authorization": f"Bearer {token} "}):
        r = requests.get(url, headers=headers, timeout=5)
        assert r.status_code == 401, (headers, r.status_code)
        assert r.headers["WWW-Authenticate"].startswith("Bearer"), r.headers
        assert "metrics_token" in r.json()["error"], r.text
        assert token not in r.text
    r = requests.get(url, headers={"Authorization": f"Bearer {token}"}, timeout=5)
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/plain"), r.text[:300]
    assert Scrape(parse_metrics(r.text)).value("switchboard_http_requests_total", route="metrics", status="401") == 4
    assert requests.get(f"{srv.http_base}/ready", timeout=5).status_code == 200
    assert make_sdk(srv).trigger(unique("public-"), "ev", {"n": 1}) == {}
    assert not any(token in line for line in srv.stdout_lines + srv.stderr_lines), "the token is never logged"
