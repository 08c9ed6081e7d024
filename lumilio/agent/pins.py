"""Pins: refs turned into widgets of the user's board, with a place on its grid.

A pin copies its ref's snapshot and plan. A frozen pin always shows that snapshot;
a live pin runs the plan again, in its owner's scope, each time it is shown (and
keeps what it found as its new snapshot). A ref that cannot be found again (the
user's own selection) makes a frozen pin whatever was asked.
"""

from __future__ import annotations

import json
import logging
import re
import uuid

import apsw

from lumilio.agent import facets, refs, threads
from lumilio.auth.principal import Principal
from lumilio.context import Context
from lumilio.errors import ApiError, BadRequest, NotFound
from lumilio.timeutil import api, now_iso

log = logging.getLogger(__name__)

MODES = ("frozen", "live")
WIDGET = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
TITLE_MAX = 120
GRID_MAX = 10_000
SIZE_MAX = 100
DEFAULT_SIZE = 4
LIST_DEFAULT = 100
LIST_MAX = 500


def _text(body: dict, name: str, limit: int) -> str | None:
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, str) or any(ord(c) < 32 for c in value):
        raise BadRequest("Invalid request data", f"{name} must be a line of text")
    if len(value.strip()) > limit:
        raise BadRequest("Invalid request data",
                         f"{name} is longer than {limit} characters")
    return value.strip()


def _cell(item: dict, name: str, low: int, high: int) -> int | None:
    value = item.get(name)
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or not (
            low <= value <= high):
        raise BadRequest("Invalid request data",
                         f"layout {name} must be an integer from {low} to {high}")
    return value


def _layout(item: object) -> dict:
    if not isinstance(item, dict):
        raise BadRequest("Invalid request data", "a layout must be an object")
    cells = {"x": _cell(item, "x", 0, GRID_MAX), "y": _cell(item, "y", 0, GRID_MAX),
             "w": _cell(item, "w", 1, SIZE_MAX), "h": _cell(item, "h", 1, SIZE_MAX)}
    return {k: v for k, v in cells.items() if v is not None}


def dto(row: dict) -> dict:
    out = {"pin_id": row["pin_id"], "title": row["title"], "widget": row["widget"],
           "mode": row["mode"], "count": row["total"],
           "layout": {"x": row["x"], "y": row["y"], "w": row["w"], "h": row["h"]},
           "created_at": api(row["created_at"])}
    if row["summary"]:
        out["summary"] = row["summary"]
    if row["truncated"]:
        out["truncated"] = True
    return out


def _row(ctx: Context, who: Principal, pin_id: str) -> dict:
    row = ctx.catalog.one("SELECT * FROM agent_pins WHERE pin_id = ? AND user_id = ?",
                          (pin_id, who.user_id))
    if row is None:
        raise NotFound("Pin not found")
    return row


def _request(body: dict) -> dict:
    """The fields of a pin request, checked."""
    ref_id = body.get("ref_id")
    if not isinstance(ref_id, str) or not ref_id:
        raise BadRequest("Invalid request data", "ref_id is required")
    widget = body.get("widget") or "asset_grid"
    if not isinstance(widget, str) or not WIDGET.match(widget):
        raise BadRequest("Invalid request data", "widget must be a short name such "
                         "as asset_grid")
    mode = body.get("mode") or "frozen"
    if mode not in MODES:
        raise BadRequest("Invalid request data", "mode must be frozen or live")
    return {"ref_id": ref_id, "thread_id": threads.valid_id(body.get("thread_id")),
            "title": _text(body, "title", TITLE_MAX), "widget": widget, "mode": mode,
            "layout": _layout(body["layout"]) if body.get("layout") is not None
            else {}}


