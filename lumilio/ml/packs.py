"""Model packs: a CLIP-style pair an administrator installs from a file or a URL.

A pack is a folder (or a zip of one) holding an image encoder, a text encoder, a
`tokenizer.json` and a `manifest.json` in the shape of the bundled one, plus a `pack`
section:

    {"format": 1,
     "pack": {"name": "clip-b32", "kind": "clip", "dim": 512, "image_size": 224,
              "image_mean": [...], "image_std": [...], "context_length": 77,
              "pad_id": 0, "threshold": 0.2},
     "models": [{"name": "image_encoder", "task": "image_embedding",
                 "files": {"model": {"path": ..., "sha256": ..., "size": ...}}},
                {"name": "text_encoder", "task": "text_embedding",
                 "files": {"model": {...}, "tokenizer": {...}}}]}

The image encoder takes float32 [batch, 3, size, size] (normalised with the pack's
mean and std), the text encoder int64 token ids [batch, context_length] (and an
`attention_mask` if it asks for one); both answer [batch, dim]. Installing checks
every checksum, loads both encoders and runs them once to confirm the dimension,
before the pack is moved into place.
"""

from __future__ import annotations

import json
import logging
import re
import shutil
import tempfile
import threading
import urllib.request
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from lumilio.ml import manifest
from lumilio.ml.manifest import ModelError, ModelSpec
from lumilio.ml.runtime import Runtime

if TYPE_CHECKING:
    from tokenizers import Tokenizer

log = logging.getLogger(__name__)

FORMAT = 1
NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
MAX_DOWNLOAD = 4 << 30
DOWNLOAD_TIMEOUT = 60


class PackError(ModelError):
    """A pack cannot be installed or used; the message says what is wrong."""


@dataclass
class Pack:
    name: str
    folder: Path
    dim: int
    image_size: int
    image_mean: list[float]
    image_std: list[float]
    context_length: int
    pad_id: int
    threshold: float
    image_encoder: ModelSpec
    text_encoder: ModelSpec
    _tokenizer: Tokenizer | None = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def model_id(self) -> str:
        return (f"pack:{self.name}@{self.image_encoder.files['model']['sha256'][:12]}"
                f"+{self.text_encoder.files['model']['sha256'][:12]}")

    def tokenizer(self) -> Tokenizer:
        with self._lock:
            if self._tokenizer is None:
                # Imported here, like onnxruntime: an idle server does not need it.
                from tokenizers import Tokenizer

                path = self.text_encoder.path("tokenizer")
                self._tokenizer = Tokenizer.from_file(str(path))
            return self._tokenizer

    def describe(self) -> dict:
        return {"name": self.name, "kind": "clip", "dim": self.dim,
                "model_id": self.model_id, "threshold": self.threshold}


def open_pack(folder: Path) -> Pack:
    """A pack folder, read and checked for shape (not yet for checksums)."""
    path = folder / manifest.MANIFEST
    if not path.is_file():
        raise PackError(f"{folder.name}: no {manifest.MANIFEST} in the pack")
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        info = doc["pack"]
        if doc.get("format") != FORMAT or info.get("kind") != "clip":
            raise PackError(f"{folder.name}: not a format-{FORMAT} CLIP pack")
        name = info["name"]
        if not isinstance(name, str) or not NAME.match(name):
            raise PackError(f"pack name {name!r} is not acceptable (lower-case "
                            "letters, digits, dot, dash, underscore)")
        specs = manifest.read(folder)
        image, text = specs.get("image_encoder"), specs.get("text_encoder")
        if image is None or text is None:
            raise PackError(f"{name}: the manifest must list image_encoder and "
                            "text_encoder")
        if "tokenizer" not in text.files:
            raise PackError(f"{name}: the text encoder has no tokenizer file")
        return Pack(
            name=name, folder=folder, dim=int(info["dim"]),
            image_size=int(info.get("image_size", 224)),
            image_mean=[float(v) for v in info.get("image_mean",
                                                   [0.4815, 0.4578, 0.4082])],
            image_std=[float(v) for v in info.get("image_std",
                                                  [0.2686, 0.2613, 0.2758])],
            context_length=int(info.get("context_length", 77)),
            pad_id=int(info.get("pad_id", 0)),
            threshold=float(info.get("threshold", 0.2)),
            image_encoder=image, text_encoder=text)
    except (KeyError, TypeError, ValueError) as exc:
        raise PackError(f"{folder.name}: malformed pack manifest ({exc})") from None


