"""TOTP enrolment, recovery codes, MFA status, and the MFA step of sign-in."""

from __future__ import annotations

from starlette.requests import Request
from starlette.routing import Route

from lumilio.api import http
from lumilio.api.http import ctx_of, endpoint, field, ok
from lumilio.services import mfa


@endpoint
def status(request: Request, body: dict):
    who = http.user(request)
    return ok(mfa.status(ctx_of(request), who.user_id))


@endpoint
def totp_setup(request: Request, body: dict):
    who = http.user(request)
    return ok(mfa.setup_totp(ctx_of(request), who))


@endpoint
def totp_enable(request: Request, body: dict):
    who = http.user(request)
    setup_token = field(body, "setup_token", str, required=True)
    code = field(body, "code", str, required=True)
    return ok(mfa.enable_totp(ctx_of(request), who, setup_token, code))


@endpoint
def totp_disable(request: Request, body: dict):
    who = http.user(request)
    password = field(body, "current_password", str, required=True)
    return ok(mfa.disable_totp(ctx_of(request), who, password))


@endpoint
def regenerate_codes(request: Request, body: dict):
    who = http.user(request)
    password = field(body, "current_password", str, required=True)
    return ok(mfa.regenerate_recovery_codes(ctx_of(request), who, password))


@endpoint
def verify(request: Request, body: dict):
    token = field(body, "mfa_token", str, required=True)
    code = field(body, "code", str, required=True)
    method = field(body, "method", str, required=True)
    return ok(mfa.verify_sign_in(ctx_of(request), token, code, method,
                                 http.client_address(request)))


routes = [
    Route("/auth/mfa", status, methods=["GET"]),
    Route("/auth/mfa/totp/setup", totp_setup, methods=["POST"]),
    Route("/auth/mfa/totp/enable", totp_enable, methods=["POST"]),
    Route("/auth/mfa/totp/disable", totp_disable, methods=["POST"]),
    Route("/auth/mfa/recovery-codes/regenerate", regenerate_codes, methods=["POST"]),
    Route("/auth/mfa/verify", verify, methods=["POST"]),
]