def create(ctx: Context, who: Principal, body: dict) -> dict:
    asked = _request(body)
    thread_id, ref_id, layout = asked["thread_id"], asked["ref_id"], asked["layout"]
    ref = refs.load(ctx, who, thread_id, ref_id)
    # A ref that cannot be found again is pinned as it is.
    mode = asked["mode"] if ref.plan is not None else "frozen"
    pin_id = str(uuid.uuid4())
    summary = facets.summary(ref.facets)

    def insert(conn: apsw.Connection) -> None:
        # A new pin goes below the others unless the client placed it.
        bottom = conn.execute("SELECT COALESCE(MAX(y + h), 0) AS y FROM agent_pins"
                              " WHERE user_id = ?", (who.user_id,)).fetchall()[0]["y"]
        conn.execute(
            "INSERT INTO agent_pins (pin_id, user_id, thread_id, ref_id, title, widget,"
            " mode, plan, asset_ids, total, truncated, summary, x, y, w, h, created_at)"
            " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (pin_id, who.user_id, thread_id, ref_id, asked["title"] or summary,
             asked["widget"], mode,
             json.dumps(ref.plan) if ref.plan else None, json.dumps(ref.asset_ids),
             ref.count, int(ref.truncated), summary, layout.get("x", 0),
             layout.get("y", min(bottom, GRID_MAX)), layout.get("w", DEFAULT_SIZE),
             layout.get("h", DEFAULT_SIZE), now_iso()))

    ctx.catalog.write(insert)
    log.info("agent: %s pinned %s of thread %s (%s)", who.username, ref_id,
             thread_id, mode)
    return dto(_row(ctx, who, pin_id))


def list_pins(ctx: Context, who: Principal, limit: int, offset: int) -> list[dict]:
    rows = ctx.catalog.all(
        "SELECT * FROM agent_pins WHERE user_id = ? ORDER BY created_at, pin_id"
        " LIMIT ? OFFSET ?", (who.user_id, limit, offset))
    return [dto(r) for r in rows]


def delete(ctx: Context, who: Principal, pin_id: str) -> None:
    _row(ctx, who, pin_id)
    ctx.catalog.write(lambda conn: conn.execute(
        "DELETE FROM agent_pins WHERE pin_id = ? AND user_id = ?",
        (pin_id, who.user_id)))
    log.info("agent: %s removed pin %s", who.username, pin_id)


def update_layout(ctx: Context, who: Principal, body: dict) -> None:
    """Place several pins at once: all of them or, when one is wrong, none."""
    layouts = body.get("layouts")
    if not isinstance(layouts, list):
        raise BadRequest("Invalid request data", "layouts must be a list")
    changes = []
    for item in layouts:
        cells = _layout(item)
        pin_id = item.get("pin_id")
        if not isinstance(pin_id, str) or not pin_id:
            raise BadRequest("Invalid request data", "each layout needs its pin_id")
        changes.append((pin_id, cells))

    def store(conn: apsw.Connection) -> None:
        for pin_id, cells in changes:
            mine = conn.execute("SELECT 1 FROM agent_pins WHERE pin_id = ? AND"
                                " user_id = ?", (pin_id, who.user_id)).fetchall()
            if not mine:
                raise NotFound("Pin not found", f"no pin {pin_id}")
            if cells:
                assignments = ", ".join(f"{k} = ?" for k in cells)
                conn.execute(f"UPDATE agent_pins SET {assignments} WHERE pin_id = ?",
                             [*cells.values(), pin_id])

    ctx.catalog.write(store)


def assets(ctx: Context, who: Principal, pin_id: str, limit: int, offset: int) -> dict:
    row = _row(ctx, who, pin_id)
    asset_ids = json.loads(row["asset_ids"])
    if row["mode"] == "live" and row["plan"]:
        asset_ids = _replayed(ctx, who, row, asset_ids)
    return refs.assets_page(ctx, who, asset_ids, limit, offset)


def _replayed(ctx: Context, who: Principal, row: dict, before: list[str]
              ) -> list[str]:
    from lumilio.agent import library, tools

    try:
        found = tools.replay(ctx, who, json.loads(row["plan"]))
    except ApiError as exc:
        # A search that cannot run now (smart search switched off, say): the pin
        # shows what it found last.
        log.warning("agent: live pin %s shows its snapshot: %s", row["pin_id"],
                    exc.detail or exc.message)
        return before
    truncated = len(found) > library.REF_CAP
    found = found[:library.REF_CAP]
    if found != before:
        summary = facets.summary(facets.of(ctx, who, found))
        ctx.catalog.write(lambda conn: conn.execute(
            "UPDATE agent_pins SET asset_ids = ?, total = ?, truncated = ?, summary = ?"
            " WHERE pin_id = ?", (json.dumps(found), len(found), int(truncated),
                                  summary, row["pin_id"])))
    return found
