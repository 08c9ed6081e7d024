"""Passkeys: enrolment and management for a signed-in user, and sign-in with one.

Every ceremony starts with a challenge kept in the catalog under the hash of an
opaque token given to the browser; finishing it consumes the challenge, so each one
works once, and only within its lifetime.
"""

from __future__ import annotations

import hashlib
import json
import logging
import secrets
from datetime import timedelta

from lumilio.auth import passwords, sealed
from lumilio.auth.principal import Principal
from lumilio.auth.webauthn_flow import (
    CredentialRejected,
    KnownCredential,
    RelyingParty,
    credential_id,
    enrolment_options,
    sign_in_options,
    verify_enrolment,
    verify_sign_in,
)
from lumilio.context import Context
from lumilio.errors import BadRequest, NotFound, TooManyRequests, Unauthorized
from lumilio.services import accounts
from lumilio.timeutil import api, iso, now, now_iso

log = logging.getLogger(__name__)

CHALLENGE_LIFETIME = timedelta(minutes=5)
# Open challenges are small, but sign-in options are public: bound what anyone can
# make the server keep.
MAX_OPEN_CHALLENGES = 10_000
MAX_PASSKEYS_PER_USER = 20
LABEL_MAX = 64


def relying_party(ctx: Context) -> RelyingParty:
    return RelyingParty(ctx.config.passkey_rp_id, ctx.config.passkey_origin_list)


def summary_dto(row: dict) -> dict:
    out = {
        "passkey_id": row["passkey_id"],
        "label": row["name"] or "Passkey",
        "created_at": api(row["created_at"]),
        "transports": json.loads(row["transports"] or "[]"),
    }
    if row["last_used_at"]:
        out["last_used_at"] = api(row["last_used_at"])
    return out


def _known(ctx: Context, user_id: int) -> list[KnownCredential]:
    rows = ctx.catalog.all(
        "SELECT credential_id, transports FROM passkeys WHERE user_id = ?", (user_id,))
    return [KnownCredential(bytes(r["credential_id"]),
                            json.loads(r["transports"] or "[]")) for r in rows]


def _user_handle(ctx: Context, user_id: int) -> bytes:
    # Stable per user and meaningless outside this server: what the WebAuthn user
    # handle should be (never a name or an address).
    digest = sealed.fingerprint(ctx.config.secrets_dir, "passkey-user-handle",
                                str(user_id))
    return bytes.fromhex(digest)


# -- challenges -----------------------------------------------------------------------


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _open_challenge(ctx: Context, purpose: str, user_id: int | None,
                    challenge: bytes) -> str:
    token = secrets.token_urlsafe(32)
    expires = iso(now() + CHALLENGE_LIFETIME)

    def store(conn) -> bool:
        conn.execute("DELETE FROM auth_challenges WHERE expires_at < ?", (now_iso(),))
        count = conn.execute("SELECT COUNT(*) AS n FROM auth_challenges").fetchall()
        if count[0]["n"] >= MAX_OPEN_CHALLENGES:
            return False
        conn.execute(
            "INSERT INTO auth_challenges (token_hash, purpose, user_id, challenge,"
            " expires_at) VALUES (?, ?, ?, ?, ?)",
            (_token_hash(token), purpose, user_id, challenge, expires))
        return True

    if not ctx.catalog.write(store):
        log.warning("too many open passkey challenges; refusing new ones for now")
        raise TooManyRequests("Too many passkey requests", "try again in a few minutes")
    return token


def _take_challenge(ctx: Context, token: str, purpose: str) -> dict | None:
    """The challenge behind `token`, removed; None if unknown, used or expired."""
    digest = _token_hash(token)

    def take(conn) -> dict | None:
        rows = conn.execute(
            "SELECT user_id, challenge, expires_at FROM auth_challenges"
            " WHERE token_hash = ? AND purpose = ?", (digest, purpose)).fetchall()
        if not rows:
            return None
        conn.execute("DELETE FROM auth_challenges WHERE token_hash = ?", (digest,))
        return rows[0]

    row = ctx.catalog.write(take)
    if row is None or row["expires_at"] < now_iso():
        return None
    return row


# -- enrolment and management ---------------------------------------------------------


def enrolment_start(ctx: Context, who: Principal) -> dict:
    user = accounts.get_user(ctx, who.user_id)
    known = _known(ctx, who.user_id)
    if len(known) >= MAX_PASSKEYS_PER_USER:
        raise BadRequest("Too many passkeys",
                         f"an account holds at most {MAX_PASSKEYS_PER_USER}")
    challenge, options = enrolment_options(
        relying_party(ctx), _user_handle(ctx, who.user_id), user["username"],
        user["display_name"] or user["username"], known)
    token = _open_challenge(ctx, "passkey_enrol", who.user_id, challenge)
    return {"challenge_token": token, "options": options}


