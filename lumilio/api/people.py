"""People: face clusters, their names, covers and photos."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import FileResponse
from starlette.routing import Route

from lumilio.api import http, query_params
from lumilio.api.http import ctx_of, endpoint, int_param, ok
from lumilio.errors import BadRequest
from lumilio.services import browse, people

PAGE_DEFAULT, PAGE_CAP = 24, 100


@endpoint
def list_people(request: Request, body: dict):
    who = http.ready_user(request)
    limit, offset = query_params.page(request, PAGE_DEFAULT, PAGE_CAP)
    return ok(people.list_people(ctx_of(request), who,
                                 query_params.repository_id(request), limit, offset))


@endpoint
def get_person(request: Request, body: dict):
    who = http.ready_user(request)
    return ok(people.get_person(ctx_of(request), who, int_param(request),
                                query_params.repository_id(request)))


@endpoint
def rename_person(request: Request, body: dict):
    who = http.ready_user(request)
    return ok(people.rename(ctx_of(request), who, int_param(request),
                            body.get("name"), query_params.repository_id(request)))


@endpoint
def rebuild(request: Request, body: dict):
    who = http.ready_user(request)
    return ok(people.rebuild(ctx_of(request), who,
                             query_params.repository_id(request)))


@endpoint
def person_assets(request: Request, body: dict):
    who = http.ready_user(request)
    ctx = ctx_of(request)
    person_id = int_param(request)
    people.get_person(ctx, who, person_id)
    filt = body.get("filter")
    if filt is not None and not isinstance(filt, dict):
        raise BadRequest("Invalid request data", "filter must be an object")
    scoped = {**(filt or {}), "person_id": person_id}
    return ok(browse.query(ctx, who, {**body, "filter": scoped}))


@endpoint
def cover(request: Request, body: dict):
    who = http.ready_user(request, media=True)
    path = people.cover_path(ctx_of(request), who, int_param(request),
                             query_params.repository_id(request))
    return FileResponse(path, media_type="image/webp",
                        headers={"Cache-Control": "private, max-age=3600"})


routes = [
    Route("/people", list_people, methods=["GET"]),
    Route("/people/rebuild", rebuild, methods=["POST"]),
    Route("/people/{id}", get_person, methods=["GET"]),
    Route("/people/{id}", rename_person, methods=["PATCH"]),
    Route("/people/{id}/assets/list", person_assets, methods=["POST"]),
    Route("/people/{id}/cover", cover, methods=["GET", "HEAD"]),
]
