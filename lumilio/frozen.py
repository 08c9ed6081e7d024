"""What differs when Lumilio runs from its PyInstaller build (`build.spec`).

The build carries the browser UI, the models, the catalog migrations and the
exiftool script with its perl modules inside the bundle (`sys._MEIPASS`). It carries
no perl: the bundled exiftool runs on the system's perl when there is one, and
otherwise the media layer reads metadata with its built-in fallback reader.
"""

from __future__ import annotations

import logging
import os
import shutil
import stat
import sys
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

# Set by PyInstaller's bootloader on Linux: the library path before it put the
# bundle's folder first.
_ORIGINAL_LIBRARY_PATH = "LD_LIBRARY_PATH_ORIG"


def bundle_root() -> Path | None:
    """The folder the build runs from, or None when running from a checkout."""
    root = getattr(sys, "_MEIPASS", None)
    return Path(root) if root else None


def is_frozen() -> bool:
    return bundle_root() is not None


def restore_child_environment() -> None:
    """Give programs we start (perl, the browser) the system's libraries.

    The bootloader points LD_LIBRARY_PATH at the bundle so that our own extension
    modules find their libraries; a system program inheriting it would load the
    bundle's copies instead of its own and may crash. The dynamic loader read the
    variable when this process started, so changing it now only affects children.
    """
    if not is_frozen() or sys.platform != "linux":
        return
    original = os.environ.pop(_ORIGINAL_LIBRARY_PATH, None)
    if original:
        os.environ["LD_LIBRARY_PATH"] = original
    else:
        os.environ.pop("LD_LIBRARY_PATH", None)


@dataclass(frozen=True)
class MetadataTool:
    """The exiftool the media layer will run, or why there is none."""

    path: str | None
    origin: str
    reason: str = ""

    @property
    def summary(self) -> str:
        if self.path is None:
            return f"built-in fallback ({self.reason})"
        return f"exiftool ({self.origin}: {self.path})"


def bundled_exiftool() -> Path | None:
    root = bundle_root()
    if root is None:
        return None
    script = root / "exiftool" / "exiftool"
    return script if script.is_file() else None


def choose_exiftool(configured: str) -> MetadataTool:
    """The configured exiftool, else the bundled one on the system's perl, else
    one on the PATH, else none (the fallback reader)."""
    if configured:
        found = shutil.which(configured)
        if found:
            return MetadataTool(found, "configured")
        return MetadataTool(None, "configured", f"{configured} cannot be run")

    script = bundled_exiftool()
    reason = "exiftool not found"
    if script is not None:
        perl = shutil.which("perl")
        # TODO: Windows has no perl to run the script with; bundle the Windows
        # exiftool (exiftool.exe and its exiftool_files folder) in Windows builds.
        if perl is None or sys.platform == "win32":
            reason = "the bundled exiftool needs perl, which this system lacks"
        elif _make_runnable(script):
            return MetadataTool(str(script), "bundled, run by " + perl)

    system = shutil.which("exiftool")
    if system:
        return MetadataTool(system, "system")
    return MetadataTool(None, "none", reason)


def _make_runnable(script: Path) -> bool:
    """The script runs through its `#!/usr/bin/env perl` line, so it must be
    executable; an archive tool or a copy may have dropped the bit."""
    if os.access(script, os.X_OK):
        return True
    try:
        script.chmod(script.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP
                     | stat.S_IXOTH)
    except OSError as exc:
        log.warning("cannot make the bundled exiftool executable: %s", exc)
        return False
    return True
