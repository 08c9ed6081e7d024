"""Location clusters: the places of the library, and their rebuild (admin)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.routing import Route

from lumilio.api import http
from lumilio.api.http import ctx_of, endpoint, ok, query_int
from lumilio.errors import BadRequest
from lumilio.services import locations, repositories


@endpoint
def clusters(request: Request, body: dict):
    who = http.ready_user(request)
    params = request.query_params
    limit = query_int(request, "limit", 100, 1, 1000)
    offset = query_int(request, "offset", 0, 0, 2**31)
    return ok(locations.list_clusters(ctx_of(request), who, limit, offset,
                                      params.get("repository_id") or None,
                                      params.get("geohash") or None))


@endpoint
def rebuild(request: Request, body: dict):
    http.ready_admin(request)
    ctx = ctx_of(request)
    repository_id = body.get("repository_id")
    if repository_id is not None and not isinstance(repository_id, str):
        raise BadRequest("Invalid request data", "repository_id must be a string")
    if repository_id:
        repository_id = repositories.get_row(
            ctx, repositories.valid_uuid(repository_id))["repository_id"]

    job_id = locations.request_rebuild(ctx, repository_id or None)
    out = {"status": "queued", "job_id": job_id,
           "message": "Location cluster rebuild queued successfully"}
    if repository_id:
        out["repository_id"] = repository_id
    return ok(out)


routes = [
    Route("/locations/clusters", clusters, methods=["GET"]),
    Route("/locations/rebuild", rebuild, methods=["POST"]),
]
