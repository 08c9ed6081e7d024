"""Faces: YuNet finds them, SFace turns each aligned face into a 128-d vector.

YuNet takes a 640x640 BGR image and answers, per stride (8, 16, 32) and grid cell,
a class and an objectness score, a box relative to the cell and five landmarks
(eyes, nose tip, mouth corners). SFace takes a 112x112 RGB face aligned so that those
landmarks sit where its training faces had them; similar faces give vectors of high
cosine similarity.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
from PIL import Image

from lumilio.ml.images import letterbox
from lumilio.ml.manifest import ModelSpec
from lumilio.ml.runtime import Runtime

log = logging.getLogger(__name__)

DETECT_SIDE = 640
STRIDES = (8, 16, 32)
NMS_IOU = 0.3
# Landmark positions of the faces SFace was trained on, in its 112x112 input.
ALIGNED = np.array([[38.2946, 51.6963], [73.5318, 51.5014], [56.0252, 71.7366],
                    [41.5493, 92.3655], [70.7299, 92.2041]], dtype=np.float64)
EMBED_SIDE = 112


@dataclass(frozen=True)
class Face:
    box: tuple[float, float, float, float]  # x, y, width, height in image pixels
    score: float
    landmarks: np.ndarray  # 5 x 2, image pixels

    def relative_box(self, width: int, height: int) -> dict:
        x, y, w, h = self.box
        return {"x": max(0.0, x / width), "y": max(0.0, y / height),
                "width": min(w / width, 1.0), "height": min(h / height, 1.0)}


class FaceAnalyzer:
    def __init__(self, runtime: Runtime, detector: ModelSpec, embedder: ModelSpec,
                 min_score: float = 0.7):
        self.runtime = runtime
        self.detector = detector
        self.embedder = embedder
        self.min_score = min_score

    @property
    def model_id(self) -> str:
        return f"{self.detector.model_id}+{self.embedder.model_id}"

    def detect(self, image: Image.Image) -> list[Face]:
        canvas, scale = letterbox(image, DETECT_SIDE)
        blob = canvas[:, :, ::-1].transpose(2, 0, 1)[None].copy()
        with self.runtime.use(self.detector) as session:
            names = [o.name for o in session.get_outputs()]
            outputs = dict(zip(names, session.run(None, {"input": blob})))

        boxes, scores, marks = _decode(outputs)
        keep = _nms(boxes, scores, self.min_score)
        return [Face(tuple(float(v) for v in boxes[i] / scale), float(scores[i]),
                     marks[i].reshape(5, 2) / scale) for i in keep]

    def embed(self, image: Image.Image, faces: list[Face]) -> np.ndarray:
        """One L2-normalised vector per face, in one batch."""
        if not faces:
            return np.zeros((0, 128), dtype=np.float32)
        batch = np.stack([
            np.asarray(align(image, f.landmarks), dtype=np.float32).transpose(2, 0, 1)
            for f in faces])
        with self.runtime.use(self.embedder) as session:
            name = session.get_inputs()[0].name
            # The model was exported with a batch of one.
            vectors = np.concatenate([session.run(None, {name: batch[i:i + 1]})[0]
                                      for i in range(len(batch))])
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return (vectors / np.maximum(norms, 1e-12)).astype(np.float32)


def _decode(outputs: dict) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    boxes, scores, marks = [], [], []
    for stride in STRIDES:
        cells = DETECT_SIDE // stride
        cls = np.clip(outputs[f"cls_{stride}"][0, :, 0], 0, 1)
        obj = np.clip(outputs[f"obj_{stride}"][0, :, 0], 0, 1)
        raw = outputs[f"bbox_{stride}"][0]
        kps = outputs[f"kps_{stride}"][0]
        index = np.arange(cells * cells)
        col, row = index % cells, index // cells

        cx = (col + raw[:, 0]) * stride
        cy = (row + raw[:, 1]) * stride
        w = np.exp(raw[:, 2]) * stride
        h = np.exp(raw[:, 3]) * stride
        boxes.append(np.stack([cx - w / 2, cy - h / 2, w, h], axis=1))
        scores.append(np.sqrt(cls * obj))
        points = np.empty_like(kps)
        points[:, 0::2] = (kps[:, 0::2] + col[:, None]) * stride
        points[:, 1::2] = (kps[:, 1::2] + row[:, None]) * stride
        marks.append(points)
    return np.concatenate(boxes), np.concatenate(scores), np.concatenate(marks)


def _nms(boxes: np.ndarray, scores: np.ndarray, min_score: float) -> list[int]:
    order = np.where(scores >= min_score)[0]
    order = order[np.argsort(-scores[order])]
    keep: list[int] = []
    while len(order):
        best, rest = order[0], order[1:]
        keep.append(int(best))
        a, b = boxes[best], boxes[rest]
        x1 = np.maximum(a[0], b[:, 0])
        y1 = np.maximum(a[1], b[:, 1])
        x2 = np.minimum(a[0] + a[2], b[:, 0] + b[:, 2])
        y2 = np.minimum(a[1] + a[3], b[:, 1] + b[:, 3])
        inter = np.clip(x2 - x1, 0, None) * np.clip(y2 - y1, 0, None)
        union = a[2] * a[3] + b[:, 2] * b[:, 3] - inter
        order = rest[inter / np.maximum(union, 1e-9) < NMS_IOU]
    return keep


def similarity_transform(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """The 2x3 rotation-scale-translation that best maps `src` points onto `dst`
    (least squares, Umeyama's method)."""
    src_mean, dst_mean = src.mean(0), dst.mean(0)
    src_c, dst_c = src - src_mean, dst - dst_mean
    cov = dst_c.T @ src_c / len(src)
    u, s, vt = np.linalg.svd(cov)
    sign = np.ones(2)
    if np.linalg.det(u) * np.linalg.det(vt) < 0:
        sign[-1] = -1
    rotation = u @ np.diag(sign) @ vt
    scale = (s * sign).sum() / src_c.var(0).sum()
    matrix = np.zeros((2, 3))
    matrix[:, :2] = scale * rotation
    matrix[:, 2] = dst_mean - scale * rotation @ src_mean
    return matrix


def align(image: Image.Image, landmarks: np.ndarray) -> Image.Image:
    """The face warped into SFace's 112x112 frame."""
    forward = similarity_transform(np.asarray(landmarks, dtype=np.float64), ALIGNED)
    # PIL wants the map from output pixels back to input pixels.
    full = np.vstack([forward, [0, 0, 1]])
    back = np.linalg.inv(full)[:2]
    return image.transform((EMBED_SIDE, EMBED_SIDE), Image.Transform.AFFINE,
                           tuple(back.ravel()), Image.Resampling.BILINEAR)


def crop(image: Image.Image, face: Face, margin: float = 0.3,
         side: int = 256) -> Image.Image:
    """The face with some surroundings, for people pages."""
    x, y, w, h = face.box
    grow = max(w, h) * (1 + margin)
    cx, cy = x + w / 2, y + h / 2
    box = (max(0, round(cx - grow / 2)), max(0, round(cy - grow / 2)),
           min(image.width, round(cx + grow / 2)),
           min(image.height, round(cy + grow / 2)))
    out = image.crop(box)
    out.thumbnail((side, side), Image.Resampling.LANCZOS)
    return out
