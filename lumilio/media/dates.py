"""Capture times as files write them, turned into datetimes with an honest zone.

A time that comes with an offset becomes an aware datetime in that offset. A time
without one stays naive: it is the wall clock the camera showed, and guessing a zone
for it would move the photo in time.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

# The `taken_source` of a capture time a person typed in: a re-read of the file
# leaves it alone.
USER_TIME_SOURCE = "user"

# Offsets beyond these are not time zones (UTC-12:00 to UTC+14:00).
MIN_OFFSET_MINUTES = -12 * 60
MAX_OFFSET_MINUTES = 14 * 60

_STAMP = re.compile(
    r"^\s*(\d{4})[:\-](\d{2})[:\-](\d{2})[ T](\d{2}):(\d{2})(?::(\d{2}))?"
    r"(?:[.,](\d+))?\s*(Z|[+\-]\d{2}:?\d{2})?"
)
_OFFSET = re.compile(r"^\s*(Z|[+\-]\d{1,2}(?::?\d{2})?)\s*$")

# A date, optionally followed by a time, as phones and apps put them into names:
# IMG_20190102_030405, PXL_20190102_030405123, IMG-20190102-WA0001,
# Screenshot_2019-01-02-03-04-05, 2019-01-02 03.04.05, VID_20190102_030405.
_NAME_STAMP = re.compile(
    r"(?<!\d)(19\d{2}|20\d{2})[-_.]?(0[1-9]|1[0-2])[-_.]?(0[1-9]|[12]\d|3[01])"
    r"(?:[-_ T.]{0,3}([01]\d|2[0-3])[-_.:h]?([0-5]\d)[-_.:m]?([0-5]\d)"
    r"(?:[._]?\d{1,3})?)?"
    r"(?!\d)"
)


@dataclass(frozen=True)
class ParsedTime:
    """A wall clock as written, and the offset written with it (if any)."""

    wall: datetime
    offset_minutes: int | None

    def as_capture(self) -> datetime:
        """Aware in the written offset when there is one, else the naive wall clock."""
        if self.offset_minutes is None:
            return self.wall
        zone = timezone(timedelta(minutes=self.offset_minutes))
        return self.wall.replace(tzinfo=zone)


def parse_stamp(text: object) -> ParsedTime | None:
    """'2019:01:02 03:04:05[.123][+01:00|Z][ DST]' (EXIF or ISO style), else None.

    A date without a time of day, and placeholders such as `0000:00:00 00:00:00`,
    give None: they say nothing about the moment of capture.
    """
    if not isinstance(text, str):
        return None
    match = _STAMP.match(text)
    if match is None:
        return None

    year, month, day, hour, minute = (int(match.group(i)) for i in range(1, 6))
    second = int(match.group(6) or 0)
    fraction = match.group(7) or ""
    micro = int((fraction + "000000")[:6]) if fraction else 0
    try:
        wall = datetime(year, month, day, hour, minute, min(second, 59), micro)
    except ValueError:
        return None
    if year < 1800:
        return None

    offset = parse_offset(match.group(8)) if match.group(8) else None
    return ParsedTime(wall=wall, offset_minutes=offset)


def parse_offset(text: object) -> int | None:
    """'+02:00', '-0530', 'Z' -> minutes east of UTC; None when absent or invalid."""
    if not isinstance(text, str):
        return None
    match = _OFFSET.match(text)
    if match is None:
        return None

    value = match.group(1)
    if value == "Z":
        return 0
    sign = 1 if value[0] == "+" else -1
    digits = value[1:].replace(":", "")
    if len(digits) <= 2:
        hours, minutes = int(digits), 0
    else:
        hours, minutes = int(digits[:-2]), int(digits[-2:])

    total = sign * (hours * 60 + minutes)
    if minutes >= 60 or not MIN_OFFSET_MINUTES <= total <= MAX_OFFSET_MINUTES:
        return None
    return total


def with_subseconds(parsed: ParsedTime, subsec: object) -> ParsedTime:
    """Add EXIF SubSecTime digits ('814' means .814 s) unless the stamp had its own."""
    digits = str(subsec).strip() if subsec is not None else ""
    if not digits.isdigit() or parsed.wall.microsecond:
        return parsed
    micro = int((digits + "000000")[:6])
    return ParsedTime(parsed.wall.replace(microsecond=micro), parsed.offset_minutes)


def date_from_name(name: str) -> datetime | None:
    """A naive capture time found in a file name, or None."""
    stem = Path(name).stem
    for match in _NAME_STAMP.finditer(stem):
        parts = [int(g) if g else 0 for g in match.groups()]
        try:
            return datetime(*parts[:3], parts[3], parts[4], parts[5])
        except ValueError:
            continue
    return None


def mtime_wall(path: Path) -> datetime:
    """The file's modification time as a naive local wall clock."""
    return datetime.fromtimestamp(path.stat().st_mtime)
