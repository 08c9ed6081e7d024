"""Image-text models for smart search (admin): the bundled one and installed packs.

Not part of the API document: Lumilio's own addition, since its models run in
process rather than on inference nodes.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.routing import Route

from lumilio.api import http
from lumilio.api.http import ctx_of, endpoint, ok
from lumilio.services import ml, semantic


@endpoint
def list_models(request: Request, body: dict):
    http.ready_admin(request)
    ctx = ctx_of(request)
    return ok({**semantic.list_models(ctx), "runtime": ml.describe(ctx)})


@endpoint
def install(request: Request, body: dict):
    http.ready_admin(request)
    return ok(semantic.install_pack(ctx_of(request), body.get("source")))


@endpoint
def activate(request: Request, body: dict):
    http.ready_admin(request)
    return ok(semantic.activate(ctx_of(request), request.path_params["name"]))


@endpoint
def remove(request: Request, body: dict):
    http.ready_admin(request)
    semantic.remove_pack(ctx_of(request), request.path_params["name"])
    return http.message("Model pack removed")


routes = [
    Route("/ml/models", list_models, methods=["GET"]),
    Route("/ml/models", install, methods=["POST"]),
    Route("/ml/models/{name}/activate", activate, methods=["POST"]),
    Route("/ml/models/{name}", remove, methods=["DELETE"]),
]
