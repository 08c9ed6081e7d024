"""Versioned schema migrations: numbered SQL files applied in order at start.

The catalog's `PRAGMA user_version` holds the number of the last file applied. Each file
runs in its own transaction, so a failed migration leaves the previous version intact.
"""

from __future__ import annotations

import logging
import re
from importlib import resources

import apsw

log = logging.getLogger(__name__)

_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")


def available() -> list[tuple[int, str]]:
    """(version, file name) of every migration shipped with the package, in order."""
    folder = resources.files("lumilio.catalog") / "migrations"
    found = []
    for entry in folder.iterdir():
        match = _NAME.match(entry.name)
        if match:
            found.append((int(match.group(1)), entry.name))
    return sorted(found)


def apply(conn: apsw.Connection) -> int:
    """Bring the catalog up to the newest schema; returns the resulting version."""
    current = conn.execute("PRAGMA user_version").fetchall()[0]["user_version"]
    folder = resources.files("lumilio.catalog") / "migrations"

    for version, name in available():
        if version <= current:
            continue
        sql = (folder / name).read_text(encoding="utf-8")
        with conn:
            conn.execute(sql)
            conn.execute(f"PRAGMA user_version={version}")
        log.info("catalog schema migrated to version %d (%s)", version, name)
        current = version
    return current