def _check_label(label: str | None, count: int) -> str:
    if label is None or not label.strip():
        return f"Passkey {count + 1}"
    label = label.strip()
    if len(label) > LABEL_MAX or any(ord(c) < 32 or ord(c) == 127 for c in label):
        raise BadRequest("Invalid request data",
                         f"label must be at most {LABEL_MAX} characters without"
                         " control characters")
    return label


def enrolment_finish(ctx: Context, who: Principal, token: str, credential: object,
                     label: str | None) -> dict:
    count = ctx.catalog.scalar("SELECT COUNT(*) FROM passkeys WHERE user_id = ?",
                               (who.user_id,))
    name = _check_label(label, count)
    found = _take_challenge(ctx, token, "passkey_enrol")
    if found is None or found["user_id"] != who.user_id:
        raise BadRequest("Invalid or expired challenge")
    try:
        enrolled = verify_enrolment(relying_party(ctx), bytes(found["challenge"]),
                                    credential)
    except CredentialRejected as exc:
        raise BadRequest("Passkey verification failed", str(exc)) from None

    def insert(conn) -> dict | None:
        taken = conn.execute("SELECT 1 FROM passkeys WHERE credential_id = ?",
                             (enrolled.credential_id,)).fetchall()
        if taken:
            return None
        conn.execute(
            "INSERT INTO passkeys (user_id, credential_id, public_key, sign_count,"
            " transports, name, aaguid, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (who.user_id, enrolled.credential_id, enrolled.public_key,
             enrolled.sign_count, json.dumps(enrolled.transports), name,
             enrolled.aaguid, now_iso()))
        return conn.execute("SELECT * FROM passkeys WHERE passkey_id = ?",
                            (conn.last_insert_rowid(),)).fetchall()[0]

    row = ctx.catalog.write(insert)
    if row is None:
        raise BadRequest("Passkey already registered")
    log.info("passkey %r enrolled for %r", name, who.username)
    return summary_dto(row)


def list_for(ctx: Context, who: Principal) -> dict:
    rows = ctx.catalog.all(
        "SELECT * FROM passkeys WHERE user_id = ? ORDER BY passkey_id", (who.user_id,))
    return {"credentials": [summary_dto(r) for r in rows], "total": len(rows)}


def delete(ctx: Context, who: Principal, passkey_id: int) -> None:
    def remove(conn) -> int:
        conn.execute("DELETE FROM passkeys WHERE passkey_id = ? AND user_id = ?",
                     (passkey_id, who.user_id))
        return conn.changes()

    if not ctx.catalog.write(remove):
        raise NotFound("Passkey not found")
    log.info("passkey %d of %r deleted", passkey_id, who.username)


# -- sign-in --------------------------------------------------------------------------


def sign_in_start(ctx: Context, username: str | None, address: str) -> dict:
    """Options for the named user's passkeys, or for any passkey when no name is
    given (the authenticator then offers the ones it holds for this site)."""
    accounts.throttle.check(f"addr:{address}")
    user_id = None
    known: list[KnownCredential] = []
    if username and username.strip():
        name = passwords.normalize_username(username)
        user = ctx.catalog.one(
            "SELECT user_id FROM users WHERE username = ? AND is_active = 1", (name,))
        known = _known(ctx, user["user_id"]) if user else []
        if not known:
            # The same answer for an unknown name and a name without passkeys.
            accounts.throttle.fail(f"addr:{address}")
            raise Unauthorized("Invalid credentials")
        user_id = user["user_id"]
    challenge, options = sign_in_options(relying_party(ctx), known)
    token = _open_challenge(ctx, "passkey_login", user_id, challenge)
    return {"challenge_token": token, "options": options}


def sign_in_finish(ctx: Context, token: str, credential: object, address: str) -> dict:
    accounts.throttle.check(f"addr:{address}")
    found = _take_challenge(ctx, token, "passkey_login")
    if found is None:
        raise Unauthorized("Invalid or expired challenge")
    try:
        raw_id = credential_id(credential)
    except CredentialRejected as exc:
        raise BadRequest("Invalid request data", str(exc)) from None

    row = ctx.catalog.one(
        "SELECT p.*, u.is_active, u.username FROM passkeys p JOIN users u"
        " USING (user_id) WHERE p.credential_id = ?", (raw_id,))
    bound = found["user_id"]
    if row is None or not row["is_active"] or bound not in (None, row["user_id"]):
        accounts.throttle.fail(f"addr:{address}")
        raise Unauthorized("Invalid credentials")
    try:
        count = verify_sign_in(relying_party(ctx), bytes(found["challenge"]),
                               credential, bytes(row["public_key"]), row["sign_count"])
    except CredentialRejected:
        accounts.throttle.fail(f"addr:{address}")
        log.info("passkey sign-in refused for %r from %s", row["username"], address)
        raise Unauthorized("Invalid credentials") from None

    ctx.catalog.write(lambda conn: conn.execute(
        "UPDATE passkeys SET sign_count = ?, last_used_at = ? WHERE passkey_id = ?",
        (count, now_iso(), row["passkey_id"])))
    log.info("passkey sign-in for %r", row["username"])
    return accounts.complete_sign_in(ctx, row["user_id"])
