"""Batch and chunked uploads (`POST /assets/batch`), resumable across requests.

A request carries files in fields named `single_<session>` (a whole file) or
`chunk_<session>_<index>_<total>` (one piece of a file, 0-based). Each session lives
in the repository's staging folder, `batch-<session>/`, as its chunk files and a
`session.json` with the owner, file name, claimed hash and state. Nothing is kept
only in memory, so an upload interrupted by a dropped connection or a restart goes
on where it stopped: chunks already there are recognised on the next request, and
a chunk sent twice simply replaces itself.

When the last chunk arrives the pieces are joined in order into the same staged
upload the single-file endpoint uses, the joined file is checked against the
client's content hash (X-Content-Hash) when it gave one, and only then does it become
an asset. Sessions nobody touched for a day are removed with their chunks; finished
sessions are kept an hour for the progress endpoint.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from lumilio.auth.principal import Principal
from lumilio.context import Context
from lumilio.errors import ApiError, BadRequest, Conflict, PayloadTooLarge
from lumilio.library import layout
from lumilio.services import assets, repositories
from lumilio.timeutil import now_iso

log = logging.getLogger(__name__)

_FIELD = re.compile(r"^(?:single_(?P<single>[A-Za-z0-9-]{1,64})"
                    r"|chunk_(?P<sid>[A-Za-z0-9-]{1,64})_(?P<index>\d{1,6})"
                    r"_(?P<total>\d{1,6}))$")
SESSION_PREFIX = "batch-"
SESSION_FILE = "session.json"
MAX_CHUNK_BYTES = 256 << 20
ABANDONED_AFTER_S = 24 * 3600
FINISHED_KEPT_S = 3600
SWEEP_EVERY_S = 600
COPY_BYTES = 1 << 20
SAME_CONTENT = "File with same content already exists in repository"

_locks: dict[str, threading.Lock] = {}
_locks_guard = threading.Lock()
_last_sweep = 0.0


@dataclass(frozen=True)
class FieldName:
    session_id: str
    index: int | None = None  # None: a whole file
    total: int | None = None


def parse_field(name: str) -> FieldName:
    """A file field's name as a session and chunk position; 400 when malformed."""
    match = _FIELD.match(name or "")
    if match is None:
        raise BadRequest("Invalid field name", f"{name!r}: expected single_<session>"
                         " or chunk_<session>_<index>_<total>")
    if match["single"]:
        return FieldName(match["single"])
    index, total = int(match["index"]), int(match["total"])
    if total <= 0 or index >= total:
        raise BadRequest("Invalid field name",
                         f"{name!r}: chunk index must be below a positive total")
    return FieldName(match["sid"], index, total)


def _lock(session_id: str) -> threading.Lock:
    with _locks_guard:
        return _locks.setdefault(session_id, threading.Lock())


# -- sessions on disk -------------------------------------------------------------


def _session_dir(repo: dict, session_id: str) -> Path:
    return layout.staging_dir(Path(repo["path"])) / f"{SESSION_PREFIX}{session_id}"


