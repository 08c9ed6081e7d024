"""Recognition indexing (`/assets/indexing/*`, admin)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.routing import Route

from lumilio.api import http, query_params
from lumilio.api.http import ctx_of, endpoint, ok
from lumilio.services import indexing


@endpoint
def repositories(request: Request, body: dict):
    http.ready_admin(request)
    return ok(indexing.repository_options(ctx_of(request)))


@endpoint
def stats(request: Request, body: dict):
    http.ready_admin(request)
    return ok(indexing.stats(ctx_of(request), query_params.repository_id(request)))


@endpoint
def rebuild(request: Request, body: dict):
    http.ready_admin(request)
    return ok(indexing.rebuild(ctx_of(request), body))


routes = [
    Route("/assets/indexing/repositories", repositories, methods=["GET"]),
    Route("/assets/indexing/stats", stats, methods=["GET"]),
    Route("/assets/indexing/rebuild", rebuild, methods=["POST"]),
]
