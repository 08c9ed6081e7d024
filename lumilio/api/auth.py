"""Sign-up, sign-in, tokens."""

from __future__ import annotations

from starlette.requests import Request
from starlette.routing import Route

from lumilio.api import http
from lumilio.api.http import ctx_of, endpoint, field, ok
from lumilio.services import accounts


@endpoint
def register(request: Request, body: dict):
    username = field(body, "username", str, required=True)
    password = field(body, "password", str, required=True)
    return ok(accounts.register(ctx_of(request), username, password))


@endpoint
def login(request: Request, body: dict):
    username = field(body, "username", str, required=True)
    password = field(body, "password", str, required=True)
    result = accounts.login(ctx_of(request), username, password,
                            http.client_address(request))
    return ok(result)


@endpoint
def refresh(request: Request, body: dict):
    token = field(body, "refreshToken", str, required=True)
    return ok(accounts.refresh(ctx_of(request), token))


@endpoint
def logout(request: Request, body: dict):
    token = field(body, "refreshToken", str, required=True)
    accounts.logout(ctx_of(request), token)
    return http.message("Logged out successfully")


@endpoint
def me(request: Request, body: dict):
    who = http.user(request)
    return ok(accounts.user_dto(accounts.get_user(ctx_of(request), who.user_id)))


@endpoint
def media_token(request: Request, body: dict):
    who = http.user(request)
    return ok(accounts.media_token(ctx_of(request), who.user_id))


routes = [
    Route("/auth/register/start", register, methods=["POST"]),
    Route("/auth/login", login, methods=["POST"]),
    Route("/auth/refresh", refresh, methods=["POST"]),
    Route("/auth/logout", logout, methods=["POST"]),
    Route("/auth/me", me, methods=["GET"]),
    Route("/auth/media-token", media_token, methods=["GET"]),
]
