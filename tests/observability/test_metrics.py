"""Prometheus metrics: what /metrics exports and from where, counters that follow committed work only,
the workers' multiprocess endpoint, and the alert rules and dashboard built on them."""

from __future__ import annotations

import asyncio
import importlib.util
import json
import re
import shutil
import subprocess
import sys
import uuid
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from prometheus_client.metrics import MetricWrapperBase
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import update

from invite_service.adapters.base import InviteResult, Outcome
from invite_service.adapters.telegram import metrics as integration_metrics
from invite_service.adapters.telegram.client import IntegrationClient, RetryPolicy
from invite_service.adapters.telegram.types import IntegrationError
from invite_service.api import statistics as statistics_endpoints
from invite_service.config import Settings
from invite_service.db import Database
from invite_service.kit.clock import utcnow
from invite_service.main import create_app
from invite_service.migrations import runner
from invite_service.models import InviteTask
from invite_service.observability import metrics
from invite_service.statistics import service as statistics_service
from tests.conftest import CI, free_port, require_tool
from tests.statistics.helpers import make_task, samples, usernames

ROOT = Path(__file__).resolve().parents[2]
ALERTS = ROOT / "deploy/prometheus/alerts.yml"
ALERT_TESTS = ROOT / "deploy/prometheus/alerts.test.yml"
DASHBOARD = ROOT / "deploy/grafana/dashboards/invite-service.json"
# RabbitMQ's own metrics (rabbitmq_prometheus plugin), named on purpose in the queue alerts and panels.
RABBITMQ_METRICS = frozenset({"rabbitmq_queue_messages_ready", "rabbitmq_queue_consumers"})
DOMAIN = {
    "invite_tasks_created": "counter",
    "invite_actions": "counter",
    "invite_action_duration_seconds": "histogram",
    "invite_flood_wait_seconds": "histogram",
    "invite_account_restrictions": "counter",
    "invite_import_rows": "counter",
    "invite_integration_errors": "counter",
    "invite_integration_retries": "counter",
    "invite_retention_deleted": "counter",
    "invite_tasks": "gauge",
    "invite_lanes": "gauge",
    "invite_running_task_max_idle_seconds": "gauge",
}
# Each takes values from a fixed set (platforms, outcomes, table names …): never an id, a user or a phone.
LOW_CARDINALITY_LABELS = {"platform", "action", "outcome", "kind", "result", "status", "state", "table", "le"}


