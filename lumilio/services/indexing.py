"""Recognition indexes per asset: what is indexed, and requests to rebuild them.

The figures are counted from the recognition tables (a photo analysed by a task
counts as indexed for it, even when nothing was found); a rebuild queues one
`reindex_assets` batch for the requested tasks that are switched on and whose
models are in place.
"""

from __future__ import annotations

import logging
from typing import Any

from lumilio.context import Context
from lumilio.errors import BadRequest
from lumilio.pipeline import recognition
from lumilio.services import ml, repositories, semantic

log = logging.getLogger(__name__)

TASKS = ("semantic", "ocr", "face")
# The queue each task's jobs run in, as the reprocess vocabulary names them.
QUEUES = {"semantic": "process_semantic", "ocr": "process_ocr",
          "face": "process_face", "bioclip": "process_bioclip"}
REINDEX_KIND = "reindex_assets"
UNFINISHED = ("available", "running", "retryable", "scheduled")
DEFAULT_LIMIT, MAX_LIMIT = 200, 500


def repository_options(ctx: Context) -> dict:
    return {"repositories": [
        {"id": r["repository_id"], "name": r["name"], "path": r["path"],
         "role": r["role"], "is_primary": r["role"] == "primary"}
        for r in repositories.all_rows(ctx)]}


def _queued(ctx: Context, kind: str) -> int:
    marks = ",".join("?" * len(UNFINISHED))
    return ctx.catalog.scalar(
        f"SELECT COUNT(*) FROM jobs WHERE kind = ? AND state IN ({marks})",
        (kind, *UNFINISHED)) or 0


def stats(ctx: Context, repository_id: str | None) -> dict:
    scope, params = "", []
    if repository_id:
        repositories.get_row(ctx, repository_id)
        scope, params = " AND a.repository_id = ?", [repository_id]
    live = f"a.type = 'PHOTO' AND a.is_deleted = 0 AND a.is_missing = 0{scope}"

    photos = ctx.catalog.scalar(f"SELECT COUNT(*) FROM assets a WHERE {live}",
                                params) or 0
    in_bio_albums = ctx.catalog.scalar(
        f"SELECT COUNT(*) FROM assets a WHERE {live} AND EXISTS"
        " (SELECT 1 FROM album_assets aa JOIN albums al USING (album_id)"
        " WHERE aa.asset_id = a.asset_id AND al.album_type = 'bio')", params) or 0

    def analysed(table: str, extra: str = "") -> int:
        return ctx.catalog.scalar(
            f"SELECT COUNT(*) FROM assets a WHERE {live}{extra} AND EXISTS"
            f" (SELECT 1 FROM {table} t WHERE t.asset_id = a.asset_id)",
            params) or 0

    bio = (" AND EXISTS (SELECT 1 FROM album_assets aa JOIN albums al USING"
           " (album_id) WHERE aa.asset_id = a.asset_id AND al.album_type = 'bio')")
    indexed = {"semantic": semantic.indexed_count(ctx, repository_id),
               "ocr": analysed("ocr_runs"), "face": analysed("face_runs"),
               "bioclip": analysed("species_runs", bio)}
    totals = {"semantic": photos, "ocr": photos, "face": photos,
              "bioclip": in_bio_albums}
    tasks = {
        name: {"indexed_count": indexed[name], "queued_jobs": _queued(ctx, queue),
               "total_count": totals[name], "enabled": ml.enabled(ctx, name),
               "available": ml.available(ctx, name)}
        for name, queue in QUEUES.items()
    }
    return {"photo_total": photos, "reindex_jobs": _queued(ctx, REINDEX_KIND),
            "tasks": tasks}


def rebuild(ctx: Context, body: dict) -> dict:
    repository_id = body.get("repository_id")
    if repository_id is not None:
        if not isinstance(repository_id, str):
            raise BadRequest("Invalid request data", "repository_id must be a string")
        repositories.get_row(ctx, repositories.valid_uuid(repository_id))
    tasks = _tasks(body.get("tasks"))
    missing_only = body.get("missing_only")
    if missing_only is not None and not isinstance(missing_only, bool):
        raise BadRequest("Invalid request data", "missing_only must be true or false")

    limit = _limit(body.get("limit"))
    missing_only = True if missing_only is None else missing_only
    runnable = [t for t in tasks if ml.runnable(ctx, t)]
    disabled = [t for t in tasks if t not in runnable]
    out = {"requested_tasks": tasks, "limit": limit, "missing_only": missing_only}
    if repository_id:
        out["repository_id"] = repository_id
    if disabled:
        out["disabled_tasks"] = disabled
    if not runnable:
        log.info("index rebuild of %s skipped: switched off or unavailable",
                 ", ".join(tasks))
        return {**out, "status": "skipped", "job_id": 0,
                "message": "No requested task is enabled and available"}

    job_id = recognition.queue_reindex(ctx, runnable, repository_id, limit,
                                       missing_only)
    log.info("index rebuild of %s queued as job %d", ", ".join(runnable), job_id)
    return {**out, "status": "queued", "job_id": job_id,
            "message": f"Re-indexing queued for {', '.join(runnable)}"}


def _tasks(value: Any) -> list[str]:
    if value is None or value == []:
        return list(TASKS)
    if not isinstance(value, list) or not all(isinstance(t, str) for t in value):
        raise BadRequest("Invalid request data", "tasks must be a list of strings")
    for task in value:
        if task == "bioclip":
            raise BadRequest(
                "Invalid request data",
                "bioclip is album-scoped: use POST /albums/{id}/bioclip/rebuild")
        if task not in TASKS:
            raise BadRequest("Invalid request data",
                             f"unknown task {task!r}; use semantic, ocr or face")
    return list(dict.fromkeys(value))


def _limit(value: Any) -> int:
    if value is None:
        return DEFAULT_LIMIT
    if not isinstance(value, int) or isinstance(value, bool):
        raise BadRequest("Invalid request data", "limit must be an integer")
    if not 1 <= value <= MAX_LIMIT:
        raise BadRequest("Invalid request data", f"limit must be 1-{MAX_LIMIT}")
    return value
