"""`POST /assets/download`: originals as a zip archive, streamed while it is built.

Every id is checked before the first byte goes out, so a request with one unknown or
forbidden id fails cleanly instead of breaking off mid-archive. The archive is then
written to a small in-memory sink that is emptied after every chunk of every file, so
memory stays flat whatever the total size. Photos, videos and compressed audio are
stored as they are (deflating them costs time and saves nothing); uncompressed
formats (WAV, AIFF, TIFF, BMP) are deflated.
"""

from __future__ import annotations

import logging
import uuid
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from lumilio.auth.principal import Principal
from lumilio.context import Context
from lumilio.errors import BadRequest
from lumilio.library import placement
from lumilio.services.assets import original_path
from lumilio.timeutil import now

log = logging.getLogger(__name__)

MAX_ASSETS = 10_000
CHUNK = 1 << 20
DEFLATED_MIMES = {
    "audio/x-wav", "audio/wav", "audio/aiff", "audio/x-aiff", "image/tiff",
    "image/bmp",
}


@dataclass(frozen=True)
class Entry:
    path: Path
    name: str
    compress_type: int


def archive_name() -> str:
    return f"lumilio-assets-{now():%Y%m%d-%H%M%S}.zip"


def plan(ctx: Context, who: Principal, asset_ids: object) -> list[Entry]:
    """The archive's entries, in request order; raises before anything is sent."""
    if not isinstance(asset_ids, list) or not all(isinstance(i, str)
                                                  for i in asset_ids):
        raise BadRequest("Invalid request data", "asset_ids must be a list of ids")
    if not asset_ids:
        raise BadRequest("Invalid request data", "asset_ids is empty")
    if len(asset_ids) > MAX_ASSETS:
        raise BadRequest("Invalid request data",
                         f"at most {MAX_ASSETS} assets per download")

    entries: list[Entry] = []
    names: set[str] = set()
    seen: set[str] = set()
    for raw in asset_ids:
        try:
            asset_id = str(uuid.UUID(raw))
        except ValueError:
            raise BadRequest("Invalid id", f"{raw!r} is not a valid id") from None
        if asset_id in seen:
            continue
        seen.add(asset_id)
        path, row = original_path(ctx, who, asset_id)
        name = unique_name(placement.safe_filename(row["original_filename"]), names)
        method = (zipfile.ZIP_DEFLATED if row["mime_type"] in DEFLATED_MIMES
                  else zipfile.ZIP_STORED)
        entries.append(Entry(path, name, method))
    return entries


def unique_name(name: str, taken: set[str]) -> str:
    """`name`, or `name (2).ext`, `(3)`... : unique in the archive, ignoring case."""
    candidate, number = name, 1
    stem, suffix = PurePosixPath(name).stem, PurePosixPath(name).suffix
    while candidate.lower() in taken:
        number += 1
        candidate = f"{stem} ({number}){suffix}"
    taken.add(candidate.lower())
    return candidate


class _Sink:
    """A write-only file for ZipFile whose content is taken away as it comes."""

    def __init__(self) -> None:
        self._parts: list[bytes] = []

    def write(self, data: bytes) -> int:
        self._parts.append(bytes(data))
        return len(data)

    def flush(self) -> None:
        pass

    def take(self) -> bytes:
        data = b"".join(self._parts)
        self._parts.clear()
        return data


def stream(entries: list[Entry]) -> Iterator[bytes]:
    """The zip archive of `entries`, chunk by chunk."""
    sink = _Sink()
    total = 0
    # No tell() on the sink: zipfile writes data descriptors, as for a pipe.
    with zipfile.ZipFile(sink, "w", allowZip64=True) as archive:
        for entry in entries:
            info = zipfile.ZipInfo.from_file(entry.path, entry.name,
                                             strict_timestamps=False)
            info.compress_type = entry.compress_type
            with open(entry.path, "rb") as source, archive.open(info, "w") as target:
                while chunk := source.read(CHUNK):
                    target.write(chunk)
                    total += len(chunk)
                    if data := sink.take():
                        yield data
            if data := sink.take():
                yield data
    yield sink.take()
    log.info("zip download of %d file(s), %.1f MB sent", len(entries), total / 1e6)
