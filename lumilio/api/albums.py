"""Albums (`/albums/*`): the caller's own, with their members in order."""

from __future__ import annotations

from starlette.requests import Request
from starlette.routing import Route

from lumilio.api import http, query_params
from lumilio.api.http import ctx_of, endpoint, int_param, ok, uuid_param
from lumilio.services import albums


@endpoint
def list_albums(request: Request, body: dict):
    who = http.ready_user(request)
    limit, offset = query_params.page(request)
    return ok(albums.list_albums(ctx_of(request), who, limit, offset,
                                 query_params.repository_id(request)))


@endpoint
def create_album(request: Request, body: dict):
    who = http.ready_user(request)
    return ok(albums.create_album(ctx_of(request), who, body))


@endpoint
def get_album(request: Request, body: dict):
    who = http.ready_user(request)
    return ok(albums.get_album(ctx_of(request), who, int_param(request),
                               query_params.repository_id(request)))


@endpoint
def update_album(request: Request, body: dict):
    who = http.ready_user(request)
    return ok(albums.update_album(ctx_of(request), who, int_param(request), body))


@endpoint
def delete_album(request: Request, body: dict):
    who = http.ready_user(request)
    albums.delete_album(ctx_of(request), who, int_param(request))
    return http.message("Album deleted successfully")


@endpoint
def album_assets(request: Request, body: dict):
    who = http.ready_user(request)
    return ok(albums.album_assets(ctx_of(request), who, int_param(request),
                                  query_params.repository_id(request)))


@endpoint
def add_asset(request: Request, body: dict):
    who = http.ready_user(request)
    albums.add_asset(ctx_of(request), who, int_param(request),
                     uuid_param(request, "assetId"), body.get("position"))
    return http.message("Asset added to album successfully")


@endpoint
def remove_asset(request: Request, body: dict):
    who = http.ready_user(request)
    albums.remove_asset(ctx_of(request), who, int_param(request),
                        uuid_param(request, "assetId"))
    return http.message("Asset removed from album successfully")


@endpoint
def move_asset(request: Request, body: dict):
    who = http.ready_user(request)
    albums.move_asset(ctx_of(request), who, int_param(request),
                      uuid_param(request, "assetId"), body.get("position"))
    return http.message("Asset position updated successfully")


@endpoint
def bioclip_rebuild(request: Request, body: dict):
    who = http.ready_user(request)
    return ok(albums.bioclip_rebuild(ctx_of(request), who, int_param(request)))


routes = [
    Route("/albums", list_albums, methods=["GET"]),
    Route("/albums", create_album, methods=["POST"]),
    Route("/albums/{id}", get_album, methods=["GET"]),
    Route("/albums/{id}", update_album, methods=["PUT"]),
    Route("/albums/{id}", delete_album, methods=["DELETE"]),
    Route("/albums/{id}/assets", album_assets, methods=["GET"]),
    Route("/albums/{id}/assets/{assetId}", add_asset, methods=["POST"]),
    Route("/albums/{id}/assets/{assetId}", remove_asset, methods=["DELETE"]),
    Route("/albums/{id}/assets/{assetId}/position", move_asset, methods=["PUT"]),
    Route("/albums/{id}/bioclip/rebuild", bioclip_rebuild, methods=["POST"]),
]
