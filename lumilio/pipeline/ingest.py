"""The ingest pipeline: from a file in a repository to a browsable asset.

discover (a row for the file, its kind decided by content) -> hash (BLAKE3, streamed)
-> metadata (exiftool) -> thumbnails -> done. Each step records its state on the asset,
each is safe to run twice, and a file that cannot be read ends in the failed state with
the reason, without stopping anything else.
"""

from __future__ import annotations

import logging
import mimetypes
import threading
import uuid
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path, PurePosixPath

from lumilio.catalog.db import dumps, loads
from lumilio.context import Context
from lumilio.jobs.queue import register
from lumilio.library import layout
from lumilio.media.dates import USER_TIME_SOURCE
from lumilio.media.errors import MediaError
from lumilio.media.hashing import blake3_file
from lumilio.media.kinds import FileKind, sniff
from lumilio.media.metadata import MediaInfo, MetadataReader
from lumilio.media.thumbnails import THUMBNAIL_SIZES, render_thumbnails
from lumilio.pipeline import analysis
from lumilio.pipeline import status as st
from lumilio.timeutil import iso, now_iso, parse

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class NewFile:
    rel: str
    size: int
    mtime: float


# -- discovery --------------------------------------------------------------------


def _guess_kind(name: str) -> FileKind:
    """What the extension claims, for a file whose content could not be identified."""
    mime = mimetypes.guess_type(name)[0] or "application/octet-stream"
    asset_type = {"video": "VIDEO", "audio": "AUDIO"}.get(mime.split("/")[0], "PHOTO")
    return FileKind(asset_type=asset_type, mime=mime, is_raw=False, family="unknown")


def _classify(path: Path) -> tuple[FileKind, str | None]:
    try:
        return sniff(path), None
    except MediaError as exc:
        return _guess_kind(path.name), str(exc)
    except OSError as exc:
        return _guess_kind(path.name), f"cannot read file: {exc.strerror}"


def create_assets(ctx: Context, repo: dict, files: list[NewFile]) -> int:
    """Rows for new files of a repository, queued for processing; returns how many."""
    root = Path(repo["path"])
    rows = []
    for f in files:
        kind, problem = _classify(root / f.rel)
        rows.append((f, kind, problem))

    def insert(conn) -> list[tuple[str, str, str | None]]:
        created = []
        stamp = now_iso()
        for f, kind, problem in rows:
            asset_id = str(uuid.uuid4())
            status = st.fresh(kind.asset_type)
            if problem:
                status = st.fail_file(status, "initial_validation", problem)
            conn.execute(
                "INSERT OR IGNORE INTO assets (asset_id, repository_id, owner_id, type,"
                " original_filename, storage_path, mime_type, file_size, file_mtime,"
                " upload_time, taken_time, taken_source, is_raw, state, status,"
                " updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (asset_id, repo["repository_id"], repo["default_owner_id"],
                 kind.asset_type, PurePosixPath(f.rel).name, f.rel, kind.mime,
                 f.size, f.mtime, stamp, iso(datetime.fromtimestamp(f.mtime)),
                 "mtime", int(kind.is_raw), status["state"], dumps(status), stamp))
            if conn.changes():
                created.append((asset_id, f.rel, problem))
        return created

    created = ctx.catalog.write(insert)
    for asset_id, rel, problem in created:
        if problem:
            log.warning("cannot import %s: %s", root / rel, problem)
        else:
            ctx.jobs.enqueue("process_asset", asset_id=asset_id)
    return len(created)


def create_uploaded_asset(ctx: Context, repo: dict, staged: Path, filename: str,
                          content_hash: str, owner_id: int | None
                          ) -> tuple[str, int | None]:
    """Place an uploaded file into the inbox and make it an asset.

    The same content already in the repository gives the existing asset instead: the
    check and the insert run in one write transaction, so two uploads of one file that
    race still give a single asset. Returns the asset id and the id of the job that
    processes it (None when the asset already existed).
    """
    from lumilio.library import placement

    kind, problem = _classify(staged)
    if problem:
        raise MediaError(problem)
    root = Path(repo["path"])
    size = staged.stat().st_size

    def commit(conn) -> tuple[str, bool]:
        # Only the uploader's own copy counts: another user's photo of the same
        # bytes is theirs, and telling would reveal that they have it.
        same = conn.execute(
            "SELECT asset_id FROM assets WHERE repository_id = ? AND hash = ?"
            " AND is_deleted = 0 AND owner_id IS ? LIMIT 1",
            (repo["repository_id"], content_hash, owner_id),
        ).fetchall()
        if same:
            staged.unlink(missing_ok=True)
            return same[0]["asset_id"], False

        rel = placement.target_rel(repo["storage_strategy"], filename, content_hash)
        rel = placement.resolve_collision(root, rel, repo["duplicate_handling"],
                                          repo["storage_strategy"])
        target = layout.resolve(root, rel)
        target.parent.mkdir(parents=True, exist_ok=True)
        asset_id = str(uuid.uuid4())
        stamp = now_iso()
        status = st.fresh(kind.asset_type)
        conn.execute(
            "INSERT INTO assets (asset_id, repository_id, owner_id, type,"
            " original_filename, storage_path, mime_type, file_size, hash,"
            " upload_time, taken_time, taken_source, is_raw, state, status,"
            " updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (asset_id, repo["repository_id"], owner_id, kind.asset_type, filename,
             rel, kind.mime, size, content_hash, stamp, stamp, "upload",
             int(kind.is_raw), status["state"], dumps(status), stamp))
        # Moved last: if the move fails the transaction rolls back and no row points
        # at a file that is not there.
        staged.replace(target)
        conn.execute("UPDATE assets SET file_mtime = ? WHERE asset_id = ?",
                     (target.stat().st_mtime, asset_id))
        return asset_id, True

    asset_id, created = ctx.catalog.write(commit)
    if not created:
        return asset_id, None
    return asset_id, ctx.jobs.enqueue("process_asset", asset_id=asset_id)


