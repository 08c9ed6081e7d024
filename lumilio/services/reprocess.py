"""`POST /assets/{id}/reprocess`: run pipeline tasks of one asset again.

With no task names (or `force_full_retry`) the asset starts over: status reset, its
thumbnails and web version removed, the whole pipeline queued. With names, exactly
those tasks run again. The names are the queue names of the reference: the pipeline's
steps, and the recognition steps of photos (when their model can run).
"""

from __future__ import annotations

import logging
from pathlib import Path

from lumilio.auth.principal import Principal
from lumilio.catalog.db import dumps, loads
from lumilio.context import Context
from lumilio.errors import BadRequest
from lumilio.library import layout
from lumilio.pipeline import ingest, recognition, transcode
from lumilio.pipeline import status as st
from lumilio.services import ml
from lumilio.services.assets import original_path, row_for
from lumilio.timeutil import now_iso

log = logging.getLogger(__name__)

PIPELINE_TASKS = ("metadata_asset", "thumbnail_asset", "transcode_asset")
# Recognition job name -> the task name its module speaks.
RECOGNITION_TASKS = {job: task for task, job in recognition.JOBS.items()}
VALID_TASKS = PIPELINE_TASKS + tuple(RECOGNITION_TASKS)
# What each task leaves on disk and in derived_files, removed so it is really redone.
OUTPUTS = {"thumbnail_asset": "thumbnail_%", "transcode_asset": "web_%"}


def reprocess(ctx: Context, who: Principal, asset_id: str, body: dict) -> dict:
    row = row_for(ctx, who, asset_id)
    tasks = _task_names(ctx, body.get("tasks"), row["type"])
    force = body.get("force_full_retry", False)
    if not isinstance(force, bool):
        raise BadRequest("Invalid request data", "force_full_retry must be a boolean")

    status = loads(row["status"]) or {}
    failed = [name for name, t in status.get("tasks", {}).items()
              if t.get("state") == "failed"]
    fatal = [e for e in status.get("errors", []) if e.get("task") in st.FATAL_TASKS]
    if fatal and not force:
        raise BadRequest("Asset cannot be reprocessed",
                         f"the file itself is unusable ({fatal[0].get('error')});"
                         " use force_full_retry after replacing it")

    if not tasks or force:
        original_path(ctx, who, asset_id)  # 404 when the file is gone
        _remove_outputs(ctx, row, list(OUTPUTS))
        ingest.reset_for_reprocess(ctx, asset_id)
        log.info("%s asked a full reprocess of %s", who.username,
                 row["original_filename"])
        return {"asset_id": asset_id, "status": "queued",
                "message": "Full reprocessing job queued successfully",
                "retry_tasks": ["all_failed_tasks"], "failed_tasks": failed}

    _remove_outputs(ctx, row, tasks)
    _queue(ctx, asset_id, tasks)
    log.info("%s asked %s to run again for %s", who.username, ", ".join(tasks),
             row["original_filename"])
    return {"asset_id": asset_id, "status": "queued",
            "message": "Reprocessing job queued successfully",
            "retry_tasks": tasks, "failed_tasks": failed}


def _task_names(ctx: Context, raw: object, asset_type: str) -> list[str]:
    if raw is None:
        return []
    if not isinstance(raw, list) or not all(isinstance(t, str) for t in raw):
        raise BadRequest("Invalid request data", "tasks must be a list of task names")
    names: list[str] = []
    for name in raw:
        if name not in VALID_TASKS:
            raise BadRequest(f"Invalid queue name: {name}",
                             "valid tasks: " + ", ".join(VALID_TASKS))
        applies = (asset_type == "PHOTO" if name in RECOGNITION_TASKS
                   else name in st.TRACKED_TASKS[asset_type])
        if not applies:
            raise BadRequest(f"Invalid queue name: {name}",
                             f"{name} does not apply to {asset_type.lower()} assets")
        if name in RECOGNITION_TASKS and not ml.runnable(ctx, RECOGNITION_TASKS[name]):
            raise BadRequest(f"{name} is not available",
                             "it is turned off, or its model is missing")
        if name not in names:
            names.append(name)
    return names


def _queue(ctx: Context, asset_id: str, tasks: list[str]) -> None:
    steps = [t for t in tasks if t in PIPELINE_TASKS]
    if steps:
        _set_pending(ctx, asset_id, steps)
    if set(steps) & {"metadata_asset", "thumbnail_asset"}:
        # The pipeline runs what is pending, then queues the transcode if pending
        # and the recognition steps that follow thumbnails.
        ctx.jobs.enqueue("process_asset", asset_id=asset_id)
    elif "transcode_asset" in steps:
        transcode.queue(ctx, asset_id)
    for job in tasks:
        if job in RECOGNITION_TASKS:
            recognition.queue(ctx, asset_id, RECOGNITION_TASKS[job])


def _remove_outputs(ctx: Context, row: dict, tasks: list[str]) -> None:
    root = Path(row["repo_path"])
    for task in tasks:
        pattern = OUTPUTS.get(task)
        if pattern is None:
            continue
        found = ctx.catalog.all(
            "SELECT storage_path FROM derived_files WHERE asset_id = ? AND kind LIKE ?",
            (row["asset_id"], pattern))
        for derived in found:
            layout.resolve(root, derived["storage_path"]).unlink(missing_ok=True)
        ctx.catalog.write(lambda conn, p=pattern: conn.execute(
            "DELETE FROM derived_files WHERE asset_id = ? AND kind LIKE ?",
            (row["asset_id"], p)))
    if "transcode_asset" in tasks and row["hash"]:
        # A web version is named by content; none may be recorded yet.
        for extension in (".mp4", ".mp3"):
            (root / layout.web_rel(row["hash"], extension)).unlink(missing_ok=True)


def _set_pending(ctx: Context, asset_id: str, tasks: list[str]) -> None:
    def reset(conn) -> None:
        rows = conn.execute("SELECT type, status FROM assets WHERE asset_id = ?",
                            (asset_id,)).fetchall()
        status = loads(rows[0]["status"]) or st.fresh(rows[0]["type"])
        for task in tasks:
            status = st.set_task(status, task, "pending")
        conn.execute(
            "UPDATE assets SET state = ?, status = ?, updated_at = ?"
            " WHERE asset_id = ?",
            (status["state"], dumps(status), now_iso(), asset_id))

    ctx.catalog.write(reset)
