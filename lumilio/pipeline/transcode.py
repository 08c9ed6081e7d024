"""The `transcode_asset` task: web versions of videos and audio, off the import path.

It is its own job, queued when an asset's metadata and thumbnails are done, at the
lowest priority: workers take waiting imports, thumbnails and stack detection first.
At most `workers - 1` transcodes run at once (at least one), so a long one never holds
every worker; a transcode that finds no free slot asks to be run again a little later.

The result is named by content hash (`.lumilio/web/<hash>_web.mp4|.mp3`), so a copy of
the same file, or a repository carried to another machine, reuses it.
"""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path

from huey.exceptions import RetryTask

from lumilio.catalog.db import dumps, loads
from lumilio.context import Context
from lumilio.jobs.queue import register
from lumilio.library import layout
from lumilio.media import transcode
from lumilio.media.errors import MediaError
from lumilio.pipeline import status as st
from lumilio.timeutil import now_iso

log = logging.getLogger(__name__)

TASK = "transcode_asset"
RETRY_WHEN_BUSY_S = 5
WEB_FILES = {
    "VIDEO": ("web_video", ".mp4", "video/mp4"),
    "AUDIO": ("web_audio", ".mp3", "audio/mpeg"),
}

_slots: threading.BoundedSemaphore | None = None
_slots_lock = threading.Lock()


def _slot(ctx: Context) -> threading.BoundedSemaphore:
    global _slots
    with _slots_lock:
        if _slots is None:
            _slots = threading.BoundedSemaphore(max(1, ctx.config.worker_count - 1))
        return _slots


def queue(ctx: Context, asset_id: str) -> None:
    ctx.jobs.enqueue(TASK, asset_id=asset_id)


@register(TASK, retries=1, priority=-10)
def transcode_asset(ctx: Context, asset_id: str) -> None:
    asset = ctx.catalog.one(
        "SELECT a.*, r.path AS repo_path FROM assets a JOIN repositories r"
        " USING (repository_id) WHERE a.asset_id = ?", (asset_id,))
    if asset is None or asset["type"] not in WEB_FILES or not asset["hash"]:
        return
    status = loads(asset["status"]) or {}
    task = status.get("tasks", {}).get(TASK, {})
    if task.get("state") == "complete" or _file_is_broken(status):
        return

    slots = _slot(ctx)
    if not slots.acquire(blocking=False):
        raise RetryTask("every transcode slot is busy", delay=RETRY_WHEN_BUSY_S)
    try:
        _mark(ctx, asset_id, "processing")
        _run(ctx, asset)
    finally:
        slots.release()


def _file_is_broken(status: dict) -> bool:
    return any(e.get("task") in st.FATAL_TASKS for e in status.get("errors", []))


def _run(ctx: Context, asset: dict) -> None:
    root = Path(asset["repo_path"])
    source = layout.resolve(root, asset["storage_path"])
    kind, extension, mime = WEB_FILES[asset["type"]]
    rel = layout.web_rel(asset["hash"], extension)
    target = root / rel
    started = time.monotonic()

    try:
        if asset["type"] == "VIDEO":
            plan = transcode.plan_video(source, asset["mime_type"])
            needed = plan.reason
            if needed and not target.exists():
                transcode.transcode_video(source, target, plan)
        else:
            audio = transcode.plan_audio(source)
            needed = audio.reason
            if needed and not target.exists():
                transcode.transcode_audio(source, target, audio)
    except MediaError as exc:
        log.warning("%s failed for %s: %s", TASK, source, exc)
        _mark(ctx, asset["asset_id"], "failed", str(exc))
        return
    except Exception as exc:
        # One odd file must not stop the queue; its status says what happened.
        log.exception("%s crashed on %s", TASK, source)
        _mark(ctx, asset["asset_id"], "failed", f"{type(exc).__name__}: {exc}")
        return

    _record(ctx, asset["asset_id"], kind, rel if needed else None, mime)
    if needed:
        log.info("web version of %s made in %.1fs (%s)", asset["original_filename"],
                 time.monotonic() - started, needed)
    else:
        log.debug("%s plays in browsers as it is", source)


def _record(ctx: Context, asset_id: str, kind: str, rel: str | None,
            mime: str) -> None:
    """Save where the web version is (none: the original plays as it is)."""

    def save(conn) -> None:
        if rel is None:
            conn.execute("DELETE FROM derived_files WHERE asset_id = ? AND kind = ?",
                         (asset_id, kind))
        else:
            conn.execute(
                "INSERT INTO derived_files (asset_id, kind, storage_path, mime_type,"
                " created_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (asset_id, kind)"
                " DO UPDATE SET storage_path = excluded.storage_path,"
                " created_at = excluded.created_at",
                (asset_id, kind, rel, mime, now_iso()))
        _set_task(conn, asset_id, "complete",
                  None if rel else "the original plays in browsers as it is")

    ctx.catalog.write(save)


def _mark(ctx: Context, asset_id: str, state: str, message: str | None = None) -> None:
    ctx.catalog.write(lambda conn: _set_task(conn, asset_id, state, message))


def _set_task(conn, asset_id: str, state: str, message: str | None) -> None:
    # Read and written in one transaction: the pipeline may be saving other tasks
    # of the same asset at the same time.
    rows = conn.execute("SELECT type, status FROM assets WHERE asset_id = ?",
                        (asset_id,)).fetchall()
    if not rows:
        return
    status = loads(rows[0]["status"]) or st.fresh(rows[0]["type"])
    status = st.set_task(status, TASK, state, message)
    conn.execute(
        "UPDATE assets SET state = ?, status = ?, updated_at = ? WHERE asset_id = ?",
        (status["state"], dumps(status), now_iso(), asset_id))