def reset_for_reprocess(ctx: Context, asset_id: str, size: int | None = None,
                        mtime: float | None = None) -> None:
    """The file changed (or the user asked): start its pipeline again."""
    def reset(conn) -> None:
        row = conn.execute("SELECT type FROM assets WHERE asset_id = ?",
                           (asset_id,)).fetchall()
        if not row:
            return
        status = st.fresh(row[0]["type"])
        conn.execute(
            "UPDATE assets SET state = ?, status = ?, hash = CASE WHEN ? IS NULL"
            " THEN hash ELSE NULL END, file_size = COALESCE(?, file_size),"
            " file_mtime = COALESCE(?, file_mtime), is_missing = 0, updated_at = ?"
            " WHERE asset_id = ?",
            (status["state"], dumps(status), size, size, mtime, now_iso(), asset_id))

    ctx.catalog.write(reset)
    ctx.jobs.enqueue("process_asset", asset_id=asset_id)


# -- processing -------------------------------------------------------------------

_local = threading.local()
_readers: list[MetadataReader] = []
_readers_lock = threading.Lock()


def _reader(ctx: Context) -> MetadataReader:
    """One exiftool process per worker thread, kept for the life of the thread."""
    reader = getattr(_local, "reader", None)
    if reader is None:
        reader = MetadataReader(ctx.config.exiftool or None)
        _local.reader = reader
        with _readers_lock:
            _readers.append(reader)
    return reader


def close_readers() -> None:
    with _readers_lock:
        for reader in _readers:
            reader.close()
        _readers.clear()


@register("process_asset", retries=1)
def process_asset(ctx: Context, asset_id: str) -> None:
    asset = ctx.catalog.one(
        "SELECT a.*, r.path AS repo_path FROM assets a JOIN repositories r"
        " USING (repository_id) WHERE a.asset_id = ?", (asset_id,))
    if asset is None:
        return
    status = loads(asset["status"]) or st.fresh(asset["type"])
    if status.get("state") != "processing":
        return
    path = Path(asset["repo_path"]) / asset["storage_path"]

    try:
        kind = sniff(path)
        content_hash = asset["hash"] or blake3_file(path)
    except (MediaError, OSError) as exc:
        reason = str(exc) if isinstance(exc, MediaError) else exc.strerror
        _save_status(ctx, asset_id, st.fail_file(status, "file_read", reason))
        log.warning("cannot import %s: %s", path, reason)
        return
    if not asset["hash"]:
        ctx.catalog.write(lambda conn: conn.execute(
            "UPDATE assets SET hash = ?, mime_type = ?, type = ? WHERE asset_id = ?",
            (content_hash, kind.mime, kind.asset_type, asset_id)))

    tasks = status.get("tasks", {})
    if tasks.get("metadata_asset", {}).get("state") != "complete":
        status = _step(ctx, asset_id, status, "metadata_asset", path,
                       lambda: _metadata(ctx, asset, path, kind))
    if tasks.get("thumbnail_asset", {}).get("state") != "complete":
        status = _step(ctx, asset_id, status, "thumbnail_asset", path,
                       lambda: _thumbnails(ctx, asset, path, kind, content_hash),
                       fatal=kind.asset_type == "PHOTO")
    log.debug("processed %s: %s", path, status["state"])
    analysis.after_processing(ctx, asset_id, kind.asset_type, status)
    _queue_followups(ctx, asset, kind, status)
    if status.get("tasks", {}).get("thumbnail_asset", {}).get("state") == "complete":
        from lumilio.pipeline import recognition

        recognition.queue_after_thumbnails(ctx, asset_id, kind.asset_type)


def _queue_followups(ctx: Context, asset: dict, kind: FileKind, status: dict) -> None:
    """Stack detection and the web version: separate jobs, off the import path."""
    from lumilio.pipeline import transcode
    from lumilio.services import stacks

    tasks = status.get("tasks", {})
    if tasks.get("metadata_asset", {}).get("state") == "complete":
        identifier = ctx.catalog.scalar(
            "SELECT content_identifier FROM assets WHERE asset_id = ?",
            (asset["asset_id"],))
        if kind.asset_type == "PHOTO" or identifier:
            stacks.request_detection(ctx, asset["repository_id"])
    transcoding = tasks.get(transcode.TASK, {}).get("state")
    if kind.asset_type in transcode.WEB_FILES and transcoding == "pending":
        transcode.queue(ctx, asset["asset_id"])


