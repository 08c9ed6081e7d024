"""Media files made for a client: web video and audio, photo exports, zip downloads.

All of them accept the `mt` media token, since browsers fetch them from `<video>`,
`<audio>` and download links that carry no Authorization header.
"""

from __future__ import annotations

from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import FileResponse, StreamingResponse
from starlette.routing import Route

from lumilio.api import http
from lumilio.api.http import call, ctx_of, endpoint, uuid_param
from lumilio.services import downloads, media_files

WEB_CACHE = "private, max-age=86400"
# The original stands in for a web version that is still being made: check again.
FALLBACK_CACHE = "no-cache"


def attachment(filename: str) -> str:
    """A Content-Disposition that survives any file name (RFC 6266 with a fallback)."""
    plain = filename.encode("ascii", "replace").decode("ascii").replace('"', "_")
    return f"attachment; filename=\"{plain}\"; filename*=UTF-8''{quote(filename)}"


def _web(request: Request, asset_type: str) -> FileResponse:
    who = http.ready_user(request, media=True)
    found = media_files.web_file(ctx_of(request), who, uuid_param(request), asset_type)
    headers = {"Cache-Control": WEB_CACHE if found.ready else FALLBACK_CACHE,
               "Accept-Ranges": "bytes"}
    return FileResponse(found.path, media_type=found.media_type, headers=headers)


@endpoint
def web_video(request: Request, body: dict):
    return _web(request, "VIDEO")


@endpoint
def web_audio(request: Request, body: dict):
    return _web(request, "AUDIO")


@endpoint
def export_asset(request: Request, body: dict):
    who = http.ready_user(request, media=True)
    options = media_files.export_options(dict(request.query_params))
    made = media_files.export_asset(ctx_of(request), who, uuid_param(request), options,
                                    request.query_params.get("filename"))
    return StreamingResponse(made.chunks(), media_type=made.media_type, headers={
        "Content-Disposition": attachment(made.filename),
        "Cache-Control": "private, no-store",
    })


async def download(request: Request):
    """A JSON body `{asset_ids}`; or, for a plain HTML form, `asset_ids` fields.

    The form variant (with the `mt` token in the URL) lets a browser save the
    archive straight to disk as it streams, instead of holding it in memory.
    """
    ctx = ctx_of(request)
    who = await call(http.ready_user, request, True)
    asset_ids = await _asset_ids(request)
    entries = await call(downloads.plan, ctx, who, asset_ids)
    return StreamingResponse(downloads.stream(entries), media_type="application/zip",
                             headers={
                                 "Content-Disposition": attachment(
                                     downloads.archive_name()),
                                 "Cache-Control": "private, no-store",
                             })


async def _asset_ids(request: Request) -> object:
    kind = request.headers.get("content-type", "")
    if kind.startswith("application/x-www-form-urlencoded"):
        async with request.form(max_fields=downloads.MAX_ASSETS + 1) as form:
            values = form.getlist("asset_ids")
        ids = [i.strip() for v in values if isinstance(v, str)
               for i in v.split(",") if i.strip()]
        return ids
    body = await http.json_body(request)
    return http.field(body, "asset_ids", list, required=True)


routes = [
    Route("/assets/download", download, methods=["POST"]),
    Route("/assets/{id}/video/web", web_video, methods=["GET"]),
    Route("/assets/{id}/audio/web", web_audio, methods=["GET"]),
    Route("/assets/{id}/export", export_asset, methods=["GET"]),
]
