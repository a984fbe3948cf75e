"""The ETA model on hand-checked cases: pace, hourly and daily caps, history in the ledger, shared
accounts, cooldowns, the send window, and the cases with no answer."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from invite_service.limits.base import Window
from invite_service.limits.window import SendWindow
from invite_service.statistics.eta import LaneCapacity, estimate, grain_seconds, lane_capacity

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday
HOURLY_5 = Window(3600, 5)
DAILY_50 = Window(86_400, 50)


def lane(
    windows: list[Window] | None = None,
    *,
    delay: float = 1.0,
    stamps: list[datetime] | None = None,
    start: datetime = NOW,
    share: int = 1,
) -> LaneCapacity:
    """A lane whose account made ``stamps`` calls, read per window the way the status service reads the
    ledger: the calls inside the window, counted per grain."""
    history = []
    for window in windows or []:
        grain = int(grain_seconds(window))
        blocks: dict[int, tuple[datetime, int]] = {}
        for stamp in sorted(s for s in stamps or [] if s > start - window.duration):
            key = int(stamp.timestamp()) // grain
            blocks[key] = (stamp, blocks.get(key, (stamp, 0))[1] + 1)
        history.append((window, [blocks[k] for k in sorted(blocks)]))
    return lane_capacity(history, delay, start, share)


def close_to(actual: datetime | None, expected: datetime, seconds: float = 2.0) -> bool:
    return actual is not None and abs((actual - expected).total_seconds()) <= seconds


def test_pace_alone_sets_the_time() -> None:
    # 10 calls, one every 2 s: the last starts 18 s from now.
    got = estimate(10, [lane(delay=2.0)], None, NOW)
    assert close_to(got.at, NOW + timedelta(seconds=20))


def test_lanes_work_in_parallel() -> None:
    one = estimate(100, [lane(delay=2.0)], None, NOW)
    four = estimate(100, [lane(delay=2.0) for _ in range(4)], None, NOW)
    assert one.at is not None and four.at is not None
    assert (four.at - NOW) * 3.5 < (one.at - NOW)
    assert four.lanes == 4


def test_a_full_hourly_cap_waits_for_its_oldest_call_to_leave() -> None:
    # 5 an hour: 5 now, the next 5 an hour later, the last 2 two hours later.
    got = estimate(12, [lane([HOURLY_5], delay=30)], None, NOW)
    assert got.at is not None
    assert NOW + timedelta(hours=2) <= got.at <= NOW + timedelta(hours=2, minutes=2)


def test_a_daily_cap_moves_the_rest_to_tomorrow() -> None:
    # 80 targets, 50 a day: 50 today, the other 30 once today's first calls are a day old.
    got = estimate(80, [lane([HOURLY_5, DAILY_50], delay=30)], None, NOW)
    assert got.at is not None
    assert NOW + timedelta(days=1) <= got.at <= NOW + timedelta(days=1, hours=6)


def test_calls_already_in_the_ledger_count_against_the_caps() -> None:
    # The account made 5 calls (by any task) in the last 10 minutes: its hour is full until they age out.
    used = [NOW - timedelta(minutes=10) + timedelta(seconds=i) for i in range(5)]
    fresh = estimate(5, [lane([HOURLY_5], delay=1)], None, NOW)
    busy = estimate(5, [lane([HOURLY_5], delay=1, stamps=used)], None, NOW)
    assert close_to(fresh.at, NOW + timedelta(seconds=5), 3)
    assert busy.at is not None and busy.at >= NOW + timedelta(minutes=50)


def test_an_account_shared_with_another_running_task_gives_half() -> None:
    alone = estimate(200, [lane([Window(3600, 100)], delay=1)], None, NOW)
    shared = estimate(200, [lane([Window(3600, 100)], delay=1, share=2)], None, NOW)
    assert alone.at is not None and shared.at is not None
    assert shared.at - NOW >= 1.8 * (alone.at - NOW)


def test_a_cooling_lane_starts_at_the_end_of_its_cooldown() -> None:
    later = NOW + timedelta(minutes=30)
    got = estimate(3, [lane(delay=1, start=later)], None, NOW)
    assert close_to(got.at, later + timedelta(seconds=3))


def test_the_send_window_spreads_calls_over_its_open_hours() -> None:
    window = SendWindow(frozenset(range(7)), time(9, 0), time(10, 0), ZoneInfo("UTC"))
    before_opening = NOW - timedelta(hours=1)
    # One call a second, one hour open a day: 7200 calls need two openings.
    got = estimate(7200, [lane(delay=1)], window, before_opening)
    assert close_to(got.at, datetime(2026, 3, 3, 10, 0, tzinfo=UTC), 5)


def test_the_send_window_in_a_local_time_zone() -> None:
    moscow = SendWindow(frozenset(range(7)), time(9, 0), time(18, 0), ZoneInfo("Europe/Moscow"))
    # 06:00 UTC is 09:00 in Moscow: open now.
    morning = datetime(2026, 3, 2, 6, 0, tzinfo=UTC)
    got = estimate(10, [lane(delay=1, start=morning)], moscow, morning)
    assert close_to(got.at, datetime(2026, 3, 2, 6, 0, 10, tzinfo=UTC), 2)
    # 15:30 UTC is 18:30 there: closed until tomorrow 09:00 Moscow, 06:00 UTC.
    evening = datetime(2026, 3, 2, 15, 30, tzinfo=UTC)
    got = estimate(10, [lane(delay=1, start=evening)], moscow, evening)
    assert close_to(got.at, datetime(2026, 3, 3, 6, 0, 10, tzinfo=UTC), 2)


def test_a_long_task_is_extrapolated_at_the_steady_rate() -> None:
    # 50 a day: 1000 calls take about 20 days, far beyond the simulated two days.
    got = estimate(1000, [lane([HOURLY_5, DAILY_50], delay=30)], None, NOW)
    assert got.at is not None
    assert timedelta(days=18) <= got.at - NOW <= timedelta(days=21)
    assert got.rate_per_hour == pytest.approx(50 / 24, rel=0.05)


def test_no_estimate_without_a_lane_or_beyond_a_year() -> None:
    assert estimate(5, [], None, NOW).reason == "no account of this task can send"
    assert estimate(5, [lane([Window(3600, 0)])], None, NOW).at is None
    far = estimate(100_000, [lane([DAILY_50], delay=30)], None, NOW)
    assert far.at is None and far.reason == "more than a year at the current caps"


def test_nothing_left_is_now() -> None:
    assert estimate(0, [lane()], None, NOW).at == NOW
