"""Recognition steps of the pipeline, each its own job kind, run after thumbnails.

    process_semantic   labels (tags) and the photo's vector in the active space
    process_ocr        text lines; then the photo's vector again, when the active
                       model embeds OCR text
    process_face       faces, crops, and their people
    process_bioclip    species predictions (photos of bio albums only)
    reindex_assets     a batch: queue the steps above for photos that lack them

They run at a lower priority than imports, so that recognising photos never delays
importing them, on the large thumbnail rather than the original. Each records its
state on the asset's status under its job name; a model that cannot run fails the
step with the reason and leaves the rest of the asset alone.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path

from PIL import Image

from lumilio.catalog.db import dumps, loads
from lumilio.context import Context
from lumilio.jobs.queue import register
from lumilio.library import layout
from lumilio.ml.images import load_rgb
from lumilio.ml.manifest import ModelError
from lumilio.pipeline import status as st
from lumilio.services import faces, labels, ml, ocr, semantic
from lumilio.timeutil import now_iso

log = logging.getLogger(__name__)

JOBS = {"semantic": "process_semantic", "ocr": "process_ocr", "face": "process_face",
        "bioclip": "process_bioclip"}
AFTER_THUMBNAILS = ("ocr", "semantic", "face")
PRIORITY = -1


class NoImage(Exception):
    """The photo has no large thumbnail to analyse (yet)."""


# -- queueing --------------------------------------------------------------------------


def queue_after_thumbnails(ctx: Context, asset_id: str, asset_type: str) -> list[str]:
    """Queue the enabled recognition steps of a photo whose thumbnails exist."""
    if asset_type != "PHOTO":
        return []
    queued = [task for task in AFTER_THUMBNAILS if ml.runnable(ctx, task)]
    for task in queued:
        queue(ctx, asset_id, task)
    return queued


def queue(ctx: Context, asset_id: str, task: str) -> int:
    job = JOBS[task]
    mark(ctx, asset_id, job, "pending")
    return ctx.jobs.enqueue(job, asset_id=asset_id)


def mark(ctx: Context, asset_id: str, job: str, state: str,
         message: str | None = None) -> None:
    """Set one step's state on the asset's status, in one write transaction (other
    steps of the same asset update it concurrently)."""
    def update(conn) -> None:
        rows = conn.execute("SELECT type, status FROM assets WHERE asset_id = ?",
                            (asset_id,)).fetchall()
        if not rows:
            return
        status = loads(rows[0]["status"]) or st.fresh(rows[0]["type"])
        status = st.set_task(status, job, state, message)
        conn.execute("UPDATE assets SET state = ?, status = ?, updated_at = ?"
                     " WHERE asset_id = ?",
                     (status["state"], dumps(status), now_iso(), asset_id))

    ctx.catalog.write(update)


def queue_reindex(ctx: Context, tasks: list[str], repository_id: str | None,
                  limit: int | None, missing_only: bool) -> int:
    return ctx.jobs.enqueue("reindex_assets", tasks=tasks, repository_id=repository_id,
                            limit=limit, missing_only=missing_only)


# -- running ---------------------------------------------------------------------------


def load_image(ctx: Context, asset: dict) -> Image.Image:
    row = ctx.catalog.one("SELECT storage_path FROM derived_files WHERE asset_id = ?"
                          " AND kind = 'thumbnail_large'", (asset["asset_id"],))
    if row is None:
        raise NoImage("the photo has no thumbnail yet")
    path = layout.resolve(Path(asset["repo_path"]), row["storage_path"])
    if not path.is_file():
        raise NoImage(f"thumbnail missing: {row['storage_path']}")
    return load_rgb(path)


def _asset(ctx: Context, asset_id: str) -> dict | None:
    return ctx.catalog.one(
        "SELECT a.*, r.path AS repo_path FROM assets a JOIN repositories r"
        " USING (repository_id) WHERE a.asset_id = ?", (asset_id,))


def _run(ctx: Context, asset_id: str, job: str,
         work: Callable[[dict, Image.Image], object]) -> None:
    asset = _asset(ctx, asset_id)
    if asset is None:
        return
    mark(ctx, asset_id, job, "processing")
    started = time.monotonic()
    try:
        work(asset, load_image(ctx, asset))
    except (ModelError, NoImage) as exc:
        # Not worth retrying: the same model or missing file gives the same answer.
        log.warning("%s failed for %s: %s", job, asset["original_filename"], exc)
        mark(ctx, asset_id, job, "failed", str(exc))
        return
    except Exception as exc:
        log.exception("%s crashed on %s", job, asset["original_filename"])
        mark(ctx, asset_id, job, "failed", f"{type(exc).__name__}: {exc}")
        return
    mark(ctx, asset_id, job, "complete")
    log.debug("%s of %s in %.2fs", job, asset["original_filename"],
              time.monotonic() - started)


@register("process_face", retries=0, priority=PRIORITY)
def process_face(ctx: Context, asset_id: str) -> None:
    _run(ctx, asset_id, "process_face",
         lambda asset, image: faces.analyse(ctx, asset, image))


@register("process_ocr", retries=0, priority=PRIORITY)
def process_ocr(ctx: Context, asset_id: str) -> None:
    def work(asset: dict, image: Image.Image) -> None:
        ocr.analyse(ctx, asset, image)
        # The bundled semantic model embeds the text too: refresh the photo's
        # vector if its labels are already there (else process_semantic will).
        if ml.runnable(ctx, "semantic"):
            embedder = ml.embedder(ctx)
            if not embedder.uses_pixels:
                semantic.index_asset(ctx, asset, image, embedder)

    _run(ctx, asset_id, "process_ocr", work)


@register("process_semantic", retries=0, priority=PRIORITY)
def process_semantic(ctx: Context, asset_id: str) -> None:
    def work(asset: dict, image: Image.Image) -> None:
        labels.analyse(ctx, asset, image)
        semantic.index_asset(ctx, asset, image)

    _run(ctx, asset_id, "process_semantic", work)


@register("process_bioclip", retries=0, priority=PRIORITY)
def process_bioclip(ctx: Context, asset_id: str) -> None:
    _run(ctx, asset_id, "process_bioclip",
         lambda asset, image: labels.species(ctx, asset, image))


# -- backfill --------------------------------------------------------------------------


def _missing_sql(ctx: Context, task: str) -> tuple[str, list]:
    if task == "semantic":
        model_id = ml.models(ctx).embedder(ml.active_model(ctx)).model_id
        return ("a.asset_id NOT IN (SELECT sv.asset_id FROM semantic_vectors sv JOIN"
                " semantic_spaces s USING (space_id) WHERE s.model_id = ?)", [model_id])
    table = {"ocr": "ocr_runs", "face": "face_runs", "bioclip": "species_runs"}[task]
    return f"a.asset_id NOT IN (SELECT asset_id FROM {table})", []


@register("reindex_assets", retries=0)
def reindex_assets(ctx: Context, tasks: list[str], repository_id: str | None = None,
                   limit: int | None = None, missing_only: bool = True) -> None:
    for task in tasks:
        if not ml.runnable(ctx, task):
            log.info("re-index: %s is switched off or unavailable; skipped", task)
            continue
        where = ["a.type = 'PHOTO'", "a.is_deleted = 0", "a.is_missing = 0",
                 "a.asset_id IN (SELECT asset_id FROM derived_files"
                 " WHERE kind = 'thumbnail_large')"]
        params: list = []
        if repository_id:
            where.append("a.repository_id = ?")
            params.append(repository_id)
        if missing_only:
            clause, extra = _missing_sql(ctx, task)
            where.append(clause)
            params += extra
        sql = f"SELECT a.asset_id FROM assets a WHERE {' AND '.join(where)}" \
              " ORDER BY a.sort_time DESC"
        if limit:
            sql += f" LIMIT {int(limit)}"
        rows = ctx.catalog.all(sql, params)
        for row in rows:
            queue(ctx, row["asset_id"], task)
        log.info("re-index: %s queued for %d photo(s)", task, len(rows))