def validate(pack: Pack, runtime: Runtime) -> None:
    """Checksums, loadability and the dimension both encoders really answer."""
    pack.text_encoder.path("tokenizer")
    image = np.zeros((1, 3, pack.image_size, pack.image_size), dtype=np.float32)
    ids = np.full((1, pack.context_length), pack.pad_id, dtype=np.int64)
    with runtime.use(pack.image_encoder) as session:
        try:
            got = session.run(None, {session.get_inputs()[0].name: image})[0]
        except Exception as exc:  # onnxruntime's errors are untyped
            raise PackError(f"{pack.name}: the image encoder does not run on a "
                            f"{pack.image_size}px image: {exc}") from None
    _check_dim(pack, "image", got)
    with runtime.use(pack.text_encoder) as session:
        names = [i.name for i in session.get_inputs()]
        feed = {names[0]: ids}
        if "attention_mask" in names:
            feed["attention_mask"] = np.ones_like(ids)
        try:
            got = session.run(None, feed)[0]
        except Exception as exc:
            raise PackError(f"{pack.name}: the text encoder does not run on "
                            f"{pack.context_length} tokens: {exc}") from None
    _check_dim(pack, "text", got)


def _check_dim(pack: Pack, which: str, output: np.ndarray) -> None:
    dim = int(np.prod(output.shape[1:]))
    if dim != pack.dim:
        raise PackError(f"{pack.name}: the {which} encoder gives {dim}-d vectors, "
                        f"the manifest says {pack.dim}")


def install(source: str, packs_dir: Path, runtime: Runtime) -> Pack:
    """Install a pack from a folder, a zip file or an http(s) URL of a zip."""
    packs_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=packs_dir, prefix=".incoming-") as tmp:
        staging = Path(tmp) / "pack"
        if source.startswith(("http://", "https://")):
            archive = Path(tmp) / "download.zip"
            _download(source, archive)
            _unzip(archive, staging)
        else:
            path = Path(source).expanduser()
            if path.is_dir():
                shutil.copytree(path, staging)
            elif path.is_file() and zipfile.is_zipfile(path):
                _unzip(path, staging)
            elif path.exists():
                raise PackError(f"{source}: neither a pack folder nor a zip file")
            else:
                raise PackError(f"{source}: no such file or folder")
        staging = _pack_root(staging)

        pack = open_pack(staging)
        validate(pack, runtime)
        runtime.forget(str(staging))
        target = packs_dir / pack.name
        if target.exists():
            runtime.forget(str(target))
            shutil.rmtree(target)
        shutil.move(str(staging), target)
    log.info("model pack %s installed (%d-d)", pack.name, pack.dim)
    return open_pack(target)


def _pack_root(folder: Path) -> Path:
    """The folder holding the manifest: the top, or its single subfolder."""
    if (folder / manifest.MANIFEST).is_file():
        return folder
    children = [c for c in folder.iterdir() if c.is_dir()]
    if len(children) == 1 and (children[0] / manifest.MANIFEST).is_file():
        return children[0]
    raise PackError(f"no {manifest.MANIFEST} at the top of the pack")


def _download(url: str, target: Path) -> None:
    log.info("downloading model pack from %s", url)
    try:
        with urllib.request.urlopen(url, timeout=DOWNLOAD_TIMEOUT) as response, \
                target.open("wb") as out:
            size = 0
            while chunk := response.read(1 << 20):
                size += len(chunk)
                if size > MAX_DOWNLOAD:
                    raise PackError(f"{url}: larger than {MAX_DOWNLOAD >> 30} GB")
                out.write(chunk)
    except OSError as exc:
        raise PackError(f"{url}: cannot download ({exc})") from None
    if not zipfile.is_zipfile(target):
        raise PackError(f"{url}: the download is not a zip file")


def _unzip(archive: Path, target: Path) -> None:
    target.mkdir(parents=True)
    with zipfile.ZipFile(archive) as zf:
        for member in zf.infolist():
            dest = (target / member.filename).resolve()
            if not dest.is_relative_to(target.resolve()):
                raise PackError(f"{archive.name}: {member.filename!r} points "
                                "outside the pack")
        zf.extractall(target)


def installed(packs_dir: Path) -> list[Pack]:
    packs = []
    if not packs_dir.is_dir():
        return packs
    for folder in sorted(packs_dir.iterdir()):
        if folder.is_dir() and not folder.name.startswith("."):
            try:
                packs.append(open_pack(folder))
            except PackError as exc:
                log.warning("ignoring model pack %s: %s", folder.name, exc)
    return packs


def find(packs_dir: Path, name: str) -> Pack:
    if not NAME.match(name) or not (packs_dir / name).is_dir():
        raise PackError(f"no model pack named {name!r} is installed")
    return open_pack(packs_dir / name)


def remove(packs_dir: Path, name: str, runtime: Runtime) -> None:
    pack = find(packs_dir, name)
    runtime.forget(str(pack.folder))
    shutil.rmtree(pack.folder)
    log.info("model pack %s removed", name)
