"""Edit sidecars: a photo's non-destructive Studio edits, kept beside the library.

A sidecar is a small JSON document (LumilioSidecarV1DTO) stored in the repository as
`.lumilio/sidecars/<asset_id>.lumilio-sidecar`, so the edits travel with the folder
to another machine. `version` is the document's schema version: this server writes
and accepts version 1 only. Writes go to a temporary file that is synced and renamed
over the old one, so a crash leaves either the old edits or the new, never half.

What a client sends is checked field by field: adjustments are finite numbers (the
flips are booleans), the crop is four finite, non-negative numbers with a non-zero
size; keys the schema does not know are dropped. The `source` block is always the
server's own description of the asset, and `updated_at` the time of the write.
"""

from __future__ import annotations

import json
import logging
import math
import os
import uuid
from pathlib import Path

from lumilio.auth.principal import Principal
from lumilio.context import Context
from lumilio.errors import BadRequest
from lumilio.library import layout
from lumilio.services.assets import row_for
from lumilio.timeutil import api, now_iso

log = logging.getLogger(__name__)

SCHEMA_VERSION = 1
SUFFIX = ".lumilio-sidecar"
NUMBER_ADJUSTMENTS = (
    "exposure", "contrast", "highlights", "shadows", "whites", "blacks",
    "temperature", "tint", "vibrance", "saturation", "clarity", "sharpness",
    "noiseReduction", "rotation",
)
FLAG_ADJUSTMENTS = ("flipHorizontal", "flipVertical")
CROP_KEYS = ("x", "y", "width", "height")


def sidecar_path(repo_root: Path, asset_id: str) -> Path:
    return layout.system_dir(repo_root) / "sidecars" / f"{asset_id}{SUFFIX}"


def source_of(row: dict) -> dict:
    """LumilioSidecarSourceDTO: the asset the edits were made on."""
    out = {k: row[k] for k in ("file_size", "mime_type", "original_filename",
                               "storage_path")}
    out["hash"] = row["hash"] or ""
    for key in ("width", "height"):
        if row[key] is not None:
            out[key] = row[key]
    return out


def default_sidecar(row: dict) -> dict:
    adjustments: dict = dict.fromkeys(NUMBER_ADJUSTMENTS, 0)
    adjustments.update(dict.fromkeys(FLAG_ADJUSTMENTS, False))
    return {"version": SCHEMA_VERSION, "asset_id": row["asset_id"],
            "source": source_of(row), "adjustments": adjustments}


def get(ctx: Context, who: Principal, asset_id: str) -> dict:
    row = row_for(ctx, who, asset_id)
    path = sidecar_path(Path(row["repo_path"]), asset_id)
    try:
        stored = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {"asset_id": asset_id, "exists": False, "sidecar": default_sidecar(row)}
    except (OSError, ValueError) as exc:
        # Damaged by hand or by a disk: the editor starts over rather than failing.
        log.warning("sidecar %s unreadable, ignored: %s", path, exc)
        return {"asset_id": asset_id, "exists": False, "sidecar": default_sidecar(row)}
    return {"asset_id": asset_id, "exists": True, "sidecar": stored}


def put(ctx: Context, who: Principal, asset_id: str, body: dict) -> dict:
    row = row_for(ctx, who, asset_id)
    sidecar = validate(body, asset_id)
    sidecar["source"] = source_of(row)
    sidecar["updated_at"] = api(now_iso())

    path = sidecar_path(Path(row["repo_path"]), asset_id)
    write_atomically(path, json.dumps(sidecar, indent=2, sort_keys=True) + "\n")
    log.info("edits of %s saved by %s", row["original_filename"], who.username)
    return {"asset_id": asset_id, "exists": True, "sidecar": sidecar}


def validate(body: dict, asset_id: str) -> dict:
    """The sidecar a client sent, checked and reduced to the schema's fields."""
    version = body.get("version", SCHEMA_VERSION)
    if not _is_int(version) or version != SCHEMA_VERSION:
        raise BadRequest("Unsupported sidecar version",
                         f"version must be {SCHEMA_VERSION}")
    # The server writes these itself, but a value of the wrong kind is still an
    # error of the client's, not something to pass over in silence.
    if body.get("source") is not None and not isinstance(body["source"], dict):
        raise BadRequest("Invalid request data", "source must be an object")
    if body.get("updated_at") is not None and not isinstance(body["updated_at"], str):
        raise BadRequest("Invalid request data", "updated_at must be a string")
    claimed = body.get("asset_id")
    if claimed is not None and claimed != asset_id:
        raise BadRequest("Invalid request data",
                         "asset_id does not match the asset in the path")
    adjustments = body.get("adjustments")
    if adjustments is None:
        adjustments = {}
    if not isinstance(adjustments, dict):
        raise BadRequest("Invalid request data", "adjustments must be an object")

    clean: dict = {}
    for key in NUMBER_ADJUSTMENTS:
        if adjustments.get(key) is not None:
            clean[key] = _number(adjustments[key], f"adjustments.{key}")
    for key in FLAG_ADJUSTMENTS:
        if adjustments.get(key) is not None:
            if not isinstance(adjustments[key], bool):
                raise BadRequest("Invalid request data",
                                 f"adjustments.{key} must be true or false")
            clean[key] = adjustments[key]
    if adjustments.get("crop") is not None:
        clean["crop"] = _crop(adjustments["crop"])
    return {"version": SCHEMA_VERSION, "asset_id": asset_id, "adjustments": clean}


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _number(value: object, name: str) -> float | int:
    if isinstance(value, bool) or not isinstance(value, int | float) \
            or not math.isfinite(value):
        raise BadRequest("Invalid request data", f"{name} must be a finite number")
    return value


def _crop(value: object) -> dict:
    if not isinstance(value, dict):
        raise BadRequest("Invalid request data", "adjustments.crop must be an object")
    crop = {}
    for key in CROP_KEYS:
        if key not in value:
            raise BadRequest("Invalid request data",
                             f"adjustments.crop.{key} is missing")
        number = _number(value[key], f"adjustments.crop.{key}")
        if number < 0:
            raise BadRequest("Invalid request data",
                             f"adjustments.crop.{key} must not be negative")
        crop[key] = number
    if crop["width"] == 0 or crop["height"] == 0:
        raise BadRequest("Invalid request data", "adjustments.crop has no area")
    return crop


def write_atomically(path: Path, text: str) -> None:
    """Replace `path` with `text`: readers see the old file or the new, never half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    try:
        with open(temporary, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
