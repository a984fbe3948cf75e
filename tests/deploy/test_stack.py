"""The monitoring and operations pieces of deploy/docker-compose.yml, each checked by its own tool where
Debian has it (amtool, promtool, psql against the machine's PostgreSQL) and by parsing where it does not
(Grafana's provisioning, Vector's config: neither binary is installable here)."""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
import uuid
from pathlib import Path
from typing import Any

import asyncpg
import pytest
import yaml

from tests.conftest import PG_ADMIN_URL, require_service, require_tool

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
GRAFANA = DEPLOY / "grafana"

# What rabbitmq_prometheus's /metrics/per-object exports per queue (RabbitMQ docs, "Monitoring with
# Prometheus", per-object metrics; labels vhost and queue). Only the ones the rules and panels use.
RABBITMQ_PER_OBJECT = {"rabbitmq_queue_messages_ready", "rabbitmq_queue_consumers", "rabbitmq_queue_messages"}


def compose() -> dict[str, Any]:
    loaded = yaml.safe_load((DEPLOY / "docker-compose.yml").read_text())
    assert isinstance(loaded, dict)
    return loaded


def mounts(service: str) -> dict[str, str]:
    """A service's repository mounts: container path -> the repository path (relative to deploy/)."""
    found: dict[str, str] = {}
    for volume in compose()["services"][service].get("volumes", []):
        source, target = volume.split(":")[:2]
        found[target] = source
    return found


def tool_run(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(a) for a in args], cwd=cwd, capture_output=True, text=True, timeout=60, check=False
    )


# -- Alertmanager and Prometheus's alerting ------------------------------------------------------------


def test_the_alertmanager_config_is_valid_and_routes_by_severity() -> None:
    amtool = require_tool("amtool", "Debian package `prometheus-alertmanager`")
    checked = tool_run(amtool, "check-config", "alertmanager.yml", cwd=DEPLOY / "alertmanager")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    config = yaml.safe_load((DEPLOY / "alertmanager/alertmanager.yml").read_text())
    receivers = {r["name"]: r for r in config["receivers"]}
    assert any("webhook_configs" in r for r in receivers.values())
    assert any("email_configs" in r for r in receivers.values())
    severities = {m for route in config["route"]["routes"] for m in route["matchers"]}
    # Every severity the rules use has a route of its own.
    rules = yaml.safe_load((DEPLOY / "prometheus/alerts.yml").read_text())["groups"][0]["rules"]
    assert {f'severity="{r["labels"]["severity"]}"' for r in rules} <= severities
    # The file is mounted where the container's --config.file reads it.
    service = compose()["services"]["alertmanager"]
    config_flag = next(a for a in service["command"] if a.startswith("--config.file="))
    assert mounts("alertmanager")[config_flag.split("=", 1)[1]] == "./alertmanager/alertmanager.yml"


