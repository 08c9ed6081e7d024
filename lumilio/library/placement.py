"""Where an uploaded file goes inside `inbox/`, and how client file names are made safe.

A file name from a client is never used as a path: only its last component is kept,
and it is cleaned of separators, control characters and names that some systems
reserve, before any strategy places it.
"""

from __future__ import annotations

import re
import unicodedata
import uuid
from datetime import datetime, timezone
from pathlib import Path, PurePosixPath

from lumilio.library.layout import INBOX_DIR

_RESERVED = {
    "con", "prn", "aux", "nul",
    *(f"com{i}" for i in range(1, 10)),
    *(f"lpt{i}" for i in range(1, 10)),
}
_UNSAFE = re.compile(r'[\x00-\x1f\x7f<>:"/\\|?*]')


def safe_filename(name: str | None, fallback: str = "upload") -> str:
    """The last component of a client-supplied name, safe on every file system."""
    name = unicodedata.normalize("NFC", name or "")
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = _UNSAFE.sub("_", name).strip(" .")
    if not name or name in (".", ".."):
        name = fallback
    stem = name.split(".", 1)[0].lower()
    if stem in _RESERVED:
        name = "_" + name
    encoded = name.encode("utf-8")
    if len(encoded) > 200:
        suffix = PurePosixPath(name).suffix[:16]
        name = encoded[: 200 - len(suffix)].decode("utf-8", "ignore") + suffix
    return name


def target_rel(strategy: str, filename: str, content_hash: str,
               moment: datetime | None = None) -> str:
    """Repository-relative path where the strategy wants the file, before collisions."""
    moment = moment or datetime.now(timezone.utc)
    if strategy == "flat":
        return f"{INBOX_DIR}/{filename}"
    if strategy == "cas" and len(content_hash) >= 6:
        ext = PurePosixPath(filename).suffix.lower()
        h = content_hash
        return f"{INBOX_DIR}/{h[0:2]}/{h[2:4]}/{h[4:6]}/{h}{ext}"
    return f"{INBOX_DIR}/{moment:%Y}/{moment:%m}/{filename}"


def resolve_collision(root: Path, rel: str, handling: str, strategy: str) -> str:
    """A free path for `rel` under the repository's duplicate-name rule."""
    if strategy == "cas" or handling == "overwrite" or not (root / rel).exists():
        return rel
    path = PurePosixPath(rel)
    stem, ext = path.stem, path.suffix
    if handling == "uuid":
        return str(path.with_name(f"{stem}_{uuid.uuid4().hex[:8]}{ext}"))
    for n in range(1, 1000):
        candidate = str(path.with_name(f"{stem} ({n}){ext}"))
        if not (root / candidate).exists():
            return candidate
    stamp = datetime.now(timezone.utc).strftime("%Y%m%d_%H%M%S")
    return str(path.with_name(f"{stem}_{stamp}{ext}"))
