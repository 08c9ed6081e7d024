"""The ASGI application: routes, middleware, and the background services' lifespan."""

from __future__ import annotations

import contextlib
import importlib
import logging
import pkgutil

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.routing import Mount, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

import lumilio.api
from lumilio.api.errors import HANDLERS
from lumilio.api.http import BodyLimit
from lumilio.context import Context
from lumilio.web import spa

log = logging.getLogger(__name__)

SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
    (b"content-security-policy",
     b"default-src 'self'; img-src 'self' blob: data:; media-src 'self' blob:; "
     b"style-src 'self' 'unsafe-inline'; script-src 'self'; object-src 'none'; "
     b"frame-ancestors 'none'; base-uri 'self'"),
]


class SecurityHeaders:
    """Adds the same protective headers to every response, errors included."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                names = {k.lower() for k, _ in message.get("headers", [])}
                extra = [(k, v) for k, v in SECURITY_HEADERS if k not in names]
                message["headers"] = list(message.get("headers", [])) + extra
            await send(message)

        await self.app(scope, receive, send_with_headers)


def api_routes() -> list[Route]:
    """Every route of every module of `lumilio.api` that declares `routes`.

    Literal paths go before parameterised ones, so that `/assets/liked` is never
    taken for `/assets/{id}`.
    """
    found: list[Route] = []
    for info in sorted(pkgutil.iter_modules(lumilio.api.__path__),
                       key=lambda i: i.name):
        module = importlib.import_module(f"lumilio.api.{info.name}")
        found.extend(getattr(module, "routes", []))
    return sorted(found, key=lambda route: route.path.count("{"))


def create_app(ctx: Context, services: list | None = None) -> Starlette:
    """The application; `services` have start() and stop() and live with it."""
    services = services or []

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette):
        for service in services:
            service.start()
        try:
            yield
        finally:
            for service in reversed(services):
                service.stop()

    origins = [o.strip() for o in (ctx.config.cors_origins or "").split(",")
               if o.strip()]
    # Uploads may be as large as the setting allows, plus the multipart envelope.
    upload_bytes = (ctx.config.max_upload_mb << 20) + (1 << 20)
    middleware = [Middleware(SecurityHeaders),
                  Middleware(BodyLimit, upload_bytes=upload_bytes)]
    if origins:
        middleware.append(Middleware(
            CORSMiddleware, allow_origins=origins, allow_credentials=True,
            allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD"],
            allow_headers=["Content-Type", "Authorization", "X-Content-Hash"]))

    app = Starlette(
        routes=[Mount("/api/v1", routes=api_routes()),
                Route("/{path:path}", spa, methods=["GET", "HEAD", "POST", "PUT",
                                                     "PATCH", "DELETE"])],
        middleware=middleware,
        exception_handlers=HANDLERS,
        lifespan=lifespan,
    )
    app.state.ctx = ctx
    return app
