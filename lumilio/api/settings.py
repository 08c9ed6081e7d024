"""System settings and runtime info (admin)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.routing import Route

from lumilio.api import http
from lumilio.api.http import ctx_of, endpoint, ok
from lumilio.services import system_settings


@endpoint
def runtime_info(request: Request, body: dict):
    http.ready_admin(request)
    return ok(system_settings.runtime_info(ctx_of(request)))


@endpoint
def get_system(request: Request, body: dict):
    http.ready_admin(request)
    return ok(system_settings.dto(ctx_of(request)))


@endpoint
def update_system(request: Request, body: dict):
    who = http.ready_admin(request)
    return ok(system_settings.update(ctx_of(request), who, body))


@endpoint
def validate_llm(request: Request, body: dict):
    http.ready_admin(request)
    return ok(system_settings.validate_llm(ctx_of(request), body))


routes = [
    Route("/settings/runtime-info", runtime_info, methods=["GET"]),
    Route("/settings/system", get_system, methods=["GET"]),
    Route("/settings/system", update_system, methods=["PATCH"]),
    Route("/settings/system/validate-llm", validate_llm, methods=["POST"]),
]
