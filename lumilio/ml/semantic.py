"""One interface for image-text embeddings, two implementations.

`ImageTextEmbedder` puts photos and sentences in one vector space, so that a query's
vector lies near the vectors of the photos it describes:

- `LabelEmbedder`, the bundled default, never looks at pixels itself: a photo is the
  MiniLM embedding of what the tagger saw in it (each label weighted by its score)
  and of the text OCR read in it; a query is the MiniLM embedding of its words.
- `ClipEmbedder` runs a CLIP-style pair from an installed pack: an image encoder on
  the pixels, a text encoder on the query.

Each says how similar a photo must be to belong to a query's results (`threshold`),
since the two spaces have very different scales of cosine similarity.
"""

from __future__ import annotations

import logging
import threading
from typing import Protocol

import numpy as np
from PIL import Image

from lumilio.ml.images import center_crop
from lumilio.ml.manifest import ModelError
from lumilio.ml.runtime import Runtime
from lumilio.ml.tagger import Label
from lumilio.ml.text import TextEmbedder

log = logging.getLogger(__name__)

# Cosine a photo's label embedding must reach for a MiniLM query to include it;
# below it lie the loose word associations of unrelated photos (measured on
# shared/media/ml: matches 0.40-0.66, the best non-matching photo 0.32).
LABEL_THRESHOLD = 0.34
OCR_WEIGHT = 0.6
OCR_FULL_WORDS = 8
OCR_MAX_CHARS = 1000


class ImageTextEmbedder(Protocol):
    model_id: str
    dim: int
    threshold: float
    uses_pixels: bool

    def embed_text(self, texts: list[str]) -> np.ndarray: ...

    def embed_asset(self, image: Image.Image | None, labels: list[Label],
                    text: str) -> np.ndarray: ...


def _normalised(v: np.ndarray) -> np.ndarray:
    norm = np.linalg.norm(v, axis=-1, keepdims=True)
    return (v / np.maximum(norm, 1e-12)).astype(np.float32)


class LabelEmbedder:
    uses_pixels = False
    threshold = LABEL_THRESHOLD

    def __init__(self, text: TextEmbedder, tagger_model_id: str):
        self.text = text
        self.dim = text.dim
        self.model_id = f"labels-v1:{tagger_model_id}+{text.model_id}"
        self._label_vectors: dict[str, np.ndarray] = {}
        self._lock = threading.Lock()

    def embed_text(self, texts: list[str]) -> np.ndarray:
        return self.text.embed(texts)

    def _labels(self, labels: list[Label]) -> np.ndarray:
        # Label sentences repeat across a library: embed each once per process.
        sentences = [f"a photo of {label.text()}" for label in labels]
        with self._lock:
            missing = [s for s in dict.fromkeys(sentences)
                       if s not in self._label_vectors]
        if missing:
            vectors = self.text.embed(missing)
            with self._lock:
                self._label_vectors.update(zip(missing, vectors))
        with self._lock:
            return np.stack([self._label_vectors[s] for s in sentences])

    def embed_asset(self, image: Image.Image | None, labels: list[Label],
                    text: str) -> np.ndarray:
        parts, weights = [], []
        if labels:
            scores = np.array([label.score for label in labels], dtype=np.float32)
            vectors = self._labels(labels)
            parts.append(_normalised((vectors * scores[:, None]).sum(0)))
            weights.append(1.0)
        words = text.split()
        if words:
            parts.append(self.text.embed([" ".join(words)[:OCR_MAX_CHARS]])[0])
            weights.append(OCR_WEIGHT * min(1.0, len(words) / OCR_FULL_WORDS))
        if not parts:
            raise ModelError("nothing was recognised in the photo to embed")
        mixed = sum(w * p for w, p in zip(weights, parts))
        return _normalised(np.asarray(mixed))


class ClipEmbedder:
    uses_pixels = True

    def __init__(self, runtime: Runtime, pack) -> None:
        self.runtime = runtime
        self.pack = pack
        self.dim = pack.dim
        self.threshold = pack.threshold
        self.model_id = pack.model_id

    def embed_asset(self, image: Image.Image | None, labels: list[Label],
                    text: str) -> np.ndarray:
        if image is None:
            raise ModelError(f"{self.pack.name}: needs the photo itself")
        return self.embed_images([image])[0]

    def embed_images(self, images: list[Image.Image]) -> np.ndarray:
        p = self.pack
        mean = np.array(p.image_mean, dtype=np.float32)
        std = np.array(p.image_std, dtype=np.float32)
        batch = np.stack([
            ((center_crop(im, p.image_size, p.image_size) - mean) / std)
            .transpose(2, 0, 1) for im in images])
        with self.runtime.use(p.image_encoder) as session:
            name = session.get_inputs()[0].name
            out = session.run(None, {name: batch.astype(np.float32)})[0]
        return _normalised(out.reshape(len(images), -1))

    def embed_text(self, texts: list[str]) -> np.ndarray:
        p = self.pack
        ids = np.full((len(texts), p.context_length), p.pad_id, dtype=np.int64)
        mask = np.zeros_like(ids)
        for i, encoding in enumerate(p.tokenizer().encode_batch(texts)):
            tokens = encoding.ids[:p.context_length]
            ids[i, :len(tokens)] = tokens
            mask[i, :len(tokens)] = 1
        with self.runtime.use(p.text_encoder) as session:
            names = [i.name for i in session.get_inputs()]
            feed = {names[0]: ids}
            if "attention_mask" in names:
                feed["attention_mask"] = mask
            out = session.run(None, feed)[0]
        return _normalised(out.reshape(len(texts), -1))
