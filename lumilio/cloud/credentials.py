"""Cloud accounts: signed in once, kept for the imports of any repository.

The inputs a provider marks secret (a password, a secret key) are sealed in the
catalog with a key derived from the data folder's root key; a provider's session
(iCloud's cookies) lives in an owner-only folder per account beside that key, in
`secrets/cloud/<id>/`. Neither is ever returned, nor logged: an account is shown
by its display name and a masked identity.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import uuid
from pathlib import Path

from lumilio.auth import sealed
from lumilio.auth.principal import Principal
from lumilio.cloud import providers
from lumilio.cloud.providers.base import (
    ChallengeFailed,
    CloudError,
    InvalidInput,
    Library,
    Provider,
    SessionExpired,
    SignIn,
    SignInRefused,
)
from lumilio.context import Context
from lumilio.errors import BadRequest, NotFound
from lumilio.timeutil import api, now_iso

log = logging.getLogger(__name__)

_LABEL = "cloud-credential"
MAX_DISPLAY_NAME = 100


def dto(row: dict) -> dict:
    provider = providers.get(row["provider"])
    public = json.loads(row["public_config"] or "{}")
    shown = provider.shown_fields if provider else ()
    return {
        "id": row["credential_id"],
        "provider": row["provider"],
        "provider_title": provider.title if provider else row["provider"],
        "display_name": row["display_name"],
        "masked_identity": row["masked_identity"],
        "status": row["status"],
        "public_config": {k: v for k, v in public.items() if k in shown},
        "created_at": api(row["created_at"]),
        "updated_at": api(row["updated_at"]),
    }


def list_all(ctx: Context) -> list[dict]:
    rows = ctx.catalog.all("SELECT * FROM cloud_credentials ORDER BY created_at")
    return [dto(r) for r in rows]


def get_row(ctx: Context, credential_id: str) -> dict:
    row = ctx.catalog.one("SELECT * FROM cloud_credentials WHERE credential_id = ?",
                          (credential_id,))
    if row is None:
        raise NotFound("Cloud credential not found")
    return row


def provider_of(row: dict) -> Provider:
    provider = providers.get(row["provider"])
    if provider is None:
        raise BadRequest("Unknown cloud provider",
                         f"{row['provider']!r} is not offered by this version")
    return provider


def state_dir(ctx: Context, provider: Provider, credential_id: str) -> Path:
    """The account's owner-only folder for its session, inside the secrets folder;
    made only for a provider that keeps a session."""
    folder = ctx.config.secrets_dir / "cloud" / credential_id
    if provider.keeps_session:
        folder.mkdir(parents=True, exist_ok=True)
        for path in (folder.parent.parent, folder.parent, folder):
            os.chmod(path, 0o700)
    return folder


def inputs_of(ctx: Context, row: dict) -> dict[str, str]:
    """The account's inputs as the provider wants them: public and secret."""
    secrets = sealed.unseal(ctx.config.secrets_dir, _LABEL, row["sealed_secrets"])
    if secrets is None:
        # Sealed with another data folder's key: the catalog was copied alone.
        raise SessionExpired("The stored password cannot be read with this data "
                             "folder's key: reconnect the account with it")
    return {**json.loads(row["public_config"] or "{}"), **json.loads(secrets)}


def open_library(ctx: Context, row: dict) -> Library:
    """The account's library, for an import; provider errors pass through."""
    provider = provider_of(row)
    return provider.open(inputs_of(ctx, row),
                         state_dir(ctx, provider, row["credential_id"]))


# -- the API's operations -------------------------------------------------------------


