"""Sectioned search (`POST /assets/search`): best results, then all results.

Four channels each find their own matches within the caller's filter: image
embeddings (the query's meaning), OCR text, place names and file names. Their
ranked lists are fused with weighted reciprocal rank fusion into one set; the
"best results" section is the head of that set in fused order, and the results
section is the whole set sorted as asked. A channel that cannot run is left out and
the answer says so (`degraded`, reason "semantic_unavailable" for the embedding
channel). `enhancement_mode: off` drops the best-results section; the results still
come from every channel.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from lumilio.auth.principal import Principal
from lumilio.context import Context
from lumilio.errors import BadRequest, Unavailable
from lumilio.services import browse, locations, ml, ocr, semantic
from lumilio.services.asset_view import asset_dto

log = logging.getLogger(__name__)

MODES = ("auto", "off", "only")
MAX_TOP = 200
CHANNEL_CAP = 10_000
RRF_K = 60
# Weight of each channel in the fusion, in the order they are reported.
WEIGHTS = {"embedding": 1.0, "place": 0.8, "ocr": 0.7, "filename": 0.6}



def _top_limit(body: dict) -> int:
    value = body.get("top_results_limit")
    if value is None:
        return MAX_TOP
    if not isinstance(value, int) or isinstance(value, bool):
        raise BadRequest("Invalid request data", "top_results_limit must be an integer")
    return value if 0 < value <= MAX_TOP else MAX_TOP


def _item(asset: dict) -> dict:
    return {"type": "asset", "id": f"asset:{asset['asset_id']}", "asset": asset}


def search(ctx: Context, who: Principal, body: dict) -> dict:
    mode = browse.enum_field(body, "enhancement_mode", MODES, "auto")
    sort_by = browse.enum_field(body, "sort_by", browse.SORTS, "date_captured")
    stack_mode = browse.enum_field(body, "stack_mode", browse.STACK_MODES, "collapsed")
    top_limit = _top_limit(body)
    debug = body.get("debug")
    if debug is not None and not isinstance(debug, bool):
        raise BadRequest("Invalid request data", "debug must be true or false")
    text = body.get("query")
    if text is not None and not isinstance(text, str):
        raise BadRequest("Invalid request data", "query must be a string")
    text = (text or "").strip()

    if not text:
        meta = {"enabled": False, "reason": "empty_query"}
        return _browse(ctx, who, body, text, sort_by, stack_mode, meta)
    return _fused(ctx, who, body, text, mode, sort_by, stack_mode, top_limit,
                  bool(debug))


def _browse(ctx: Context, who: Principal, body: dict, text: str, sort_by: str,
            stack_mode: str, meta: dict) -> dict:
    found = browse.query(ctx, who, {**body, "query": text, "search_type": "filename",
                                    "sort_by": sort_by, "stack_mode": stack_mode})
    return {
        "top_items": [],
        "result_items": found["items"],
        "results_total_visible": found["total_visible"],
        "results_total_assets": found["total_assets"],
        "stack_mode": stack_mode,
        "limit": found["limit"],
        "offset": found["offset"],
        "top_results_meta": meta,
    }


def channels(ctx: Context, where: browse.Where, text: str
              ) -> tuple[dict[str, list[str]], list[dict], bool]:
    """Each channel's matches, best first; the meta of every channel that ran or
    failed; and whether the embedding channel could not run."""
    ranked: dict[str, list[str]] = {}
    sources: list[dict] = []
    degraded = False

    def run(name: str, find) -> None:
        started = time.monotonic()
        try:
            ranked[name] = find()[:CHANNEL_CAP]
        except Unavailable as exc:
            sources.append({"type": name, "weight": WEIGHTS[name],
                            "candidate_count": 0, "duration_ms": 0,
                            "error": exc.detail or exc.message})
            return
        sources.append({"type": name, "weight": WEIGHTS[name],
                        "candidate_count": len(ranked[name]),
                        "duration_ms": int((time.monotonic() - started) * 1000)})

    if ml.enabled(ctx, "semantic"):
        run("embedding", lambda: [a for a, _ in semantic.search(
            ctx, text, where.sql(), where.params)])
    degraded = "embedding" not in ranked
    if ctx.config.geocoder != "off":
        run("place", lambda: locations.place_asset_ids(ctx, where, text,
                                                       CHANNEL_CAP))
    if ml.enabled(ctx, "ocr"):
        run("ocr", lambda: ocr.search_ids(ctx, text, where.sql(), where.params,
                                          CHANNEL_CAP))
    # The same case-insensitive substring test as the browse query's.
    run("filename", lambda: [r["asset_id"] for r in ctx.catalog.all(
        "SELECT a.asset_id FROM assets a WHERE"
        f" {where.sql()} AND instr(lower(a.original_filename), lower(?)) > 0"
        f" ORDER BY {browse.SORTS['date_captured']} LIMIT ?",
        [*where.params, text, CHANNEL_CAP])])
    return ranked, sources, degraded


def fuse(ranked: dict[str, list[str]]) -> tuple[list[str], dict[str, dict]]:
    """Weighted reciprocal rank fusion: the fused order and each asset's parts."""
    scores: dict[str, float] = {}
    parts: dict[str, dict] = {}
    for name, ids in ranked.items():
        for rank, asset_id in enumerate(ids, start=1):
            share = WEIGHTS[name] / (RRF_K + rank)
            scores[asset_id] = scores.get(asset_id, 0.0) + share
            parts.setdefault(asset_id, {})[name] = {
                "rank": rank, "weight": WEIGHTS[name], "rrf_score": share}
    order = sorted(scores, key=lambda a: (-scores[a], a))
    return order, {a: {"score": scores[a], "contributions": parts[a]} for a in order}


