"""Refs: the result sets of the tools, kept as ordered snapshots per user and thread.

A ref is written the moment its tool finishes, so that a client told about it in
the stream can read it at once (`GET /agent/refs/{id}?thread_id=`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import apsw

from lumilio.agent import facets, library, threads
from lumilio.auth.principal import Principal
from lumilio.context import Context
from lumilio.errors import BadRequest, NotFound
from lumilio.services.asset_view import asset_dto
from lumilio.timeutil import api, now_iso

PAGE_DEFAULT = 50
PAGE_MAX = 200
# The pagination object of the API document allows at most 100 a page; a larger
# page asked for is served as 100, and the answer says so.
PAGE_SERVED_MAX = 100


@dataclass(frozen=True)
class Ref:
    thread_id: str
    ref_id: str
    op: str
    plan: dict | None
    asset_ids: list[str]
    truncated: bool
    facets: dict
    created_at: str

    @property
    def count(self) -> int:
        return len(self.asset_ids)


def _from_row(row: dict) -> Ref:
    return Ref(row["thread_id"], row["ref_id"], row["op"],
               json.loads(row["plan"]) if row["plan"] else None,
               json.loads(row["asset_ids"]), bool(row["truncated"]),
               json.loads(row["facets"]), row["created_at"])


def save(ctx: Context, who: Principal, thread_id: str, op: str, plan: dict | None,
         asset_ids: list[str]) -> Ref:
    """Keep a result set (the first REF_CAP ids of it) as the thread's next ref."""
    asset_ids = library.visible(ctx, who, list(dict.fromkeys(asset_ids)))
    kept = asset_ids[:library.REF_CAP]
    truncated = len(asset_ids) > library.REF_CAP
    found = facets.of(ctx, who, kept)

    def insert(conn: apsw.Connection) -> str:
        ref_id = threads.next_ref_id(conn, who, thread_id)
        conn.execute(
            "INSERT INTO agent_refs (thread_id, ref_id, user_id, op, plan, asset_ids,"
            " total, truncated, facets, created_at) VALUES (?,?,?,?,?,?,?,?,?,?)",
            (thread_id, ref_id, who.user_id, op, json.dumps(plan) if plan else None,
             json.dumps(kept), len(kept), int(truncated), json.dumps(found),
             now_iso()))
        return ref_id

    return load(ctx, who, thread_id, ctx.catalog.write(insert))


def load(ctx: Context, who: Principal, thread_id: str, ref_id: str) -> Ref:
    row = ctx.catalog.one(
        "SELECT * FROM agent_refs WHERE user_id = ? AND thread_id = ? AND ref_id = ?",
        (who.user_id, thread_id, ref_id))
    if row is None:
        raise NotFound("Ref not found")
    return _from_row(row)


def dto(ref: Ref) -> dict:
    out = {"ref_id": ref.ref_id, "count": ref.count, "op": ref.op,
           "created_at": api(ref.created_at), "facets": ref.facets}
    if ref.truncated:
        out["truncated"] = True
    return out


def page_size(limit: int) -> int:
    return min(limit, PAGE_SERVED_MAX)


def assets_page(ctx: Context, who: Principal, asset_ids: list[str], limit: int,
                offset: int) -> dict:
    """`AgentRefAssetsDTO`: a page of a snapshot in its order. Assets the caller can
    no longer see (trashed since, say) are left out of the page."""
    if offset < 0:
        raise BadRequest("Invalid request data", "offset must not be negative")
    limit = page_size(limit)
    rows = library.rows_in_order(ctx, who, asset_ids[offset:offset + limit])
    return {"assets": [asset_dto(r) for r in rows], "total": len(asset_ids),
            "pagination": {"limit": limit, "offset": offset}}


def model_view(ctx: Context, who: Principal, ref: Ref, samples: int = 5) -> dict:
    """A ref as the model reads it: id, count, facets in short and a few samples."""
    out = {"ref": ref.ref_id, "count": ref.count,
           "facets": facets.brief(ref.facets),
           "sample": library.compact_items(ctx, who, ref.asset_ids[:samples])}
    if ref.truncated:
        out["truncated"] = True
    return out
