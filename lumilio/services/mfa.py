"""Second factors: TOTP, recovery codes, and the MFA step of sign-in."""

from __future__ import annotations

import logging
from datetime import timedelta

from lumilio.auth import sealed, totp
from lumilio.auth.principal import Principal
from lumilio.context import Context
from lumilio.errors import BadRequest, Unauthorized
from lumilio.services import accounts
from lumilio.timeutil import api, now_iso

log = logging.getLogger(__name__)

SETUP_LIFETIME = timedelta(minutes=10)
_TOTP_LABEL = "totp-secret"
_RECOVERY_LABEL = "recovery-code"
METHODS = ("totp", "recovery_code")


def _user(ctx: Context, who: Principal) -> dict:
    user = accounts.get_user(ctx, who.user_id)
    if user is None:
        raise Unauthorized()
    return user


def status(ctx: Context, user_id: int) -> dict:
    user = accounts.get_user(ctx, user_id)
    passkeys = ctx.catalog.scalar(
        "SELECT COUNT(*) FROM passkeys WHERE user_id = ?", (user_id,))
    remaining = ctx.catalog.scalar(
        "SELECT COUNT(*) FROM recovery_codes WHERE user_id = ? AND used_at IS NULL",
        (user_id,))
    enabled = bool(user["totp_enabled"])
    methods = []
    if enabled:
        methods.append("totp")
        if remaining:
            methods.append("recovery_code")
    if passkeys:
        methods.append("passkey")
    out = {
        "totp_enabled": enabled,
        "passkey_count": passkeys,
        "recovery_codes_remaining": remaining if enabled else 0,
        "available_methods": methods,
    }
    if enabled and user["recovery_generated_at"]:
        out["recovery_codes_generated_at"] = api(user["recovery_generated_at"])
    return out


# -- TOTP enrolment -------------------------------------------------------------------


def setup_totp(ctx: Context, who: Principal) -> dict:
    """A fresh secret; nothing is stored until it is confirmed with a code."""
    user = _user(ctx, who)
    secret = totp.new_secret()
    # The secret travels inside the setup token, sealed, so that no half-finished
    # enrolment is kept server-side and a token cannot be edited to another secret.
    token, _ = ctx.signer.issue(
        "totp_setup", user, SETUP_LIFETIME,
        sec=sealed.seal(ctx.config.secrets_dir, _TOTP_LABEL, secret))
    return {
        "setup_token": token,
        "secret": secret,
        "issuer": totp.ISSUER,
        "account_name": user["username"],
        "otpauth_uri": totp.provisioning_uri(secret, user["username"]),
    }


def enable_totp(ctx: Context, who: Principal, setup_token: str, code: str) -> dict:
    user = _user(ctx, who)
    if user["totp_enabled"]:
        raise BadRequest("TOTP is already enabled",
                         "disable it first to enrol another authenticator")
    payload = ctx.signer.decode("totp_setup", setup_token)
    if payload is None or int(payload["user_id"]) != who.user_id:
        raise BadRequest("Invalid setup token", "the setup token is invalid or expired")
    secret = sealed.unseal(ctx.config.secrets_dir, _TOTP_LABEL, payload.get("sec", ""))
    if secret is None:
        raise BadRequest("Invalid setup token", "the setup token is invalid or expired")
    step = totp.matching_step(secret, code, None)
    if step is None:
        raise BadRequest("Invalid verification code",
                         "the code does not match the authenticator")

    stored = sealed.seal(ctx.config.secrets_dir, _TOTP_LABEL, secret)
    codes = totp.new_recovery_codes()
    stamp = now_iso()

    def enable(conn) -> bool:
        conn.execute(
            "UPDATE users SET totp_secret = ?, totp_enabled = 1, totp_last_step = ?,"
            " updated_at = ? WHERE user_id = ? AND totp_enabled = 0",
            (stored, step, stamp, who.user_id))
        if not conn.changes():
            return False
        _replace_recovery_codes(ctx, conn, who.user_id, codes, stamp)
        return True

    if not ctx.catalog.write(enable):
        raise BadRequest("TOTP is already enabled",
                         "disable it first to enrol another authenticator")
    log.info("TOTP enabled for %r", who.username)
    return _codes_response(ctx, who.user_id, codes, stamp)


def disable_totp(ctx: Context, who: Principal, current_password: str) -> dict:
    user = _user(ctx, who)
    accounts.check_password_of(ctx, user, current_password)
    if not user["totp_enabled"]:
        raise BadRequest("MFA is not enabled")

    def disable(conn) -> None:
        clear_totp(conn, who.user_id)

    ctx.catalog.write(disable)
    log.info("TOTP disabled for %r", who.username)
    return status(ctx, who.user_id)


