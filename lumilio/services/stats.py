"""Library statistics: years, cameras and lenses, focal lengths, when photos are taken.

Every figure covers what the caller may see (their own assets; an admin sees all),
never the trash or files gone from disk, and counts an asset at its capture time or,
without one, its upload time. Days, hours and months are those of the viewer's clock:
the same instants the browse date filter picks for a day, so a click on a day of the
heatmap shows the photos it counted.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone, tzinfo

from lumilio.auth.principal import Principal
from lumilio.context import Context
from lumilio.errors import BadRequest
from lumilio.services import local_time
from lumilio.services.browse import Where, build_filter
from lumilio.timeutil import iso

log = logging.getLogger(__name__)

FOCAL_LENGTH_LIMIT = 50
MONTHS_SHOWN = 24
TIME_TYPES = ("hourly", "monthly")
YEAR_RANGE = (1900, 2200)
DAYS_RANGE = (1, 36500)
FOCAL = "json_extract(a.specific_metadata, '$.focal_length')"


@dataclass(frozen=True)
class Scope:
    """Who asks, about which repository, and on which clock."""

    who: Principal
    repository_id: str | None
    zone: tzinfo

    def where(self) -> Where:
        filt = {"repository_id": self.repository_id} if self.repository_id else {}
        return build_filter(filt, self.who, self.zone)


def _span(ctx: Context, where: Where) -> tuple[datetime, datetime] | None:
    row = ctx.catalog.one(
        f"SELECT MIN(a.sort_time) AS low, MAX(a.sort_time) AS high FROM assets a"
        f" WHERE {where.sql()}", where.params)
    if row is None or row["low"] is None:
        return None
    return local_time.parse_catalog(row["low"]), local_time.parse_catalog(row["high"])


def _local(scope: Scope, fmt: str, start: datetime,
           end: datetime) -> tuple[str, list]:
    offset, params = local_time.offset_sql("a.sort_time", scope.zone, start, end)
    return f"strftime('{fmt}', a.sort_time, {offset})", params


def _grouped(ctx: Context, scope: Scope, fmt: str, where: Where, start: datetime,
             end: datetime, order: str, limit: int | None = None) -> list[dict]:
    bucket, params = _local(scope, fmt, start, end)
    tail = f" LIMIT {int(limit)}" if limit else ""
    return ctx.catalog.all(
        f"SELECT {bucket} AS bucket, COUNT(*) AS n FROM assets a WHERE {where.sql()}"
        f" GROUP BY bucket ORDER BY bucket {order}{tail}", [*params, *where.params])


# -- years, cameras, focal lengths ----------------------------------------------------


def available_years(ctx: Context, scope: Scope) -> dict:
    where = scope.where()
    span = _span(ctx, where)
    if span is None:
        return {"years": []}
    rows = _grouped(ctx, scope, "%Y", where, *span, order="DESC")
    return {"years": [int(r["bucket"]) for r in rows if r["bucket"]]}


def camera_lens(ctx: Context, scope: Scope, limit: int) -> dict:
    where = scope.where()
    where.add("a.camera_model IS NOT NULL AND a.camera_model != ''")
    where.add("a.lens_model IS NOT NULL AND a.lens_model != ''")
    rows = ctx.catalog.all(
        f"SELECT a.camera_model, a.lens_model, COUNT(*) AS n FROM assets a"
        f" WHERE {where.sql()} GROUP BY a.camera_model, a.lens_model"
        " ORDER BY n DESC, a.camera_model, a.lens_model LIMIT ?",
        [*where.params, limit])
    data = [{"camera_model": r["camera_model"], "lens_model": r["lens_model"],
             "count": r["n"]} for r in rows]
    return {"data": data, "total": sum(d["count"] for d in data)}


def focal_length(ctx: Context, scope: Scope) -> dict:
    where = scope.where()
    rows = ctx.catalog.all(
        f"SELECT {FOCAL} AS fl, COUNT(*) AS n FROM assets a"
        f" WHERE {where.sql()} AND {FOCAL} > 0"
        " GROUP BY fl ORDER BY n DESC, fl LIMIT ?",
        [*where.params, FOCAL_LENGTH_LIMIT])
    data = [{"focal_length": r["fl"], "count": r["n"]} for r in rows]
    return {"data": data, "total": sum(d["count"] for d in data)}


# -- when -----------------------------------------------------------------------------


def time_distribution(ctx: Context, scope: Scope, kind: str) -> dict:
    if kind not in TIME_TYPES:
        raise BadRequest("Invalid request data", "type must be hourly or monthly")
    where = scope.where()
    span = _span(ctx, where)
    if span is None:
        return {"data": [], "type": kind}

    if kind == "hourly":
        rows = _grouped(ctx, scope, "%H", where, *span, order="ASC")
        data = [{"label": f"{int(r['bucket'])}:00", "value": int(r["bucket"]),
                 "count": r["n"]} for r in rows]
        return {"data": data, "type": kind}

    rows = _grouped(ctx, scope, "%Y-%m", where, *span, order="DESC",
                    limit=MONTHS_SHOWN)
    data = []
    for row in rows:
        year, month = (int(part) for part in row["bucket"].split("-"))
        start = local_time.local_start(scope.zone, year, month)
        data.append({"label": row["bucket"], "value": int(start.timestamp()),
                     "count": row["n"]})
    return {"data": data, "type": kind}


@dataclass(frozen=True)
class DayRange:
    first: date
    last: date  # inclusive


def day_range(year: int | None, start_date: str | None, end_date: str | None,
              days: int | None, zone: tzinfo) -> DayRange:
    """The days of a heatmap request; the reference's precedence and checks."""
    if year is not None:
        if start_date or end_date:
            raise BadRequest("Invalid request data",
                             "year cannot be combined with start_date/end_date")
        if not YEAR_RANGE[0] <= year <= YEAR_RANGE[1]:
            low, high = YEAR_RANGE
            raise BadRequest("Invalid request data",
                             f"year must be between {low} and {high}")
        return DayRange(date(year, 1, 1), date(year, 12, 31))

    if start_date or end_date:
        if not (start_date and end_date):
            raise BadRequest("Invalid request data",
                             "start_date and end_date must be given together")
        first, last = _day(start_date, "start_date"), _day(end_date, "end_date")
        if last < first:
            raise BadRequest("Invalid request data",
                             "end_date must not be before start_date")
        return DayRange(first, last)

    today = datetime.now(zone).date()
    if days is not None:
        if not DAYS_RANGE[0] <= days <= DAYS_RANGE[1]:
            low, high = DAYS_RANGE
            raise BadRequest("Invalid request data",
                             f"days must be between {low} and {high}")
        return DayRange(today - timedelta(days=days - 1), today)
    return DayRange(date(today.year, 1, 1), date(today.year, 12, 31))


def _day(text: str, name: str) -> date:
    try:
        if len(text) != 10:
            raise ValueError(text)
        value = date.fromisoformat(text)
    except ValueError:
        raise BadRequest("Invalid request data",
                         f"{name} must be a date written YYYY-MM-DD") from None
    if not YEAR_RANGE[0] <= value.year <= YEAR_RANGE[1]:
        raise BadRequest("Invalid request data", f"{name} is out of range")
    return value


def daily_activity(ctx: Context, scope: Scope, days: DayRange) -> dict:
    start = local_time.local_start(scope.zone, days.first.year, days.first.month,
                                   days.first.day)
    after = days.last + timedelta(days=1)
    end = local_time.local_start(scope.zone, after.year, after.month, after.day)
    start_utc = start.astimezone(timezone.utc)
    end_utc = end.astimezone(timezone.utc)

    where = scope.where()
    where.add("a.sort_time >= ?", iso(start_utc))
    where.add("a.sort_time < ?", iso(end_utc))
    rows = _grouped(ctx, scope, "%Y-%m-%d", where, start_utc, end_utc, order="ASC")
    return {"data": [{"date": r["bucket"], "count": r["n"]} for r in rows]}
