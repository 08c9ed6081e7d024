"""Single assets: look-up with access checks, files, trash, uploads."""

from __future__ import annotations

import logging
import os
import tempfile
from pathlib import Path

import blake3

from lumilio.auth.principal import Principal
from lumilio.catalog.db import loads
from lumilio.context import Context
from lumilio.errors import BadRequest, NotFound, PayloadTooLarge, Unprocessable
from lumilio.library import layout, placement
from lumilio.media.errors import MediaError
from lumilio.media.thumbnails import THUMBNAIL_SIZES
from lumilio.pipeline import ingest
from lumilio.services import repositories
from lumilio.services.asset_view import asset_dto
from lumilio.timeutil import api, now_iso

log = logging.getLogger(__name__)


def row_for(ctx: Context, who: Principal, asset_id: str) -> dict:
    """The asset with its repository path, if the caller may see it (else 404)."""
    row = ctx.catalog.one(
        "SELECT a.*, r.path AS repo_path FROM assets a JOIN repositories r"
        " USING (repository_id) WHERE a.asset_id = ?", (asset_id,))
    if row is None:
        raise NotFound("Asset not found")
    who.check_owns(row["owner_id"])
    return row


def detail(ctx: Context, who: Principal, asset_id: str, flags: dict[str, bool]) -> dict:
    row = row_for(ctx, who, asset_id)
    out = asset_dto(row, with_status=True)
    if flags.get("include_thumbnails", True):
        out["thumbnails"] = [
            {"thumbnail_id": f"{asset_id}:{r['kind'].split('_', 1)[1]}",
             "size": r["kind"].split("_", 1)[1], "storage_path": r["storage_path"],
             "mime_type": r["mime_type"]}
            for r in ctx.catalog.all(
                "SELECT * FROM derived_files WHERE asset_id = ? AND kind LIKE"
                " 'thumbnail_%'", (asset_id,))
        ]
    if flags.get("include_tags", True):
        out["tags"] = [
            {"tag_id": r["tag_id"], "tag_name": r["tag_name"],
             **({"confidence": r["confidence"]} if r["confidence"] is not None
                else {})}
            for r in ctx.catalog.all(
                "SELECT t.tag_id, t.tag_name, at.confidence FROM asset_tags at"
                " JOIN tags t USING (tag_id) WHERE at.asset_id = ?", (asset_id,))
        ]
    if flags.get("include_albums", True):
        # Albums are private to their maker: only the caller's own are named here,
        # even when someone else (an admin) put this asset into one of theirs.
        out["albums"] = [
            {"album_id": r["album_id"], "album_name": r["album_name"],
             "position": r["position"], "added_time": api(r["added_time"])}
            for r in ctx.catalog.all(
                "SELECT al.album_id, al.album_name, aa.position, aa.added_time"
                " FROM album_assets aa JOIN albums al USING (album_id)"
                " WHERE aa.asset_id = ? AND al.user_id = ? ORDER BY al.album_name",
                (asset_id, who.user_id))
        ]
    _recognition(ctx, asset_id, flags, out)
    return out


def _recognition(ctx: Context, asset_id: str, flags: dict[str, bool],
                 out: dict) -> None:
    """What the recognition steps found, for the include flags that ask for it."""
    from lumilio.services import faces, labels, ocr

    if flags.get("include_species", True):
        out["species_predictions"] = labels.species_predictions(ctx, asset_id)
    if flags.get("include_ocr", False) and (found := ocr.result(ctx, asset_id)):
        out["ocr_result"] = found
    if flags.get("include_faces", False) and (found := faces.result(ctx, asset_id)):
        out["face_result"] = found


def exif(ctx: Context, who: Principal, asset_id: str) -> dict:
    row_for(ctx, who, asset_id)
    found = ctx.catalog.one("SELECT exif_raw FROM asset_exif WHERE asset_id = ?",
                            (asset_id,))
    if found is None:
        raise NotFound("EXIF not found")
    return {"asset_id": asset_id, "exif_raw": loads(found["exif_raw"], {})}


def original_path(ctx: Context, who: Principal, asset_id: str) -> tuple[Path, dict]:
    row = row_for(ctx, who, asset_id)
    path = layout.resolve(Path(row["repo_path"]), row["storage_path"])
    if not path.is_file():
        raise NotFound("Asset file not found")
    return path, row