def create(ctx: Context, who: Principal, body: dict) -> dict:
    """`POST /cloud/credentials`: sign in, and keep the account if the service
    accepted it (connected, or waiting for a verification code)."""
    provider = providers.get(_text(body, "provider", required=True))
    if provider is None:
        raise BadRequest("Unknown cloud provider", "provider must be one of "
                         + ", ".join(providers.REGISTRY))
    display_name = _display_name(body, provider)
    inputs = _checked(provider, _inputs(body, required=True))

    credential_id = str(uuid.uuid4())
    state = state_dir(ctx, provider, credential_id)
    try:
        result = provider.sign_in(inputs, state)
    except CloudError as exc:
        shutil.rmtree(state, ignore_errors=True)
        log.info("%s sign-in for %s refused: %s", provider.title,
                 provider.masked_identity(inputs), exc)
        raise _bad_request(exc) from None

    stamp = now_iso()
    public, secret = _split(provider, inputs)
    ctx.catalog.write(lambda conn: conn.execute(
        "INSERT INTO cloud_credentials (credential_id, provider, display_name,"
        " masked_identity, status, public_config, sealed_secrets, created_by,"
        " created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (credential_id, provider.id, display_name, provider.masked_identity(inputs),
         result.status, json.dumps(public), _seal(ctx, secret), who.user_id, stamp,
         stamp)))
    log.info("cloud account %s (%s) added by %s: %s", provider.masked_identity(inputs),
             provider.title, who.username, result.status.replace("_", " "))
    return _answer(ctx, credential_id, result)


def answer_challenge(ctx: Context, credential_id: str, body: dict) -> dict:
    """`POST /cloud/credentials/{id}/auth-challenge`: the code the service asked for."""
    row = get_row(ctx, credential_id)
    provider = provider_of(row)
    answers = _inputs(body, required=True)
    if row["status"] != "challenge_required":
        raise BadRequest("No verification is pending",
                         "this account is not waiting for a verification code")

    try:
        result = provider.answer_challenge(inputs_of(ctx, row),
                                           state_dir(ctx, provider, credential_id),
                                           answers)
    except CloudError as exc:
        log.info("verification for cloud account %s failed: %s",
                 row["masked_identity"], exc)
        raise _bad_request(exc) from None
    _set_status(ctx, credential_id, result.status)
    log.info("cloud account %s verified: %s", row["masked_identity"],
             result.status.replace("_", " "))
    answer = _answer(ctx, credential_id, result)
    answer.pop("challenge", None)
    return answer


def disconnect(ctx: Context, credential_id: str) -> None:
    row = get_row(ctx, credential_id)
    provider = provider_of(row)
    provider.forget(state_dir(ctx, provider, credential_id))
    _set_status(ctx, credential_id, "disconnected")
    log.info("cloud account %s disconnected; an import from it stops after its "
             "current file, and none starts until it is reconnected",
             row["masked_identity"])


def reconnect(ctx: Context, credential_id: str, body: dict) -> dict:
    """`POST /cloud/credentials/{id}/reconnect`: sign in again, with new inputs or
    with the stored ones (and the kept session, where the provider has one)."""
    row = get_row(ctx, credential_id)
    provider = provider_of(row)
    given = {k: v for k, v in _inputs(body, required=False).items() if v}
    try:
        stored = inputs_of(ctx, row)
    except SessionExpired:
        stored = json.loads(row["public_config"] or "{}")
    inputs = _checked(provider, {**stored, **given})

    try:
        result = provider.sign_in(inputs, state_dir(ctx, provider, credential_id))
    except (SignInRefused, SessionExpired) as exc:
        _set_status(ctx, credential_id, "password_required", str(exc))
        log.info("cloud account %s: reconnect refused: %s", row["masked_identity"],
                 exc)
        if provider.secret_fields & set(given):
            raise _bad_request(exc) from None
        # Nothing new was typed: the stored password no longer works.
        return {"credential": dto(get_row(ctx, credential_id)),
                "auth_status": "password_required"}
    except CloudError as exc:
        raise _bad_request(exc) from None

    public, secret = _split(provider, inputs)
    ctx.catalog.write(lambda conn: conn.execute(
        "UPDATE cloud_credentials SET status = ?, masked_identity = ?,"
        " public_config = ?, sealed_secrets = ?, last_error = NULL, updated_at = ?"
        " WHERE credential_id = ?",
        (result.status, provider.masked_identity(inputs), json.dumps(public),
         _seal(ctx, secret), now_iso(), credential_id)))
    log.info("cloud account %s reconnected: %s", row["masked_identity"],
             result.status.replace("_", " "))
    return _answer(ctx, credential_id, result)