def _read(folder: Path) -> dict | None:
    try:
        return json.loads((folder / SESSION_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _write(folder: Path, session: dict) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    session["last_activity"] = now_iso()
    temporary = folder / f".{SESSION_FILE}.{uuid.uuid4().hex}"
    temporary.write_text(json.dumps(session), encoding="utf-8")
    os.replace(temporary, folder / SESSION_FILE)


def _chunks(folder: Path) -> dict[int, int]:
    """Chunk index -> size of every complete chunk file in the session folder."""
    found = {}
    for entry in folder.glob("chunk_*"):
        suffix = entry.name.removeprefix("chunk_")
        if suffix.isdigit():
            found[int(suffix)] = entry.stat().st_size
    return found


# -- one request ------------------------------------------------------------------


class BatchUpload:
    """The files of one `POST /assets/batch` request, handled as they stream in."""

    def __init__(self, ctx: Context, who: Principal, repository_id: str | None,
                 claimed_hash: str | None):
        self.ctx = ctx
        self.who = who
        self.repository_id = repository_id or None
        self.claimed_hash = (claimed_hash or "").strip().lower() or None
        self.repo: dict | None = None
        self.results: dict[str, dict] = {}
        self.limit = ctx.config.max_upload_mb << 20
        sweep_now_and_then(ctx)

    def set_repository(self, value: str) -> None:
        value = value.strip()
        if self.repo is not None and value != self.repo["repository_id"]:
            raise BadRequest("Invalid request data",
                             "repository_id must come before the files")
        self.repository_id = value or None

    def _target(self) -> dict:
        if self.repo is None:
            self.repo = assets.upload_target(self.ctx, self.who, self.repository_id)
        return self.repo

    def open_part(self, field_name: str, filename: str | None) -> Part:
        field = parse_field(field_name)
        repo = self._target()
        if field.index is None:
            return SinglePart(self, field, filename, repo)
        return ChunkPart(self, field, filename, repo)

    def record(self, session_id: str, result: dict) -> None:
        self.results[session_id] = result

    def response(self) -> dict:
        if not self.results:
            raise BadRequest("No files provided",
                             "the form has no single_ or chunk_ file fields")
        return {"results": list(self.results.values())}


class Part(Protocol):
    """A file field being received: its bytes, then its end (or its abandonment)."""

    def write(self, data: bytes) -> None: ...

    def finish(self) -> None: ...

    def discard(self) -> None: ...


class SinglePart(Part):
    """A whole file: staged, hashed as it streams, committed at its end."""

    def __init__(self, upload: BatchUpload, field: FieldName, filename: str | None,
                 repo: dict):
        self.upload = upload
        self.session_id = field.session_id
        self.filename = filename
        self.repo = repo
        self.staged = assets.StagedUpload(repo, upload.limit)

    def write(self, data: bytes) -> None:
        self.staged.write(data)

    def finish(self) -> None:
        size = self.staged.size
        result = _commit(self.upload, self.repo, self.staged, self.filename)
        self.upload.record(self.session_id, result)
        folder = _session_dir(self.repo, self.session_id)
        _write(folder, _session_record(self.upload.who, self.repo, self.session_id,
                                       self.filename, 1, {0: size}, result))

    def discard(self) -> None:
        self.staged.discard()


class ChunkPart(Part):
    """One chunk: written beside the others, joined when the set is complete."""

    def __init__(self, upload: BatchUpload, field: FieldName, filename: str | None,
                 repo: dict):
        self.upload = upload
        self.field = field
        self.repo = repo
        self.folder = _session_dir(repo, field.session_id)
        with _lock(field.session_id):
            session = _read(self.folder)
            if session is None or session.get("status") == "failed":
                # New, or failed before (a hash mismatch): start from nothing.
                shutil.rmtree(self.folder, ignore_errors=True)
                session = _session_record(upload.who, repo, field.session_id,
                                          filename, field.total, {}, None)
            self._check(session)
            if upload.claimed_hash and not session.get("content_hash"):
                session["content_hash"] = upload.claimed_hash
            if filename and not session.get("filename"):
                session["filename"] = filename
            _write(self.folder, session)
        # A retry of a chunk the upload already finished with gets the same answer.
        self.finished = session.get("result") if session.get(
            "status") == "completed" else None
        self.temporary = self.folder / f".chunk_{field.index}.{uuid.uuid4().hex}"
        self.handle = open(self.temporary, "wb")  # noqa: SIM115  closed in finish
        self.size = 0

    def _check(self, session: dict) -> None:
        if session.get("owner_id") != self.upload.who.user_id:
            raise Conflict("Upload session belongs to someone else",
                           f"session {self.field.session_id} is not yours")
        if session.get("total_chunks") != self.field.total:
            raise BadRequest("Invalid field name",
                             f"session {self.field.session_id} has"
                             f" {session.get('total_chunks')} chunks, not"
                             f" {self.field.total}")
        if session.get("status") == "merging":
            raise Conflict("Upload is being joined",
                           f"session {self.field.session_id} has all its chunks")

    def write(self, data: bytes) -> None:
        self.size += len(data)
        if self.size > MAX_CHUNK_BYTES:
            raise PayloadTooLarge("Chunk too large",
                                  f"a chunk may hold {MAX_CHUNK_BYTES >> 20} MB")
        self.handle.write(data)

    def discard(self) -> None:
        self.handle.close()
        self.temporary.unlink(missing_ok=True)

    def finish(self) -> None:
        self.handle.close()
        sid = self.field.session_id
        if self.finished is not None:
            self.temporary.unlink(missing_ok=True)
            self.upload.record(sid, self.finished)
            return
        with _lock(sid):
            os.replace(self.temporary, self.folder / f"chunk_{self.field.index}")
            session = _read(self.folder) or {}
            received = _chunks(self.folder)
            if len(received) < self.field.total:
                session["status"] = "uploading"
                _write(self.folder, session)
                self.upload.record(sid, _in_progress(session, received))
                return
            session["status"] = "merging"
            _write(self.folder, session)
        self.upload.record(sid, self._join(session, received))

    def _join(self, session: dict, received: dict[int, int]) -> dict:
        staged = assets.StagedUpload(self.repo, self.upload.limit)
        try:
            for index in range(self.field.total):
                with open(self.folder / f"chunk_{index}", "rb") as piece:
                    while data := piece.read(COPY_BYTES):
                        staged.write(data)
        except BaseException:
            staged.discard()
            _write(self.folder, {**session, "status": "failed",
                                 "error": "the chunks could not be joined"})
            raise

        claimed = session.get("content_hash") or self.upload.claimed_hash
        result = _commit(self.upload, self.repo, staged, session.get("filename"),
                         claimed)
        for index in received:
            (self.folder / f"chunk_{index}").unlink(missing_ok=True)
        session["status"] = "completed" if result["success"] else "failed"
        session["result"] = result
        _write(self.folder, session)
        log.info("chunked upload %s joined from %d chunk(s): %s", session.get(
            "filename"), self.field.total, result.get("status") or result.get("error"))
        return result


def _commit(upload: BatchUpload, repo: dict, staged: assets.StagedUpload,
            filename: str | None, claimed: str | None = None) -> dict:
    """The staged file as an asset, reported as a BatchUploadResultDTO."""
    claimed = claimed or upload.claimed_hash
    try:
        done = assets.commit_upload(upload.ctx, upload.who, repo, staged, filename,
                                    claimed)
    except ApiError as exc:
        staged.discard()
        return {"success": False, "file_name": filename or "", "status": "failed",
                "error": exc.detail or exc.message, "size": staged.size}

    result = {
        "success": True, "file_name": done["file_name"],
        "content_hash": done["content_hash"], "task_id": done["task_id"],
        "status": done["status"], "size": done["size"], "message": done["message"],
    }
    if done["status"] == "duplicate":
        existing = upload.ctx.catalog.scalar(
            "SELECT original_filename FROM assets WHERE asset_id = ?",
            (done["asset_id"],))
        # The same bytes under another name are refused; the same file sent again
        # (a retried upload) is answered with the asset it already is.
        if existing != done["file_name"]:
            return {"success": False, "file_name": done["file_name"],
                    "status": "failed", "error": SAME_CONTENT,
                    "content_hash": done["content_hash"]}
    return result


def _session_record(who: Principal, repo: dict, session_id: str,
                    filename: str | None, total: int | None,
                    received: dict[int, int], result: dict | None) -> dict:
    record = {
        "session_id": session_id, "owner_id": who.user_id,
        "repository_id": repo["repository_id"], "filename": filename or "",
        "total_chunks": total, "created_at": now_iso(),
        "status": "uploading", "bytes_done": sum(received.values()),
    }
    if result is not None:
        record["status"] = "completed" if result["success"] else "failed"
        record["result"] = result
    return record


def _in_progress(session: dict, received: dict[int, int]) -> dict:
    share = 100.0 * len(received) / session["total_chunks"]
    return {"success": True, "file_name": session.get("filename") or "",
            "status": "uploading", "size": sum(received.values()),
            "message": f"Upload in progress: {share:.1f}% complete"}


# -- progress and housekeeping ----------------------------------------------------


def _session_folders(ctx: Context):
    for repo in repositories.all_rows(ctx):
        staging = layout.staging_dir(Path(repo["path"]))
        if staging.is_dir():
            yield from (p for p in staging.glob(f"{SESSION_PREFIX}*") if p.is_dir())


def progress(ctx: Context, who: Principal, session_ids: list[str] | None) -> dict:
    """`GET /assets/batch/progress`: the caller's sessions, or the ones named."""
    wanted = set(session_ids) if session_ids else None
    sessions = []
    for folder in _session_folders(ctx):
        session = _read(folder)
        if session is None or session.get("owner_id") != who.user_id:
            continue
        if wanted is not None and session.get("session_id") not in wanted:
            continue
        sessions.append(_progress_dto(folder, session))
    sessions.sort(key=lambda s: s["last_activity"], reverse=True)

    active = [s for s in sessions if s["status"] in ("uploading", "merging")]
    overall = (sum(s["progress"] for s in sessions) / len(sessions)) if sessions else 0
    return {"sessions": sessions, "summary": {
        "total_sessions": len(sessions), "active_sessions": len(active),
        "completed_files": sum(1 for s in sessions if s["status"] == "completed"),
        "failed_sessions": sum(1 for s in sessions if s["status"] == "failed"),
        "overall_progress": round(overall, 4),
    }}


def _progress_dto(folder: Path, session: dict) -> dict:
    total = session.get("total_chunks") or 1
    if session.get("status") in ("completed", "failed"):
        received = total if session["status"] == "completed" else 0
        done = (session.get("result") or {}).get("size") or session.get("bytes_done", 0)
        whole = done
    else:
        chunks = _chunks(folder)
        received, done = len(chunks), sum(chunks.values())
        # Until every chunk is in, the size is estimated from those that are.
        whole = round(done / received * total) if received else 0
    return {
        "session_id": session.get("session_id"), "filename": session.get("filename"),
        "status": session.get("status"), "progress": round(received / total, 4),
        "received_chunks": received, "total_chunks": total, "bytes_done": done,
        "bytes_total": whole, "last_activity": session.get("last_activity"),
    }


def sweep_now_and_then(ctx: Context) -> None:
    global _last_sweep
    if time.monotonic() - _last_sweep < SWEEP_EVERY_S:
        return
    _last_sweep = time.monotonic()
    removed = sweep(ctx)
    if removed:
        log.info("upload clean-up: removed %d expired session(s) or partial file(s)",
                 removed)


def sweep(ctx: Context, now: float | None = None) -> int:
    """Remove abandoned and long-finished sessions, and stray partial uploads."""
    now = time.time() if now is None else now
    removed = 0
    for folder in list(_session_folders(ctx)):
        session = _read(folder) or {}
        age = now - folder.stat().st_mtime
        marker = folder / SESSION_FILE
        if marker.exists():
            age = now - marker.stat().st_mtime
        finished = session.get("status") in ("completed", "failed")
        if age > (FINISHED_KEPT_S if finished else ABANDONED_AFTER_S):
            with _lock(folder.name.removeprefix(SESSION_PREFIX)):
                shutil.rmtree(folder, ignore_errors=True)
            removed += 1
    for repo in repositories.all_rows(ctx):
        staging = layout.staging_dir(Path(repo["path"]))
        for stray in staging.glob("upload-*.part"):
            if now - stray.stat().st_mtime > ABANDONED_AFTER_S:
                stray.unlink(missing_ok=True)
                removed += 1
    return removed


def upload_config() -> dict:
    """Chunk size and concurrency for clients, scaled to the memory free now."""
    try:
        free = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError):
        free = 0
    mib = 1 << 20
    if free <= 0:
        chunk, concurrent = 5 * mib, 3
    elif free < 1 << 30:
        chunk, concurrent = 2 * mib, 2
    elif free < 4 << 30:
        chunk, concurrent = 5 * mib, 3
    elif free < 16 << 30:
        chunk, concurrent = 8 * mib, 4
    else:
        chunk, concurrent = 16 * mib, 4
    buffer = min(max(free // 16, 32 * mib), 512 * mib) if free else 100 * mib
    return {"chunk_size": chunk, "max_concurrent": concurrent,
            "memory_buffer": buffer, "merge_concurrency": 1 if free < 2 << 30 else 2,
            "max_in_flight_requests": concurrent}
