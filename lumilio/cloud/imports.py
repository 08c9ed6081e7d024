"""Import runs: a cloud account's files brought into a repository by a queued job.

A run lists the remote library, then takes its items one by one. An item an
earlier run brought in, unchanged since (same remote id and version), is skipped
without a download. Any other is downloaded into the repository's staging folder,
verified (its size, and the checksum where the service gives one) and committed by
the ingest pipeline exactly as an upload is: placed in `inbox/` by the repository's
storage strategy, and recognised by its content hash when the same bytes are already
there under any name.

Each item's outcome is written together with the run's counters, in one
transaction. A run interrupted by a restart is taken up again by the job queue and
goes on where it stopped: what it had counted stays counted, and an item caught
in the middle of its commit is settled by its content hash. One item that fails
is recorded with its reason and the run goes on; a remote that disappears, an
account that is refused or a service that stops answering ends the run `failed`,
keeping what it imported. So does an account disconnected or removed while the
run goes: the run looks between items, and again before each commit, and stops
there; after a reconnect, the next run goes on from where it stopped.
"""

from __future__ import annotations

import logging
import os
import time
import uuid
from pathlib import Path

from huey.exceptions import RetryTask

from lumilio.cloud import credentials
from lumilio.cloud.providers.base import (
    CloudError,
    ItemGone,
    Library,
    RemoteGone,
    RemoteItem,
    SessionExpired,
    SignInRefused,
    Unreachable,
)
from lumilio.context import Context
from lumilio.errors import ApiError, BadRequest, NotFound
from lumilio.jobs.queue import register
from lumilio.library import layout, placement
from lumilio.media.errors import MediaError
from lumilio.media.kinds import is_supported_name
from lumilio.pipeline import ingest
from lumilio.services import assets, repositories
from lumilio.timeutil import api, now_iso

log = logging.getLogger(__name__)

KIND = "cloud_import"
ACTIVE = ("queued", "running")
FINAL = ("completed", "failed", "cancelled")
LISTING_SAVED_EVERY = 200
ITEM_ERRORS_SHOWN = 50
_COUNTERS = ("downloaded", "imported", "skipped", "failed")


# -- what the API shows ---------------------------------------------------------------


def run_dto(ctx: Context, row: dict) -> dict:
    out = {
        "id": row["run_id"], "repository_id": row["repository_id"],
        "provider": row["provider"], "status": row["status"],
        "total_seen": row["total_seen"],
        "downloaded_count": row["downloaded_count"],
        "imported_count": row["imported_count"],
        "skipped_count": row["skipped_count"], "failed_count": row["failed_count"],
        "created_at": api(row["created_at"]), "updated_at": api(row["updated_at"]),
    }
    for key in ("credential_id", "error"):
        if row[key]:
            out[key] = row[key]
    for key in ("started_at", "finished_at"):
        if row[key]:
            out[key] = api(row[key])
    # Skipped counts both files already imported and files that are not media;
    # the items' records tell them apart, so the page can say which.
    out["unsupported_count"] = ctx.catalog.one(
        "SELECT COUNT(*) AS n FROM cloud_import_items WHERE run_id = ?"
        " AND state = 'unsupported'", (row["run_id"],))["n"]
    if row["failed_count"]:
        # Beside the document's fields: which items failed, and why.
        out["item_errors"] = [
            {"remote_id": r["remote_id"], "name": r["name"], "error": r["error"]}
            for r in ctx.catalog.all(
                "SELECT remote_id, name, error FROM cloud_import_items"
                " WHERE run_id = ? AND state = 'failed' ORDER BY remote_id LIMIT ?",
                (row["run_id"], ITEM_ERRORS_SHOWN))]
    return out


def get_run(ctx: Context, run_id: str) -> dict:
    row = ctx.catalog.one("SELECT * FROM cloud_import_runs WHERE run_id = ?",
                          (run_id,))
    if row is None:
        raise NotFound("Import run not found")
    return run_dto(ctx, row)


def bound_credential(ctx: Context, repository_id: str) -> dict | None:
    return ctx.catalog.one(
        "SELECT c.* FROM cloud_bindings b JOIN cloud_credentials c"
        " USING (credential_id) WHERE b.repository_id = ?", (repository_id,))


