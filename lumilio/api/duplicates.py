"""Duplicate groups of a repository: detect, review, dismiss, merge (signed in)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.routing import Route

from lumilio.api import http
from lumilio.api.http import ctx_of, endpoint, ok, query_int, uuid_param
from lumilio.services import duplicates


@endpoint
def detect(request: Request, body: dict):
    who = http.ready_user(request)
    return ok(duplicates.detect(ctx_of(request), who, body.get("repository_id")))


@endpoint
def list_groups(request: Request, body: dict):
    who = http.ready_user(request)
    params = request.query_params
    limit = query_int(request, "limit", 20, 1, 100, clamp=True)
    offset = query_int(request, "offset", 0, 0, 2**31)
    return ok(duplicates.list_groups(ctx_of(request), who, params.get("repository_id"),
                                     params.get("status") or "pending", limit, offset))


@endpoint
def get_group(request: Request, body: dict):
    who = http.ready_user(request)
    return ok(duplicates.get_group(ctx_of(request), who, uuid_param(request)))


@endpoint
def dismiss(request: Request, body: dict):
    who = http.ready_user(request)
    duplicates.dismiss(ctx_of(request), who, uuid_param(request))
    return http.message("Duplicate group dismissed")


@endpoint
def merge(request: Request, body: dict):
    who = http.ready_user(request)
    return ok(duplicates.merge(ctx_of(request), who, uuid_param(request), body))


@endpoint
def summary(request: Request, body: dict):
    who = http.ready_user(request)
    return ok(duplicates.summary(ctx_of(request), who,
                                 request.query_params.get("repository_id")))


routes = [
    Route("/duplicates/detect", detect, methods=["POST"]),
    Route("/duplicates/groups", list_groups, methods=["GET"]),
    Route("/duplicates/summary", summary, methods=["GET"]),
    Route("/duplicates/groups/{id}", get_group, methods=["GET"]),
    Route("/duplicates/groups/{id}/dismiss", dismiss, methods=["POST"]),
    Route("/duplicates/groups/{id}/merge", merge, methods=["POST"]),
]
