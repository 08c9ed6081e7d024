"""Edit sidecars and reprocessing of one asset."""

from __future__ import annotations

from starlette.requests import Request
from starlette.routing import Route

from lumilio.api import http
from lumilio.api.http import ctx_of, endpoint, ok, uuid_param
from lumilio.services import reprocess, sidecars


@endpoint
def get_sidecar(request: Request, body: dict):
    who = http.ready_user(request)
    return ok(sidecars.get(ctx_of(request), who, uuid_param(request)))


@endpoint
def put_sidecar(request: Request, body: dict):
    who = http.ready_user(request)
    return ok(sidecars.put(ctx_of(request), who, uuid_param(request), body))


@endpoint
def reprocess_asset(request: Request, body: dict):
    who = http.ready_user(request)
    return ok(reprocess.reprocess(ctx_of(request), who, uuid_param(request), body))


routes = [
    Route("/assets/{id}/sidecar", get_sidecar, methods=["GET"]),
    Route("/assets/{id}/sidecar", put_sidecar, methods=["PUT"]),
    Route("/assets/{id}/reprocess", reprocess_asset, methods=["POST"]),
]
