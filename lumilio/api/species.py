"""Species reference facts (iNaturalist, cached)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.routing import Route

from lumilio.api import http
from lumilio.api.http import ctx_of, endpoint, ok
from lumilio.services import species_reference


@endpoint
def reference(request: Request, body: dict):
    http.require_ready(request)
    http.user(request)
    q = request.query_params
    return ok(species_reference.reference(ctx_of(request), q.get("scientific_name"),
                                          q.get("common_name"), q.get("locale")))


routes = [Route("/species/reference", reference, methods=["GET"])]