def regenerate_recovery_codes(ctx: Context, who: Principal,
                              current_password: str) -> dict:
    user = _user(ctx, who)
    accounts.check_password_of(ctx, user, current_password)
    if not user["totp_enabled"]:
        raise BadRequest("MFA is not enabled")
    codes = totp.new_recovery_codes()
    stamp = now_iso()
    ctx.catalog.write(lambda conn: _replace_recovery_codes(
        ctx, conn, who.user_id, codes, stamp))
    log.info("recovery codes regenerated for %r", who.username)
    return _codes_response(ctx, who.user_id, codes, stamp)


def clear_totp(conn, user_id: int) -> bool:
    """Inside a write: TOTP and recovery codes gone; True when TOTP was on."""
    was_on = conn.execute("SELECT totp_enabled FROM users WHERE user_id = ?",
                          (user_id,)).fetchall()
    conn.execute(
        "UPDATE users SET totp_secret = NULL, totp_enabled = 0, totp_last_step = NULL,"
        " recovery_generated_at = NULL, updated_at = ? WHERE user_id = ?",
        (now_iso(), user_id))
    conn.execute("DELETE FROM recovery_codes WHERE user_id = ?", (user_id,))
    return bool(was_on and was_on[0]["totp_enabled"])


def _replace_recovery_codes(ctx: Context, conn, user_id: int, codes: list[str],
                            stamp: str) -> None:
    conn.execute("DELETE FROM recovery_codes WHERE user_id = ?", (user_id,))
    for code in codes:
        conn.execute(
            "INSERT INTO recovery_codes (user_id, code_hash, created_at)"
            " VALUES (?, ?, ?)", (user_id, _code_hash(ctx, user_id, code), stamp))
    conn.execute("UPDATE users SET recovery_generated_at = ? WHERE user_id = ?",
                 (stamp, user_id))


def _code_hash(ctx: Context, user_id: int, code: str) -> str:
    return sealed.fingerprint(ctx.config.secrets_dir, _RECOVERY_LABEL,
                              f"{user_id}:{totp.normalize_recovery_code(code)}")


def _codes_response(ctx: Context, user_id: int, codes: list[str], stamp: str) -> dict:
    return {"recovery_codes": codes, "generated_at": api(stamp),
            "status": status(ctx, user_id)}


# -- the MFA step of sign-in ----------------------------------------------------------


def verify_sign_in(ctx: Context, mfa_token: str, code: str, method: str,
                   address: str) -> dict:
    """Completes a password sign-in that answered `requires_mfa`."""
    if method not in METHODS:
        raise BadRequest("Invalid request data",
                         "method must be one of " + ", ".join(METHODS))
    claims = ctx.signer.claims("mfa", mfa_token)
    if claims is None:
        raise Unauthorized("Invalid or expired MFA challenge")
    keys = (f"mfa:{claims.user_id}", f"addr:{address}")
    accounts.throttle.check(*keys)

    user = accounts.get_user(ctx, claims.user_id)
    if user is None or not user["is_active"] or not user["totp_enabled"]:
        raise Unauthorized("Invalid or expired MFA challenge")
    if method == "totp":
        accepted = _accept_totp(ctx, user, code)
    else:
        accepted = _accept_recovery_code(ctx, user["user_id"], code)
    if not accepted:
        accounts.throttle.fail(*keys)
        log.info("failed MFA step (%s) for %r from %s", method, user["username"],
                 address)
        raise Unauthorized("Invalid verification code")

    accounts.throttle.clear(keys[0])
    log.info("MFA step (%s) passed for %r", method, user["username"])
    return accounts.complete_sign_in(ctx, user["user_id"])


def _accept_totp(ctx: Context, user: dict, code: str) -> bool:
    secret = sealed.unseal(ctx.config.secrets_dir, _TOTP_LABEL,
                           user["totp_secret"] or "")
    if secret is None:
        log.error("TOTP secret of %r cannot be unsealed (secrets folder replaced?)",
                  user["username"])
        return False
    step = totp.matching_step(secret, code, user["totp_last_step"])
    if step is None:
        return False

    def remember(conn) -> bool:
        # Conditional on the step, so that two requests racing with one code cannot
        # both succeed.
        conn.execute(
            "UPDATE users SET totp_last_step = ? WHERE user_id = ?"
            " AND (totp_last_step IS NULL OR totp_last_step < ?)",
            (step, user["user_id"], step))
        return conn.changes() == 1

    return ctx.catalog.write(remember)


def _accept_recovery_code(ctx: Context, user_id: int, code: str) -> bool:
    digest = _code_hash(ctx, user_id, code)

    def use(conn) -> bool:
        conn.execute(
            "UPDATE recovery_codes SET used_at = ? WHERE user_id = ? AND code_hash = ?"
            " AND used_at IS NULL", (now_iso(), user_id, digest))
        return conn.changes() == 1

    return ctx.catalog.write(use)
