"""Catalog instants seen on a viewer's wall clock, inside SQL.

The catalog keeps every time as UTC text, and SQLite only knows fixed offsets. A zone
with daylight saving has a different offset in summer and in winter, so the offset is
looked up per row with a CASE over the zone's offset changes inside the span of the
query: a handful of branches for a year, a few hundred for a century of photos.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone, tzinfo
from functools import lru_cache

from lumilio.timeutil import iso

DAY = timedelta(days=1)
FIRST_YEAR, LAST_YEAR = 1, 9998


def _offset_minutes(zone: tzinfo, moment: datetime) -> int:
    offset = moment.astimezone(zone).utcoffset() or timedelta(0)
    return int(offset.total_seconds() // 60)


def _change_between(zone: tzinfo, low: datetime, high: datetime) -> datetime:
    """The first instant after `low` (to the second) whose offset is `high`'s."""
    before = _offset_minutes(zone, low)
    while high - low > timedelta(seconds=1):
        middle = low + (high - low) / 2
        if _offset_minutes(zone, middle) == before:
            low = middle
        else:
            high = middle
    return high.replace(microsecond=0)


@lru_cache(maxsize=4096)
def _year_changes(zone: tzinfo, year: int) -> tuple[tuple[datetime, int], ...]:
    # Stepping a day at a time finds every change except two within one day, which
    # no zone has had; each step costs one lookup, and a year is computed once.
    start = datetime(year, 1, 1, tzinfo=timezone.utc)
    end = datetime(year + 1, 1, 1, tzinfo=timezone.utc)
    changes = []
    cursor, offset = start, _offset_minutes(zone, start)
    while cursor < end:
        step = min(cursor + DAY, end)
        now = _offset_minutes(zone, step)
        if now != offset:
            changes.append((_change_between(zone, cursor, step), now))
            offset = now
        cursor = step
    return tuple(changes)


@dataclass(frozen=True)
class Segment:
    start: datetime  # UTC; the first segment also covers everything before it
    offset_minutes: int


def segments(zone: tzinfo, start: datetime, end: datetime) -> list[Segment]:
    """The zone's offsets between two UTC instants, oldest first."""
    start = max(start, datetime(FIRST_YEAR, 1, 2, tzinfo=timezone.utc))
    end = min(end, datetime(LAST_YEAR, 12, 30, tzinfo=timezone.utc))
    out = [Segment(start, _offset_minutes(zone, start))]
    if end <= start:
        return out
    for year in range(start.year, end.year + 1):
        for moment, offset in _year_changes(zone, year):
            if start < moment <= end and offset != out[-1].offset_minutes:
                out.append(Segment(moment, offset))
    return out


def offset_sql(column: str, zone: tzinfo, start: datetime,
               end: datetime) -> tuple[str, list]:
    """A SQL modifier ('+60 minutes') that turns `column` into the zone's wall clock.

    Valid for rows between `start` and `end`; use it as the last argument of
    strftime(). Branches go newest first, where most photos are.
    """
    parts = segments(zone, start, end)
    if len(parts) == 1:
        return "?", [_modifier(parts[0].offset_minutes)]

    sql, params = ["CASE"], []
    for part in reversed(parts[1:]):
        sql.append(f"WHEN {column} >= ? THEN ?")
        params += [iso(part.start), _modifier(part.offset_minutes)]
    sql.append("ELSE ? END")
    params.append(_modifier(parts[0].offset_minutes))
    return " ".join(sql), params


def _modifier(minutes: int) -> str:
    return f"{minutes:+d} minutes"


def local_start(zone: tzinfo, year: int, month: int = 1, day: int = 1) -> datetime:
    """Midnight of a calendar day on the zone's clock, as an aware datetime."""
    return datetime(year, month, day, tzinfo=zone)


def parse_catalog(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))
