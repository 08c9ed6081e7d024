"""Accounts: registration, sign-in, token refresh and sign-out."""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections import defaultdict, deque
from datetime import timedelta

from lumilio.auth import passwords
from lumilio.auth.principal import ADMIN_PERMISSIONS, USER_PERMISSIONS
from lumilio.auth.tokens import hash_refresh_token, new_refresh_token
from lumilio.context import Context
from lumilio.errors import Conflict, TooManyRequests, Unauthorized
from lumilio.timeutil import api, iso, now, now_iso

log = logging.getLogger(__name__)

# Sign-in throttling: failures inside the window are counted per account and address
# together, per account, and per address; past a key's limit it is refused until its
# oldest failure leaves the window. The pair's limit is the low one, so a guesser is
# stopped early while the owner signing in from elsewhere (or everyone else behind the
# same proxy address) is not locked out by someone else's guessing.
FAILURE_LIMITS = {"pair": 10, "mfa": 10, "user": 30, "addr": 50}
FAILURE_WINDOW_S = 15 * 60


def sign_in_keys(name: str, address: str) -> tuple[str, str, str]:
    return f"pair:{name}|{address}", f"user:{name}", f"addr:{address}"


class _Throttle:
    def __init__(self) -> None:
        self._failures: dict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def check(self, *keys: str) -> None:
        with self._lock:
            cutoff = time.monotonic() - FAILURE_WINDOW_S
            for key in keys:
                failures = self._failures[key]
                while failures and failures[0] < cutoff:
                    failures.popleft()
                if len(failures) >= FAILURE_LIMITS.get(key.split(":", 1)[0], 10):
                    wait = int(failures[0] - cutoff) + 1
                    raise TooManyRequests(
                        "Too many failed sign-in attempts",
                        f"try again in {wait} seconds",
                    )

    def fail(self, *keys: str) -> None:
        with self._lock:
            for key in keys:
                self._failures[key].append(time.monotonic())

    def clear(self, key: str) -> None:
        with self._lock:
            self._failures.pop(key, None)


throttle = _Throttle()


def user_dto(user: dict) -> dict:
    role = user["role"] if user["role"] in ("admin", "user") else "user"
    out = {
        "user_id": user["user_id"],
        "username": user["username"],
        "display_name": user["display_name"] or user["username"],
        "created_at": api(user["created_at"]),
        "updated_at": api(user["updated_at"]),
        "is_active": bool(user["is_active"]),
        "role": role,
        "permissions": ADMIN_PERMISSIONS if role == "admin" else USER_PERMISSIONS,
    }
    if user.get("avatar_asset_id"):
        out["avatar_asset_id"] = user["avatar_asset_id"]
    if user.get("last_login"):
        out["last_login"] = api(user["last_login"])
    return out


def get_user(ctx: Context, user_id: int) -> dict | None:
    return ctx.catalog.one("SELECT * FROM users WHERE user_id = ?", (user_id,))


def register(ctx: Context, username: str, password: str) -> dict:
    name = passwords.check_username(username)
    passwords.check_password(password)
    password_hash = passwords.hash_password(password)

    def create(conn) -> tuple[dict, bool]:
        taken = conn.execute("SELECT 1 FROM users WHERE username = ?", (name,))
        if taken.fetchall():
            raise Conflict("Username already exists")
        first = not conn.execute("SELECT 1 FROM users LIMIT 1").fetchall()
        role = "admin" if first else "user"
        stamp = now_iso()
        conn.execute(
            "INSERT INTO users (username, password_hash, role, created_at, updated_at)"
            " VALUES (?, ?, ?, ?, ?)",
            (name, password_hash, role, stamp, stamp),
        )
        user_id = conn.last_insert_rowid()
        if first:
            # Folders registered before anyone had an account belong to the first
            # admin, and so do the files already indexed in them.
            conn.execute(
                "UPDATE repositories SET default_owner_id = ? "
                "WHERE default_owner_id IS NULL", (user_id,))
            conn.execute(
                "UPDATE assets SET owner_id = ? WHERE owner_id IS NULL", (user_id,))
        user = conn.execute("SELECT * FROM users WHERE user_id = ?",
                            (user_id,)).fetchall()[0]
        return user, first

    user, first = ctx.catalog.write(create)
    log.info("account %r created (%s)", name, user["role"])
    response = issue_session(ctx, user)
    if first:
        response["bootstrap_admin"] = True
    return response


def login(ctx: Context, username: str, password: str, address: str) -> dict:
    name = passwords.normalize_username(username)
    keys = sign_in_keys(name, address)
    throttle.check(*keys)

    user = ctx.catalog.one("SELECT * FROM users WHERE username = ?", (name,))
    ok = passwords.verify_password(user["password_hash"] if user else None, password)
    if not ok or not user or not user["is_active"]:
        throttle.fail(*keys)
        log.info("failed sign-in for %r from %s", name, address)
        raise Unauthorized("Invalid credentials")
    throttle.clear(keys[0])

    if user["totp_enabled"]:
        token, _ = ctx.signer.issue("mfa", user, timedelta(minutes=5))
        methods = ["totp", "recovery_code"]
        if ctx.catalog.scalar("SELECT COUNT(*) FROM passkeys WHERE user_id = ?",
                              (user["user_id"],)):
            methods.append("passkey")
        return {"requires_mfa": True, "mfa_token": token, "mfa_methods": methods}

    return complete_sign_in(ctx, user["user_id"])


