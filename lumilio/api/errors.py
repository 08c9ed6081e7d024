"""Errors become responses here, and only here, in the API document's error shape."""

from __future__ import annotations

import logging

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse

from lumilio.errors import ApiError

log = logging.getLogger(__name__)

_STATUS_MESSAGES = {
    400: "Invalid request data",
    401: "Unauthorized",
    403: "Access denied",
    404: "Resource not found",
    405: "Method not allowed",
    409: "Conflict",
    413: "Upload too large",
    415: "Unsupported media type",
    422: "Cannot process the request",
    429: "Too many requests",
}


def error_response(status: int, message: str, detail: str | None = None,
                   headers: dict | None = None) -> JSONResponse:
    body = {"code": status, "message": message, "error": detail or message}
    return JSONResponse(body, status_code=status, headers=headers)


async def on_api_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiError)
    headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
    return JSONResponse(exc.body(), status_code=exc.status, headers=headers)


async def on_http_exception(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    message = _STATUS_MESSAGES.get(exc.status_code, "Error")
    detail = exc.detail if isinstance(exc.detail, str) else None
    return error_response(exc.status_code, message, detail, exc.headers)


async def on_unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unexpected error on %s %s", request.method, request.url.path)
    return error_response(500, "Internal server error")


HANDLERS = {
    ApiError: on_api_error,
    HTTPException: on_http_exception,
    Exception: on_unexpected,
}
