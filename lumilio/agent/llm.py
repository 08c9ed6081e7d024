"""The model connection: any server that speaks the OpenAI-compatible chat
completions protocol (a local llama.cpp or Ollama server, or a hosted service).

The base URL is always the one in the settings: there is no default endpoint, so an
unconfigured server never sends anything anywhere. Requests have explicit timeouts
and are not retried: a model that does not answer ends the run with a message
rather than a hang. Redirects are not followed, so the requests (and the API key)
go to the configured address only.

What went wrong is said for an administrator, naming the server by its origin
(scheme, host and port) and never with what a URL or a server's answer may carry of
the credentials; users who are not administrators read only that the model server
could not be used (`FOR_USERS`), since its address is none of their business.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlsplit

from lumilio import outbound
from lumilio.errors import BadRequest

if TYPE_CHECKING:
    import openai

log = logging.getLogger(__name__)

REQUIRED = ("provider", "model_name", "base_url")
CONNECT_TIMEOUT_S = 10.0
DETAIL_MAX = 300
# Local servers ignore the key; the client library needs some value to send.
NO_KEY = "no-key"
SETUP_HELP = (
    "An administrator sets it in Settings: the base URL of an OpenAI-compatible "
    "server (for example http://127.0.0.1:11434/v1 for a local Ollama, or "
    "http://127.0.0.1:8080/v1 for llama.cpp), the model name and, for a hosted "
    "service, its API key.")
FOR_USERS = ("The assistant's model server could not be used. An administrator can "
             "check the assistant's settings.")
HIDDEN = "***"


class LLMError(Exception):
    """The model server could not be used; `message` says why in an administrator's
    words and `detail` what the server or the network said, credentials hidden."""

    def __init__(self, message: str, detail: str | None = None):
        super().__init__(message)
        self.message = message
        self.detail = detail


@dataclass(frozen=True)
class ModelSettings:
    provider: str
    model_name: str
    base_url: str
    api_key: str = field(default="", repr=False)

    @classmethod
    def from_stored(cls, llm: dict) -> ModelSettings:
        return cls(llm["provider"], llm["model_name"], llm["base_url"].rstrip("/"),
                   llm.get("api_key") or "")

    @property
    def token_limit_name(self) -> str:
        # OpenAI's own API names the limit max_completion_tokens; the local servers
        # and the other services read the older max_tokens.
        return "max_completion_tokens" if self.provider == "openai" else "max_tokens"


class Unreadable(Exception):
    """The model server's answer is not the protocol: frames that are not JSON,
    bytes that are not UTF-8, fields of the wrong shape, text that is not text."""


def missing(llm: dict) -> list[str]:
    """The settings a model connection still lacks (the base URL is never implied)."""
    return [name for name in REQUIRED if not llm.get(name)]


def _timeout(seconds: float) -> openai.Timeout:
    # openai is imported where it is used: it holds about 25 MiB once imported,
    # which a library whose assistant is never used should not carry.
    import openai

    return openai.Timeout(seconds, connect=min(CONNECT_TIMEOUT_S, seconds))


def async_client(settings: ModelSettings, timeout_s: float) -> openai.AsyncOpenAI:
    import openai

    return openai.AsyncOpenAI(
        base_url=settings.base_url, api_key=settings.api_key or NO_KEY,
        timeout=_timeout(timeout_s), max_retries=0,
        http_client=openai.DefaultAsyncHttpxClient(
            follow_redirects=False, transport=outbound.httpx2_transports()[1]()))


def sync_client(settings: ModelSettings, timeout_s: float) -> openai.OpenAI:
    import openai

    return openai.OpenAI(
        base_url=settings.base_url, api_key=settings.api_key or NO_KEY,
        timeout=_timeout(timeout_s), max_retries=0,
        http_client=openai.DefaultHttpxClient(
            follow_redirects=False, transport=outbound.httpx2_transports()[0]()))


# -- what went wrong, in words ---------------------------------------------------------


def origin(base_url: str) -> str:
    """Where a base URL points, as scheme://host:port: never its user name or
    password, nor its path and query (which some services use for keys)."""
    try:
        parts = urlsplit(base_url)
        host, port = parts.hostname, parts.port
    except ValueError:
        return "(an unreadable address)"
    if not host:
        return "(an unreadable address)"
    if ":" in host:
        host = f"[{host}]"
    port = port or {"http": 80, "https": 443}.get(parts.scheme)
    return f"{parts.scheme}://{host}" + (f":{port}" if port else "")


def redact(text: str, settings: ModelSettings) -> str:
    """Text from the network or the model server with the credentials it may echo
    (the base URL's user name and password, the API key) hidden."""
    try:
        parts = urlsplit(settings.base_url)
        named = [parts.password, parts.username]
    except ValueError:
        named = []
    secrets = [settings.api_key, *named, *(unquote(s) for s in named if s)]
    text = text.replace(settings.base_url, origin(settings.base_url))
    for secret in secrets:
        if secret:
            text = text.replace(secret, HIDDEN)
    return text[:DETAIL_MAX]


def _server_said(exc: openai.APIStatusError) -> str:
    body = exc.body
    if isinstance(body, dict):
        inner = body.get("error", body)
        text = inner.get("message") if isinstance(inner, dict) else inner
        if text:
            return str(text)
    return str(exc.message)


def explain(exc: Exception, settings: ModelSettings, timeout_s: float) -> LLMError:
    """An error of the client library, of the network or of the answer as a message
    an administrator can act on."""
    problem = _problem(exc, settings, timeout_s)
    if problem.detail is not None:
        problem.detail = redact(problem.detail, settings)
    return problem


def _problem(exc: Exception, settings: ModelSettings, timeout_s: float) -> LLMError:
    import httpx
    import openai

    where = origin(settings.base_url)
    if isinstance(exc, Unreadable):
        return LLMError(f"The answer of the model server at {where} could not be "
                        "read", str(exc))
    if isinstance(exc, openai.APITimeoutError | httpx.TimeoutException):
        return LLMError(f"The model server at {where} did not answer within "
                        f"{timeout_s:g} seconds", "timeout")
    if isinstance(exc, openai.APIConnectionError):
        # "[Errno 111] Connection refused" says the same without the number.
        cause = re.sub(r"^\[Errno -?\d+\]\s*", "", str(exc.__cause__ or exc))
        return LLMError(f"Could not connect to the model server at {where}. Is it "
                        "running, and is the base URL right?", cause)
    if isinstance(exc, httpx.HTTPError):
        # The client library wraps what fails before the answer starts; what fails
        # while it streams comes from the HTTP layer as it is.
        return LLMError(f"The connection to the model server at {where} broke off "
                        "in the middle of its answer", str(exc) or type(exc).__name__)
    if isinstance(exc, openai.AuthenticationError | openai.PermissionDeniedError):
        return LLMError(f"The model server refused the API key ({exc.status_code})",
                        _server_said(exc))
    if isinstance(exc, openai.NotFoundError):
        return LLMError(f"The model server does not know the model "
                        f"'{settings.model_name}', or the base URL is wrong (it "
                        "usually ends in /v1) (404)", _server_said(exc))
    if isinstance(exc, openai.APIStatusError):
        return LLMError(f"The model server answered with an error "
                        f"({exc.status_code})", _server_said(exc))
    if isinstance(exc, openai.APIError):
        # An error event in the middle of a stream.
        return LLMError("The model server reported an error in its answer",
                        str(exc.message))
    if isinstance(exc, openai.OpenAIError):
        return LLMError("The model server's answer could not be read", str(exc))
    raise exc


# -- the settings check ----------------------------------------------------------------


def check(settings: ModelSettings, timeout_s: float) -> dict:
    """One small real request: a one-token chat completion. `{"valid": true}` when
    it answers, else a 400 that says what failed."""
    import httpx
    import openai

    client = sync_client(settings, timeout_s)
    try:
        client.chat.completions.create(
            model=settings.model_name,
            messages=[{"role": "user", "content": "Reply with OK."}],
            **{settings.token_limit_name: 1})
    except (openai.OpenAIError, httpx.HTTPError) as exc:
        problem = explain(exc, settings, timeout_s)
        log.info("LLM check of %s (%s) failed: %s (%s)", origin(settings.base_url),
                 settings.model_name, problem.message, problem.detail)
        # The API document answers a failed check with its 400 "LLM validation
        # failed"; the message says which part failed.
        raise BadRequest(problem.message, problem.detail or problem.message) from None
    finally:
        client.close()
    log.info("LLM check of %s (%s) passed", origin(settings.base_url),
             settings.model_name)
    return {"valid": True}
