"""One long-lived exiftool process in batch mode, guarded so a file cannot hang it.

pyexiftool waits for exiftool's end-of-output marker with a select/read loop that
does not notice end-of-file: when exiftool dies mid-file the loop spins forever. A
watchdog thread therefore watches each call; when exiftool dies or overruns the
time limit it kills the process and swaps the pipes' descriptors for a directory's,
so the next read fails with an OSError instead of spinning. The caller restarts
exiftool and tries the file once more.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import subprocess
import threading
import time
import warnings
from pathlib import Path

import exiftool
from exiftool.exceptions import ExifToolException

logger = logging.getLogger(__name__)

# -G1: tags carry their specific group (IFD0, ExifIFD, Keys, QuickTime...), which
# the rules need (Keys:CreationDate is local time, QuickTime:CreateDate is UTC).
# -n: machine values (signed decimal GPS, seconds, numeric orientation).
COMMON_ARGS = ["-G1", "-a", "-n", "-api", "LargeFileSupport=1"]
WATCH_INTERVAL_S = 0.1


class ExifToolFailed(Exception):
    """exiftool died, hung, or answered something that is not its JSON."""


class ExifToolProcess:
    """A batch-mode exiftool for one thread; started on first use."""

    def __init__(self, executable: str, timeout_s: float = 30.0) -> None:
        self.executable = executable
        self.timeout_s = timeout_s
        self._helper: exiftool.ExifToolHelper | None = None
        self._starts = 0

    @property
    def starts(self) -> int:
        """How many times an exiftool process was started (restarts included)."""
        return self._starts

    @property
    def pid(self) -> int | None:
        process = self._popen()
        return process.pid if process is not None else None

    def read_tags(self, path: Path) -> dict:
        """All tags of one file as exiftool's JSON object (groups in the keys)."""
        raw = self._call("-j", os.fsencode(path), raw_bytes=True)
        # Damaged files can hold text that is not UTF-8; exiftool passes it on.
        output = raw.decode("utf-8", errors="replace")
        if not output.strip():
            return {}
        try:
            records = json.loads(output)
        except ValueError as error:
            raise ExifToolFailed(f"exiftool answered no JSON: {error}") from error
        return records[0] if records else {}

    def read_binary(self, path: Path, tag: str) -> bytes:
        """The raw bytes of one binary tag (an embedded preview), empty if absent."""
        return self._call("-b", f"-{tag}", os.fsencode(path), raw_bytes=True)

    def close(self) -> None:
        helper, self._helper = self._helper, None
        if helper is None:
            return
        try:
            helper.terminate(timeout=5)
        except (ExifToolException, OSError, subprocess.SubprocessError) as error:
            logger.debug("exiftool did not stop cleanly: %s", error)
            self._kill(helper)

    def _call(self, *params: str | bytes, raw_bytes: bool = False):
        helper = self._running_helper()
        process = self._popen()
        done = threading.Event()
        guard = threading.Lock()
        tripped: list[str] = []
        watchdog = threading.Thread(
            target=self._watch,
            args=(process, done, guard, tripped),
            name="exiftool-watchdog",
            daemon=True,
        )
        watchdog.start()

        try:
            return helper.execute(*params, raw_bytes=raw_bytes)
        except (ExifToolException, OSError, ValueError, UnicodeDecodeError) as error:
            reason = tripped[0] if tripped else f"{type(error).__name__}: {error}"
            self._discard()
            raise ExifToolFailed(reason) from error
        finally:
            with guard:
                done.set()
            if tripped:
                self._discard()

    def _watch(
        self,
        process: subprocess.Popen | None,
        done: threading.Event,
        guard: threading.Lock,
        tripped: list[str],
    ) -> None:
        if process is None:
            return
        deadline = time.monotonic() + self.timeout_s
        while not done.wait(WATCH_INTERVAL_S):
            died = process.poll() is not None
            late = time.monotonic() > deadline
            if not (died or late):
                continue
            with guard:
                if done.is_set():
                    return
                tripped.append(
                    "exiftool died"
                    if died
                    else f"exiftool took over {self.timeout_s:g} s"
                )
                _break_pipes(process)
            return

    def _running_helper(self) -> exiftool.ExifToolHelper:
        process = self._popen()
        if self._helper is not None and process is not None:
            if process.poll() is None:
                return self._helper
            logger.warning(
                "exiftool (pid %s) had exited; starting a new one", process.pid
            )
            self._discard()

        helper = exiftool.ExifToolHelper(
            executable=self.executable,
            common_args=COMMON_ARGS,
            encoding="utf-8",
            check_execute=False,
            auto_start=False,
        )
        try:
            helper.run()
        except (ExifToolException, OSError, RuntimeError, ValueError) as error:
            raise ExifToolFailed(f"exiftool did not start: {error}") from error
        self._helper = helper
        self._starts += 1
        logger.info("started exiftool %s (pid %s)", helper.version, self.pid)
        return helper

    def _popen(self) -> subprocess.Popen | None:
        # pyexiftool keeps its Popen private; the watchdog needs it to kill and
        # to see whether exiftool is still alive.
        return getattr(self._helper, "_process", None)

    def _discard(self) -> None:
        helper, self._helper = self._helper, None
        if helper is not None:
            self._kill(helper)

    @staticmethod
    def _kill(helper: exiftool.ExifToolHelper) -> None:
        process: subprocess.Popen | None = getattr(helper, "_process", None)
        if process is None:
            return
        process.kill()
        process.wait(timeout=5)

        # Asking `running` makes pyexiftool notice the death and forget the
        # process (it warns while doing so), so it will not try to stop it again.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            _ = helper.running
        for pipe in (process.stdin, process.stdout, process.stderr):
            if pipe is not None:
                with contextlib.suppress(OSError):
                    pipe.close()


def _break_pipes(process: subprocess.Popen) -> None:
    process.kill()
    directory = os.open(os.sep, os.O_RDONLY)
    try:
        for pipe in (process.stdout, process.stderr):
            # A pipe the reader closed meanwhile needs no breaking.
            if pipe is not None and not pipe.closed:
                with contextlib.suppress(ValueError, OSError):
                    os.dup2(directory, pipe.fileno())
    finally:
        os.close(directory)
