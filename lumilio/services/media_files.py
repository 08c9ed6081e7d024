"""Files made from an asset on request: its web version, and an export of a photo."""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO

from lumilio.auth.principal import Principal
from lumilio.catalog.db import loads
from lumilio.context import Context
from lumilio.errors import BadRequest, NotFound, Unprocessable
from lumilio.library import layout, placement
from lumilio.media import export
from lumilio.media.errors import MediaError
from lumilio.media.kinds import sniff
from lumilio.pipeline import transcode
from lumilio.services.assets import original_path, row_for

log = logging.getLogger(__name__)

# What the web endpoints advertise, for the web version and for the original served
# while the web version is not made yet (the reference's rule).
WEB_TYPES = {"VIDEO": "video/mp4", "AUDIO": "audio/mpeg"}
KIND_NAMES = {"VIDEO": "a video", "AUDIO": "audio"}
# Exports are encoded in memory up to this size, then in a temporary file.
SPOOL_BYTES = 16 << 20
CHUNK = 1 << 20


@dataclass(frozen=True)
class WebFile:
    path: Path
    media_type: str
    ready: bool  # False: the original stands in until the web version exists


def web_file(ctx: Context, who: Principal, asset_id: str, asset_type: str) -> WebFile:
    """The file `GET /assets/{id}/video/web` (or `audio/web`) serves."""
    row = row_for(ctx, who, asset_id)
    if row["type"] != asset_type:
        raise NotFound(f"Asset is not {KIND_NAMES[asset_type]}")
    kind = transcode.WEB_FILES[asset_type][0]
    found = ctx.catalog.one(
        "SELECT storage_path FROM derived_files WHERE asset_id = ? AND kind = ?",
        (asset_id, kind))
    root = Path(row["repo_path"])
    if found is not None:
        path = layout.resolve(root, found["storage_path"])
        if path.is_file():
            return WebFile(path, WEB_TYPES[asset_type], True)

    path, _ = original_path(ctx, who, asset_id)
    status = loads(row["status"]) or {}
    task = status.get("tasks", {}).get(transcode.TASK, {})
    if found is None and task.get("state") == "complete":
        # Checked and found playable as it is: the original is the web version.
        return WebFile(path, row["mime_type"], True)
    return WebFile(path, WEB_TYPES[asset_type], False)


def export_options(params: dict[str, str]) -> export.ExportOptions:
    """Query parameters of `GET /assets/{id}/export`, checked; numbers are clamped."""
    name = (params.get("format") or "").strip().lower()
    if not name:
        raise BadRequest("Invalid request data", "format is required")
    fmt = export.FORMATS.get(name)
    if fmt is None:
        raise BadRequest("Invalid export format",
                         "format must be one of jpeg, png, webp, avif")
    return export.ExportOptions(
        format=fmt,
        quality=min(100, max(0, _integer(params, "quality"))),
        max_width=min(65_535, max(0, _integer(params, "max_width"))),
        max_height=min(65_535, max(0, _integer(params, "max_height"))),
        keep_metadata=_boolean(params, "keep_metadata"),
    )


def _integer(params: dict[str, str], name: str) -> int:
    raw = (params.get(name) or "").strip()
    if not raw:
        return 0
    try:
        return int(raw)
    except ValueError:
        raise BadRequest("Invalid request data", f"{name} must be an integer") from None


def _boolean(params: dict[str, str], name: str) -> bool:
    raw = (params.get(name) or "").strip().lower()
    if raw in ("", "0", "false", "no"):
        return False
    if raw in ("1", "true", "yes"):
        return True
    raise BadRequest("Invalid request data", f"{name} must be true or false")


@dataclass
class Export:
    file: IO[bytes]
    filename: str
    media_type: str

    def chunks(self) -> Iterator[bytes]:
        try:
            self.file.seek(0)
            while chunk := self.file.read(CHUNK):
                yield chunk
        finally:
            self.file.close()


def export_asset(ctx: Context, who: Principal, asset_id: str,
                 options: export.ExportOptions, base_name: str | None) -> Export:
    """The photo re-encoded as asked, ready to stream, with its download name."""
    row = row_for(ctx, who, asset_id)
    if row["type"] != "PHOTO":
        raise BadRequest("Only photos can be exported",
                         f"this asset is {row['type'].lower()}")
    path, _ = original_path(ctx, who, asset_id)
    shown = (row["width"], row["height"]) if row["width"] and row["height"] else None

    # Closed by the response once streamed (Export.chunks), or below on failure.
    out = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)  # noqa: SIM115
    try:
        size = export.export(path, sniff(path), options, out, shown)
    except MediaError as exc:
        out.close()
        raise Unprocessable("Source image could not be decoded", str(exc)) from None
    except BaseException:
        out.close()
        raise

    stem = PurePosixPath(row["original_filename"]).stem
    base = placement.safe_filename(base_name or stem, fallback=stem or "export")
    filename = f"{base}.{options.format.extension}"
    log.info("export of %s as %s %dx%d for %s", row["original_filename"],
             options.format.pillow, size[0], size[1], who.username)
    return Export(out, filename, options.format.mime)
