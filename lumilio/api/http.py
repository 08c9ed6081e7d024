"""Request helpers shared by the route modules: bodies, callers, parameters."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from typing import Any, TypeVar

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from lumilio.auth.principal import Principal
from lumilio.context import Context
from lumilio.errors import (
    BadRequest,
    Conflict,
    Forbidden,
    PayloadTooLarge,
    Unauthorized,
)
from lumilio.services import setup

T = TypeVar("T")


def ctx_of(request: Request) -> Context:
    return request.app.state.ctx


async def call(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run a (blocking) service function on the thread pool."""
    return await run_in_threadpool(fn, *args, **kwargs)


def ok(payload: Any) -> JSONResponse:
    return JSONResponse(payload)


def message(text: str) -> JSONResponse:
    return JSONResponse({"message": text})


async def json_body(request: Request, required: bool = True) -> dict:
    raw = await request.body()
    if not raw.strip():
        if required:
            raise BadRequest("Invalid request data", "request body is empty")
        return {}
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadRequest("Invalid request data", f"malformed JSON: {exc}") from None
    except RecursionError:
        raise BadRequest("Invalid request data", "JSON nested too deeply") from None
    if not isinstance(body, dict):
        raise BadRequest("Invalid request data", "the body must be a JSON object")
    _refuse_lone_surrogates(raw, body)
    return body


def _refuse_lone_surrogates(raw: bytes, body: dict) -> None:
    """JSON may escape half of a UTF-16 pair (`"\\ud800"`); Python keeps such a
    string, but it cannot be stored as UTF-8 nor sent back, so it would fail later
    and further from its cause. Only a body with a `\\u` escape can hold one."""
    if b"\\u" not in raw:
        return
    try:
        json.dumps(body, ensure_ascii=False).encode()
    except UnicodeEncodeError:
        raise BadRequest("Invalid request data",
                         "the body holds text that is not valid Unicode") from None


def field(body: dict, name: str, kind: type | tuple, required: bool = False,
          default: Any = None) -> Any:
    """A typed field of a JSON body; a wrong type is a 400 naming the field."""
    value = body.get(name)
    if value is None:
        if required:
            raise BadRequest("Invalid request data", f"{name} is required")
        return default
    bad_bool = isinstance(value, bool) and bool not in (
        kind if isinstance(kind, tuple) else (kind,))
    if not isinstance(value, kind) or bad_bool:
        raise BadRequest("Invalid request data", f"{name} has the wrong type")
    if isinstance(value, int) and not -(2**62) <= value <= 2**62:
        raise BadRequest("Invalid request data", f"{name} is out of range")
    return value


def client_address(request: Request) -> str:
    """The peer's address, the key of per-address sign-in throttling."""
    return request.client.host if request.client else "unknown"


def uuid_param(request: Request, name: str = "id") -> str:
    value = request.path_params[name]
    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise BadRequest("Invalid id", f"{value!r} is not a valid id") from None


def int_param(request: Request, name: str = "id") -> int:
    value = request.path_params[name]
    try:
        number = int(value)
    except ValueError:
        raise BadRequest("Invalid id", f"{value!r} is not a number") from None
    if not (0 < number < 2**63):
        raise BadRequest("Invalid id", f"{value!r} is out of range")
    return number


def query_int(request: Request, name: str, default: int, low: int, high: int,
              clamp: bool = False) -> int:
    raw = request.query_params.get(name)
    if raw in (None, ""):
        return default
    try:
        value = int(raw)
    except ValueError:
        raise BadRequest("Invalid request data", f"{name} must be an integer") from None
    if not (low <= value <= high):
        if clamp:
            return default
        raise BadRequest("Invalid request data",
                         f"{name} must be between {low} and {high}")
    return value


# -- who is calling -------------------------------------------------------------------


def _token_from(request: Request, media: bool) -> tuple[str, str] | None:
    header = request.headers.get("authorization")
    if header:
        parts = header.split(" ")
        if len(parts) == 2 and parts[0] == "Bearer" and parts[1]:
            return "access", parts[1]
        return None
    if media and request.query_params.get("mt"):
        return "media", request.query_params["mt"]
    return None


def _resolve(request: Request, media: bool) -> Principal | None:
    found = _token_from(request, media)
    if found is None:
        return None
    scope, token = found
    ctx = ctx_of(request)
    claims = ctx.signer.claims(scope, token)
    if claims is None:
        return None
    # Read the account on every request: a user made inactive (or demoted) is
    # signed out everywhere at once, whatever tokens they still hold.
    user = ctx.catalog.one(
        "SELECT user_id, username, role, is_active FROM users WHERE user_id = ?",
        (claims.user_id,))
    if user is None or not user["is_active"]:
        return None
    return Principal(user["user_id"], user["username"], user["role"])


def user(request: Request, media: bool = False) -> Principal:
    """The signed-in caller, or 401. `media` also accepts the `mt` query token."""
    principal = _resolve(request, media)
    if principal is None:
        raise Unauthorized()
    return principal


def admin(request: Request) -> Principal:
    principal = user(request)
    if not principal.is_admin:
        raise Forbidden("Admin access required")
    return principal


def ready_user(request: Request, media: bool = False) -> Principal:
    """The signed-in caller of a route that waits for setup: most routes."""
    require_ready(request)
    return user(request, media)


def ready_admin(request: Request) -> Principal:
    """An admin calling a route that waits for setup."""
    require_ready(request)
    return admin(request)


def require_ready(request: Request) -> None:
    """Business routes wait until setup is complete (the reference's init gate)."""
    ctx = ctx_of(request)
    if getattr(request.app.state, "ready", False):
        return
    if setup.is_ready(ctx):
        request.app.state.ready = True
        return
    raise Conflict("app_not_initialized", "app_not_initialized")


def endpoint(fn: Callable[[Request, dict], Any]) -> Callable:
    """A route written as a plain function of (request, body), run on the thread pool.

    The JSON body (an empty dict when there is none) is read first, on the event loop;
    everything after it, database work included, runs on a worker thread.
    """

    async def route(request: Request):
        body: dict = {}
        if request.method in ("POST", "PUT", "PATCH", "DELETE"):
            body = await json_body(request, required=False)
        return await run_in_threadpool(fn, request, body)

    route.__name__ = fn.__name__
    route.__doc__ = fn.__doc__
    return route


# -- request size ---------------------------------------------------------------------

# JSON bodies of this API are small; anything bigger is refused before it is buffered.
MAX_JSON_BODY = 8 << 20


class BodyLimit:
    """Refuses request bodies over the limit with 413, whether they announce their
    length or arrive chunked; multipart uploads get the upload limit."""

    def __init__(self, app: ASGIApp, upload_bytes: int):
        self.app = app
        self.upload_bytes = upload_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        headers = Headers(scope=scope)
        multipart = headers.get("content-type", "").startswith("multipart/")
        limit = self.upload_bytes if multipart else MAX_JSON_BODY
        length = headers.get("content-length", "")
        if length.isdigit() and int(length) > limit:
            response = JSONResponse(_too_large(limit).body(), status_code=413)
            await response(scope, receive, send)
            return

        received = 0

        async def limited() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise _too_large(limit)
            return message

        await self.app(scope, limited, send)


def _too_large(limit: int) -> PayloadTooLarge:
    return PayloadTooLarge("Upload too large",
                           f"the request body is over {limit >> 20} MB")
