"""The deployment examples under Config/ stay loadable.

- Config/switchboard.yaml (the development config) passes `switchboard check-config`.
- A config with `server.trusted_proxies` (IPs and CIDRs, v4 and v6) passes it too.
- Config/docker-compose.yml is valid YAML with the cluster's services wired to the
  shipped files, and Config/cluster/node-*.yaml pass check-config with the NATS backbone.
- Config/switchboard.service has the settings a graceful drain depends on.
- Config/grafana-dashboard.json queries only series a running node's /metrics exposes.
"""

from __future__ import annotations

import configparser
import json
import os
import re
import subprocess
from pathlib import Path

import yaml

from conftest import _binary

REPO_ROOT = Path(__file__).resolve().parents[2]
CONFIG = REPO_ROOT / "Config"


def check_config(path: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([str(_binary()), "check-config", str(path)], capture_output=True, text=True,
                          timeout=20, cwd=REPO_ROOT, env={**os.environ, **(env or {})})


def test_shipped_switchboard_yaml_passes_check_config():
    r = check_config(CONFIG / "switchboard.yaml")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "OK" in r.stdout


def test_config_with_trusted_proxies_passes_check_config(tmp_path):
    cfg = tmp_path / "proxied.yaml"
    cfg.write_text(
        "server:\n"
        "  host: 127.0.0.1\n"
        "  port: 0\n"
        '  trusted_proxies: ["127.0.0.1/32", "::1/128", "10.0.0.0/8", "192.168.1.7"]\n'
        "backbone:\n"
        "  kind: in-process\n"
        "apps:\n"
        '  - { id: "1", key: app-key, secret: app-secret }\n'
    )
    r = check_config(cfg)
    assert r.returncode == 0, r.stdout + r.stderr


def test_docker_compose_defines_nats_three_nodes_and_nginx():
    compose = yaml.safe_load((CONFIG / "docker-compose.yml").read_text())
    services = compose["services"]
    assert {"nats", "switchboard-1", "switchboard-2", "switchboard-3", "nginx"} <= set(services), set(services)
    assert "-js" in services["nats"]["command"], services["nats"]
    for n in (1, 2, 3):
        svc = services[f"switchboard-{n}"]
        mounts = [v.split(":") for v in svc["volumes"]]
        sources = {src: dst for src, dst, *_ in mounts}
        assert f"./cluster/node-{n}.yaml" in sources, svc["volumes"]
        assert (CONFIG / "cluster" / f"node-{n}.yaml").exists()
        assert sources[f"./cluster/node-{n}.yaml"] in svc["command"], svc["command"]
        assert svc["stop_signal"] == "SIGTERM"
        grace = int(str(svc["stop_grace_period"]).rstrip("s"))
        node = yaml.safe_load((CONFIG / "cluster" / f"node-{n}.yaml").read_text())
        assert grace > node["drain"]["grace_seconds"], "stop_grace_period must exceed drain.grace_seconds"
    nginx_mounts = services["nginx"]["volumes"]
    assert any(v.startswith("./proxies/nginx.conf:") for v in nginx_mounts), nginx_mounts


def test_cluster_node_configs_use_the_nats_backbone_and_pass_check_config():
    node_ids = set()
    for n in (1, 2, 3):
        path = CONFIG / "cluster" / f"node-{n}.yaml"
        node = yaml.safe_load(path.read_text())
        assert node["backbone"]["kind"] == "nats"
        assert node["backbone"]["nats"]["urls"] == ["nats://nats:4222"]
        assert node["server"]["port"] == 6001
        node_ids.add(node["backbone"]["node_id"])
        r = check_config(path, env={"SWITCHBOARD_APP_SECRET": "s"})
        assert r.returncode == 0, r.stdout + r.stderr
        assert "backbone.kind: nats" in r.stdout and f"backbone.node_id: node-{n}" in r.stdout, r.stdout
    assert len(node_ids) == 3, "each node needs its own node_id"


def test_systemd_unit_allows_the_drain_to_finish():
    unit = configparser.ConfigParser(strict=False, interpolation=None)
    unit.optionxform = str
    unit.read(CONFIG / "switchboard.service")
    svc = unit["Service"]
    assert svc["ExecStart"] == "/usr/local/bin/switchboard serve --config /etc/switchboard/switchboard.yaml"
    assert svc["KillSignal"] == "SIGTERM"
    assert svc["Restart"] == "on-failure"
    assert svc["LimitNOFILE"] == "1048576"
    assert "EnvironmentFile" in svc
    dev = yaml.safe_load((CONFIG / "switchboard.yaml").read_text())
    assert int(svc["TimeoutStopSec"]) > dev["drain"]["grace_seconds"]


DASHBOARD = CONFIG / "grafana-dashboard.json"
METRIC_NAME_RE = re.compile(r"\bswitchboard_[a-zA-Z0-9_]+")


def dashboard_queries(dashboard: dict) -> list[tuple[str, str]]:
    """(where, PromQL) for every panel target (rows included) and every query variable."""
    found = []

    def walk(panels):
        for panel in panels:
            for target in panel.get("targets", []):
                if "expr" in target:
                    found.append((f"panel {panel.get('title')!r} {target.get('refId')}", target["expr"]))
            walk(panel.get("panels", []))

    walk(dashboard.get("panels", []))
    for var in dashboard.get("templating", {}).get("list", []):
        if var.get("type") == "query":
            q = var.get("query")
            found.append((f"variable {var['name']!r}", q.get("query", "") if isinstance(q, dict) else q or ""))
    return found


def test_grafana_dashboard_queries_only_metrics_the_server_exposes(switchboard):
    import requests

    from helpers import PusherWS, wait_until
    from test_metrics import parse_metrics

    dashboard = json.loads(DASHBOARD.read_text())
    assert 36 <= dashboard["schemaVersion"] <= 41, dashboard["schemaVersion"]
    variables = {v["name"]: v for v in dashboard["templating"]["list"]}
    assert variables["DS_PROMETHEUS"]["type"] == "datasource"
    assert variables["DS_PROMETHEUS"]["query"] == "prometheus"

    # A node with webhooks (their counters exist only then) that has answered HTTP
    # requests (the request counters and histogram exist once a route was used) and
    # seen a socket close (closed_total has a series per close code seen).
    srv = switchboard(apps=[{"id": "1", "key": "app-key", "secret": "app-secret",
                             "webhooks": [{"url": "http://127.0.0.1:9/hook", "event_types": ["channel_occupied"]}]}])
    requests.get(f"{srv.http_base}/metrics", timeout=5)
    client = PusherWS.connect(srv)
    client.ws.close(code=1000)
    wait_until(lambda: "switchboard_connections_closed_total{" in
               requests.get(f"{srv.http_base}/metrics", timeout=5).text, what="a closed_total series")
    text = requests.get(f"{srv.http_base}/metrics", timeout=5).text
    exposed = {name for name, _ in parse_metrics(text)}

    queries = dashboard_queries(dashboard)
    assert len(queries) >= 10, queries
    used = set()
    for where, expr in queries:
        names = set(METRIC_NAME_RE.findall(expr))
        assert names, f"{where}: no switchboard_ metric in {expr!r}"
        unknown = names - exposed
        assert not unknown, f"{where}: {sorted(unknown)} not exposed by /metrics (expr {expr!r})"
        used |= names
    for panel in dashboard["panels"]:
        for target in panel.get("targets", []):
            assert target.get("datasource", {}).get("uid") == "${DS_PROMETHEUS}", (panel["title"], target)
        if panel["type"] != "row":
            assert panel["datasource"]["uid"] == "${DS_PROMETHEUS}", panel["title"]

    # The brief's panels are all there.
    for name in ("switchboard_connections", "switchboard_connections_opened_total",
                 "switchboard_connections_closed_total", "switchboard_messages_out_total",
                 "switchboard_messages_in_total", "switchboard_refusals_total",
                 "switchboard_slow_consumer_closes_total", "switchboard_http_requests_total",
                 "switchboard_http_request_duration_seconds_bucket", "switchboard_webhook_deliveries_total",
                 "switchboard_webhook_failures_total", "switchboard_backbone_connected", "switchboard_draining"):
        assert name in used, f"no panel queries {name}"
    exprs = [e for _, e in queries]
    assert any("rate(switchboard_messages_out_total" in e and "[1m]" in e for e in exprs)
    assert "histogram_quantile(0.99, sum by (le, route) " \
           "(rate(switchboard_http_request_duration_seconds_bucket[5m])))" in exprs


def test_grafana_dashboard_panels_have_unique_ids_and_fit_the_grid():
    dashboard = json.loads(DASHBOARD.read_text())
    ids = [p["id"] for p in dashboard["panels"]]
    assert len(ids) == len(set(ids)), ids
    for p in dashboard["panels"]:
        g = p["gridPos"]
        assert 0 <= g["x"] and g["x"] + g["w"] <= 24, (p["title"], g)
