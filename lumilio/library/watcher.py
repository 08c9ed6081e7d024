"""Watch repository folders and import what lands in them.

A file is imported only once it has stopped changing: every change resets its clock,
and it is handed over when its size and modification time stayed the same for the
settle time. A file still being copied in chunks is therefore never imported
half-written. Ready files are handed to the job queue in batches, so a burst of
thousands of files becomes a few jobs, not thousands of scans.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from watchfiles import Change, watch

from lumilio.context import Context
from lumilio.library.scanner import is_ignored_part
from lumilio.media.kinds import is_supported_name

log = logging.getLogger(__name__)

BATCH = 500


@dataclass
class _Pending:
    repository_id: str
    rel: str
    last_change: float
    signature: tuple[int, float] | None


class Watcher:
    def __init__(self, ctx: Context, settle: float = 2.0):
        self.ctx = ctx
        self.settle = settle
        self._pending: dict[Path, _Pending] = {}
        self._stop = threading.Event()
        self._reload = threading.Event()
        self._thread: threading.Thread | None = None
        self._roots: dict[Path, str] = {}

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="watcher", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._reload.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def reload(self) -> None:
        """The set of repositories changed: watch the new set."""
        self._reload.set()

    # -- the loop -----------------------------------------------------------------

    def _run(self) -> None:
        while not self._stop.is_set():
            self._reload.clear()
            self._roots = {
                Path(r["path"]): r["repository_id"]
                for r in self.ctx.catalog.all("SELECT * FROM repositories")
                if Path(r["path"]).is_dir()
            }
            if not self._roots:
                self._reload.wait(5)
                continue
            log.info("watching %d folder(s) for new files", len(self._roots))
            try:
                for changes in watch(
                    *self._roots, watch_filter=self._wanted, stop_event=self._reload,
                    debounce=300, step=100, rust_timeout=500, yield_on_timeout=True,
                    raise_interrupt=False,
                ):
                    self._note(changes)
                    self._hand_over()
            except Exception as exc:
                # A folder that vanished or a notifier error: log it, wait, start over
                # rather than leaving the library unwatched.
                if "decode path" in str(exc):
                    # The notifier gives up on a name that is not UTF-8; the scan
                    # skips such files and says so.
                    log.warning("folder watcher: %s; restarting in 5 s", exc)
                else:
                    log.exception("folder watcher failed; restarting in 5 s")
                self._stop.wait(5)

    def _wanted(self, change: Change, path: str) -> bool:
        parts = Path(path).parts
        return not any(is_ignored_part(p) for p in parts[-12:])

    def _owner(self, path: Path) -> tuple[Path, str] | None:
        for root, repository_id in self._roots.items():
            if path.is_relative_to(root):
                return root, repository_id
        return None

    def _note(self, changes: set[tuple[Change, str]]) -> None:
        now = time.monotonic()
        for change, raw in changes:
            path = Path(raw)
            owner = self._owner(path)
            if owner is None:
                continue
            root, repository_id = owner
            if change != Change.deleted and path.is_dir():
                # A folder moved in arrives as one event: its files are the news.
                for child in path.rglob("*"):
                    if child.is_file():
                        self._remember(root, repository_id, child, now)
                continue
            if change == Change.deleted or is_supported_name(path.name):
                self._remember(root, repository_id, path, now)

    def _remember(self, root: Path, repository_id: str, path: Path,
                  now: float) -> None:
        rel = path.relative_to(root).as_posix()
        if any(is_ignored_part(p) for p in Path(rel).parts):
            return
        self._pending[path] = _Pending(repository_id, rel, now, _signature(path))

    def _hand_over(self) -> None:
        now = time.monotonic()
        ready: dict[str, list[str]] = {}
        for path, item in list(self._pending.items()):
            signature = _signature(path)
            if signature != item.signature:
                item.signature, item.last_change = signature, now
                continue
            if now - item.last_change < self.settle and signature is not None:
                continue
            ready.setdefault(item.repository_id, []).append(item.rel)
            del self._pending[path]

        for repository_id, rels in ready.items():
            for start in range(0, len(rels), BATCH):
                chunk = rels[start:start + BATCH]
                self.ctx.jobs.enqueue("import_paths", repository_id=repository_id,
                                      paths=chunk)
                log.debug("watcher queued %d path(s)", len(chunk))


def _signature(path: Path) -> tuple[int, float] | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return st.st_size, st.st_mtime


class PeriodicScans:
    """Scan every repository at an interval: the source of truth behind the watcher."""

    def __init__(self, ctx: Context, interval: int):
        self.ctx = ctx
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="periodic-scans",
                                        daemon=True)

    def start(self) -> None:
        if self.interval > 0:
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def _run(self) -> None:
        from lumilio.library.scanner import request_scan

        while not self._stop.wait(self.interval):
            for repo in self.ctx.catalog.all("SELECT repository_id FROM repositories"):
                request_scan(self.ctx, repo["repository_id"], mode="periodic")
