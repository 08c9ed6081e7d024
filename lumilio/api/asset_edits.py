"""Changes to one asset (stars, favourite, description, metadata) and the lists
that follow from them (favourites, by rating)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.routing import Route

from lumilio.api import http, query_params
from lumilio.api.http import ctx_of, endpoint, ok, uuid_param
from lumilio.errors import BadRequest
from lumilio.services import albums, asset_edits, asset_lists


def _required(body: dict, name: str):
    if body.get(name) is None:
        raise BadRequest("Invalid request data", f"{name} is required")
    return body[name]


@endpoint
def update_asset(request: Request, body: dict):
    who = http.ready_user(request)
    asset_edits.replace_metadata(ctx_of(request), who, uuid_param(request),
                                 _required(body, "specific_metadata"))
    return http.message("Asset updated successfully")


@endpoint
def update_rating(request: Request, body: dict):
    who = http.ready_user(request)
    rating = asset_edits.rating_value(_required(body, "rating"))
    asset_edits.set_rating_and_like(ctx_of(request), who, uuid_param(request),
                                    rating, None)
    return http.message("Rating updated successfully")


@endpoint
def update_like(request: Request, body: dict):
    who = http.ready_user(request)
    liked = asset_edits.liked_value(_required(body, "liked"))
    asset_edits.set_rating_and_like(ctx_of(request), who, uuid_param(request),
                                    None, liked)
    return http.message("Like status updated successfully")


@endpoint
def update_rating_and_like(request: Request, body: dict):
    who = http.ready_user(request)
    rating = asset_edits.rating_value(_required(body, "rating"))
    liked = asset_edits.liked_value(_required(body, "liked"))
    asset_edits.set_rating_and_like(ctx_of(request), who, uuid_param(request),
                                    rating, liked)
    return http.message("Rating and like status updated successfully")


@endpoint
def update_description(request: Request, body: dict):
    who = http.ready_user(request)
    asset_edits.set_description(ctx_of(request), who, uuid_param(request),
                                _required(body, "description"))
    return http.message("Description updated successfully")


@endpoint
def liked_assets(request: Request, body: dict):
    who = http.ready_user(request)
    limit, offset = query_params.page(request)
    return ok(asset_lists.liked(ctx_of(request), who, limit, offset))


@endpoint
def rated_assets(request: Request, body: dict):
    who = http.ready_user(request)
    raw = request.path_params["rating"]
    if not raw.isdigit() or not 0 <= int(raw) <= 5:
        raise BadRequest("Invalid request data", "rating must be an integer 0-5")
    limit, offset = query_params.page(request)
    return ok(asset_lists.rated(ctx_of(request), who, int(raw), limit, offset))


@endpoint
def add_to_album(request: Request, body: dict):
    who = http.ready_user(request)
    albums.add_asset(ctx_of(request), who, http.int_param(request, "albumId"),
                     uuid_param(request), body.get("position"))
    return http.message("Asset added to album successfully")


@endpoint
def asset_albums(request: Request, body: dict):
    who = http.ready_user(request)
    return ok(albums.albums_of_asset(ctx_of(request), who, uuid_param(request)))


routes = [
    Route("/assets/liked", liked_assets, methods=["GET"]),
    Route("/assets/rating/{rating}", rated_assets, methods=["GET"]),
    Route("/assets/{id}", update_asset, methods=["PUT"]),
    Route("/assets/{id}/rating", update_rating, methods=["PUT"]),
    Route("/assets/{id}/like", update_like, methods=["PUT"]),
    Route("/assets/{id}/rating-and-like", update_rating_and_like, methods=["PUT"]),
    Route("/assets/{id}/description", update_description, methods=["PUT"]),
    Route("/assets/{id}/albums", asset_albums, methods=["GET"]),
    Route("/assets/{id}/albums/{albumId}", add_to_album, methods=["POST"]),
]
