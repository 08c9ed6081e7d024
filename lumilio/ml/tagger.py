"""ImageNet labels for a photo: MobileNetV2 over the centre of the picture.

The model takes RGB in [0, 1] at 224x224 and answers 1,000 probabilities (its
normalisation and softmax are inside the graph). Each label carries its names; the
animal ones also carry a group word ("cat", "bird") and, where WordNet gives one, a
scientific name: those serve as species predictions.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass

import numpy as np
from PIL import Image

from lumilio.ml.images import center_crop
from lumilio.ml.manifest import ModelSpec
from lumilio.ml.runtime import Runtime

log = logging.getLogger(__name__)

INPUT_SIDE = 224
RESIZE_SHORT = 256
TOP_K = 5
MIN_SCORE = 0.02
BATCH = 8


@dataclass(frozen=True)
class Label:
    index: int
    name: str
    score: float
    group: str | None = None
    scientific_name: str | None = None

    @property
    def is_animal(self) -> bool:
        return self.group is not None

    def text(self) -> str:
        """The label as words, with its group when the name does not say it."""
        if self.group and self.group not in self.name.lower():
            return f"{self.name}, a {self.group}"
        return self.name

    def as_dict(self) -> dict:
        out = {"index": self.index, "name": self.name, "score": round(self.score, 5)}
        if self.group:
            out["group"] = self.group
        if self.scientific_name:
            out["scientific_name"] = self.scientific_name
        return out

    @classmethod
    def from_dict(cls, d: dict) -> Label:
        return cls(d["index"], d["name"], d["score"], d.get("group"),
                   d.get("scientific_name"))


class Tagger:
    def __init__(self, runtime: Runtime, spec: ModelSpec):
        self.runtime = runtime
        self.spec = spec
        self._labels: list[dict] | None = None

    @property
    def model_id(self) -> str:
        return self.spec.model_id

    def labels(self) -> list[dict]:
        if self._labels is None:
            self._labels = json.loads(self.spec.path("labels").read_text("utf-8"))
        return self._labels

    def classify(self, images: list[Image.Image], top_k: int = TOP_K,
                 min_score: float = MIN_SCORE) -> list[list[Label]]:
        """The best labels of each image, best first; the first is always kept."""
        if not images:
            return []
        arrays = [center_crop(im, INPUT_SIDE, RESIZE_SHORT).transpose(2, 0, 1)
                  for im in images]
        probs = []
        with self.runtime.use(self.spec) as session:
            for start in range(0, len(arrays), BATCH):
                batch = np.stack(arrays[start:start + BATCH])
                probs.append(session.run(None, {"image": batch})[0])
        table = self.labels()

        out = []
        for row in np.concatenate(probs):
            best = np.argsort(-row)[:top_k]
            chosen = [i for n, i in enumerate(best) if n == 0 or row[i] >= min_score]
            out.append([self._label(table[i], float(row[i])) for i in chosen])
        return out

    @staticmethod
    def _label(entry: dict, score: float) -> Label:
        return Label(entry["index"], entry["name"], score, entry.get("group"),
                     entry.get("scientific_name"))
