"""Time as the catalog stores it: ISO-8601 text in UTC with a trailing Z."""

from __future__ import annotations

from datetime import datetime, timezone


def now() -> datetime:
    return datetime.now(timezone.utc)


def iso(moment: datetime | None) -> str | None:
    """A datetime as catalog text. A naive datetime is a wall clock kept as written."""
    if moment is None:
        return None
    if moment.tzinfo is not None:
        moment = moment.astimezone(timezone.utc).replace(tzinfo=None)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def now_iso() -> str:
    return iso(now())  # type: ignore[return-value]


def parse(text: str | None) -> datetime | None:
    if not text:
        return None
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def api(text: str | None) -> str | None:
    """Catalog text as the API shows it (RFC 3339, seconds precision when whole)."""
    if not text:
        return None
    if text.endswith(".000000Z"):
        return text[:-8] + "Z"
    return text