@pytest.fixture
def fresh_gauges(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(statistics_endpoints._gauges, "ttl", 0.0)


async def scrape(client: httpx.AsyncClient) -> str:
    resp = await client.get("/metrics")
    assert resp.status_code == 200
    assert resp.headers["content-type"].startswith("text/plain")
    return resp.text


def value(text: str, name: str, **labels: str) -> float:
    return samples(text).get((name, tuple(sorted(labels.items()))), 0.0)


async def test_metrics_exports_every_domain_metric_with_low_cardinality_labels(
    client: httpx.AsyncClient,
) -> None:
    families = {f.name: f for f in text_string_to_metric_families(await scrape(client))}
    for name, kind in DOMAIN.items():
        assert families[name].type == kind, name
    for name, family in families.items():
        if name.startswith("invite_"):
            for sample in family.samples:
                assert set(sample.labels) <= LOW_CARDINALITY_LABELS, (name, sample.labels)
    # The labels each metric declares, whether or not this process has recorded a sample yet (a series
    # made on first use, like the retention counter's, must be held to the same rule).
    declared = [m for module in (metrics, integration_metrics) for m in vars(module).values()]
    for metric in (m for m in declared if isinstance(m, MetricWrapperBase)):
        assert set(metric._labelnames) <= LOW_CARDINALITY_LABELS, (metric, metric._labelnames)


async def test_task_gauges_come_from_the_database(client: httpx.AsyncClient, new_user, fresh_gauges) -> None:  # type: ignore[no-untyped-def]
    h = new_user()
    before = await scrape(client)
    tid = await make_task(client, h, usernames(2, "gauge"))
    after = await scrape(client)
    assert value(after, "invite_tasks", status="draft") == value(before, "invite_tasks", status="draft") + 1
    assert value(after, "invite_tasks_created_total") == value(before, "invite_tasks_created_total") + 1
    await client.post(f"/api/v1/tasks/{tid}/cancel", headers=h)
    cancelled = await scrape(client)
    assert value(cancelled, "invite_tasks", status="draft") == value(before, "invite_tasks", status="draft")
    assert (
        value(cancelled, "invite_tasks", status="cancelled")
        == value(before, "invite_tasks", status="cancelled") + 1
    )


async def test_a_refused_create_is_not_counted(client: httpx.AsyncClient, new_user) -> None:  # type: ignore[no-untyped-def]
    before = value(await scrape(client), "invite_tasks_created_total")
    bad = await client.post(
        "/api/v1/tasks", json={"name": "x", "platform": "sandbox", "action": "invite"}, headers=new_user()
    )
    assert bad.status_code == 422
    assert value(await scrape(client), "invite_tasks_created_total") == before


async def test_idle_and_lane_gauges_on_a_fresh_database(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'gauges.db'}"
    runner.upgrade(url)
    db = Database(url)
    now = utcnow()
    try:
        async with db.session() as s:
            for i, (status, next_run) in enumerate(
                [
                    ("running", now - timedelta(minutes=1)),
                    ("running", now + timedelta(hours=3)),
                    ("paused", None),
                ]
            ):
                s.add(
                    InviteTask(
                        id=uuid.uuid4(),
                        user_id="u",
                        name=f"t{i}",
                        platform="sandbox",
                        action="invite",
                        status=status,
                        settings={},
                        started_at=now - timedelta(hours=2 + i),
                        next_run_at=next_run,
                    )
                )
        snapshot = await statistics_service.gauges(db, now)
        assert snapshot.tasks == {"running": 2, "paused": 1}
        # The due task has been idle two hours; the one waiting three hours for its window is left out.
        assert snapshot.max_idle_seconds == pytest.approx(7200, abs=1)
        async with db.session() as s:
            await s.execute(
                update(InviteTask).where(InviteTask.name == "t0").values(next_run_at=now + timedelta(hours=1))
            )
        assert (await statistics_service.gauges(db, now)).max_idle_seconds == 0
    finally:
        await db.dispose()


async def test_outcome_metrics_count_committed_work_only(database: Database) -> None:
    result = InviteResult(Outcome.RETRY_AFTER, error_code="FLOOD_WAIT_42", retry_after=42)
    calls = metrics.ACTIONS_TOTAL.labels("sandbox", "invite", "retry_after")
    waits = metrics.RESTRICTIONS.labels("flood_wait")
    before = (calls._value.get(), waits._value.get(), metrics.FLOOD_WAIT._sum.get())
    async with database.sessionmaker() as s:
        metrics.record_outcome(s, "sandbox", "invite", result, False, 15)
        await s.rollback()
    assert (calls._value.get(), waits._value.get()) == before[:2]
    async with database.session() as s:
        metrics.record_outcome(s, "sandbox", "invite", result, False, 15)
        assert calls._value.get() == before[0]  # not before the commit
    assert (calls._value.get(), waits._value.get()) == (before[0] + 1, before[1] + 1)
    assert metrics.FLOOD_WAIT._sum.get() == before[2] + 42


async def test_integration_client_counts_errors_and_retries() -> None:
    answers = iter([httpx.Response(503), httpx.Response(503), httpx.Response(200, json={"accounts": []})])
    refusal = {"code": "USER_PRIVACY_RESTRICTED", "detail": "privacy"}

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/invite"):
            return httpx.Response(403, json=refusal)
        if request.url.path.endswith("/acct-x"):
            return httpx.Response(401, json={"code": "UNAUTHORIZED"})
        return next(answers)

    async def no_sleep(_: float) -> None:
        return None

    client = IntegrationClient(
        "http://integration",
        "s" * 32,
        transport=httpx.MockTransport(handler),
        sleep=no_sleep,
        retry=RetryPolicy(3),
    )

    def counts() -> tuple[float, ...]:
        errors = integration_metrics.INTEGRATION_ERRORS
        kinds = ("server_error", "auth", "refused")
        retries = integration_metrics.INTEGRATION_RETRIES._value.get()
        return (*[errors.labels(k)._value.get() for k in kinds], retries)

    start = counts()
    try:
        assert await client.list_accounts("u") == []  # two 503s, retried, then fine
        with pytest.raises(IntegrationError):
            await client.invite("acct-1", "@chat", [], key="k-1")  # a refusal: an answer, not an error
        with pytest.raises(IntegrationError):
            await client.get_account("acct-x")
    finally:
        await client.aclose()
    deltas = [b - a for a, b in zip(start, counts(), strict=True)]
    assert deltas == [2, 1, 0, 2]


async def test_import_rows_are_counted_by_result(client: httpx.AsyncClient, new_user) -> None:  # type: ignore[no-untyped-def]
    h = new_user()
    tid = await make_task(client, h)
    before = await scrape(client)
    content = b"username\nalpha_one\nalpha_two\nalpha_one\n!!bad!!\n"
    resp = await client.post(
        "/api/v1/import/file",
        headers=h,
        data={"task_id": tid, "dedupe": "false"},
        files={"file": ("a.csv", content)},
    )
    assert resp.status_code == 202, resp.text
    async with asyncio.timeout(60):
        while (job := (await client.get(f"/api/v1/import/jobs/{resp.json()['job_id']}", headers=h)).json())[
            "status"
        ] == "running":
            await asyncio.sleep(0.05)
    assert job["status"] == "completed", job
    after = await scrape(client)
    delta = {
        r: value(after, "invite_import_rows_total", result=r)
        - value(before, "invite_import_rows_total", result=r)
        for r in metrics.IMPORT_RESULTS
    }
    assert delta == {
        "accepted": job["rows_accepted"],
        "duplicate": job["rows_duplicate"],
        "rejected": job["rows_invalid"],
    }
    assert delta["accepted"] == 2 and delta["rejected"] == 1


WORKER = """
import multiprocessing, os, sys, time
from invite_service.observability import metrics
metrics.serve_worker_metrics(int(sys.argv[1]), "127.0.0.1")
def child(n):
    for _ in range(n):
        metrics.ACTIONS_TOTAL.labels("sandbox", "invite", "success").inc()
ctx = multiprocessing.get_context("fork")
procs = [ctx.Process(target=child, args=(n,)) for n in (3, 4)]
for p in procs: p.start()
for p in procs: p.join()
print("ready", flush=True)
time.sleep(60)
"""


def test_worker_metrics_sum_every_child_process(tmp_path: Path) -> None:
    multiproc = tmp_path / "prom"
    multiproc.mkdir()
    (multiproc / "counter_99999.db").write_bytes(b"stale file from an earlier run")
    port = free_port()
    env = {"PROMETHEUS_MULTIPROC_DIR": str(multiproc), "PATH": "/usr/bin:/bin"}
    proc = subprocess.Popen(
        [sys.executable, "-c", WORKER, str(port)], env=env, stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text
    finally:
        proc.kill()
        proc.wait(timeout=10)
    # Two children, 3 + 4 calls, summed from their files by the main process's endpoint.
    assert value(text, "invite_actions_total", platform="sandbox", action="invite", outcome="success") == 7


# -- alert rules and dashboard ------------------------------------------------------------------


def promtool() -> str:
    return require_tool("promtool", "Debian package `prometheus`")


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=120, check=False)


def test_alert_rules_are_valid_and_their_unit_tests_pass() -> None:
    tool = promtool()
    checked = run(tool, "check", "rules", ALERTS.name, cwd=ALERTS.parent)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    tested = run(tool, "test", "rules", ALERT_TESTS.name, cwd=ALERTS.parent)
    assert tested.returncode == 0, tested.stdout + tested.stderr


def test_the_rule_tests_catch_a_broken_rule(tmp_path: Path) -> None:
    tool = promtool()
    broken = ALERTS.read_text().replace(
        'invite_account_restrictions_total{kind="restricted"}', "invite_account_restrictions_total"
    )
    assert broken != ALERTS.read_text()
    (tmp_path / "alerts.yml").write_text(broken)
    shutil.copy(ALERT_TESTS, tmp_path / "alerts.test.yml")
    tested = run(tool, "test", "rules", "alerts.test.yml", cwd=tmp_path)
    assert tested.returncode != 0 and "InviteAccountRestrictionsRising" in tested.stdout + tested.stderr


PROMQL_WORDS = {
    "by",
    "without",
    "on",
    "ignoring",
    "group_left",
    "group_right",
    "bool",
    "and",
    "or",
    "unless",
    "offset",
    "inf",
    "nan",
}


def metric_names(expr: str) -> set[str]:
    """The metric names a PromQL expression reads (labels, functions, keywords and numbers left out)."""
    expr = re.sub(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'', "", expr)  # strings
    expr = re.sub(r"\{[^}]*\}", "", expr)  # label matchers
    expr = re.sub(r"\[[^\]]*\]", "", expr)  # ranges
    expr = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", "", expr)
    names = set()
    for match in re.finditer(r"[a-zA-Z_:][a-zA-Z0-9_:]*", expr):
        word = match.group(0)
        following = expr[match.end() :].lstrip()
        if word.lower() in PROMQL_WORDS or following.startswith("(") or word.startswith("$"):
            continue
        if expr[max(0, match.start() - 1)] in "$0123456789.":
            continue
        names.add(word)
    return names


def dashboard_exprs() -> list[str]:
    panels = json.loads(DASHBOARD.read_text())["panels"]
    return [t["expr"] for p in panels for t in p.get("targets", [])]


def alert_exprs() -> list[str]:
    """Each rule's ``expr``, inline or a ``|`` block (no YAML library in the project; this file's shape)."""
    exprs: list[str] = []
    lines = ALERTS.read_text().splitlines()
    for i, line in enumerate(lines):
        found = re.match(r"^(\s*)expr:\s*(.*)$", line)
        if not found:
            continue
        indent, inline = len(found.group(1)), found.group(2).strip()
        if inline not in ("|", ">"):
            exprs.append(inline)
            continue
        block = []
        for following in lines[i + 1 :]:
            if following.strip() and len(following) - len(following.lstrip()) <= indent:
                break
            block.append(following.strip())
        exprs.append(" ".join(block))
    return exprs


def exported_names(text: str) -> set[str]:
    names = set()
    for family in text_string_to_metric_families(text):
        suffixes = {
            "counter": ["_total"],
            "histogram": ["_bucket", "_sum", "_count"],
            "summary": ["", "_sum", "_count"],
        }
        names |= {family.name + s for s in suffixes.get(family.type, [""])}
        names |= {s.name for s in family.samples}
    return names


def test_the_name_parser_finds_metric_names_only() -> None:
    expr = (
        'histogram_quantile(0.95, sum by (le) (rate(a_seconds_bucket{x="y(z)"}[5m]))) / on(q) b_total > 0.5'
    )
    assert metric_names(expr) == {"a_seconds_bucket", "b_total"}


def test_the_dashboard_is_well_formed() -> None:
    dashboard = json.loads(DASHBOARD.read_text())
    ids = [p["id"] for p in dashboard["panels"]]
    assert len(ids) == len(set(ids))
    graphs = [p for p in dashboard["panels"] if p["type"] != "row"]
    assert len(graphs) >= 12
    for panel in graphs:
        assert panel["targets"] and panel["datasource"]["uid"] == "${datasource}", panel["title"]


async def test_dashboard_and_alerts_name_only_exported_metrics(client: httpx.AsyncClient) -> None:
    exported = exported_names(await scrape(client)) | RABBITMQ_METRICS
    assert len(alert_exprs()) == ALERTS.read_text().count("- alert:")
    used = {n for e in dashboard_exprs() + alert_exprs() for n in metric_names(e)}
    assert any(n.startswith("invite_") for n in used)
    ours = {n for n in used if not n.startswith("http_")}
    assert ours <= exported, sorted(ours - exported)


async def test_the_5xx_selector_matches_the_status_labels_the_api_exports(
    settings: Settings, database: Database
) -> None:
    # An app of its own, its route added before its first request (Starlette builds the middleware
    # stack, the instrumentator's included, on the first request).
    app = create_app(settings, database=database)

    async def boom() -> None:
        raise RuntimeError("boom")

    app.add_api_route("/boom-for-the-5xx-alert", boom)
    app.router.routes.insert(0, app.router.routes.pop())  # ahead of the UI's catch-all
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        assert (await client.get("/boom-for-the-5xx-alert")).status_code == 500
        assert (await client.get("/api/v1/tasks")).status_code == 401
        text = await scrape(client)
    selector = re.search(r'http_requests_total\{status=~"([^"]+)"\}', " ".join(alert_exprs()))
    assert selector is not None
    statuses = {
        dict(labels).get("handler"): dict(labels)["status"]
        for (name, labels), _ in samples(text).items()
        if name == "http_requests_total"
    }
    # PromQL regexes are anchored, like fullmatch.
    assert re.fullmatch(selector.group(1), statuses["/boom-for-the-5xx-alert"])
    assert not re.fullmatch(selector.group(1), statuses["/api/v1/tasks"])


async def test_http_metrics_used_by_dashboard_and_alerts_are_exported(client: httpx.AsyncClient) -> None:
    used = {n for e in dashboard_exprs() + alert_exprs() for n in metric_names(e) if n.startswith("http_")}
    assert used  # the API 5xx alert and the API panels
    missing = used - exported_names(await scrape(client))
    if missing and importlib.util.find_spec("prometheus_fastapi_instrumentator") is None and not CI:
        pytest.skip("HTTP metrics come from prometheus-fastapi-instrumentator, which is not installed yet")
    assert not missing, (
        f"not exported: {sorted(missing)} (prometheus-fastapi-instrumentator must instrument the app)"
    )