def _step(ctx: Context, asset_id: str, status: dict, task: str, path: Path,
          work, fatal: bool = False) -> dict:
    try:
        work()
    except MediaError as exc:
        log.warning("%s failed for %s: %s", task, path, exc)
        status = st.set_task(status, task, "failed", str(exc))
        if fatal:
            # A photo whose pixels cannot be decoded is broken as a whole, even if
            # its metadata could be read.
            status = st.fail_file(status, "file_corrupted", str(exc))
    except Exception as exc:
        # An unexpected failure in one file must not stop the queue: it is logged
        # with its traceback and recorded on the asset like any other failure.
        log.exception("%s crashed on %s", task, path)
        status = st.set_task(status, task, "failed", f"{type(exc).__name__}: {exc}")
    else:
        status = st.set_task(status, task, "complete")
    _save_status(ctx, asset_id, status)
    return status


def _save_status(ctx: Context, asset_id: str, status: dict) -> None:
    ctx.catalog.write(lambda conn: conn.execute(
        "UPDATE assets SET state = ?, status = ?, updated_at = ? WHERE asset_id = ?",
        (status["state"], dumps(status), now_iso(), asset_id)))


def _metadata(ctx: Context, asset: dict, path: Path, kind: FileKind) -> None:
    info: MediaInfo = _reader(ctx).read(path, kind)
    specific = dict(info.specific)
    specific.setdefault("is_raw", kind.is_raw)
    if info.taken_time is not None:
        specific["taken_time"] = iso(info.taken_time)
    if info.capture_offset_minutes is not None:
        specific["capture_offset_minutes"] = info.capture_offset_minutes
    if asset.get("description"):
        # A description the user wrote outlives a re-read of the file.
        specific["description"] = asset["description"]
    if asset.get("taken_source") == USER_TIME_SOURCE:
        # So does a capture time the user typed in.
        info.taken_time = parse(asset["taken_time"])
        info.capture_offset_minutes = asset["capture_offset_minutes"]
        info.taken_source = USER_TIME_SOURCE
        kept = loads(asset["specific_metadata"]) or {}
        for key in ("taken_time", "recorded_time", "capture_offset_minutes"):
            if key in kept:
                specific[key] = kept[key]
    lat, lon = info.gps if info.gps else (None, None)

    def save(conn) -> None:
        conn.execute(
            "UPDATE assets SET taken_time = COALESCE(?, taken_time),"
            " capture_offset_minutes = ?, taken_source = COALESCE(?, taken_source),"
            " width = COALESCE(?, width), height = COALESCE(?, height),"
            " duration = ?, orientation = ?, specific_metadata = ?, camera_model = ?,"
            " lens_model = ?, gps_latitude = ?, gps_longitude = ?,"
            " content_identifier = ?, is_raw = ?, updated_at = ? WHERE asset_id = ?",
            (iso(info.taken_time), info.capture_offset_minutes, info.taken_source,
             info.width, info.height, info.duration, info.orientation,
             dumps(specific), specific.get("camera_model"),
             specific.get("lens_model"), lat, lon,
             specific.get("content_identifier"), int(kind.is_raw), now_iso(),
             asset["asset_id"]))
        conn.execute(
            "INSERT INTO asset_exif (asset_id, exif_raw) VALUES (?, ?)"
            " ON CONFLICT (asset_id) DO UPDATE SET exif_raw = excluded.exif_raw",
            (asset["asset_id"], dumps(info.exif_raw or {})))

    ctx.catalog.write(save)
    for warning in info.warnings:
        log.info("%s: %s", path, warning)


def _thumbnails(ctx: Context, asset: dict, path: Path, kind: FileKind,
                content_hash: str) -> None:
    root = Path(asset["repo_path"])
    rels = {size: layout.thumbnail_rel(content_hash, size) for size in THUMBNAIL_SIZES}
    targets = {size: root / rel for size, rel in rels.items()}

    # Thumbnails are named by content hash: a repository carried from another
    # machine, or a second copy of a file, reuses them instead of decoding again.
    if all(t.exists() for t in targets.values()):
        dims = None
    else:
        dims = render_thumbnails(path, kind, targets, reader=_reader(ctx))

    def save(conn) -> None:
        stamp = now_iso()
        for size, rel in rels.items():
            conn.execute(
                "INSERT INTO derived_files (asset_id, kind, storage_path, mime_type,"
                " created_at) VALUES (?, ?, ?, 'image/webp', ?)"
                " ON CONFLICT (asset_id, kind) DO UPDATE SET"
                " storage_path = excluded.storage_path",
                (asset["asset_id"], f"thumbnail_{size}", rel, stamp))
        if dims and kind.asset_type != "AUDIO":
            conn.execute(
                "UPDATE assets SET width = COALESCE(width, ?),"
                " height = COALESCE(height, ?) WHERE asset_id = ?",
                (dims[0], dims[1], asset["asset_id"]))

    ctx.catalog.write(save)
