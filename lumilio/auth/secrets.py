"""Secret files in the data folder, created once with owner-only permissions."""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path

ROOT_KEY = "root.key"
VAULT_KEY = "vault.key"


def _write_private(path: Path, data: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    os.chmod(path.parent, 0o700)
    # O_EXCL: two processes starting at once cannot both create (and disagree on) it.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(data)


def read_or_create(folder: Path, name: str) -> str:
    path = folder / name
    if not path.exists():
        try:
            _write_private(path, secrets.token_urlsafe(32))
        except FileExistsError:
            pass
    return path.read_text().strip()


def create_once(folder: Path, name: str) -> str | None:
    """Create the secret and return it; None if it already existed."""
    value = secrets.token_urlsafe(32)
    try:
        _write_private(folder / name, value)
    except FileExistsError:
        return None
    return value


def derive(root: str, label: str) -> bytes:
    """A key for one purpose, so that a token of one kind is never valid as another."""
    return hmac.new(root.encode(), label.encode(), hashlib.sha256).digest()
