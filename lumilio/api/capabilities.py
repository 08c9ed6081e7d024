"""What this server can do right now (public)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.routing import Route

from lumilio.api.http import ctx_of, endpoint, ok
from lumilio.services import system_settings


@endpoint
def capabilities(request: Request, body: dict):
    return ok(system_settings.capabilities(ctx_of(request)))


routes = [
    Route("/capabilities", capabilities, methods=["GET"]),
]