def remove(ctx: Context, credential_id: str) -> None:
    """Forget the account, its secrets and session; repositories bound to it are
    unbound and keep every file they imported."""
    row = get_row(ctx, credential_id)
    provider = providers.get(row["provider"])
    folder = ctx.config.secrets_dir / "cloud" / credential_id
    if provider is not None:
        provider.forget(folder)
    ctx.catalog.write(lambda conn: conn.execute(
        "DELETE FROM cloud_credentials WHERE credential_id = ?", (credential_id,)))
    shutil.rmtree(folder, ignore_errors=True)
    log.info("cloud account %s removed", row["masked_identity"])


def mark_refused(ctx: Context, credential_id: str, reason: str) -> None:
    """An import found the stored password refused: it must be typed again."""
    _set_status(ctx, credential_id, "password_required", reason)


# -- helpers --------------------------------------------------------------------------


def _answer(ctx: Context, credential_id: str, result: SignIn) -> dict:
    out = {"credential": dto(get_row(ctx, credential_id)),
           "auth_status": result.status}
    if result.challenge:
        out["challenge"] = result.challenge
    return out


def _set_status(ctx: Context, credential_id: str, status: str,
                error: str | None = None) -> None:
    ctx.catalog.write(lambda conn: conn.execute(
        "UPDATE cloud_credentials SET status = ?, last_error = ?, updated_at = ?"
        " WHERE credential_id = ?", (status, error, now_iso(), credential_id)))


def _split(provider: Provider, inputs: dict[str, str]) -> tuple[dict, dict]:
    public = {k: v for k, v in inputs.items() if k not in provider.secret_fields}
    secret = {k: v for k, v in inputs.items() if k in provider.secret_fields}
    return public, secret


def _seal(ctx: Context, secret: dict) -> str:
    return sealed.seal(ctx.config.secrets_dir, _LABEL, json.dumps(secret))


def _checked(provider: Provider, inputs: dict[str, str]) -> dict[str, str]:
    try:
        return provider.normalise(inputs)
    except InvalidInput as exc:
        raise BadRequest("Invalid request data", str(exc)) from None


def _bad_request(exc: CloudError) -> BadRequest:
    if isinstance(exc, InvalidInput):
        return BadRequest("Invalid request data", str(exc))
    if isinstance(exc, ChallengeFailed):
        return BadRequest("Verification failed", str(exc))
    if isinstance(exc, (SignInRefused, SessionExpired)):
        return BadRequest("Sign-in refused", str(exc))
    return BadRequest("Cannot connect to the cloud service", str(exc))


def _text(body: dict, name: str, required: bool = False) -> str:
    value = body.get(name)
    if value is None or value == "":
        if required:
            raise BadRequest("Invalid request data", f"{name} is required")
        return ""
    if not isinstance(value, str):
        raise BadRequest("Invalid request data", f"{name} must be a string")
    return value.strip()


def _inputs(body: dict, required: bool) -> dict[str, str]:
    value = body.get("inputs")
    if value is None:
        if required:
            raise BadRequest("Invalid request data", "inputs is required")
        return {}
    if not isinstance(value, dict) or not all(
            isinstance(v, str) for v in value.values()):
        raise BadRequest("Invalid request data",
                         "inputs must be an object of strings")
    try:
        for v in value.values():
            v.encode("utf-8")
    except UnicodeEncodeError:
        raise BadRequest("Invalid request data",
                         "inputs must be valid Unicode text") from None
    return value


def _display_name(body: dict, provider: Provider) -> str:
    name = _text(body, "display_name") or provider.title
    if len(name) > MAX_DISPLAY_NAME or any(ord(c) < 32 or ord(c) == 127
                                           for c in name):
        raise BadRequest("Invalid request data",
                         f"display_name must be at most {MAX_DISPLAY_NAME} "
                         "characters without control characters")
    return name
