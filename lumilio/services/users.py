"""Users: the administrator's user list and changes, and each user's own profile."""

from __future__ import annotations

import logging
import secrets
import string
import uuid

from lumilio.auth import passwords
from lumilio.auth.principal import Principal
from lumilio.context import Context
from lumilio.errors import BadRequest, Conflict, NotFound
from lumilio.services import accounts, mfa
from lumilio.timeutil import now_iso

log = logging.getLogger(__name__)

TEMPORARY_PASSWORD_LENGTH = 16
_TEMPORARY_ALPHABET = string.ascii_letters + string.digits


def managed_dto(row: dict) -> dict:
    out = accounts.user_dto(row)
    out["asset_count"] = row["asset_count"]
    out["album_count"] = row["album_count"]
    return out


def list_users(ctx: Context, limit: int, offset: int) -> dict:
    rows = ctx.catalog.all(
        "SELECT u.*,"
        " (SELECT COUNT(*) FROM assets a WHERE a.owner_id = u.user_id"
        "  AND a.is_deleted = 0) AS asset_count,"
        " (SELECT COUNT(*) FROM albums al WHERE al.user_id = u.user_id) AS album_count"
        " FROM users u ORDER BY u.user_id LIMIT ? OFFSET ?", (limit, offset))
    total = ctx.catalog.scalar("SELECT COUNT(*) FROM users")
    return {"users": [managed_dto(r) for r in rows], "total": total,
            "limit": limit, "offset": offset}


def _target(ctx: Context, user_id: int) -> dict:
    user = accounts.get_user(ctx, user_id)
    if user is None:
        raise NotFound("User not found")
    return user


def _avatar(ctx: Context, owner: dict, asset_id: str) -> str | None:
    """An asset id the user may show as their picture; "" clears it."""
    if asset_id == "":
        return None
    try:
        asset_id = str(uuid.UUID(asset_id))
    except ValueError:
        raise BadRequest("Invalid request data",
                         "avatar_asset_id is not a valid id") from None
    row = ctx.catalog.one(
        "SELECT owner_id FROM assets WHERE asset_id = ? AND is_deleted = 0",
        (asset_id,))
    if row is None:
        raise BadRequest("Invalid request data", "avatar_asset_id: asset not found")
    viewer = Principal(owner["user_id"], owner["username"], owner["role"])
    if not viewer.can_see(row["owner_id"]):
        raise BadRequest("Invalid request data", "avatar_asset_id: asset not found")
    return asset_id


def update_user(ctx: Context, who: Principal, user_id: int, *,
                username: str | None = None, display_name: str | None = None,
                role: str | None = None, is_active: bool | None = None,
                avatar_asset_id: str | None = None) -> dict:
    """An administrator's change to any account, their own included."""
    target = _target(ctx, user_id)
    changes: dict = {}
    if username is not None:
        changes["username"] = passwords.check_username(username)
    if display_name is not None:
        changes["display_name"] = passwords.check_display_name(display_name) or None
    if role is not None:
        if role not in ("admin", "user"):
            raise BadRequest("Invalid request data", "role must be admin or user")
        changes["role"] = role
    if is_active is not None:
        changes["is_active"] = int(is_active)
    if avatar_asset_id is not None:
        changes["avatar_asset_id"] = _avatar(ctx, target, avatar_asset_id)

    outcome = ctx.catalog.write(lambda conn: _apply(conn, target, changes))
    if outcome == "last_admin":
        raise BadRequest("The last active administrator cannot be demoted or"
                         " deactivated")
    if outcome == "taken":
        raise Conflict("User already exists")
    log.info("user %r changed by %r: %s", target["username"], who.username,
             ", ".join(sorted(changes)) or "nothing")
    return accounts.user_dto(accounts.get_user(ctx, user_id))


