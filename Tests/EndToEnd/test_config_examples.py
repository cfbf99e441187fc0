"""The deployment examples under Config/ stay loadable.

- Config/switchboard.yaml (the development config) passes `switchboard check-config`.
- A config with `server.trusted_proxies` (IPs and CIDRs, v4 and v6) passes it too.
- Config/docker-compose.yml is valid YAML with the cluster's services wired to the
  shipped files. (Config/cluster/node-*.yaml use the NATS backbone, which does not
  exist yet: they are checked as YAML only, not with check-config.)
- Config/switchboard.service has the settings a graceful drain depends on.
"""

from __future__ import annotations

import configparser
import subprocess
from pathlib import Path

import yaml

from conftest import _binary

REPO_ROOT = Path(__file__).resolve().parents[2]
CONFIG = REPO_ROOT / "Config"


def check_config(path: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(_binary()), "check-config", str(path)], capture_output=True, text=True,
                          timeout=20, cwd=REPO_ROOT)


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


def test_cluster_node_configs_use_the_nats_backbone():
    for n in (1, 2, 3):
        node = yaml.safe_load((CONFIG / "cluster" / f"node-{n}.yaml").read_text())
        assert node["backbone"]["kind"] == "nats"
        assert node["backbone"]["nats"]["urls"] == ["nats://nats:4222"]
        assert node["server"]["port"] == 6001


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
