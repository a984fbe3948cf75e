"""The load test's verdict and table from the locustfile's results (pure: tests/load/test_report.py)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

HEALTH = "GET /health"
# A refusal the traffic provokes on purpose (locustfile.py): counted, not a failure.
EXPECTED_REFUSALS = frozenset({"409", "422", "429"})


def percentile(samples: list[float], pct: float) -> float:
    """Nearest-rank percentile (0 for no samples)."""
    if not samples:
        return 0.0
    ordered = sorted(samples)
    k = max(0, min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1))))
    return ordered[k]


@dataclass
class Row:
    name: str
    count: int
    p50: float
    p95: float
    ratio: float | None  # p95 / the p95 of /health under the same load
    codes: dict[str, int]

    @property
    def server_errors(self) -> int:
        return sum(n for code, n in self.codes.items() if code.isdigit() and int(code) >= 500)

    @property
    def other_failures(self) -> int:
        """Transport errors, unexpected 4xx and streams that delivered no event."""
        unexpected_4xx = sum(
            n
            for code, n in self.codes.items()
            if code.isdigit() and 400 <= int(code) < 500 and code not in EXPECTED_REFUSALS
        )
        return unexpected_4xx + self.codes.get("error", 0)


@dataclass
class Report:
    rows: list[Row]
    health_p95: float
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def build(results: Mapping[str, Mapping[str, object]]) -> Report:
    """``results``: {"samples": {name: [ms, …]}, "codes": {name: {code: count}}} as the locustfile writes."""
    samples: Mapping[str, list[float]] = results.get("samples", {})  # type: ignore[assignment]
    codes: Mapping[str, Mapping[str, int]] = results.get("codes", {})  # type: ignore[assignment]
    health = list(samples.get(HEALTH, []))
    health_p95 = percentile(health, 95)
    rows = []
    for name in sorted(set(samples) | set(codes), key=lambda n: (n != HEALTH, n)):
        s = list(samples.get(name, []))
        p95 = percentile(s, 95)
        rows.append(
            Row(
                name=name,
                count=len(s),
                p50=percentile(s, 50),
                p95=p95,
                ratio=p95 / health_p95 if health_p95 > 0 else None,
                codes=dict(codes.get(name, {})),
            )
        )
    report = Report(rows, health_p95)
    if not health:
        report.problems.append("no /health samples: there is no floor to compare with")
    if errors := sum(r.server_errors for r in rows):
        report.problems.append(f"{errors} responses were 5xx (the threshold is 0)")
    if failures := sum(r.other_failures for r in rows):
        report.problems.append(f"{failures} requests failed otherwise (transport errors, unexpected 4xx)")
    return report


def render(report: Report) -> str:
    head = f"{'endpoint':<38} {'requests':>8} {'p50 ms':>8} {'p95 ms':>8} {'p95/health':>10}  status codes"
    lines = [head, "-" * len(head)]
    for r in report.rows:
        ratio = f"{r.ratio:9.1f}x" if r.ratio is not None else f"{'-':>10}"
        codes = " ".join(f"{code}:{n}" for code, n in sorted(r.codes.items()))
        lines.append(f"{r.name:<38} {r.count:8d} {r.p50:8.1f} {r.p95:8.1f} {ratio}  {codes}")
    total = sum(r.count for r in report.rows)
    errors = sum(r.server_errors for r in report.rows)
    lines.append(f"{total} requests, {errors} 5xx; /health p95 {report.health_p95:.1f} ms is the floor")
    lines.extend(f"FAIL: {p}" for p in report.problems)
    if report.ok:
        lines.append("PASS: no 5xx, no failed request")
    return "\n".join(lines)