def _apply(conn, target: dict, changes: dict) -> str:
    user_id = target["user_id"]
    if "username" in changes:
        clash = conn.execute(
            "SELECT 1 FROM users WHERE username = ? AND user_id != ?",
            (changes["username"], user_id)).fetchall()
        if clash:
            return "taken"
    # Read inside the write, so that two administrators demoting each other at once
    # cannot leave the server without one.
    current = conn.execute("SELECT role, is_active FROM users WHERE user_id = ?",
                           (user_id,)).fetchall()[0]
    stays_admin = changes.get("role", current["role"]) == "admin" and changes.get(
        "is_active", current["is_active"])
    if current["role"] == "admin" and current["is_active"] and not stays_admin:
        others = conn.execute(
            "SELECT COUNT(*) AS n FROM users WHERE role = 'admin' AND is_active = 1"
            " AND user_id != ?", (user_id,)).fetchall()[0]["n"]
        if not others:
            return "last_admin"
    if not changes:
        return "ok"

    assignments = ", ".join(f"{column} = ?" for column in changes)
    conn.execute(f"UPDATE users SET {assignments}, updated_at = ? WHERE user_id = ?",
                 (*changes.values(), now_iso(), user_id))
    if changes.get("is_active") == 0:
        # Signed out everywhere: no refresh, and the request guard refuses the
        # access tokens still around.
        accounts.revoke_sessions(conn, user_id)
    return "ok"


def update_profile(ctx: Context, who: Principal, display_name: str | None,
                   avatar_asset_id: str | None) -> dict:
    user = _target(ctx, who.user_id)
    changes: dict = {}
    if display_name is not None:
        changes["display_name"] = passwords.check_display_name(display_name) or None
    if avatar_asset_id is not None:
        changes["avatar_asset_id"] = _avatar(ctx, user, avatar_asset_id)
    if changes:
        assignments = ", ".join(f"{column} = ?" for column in changes)
        ctx.catalog.write(lambda conn: conn.execute(
            f"UPDATE users SET {assignments}, updated_at = ? WHERE user_id = ?",
            (*changes.values(), now_iso(), who.user_id)))
    return accounts.user_dto(accounts.get_user(ctx, who.user_id))


def change_password(ctx: Context, who: Principal, current: str, new: str) -> None:
    user = _target(ctx, who.user_id)
    accounts.check_password_of(ctx, user, current)
    passwords.check_password(new)
    new_hash = passwords.hash_password(new)

    def store(conn) -> None:
        conn.execute(
            "UPDATE users SET password_hash = ?, updated_at = ? WHERE user_id = ?",
            (new_hash, now_iso(), who.user_id))
        accounts.revoke_sessions(conn, who.user_id)

    ctx.catalog.write(store)
    log.info("password changed by %r; their sessions were revoked", who.username)


def _temporary_password() -> str:
    while True:
        candidate = "".join(secrets.choice(_TEMPORARY_ALPHABET)
                            for _ in range(TEMPORARY_PASSWORD_LENGTH))
        try:
            passwords.check_password(candidate)
        except BadRequest:
            continue
        return candidate


def reset_access(ctx: Context, who: Principal, user_id: int) -> dict:
    """A forgotten password or lost authenticator: a temporary password, every other
    way in (passkeys, TOTP, recovery codes, sessions) removed."""
    target = _target(ctx, user_id)
    if user_id == who.user_id:
        raise BadRequest("Invalid request",
                         "change your own password from your account instead")
    temporary = _temporary_password()
    new_hash = passwords.hash_password(temporary)

    def reset(conn) -> tuple[bool, bool]:
        conn.execute("DELETE FROM passkeys WHERE user_id = ?", (user_id,))
        had_passkeys = conn.changes() > 0
        had_totp = mfa.clear_totp(conn, user_id)
        conn.execute(
            "UPDATE users SET password_hash = ?, updated_at = ? WHERE user_id = ?",
            (new_hash, now_iso(), user_id))
        accounts.revoke_sessions(conn, user_id)
        return had_passkeys, had_totp

    cleared_passkeys, cleared_totp = ctx.catalog.write(reset)
    log.info("access of %r reset by %r", target["username"], who.username)
    # TODO: the temporary password is not forced to be changed at the next sign-in;
    # the users table has no flag for it yet.
    return {"temporary_password": temporary, "cleared_passkeys": cleared_passkeys,
            "cleared_totp": cleared_totp}
