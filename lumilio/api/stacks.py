"""Stacks: the stack of an asset, stacking by hand, and detection per repository."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from lumilio.api import http
from lumilio.api.http import ctx_of, endpoint, ok, uuid_param
from lumilio.services import repositories as repos
from lumilio.services import stacks


@endpoint
def asset_stack(request: Request, body: dict):
    who = http.ready_user(request)
    return ok(stacks.for_asset(ctx_of(request), who, uuid_param(request)))


@endpoint
def leave_stack(request: Request, body: dict):
    who = http.ready_user(request)
    stacks.unstack(ctx_of(request), who, uuid_param(request))
    return http.message("Asset removed from its stack")


@endpoint
def create_stack(request: Request, body: dict):
    who = http.ready_user(request)
    asset_ids = http.field(body, "asset_ids", list, required=True)
    # The API document answers this one with 201 Created.
    return JSONResponse(stacks.create_manual(ctx_of(request), who, asset_ids),
                        status_code=201)


@endpoint
def detect_stacks(request: Request, body: dict):
    http.ready_admin(request)
    ctx = ctx_of(request)
    repo = repos.get_row(ctx, uuid_param(request))
    created = stacks.detect(ctx, repo["repository_id"])
    return ok({"repository_id": repo["repository_id"], "stacks_created": created})


routes = [
    Route("/assets/stacks", create_stack, methods=["POST"]),
    Route("/assets/{id}/stack", asset_stack, methods=["GET"]),
    Route("/assets/{id}/stack", leave_stack, methods=["DELETE"]),
    Route("/repositories/{id}/stacks/detect", detect_stacks, methods=["POST"]),
]
