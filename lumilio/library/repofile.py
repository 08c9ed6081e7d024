"""The `.lumiliorepo` file: what makes a folder a repository, readable by a person.

It holds the repository's identity and settings, so that a folder carried to another
machine registers again under the same id. YAML, with a comment on top that says what
the file is for.
"""

from __future__ import annotations

import os
import tempfile
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from lumilio.errors import BadRequest
from lumilio.timeutil import now_iso

FILE_NAME = ".lumiliorepo"
STRATEGIES = ("date", "flat", "cas")
DUPLICATE_HANDLING = ("rename", "uuid", "overwrite")

_HEADER = (
    "# This folder is a Lumilio repository. Lumilio never moves, renames or changes\n"
    "# your files here; what it derives (thumbnails, web versions) lives in .lumilio/.\n"
    "# Keep this file when you move the folder: it lets Lumilio recognise it again.\n"
)


@dataclass
class RepoFile:
    id: str = field(default_factory=lambda: str(uuid.uuid4()))
    name: str = ""
    created_at: str = field(default_factory=now_iso)
    storage_strategy: str = "date"
    handle_duplicate_filenames: str = "rename"
    version: str = "1.0"

    def validate(self) -> None:
        try:
            uuid.UUID(self.id)
        except ValueError:
            raise BadRequest(f"{FILE_NAME}: id is not a UUID: {self.id!r}") from None
        if self.storage_strategy not in STRATEGIES:
            raise BadRequest(
                f"storage_strategy must be one of {', '.join(STRATEGIES)}"
            )
        if self.handle_duplicate_filenames not in DUPLICATE_HANDLING:
            raise BadRequest(
                "handle_duplicate_filenames must be one of "
                + ", ".join(DUPLICATE_HANDLING)
            )

    def to_yaml(self) -> str:
        data = {
            "version": self.version,
            "id": self.id,
            "name": self.name,
            "created_at": self.created_at,
            "storage_strategy": self.storage_strategy,
            "local_settings": {
                "handle_duplicate_filenames": self.handle_duplicate_filenames
            },
        }
        return _HEADER + yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


def read(folder: Path) -> RepoFile | None:
    path = folder / FILE_NAME
    if not path.is_file():
        return None
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise BadRequest(f"{path.name} cannot be read: {exc}") from None
    if not isinstance(data, dict):
        raise BadRequest(f"{path.name} is not a mapping")
    local = data.get("local_settings") or {}
    repo = RepoFile(
        id=str(data.get("id") or ""),
        name=str(data.get("name") or folder.name),
        created_at=str(data.get("created_at") or now_iso()),
        storage_strategy=str(data.get("storage_strategy") or "date"),
        handle_duplicate_filenames=str(
            local.get("handle_duplicate_filenames") or "rename"
        ),
        version=str(data.get("version") or "1.0"),
    )
    repo.validate()
    return repo


def write(folder: Path, repo: RepoFile) -> None:
    """Replace the file atomically, so that a crash never leaves half of it."""
    repo.validate()
    fd, tmp = tempfile.mkstemp(prefix=".lumiliorepo.", dir=folder)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(repo.to_yaml())
        os.chmod(tmp, 0o644)  # mkstemp makes it private; this file is for people
        os.replace(tmp, folder / FILE_NAME)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
