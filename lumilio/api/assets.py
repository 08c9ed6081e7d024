"""Assets: the unified list, details, files, trash and uploads."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import Route

from lumilio.api import http
from lumilio.api.http import call, ctx_of, endpoint, ok, uuid_param
from lumilio.errors import BadRequest, PayloadTooLarge
from lumilio.services import assets, browse

ONE_DAY = "public, max-age=86400, must-revalidate"
DETAIL_FLAGS = {
    "include_thumbnails": True, "include_tags": True, "include_albums": True,
    "include_species": True, "include_ocr": False, "include_faces": False,
}


def _flag(request: Request, name: str, default: bool) -> bool:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    if raw.lower() in ("true", "1"):
        return True
    if raw.lower() in ("false", "0"):
        return False
    raise BadRequest("Invalid request data", f"{name} must be true or false")


@endpoint
def list_assets(request: Request, body: dict):
    who = http.ready_user(request)
    return ok(browse.query(ctx_of(request), who, body))


@endpoint
def get_asset(request: Request, body: dict):
    who = http.ready_user(request)
    flags = {name: _flag(request, name, d) for name, d in DETAIL_FLAGS.items()}
    return ok(assets.detail(ctx_of(request), who, uuid_param(request), flags))


@endpoint
def delete_asset(request: Request, body: dict):
    who = http.ready_user(request)
    assets.set_deleted(ctx_of(request), who, uuid_param(request), True)
    return http.message("Asset moved to trash")


@endpoint
def restore_asset(request: Request, body: dict):
    who = http.ready_user(request)
    assets.set_deleted(ctx_of(request), who, uuid_param(request), False)
    return http.message("Asset restored")


@endpoint
def asset_exif(request: Request, body: dict):
    who = http.ready_user(request)
    return ok(assets.exif(ctx_of(request), who, uuid_param(request)))


def _etag_response(request: Request, path, etag: str, media_type: str,
                   headers: dict) -> Response:
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers={"ETag": etag, **headers})
    return FileResponse(path, media_type=media_type,
                        headers={"ETag": etag, **headers})


@endpoint
def thumbnail(request: Request, body: dict):
    who = http.ready_user(request, media=True)
    size = request.query_params.get("size") or "medium"
    path, row = assets.thumbnail_path(ctx_of(request), who, uuid_param(request), size)
    etag = f'"{row["asset_id"][:8]}-{size}-{int(path.stat().st_mtime)}"'
    return _etag_response(request, path, etag, "image/webp",
                          {"Cache-Control": ONE_DAY})


@endpoint
def original(request: Request, body: dict):
    who = http.ready_user(request, media=True)
    path, row = assets.original_path(ctx_of(request), who, uuid_param(request))
    etag = f'"{(row["hash"] or row["asset_id"])[:16]}"'
    name = row["original_filename"].replace('"', "")
    headers = {
        "Cache-Control": "private, max-age=86400",
        "Content-Disposition": f"inline; filename*=UTF-8''{_quote(name)}",
    }
    return _etag_response(request, path, etag, row["mime_type"], headers)


def _quote(name: str) -> str:
    from urllib.parse import quote

    return quote(name, safe="")


async def upload(request: Request):
    ctx = ctx_of(request)
    who = await call(http.ready_user, request)
    limit = ctx.config.max_upload_mb << 20
    length = request.headers.get("content-length")
    if length and length.isdigit() and int(length) > limit + (1 << 20):
        raise PayloadTooLarge("Upload too large",
                              f"the limit is {ctx.config.max_upload_mb} MB")
    if "multipart/form-data" not in request.headers.get("content-type", ""):
        raise BadRequest("Invalid request data", "expected multipart/form-data")

    # TODO: Starlette spools the file part to a temporary file before we copy it
    # into staging (two writes); the batch route's streaming parser avoids that but
    # needs the repository before the file part, which this form does not promise.
    form = await request.form(max_files=1, max_fields=20)
    try:
        file = form.get("file")
        if file is None or isinstance(file, str):
            raise BadRequest("Invalid request data", "the form has no file field")
        repository_id = form.get("repository_id") or request.query_params.get(
            "repository_id")
        repo = await call(assets.upload_target, ctx, who,
                          repository_id if isinstance(repository_id, str) else None)
        staged = await call(assets.StagedUpload, repo, limit)
        try:
            while chunk := await file.read(1 << 20):
                await call(staged.write, chunk)
        except BaseException:
            staged.discard()
            raise
        result = await call(assets.commit_upload, ctx, who, repo, staged,
                            file.filename, request.headers.get("x-content-hash"))
    finally:
        await form.close()
    return ok(result)


@endpoint
def asset_types(request: Request, body: dict):
    return ok({"types": list(browse.TYPES)})


@endpoint
def filter_options(request: Request, body: dict):
    who = http.ready_user(request)
    ctx = ctx_of(request)
    scope, params = ("", ()) if who.is_admin else (" AND owner_id = ?", (who.user_id,))

    def distinct(column: str) -> list[str]:
        rows = ctx.catalog.all(
            f"SELECT DISTINCT {column} AS v FROM assets WHERE is_deleted = 0"
            f" AND {column} IS NOT NULL AND {column} != ''{scope} ORDER BY v", params)
        return [r["v"] for r in rows]

    return ok({"camera_models": distinct("camera_model"),
               "lenses": distinct("lens_model")})


routes = [
    Route("/assets", upload, methods=["POST"]),
    Route("/assets/list", list_assets, methods=["POST"]),
    Route("/assets/types", asset_types, methods=["GET"]),
    Route("/assets/filter-options", filter_options, methods=["GET"]),
    Route("/assets/{id}", get_asset, methods=["GET"]),
    Route("/assets/{id}", delete_asset, methods=["DELETE"]),
    Route("/assets/{id}/restore", restore_asset, methods=["POST"]),
    Route("/assets/{id}/exif", asset_exif, methods=["GET"]),
    Route("/assets/{id}/thumbnail", thumbnail, methods=["GET", "HEAD"]),
    Route("/assets/{id}/original", original, methods=["GET", "HEAD"]),
]
