"""The catalog database: one writer thread, a small pool of readers.

SQLite allows one writer at a time. Instead of letting every thread race for the write
lock (and time out under load), all writes are functions sent to a single writer
thread, which runs each inside a transaction and hands back the result through a
future. Reads run on the caller's thread with a connection borrowed from a pool; WAL
mode lets them proceed while the writer works.

apsw is used rather than the stdlib `sqlite3` module because the latter, as built here,
cannot load extensions, and sqlite-vec is an extension.
"""

from __future__ import annotations

import json
import logging
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import apsw
import apsw.bestpractice
import sqlite_vec

from lumilio.catalog import migrate

log = logging.getLogger(__name__)

T = TypeVar("T")

BUSY_TIMEOUT_MS = 10_000
READ_POOL_SIZE = 4


def _dict_row(cursor: apsw.Cursor, row: tuple) -> dict:
    names = [d[0] for d in cursor.get_description()]
    return dict(zip(names, row))


def connect(path: Path, readonly: bool = False) -> apsw.Connection:
    flags = apsw.SQLITE_OPEN_READONLY if readonly else (
        apsw.SQLITE_OPEN_READWRITE | apsw.SQLITE_OPEN_CREATE
    )
    conn = apsw.Connection(str(path), flags=flags)
    conn.set_busy_timeout(BUSY_TIMEOUT_MS)
    conn.enable_load_extension(True)
    conn.load_extension(sqlite_vec.loadable_path())
    conn.enable_load_extension(False)
    conn.row_trace = _dict_row

    # WAL lets readers run beside the writer; NORMAL sync is safe with WAL (a power cut
    # can lose the last transactions, never corrupt the file) and much faster than FULL.
    if not readonly:
        conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("PRAGMA foreign_keys=ON")
    conn.execute("PRAGMA cache_size=-16000")
    return conn


class Catalog:
    """The SQLite catalog. `read` and `write` take a function of a connection."""

    def __init__(self, path: Path):
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        # The connection settings below are made explicitly in `connect`; of apsw's
        # recommendations only these two are taken (its log forwarding is left out:
        # it reports SQLite's routine statement re-preparations as if they mattered).
        apsw.bestpractice.apply((apsw.bestpractice.connection_dqs,
                                 apsw.bestpractice.connection_optimize))

        self._writer_conn = connect(path)
        migrate.apply(self._writer_conn)

        self._readers: queue.LifoQueue[apsw.Connection] = queue.LifoQueue()
        for _ in range(READ_POOL_SIZE):
            self._readers.put(connect(path))

        self._jobs: queue.Queue[tuple[Callable, Future] | None] = queue.Queue()
        self._writer = threading.Thread(
            target=self._write_loop, name="catalog-writer", daemon=True
        )
        self._writer.start()

    # -- writes -------------------------------------------------------------------

    def write(self, fn: Callable[[apsw.Connection], T]) -> T:
        """Run `fn(conn)` in a transaction on the writer thread and return its result."""
        if threading.current_thread() is self._writer:
            return fn(self._writer_conn)

        future: Future = Future()
        self._jobs.put((fn, future))
        return future.result()

    def _write_loop(self) -> None:
        while True:
            item = self._jobs.get()
            if item is None:
                return
            fn, future = item
            if not future.set_running_or_notify_cancel():
                continue
            try:
                with self._writer_conn:
                    result = fn(self._writer_conn)
            except BaseException as exc:  # handed to the caller, who decides
                future.set_exception(exc)
            else:
                future.set_result(result)

    # -- reads --------------------------------------------------------------------

    @contextmanager
    def reader(self):
        conn = self._readers.get()
        try:
            yield conn
        finally:
            self._readers.put(conn)

    def read(self, fn: Callable[[apsw.Connection], T]) -> T:
        with self.reader() as conn:
            return fn(conn)

    def one(self, sql: str, params: Any = ()) -> dict | None:
        with self.reader() as conn:
            for row in conn.execute(sql, params):
                return row
        return None

    def all(self, sql: str, params: Any = ()) -> list[dict]:
        with self.reader() as conn:
            return list(conn.execute(sql, params))

    def scalar(self, sql: str, params: Any = ()) -> Any:
        row = self.one(sql, params)
        return next(iter(row.values())) if row else None

    def close(self) -> None:
        self._jobs.put(None)
        self._writer.join(timeout=10)
        while not self._readers.empty():
            self._readers.get().close()
        self._writer_conn.close()


def dumps(value: Any) -> str | None:
    return None if value is None else json.dumps(value, separators=(",", ":"))


def loads(text: str | None, default: Any = None) -> Any:
    return default if text is None else json.loads(text)
