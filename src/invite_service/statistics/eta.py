"""When will a task finish? An estimate from its lanes' remaining capacity (pure functions, no I/O).

The model, and why it is shaped this way:

1. **What is left**: targets ``pending``, ``reserved`` or ``sending``, one platform call each.
   Retries after failures and ``unknown`` targets (which wait for the user) are not counted, so the
   estimate leans optimistic when many calls fail.
2. **Each lane** (an account working for this task) that can act again counts: ``active`` and
   ``cooling_down`` lanes from the end of their cooldown or pacing delay, ``restricted`` lanes from
   the end of their restriction (the engine reactivates them then); ``unavailable`` and ``excluded``
   lanes never. Lanes work in parallel, each as fast as it is allowed:
   * the **pace**: one call per ``min_delay`` seconds (at least ``MIN_SECONDS_PER_CALL``, since a
     call takes time even when no delay is configured);
   * the **caps**: every sliding window (``windows_for``: the platform's caps lowered by the task's),
     starting from the account's real use in the ledger — by every task, since caps are shared. A
     window that is full frees a slot when its oldest call leaves it, exactly as the limiter does;
   * the **send window**: calls start only while it is open.
   An account that other running tasks also use gives this task an equal share of its pace and caps:
   they draw on the same caps and take turns under the same account lock.
3. **Simulation**: each lane is simulated as blocks of calls (as many as every window allows, at the
   pace, inside the open send window), waiting for slots to free when a window is full, over a
   horizon of two cycles (a cycle: the longest cap window, at least a day; a week when the send window
   skips days). Calls within 1/``GRAIN`` of a window's length count as one block that leaves the
   window with the latest of them, so slots free at most that much late (about half an hour for a
   daily cap), never early. That keeps what matters — "today at 16:40" versus "tomorrow morning" when a
   daily cap runs out — while a lane costs some hundred steps, not one per call. Beyond the horizon
   the lanes' steady rate over the last cycle carries the rest; past a year there is no estimate.
"""

from __future__ import annotations

import bisect
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from invite_service.limits.base import Window
from invite_service.limits.window import SendWindow

MIN_SECONDS_PER_CALL = 0.2
HORIZON = timedelta(days=366)
DAY = timedelta(days=1)
# Calls within 1/GRAIN of a window's length count as one block that leaves the window with its latest
# call: slots free a little late, never early, and a lane needs ~GRAIN steps per window, not one per call.
GRAIN = 50
_EPS = 1e-9

Block = tuple[datetime, float]  # (latest call, calls)


@dataclass(frozen=True)
class CapWindow:
    seconds: float
    limit: float
    history: tuple[Block, ...]  # the account's calls still inside the window, oldest first


@dataclass(frozen=True)
class LaneCapacity:
    """One lane's limits and history, already divided by the number of tasks sharing its account."""

    start: datetime  # the earliest instant it may act
    pace: float  # calls per second at most
    windows: tuple[CapWindow, ...]


def grain_seconds(window: Window) -> float:
    return window.seconds / GRAIN


def lane_capacity(
    windows: Sequence[tuple[Window, Sequence[Block]]], min_delay: float, start: datetime, share: int = 1
) -> LaneCapacity:
    """``windows``: each cap window with the account's calls in it, in blocks of ``grain_seconds``."""
    share = max(1, share)
    return LaneCapacity(
        start=start,
        pace=1.0 / max(min_delay, MIN_SECONDS_PER_CALL) / share,
        windows=tuple(
            CapWindow(float(w.seconds), w.limit / share, tuple((at, n / share) for at, n in history))
            for w, history in windows
        ),
    )


class OpenTime:
    """The send window's open intervals from ``now`` to ``now + horizon`` (all of it without a window).

    Instants are POSIX seconds (floats) here and in the simulation: datetime arithmetic was most of an
    estimate's cost, and a float is exact to well under a millisecond for centuries."""

    def __init__(self, window: SendWindow | None, now: datetime, horizon: timedelta = HORIZON) -> None:
        end = now + horizon
        spans = [(now, end)] if window is None else _open_intervals(window, now, end)
        self.intervals = [(a.timestamp(), b.timestamp()) for a, b in spans]
        self._ends = [b for _, b in self.intervals]

    def open_at(self, when: float) -> tuple[float, float] | None:
        """The open interval from ``when`` (or the next one's start) to its close; None past the horizon."""
        i = bisect.bisect_right(self._ends, when)
        if i >= len(self.intervals):
            return None
        a, b = self.intervals[i]
        return max(a, when), b


