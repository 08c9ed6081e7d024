"""Scans: reconcile a repository folder with the catalog.

A scan walks the folder and finds new, changed, moved and vanished files. New and
changed files get (or keep) an asset row and go through the ingest pipeline; a file that
vanished is marked missing (never purged: it may come back, say when a disk is plugged
in again); a new file with the size and hash of exactly one missing file is that file,
moved. The watcher feeds the same reconciliation with the paths it saw change.
"""

from __future__ import annotations

import logging
import os
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from lumilio.context import Context
from lumilio.jobs.queue import register
from lumilio.media.hashing import blake3_file
from lumilio.media.kinds import is_supported_name
from lumilio.pipeline import ingest
from lumilio.services import stacks
from lumilio.timeutil import now_iso

log = logging.getLogger(__name__)

# New rows are written in batches: one transaction per batch keeps a scan of many
# thousands of files from holding the writer for long at a time.
BATCH = 200


@dataclass
class Seen:
    rel: str
    size: int
    mtime: float


@dataclass
class Counts:
    discovered: int = 0
    updated: int = 0
    deleted: int = 0
    skipped: int = 0
    errors: list[str] = field(default_factory=list)


def is_ignored_part(part: str) -> bool:
    """Hidden and system folders or files: never part of the library."""
    return part.startswith(".") or part.startswith("~$") or part == "@eaDir"


def walk(root: Path, counts: Counts) -> dict[str, Seen]:
    """Every supported file under `root`, by repository-relative POSIX path.

    Folders that cannot be read go to `counts.errors`; files whose names cannot be
    kept are skipped and counted.
    """
    found: dict[str, Seen] = {}
    errors = counts.errors

    def on_error(exc: OSError) -> None:
        errors.append(f"{exc.filename}: {exc.strerror}")

    for folder, dirs, files in os.walk(root, onerror=on_error):
        dirs[:] = [d for d in dirs if not is_ignored_part(d)]
        base = Path(folder)
        for name in files:
            if is_ignored_part(name) or not is_supported_name(name):
                continue
            path = base / name
            try:
                st = path.stat()
            except OSError as exc:
                errors.append(f"{path}: {exc.strerror}")
                continue
            rel = path.relative_to(root).as_posix()
            if not _is_text(rel):
                # A name written in an old 8-bit encoding: the catalog keeps paths
                # as UTF-8 text, so it cannot point at this file until renamed.
                shown = os.fsencode(rel).decode("utf-8", "backslashreplace")
                log.warning("skipping '%s' in %s: its name is not valid UTF-8;"
                            " rename the file to import it", shown, root)
                counts.skipped += 1
                continue
            found[rel] = Seen(rel, st.st_size, st.st_mtime)
    return found


def _is_text(name: str) -> bool:
    try:
        name.encode()
    except UnicodeEncodeError:
        return False
    return True


def request_scan(ctx: Context, repository_id: str, mode: str = "manual",
                 force: bool = False, requested_by: str | None = None) -> dict:
    """Record a queued scan and send it to the job queue."""
    scan_id = str(uuid.uuid4())
    ctx.catalog.write(lambda conn: conn.execute(
        "INSERT INTO scans (scan_id, repository_id, mode, requested_by, status,"
        " started_at) VALUES (?, ?, ?, ?, 'queued', ?)",
        (scan_id, repository_id, mode, requested_by, now_iso())))
    job_id = ctx.jobs.enqueue("scan_repository", scan_id=scan_id, force=force)
    return {"job_id": job_id, "repository_id": repository_id, "mode": mode,
            "status": "queued", "scan_id": scan_id}


@register("scan_repository", retries=0)
def run_scan(ctx: Context, scan_id: str, force: bool = False) -> None:
    scan = ctx.catalog.one("SELECT * FROM scans WHERE scan_id = ?", (scan_id,))
    if scan is None or scan["status"] in ("completed", "failed", "cancelled"):
        return
    repo = ctx.catalog.one("SELECT * FROM repositories WHERE repository_id = ?",
                           (scan["repository_id"],))
    if repo is None:
        _finish(ctx, scan_id, "cancelled", Counts(), "repository was removed")
        return

    busy = ctx.catalog.one(
        "SELECT scan_id FROM scans WHERE repository_id = ? AND status = 'running'"
        " AND scan_id != ?", (repo["repository_id"], scan_id))
    if busy is not None:
        _finish(ctx, scan_id, "cancelled", Counts(), "another scan was running")
        return

    ctx.catalog.write(lambda conn: conn.execute(
        "UPDATE scans SET status = 'running', started_at = ? WHERE scan_id = ?",
        (now_iso(), scan_id)))
    started = time.monotonic()
    counts = Counts()
    try:
        root = Path(repo["path"])
        if not root.is_dir():
            raise FileNotFoundError(f"repository folder is missing: {root}")
        seen = walk(root, counts)
        settle = 5.0 if scan["mode"] == "periodic" else 0.0
        reconcile(ctx, repo, seen, counts, force=force, settle=settle,
                  complete_walk=not counts.errors)
    except Exception as exc:
        log.exception("scan of %r failed", repo["name"])
        _finish(ctx, scan_id, "failed", counts, str(exc))
        return

    error = "; ".join(counts.errors[:5]) or None
    _finish(ctx, scan_id, "completed", counts, error)
    log.info(
        "scan of %r: %d new, %d updated, %d missing, %d skipped in %.1fs",
        repo["name"], counts.discovered, counts.updated, counts.deleted,
        counts.skipped, time.monotonic() - started)
    # Queued below the files' own processing, so it runs once their metadata is in.
    stacks.request_detection(ctx, repo["repository_id"])


