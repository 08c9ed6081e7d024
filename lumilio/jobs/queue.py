"""Background jobs: huey on its own SQLite file, with a history in the catalog.

Huey holds the queue and runs the workers inside the server process. Every job is also
a row of the catalog's `jobs` table, which records its state (available, running,
completed, retryable, discarded) for the queue pages of the API, and which makes a
restart safe: huey removes a message from its queue when a worker takes it, so a job
that was running when the process died exists only as a `running` row. At start every
row that is not finished and not in huey's queue any more is queued again. Handlers are
therefore written to be safe to run twice.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from huey import SqliteHuey, crontab
from huey.consumer import Consumer
from huey.exceptions import RetryTask

from lumilio.catalog.db import Catalog, dumps, loads
from lumilio.timeutil import iso, now, now_iso

log = logging.getLogger(__name__)

Handler = Callable[..., Any]

# Kinds and their handlers, filled by `register` at import of the pipeline modules.
_HANDLERS: dict[str, Handler] = {}
_RETRIES: dict[str, int] = {}
_PRIORITIES: dict[str, int] = {}

UNFINISHED = ("available", "running", "retryable", "scheduled")

# How long finished rows stay in the history. Every imported file leaves a few rows,
# so without pruning the table grows with the library; failures stay longer, for the
# person who comes to look at what went wrong.
KEEP_FINISHED = {"completed": timedelta(days=1), "cancelled": timedelta(days=1),
                 "discarded": timedelta(days=7)}


def register(kind: str, retries: int = 2,
             priority: int = 0) -> Callable[[Handler], Handler]:
    """Declare `fn(ctx, **args)` as the handler of jobs of this kind.

    Workers take waiting jobs of a higher `priority` first. A handler may raise
    huey's `RetryTask(delay=...)` to be run again later without it counting as a
    failure (say, when a resource it needs is busy).
    """

    def decorator(fn: Handler) -> Handler:
        _HANDLERS[kind] = fn
        _RETRIES[kind] = retries
        _PRIORITIES[kind] = priority
        return fn

    return decorator


class _InProcessConsumer(Consumer):
    # The server owns the process's signals (Ctrl-C stops hypercorn, which stops us).
    def _set_signal_handlers(self) -> None:
        pass


class JobQueue:
    def __init__(self, catalog: Catalog, path: Path, workers: int):
        self.catalog = catalog
        self.workers = workers
        self.context: Any = None
        self.huey = SqliteHuey("lumilio", filename=str(path), results=False, utc=True)
        self._task = self.huey.task(context=True, name="run_job")(self._run)
        self.huey.periodic_task(crontab(minute="*/30"), name="prune_jobs")(
            self.prune)
        self._consumer: Consumer | None = None
        self._lock = threading.Lock()

    # -- queueing -----------------------------------------------------------------

    def enqueue(self, kind: str, **args: Any) -> int:
        if kind not in _HANDLERS:
            raise ValueError(f"unknown job kind {kind!r}")

        def insert(conn) -> int:
            conn.execute(
                "INSERT INTO jobs (kind, queue, args, state, max_attempts, created_at,"
                " scheduled_at) VALUES (?, ?, ?, 'available', ?, ?, ?)",
                (kind, kind, dumps(args), _RETRIES[kind] + 1, now_iso(), now_iso()),
            )
            return conn.last_insert_rowid()

        job_id = self.catalog.write(insert)
        self._send(job_id, kind)
        return job_id

    def _send(self, job_id: int, kind: str) -> None:
        task = self._task.s(job_id)
        task.retries = _RETRIES[kind]
        task.retry_delay = 2
        task.priority = _PRIORITIES.get(kind) or None
        # The task id is recorded first: if the process dies right after, `recover`
        # sees a row whose task is not in huey's queue and sends it again.
        self.catalog.write(lambda conn: conn.execute(
            "UPDATE jobs SET task_id = ? WHERE job_id = ?", (task.id, job_id)))
        self.huey.enqueue(task)

    # -- running ------------------------------------------------------------------

    def _run(self, job_id: int, task=None) -> None:
        job = self.catalog.one("SELECT * FROM jobs WHERE job_id = ?", (job_id,))
        if job is None or job["state"] in ("completed", "discarded", "cancelled"):
            return
        attempt = job["attempt"] + 1
        self.catalog.write(lambda conn: conn.execute(
            "UPDATE jobs SET state = 'running', attempt = ?, attempted_at = ?"
            " WHERE job_id = ?", (attempt, now_iso(), job_id)))

        handler = _HANDLERS[job["kind"]]
        started = time.monotonic()
        try:
            handler(self.context, **loads(job["args"], {}))
        except RetryTask:
            # Not a failure: huey runs it again after the delay the handler chose.
            self._finish(job_id, "scheduled", None)
            raise
        except Exception as exc:
            retries_left = task.retries if task is not None else 0
            state = "retryable" if retries_left > 0 else "discarded"
            log.exception("job %d (%s) failed on attempt %d", job_id, job["kind"],
                          attempt)
            self._finish(job_id, state, f"{type(exc).__name__}: {exc}")
            raise
        self._finish(job_id, "completed", None)
        log.debug("job %d (%s) done in %.2fs", job_id, job["kind"],
                  time.monotonic() - started)

    def _finish(self, job_id: int, state: str, error: str | None) -> None:
        final = state in ("completed", "discarded")
        self.catalog.write(lambda conn: conn.execute(
            "UPDATE jobs SET state = ?, last_error = COALESCE(?, last_error),"
            " finalized_at = ? WHERE job_id = ?",
            (state, error, now_iso() if final else None, job_id)))

    # -- lifecycle ----------------------------------------------------------------

    def start(self, context: Any) -> None:
        self.context = context
        self.recover()
        self.prune()
        self._consumer = _InProcessConsumer(
            self.huey, workers=self.workers, worker_type="thread", periodic=True,
            initial_delay=0.05, backoff=1.5, max_delay=0.5,
            check_worker_health=False, shutdown_timeout=30,
        )
        self._consumer.start()

    @property
    def stopping(self) -> bool:
        """Whether the server is shutting down: a long job should put itself back
        (raise RetryTask) rather than hold the shutdown up."""
        return self._consumer is not None and self._consumer.stop_flag.is_set()

    def stop(self) -> None:
        if self._consumer is not None:
            self._consumer.stop(graceful=True)
            self._consumer = None

    def recover(self) -> int:
        """Queue again the jobs that a previous run left unfinished."""
        waiting = {task.id for task in self.huey.pending()}
        waiting |= {task.id for task in self.huey.scheduled()}
        rows = self.catalog.all(
            "SELECT job_id, kind, task_id FROM jobs WHERE state IN (?, ?, ?, ?)",
            UNFINISHED,
        )
        lost = [r for r in rows if r["task_id"] not in waiting]
        for row in lost:
            if row["kind"] not in _HANDLERS:
                self._finish(row["job_id"], "discarded", "unknown job kind")
                continue
            self.catalog.write(lambda conn, r=row: conn.execute(
                "UPDATE jobs SET state = 'available' WHERE job_id = ?", (r["job_id"],)))
            self._send(row["job_id"], row["kind"])
        if lost:
            log.info("resuming %d interrupted job(s) from the last run", len(lost))
        return len(lost)

    def prune(self, at: datetime | None = None) -> int:
        """Forget finished jobs older than their state's keeping time."""
        at = at or now()

        def delete(conn) -> int:
            removed = 0
            for state, keep in KEEP_FINISHED.items():
                conn.execute(
                    "DELETE FROM jobs WHERE state = ? AND finalized_at < ?",
                    (state, iso(at - keep)))
                removed += conn.changes()
            return removed

        removed = self.catalog.write(delete)
        if removed:
            log.debug("forgot %d finished job(s) from the history", removed)
        return removed

    # -- statistics ---------------------------------------------------------------

    def counts(self) -> dict[str, int]:
        rows = self.catalog.all("SELECT state, COUNT(*) AS n FROM jobs GROUP BY state")
        out = dict.fromkeys(
            ("available", "cancelled", "completed", "discarded", "retryable",
             "running", "scheduled"), 0)
        for row in rows:
            out[row["state"]] = row["n"]
        return out
