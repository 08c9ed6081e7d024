"""Users: the administrator's list and changes; my profile and password."""

from __future__ import annotations

from starlette.requests import Request
from starlette.routing import Route

from lumilio.api import http
from lumilio.api.http import ctx_of, endpoint, field, ok
from lumilio.services import users


@endpoint
def list_users(request: Request, body: dict):
    http.ready_admin(request)
    limit = http.query_int(request, "limit", 20, 1, 100, clamp=True)
    offset = http.query_int(request, "offset", 0, 0, 1 << 62, clamp=True)
    return ok(users.list_users(ctx_of(request), limit, offset))


@endpoint
def update_user(request: Request, body: dict):
    who = http.ready_admin(request)
    return ok(users.update_user(
        ctx_of(request), who, http.int_param(request),
        username=field(body, "username", str),
        display_name=field(body, "display_name", str),
        role=field(body, "role", str),
        is_active=field(body, "is_active", bool),
        avatar_asset_id=field(body, "avatar_asset_id", str),
    ))


@endpoint
def reset_access(request: Request, body: dict):
    who = http.ready_admin(request)
    return ok(users.reset_access(ctx_of(request), who, http.int_param(request)))


@endpoint
def change_password(request: Request, body: dict):
    who = http.ready_user(request)
    current = field(body, "current_password", str, required=True)
    new = field(body, "new_password", str, required=True)
    users.change_password(ctx_of(request), who, current, new)
    return http.message("Password updated; every session was signed out")


@endpoint
def update_profile(request: Request, body: dict):
    who = http.ready_user(request)
    return ok(users.update_profile(
        ctx_of(request), who, field(body, "display_name", str),
        field(body, "avatar_asset_id", str)))


routes = [
    Route("/users", list_users, methods=["GET"]),
    Route("/users/me/password", change_password, methods=["PATCH"]),
    Route("/users/me/profile", update_profile, methods=["PATCH"]),
    Route("/users/{id}", update_user, methods=["PATCH"]),
    Route("/users/{id}/reset-access", reset_access, methods=["POST"]),
]
