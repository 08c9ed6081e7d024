"""Zero-shot classifier preview (admin): prompts against the semantic index."""

from __future__ import annotations

from starlette.requests import Request
from starlette.routing import Route

from lumilio.api import http
from lumilio.api.http import ctx_of, endpoint, ok
from lumilio.services import semantic


@endpoint
def preview(request: Request, body: dict):
    who = http.ready_admin(request)
    return ok(semantic.classifier_preview(ctx_of(request), who, body))


routes = [Route("/classifiers/preview", preview, methods=["POST"])]
