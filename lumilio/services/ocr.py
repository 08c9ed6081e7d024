"""Text read in photos: stored per line with its box and confidence, indexed for
full-text search, and shown on the asset as `ocr_result`."""

from __future__ import annotations

import json
import logging
import re
import time

from PIL import Image

from lumilio.catalog.db import loads
from lumilio.context import Context
from lumilio.services import ml
from lumilio.timeutil import api, now_iso

log = logging.getLogger(__name__)

_WORD = re.compile(r"\w+", re.UNICODE)


def analyse(ctx: Context, asset: dict, image: Image.Image) -> int:
    """Read and store the text of a photo; returns the number of lines."""
    reader = ml.models(ctx).reader()
    started = time.monotonic()
    lines = reader.read(image)
    elapsed = int((time.monotonic() - started) * 1000)
    w, h = image.size
    full_text = "\n".join(line.text for line in lines)

    def save(conn) -> None:
        stamp = now_iso()
        asset_id = asset["asset_id"]
        conn.execute("DELETE FROM ocr_items WHERE asset_id = ?", (asset_id,))
        conn.execute("DELETE FROM ocr_fts WHERE asset_id = ?", (asset_id,))
        for position, line in enumerate(lines):
            quad = (line.quad / [w, h]).round(5).tolist()
            conn.execute(
                "INSERT INTO ocr_items (asset_id, position, text, confidence, box,"
                " quad, area_pixels) VALUES (?,?,?,?,?,?,?)",
                (asset_id, position, line.text, round(line.confidence, 4),
                 json.dumps(line.box(w, h)), json.dumps(quad), line.area()))
        if full_text:
            conn.execute("INSERT INTO ocr_fts (asset_id, body) VALUES (?, ?)",
                         (asset_id, full_text))
        conn.execute(
            "INSERT INTO ocr_runs (asset_id, model_id, full_text, processing_time_ms,"
            " created_at, updated_at) VALUES (?,?,?,?,?,?) ON CONFLICT (asset_id) DO"
            " UPDATE SET model_id = excluded.model_id, full_text = excluded.full_text,"
            " processing_time_ms = excluded.processing_time_ms,"
            " updated_at = excluded.updated_at",
            (asset_id, reader.model_id, full_text, elapsed, stamp, stamp))

    ctx.catalog.write(save)
    log.debug("text of %s: %d line(s) in %d ms", asset["asset_id"], len(lines),
              elapsed)
    return len(lines)


def text_of(ctx: Context, asset_id: str) -> str:
    row = ctx.catalog.one("SELECT full_text FROM ocr_runs WHERE asset_id = ?",
                          (asset_id,))
    return row["full_text"] if row else ""


def result(ctx: Context, asset_id: str) -> dict | None:
    """The `ocr_result` of an asset's detail, or None when it was not analysed."""
    run = ctx.catalog.one("SELECT * FROM ocr_runs WHERE asset_id = ?", (asset_id,))
    if run is None:
        return None
    items = [
        {"id": r["item_id"], "text_content": r["text"],
         "text_length": len(r["text"]), "confidence": r["confidence"],
         "bounding_box": loads(r["box"]), "area_pixels": r["area_pixels"]}
        for r in ctx.catalog.all(
            "SELECT * FROM ocr_items WHERE asset_id = ? ORDER BY position",
            (asset_id,))
    ]
    return {"model_id": run["model_id"], "processing_time_ms":
            run["processing_time_ms"], "total_count": len(items), "text_items": items,
            "created_at": api(run["created_at"]), "updated_at": api(run["updated_at"])}


def fts_query(text: str) -> str | None:
    """The words of a query as an FTS5 expression (each word, as a prefix)."""
    words = _WORD.findall(text.lower())
    if not words:
        return None
    return " ".join(f'"{w}"*' for w in words)


def search_ids(ctx: Context, text: str, where_sql: str, params: list,
               limit: int) -> list[str]:
    """Assets whose text matches every word of the query, best match first; the
    filter (`where_sql` over alias `a`) applies."""
    expression = fts_query(text)
    if expression is None:
        return []
    rows = ctx.catalog.all(
        "SELECT a.asset_id FROM ocr_fts JOIN assets a ON a.asset_id = ocr_fts.asset_id"
        f" WHERE ocr_fts MATCH ? AND {where_sql} ORDER BY bm25(ocr_fts) LIMIT ?",
        [expression, *params, limit])
    return [r["asset_id"] for r in rows]
