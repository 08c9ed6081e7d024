"""Faces of one photo: found, embedded, cropped, stored, and put with their person.

A face whose detection confidence reaches `MIN_CONFIDENCE` counts; its crop goes to
the repository's `.lumilio/faces/`, named by the photo's content hash so that a
carried repository keeps them. Between rebuilds of people, a new face joins the
person whose faces it most resembles, when that resemblance reaches
`people.JOIN_SIMILARITY`.
"""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path, PurePosixPath

import numpy as np
from PIL import Image

from lumilio.catalog.db import loads
from lumilio.context import Context
from lumilio.library import layout
from lumilio.ml.faces import crop
from lumilio.services import ml, people
from lumilio.timeutil import api, now_iso

log = logging.getLogger(__name__)

MIN_CONFIDENCE = 0.7


def crop_rel(content_hash: str, number: int) -> str:
    return str(PurePosixPath(layout.SYSTEM_DIR, "faces", content_hash[:2],
                             f"{content_hash}_{number}.webp"))


def analyse(ctx: Context, asset: dict, image: Image.Image) -> int:
    """Find and store the faces of a photo; returns how many."""
    analyzer = ml.models(ctx).faces(MIN_CONFIDENCE)
    started = time.monotonic()
    found = analyzer.detect(image)
    vectors = analyzer.embed(image, found)
    elapsed = int((time.monotonic() - started) * 1000)

    root = Path(asset["repo_path"])
    content_hash = asset["hash"] or asset["asset_id"]
    rows = []
    for number, (face, vector) in enumerate(zip(found, vectors)):
        rel = crop_rel(content_hash, number)
        target = root / rel
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            crop(image, face).save(target, "WEBP", quality=85)
        marks = (face.landmarks / [image.width, image.height]).round(5).tolist()
        rows.append((face, vector, rel, marks))

    w, h = image.size
    model_id = analyzer.model_id

    def save(conn) -> list[int]:
        stamp = now_iso()
        conn.execute("DELETE FROM faces WHERE asset_id = ?", (asset["asset_id"],))
        ids = []
        for face, vector, rel, marks in rows:
            box = face.relative_box(w, h)
            conn.execute(
                "INSERT INTO faces (asset_id, box_x, box_y, box_w, box_h, confidence,"
                " embedding, crop_path, landmarks, model_id, created_at)"
                " VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                (asset["asset_id"], box["x"], box["y"], box["width"], box["height"],
                 face.score, vector.astype(np.float32).tobytes(), rel,
                 json.dumps(marks), model_id, stamp))
            ids.append(conn.last_insert_rowid())
        conn.execute(
            "INSERT INTO face_runs (asset_id, model_id, total_faces,"
            " processing_time_ms, created_at, updated_at) VALUES (?,?,?,?,?,?)"
            " ON CONFLICT (asset_id) DO UPDATE SET model_id = excluded.model_id,"
            " total_faces = excluded.total_faces, processing_time_ms ="
            " excluded.processing_time_ms, updated_at = excluded.updated_at",
            (asset["asset_id"], model_id, len(rows), elapsed, stamp, stamp))
        return ids

    face_ids = ctx.catalog.write(save)
    if face_ids:
        people.assign_new_faces(ctx, asset, face_ids, model_id)
    log.debug("faces of %s: %d in %d ms", asset["asset_id"], len(rows), elapsed)
    return len(rows)


def result(ctx: Context, asset_id: str) -> dict | None:
    """The `face_result` of an asset's detail, or None when it was not analysed."""
    run = ctx.catalog.one("SELECT * FROM face_runs WHERE asset_id = ?", (asset_id,))
    if run is None:
        return None
    rows = ctx.catalog.all(
        "SELECT f.*, p.name AS person_name FROM faces f LEFT JOIN people p"
        " USING (person_id) WHERE f.asset_id = ? ORDER BY f.box_w * f.box_h DESC",
        (asset_id,))
    faces = []
    for i, r in enumerate(rows):
        item = {
            "id": r["face_id"], "face_id": str(r["face_id"]),
            "bounding_box": {"x": r["box_x"], "y": r["box_y"], "width": r["box_w"],
                             "height": r["box_h"]},
            "confidence": r["confidence"], "is_primary": i == 0,
        }
        if r["person_id"] is not None:
            item["cluster_id"] = r["person_id"]
            if r["person_name"]:
                item["cluster_name"] = r["person_name"]
        if r["landmarks"]:
            item["landmarks"] = loads(r["landmarks"])
        faces.append(item)
    return {"model_id": run["model_id"], "total_faces": run["total_faces"],
            "processing_time_ms": run["processing_time_ms"], "faces": faces,
            "created_at": api(run["created_at"]), "updated_at": api(run["updated_at"])}
