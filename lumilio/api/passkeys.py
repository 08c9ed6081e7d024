"""Passkeys: enrolment and management (signed in), sign-in with one (public)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.routing import Route

from lumilio.api import http
from lumilio.api.http import ctx_of, endpoint, field, ok
from lumilio.services import passkeys


@endpoint
def list_passkeys(request: Request, body: dict):
    who = http.user(request)
    return ok(passkeys.list_for(ctx_of(request), who))


@endpoint
def enrol_options(request: Request, body: dict):
    who = http.user(request)
    return ok(passkeys.enrolment_start(ctx_of(request), who))


@endpoint
def enrol_verify(request: Request, body: dict):
    who = http.user(request)
    token = field(body, "challenge_token", str, required=True)
    credential = field(body, "credential", dict, required=True)
    label = field(body, "label", str)
    return ok(passkeys.enrolment_finish(ctx_of(request), who, token, credential,
                                        label))


@endpoint
def delete_passkey(request: Request, body: dict):
    who = http.user(request)
    passkeys.delete(ctx_of(request), who, http.int_param(request))
    return http.message("Passkey deleted")


@endpoint
def login_options(request: Request, body: dict):
    username = field(body, "username", str)
    return ok(passkeys.sign_in_start(ctx_of(request), username,
                                     http.client_address(request)))


@endpoint
def login_verify(request: Request, body: dict):
    token = field(body, "challenge_token", str, required=True)
    credential = field(body, "credential", dict, required=True)
    return ok(passkeys.sign_in_finish(ctx_of(request), token, credential,
                                      http.client_address(request)))


routes = [
    Route("/auth/mfa/passkeys", list_passkeys, methods=["GET"]),
    Route("/auth/mfa/passkeys/options", enrol_options, methods=["POST"]),
    Route("/auth/mfa/passkeys/verify", enrol_verify, methods=["POST"]),
    Route("/auth/mfa/passkeys/{id}", delete_passkey, methods=["DELETE"]),
    Route("/auth/passkeys/login/options", login_options, methods=["POST"]),
    Route("/auth/passkeys/login/verify", login_verify, methods=["POST"]),
]