def repository_status(ctx: Context, repository_id: str) -> dict:
    """`GET /repositories/{id}/cloud`: the bound account and the latest run."""
    repo = repositories.get_row(ctx, repository_id)
    credential = bound_credential(ctx, repo["repository_id"])
    latest = ctx.catalog.one(
        "SELECT * FROM cloud_import_runs WHERE repository_id = ?"
        " ORDER BY created_at DESC LIMIT 1", (repo["repository_id"],))

    out: dict = {"enabled": credential is not None}
    if credential is not None:
        out["provider"] = credential["provider"]
        out["credential"] = credentials.dto(credential)
    if latest is not None:
        out["last_import_run_id"] = latest["run_id"]
        out["latest_run"] = run_dto(ctx, latest)
    return out


# -- starting -------------------------------------------------------------------------


def bind(ctx: Context, repository_id: str, credential_id: str) -> None:
    ctx.catalog.write(lambda conn: conn.execute(
        "INSERT OR REPLACE INTO cloud_bindings (repository_id, credential_id,"
        " created_at) VALUES (?, ?, ?)", (repository_id, credential_id, now_iso())))


def start(ctx: Context, repository_id: str, requested_by: str | None) -> dict:
    """Queue an import of the repository's account; an import already queued or
    running is answered instead of starting a second one."""
    repo = repositories.get_row(ctx, repository_id)
    credential = bound_credential(ctx, repo["repository_id"])
    if credential is None:
        raise BadRequest("This repository has no cloud account",
                         "only a repository created with cloud_credential_id "
                         "imports from the cloud")
    if credential["status"] != "connected":
        raise BadRequest("The cloud account is not connected",
                         f"{credential['display_name']} is "
                         f"{credential['status'].replace('_', ' ')}: reconnect it "
                         "first")

    run_id = str(uuid.uuid4())

    def insert(conn) -> tuple[str, bool]:
        stamp = now_iso()
        running = conn.execute(
            "SELECT r.run_id, j.state AS job_state FROM cloud_import_runs r"
            " LEFT JOIN jobs j USING (job_id) WHERE r.repository_id = ? AND"
            " r.status IN (?, ?) ORDER BY r.created_at DESC LIMIT 1",
            (repo["repository_id"], *ACTIVE)).fetchall()
        if running and running[0]["job_state"] not in ("completed", "discarded"):
            return running[0]["run_id"], False
        if running:
            # Its job ended without finishing it (it failed past its retries).
            conn.execute(
                "UPDATE cloud_import_runs SET status = 'failed', error = ?,"
                " finished_at = ?, updated_at = ? WHERE run_id = ?",
                ("The import stopped unexpectedly; see the server log", stamp,
                 stamp, running[0]["run_id"]))
        conn.execute(
            "INSERT INTO cloud_import_runs (run_id, repository_id, credential_id,"
            " provider, status, requested_by, created_at, updated_at)"
            " VALUES (?, ?, ?, ?, 'queued', ?, ?, ?)",
            (run_id, repo["repository_id"], credential["credential_id"],
             credential["provider"], requested_by, stamp, stamp))
        return run_id, True

    found, created = ctx.catalog.write(insert)
    if created:
        job_id = ctx.jobs.enqueue(KIND, run_id=found)
        ctx.catalog.write(lambda conn: conn.execute(
            "UPDATE cloud_import_runs SET job_id = ? WHERE run_id = ?",
            (job_id, found)))
        log.info("cloud import into %r from %s queued", repo["name"],
                 credential["masked_identity"])
    return get_run(ctx, found)


def start_for_new_repository(ctx: Context, repository_id: str, credential_id: str,
                             requested_by: str) -> dict:
    """Bind a just-created repository and start its first import: the fields of
    the `POST /repositories` answer that say how that went."""
    bind(ctx, repository_id, credential_id)
    try:
        run = start(ctx, repository_id, requested_by)
    except BadRequest as exc:
        return {"cloud_import_error": exc.detail or exc.message}
    return {"cloud_import_run_id": run["id"]}


# -- the job --------------------------------------------------------------------------


@register(KIND, retries=2, priority=-1)
def run_import(ctx: Context, run_id: str) -> None:
    run = ctx.catalog.one("SELECT * FROM cloud_import_runs WHERE run_id = ?",
                          (run_id,))
    if run is None or run["status"] in FINAL:
        return
    repo = ctx.catalog.one("SELECT * FROM repositories WHERE repository_id = ?",
                           (run["repository_id"],))
    if repo is None:
        return
    _Import(ctx, run, repo).run()


