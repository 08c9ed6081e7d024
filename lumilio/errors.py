"""Errors that reach a client, each carrying its HTTP status.

    ApiError                  any failure a client can be told about
    ├── BadRequest            400: the request is malformed or a value is invalid
    ├── Unauthorized          401: no valid credentials
    ├── Forbidden             403: credentials are valid but not enough
    ├── NotFound              404: the object does not exist (or is not theirs to know)
    ├── Conflict              409: the request clashes with the current state
    ├── PayloadTooLarge       413: an upload is larger than the configured limit
    ├── Unprocessable         422: the input is well-formed but cannot be processed
    ├── TooManyRequests       429: throttled; retry later
    └── Unavailable           503: a feature that cannot work right now

Services raise these; one handler in `api.errors` turns them into the error shape of
the API document: `{"code": <status>, "message": <summary>, "error": <detail>}`.
"""

from __future__ import annotations


class ApiError(Exception):
    status = 500
    default_message = "Internal server error"

    def __init__(self, message: str | None = None, detail: str | None = None):
        self.message = message or self.default_message
        self.detail = detail
        super().__init__(self.message)

    def body(self) -> dict:
        out: dict = {"code": self.status, "message": self.message}
        out["error"] = self.detail if self.detail is not None else self.message
        return out


class BadRequest(ApiError):
    status = 400
    default_message = "Invalid request data"


class Unauthorized(ApiError):
    status = 401
    default_message = "Unauthorized"


class Forbidden(ApiError):
    status = 403
    default_message = "Access denied"


class NotFound(ApiError):
    status = 404
    default_message = "Resource not found"


class Conflict(ApiError):
    status = 409
    default_message = "Conflict"


class PayloadTooLarge(ApiError):
    status = 413
    default_message = "Upload too large"


class Unprocessable(ApiError):
    status = 422
    default_message = "Cannot process the file"


class TooManyRequests(ApiError):
    status = 429
    default_message = "Too many attempts; try again later"


class Unavailable(ApiError):
    status = 503
    default_message = "Service unavailable"