def _fused(ctx: Context, who: Principal, body: dict, text: str, mode: str,
           sort_by: str, stack_mode: str, top_limit: int, debug: bool) -> dict:
    limit, offset = browse.pagination(body)
    where = browse.build_filter(body.get("filter"), who,
                                browse.viewer_zone(body.get("viewer_timezone")))
    ranked, sources, degraded = channels(ctx, where, text)
    fused, parts = fuse(ranked)

    enhanced = mode != "off"
    top_ids = fused[:top_limit] if enhanced and len(fused) >= top_limit else []
    page_ids: list[str] = []
    if mode != "only":
        page_ids = _sorted(ctx, fused, sort_by)[offset:offset + limit]
    assets = _assets(ctx, [*top_ids, *page_ids])

    if enhanced:
        meta: dict[str, Any] = {
            "enabled": True, "degraded": degraded, "source_types": list(ranked),
            "candidate_count": len(fused),
            "candidate_pool_size": sum(len(v) for v in ranked.values()),
        }
        if degraded:
            meta["reason"] = "semantic_unavailable"
    else:
        meta = {"enabled": False, "reason": "disabled"}
    if debug:
        meta["sources"] = sources
        meta["debug"] = [{"asset_id": a, **parts[a]} for a in top_ids]
    log.debug("search %r: %s", text,
              ", ".join(f"{k} {len(v)}" for k, v in ranked.items()))
    return {
        "top_items": [_item(assets[i]) for i in top_ids if i in assets],
        "result_items": [_item(assets[i]) for i in page_ids if i in assets],
        "results_total_visible": len(fused),
        "results_total_assets": len(fused),
        "stack_mode": stack_mode,
        "limit": limit,
        "offset": offset,
        "top_results_meta": meta,
    }


def _sorted(ctx: Context, ids: list[str], sort_by: str) -> list[str]:
    """The fused set in the order of `sort_by` (newest first)."""
    if not ids:
        return []
    key = "upload_time" if sort_by == "recently_added" else "sort_time"
    found: dict[str, tuple] = {}
    for start in range(0, len(ids), 900):
        chunk = ids[start:start + 900]
        for r in ctx.catalog.all(
                f"SELECT asset_id, {key} AS t FROM assets WHERE asset_id IN"
                f" ({','.join('?' * len(chunk))})", chunk):
            found[r["asset_id"]] = (r["t"] or "", r["asset_id"])
    return sorted(found, key=lambda a: found[a], reverse=True)


def _assets(ctx: Context, ids: list[str]) -> dict[str, dict]:
    unique = list(dict.fromkeys(ids))
    if not unique:
        return {}
    marks = ",".join("?" * len(unique))
    rows = ctx.catalog.all(f"SELECT * FROM assets WHERE asset_id IN ({marks})", unique)
    return {row["asset_id"]: asset_dto(row) for row in rows}