class _Abandoned(Exception):
    """The run is no longer wanted: its repository was unregistered."""


class _Stopped(Exception):
    """The account was disconnected or removed while the run went; `str()` says
    which, for the run's error."""


class _Import:
    """One attempt at a run: a fresh one, or one resumed after a restart."""

    def __init__(self, ctx: Context, run: dict, repo: dict):
        self.ctx = ctx
        self.run_id = run["run_id"]
        self.credential_id = run["credential_id"]
        self.repo = repo
        self.who = ""
        self.started = time.monotonic()

    def run(self) -> None:
        credential = self._credential()
        if credential is None:
            self._finish("failed", "The cloud account was removed")
            return
        if credential["status"] != "connected":
            self._finish("failed", f"The cloud account is "
                         f"{credential['status'].replace('_', ' ')}")
            return
        self.who = credential["masked_identity"]
        self._mark_running()

        try:
            library = credentials.open_library(self.ctx, credential)
        except (CloudError, ApiError) as exc:
            self._fail(exc)
            return
        try:
            self._import_all(library)
        except RetryTask:
            raise
        except _Abandoned:
            log.info("cloud import %s stopped: its repository was unregistered",
                     self.run_id)
        except _Stopped as exc:
            self._finish("failed", str(exc))
        except CloudError as exc:
            self._fail(exc)
        except Exception as exc:
            log.exception("cloud import %s into %r stopped by an unexpected error",
                          self.run_id, self.repo["name"])
            self._finish("failed", f"Unexpected error: {type(exc).__name__}: {exc}")
        else:
            self._finish("completed", None)
        finally:
            library.close()

    def _import_all(self, library: Library) -> None:
        items = self._list(library)
        for item in items:
            if self.ctx.jobs.stopping:
                log.info("cloud import into %r pauses for the shutdown; it goes on "
                         "at the next start", self.repo["name"])
                raise RetryTask(delay=1)
            self._check_still_wanted()
            try:
                self._import_one(library, item)
            except (RemoteGone, SignInRefused, SessionExpired, Unreachable,
                    _Stopped, _Abandoned):
                raise
            except CloudError as exc:
                self._save(item, "failed", failed=1, error=str(exc))
            except Exception as exc:
                # One bad item never stops the others.
                log.exception("cloud import: %s failed", item.remote_id)
                self._save(item, "failed", failed=1,
                           error=f"{type(exc).__name__}: {exc}")

    def _list(self, library: Library) -> list[RemoteItem]:
        found: dict[str, RemoteItem] = {}
        for item in library.items():
            found[item.remote_id] = item
            if len(found) % LISTING_SAVED_EVERY == 0:
                self._set_seen(len(found))
        self._set_seen(len(found))
        log.info("cloud import into %r: %d item(s) found at %s", self.repo["name"],
                 len(found), self.who)
        return sorted(found.values(), key=lambda i: i.remote_id)

    # -- one item -----------------------------------------------------------------

    def _import_one(self, library: Library, item: RemoteItem) -> None:
        record = self.ctx.catalog.one(
            "SELECT * FROM cloud_import_items WHERE repository_id = ? AND"
            " credential_id = ? AND remote_id = ?",
            (self.repo["repository_id"], self.credential_id, item.remote_id))
        if record is not None and record["state"] == "committing":
            if self._settle(item, record):
                return
            record = None
        if record is not None and record["run_id"] == self.run_id:
            return  # done, and counted, before this run was interrupted
        if item.refused:
            self._save(item, "failed", failed=1, error=item.refused)
            return
        if record is not None and record["state"] in ("imported", "duplicate") \
                and record["version"] == item.version:
            self._save(item, record["state"], skipped=1, asset_id=record["asset_id"],
                       content_hash=record["content_hash"], size=record["size"])
            return
        if not is_supported_name(item.name):
            self._save(item, "unsupported", skipped=1,
                       error="not a photo, video or audio file")
            return

        try:
            staged, content_hash = self._download(library, item)
        except ItemGone as exc:
            library.check()  # the whole folder or bucket may have gone with it
            self._save(item, "failed", failed=1, error=str(exc))
            return
        except ApiError as exc:  # the staged file's size limit
            self._save(item, "failed", failed=1, error=exc.detail or exc.message)
            return

        # A download takes time; the account may have gone meanwhile.
        try:
            self._check_still_wanted()
        except BaseException:
            staged.discard()
            raise
        self._commit(item, staged, content_hash)

    def _download(self, library: Library,
                  item: RemoteItem) -> tuple[assets.StagedUpload, str]:
        staged = assets.StagedUpload(self.repo, self.ctx.config.max_upload_mb << 20)
        try:
            library.download(item, staged)
        except BaseException:
            staged.discard()
            raise
        content_hash = staged.finish()
        if item.size is not None and staged.size != item.size:
            staged.discard()
            raise CloudError(f"received {staged.size} bytes where the service "
                             f"announced {item.size}")
        return staged, content_hash

    def _commit(self, item: RemoteItem, staged: assets.StagedUpload,
                content_hash: str) -> None:
        if staged.size == 0:
            staged.discard()
            self._save(item, "failed", downloaded=1, failed=1,
                       error="the file is empty")
            return
        name = placement.safe_filename(item.name, fallback="cloud-item")
        staged.take_extension(name)
        if item.modified is not None:
            # The file keeps the time the service gives it, as a copy would.
            stamp = item.modified.timestamp()
            os.utime(staged.path, (stamp, stamp))
        self._save(item, "committing", content_hash=content_hash, size=staged.size,
                   staging_file=staged.path.name)

        try:
            asset_id, job_id = ingest.create_uploaded_asset(
                self.ctx, self.repo, staged.path, name, content_hash,
                self.repo["default_owner_id"])
        except MediaError as exc:
            staged.discard()
            self._save(item, "failed", downloaded=1, failed=1,
                       error=f"not a readable photo, video or audio file: {exc}")
            return
        state = "imported" if job_id is not None else "duplicate"
        self._save(item, state, downloaded=1, asset_id=asset_id,
                   content_hash=content_hash, size=staged.size,
                   **({"imported": 1} if job_id is not None else {"skipped": 1}))
        log.debug("cloud import: %s %s", item.remote_id, state)

    def _settle(self, item: RemoteItem, record: dict) -> bool:
        """An item the process stopped in the middle of committing: did the asset
        make it? True when it did and the item is now recorded as such."""
        asset = self.ctx.catalog.one(
            "SELECT asset_id, upload_time FROM assets WHERE repository_id = ? AND"
            " hash = ? AND is_deleted = 0 AND owner_id IS ? LIMIT 1",
            (self.repo["repository_id"], record["content_hash"],
             self.repo["default_owner_id"]))
        if record["staging_file"]:
            staging = layout.staging_dir(Path(self.repo["path"]))
            (staging / Path(record["staging_file"]).name).unlink(missing_ok=True)
        if asset is None:
            return False
        # An asset made after the item was marked is this item's own import.
        ours = asset["upload_time"] >= record["updated_at"]
        self._save(item, "imported" if ours else "duplicate", downloaded=1,
                   asset_id=asset["asset_id"], content_hash=record["content_hash"],
                   size=record["size"], **({"imported": 1} if ours
                                           else {"skipped": 1}))
        return True

    # -- the catalog --------------------------------------------------------------

    def _save(self, item: RemoteItem, state: str, *, asset_id: str | None = None,
              content_hash: str | None = None, size: int | None = None,
              error: str | None = None, staging_file: str | None = None,
              **counts: int) -> None:
        """The item's outcome and the run's counters, in one transaction."""
        stamp = now_iso()
        added = [counts.get(name, 0) for name in _COUNTERS]
        if state == "failed":
            log.warning("cloud import into %r: %s: %s", self.repo["name"],
                        item.remote_id, error)

        def write(conn) -> None:
            # An account (or repository) removed since the last look takes its
            # items' records with it, and would refuse new ones; the run still
            # counts what it did.
            if self._still_recorded(conn):
                self._record(conn, item, state, asset_id, content_hash, size, error,
                             staging_file, stamp)
            conn.execute(
                "UPDATE cloud_import_runs SET downloaded_count = downloaded_count"
                " + ?, imported_count = imported_count + ?, skipped_count ="
                " skipped_count + ?, failed_count = failed_count + ?, updated_at = ?"
                " WHERE run_id = ?", (*added, stamp, self.run_id))

        self.ctx.catalog.write(write)

    def _still_recorded(self, conn) -> bool:
        return bool(conn.execute(
            "SELECT 1 FROM cloud_credentials c, repositories r"
            " WHERE c.credential_id = ? AND r.repository_id = ?",
            (self.credential_id, self.repo["repository_id"])).fetchall())

    def _record(self, conn, item: RemoteItem, state: str, asset_id: str | None,
                content_hash: str | None, size: int | None, error: str | None,
                staging_file: str | None, stamp: str) -> None:
        conn.execute(
            "INSERT INTO cloud_import_items (repository_id, credential_id,"
            " remote_id, name, version, state, run_id, asset_id, content_hash,"
            " size, error, staging_file, updated_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (repository_id, credential_id, remote_id) DO UPDATE SET"
            " name = excluded.name, version = excluded.version,"
            " state = excluded.state, run_id = excluded.run_id,"
            " asset_id = excluded.asset_id, content_hash = excluded.content_hash,"
            " size = excluded.size, error = excluded.error,"
            " staging_file = excluded.staging_file,"
            " updated_at = excluded.updated_at",
            (self.repo["repository_id"], self.credential_id, item.remote_id,
             item.name, item.version, state, self.run_id, asset_id,
             content_hash, size if size is not None else item.size, error,
             staging_file, stamp))

    def _credential(self) -> dict | None:
        if self.credential_id is None:
            return None
        return self.ctx.catalog.one(
            "SELECT * FROM cloud_credentials WHERE credential_id = ?",
            (self.credential_id,))

    def _check_still_wanted(self) -> None:
        """Between items and before each commit: stop when the repository was
        unregistered, or the account disconnected or removed, since the start."""
        if self.ctx.catalog.one("SELECT 1 AS x FROM cloud_import_runs WHERE"
                                " run_id = ?", (self.run_id,)) is None:
            raise _Abandoned()  # the repository was unregistered, its runs too
        credential = self._credential()
        if credential is None:
            raise _Stopped("The cloud account was removed during the import; the "
                           "files it imported are kept")
        if credential["status"] == "disconnected":
            raise _Stopped("The cloud account was disconnected during the import; "
                           "the files it imported are kept, and an import after "
                           "reconnecting goes on from there")
        if credential["status"] != "connected":
            raise _Stopped(f"The cloud account is "
                           f"{credential['status'].replace('_', ' ')}: the import "
                           "stopped, keeping the files it imported; reconnect the "
                           "account to go on")

    def _mark_running(self) -> None:
        stamp = now_iso()
        self.ctx.catalog.write(lambda conn: conn.execute(
            "UPDATE cloud_import_runs SET status = 'running', started_at ="
            " COALESCE(started_at, ?), updated_at = ? WHERE run_id = ?",
            (stamp, stamp, self.run_id)))

    def _set_seen(self, count: int) -> None:
        self.ctx.catalog.write(lambda conn: conn.execute(
            "UPDATE cloud_import_runs SET total_seen = ?, updated_at = ?"
            " WHERE run_id = ?", (count, now_iso(), self.run_id)))

    def _fail(self, exc: Exception) -> None:
        if isinstance(exc, (SignInRefused, SessionExpired)) and self.credential_id:
            credentials.mark_refused(self.ctx, self.credential_id, str(exc))
        message = (exc.detail or exc.message) if isinstance(exc, ApiError) \
            else str(exc)
        self._finish("failed", message)

    def _finish(self, status: str, error: str | None) -> None:
        stamp = now_iso()
        self.ctx.catalog.write(lambda conn: conn.execute(
            "UPDATE cloud_import_runs SET status = ?, error = ?, finished_at = ?,"
            " updated_at = ? WHERE run_id = ?",
            (status, error, stamp, stamp, self.run_id)))
        run = self.ctx.catalog.one("SELECT * FROM cloud_import_runs WHERE run_id = ?",
                                   (self.run_id,)) or {}
        summary = (f"{run.get('total_seen', 0)} seen, "
                   f"{run.get('imported_count', 0)} imported, "
                   f"{run.get('skipped_count', 0)} skipped, "
                   f"{run.get('failed_count', 0)} failed")
        if status == "completed":
            log.info("cloud import into %r completed in %.1fs: %s", self.repo["name"],
                     time.monotonic() - self.started, summary)
        else:
            log.warning("cloud import into %r %s: %s (%s)", self.repo["name"], status,
                        error, summary)
