"""The models this server can run, and the objects that run them, made on demand.

One `Models` per process: it reads the bundled manifest, knows the installed packs,
and builds each analyser the first time a task asks for it. Sessions themselves are
loaded (and unloaded) by the `Runtime`.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from lumilio.ml import manifest, packs
from lumilio.ml.faces import FaceAnalyzer
from lumilio.ml.manifest import ModelError, ModelSpec
from lumilio.ml.ocr import TextReader
from lumilio.ml.runtime import Runtime
from lumilio.ml.semantic import ClipEmbedder, ImageTextEmbedder, LabelEmbedder
from lumilio.ml.tagger import Tagger
from lumilio.ml.text import TextEmbedder

log = logging.getLogger(__name__)

# The bundled models each task needs.
TASK_MODELS = {
    "face": ("face_detect", "face_embed"),
    "ocr": ("ocr_det", "ocr_rec"),
    "tags": ("tagger",),
    "semantic": ("tagger", "text_embed"),
    "species": ("tagger",),
}
DEFAULT_PACK = "default"


class Models:
    def __init__(self, folder: Path, packs_dir: Path, runtime: Runtime):
        self.folder = folder
        self.packs_dir = packs_dir
        self.runtime = runtime
        self.problem: str | None = None
        try:
            self.specs = manifest.read(folder)
        except ModelError as exc:
            self.specs, self.problem = {}, str(exc)
            log.error("bundled models unusable: %s", exc)
        if not self.specs and self.problem is None:
            self.problem = f"no model manifest in {folder}"
        self._built: dict[str, object] = {}
        # Re-entrant: building the label embedder builds the text embedder.
        self._lock = threading.RLock()

    def spec(self, name: str) -> ModelSpec:
        found = self.specs.get(name)
        if found is None:
            raise ModelError(self.problem or f"model {name} is not installed")
        return found

    def available(self, task: str) -> bool:
        """Every file of the task's models is in place (checksums wait for use)."""
        try:
            return all(self.spec(name).present() for name in TASK_MODELS[task])
        except ModelError:
            return False

    def _cached(self, key: str, make):
        with self._lock:
            if key not in self._built:
                self._built[key] = make()
            return self._built[key]

    def faces(self, min_score: float = 0.7) -> FaceAnalyzer:
        return self._cached("faces", lambda: FaceAnalyzer(
            self.runtime, self.spec("face_detect"), self.spec("face_embed"),
            min_score))

    def reader(self) -> TextReader:
        return self._cached("ocr", lambda: TextReader(
            self.runtime, self.spec("ocr_det"), self.spec("ocr_rec")))

    def tagger(self) -> Tagger:
        return self._cached("tagger", lambda: Tagger(self.runtime,
                                                     self.spec("tagger")))

    def text(self) -> TextEmbedder:
        return self._cached("text", lambda: TextEmbedder(self.runtime,
                                                         self.spec("text_embed")))

    def embedder(self, pack_name: str | None = None) -> ImageTextEmbedder:
        """The image-text embedder: the bundled label one, or an installed pack."""
        if not pack_name or pack_name == DEFAULT_PACK:
            return self._cached("embed:default", lambda: LabelEmbedder(
                self.text(), self.tagger().model_id))
        return self._cached(f"embed:{pack_name}", lambda: ClipEmbedder(
            self.runtime, packs.find(self.packs_dir, pack_name)))

    def forget_pack(self, pack_name: str) -> None:
        with self._lock:
            self._built.pop(f"embed:{pack_name}", None)
