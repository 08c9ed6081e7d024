"""Ways into the library besides the timeline: featured photos, the map, search."""

from __future__ import annotations

from starlette.requests import Request
from starlette.routing import Route

from lumilio.api import http, query_params
from lumilio.api.http import ctx_of, endpoint, ok
from lumilio.errors import BadRequest
from lumilio.services import featured, places, search

MAX_SEED = 200


@endpoint
def featured_assets(request: Request, body: dict):
    who = http.ready_user(request)
    seed = request.query_params.get("seed") or None
    if seed is not None and len(seed) > MAX_SEED:
        raise BadRequest("Invalid request data",
                         f"seed is longer than {MAX_SEED} characters")
    req = featured.Request(
        count=http.query_int(request, "count", 8, 1, 24),
        candidate_limit=http.query_int(request, "candidate_limit", 240, 16, 1000),
        days=http.query_int(request, "days", 3650, 0, 36500),
        seed=seed,
        repository_id=query_params.repository_id(request),
    )
    return ok(featured.featured(ctx_of(request), who, req))


@endpoint
def map_points(request: Request, body: dict):
    who = http.ready_user(request)
    limit = http.query_int(request, "limit", 1000, 1, 5000)
    offset = http.query_int(request, "offset", 0, 0, 2**31)
    return ok(places.map_points(ctx_of(request), who, limit, offset,
                                query_params.repository_id(request)))


@endpoint
def search_assets(request: Request, body: dict):
    who = http.ready_user(request)
    return ok(search.search(ctx_of(request), who, body))


routes = [
    Route("/assets/featured", featured_assets, methods=["GET"]),
    Route("/assets/map-points", map_points, methods=["GET"]),
    Route("/assets/search", search_assets, methods=["POST"]),
]
