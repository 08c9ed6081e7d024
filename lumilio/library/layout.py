"""Where things live inside a repository folder.

    <repo>/.lumiliorepo
    <repo>/.lumilio/thumbnails/<size>/<hash[:2]>/<hash>_<size>.webp
    <repo>/.lumilio/web/<hash>_web.mp4 | .mp3
    <repo>/.lumilio/faces/, sidecars/, staging/incoming/, staging/failed/, temp/
    <repo>/inbox/          uploads, placed by the storage strategy
    <repo>/<anything else> the user's own folders, indexed in place
"""

from __future__ import annotations

import os
from pathlib import Path, PurePosixPath

SYSTEM_DIR = ".lumilio"
INBOX_DIR = "inbox"

_PRIVATE = ("staging/incoming", "staging/failed", "temp")
_PUBLIC = ("thumbnails", "web", "faces", "sidecars")


def system_dir(root: Path) -> Path:
    return root / SYSTEM_DIR


def ensure(root: Path) -> None:
    """Create the system folders; staging and temp are private to the server user."""
    base = system_dir(root)
    for name in _PUBLIC:
        (base / name).mkdir(parents=True, exist_ok=True)
    for name in _PRIVATE:
        path = base / name
        path.mkdir(parents=True, exist_ok=True)
        os.chmod(path, 0o700)
    (root / INBOX_DIR).mkdir(exist_ok=True)


def thumbnail_rel(content_hash: str, size: str) -> str:
    """Repository-relative POSIX path of a thumbnail, shared by identical content."""
    return str(
        PurePosixPath(SYSTEM_DIR, "thumbnails", size, content_hash[:2],
                      f"{content_hash}_{size}.webp")
    )


def web_rel(content_hash: str, extension: str) -> str:
    return str(PurePosixPath(SYSTEM_DIR, "web", f"{content_hash}_web{extension}"))


def staging_dir(root: Path) -> Path:
    return system_dir(root) / "staging" / "incoming"


def resolve(root: Path, rel: str) -> Path:
    """A repository-relative path as an absolute one, refusing anything that escapes."""
    path = (root / rel).resolve()
    if not path.is_relative_to(root.resolve()):
        raise ValueError(f"path escapes the repository: {rel!r}")
    return path