def thumbnail_path(ctx: Context, who: Principal, asset_id: str,
                   size: str) -> tuple[Path, dict]:
    if size not in THUMBNAIL_SIZES:
        raise BadRequest("Invalid thumbnail size",
                         "size must be one of " + ", ".join(THUMBNAIL_SIZES))
    row = row_for(ctx, who, asset_id)
    found = ctx.catalog.one(
        "SELECT storage_path FROM derived_files WHERE asset_id = ? AND kind = ?",
        (asset_id, f"thumbnail_{size}"))
    if found is None:
        raise NotFound("Thumbnail not found")
    path = layout.resolve(Path(row["repo_path"]), found["storage_path"])
    if not path.is_file():
        raise NotFound("Thumbnail not found")
    return path, row


def set_deleted(ctx: Context, who: Principal, asset_id: str, deleted: bool) -> None:
    """Trash or restore: only a flag; the file and its derived files stay."""
    row = row_for(ctx, who, asset_id)
    stamp = now_iso() if deleted else None
    ctx.catalog.write(lambda conn: conn.execute(
        "UPDATE assets SET is_deleted = ?, deleted_at = ?, updated_at = ?"
        " WHERE asset_id = ?", (int(deleted), stamp, now_iso(), asset_id)))
    if row["geohash7"]:
        # A photo in the trash leaves its place cluster; restored, it comes back.
        from lumilio.services import locations

        locations.request_rebuild(ctx, row["repository_id"])


# -- uploads --------------------------------------------------------------------------


def upload_target(ctx: Context, who: Principal, repository_id: str | None) -> dict:
    if repository_id:
        repo = repositories.get_row(ctx, repositories.valid_uuid(repository_id))
    else:
        repo = repositories.primary_row(ctx)
        if repo is None:
            raise BadRequest("No repository to upload into")
    if not who.is_admin and repo["default_owner_id"] not in (None, who.user_id) \
            and repo["role"] != "primary":
        raise NotFound("Repository not found")
    return repo


class StagedUpload:
    """An upload being written to the repository's staging folder, hashed as it goes."""

    def __init__(self, repo: dict, limit_bytes: int):
        folder = layout.staging_dir(Path(repo["path"]))
        folder.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(prefix="upload-", suffix=".part", dir=folder)
        self.path = Path(name)
        self._file = os.fdopen(fd, "wb")
        self._hash = blake3.blake3()
        self.size = 0
        self.limit = limit_bytes

    def write(self, chunk: bytes) -> None:
        self.size += len(chunk)
        if self.size > self.limit:
            self.discard()
            raise PayloadTooLarge(
                "Upload too large", f"the limit is {self.limit // (1 << 20)} MB")
        self._hash.update(chunk)
        self._file.write(chunk)

    def finish(self) -> str:
        self._file.close()
        # The file becomes one of the user's files: readable as theirs usually are.
        os.chmod(self.path, 0o644)
        return self._hash.hexdigest()

    def take_extension(self, filename: str) -> None:
        """Give the staged file the upload's extension, which the type check reads."""
        named = self.path.with_suffix(Path(filename).suffix.lower()[:16])
        self.path.replace(named)
        self.path = named

    def discard(self) -> None:
        if not self._file.closed:
            self._file.close()
        self.path.unlink(missing_ok=True)


def commit_upload(ctx: Context, who: Principal, repo: dict, staged: StagedUpload,
                  filename: str | None, claimed_hash: str | None) -> dict:
    content_hash = staged.finish()
    if claimed_hash and claimed_hash.strip().lower() != content_hash:
        staged.discard()
        raise BadRequest("Content hash mismatch",
                         "X-Content-Hash does not match the uploaded bytes")
    if staged.size == 0:
        staged.discard()
        raise BadRequest("Empty file", "the uploaded file has no content")
    name = placement.safe_filename(filename)
    staged.take_extension(name)
    try:
        asset_id, job_id = ingest.create_uploaded_asset(
            ctx, repo, staged.path, name, content_hash, who.user_id)
    except MediaError as exc:
        staged.discard()
        raise Unprocessable("Unsupported file", f"{name}: {exc}") from None
    created = job_id is not None
    log.info("upload %r by %s: %s", name, who.username,
             "new asset" if created else "already in the library")
    return {
        "task_id": job_id or 0,
        "status": "processing" if created else "duplicate",
        "file_name": name,
        "size": staged.size,
        "content_hash": content_hash,
        "asset_id": asset_id,
        "message": "File received and queued for processing" if created
        else "The same content is already in the library",
    }
