"""The model files a manifest describes, checked before anything loads them.

`models/manifest.json` (written by `packaging/build_models.py`) and the manifest of an
installed pack share one shape: a list of models, each with a task and files by role
(`model`, `labels`, `tokenizer`...), each file with its size and SHA-256. A file is
checked once per process, the first time it is asked for; a missing or altered file
raises `ModelError`, which says which file and why, and leaves the other models
usable.
"""

from __future__ import annotations

import hashlib
import json
import logging
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

MANIFEST = "manifest.json"


class ModelError(Exception):
    """A model cannot be used: missing, corrupt, or not what its manifest says."""


def bundled_dir() -> Path:
    """Where the models shipped with the product are: beside the package, or inside
    the frozen binary."""
    frozen = getattr(sys, "_MEIPASS", None)
    if frozen:
        return Path(frozen) / "models"
    return Path(__file__).resolve().parents[2] / "models"


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


@dataclass
class ModelSpec:
    name: str
    task: str
    folder: Path
    files: dict[str, dict]
    info: dict[str, Any] = field(default_factory=dict)
    _checked: set[str] = field(default_factory=set)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def model_id(self) -> str:
        """Names the weights: the file's checksum changes when the model does."""
        return f"{self.name}@{self.files['model']['sha256'][:12]}"

    def path(self, role: str = "model") -> Path:
        """The file for `role`, checked against the manifest the first time."""
        entry = self.files.get(role)
        if entry is None:
            raise ModelError(f"{self.name}: the manifest names no {role} file")
        path = self.folder / entry["path"]
        with self._lock:
            if role not in self._checked:
                self._check(path, entry)
                self._checked.add(role)
        return path

    def _check(self, path: Path, entry: dict) -> None:
        if not path.is_file():
            raise ModelError(f"{self.name}: {path.name} is missing")
        size = path.stat().st_size
        if entry.get("size") is not None and size != entry["size"]:
            raise ModelError(f"{self.name}: {path.name} has {size} bytes, the "
                             f"manifest says {entry['size']}")
        digest = sha256_of(path)
        if digest != entry["sha256"]:
            raise ModelError(f"{self.name}: {path.name} is corrupt (checksum "
                             f"{digest[:12]}, expected {entry['sha256'][:12]})")
        log.debug("%s: %s verified", self.name, path.name)

    def present(self) -> bool:
        """Every file is there with its size (the checksum is left to first use)."""
        for entry in self.files.values():
            path = self.folder / entry["path"]
            if not path.is_file():
                return False
            if entry.get("size") is not None and path.stat().st_size != entry["size"]:
                return False
        return True


def read(folder: Path) -> dict[str, ModelSpec]:
    """The models a folder's manifest lists, by name (empty when it has none)."""
    path = folder / MANIFEST
    if not path.is_file():
        return {}
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        specs = {}
        for entry in doc["models"]:
            info = {k: v for k, v in entry.items() if k not in ("name", "task",
                                                                 "files")}
            specs[entry["name"]] = ModelSpec(entry["name"], entry["task"], folder,
                                             dict(entry["files"]), info)
        return specs
    except (ValueError, KeyError, TypeError) as exc:
        raise ModelError(f"{path}: not a valid model manifest ({exc})") from None
