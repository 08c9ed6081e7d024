"""Health and first-run setup."""

from __future__ import annotations

from starlette.requests import Request
from starlette.routing import Route

from lumilio.api.http import ctx_of, endpoint, ok
from lumilio.services import setup


async def health(request: Request):
    return ok({"status": "ok"})


@endpoint
def setup_status(request: Request, body: dict):
    return ok(setup.status(ctx_of(request)))


@endpoint
def setup_initialize(request: Request, body: dict):
    return ok(setup.initialize(ctx_of(request)))


routes = [
    Route("/health", health, methods=["GET"]),
    Route("/setup/status", setup_status, methods=["GET"]),
    Route("/setup", setup_initialize, methods=["POST"]),
]
