"""Sentence embeddings: all-MiniLM-L6-v2, mean-pooled and L2-normalised (384-d)."""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING

import numpy as np

from lumilio.ml.manifest import ModelSpec
from lumilio.ml.runtime import Runtime

if TYPE_CHECKING:
    from tokenizers import Tokenizer

log = logging.getLogger(__name__)

MAX_TOKENS = 256
BATCH = 32


class TextEmbedder:
    def __init__(self, runtime: Runtime, spec: ModelSpec):
        self.runtime = runtime
        self.spec = spec
        self.dim = int(spec.info.get("dim", 384))
        self._tokenizer: Tokenizer | None = None
        self._lock = threading.Lock()

    @property
    def model_id(self) -> str:
        return self.spec.model_id

    def tokenizer(self) -> Tokenizer:
        with self._lock:
            if self._tokenizer is None:
                # Imported here, like onnxruntime: an idle server does not need it.
                from tokenizers import Tokenizer

                tok = Tokenizer.from_file(str(self.spec.path("tokenizer")))
                tok.enable_truncation(MAX_TOKENS)
                tok.enable_padding()
                self._tokenizer = tok
            return self._tokenizer

    def embed(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        out = []
        with self.runtime.use(self.spec) as session:
            for start in range(0, len(texts), BATCH):
                out.append(self._run(session, texts[start:start + BATCH]))
        return np.concatenate(out)

    def _run(self, session, texts: list[str]) -> np.ndarray:
        encoded = self.tokenizer().encode_batch(texts)
        ids = np.array([e.ids for e in encoded], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encoded], dtype=np.int64)
        feed = {"input_ids": ids, "attention_mask": mask,
                "token_type_ids": np.zeros_like(ids)}
        hidden = session.run(None, feed)[0]

        weights = mask[..., None].astype(np.float32)
        pooled = (hidden * weights).sum(1) / np.maximum(weights.sum(1), 1e-9)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return (pooled / np.maximum(norms, 1e-12)).astype(np.float32)
