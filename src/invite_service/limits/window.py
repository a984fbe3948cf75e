"""The send window: days and local hours (IANA timezone) in which sends may start."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class SendWindow:
    days: frozenset[int]  # 0 = Monday
    start: time
    end: time
    zone: ZoneInfo

    @classmethod
    def from_settings(cls, raw: dict[str, Any] | None) -> SendWindow | None:
        if not raw:
            return None
        return cls(
            days=frozenset(int(d) for d in raw.get("days", range(7))),
            start=time.fromisoformat(str(raw.get("start", "00:00"))),
            end=time.fromisoformat(str(raw.get("end", "23:59"))),
            zone=ZoneInfo(str(raw.get("timezone", "UTC"))),
        )

    def _opening_day(self, local: datetime) -> datetime | None:
        """The local date whose window contains ``local``, if any (a window may wrap midnight)."""
        t = local.time()
        if self.start < self.end:
            return local if self.start <= t < self.end else None
        if t >= self.start:
            return local
        if t < self.end:
            return local - timedelta(days=1)
        return None

    def is_open(self, now: datetime) -> bool:
        local = now.astimezone(self.zone)
        day = self._opening_day(local)
        return day is not None and day.weekday() in self.days

    def next_open(self, now: datetime) -> datetime:
        """The first instant at or after ``now`` when the window is open (UTC)."""
        if self.is_open(now):
            return now
        local = now.astimezone(self.zone)
        for offset in range(0, 9):
            day = (local + timedelta(days=offset)).date()
            if day.weekday() not in self.days:
                continue
            # Build the wall-clock start in the zone; fold=0 resolves DST gaps to the earlier offset.
            opening = datetime.combine(day, self.start, tzinfo=self.zone)
            if opening.astimezone(UTC) >= now:
                return opening.astimezone(UTC)
        raise ValueError("send window has no open day")  # unreachable: days is never empty
