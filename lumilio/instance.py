"""One server per data folder, and where it listens.

A running server holds an OS file lock in its data folder (`instance.lock`) and
writes its address beside it (`instance.json`). The lock goes with the process
however that ends, so a crash never leaves a stale claim; the note lets a second
start send the browser to the running server instead of opening the same catalog
twice.
"""

from __future__ import annotations

import json
import logging
import os
import time
import urllib.error
import urllib.request
from pathlib import Path

import filelock

log = logging.getLogger(__name__)

LOCK_FILE = "instance.lock"
NOTE_FILE = "instance.json"
HEALTH_PATH = "/api/v1/health"
# The server is on this machine: a proxy from the environment must not be asked.
_DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class InstanceLock:
    """The claim of one server on one data folder."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self._lock = filelock.FileLock(data_dir / LOCK_FILE)

    @property
    def note_path(self) -> Path:
        return self.data_dir / NOTE_FILE

    def acquire(self) -> bool:
        """True when this process now owns the data folder; never waits."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        try:
            self._lock.acquire(blocking=False)
        except filelock.Timeout:
            return False
        return True

    def publish(self, url: str) -> None:
        """Say where this server listens; written whole so readers never see half."""
        note = {"url": url, "pid": os.getpid()}
        partial = self.note_path.with_suffix(".tmp")
        partial.write_text(json.dumps(note), encoding="utf-8")
        partial.replace(self.note_path)

    def release(self) -> None:
        self.note_path.unlink(missing_ok=True)
        self._lock.release()


def running_url(data_dir: Path, wait_s: float = 30.0) -> str | None:
    """The address of the server running on this data folder, once it answers.

    A server that was started a moment ago may not have written its note or
    opened its port yet, hence the wait.
    """
    deadline = time.monotonic() + wait_s
    note_path = data_dir / NOTE_FILE
    while True:
        url = _read_url(note_path)
        if url and answers(url):
            return url
        if time.monotonic() >= deadline:
            return None
        time.sleep(0.25)


def _read_url(note_path: Path) -> str | None:
    try:
        return json.loads(note_path.read_text(encoding="utf-8")).get("url")
    except (OSError, ValueError, AttributeError):
        return None


def answers(url: str) -> bool:
    """Whether a Lumilio server at `url` says it is healthy."""
    try:
        with _DIRECT.open(url + HEALTH_PATH, timeout=2) as response:
            return response.status == 200
    except (OSError, urllib.error.URLError):
        return False