def _finish(ctx: Context, scan_id: str, status: str, counts: Counts,
            error: str | None) -> None:
    ctx.catalog.write(lambda conn: conn.execute(
        "UPDATE scans SET status = ?, finished_at = ?, discovered_count = ?,"
        " updated_count = ?, deleted_count = ?, skipped_count = ?, error = ?"
        " WHERE scan_id = ?",
        (status, now_iso(), counts.discovered, counts.updated, counts.deleted,
         counts.skipped, error, scan_id)))


def reconcile(ctx: Context, repo: dict, seen: dict[str, Seen], counts: Counts,
              *, force: bool = False, settle: float = 0.0,
              complete_walk: bool = True, only: set[str] | None = None) -> None:
    """Bring the catalog in line with `seen`.

    `only` limits the comparison to those paths (the watcher's view); otherwise every
    known path that was not seen is considered vanished, unless the walk was incomplete.
    """
    known = {
        row["storage_path"]: row
        for row in ctx.catalog.all(
            "SELECT asset_id, storage_path, file_size, file_mtime, hash, is_missing,"
            " is_deleted FROM assets WHERE repository_id = ?",
            (repo["repository_id"],))
    }
    scope = known.keys() if only is None else (only & known.keys())
    vanished = [known[p] for p in scope if p not in seen and not known[p]["is_missing"]]
    # Candidates for a move: files gone now, and files already missing before.
    missing = [r for r in known.values() if r["is_missing"]] + vanished
    moved_ids: set[str] = set()

    now = time.time()
    new: list[Seen] = []
    for rel, item in seen.items():
        if settle and now - item.mtime < settle:
            counts.skipped += 1
            continue
        row = known.get(rel)
        if row is None:
            moved = _find_moved(Path(repo["path"]), item, missing)
            if moved is not None:
                _record_move(ctx, moved, item)
                missing.remove(moved)
                moved_ids.add(moved["asset_id"])
                counts.updated += 1
            else:
                new.append(item)
            continue
        changed = (row["file_size"] != item.size
                   or abs((row["file_mtime"] or 0) - item.mtime) > 1.0)
        if force or changed or row["is_missing"]:
            ingest.reset_for_reprocess(ctx, row["asset_id"], item.size, item.mtime)
            counts.updated += 1

    # An incomplete walk (a folder that could not be read) proves nothing about
    # what is gone, so nothing is marked missing then.
    if only is not None or complete_walk:
        _mark_missing(ctx, [r for r in vanished if r["asset_id"] not in moved_ids],
                      counts)

    for start in range(0, len(new), BATCH):
        batch = new[start:start + BATCH]
        created = ingest.create_assets(ctx, repo, [
            ingest.NewFile(rel=s.rel, size=s.size, mtime=s.mtime) for s in batch])
        counts.discovered += created


def _mark_missing(ctx: Context, rows: list[dict], counts: Counts) -> None:
    if not rows:
        return
    stamp = now_iso()
    ids = [(stamp, r["asset_id"]) for r in rows]
    ctx.catalog.write(lambda conn: conn.executemany(
        "UPDATE assets SET is_missing = 1, updated_at = ? WHERE asset_id = ?", ids))
    counts.deleted += len(rows)
    for row in rows[:20]:
        log.info("file missing from its folder (kept in the catalog): %s",
                 row["storage_path"])


def _find_moved(root: Path, item: Seen, missing: list[dict]) -> dict | None:
    same_size = [r for r in missing if r["file_size"] == item.size and r["hash"]]
    if not same_size:
        return None
    try:
        digest = blake3_file(root / item.rel)
    except OSError:
        return None
    matches = [r for r in same_size if r["hash"] == digest]
    return matches[0] if len(matches) == 1 else None


def _record_move(ctx: Context, row: dict, item: Seen) -> None:
    filename = PurePosixPath(item.rel).name
    ctx.catalog.write(lambda conn: conn.execute(
        "UPDATE assets SET storage_path = ?, original_filename = ?, is_missing = 0,"
        " file_mtime = ?, updated_at = ? WHERE asset_id = ?",
        (item.rel, filename, item.mtime, now_iso(), row["asset_id"])))
    log.info("file moved: %s -> %s", row["storage_path"], item.rel)


def scan_paths(ctx: Context, repo: dict, rels: set[str]) -> Counts:
    """Reconcile only these repository-relative paths (what the watcher saw change)."""
    root = Path(repo["path"])
    counts = Counts()
    seen: dict[str, Seen] = {}
    for rel in rels:
        parts = PurePosixPath(rel).parts
        if not parts or any(is_ignored_part(p) for p in parts) \
                or not is_supported_name(parts[-1]):
            continue
        path = root / rel
        try:
            st = path.stat()
        except OSError:
            continue
        if path.is_file():
            seen[rel] = Seen(rel, st.st_size, st.st_mtime)
    reconcile(ctx, repo, seen, counts, only=set(rels))
    return counts


@register("import_paths", retries=1)
def run_import_paths(ctx: Context, repository_id: str, paths: list[str]) -> None:
    repo = ctx.catalog.one("SELECT * FROM repositories WHERE repository_id = ?",
                           (repository_id,))
    if repo is None:
        return
    counts = scan_paths(ctx, repo, set(paths))
    if counts.discovered or counts.updated or counts.deleted:
        log.info("watcher in %r: %d new, %d updated, %d missing", repo["name"],
                 counts.discovered, counts.updated, counts.deleted)


def requeue_interrupted_scans(ctx: Context) -> None:
    """Scans left running by a previous process: their job runs again from scratch."""
    ctx.catalog.write(lambda conn: conn.execute(
        "UPDATE scans SET status = 'queued' WHERE status = 'running'"))