def complete_sign_in(ctx: Context, user_id: int) -> dict:
    """The session of a user who has given every factor asked of them."""
    ctx.catalog.write(lambda conn: conn.execute(
        "UPDATE users SET last_login = ? WHERE user_id = ?", (now_iso(), user_id)))
    return issue_session(ctx, get_user(ctx, user_id))


def check_password_of(ctx: Context, user: dict, password: str) -> None:
    """A signed-in user's password, asked again before a sensitive change.

    Failures count towards the same throttle as sign-in, so that a stolen access
    token cannot be used to guess the password behind it.
    """
    key = f"user:{user['username']}"
    throttle.check(key)
    if not passwords.verify_password(user["password_hash"], password or ""):
        throttle.fail(key)
        log.info("wrong current password for %r", user["username"])
        raise Unauthorized("Incorrect password")


def revoke_sessions(conn, user_id: int) -> int:
    """Inside a write: end every refresh token of the user; returns how many."""
    conn.execute(
        "UPDATE refresh_tokens SET revoked_at = ? WHERE user_id = ?"
        " AND revoked_at IS NULL", (now_iso(), user_id))
    return conn.changes()


def issue_session(ctx: Context, user: dict, family_id: str | None = None) -> dict:
    """A fresh access token and refresh token (a new family unless one is given)."""
    cfg = ctx.config
    access, expires = ctx.signer.issue(
        "access", user, timedelta(minutes=cfg.access_token_minutes))
    refresh = new_refresh_token()
    stamp = now()
    ctx.catalog.write(lambda conn: conn.execute(
        "INSERT INTO refresh_tokens (token_hash, user_id, family_id, created_at,"
        " expires_at) VALUES (?, ?, ?, ?, ?)",
        (hash_refresh_token(refresh), user["user_id"],
         family_id or str(uuid.uuid4()), iso(stamp),
         iso(stamp + timedelta(days=cfg.refresh_token_days)))))
    return {
        "user": user_dto(user),
        "token": access,
        "refreshToken": refresh,
        "expiresAt": api(iso(expires)),
        "requires_mfa": False,
    }


def refresh(ctx: Context, token: str) -> dict:
    token_hash = hash_refresh_token(token or "")

    def rotate(conn) -> dict:
        rows = conn.execute(
            "SELECT * FROM refresh_tokens WHERE token_hash = ?", (token_hash,)
        ).fetchall()
        if not rows:
            raise Unauthorized("Invalid refresh token")
        row = rows[0]
        if row["used_at"] or row["revoked_at"]:
            # A rotated token presented again means it was copied: end the family.
            conn.execute(
                "UPDATE refresh_tokens SET revoked_at = COALESCE(revoked_at, ?)"
                " WHERE family_id = ?", (now_iso(), row["family_id"]))
            log.warning("refresh token reused for user %d: session family revoked",
                        row["user_id"])
            return {"error": "Refresh token already used"}
        user = conn.execute("SELECT * FROM users WHERE user_id = ?",
                            (row["user_id"],)).fetchall()
        if row["expires_at"] < now_iso() or not user or not user[0]["is_active"]:
            conn.execute("UPDATE refresh_tokens SET revoked_at = ? WHERE token_hash = ?",
                         (now_iso(), token_hash))
            return {"error": "Refresh token expired"}
        conn.execute("UPDATE refresh_tokens SET used_at = ? WHERE token_hash = ?",
                     (now_iso(), token_hash))
        return {"user": user[0], "family_id": row["family_id"]}

    # The revocation must be committed even though the caller gets an error, so the
    # transaction returns the outcome and the error is raised after it.
    outcome = ctx.catalog.write(rotate)
    if "error" in outcome:
        raise Unauthorized(outcome["error"])
    return issue_session(ctx, outcome["user"], outcome["family_id"])


def logout(ctx: Context, token: str) -> None:
    token_hash = hash_refresh_token(token or "")

    def revoke(conn) -> int:
        conn.execute(
            "UPDATE refresh_tokens SET revoked_at = COALESCE(revoked_at, ?)"
            " WHERE family_id = (SELECT family_id FROM refresh_tokens"
            " WHERE token_hash = ?)", (now_iso(), token_hash))
        return conn.changes()

    if not ctx.catalog.write(revoke):
        raise Unauthorized("Invalid refresh token")


def media_token(ctx: Context, user_id: int) -> dict:
    user = get_user(ctx, user_id)
    token, expires = ctx.signer.issue(
        "media", user, timedelta(minutes=ctx.config.media_token_minutes))
    return {"token": token, "expires_at": api(iso(expires))}