def _open_intervals(window: SendWindow, start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
    out: list[tuple[datetime, datetime]] = []
    day = start.astimezone(window.zone).date() - DAY  # a window may wrap midnight
    last = end.astimezone(window.zone).date()
    while day <= last:
        if day.weekday() in window.days:
            opens = datetime.combine(day, window.start, tzinfo=window.zone)
            close_day = day if window.start < window.end else day + DAY
            closes = datetime.combine(close_day, window.end, tzinfo=window.zone)
            a, b = max(opens.astimezone(UTC), start), min(closes.astimezone(UTC), end)
            if a < b:
                out.append((a, b))
        day += DAY
    return out


class _Curve:
    """A lane's cumulative calls by instant (POSIX seconds): linear between points (sending), else flat."""

    def __init__(self, points: list[tuple[float, float]]) -> None:
        self.times = [t for t, _ in points]
        self.counts = [n for _, n in points]

    def at(self, when: float) -> float:
        i = bisect.bisect_right(self.times, when) - 1
        if i < 0:
            return 0.0
        if i + 1 >= len(self.times):
            return self.counts[-1]
        t0, t1, n0, n1 = self.times[i], self.times[i + 1], self.counts[i], self.counts[i + 1]
        span = t1 - t0
        return n0 if span <= 0 else n0 + (n1 - n0) * min(1.0, (when - t0) / span)


def _simulate(lane: LaneCapacity, clock: OpenTime, begin: float, until: float, need: float) -> _Curve:
    """Send greedily in blocks until ``need`` calls are made or ``until``; see the module docstring."""
    windows = [(w.seconds, w.limit, deque((at.timestamp(), n) for at, n in w.history)) for w in lane.windows]
    grains = [w.seconds / GRAIN for w in lane.windows]
    used = [sum(n for _, n in w.history) for w in lane.windows]
    pace = lane.pace
    t, done = max(lane.start.timestamp(), begin), 0.0
    points = [(t, 0.0)]
    while done < need - _EPS:
        span = clock.open_at(t)
        if span is None or span[0] >= until:
            break
        t, closes = span
        free = float("inf")
        for i, (length, limit, entries) in enumerate(windows):
            while entries and entries[0][0] <= t - length:
                used[i] -= entries.popleft()[1]
            free = min(free, limit - used[i])
        if free <= _EPS:  # wait until every full window has freed a slot
            full = [
                (length, entries)
                for (length, limit, entries), u in zip(windows, used, strict=True)
                if limit - u <= _EPS
            ]
            if any(not entries for _, entries in full):
                break  # a cap of zero: this lane never sends
            t = max(entries[0][0] + length for length, entries in full)
            continue
        count = min(free, need - done, pace * (closes - t))
        if count <= _EPS:
            t = closes
            continue
        points.append((t, done))
        # Stamped with its first call: one window later its slots free one per pace step, just as fast
        # as the lane can use them, so the next block starts then and runs at the pace: exact.
        for i, (_, _, entries) in enumerate(windows):
            if entries and t - entries[-1][0] < grains[i]:
                entries[-1] = (t, entries[-1][1] + count)
            else:
                entries.append((t, count))
            used[i] += count
        t += count / pace
        done += count
        points.append((t, done))
    return _Curve(points)


@dataclass(frozen=True)
class Estimate:
    at: datetime | None
    remaining: int
    lanes: int  # lanes that add capacity
    rate_per_hour: float  # the average calls per hour the estimate assumes
    reason: str | None = None  # why ``at`` is None


def cycle(lanes: Sequence[LaneCapacity], window: SendWindow | None) -> timedelta:
    longest = max((w.seconds for lane in lanes for w in lane.windows), default=0.0)
    period = max(timedelta(seconds=longest), DAY)
    if window is not None and len(window.days) < 7:
        period = max(period, 7 * DAY)
    return period


def estimate(
    remaining: int, lanes: Sequence[LaneCapacity], window: SendWindow | None, now: datetime
) -> Estimate:
    """The instant the last remaining target should be handled (see the module docstring)."""
    if remaining <= 0:
        return Estimate(now, 0, len(lanes), 0.0)
    clock = OpenTime(window, now)
    if not clock.intervals:
        return Estimate(None, remaining, 0, 0.0, "the send window never opens")
    period = cycle(lanes, window).total_seconds()
    start = now.timestamp()
    until = start + 2 * period
    curves = [_simulate(lane, clock, start, until, remaining) for lane in lanes]
    curves = [c for c in curves if c.counts[-1] > _EPS]
    if not curves:
        return Estimate(None, remaining, 0, 0.0, "no account of this task can send")

    def total(when: float) -> float:
        return sum(c.at(when) for c in curves)

    def instant(seconds: float) -> datetime:
        return now + timedelta(seconds=seconds - start)

    reached = total(until)
    if reached >= remaining - _EPS:
        low, high = start, until
        while high - low > 1.0:
            mid = low + (high - low) / 2
            low, high = (low, mid) if total(mid) >= remaining - _EPS else (mid, high)
        seconds = max(high - start, 1.0)
        return Estimate(instant(high), remaining, len(curves), remaining / seconds * 3600)
    steady = (reached - total(until - period)) / period
    if steady <= 0:
        return Estimate(None, remaining, len(curves), 0.0, "no account of this task can send")
    finish = until + (remaining - reached) / steady
    if finish - start > HORIZON.total_seconds():
        return Estimate(None, remaining, len(curves), steady * 3600, "more than a year at the current caps")
    return Estimate(instant(finish), remaining, len(curves), steady * 3600)
