"""What a photo shows, as ImageNet labels: kept whole for the semantic index, linked
as tags (source `ml`) with their scores, and, for animals, as species predictions.

Species predictions are made for the photos of bio albums (as the reference's
BioCLIP step is): adding a photo to one queues `process_bioclip`, and an album's
rebuild queues every member photo not examined yet.
"""

from __future__ import annotations

import json
import logging

from PIL import Image

from lumilio.auth.principal import Principal
from lumilio.context import Context
from lumilio.errors import BadRequest, Unavailable
from lumilio.ml.tagger import Label
from lumilio.services import ml
from lumilio.timeutil import now_iso

log = logging.getLogger(__name__)

TAG_SOURCE = "ml"
MIN_TAG_SCORE = 0.1
MIN_SPECIES_SCORE = 0.05


def analyse(ctx: Context, asset: dict, image: Image.Image) -> list[Label]:
    """Label a photo and store the labels and tags; returns the labels."""
    tagger = ml.models(ctx).tagger()
    labels = tagger.classify([image])[0]
    save(ctx, asset["asset_id"], labels, tagger.model_id)
    return labels


def save(ctx: Context, asset_id: str, labels: list[Label], model_id: str) -> None:
    tags = [label for i, label in enumerate(labels)
            if i == 0 or label.score >= MIN_TAG_SCORE]

    def store(conn) -> None:
        stamp = now_iso()
        conn.execute(
            "INSERT INTO label_runs (asset_id, model_id, labels, created_at)"
            " VALUES (?,?,?,?) ON CONFLICT (asset_id) DO UPDATE SET"
            " model_id = excluded.model_id, labels = excluded.labels,"
            " created_at = excluded.created_at",
            (asset_id, model_id, json.dumps([lb.as_dict() for lb in labels]), stamp))
        conn.execute("DELETE FROM asset_tags WHERE asset_id = ? AND source = ?",
                     (asset_id, TAG_SOURCE))
        for label in tags:
            conn.execute(
                "INSERT INTO tags (tag_name, category, is_ai_generated) VALUES"
                " (?, ?, 1) ON CONFLICT (tag_name) DO NOTHING",
                (label.name, label.group or "object"))
            tag_id = conn.execute("SELECT tag_id FROM tags WHERE tag_name = ?",
                                  (label.name,)).fetchall()[0]["tag_id"]
            conn.execute(
                "INSERT INTO asset_tags (asset_id, tag_id, source, confidence)"
                " VALUES (?,?,?,?) ON CONFLICT DO UPDATE SET"
                " confidence = excluded.confidence",
                (asset_id, tag_id, TAG_SOURCE, round(label.score, 4)))

    ctx.catalog.write(store)


def labels_of(ctx: Context, asset_id: str) -> list[Label]:
    row = ctx.catalog.one("SELECT labels FROM label_runs WHERE asset_id = ?",
                          (asset_id,))
    return [Label.from_dict(d) for d in json.loads(row["labels"])] if row else []


# -- species ---------------------------------------------------------------------------


def species(ctx: Context, asset: dict, image: Image.Image | None) -> int:
    """Store the animal labels of a photo as species predictions; returns how many."""
    labels = labels_of(ctx, asset["asset_id"])
    if not labels:
        if image is None:
            raise ValueError("the photo has no labels and no image was given")
        labels = analyse(ctx, asset, image)
    model_id = ml.models(ctx).tagger().model_id
    animals = [lb for lb in labels if lb.is_animal and lb.score >= MIN_SPECIES_SCORE]

    def store(conn) -> None:
        stamp = now_iso()
        conn.execute("DELETE FROM species_predictions WHERE asset_id = ?",
                     (asset["asset_id"],))
        for label in animals:
            conn.execute(
                "INSERT INTO species_predictions (asset_id, label, scientific_name,"
                " score, model_id, created_at) VALUES (?,?,?,?,?,?)"
                " ON CONFLICT DO NOTHING",
                (asset["asset_id"], label.name, label.scientific_name,
                 round(label.score, 4), model_id, stamp))
        conn.execute(
            "INSERT INTO species_runs (asset_id, model_id, created_at) VALUES (?,?,?)"
            " ON CONFLICT (asset_id) DO UPDATE SET model_id = excluded.model_id,"
            " created_at = excluded.created_at", (asset["asset_id"], model_id, stamp))

    ctx.catalog.write(store)
    return len(animals)


def species_predictions(ctx: Context, asset_id: str) -> list[dict]:
    rows = ctx.catalog.all(
        "SELECT label, scientific_name, score FROM species_predictions"
        " WHERE asset_id = ? ORDER BY score DESC", (asset_id,))
    out = []
    for r in rows:
        item = {"label": r["label"], "score": r["score"]}
        if r["scientific_name"]:
            item["scientific_name"] = r["scientific_name"]
        out.append(item)
    return out


def queue_bio_album(ctx: Context, who: Principal, album: dict) -> dict:
    """`POST /albums/{id}/bioclip/rebuild`: species for every member photo that has
    none yet (the album's owner and type are checked by the caller)."""
    from lumilio.pipeline import recognition

    if album["album_type"] != "bio":
        raise BadRequest("Invalid album type", "only bio albums classify species")
    if not ml.runnable(ctx, "bioclip"):
        raise Unavailable("BioCLIP is unavailable",
                          "species classification is switched off or its model "
                          "is missing")
    rows = ctx.catalog.all(
        "SELECT a.asset_id FROM album_assets aa JOIN assets a USING (asset_id)"
        " WHERE aa.album_id = ? AND a.type = 'PHOTO' AND a.is_deleted = 0"
        " AND a.asset_id NOT IN (SELECT asset_id FROM species_runs)",
        (album["album_id"],))
    for row in rows:
        recognition.queue(ctx, row["asset_id"], "bioclip")
    log.info("bio album %d: species queued for %d photo(s) by %s",
             album["album_id"], len(rows), who.username)
    return {"status": "queued", "queued_assets": len(rows),
            "message": f"Species classification queued for {len(rows)} photo(s)"}


def photo_added_to_album(ctx: Context, album: dict, asset_id: str) -> bool:
    """Queue species for a photo just added to a bio album; True when queued."""
    from lumilio.pipeline import recognition

    if album.get("album_type") != "bio" or not ml.runnable(ctx, "bioclip"):
        return False
    row = ctx.catalog.one("SELECT type FROM assets WHERE asset_id = ?", (asset_id,))
    if row is None or row["type"] != "PHOTO":
        return False
    recognition.queue(ctx, asset_id, "bioclip")
    return True