def test_amtool_routes_a_critical_alert_to_the_pager_and_a_warning_to_the_webhook() -> None:
    amtool = require_tool("amtool", "Debian package `prometheus-alertmanager`")
    cwd = DEPLOY / "alertmanager"
    routed = {}
    for severity in ("critical", "warning"):
        done = tool_run(
            amtool,
            "config",
            "routes",
            "test",
            "--config.file=alertmanager.yml",
            f"severity={severity}",
            cwd=cwd,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        routed[severity] = done.stdout.strip()
    assert routed == {"critical": "oncall", "warning": "team-webhook"}


def test_prometheus_sends_its_alerts_to_the_stacks_alertmanager() -> None:
    promtool = require_tool("promtool", "Debian package `prometheus`")
    checked = tool_run(promtool, "check", "config", "prometheus.yml", cwd=DEPLOY / "prometheus")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    config = yaml.safe_load((DEPLOY / "prometheus/prometheus.yml").read_text())
    [manager] = config["alerting"]["alertmanagers"]
    [target] = [t for group in manager["static_configs"] for t in group["targets"]]
    host, port = target.split(":")
    services = compose()["services"]
    assert host in services, f"{host} is no compose service"
    assert f"127.0.0.1:{port}:{port}" in services[host]["ports"]  # Alertmanager's own port, 9093


# -- RabbitMQ per-queue metrics ------------------------------------------------------------------------


def test_rabbitmq_serves_per_object_metrics_and_prometheus_scrapes_them() -> None:
    plugins = (DEPLOY / "rabbitmq/enabled_plugins").read_text()
    assert re.fullmatch(r"\[[a-z_,\s]*\]\.\s*", plugins), "an Erlang list term ending with a dot"
    assert "rabbitmq_prometheus" in plugins
    assert mounts("rabbitmq")["/etc/rabbitmq/enabled_plugins"] == "./rabbitmq/enabled_plugins"
    jobs = yaml.safe_load((DEPLOY / "prometheus/prometheus.yml").read_text())["scrape_configs"]
    [job] = [j for j in jobs if j["job_name"] == "rabbitmq"]
    assert job["metrics_path"] == "/metrics/per-object"
    assert [t for g in job["static_configs"] for t in g["targets"]] == ["rabbitmq:15692"]
    # The queue rules read names that endpoint exports, with the queue label it adds.
    rules = yaml.safe_load((DEPLOY / "prometheus/alerts.yml").read_text())["groups"][0]["rules"]
    queue_rules = {r["alert"]: r["expr"] for r in rules if "rabbitmq_" in r["expr"]}
    assert set(queue_rules) == {"InviteQueueBacklog", "InviteQueueNoConsumers"}
    for expr in queue_rules.values():
        names = set(re.findall(r"\brabbitmq_[a-z_]+", expr))
        assert names and names <= RABBITMQ_PER_OBJECT, names
        assert "queue=~" in expr and "by (vhost, queue)" in expr


# -- Grafana ---------------------------------------------------------------------------------------------


def _grafana_files() -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    datasources = yaml.safe_load((GRAFANA / "provisioning/datasources/prometheus.yml").read_text())
    providers = yaml.safe_load((GRAFANA / "provisioning/dashboards/invite-service.yml").read_text())
    dashboard = json.loads((GRAFANA / "dashboards/invite-service.json").read_text())
    return datasources, providers, dashboard


def test_grafana_provisioning_is_mounted_where_grafana_reads_it() -> None:
    mounted = mounts("grafana")
    assert mounted["/etc/grafana/provisioning/datasources"] == "./grafana/provisioning/datasources"
    assert mounted["/etc/grafana/provisioning/dashboards"] == "./grafana/provisioning/dashboards"
    _, providers, _ = _grafana_files()
    [provider] = providers["providers"]
    assert provider["type"] == "file"
    # The provider's folder is where compose mounts the repository's dashboards folder.
    assert mounted[provider["options"]["path"]] == "./grafana/dashboards"
    assert (DEPLOY / "grafana/dashboards/invite-service.json").exists()
    home = compose()["services"]["grafana"]["environment"]["GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH"]
    assert home == f"{provider['options']['path']}/invite-service.json"


def test_every_panel_uses_a_provisioned_datasource_and_exported_metrics() -> None:
    datasources, _, dashboard = _grafana_files()
    provisioned = {d["uid"]: d for d in datasources["datasources"]}
    prometheus = provisioned["prometheus"]
    assert prometheus["url"] == "http://prometheus:9090" and prometheus["isDefault"] is True
    assert "prometheus" in compose()["services"]
    assert provisioned["loki"]["url"] == "http://loki:3100"
    variables = {v["name"]: v for v in dashboard["templating"]["list"]}
    # The names the service's code declares (tests/observability checks them against a live /metrics).
    service_metrics = {
        name
        for source in (ROOT / "src/invite_service").rglob("*.py")
        for name in re.findall(r'"(invite_[a-z_]+)"', source.read_text())
    }
    panels = [p for p in dashboard["panels"] if p["type"] != "row"]
    assert panels
    for panel in panels:
        uid = panel["datasource"]["uid"]
        if (var := re.fullmatch(r"\$\{(\w+)\}", uid)) is not None:
            # A datasource variable: it offers every datasource of its type; one must be provisioned.
            variable = variables[var.group(1)]
            assert variable["type"] == "datasource"
            assert any(d["type"] == variable["query"] for d in provisioned.values()), variable
        else:
            assert uid in provisioned, f"{panel['title']}: datasource {uid} is not provisioned"
        for target in panel["targets"]:
            for name in re.findall(r"\b((?:invite|rabbitmq|http)_[a-z_]+)\b", target["expr"]):
                base = re.sub(r"_(bucket|count|sum|total)$", "", name)
                known = (
                    name in service_metrics
                    or base in service_metrics
                    or name in RABBITMQ_PER_OBJECT
                    or base in {"http_requests", "http_request_duration_seconds"}
                )
                assert known, f"{panel['title']}: {name} is exported by nothing in the stack"


# -- Log shipping ----------------------------------------------------------------------------------------


def test_the_vector_pipeline_reads_docker_logs_and_ships_to_the_profiles_loki() -> None:
    services = compose()["services"]
    vector = services["vector"]
    assert mounts("vector")["/etc/vector/vector.yaml"] == "./vector/vector.yaml"
    assert "/var/run/docker.sock:/var/run/docker.sock:ro" in vector["volumes"]
    config = yaml.safe_load((DEPLOY / "vector/vector.yaml").read_text())
    sources, transforms, sinks = config["sources"], config.get("transforms", {}), config["sinks"]
    assert {s["type"] for s in sources.values()} == {"docker_logs"}
    # Only this project's containers: the label compose puts on them, with the file's project name.
    [source] = sources.values()
    assert source["include_labels"] == [f"com.docker.compose.project={compose()['name']}"]
    ids = set(sources) | set(transforms)
    for component in (*transforms.values(), *sinks.values()):
        assert component["inputs"] and set(component["inputs"]) <= ids, component["inputs"]
    [sink] = sinks.values()
    assert sink["type"] == "loki"
    host, port = sink["endpoint"].removeprefix("http://").split(":")
    assert host in services and services[host]["profiles"] == vector["profiles"] == ["logs"]
    assert f"127.0.0.1:{port}:{port}" in services[host]["ports"]
    # The transform parses the service's JSON lines (INVITE_LOG_JSON is on for every container of ours).
    [remap] = [t for t in transforms.values() if t["type"] == "remap"]
    assert "parse_json(.message)" in remap["source"]
    assert services["api"]["environment"]["INVITE_LOG_JSON"] == "true"
    # `vector validate` is not run: Vector is in neither Debian nor PyPI, and release downloads are out of
    # reach here; with the binary, `vector validate --no-environment deploy/vector/vector.yaml` checks this.


# -- init.sql --------------------------------------------------------------------------------------------


def _psql(*args: str) -> subprocess.CompletedProcess[str]:
    psql = require_tool("psql", "Debian package `postgresql-client`")
    dsn = PG_ADMIN_URL.replace("postgresql+asyncpg", "postgresql")
    return subprocess.run(
        [psql, dsn, "-X", "-q", *args], capture_output=True, text=True, timeout=60, check=False
    )


def test_init_sql_creates_a_role_that_owns_its_database_and_can_build_in_it() -> None:
    require_service("PostgreSQL", "127.0.0.1", 5432)
    suffix = uuid.uuid4().hex[:8]
    names = {
        "invite_user": f"t_invite_user_{suffix}",
        "invite_db": f"t_invite_db_{suffix}",
        "integration_user": f"t_integration_user_{suffix}",
        "integration_db": f"t_integration_db_{suffix}",
    }
    variables = [arg for key, value in names.items() for arg in ("-v", f"{key}={value}")]
    init = str(DEPLOY / "postgres/init.sql")
    try:
        for _ in range(2):  # a second run (an operator re-running it) changes nothing and does not fail
            done = _psql(*variables, "-f", init)
            assert done.returncode == 0, done.stdout + done.stderr
        asyncio.run(_check_ownership(names))
    finally:
        drops = [f'DROP DATABASE IF EXISTS "{names[db]}"' for db in ("invite_db", "integration_db")]
        drops += [f'DROP ROLE IF EXISTS "{names[user]}"' for user in ("invite_user", "integration_user")]
        for statement in drops:
            _psql("-c", statement)


async def _check_ownership(names: dict[str, str]) -> None:
    base = PG_ADMIN_URL.replace("postgresql+asyncpg", "postgresql").rsplit("/", 1)[0]
    base = base.replace("postgres@", "{user}@", 1)
    conn = await asyncpg.connect(f"{base.format(user=names['invite_user'])}/{names['invite_db']}")
    try:
        await conn.execute("CREATE TABLE probe (id int PRIMARY KEY)")
        await conn.execute("INSERT INTO probe VALUES (1)")
        assert await conn.fetchval("SELECT count(*) FROM probe") == 1
        assert await conn.fetchval("SELECT current_user") == names["invite_user"]
    finally:
        await conn.close()
    # Each role reaches its own database only.
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        await asyncpg.connect(f"{base.format(user=names['integration_user'])}/{names['invite_db']}")
    conn = await asyncpg.connect(f"{base.format(user=names['integration_user'])}/{names['integration_db']}")
    try:
        await conn.execute("CREATE TABLE probe (id int)")
    finally:
        await conn.close()


def test_the_compose_urls_use_the_names_init_sql_creates() -> None:
    text = (DEPLOY / "postgres/init.sql").read_text()
    defaults = dict(re.findall(r"\\set (\w+) (\w+)", text))
    services = compose()["services"]
    invite_url = services["api"]["environment"]["INVITE_DATABASE_URL"]
    assert invite_url.startswith(f"postgresql+asyncpg://{defaults['invite_user']}:")
    assert invite_url.endswith(f"/{defaults['invite_db']}")
    assert f":-{defaults['invite_password']}}}@" in invite_url
    integration_url = services["integration-service"]["environment"]["INTEGRATION_DATABASE_URL"]
    assert integration_url.startswith(f"postgresql+asyncpg://{defaults['integration_user']}:")
    assert integration_url.endswith(f"/{defaults['integration_db']}")
    health = services["invite-postgres"]["healthcheck"]["test"]
    # Healthy once init.sql has run: over TCP, which the image's init-time server does not listen on.
    assert health[health.index("-d") + 1] == defaults["invite_db"]
    assert health[health.index("-h") + 1] == "127.0.0.1"
