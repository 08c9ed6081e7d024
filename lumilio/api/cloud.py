"""Cloud import (admin): providers, accounts, import runs, and the two repository
operations that bind an account's imports to a folder."""

from __future__ import annotations

from starlette.requests import Request
from starlette.routing import Route

from lumilio.api import http
from lumilio.api.http import ctx_of, endpoint, ok, uuid_param
from lumilio.cloud import credentials, imports, providers
from lumilio.errors import BadRequest


@endpoint
def list_providers(request: Request, body: dict):
    http.ready_admin(request)
    return ok({"providers": providers.describe_all()})


@endpoint
def list_credentials(request: Request, body: dict):
    http.ready_admin(request)
    return ok({"credentials": credentials.list_all(ctx_of(request))})


@endpoint
def create_credential(request: Request, body: dict):
    who = http.ready_admin(request)
    return ok(credentials.create(ctx_of(request), who, body))


@endpoint
def answer_challenge(request: Request, body: dict):
    http.ready_admin(request)
    return ok(credentials.answer_challenge(ctx_of(request), uuid_param(request), body))


@endpoint
def disconnect_credential(request: Request, body: dict):
    http.ready_admin(request)
    credentials.disconnect(ctx_of(request), uuid_param(request))
    return http.message("Cloud credential disconnected")


@endpoint
def reconnect_credential(request: Request, body: dict):
    http.ready_admin(request)
    return ok(credentials.reconnect(ctx_of(request), uuid_param(request), body))


@endpoint
def remove_credential(request: Request, body: dict):
    http.ready_admin(request)
    credentials.remove(ctx_of(request), uuid_param(request))
    return http.message("Cloud credential removed; imported files were kept")


@endpoint
def get_import_run(request: Request, body: dict):
    http.ready_admin(request)
    return ok(imports.get_run(ctx_of(request), uuid_param(request)))


@endpoint
def sync(request: Request, body: dict):
    http.ready_admin(request)
    raise BadRequest("Deprecated endpoint",
                     "use POST /repositories/{id}/cloud/import instead")


@endpoint
def repository_status(request: Request, body: dict):
    http.ready_admin(request)
    return ok(imports.repository_status(ctx_of(request), uuid_param(request)))


@endpoint
def start_import(request: Request, body: dict):
    who = http.ready_admin(request)
    run = imports.start(ctx_of(request), uuid_param(request), who.username)
    return ok({"run": run})


routes = [
    Route("/cloud/providers", list_providers, methods=["GET"]),
    Route("/cloud/credentials", list_credentials, methods=["GET"]),
    Route("/cloud/credentials", create_credential, methods=["POST"]),
    Route("/cloud/credentials/{id}", remove_credential, methods=["DELETE"]),
    Route("/cloud/credentials/{id}/auth-challenge", answer_challenge,
          methods=["POST"]),
    Route("/cloud/credentials/{id}/disconnect", disconnect_credential,
          methods=["POST"]),
    Route("/cloud/credentials/{id}/reconnect", reconnect_credential,
          methods=["POST"]),
    Route("/cloud/import-runs/{id}", get_import_run, methods=["GET"]),
    Route("/cloud/sync", sync, methods=["POST"]),
    Route("/repositories/{id}/cloud", repository_status, methods=["GET"]),
    Route("/repositories/{id}/cloud/import", start_import, methods=["POST"]),
]
