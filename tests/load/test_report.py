"""The load test's verdict (load/report.py): a 5xx fails the run, refusals the traffic provokes do not, and
every endpoint's p95 is divided by /health's. The load test itself is `make load`, never run by tests."""

from __future__ import annotations

from load.__main__ import is_loopback
from load.report import build, percentile, render


def results(codes: dict[str, dict[str, int]], samples: dict[str, list[float]]) -> dict[str, object]:
    return {"codes": codes, "samples": samples}


HEALTH = {"GET /health": [1.0] * 18 + [2.0, 4.0]}  # p95 (nearest rank, 19th of 20) = 2.0


def test_a_clean_run_passes_and_ratios_are_to_health_p95() -> None:
    report = build(
        results(
            {"GET /health": {"200": 20}, "GET /tasks": {"200": 20}, "POST /tasks/{id}/pause": {"409": 3}},
            {**HEALTH, "GET /tasks": [2.0] * 19 + [40.0], "POST /tasks/{id}/pause": [5.0, 5.0, 5.0]},
        )
    )
    assert report.ok, report.problems
    rows = {r.name: r for r in report.rows}
    assert report.rows[0].name == "GET /health"  # the floor first
    assert report.health_p95 == percentile(HEALTH["GET /health"], 95)
    assert rows["GET /tasks"].ratio == rows["GET /tasks"].p95 / report.health_p95
    assert rows["POST /tasks/{id}/pause"].other_failures == 0  # a 409 is an expected refusal
    assert "PASS" in render(report)


def test_one_5xx_fails_the_run() -> None:
    report = build(
        results(
            {"GET /health": {"200": 20}, "GET /tasks": {"200": 19, "503": 1}},
            {**HEALTH, "GET /tasks": [2.0] * 20},
        )
    )
    assert not report.ok
    assert report.problems == ["1 responses were 5xx (the threshold is 0)"]
    assert "FAIL: 1 responses were 5xx" in render(report)


def test_transport_errors_and_unexpected_4xx_fail_too() -> None:
    report = build(
        results(
            {
                "GET /health": {"200": 5},
                "GET /tasks": {"401": 2},
                "GET /tasks/{id}/events (first event)": {"error": 1},
            },
            {**HEALTH, "GET /tasks": [1.0, 1.0], "GET /tasks/{id}/events (first event)": [3000.0]},
        )
    )
    assert not report.ok
    assert report.problems == ["3 requests failed otherwise (transport errors, unexpected 4xx)"]


def test_no_health_samples_is_no_verdict() -> None:
    report = build(results({"GET /tasks": {"200": 2}}, {"GET /tasks": [1.0, 2.0]}))
    assert not report.ok
    assert report.rows[0].ratio is None


def test_only_loopback_targets_are_loopback() -> None:
    assert is_loopback("http://127.0.0.1:8002")
    assert is_loopback("http://127.3.4.5")
    assert is_loopback("http://localhost:1")
    assert is_loopback("http://[::1]:8002")
    assert not is_loopback("http://10.0.0.5:8002")
    assert not is_loopback("https://staging.internal")
