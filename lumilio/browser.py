"""Opening the user's browser on the library: only where there is one to open, and
only once the server answers, so the first page never shows a refused connection."""

from __future__ import annotations

import logging
import os
import sys
import threading
import time
import webbrowser

from lumilio import instance

log = logging.getLogger(__name__)


def available() -> bool:
    """Whether a browser can be opened from here (not on a headless server)."""
    # A command named in BROWSER works without a display (a text browser, a script).
    if os.environ.get("BROWSER"):
        return True
    if sys.platform in ("win32", "darwin"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def open_now(url: str) -> None:
    if not webbrowser.open(url):
        log.warning("no browser could be opened; open %s yourself", url)


def open_when_ready(url: str, timeout_s: float = 60.0) -> threading.Thread:
    """Open `url` from a background thread as soon as its server is healthy."""

    def wait_then_open() -> None:
        deadline = time.monotonic() + timeout_s
        while not instance.answers(url):
            if time.monotonic() >= deadline:
                log.warning("the server did not answer within %.0f s; not opening "
                            "the browser", timeout_s)
                return
            time.sleep(0.2)
        open_now(url)

    thread = threading.Thread(target=wait_then_open, name="open-browser", daemon=True)
    thread.start()
    return thread
