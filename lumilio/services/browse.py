"""The unified asset query of `POST /assets/list`: filters, sort, stacks, pages."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timezone
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from lumilio.auth.principal import Principal
from lumilio.context import Context
from lumilio.errors import BadRequest
from lumilio.services.asset_view import asset_dto
from lumilio.timeutil import iso

SORTS = {
    "date_captured": "a.sort_time DESC, a.asset_id DESC",
    "recently_added": "a.upload_time DESC, a.asset_id DESC",
}
STACK_MODES = ("collapsed", "expanded")
MAX_OFFSET = 2**62  # SQLite integers are 64-bit
TYPES = ("PHOTO", "VIDEO", "AUDIO")
FILENAME_OPERATORS = {
    "contains": "contains", "matches": "matches",
    "starts_with": "starts_with", "startswith": "starts_with",
    "ends_with": "ends_with", "endswith": "ends_with",
}


@dataclass
class Where:
    clauses: list[str] = field(default_factory=list)
    params: list[Any] = field(default_factory=list)
    deleted: bool = False  # the trash: deleted assets only

    def add(self, clause: str, *params: Any) -> None:
        self.clauses.append(clause)
        self.params.extend(params)

    def sql(self) -> str:
        return " AND ".join(self.clauses) if self.clauses else "1"


def _typed(filt: dict, name: str, kind: type | tuple) -> Any:
    value = filt.get(name)
    if value is None:
        return None
    kinds = kind if isinstance(kind, tuple) else (kind,)
    if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds):
        raise BadRequest("Invalid request data", f"filter.{name} has the wrong type")
    if isinstance(value, int) and not -MAX_OFFSET <= value <= MAX_OFFSET:
        raise BadRequest("Invalid request data", f"filter.{name} is out of range")
    return value


def viewer_zone(name: Any) -> ZoneInfo | timezone:
    if name is not None and not isinstance(name, str):
        raise BadRequest("Invalid request data", "viewer_timezone has the wrong type")
    if not name:
        return timezone.utc
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return timezone.utc


def _date_bound(text: Any, zone, end: bool) -> str:
    if not isinstance(text, str) or not text:
        raise BadRequest("Invalid request data", "date bounds must be strings")
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            moment = datetime.combine(day, time.max if end else time.min, zone)
        else:
            moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=zone)
    except ValueError:
        raise BadRequest("Invalid request data", f"not a date: {text!r}") from None
    return iso(moment)  # type: ignore[return-value]


def build_filter(filt: Any, who: Principal | None, zone) -> Where:
    """The WHERE clause of a filter (alias `a` for assets), with owner scoping."""
    if filt is None:
        filt = {}
    if not isinstance(filt, dict):
        raise BadRequest("Invalid request data", "filter must be an object")
    where = Where()

    deleted = _typed(filt, "is_deleted", bool)
    where.deleted = bool(deleted)
    where.add("a.is_deleted = ?", 1 if deleted else 0)
    if not deleted:
        where.add("a.is_missing = 0")

    if who is not None and not who.is_admin:
        where.add("a.owner_id = ?", who.user_id)
    elif (owner := _typed(filt, "owner_id", int)) is not None:
        where.add("a.owner_id = ?", owner)

    if (repo := _typed(filt, "repository_id", str)):
        where.add("a.repository_id = ?", repo)
    if (album := _typed(filt, "album_id", int)) is not None:
        where.add("a.asset_id IN (SELECT asset_id FROM album_assets"
                  " WHERE album_id = ?)", album)
    if (kind := _typed(filt, "type", str)):
        if kind not in TYPES:
            raise BadRequest("Invalid request data", f"unknown type {kind!r}")
        where.add("a.type = ?", kind)
    if (kinds := _typed(filt, "types", list)):
        if not all(k in TYPES for k in kinds):
            raise BadRequest("Invalid request data", "unknown value in types")
        where.add(f"a.type IN ({','.join('?' * len(kinds))})", *kinds)
    if (raw := _typed(filt, "raw", bool)) is not None:
        where.add("a.is_raw = ?", 1 if raw else 0)
    if (rating := _typed(filt, "rating", int)) is not None:
        if not 0 <= rating <= 5:
            raise BadRequest("Invalid request data", "rating must be 0-5")
        where.add("COALESCE(a.rating, 0) = ?", rating)
    if (liked := _typed(filt, "liked", bool)) is not None:
        where.add("COALESCE(a.liked, 0) = ?", 1 if liked else 0)
    if (camera := _typed(filt, "camera_model", str)):
        where.add("a.camera_model = ?", camera)
    if (lens := _typed(filt, "lens", str)):
        where.add("a.lens_model = ?", lens)
    if (person := _typed(filt, "person_id", int)) is not None:
        where.add("a.asset_id IN (SELECT asset_id FROM faces WHERE person_id = ?)",
                  person)
    if (tag := _typed(filt, "tag_name", str)):
        source = _typed(filt, "tag_source", str)
        where.add("a.asset_id IN (SELECT at.asset_id FROM asset_tags at JOIN tags t"
                  " USING (tag_id) WHERE t.tag_name = ?"
                  + (" AND at.source = ?)" if source else ")"),
                  *((tag, source) if source else (tag,)))

    _filename_filter(where, _typed(filt, "filename", dict))
    _date_filter(where, _typed(filt, "date", dict), zone)
    _location_filter(where, _typed(filt, "location", dict))
    return where


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _filename_filter(where: Where, spec: dict | None) -> None:
    if not spec:
        return
    value = spec.get("value")
    if not isinstance(value, str):
        if value is None:
            return
        raise BadRequest("Invalid request data", "filename.value must be a string")
    if not value:
        return
    operator = spec.get("operator") or spec.get("mode") or "contains"
    operator = FILENAME_OPERATORS.get(operator) if isinstance(operator, str) else None
    if operator is None:
        raise BadRequest("Invalid request data", "unknown filename operator")
    if operator == "matches":
        where.add("a.original_filename LIKE ?", value)
        return
    escaped = _like_escape(value)
    pattern = {"contains": f"%{escaped}%", "starts_with": f"{escaped}%",
               "ends_with": f"%{escaped}"}[operator]
    where.add("a.original_filename LIKE ? ESCAPE '\\'", pattern)


def _date_filter(where: Where, spec: dict | None, zone) -> None:
    if not spec:
        return
    start, end = spec.get("from"), spec.get("to")
    if start:
        where.add("a.sort_time >= ?", _date_bound(start, zone, end=False))
        if not end and isinstance(start, str) and len(start) == 10:
            end = start
    if end:
        where.add("a.sort_time <= ?", _date_bound(end, zone, end=True))


def _location_filter(where: Where, spec: dict | None) -> None:
    if not spec:
        return
    try:
        north, south = float(spec["north"]), float(spec["south"])
        east, west = float(spec["east"]), float(spec["west"])
    except (KeyError, TypeError, ValueError):
        return
    where.add("a.gps_latitude BETWEEN ? AND ?", min(north, south), max(north, south))
    if west <= east:
        where.add("a.gps_longitude BETWEEN ? AND ?", west, east)
    else:
        where.add("(a.gps_longitude >= ? OR a.gps_longitude <= ?)", west, east)


def pagination(body: dict) -> tuple[int, int]:
    page = body.get("pagination") or {}
    if not isinstance(page, dict):
        raise BadRequest("Invalid request data", "pagination must be an object")
    limit, offset = page.get("limit", 20), page.get("offset", 0)
    if not isinstance(limit, int) or isinstance(limit, bool):
        raise BadRequest("Invalid request data", "pagination.limit must be an integer")
    if not isinstance(offset, int) or isinstance(offset, bool):
        raise BadRequest("Invalid request data", "pagination.offset must be an integer")
    if limit <= 0 or limit > 100:
        limit = 20
    if offset > MAX_OFFSET:
        raise BadRequest("Invalid request data", "pagination.offset is too large")
    return limit, max(offset, 0)


def enum_field(body: dict, name: str, allowed, default: str) -> str:
    """A field that must be one of `allowed` (empty means the default)."""
    value = body.get(name) or default
    if not isinstance(value, str) or value not in allowed:
        raise BadRequest("Invalid request data", f"{name} must be one of "
                         + ", ".join(allowed))
    return value


def query(ctx: Context, who: Principal | None, body: dict) -> dict:
    sort = enum_field(body, "sort_by", SORTS, "date_captured")
    mode = enum_field(body, "stack_mode", STACK_MODES, "collapsed")
    search_type = enum_field(body, "search_type", ("filename", "semantic"),
                             "filename")
    limit, offset = pagination(body)
    where = build_filter(body.get("filter"), who, viewer_zone(body.get("viewer_timezone")))

    text = body.get("query")
    if text is not None and not isinstance(text, str):
        raise BadRequest("Invalid request data", "query must be a string")
    if text and text.strip():
        if search_type == "semantic":
            where.add("a.asset_id IN (SELECT value FROM json_each(?))",
                      json.dumps(_semantic_ids(ctx, where, text.strip())))
        else:
            where.add("a.original_filename LIKE ? ESCAPE '\\'",
                      f"%{_like_escape(text.strip())}%")

    if mode == "expanded":
        return _expanded(ctx, where, SORTS[sort], limit, offset)
    return _collapsed(ctx, where, SORTS[sort], limit, offset)


def _semantic_ids(ctx: Context, where: Where, text: str) -> list[str]:
    """The fused set of the sectioned search, which a semantic browse lists."""
    from lumilio.errors import Unavailable
    from lumilio.services import search

    ranked, _, degraded = search.channels(ctx, where, text)
    if degraded:
        raise Unavailable("Semantic search is currently unavailable")
    return search.fuse(ranked)[0]


def _expanded(ctx: Context, where: Where, order: str, limit: int, offset: int) -> dict:
    def run(conn):
        total = conn.execute(f"SELECT COUNT(*) AS n FROM assets a WHERE {where.sql()}",
                             where.params).fetchall()[0]["n"]
        rows = conn.execute(
            f"SELECT a.* FROM assets a WHERE {where.sql()} ORDER BY {order}"
            " LIMIT ? OFFSET ?", [*where.params, limit, offset]).fetchall()
        stacks = _stack_previews(conn, [r["asset_id"] for r in rows])
        return total, rows, stacks

    total, rows, stacks = ctx.catalog.read(run)
    items = []
    for row in rows:
        asset = asset_dto(row)
        if row["asset_id"] in stacks:
            asset["stack"] = stacks[row["asset_id"]]
        items.append({"type": "asset", "id": f"asset:{row['asset_id']}",
                      "asset": asset})
    return {"items": items, "total_visible": total, "total_assets": total,
            "stack_mode": "expanded", "limit": limit, "offset": offset}


_ALIAS_A = re.compile(r"\ba\.")

# The cover of a stack: its lowest-positioned member still in the library.
_COVER_OF = (
    "(SELECT x.asset_id FROM stack_members x JOIN assets c ON c.asset_id = x.asset_id"
    " WHERE x.stack_id = sm.stack_id AND c.is_deleted = 0 AND c.is_missing = 0"
    " ORDER BY x.position LIMIT 1)"
)


def _collapsed(ctx: Context, where: Where, order: str, limit: int,
               offset: int) -> dict:
    """One item per unstacked match, and one per stack with a match, shown by its
    cover (even when the cover itself does not match) and sorted by the cover's
    times. The trash lists files one by one, so it is the expanded list there."""
    if where.deleted:
        listing = _expanded(ctx, where, order, limit, offset)
        listing["stack_mode"] = "collapsed"
        return listing

    # Written so that SQLite walks the browse index in sort order and stops after
    # the page, instead of building and sorting the whole collapsed set.
    on_member = _ALIAS_A.sub("b.", where.sql())
    visible = (
        f"a.is_deleted = 0 AND a.is_missing = 0 AND ("
        f"(sm.stack_id IS NULL AND {where.sql()}) OR "
        f"(sm.stack_id IS NOT NULL AND a.asset_id = {_COVER_OF} AND EXISTS ("
        " SELECT 1 FROM stack_members m JOIN assets b ON b.asset_id = m.asset_id"
        f" WHERE m.stack_id = sm.stack_id AND {on_member})))"
    )
    joined = "FROM assets a LEFT JOIN stack_members sm ON sm.asset_id = a.asset_id"

    def run(conn):
        # Two narrow counts are several times cheaper than one over the join.
        total = conn.execute(f"SELECT COUNT(*) AS n FROM assets a WHERE {where.sql()}",
                             where.params).fetchall()[0]["n"]
        stacked = conn.execute(
            "SELECT COUNT(*) AS members, COUNT(DISTINCT sm.stack_id) AS stacks"
            " FROM stack_members sm JOIN assets a ON a.asset_id = sm.asset_id"
            f" WHERE {where.sql()}", where.params).fetchall()[0]
        totals = {"assets": total,
                  "items": total - stacked["members"] + stacked["stacks"]}
        rows = conn.execute(
            f"SELECT a.*, sm.stack_id AS item_stack_id {joined} WHERE {visible}"
            f" ORDER BY {order} LIMIT ? OFFSET ?",
            [*where.params, *where.params, limit, offset]).fetchall()
        stack_ids = [r["item_stack_id"] for r in rows if r["item_stack_id"]]
        members = _stack_members(conn, stack_ids)
        matched_ids: dict[str, list[str]] = {}
        if stack_ids:
            marks = ",".join("?" * len(stack_ids))
            for m in conn.execute(
                    f"SELECT sm.asset_id, sm.stack_id {joined}"
                    f" WHERE sm.stack_id IN ({marks}) AND {where.sql()}"
                    " ORDER BY sm.position", [*stack_ids, *where.params]).fetchall():
                matched_ids.setdefault(m["stack_id"], []).append(m["asset_id"])
        return totals, rows, members, matched_ids

    totals, rows, members, matched_ids = ctx.catalog.read(run)
    items = []
    for row in rows:
        asset = asset_dto(row)
        stack_id = row["item_stack_id"]
        if stack_id is None:
            items.append({"type": "asset", "id": f"asset:{row['asset_id']}",
                          "asset": asset})
            continue
        info = members.get(stack_id, {"kind": "manual", "ids": []})
        items.append({
            "type": "stack", "id": f"stack:{stack_id}", "asset": asset,
            "stack": {
                "stack_id": stack_id, "stack_kind": info["kind"],
                "cover_asset_id": row["asset_id"], "cover_asset": asset,
                "stack_size": len(info["ids"]), "member_asset_ids": info["ids"],
                "matched_member_ids": matched_ids.get(stack_id, []),
            },
        })
    return {"items": items, "total_visible": totals["items"],
            "total_assets": totals["assets"], "stack_mode": "collapsed",
            "limit": limit, "offset": offset}


def _stack_members(conn, stack_ids: list[str]) -> dict[str, dict]:
    if not stack_ids:
        return {}
    marks = ",".join("?" * len(stack_ids))
    out: dict[str, dict] = {}
    for row in conn.execute(
            "SELECT s.stack_id, s.stack_kind, sm.asset_id FROM stacks s"
            " JOIN stack_members sm USING (stack_id) JOIN assets a"
            " ON a.asset_id = sm.asset_id"
            f" WHERE s.stack_id IN ({marks}) AND a.is_deleted = 0"
            " ORDER BY sm.position", stack_ids).fetchall():
        entry = out.setdefault(row["stack_id"], {"kind": row["stack_kind"], "ids": []})
        entry["ids"].append(row["asset_id"])
    return out


def _stack_previews(conn, asset_ids: list[str]) -> dict[str, dict]:
    if not asset_ids:
        return {}
    marks = ",".join("?" * len(asset_ids))
    out = {}
    for row in conn.execute(
            "SELECT sm.asset_id, sm.stack_id, s.stack_kind,"
            " (SELECT COUNT(*) FROM stack_members x WHERE x.stack_id = sm.stack_id)"
            " AS size, (SELECT x.asset_id FROM stack_members x WHERE"
            " x.stack_id = sm.stack_id ORDER BY x.position LIMIT 1) AS cover"
            " FROM stack_members sm JOIN stacks s USING (stack_id)"
            f" WHERE sm.asset_id IN ({marks})", asset_ids).fetchall():
        out[row["asset_id"]] = {
            "stack_id": row["stack_id"], "stack_kind": row["stack_kind"],
            "stack_size": row["size"], "stack_cover": row["cover"] == row["asset_id"],
        }
    return out
