"""How an asset row looks in the API (AssetDTO and its detail form)."""

from __future__ import annotations

import json

from lumilio.catalog.db import loads
from lumilio.timeutil import api


def processing(row: dict) -> dict:
    """The processing state in a compact form, for clients that show progress."""
    status = loads(row.get("status"), {}) or {}
    out = {"state": row.get("state") or status.get("state"),
           "message": status.get("message")}
    if status.get("errors"):
        out["errors"] = [{"task": e.get("task"), "error": e.get("error")}
                         for e in status["errors"]]
    return out


def asset_dto(row: dict, with_status: bool = False) -> dict:
    out = {
        "asset_id": row["asset_id"],
        "repository_id": row["repository_id"],
        "type": row["type"],
        "original_filename": row["original_filename"],
        "storage_path": row["storage_path"],
        "mime_type": row["mime_type"],
        "file_size": row["file_size"],
        "hash": row["hash"] or "",
        "upload_time": api(row["upload_time"]),
        "rating": row["rating"] or 0,
        "liked": bool(row["liked"]),
        "is_deleted": bool(row["is_deleted"]),
        "specific_metadata": loads(row["specific_metadata"], {}) or {},
        "processing": processing(row),
    }
    optional = {
        "owner_id": row["owner_id"],
        "width": row["width"],
        "height": row["height"],
        "duration": row["duration"],
        "taken_time": api(row["taken_time"]),
        "capture_offset_minutes": row["capture_offset_minutes"],
        "deleted_at": api(row["deleted_at"]),
    }
    out.update({k: v for k, v in optional.items() if v is not None})
    if row.get("is_missing"):
        out["is_missing"] = True
    if with_status:
        # The API document types `status` as the bytes of the status JSON.
        text = row.get("status") or json.dumps({"state": row.get("state")})
        out["status"] = list(text.encode("utf-8"))
    return out
