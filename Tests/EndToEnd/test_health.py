"""Health endpoints for load balancers and orchestrators.

`GET /live` is 200 `{"status":"live"}` for as long as the process serves HTTP.
`GET /ready` is 200 `{"status":"ready"}` while the node listens and is not
draining, and 503 `{"error": "<reason>"}` from the first SIGTERM on.
"""

from __future__ import annotations

import os
import signal

import requests

from helpers import PusherWS, wait_until


def get(srv, path):
    return requests.get(f"{srv.http_base}{path}", timeout=5)


def test_live_answers_200_status_live(server):
    r = get(server, "/live")
    assert r.status_code == 200, r.text
    assert r.json() == {"status": "live"}
    assert r.headers.get("Content-Type", "").startswith("application/json"), r.headers


def test_ready_answers_200_status_ready_once_listening(server):
    r = get(server, "/ready")
    assert r.status_code == 200, r.text
    assert r.json() == {"status": "ready"}
    assert r.headers.get("Content-Type", "").startswith("application/json"), r.headers


def test_ready_is_ready_right_after_start(switchboard):
    srv = switchboard()
    r = get(srv, "/ready")  # the very first request after the `listening` line
    assert r.status_code == 200 and r.json() == {"status": "ready"}, r.text


def test_ready_turns_503_and_live_stays_200_while_draining(switchboard):
    # 3 sockets over a 24 s window (grace 30): the last close is at least 16 s
    # away, so the node is still draining (and serving HTTP) for the checks.
    srv = switchboard(extra="drain:\n  grace_seconds: 30\n")
    clients = [PusherWS.connect(srv) for _ in range(3)]
    try:
        assert get(srv, "/ready").status_code == 200
        os.kill(srv.proc.pid, signal.SIGTERM)
        seen = []

        def ready_503():
            resp = get(srv, "/ready")
            seen.append(resp)
            return resp.status_code == 503

        wait_until(ready_503, timeout=2, interval=0.01, what="/ready 503 after SIGTERM")
        r = seen[-1]
        body = r.json()
        assert set(body) == {"error"} and isinstance(body["error"], str) and body["error"], r.text
        for _ in range(3):
            live = get(srv, "/live")
            assert live.status_code == 200 and live.json() == {"status": "live"}, \
                f"/live during the drain: {live.status_code} {live.text}"
            again = get(srv, "/ready")
            assert again.status_code == 503, f"/ready went back to {again.status_code} during the drain"
        assert srv.alive()
    finally:
        for c in clients:
            c.close()


def test_ready_and_live_ignore_query_strings(server):
    assert get(server, "/ready?probe=lb").status_code == 200
    assert get(server, "/live?probe=k8s").status_code == 200
