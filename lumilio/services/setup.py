"""First-run state: the setup phases of the reference, computed from what exists.

With SQLite there is no database password to rotate, so `POST /setup` creates the
server's vault key (used to encrypt stored secrets such as cloud credentials) and that
file marks the database as initialised.
"""

from __future__ import annotations

import logging

from lumilio.auth import secrets
from lumilio.context import Context
from lumilio.errors import Conflict

log = logging.getLogger(__name__)


def status(ctx: Context) -> dict:
    database = (ctx.config.secrets_dir / secrets.VAULT_KEY).exists()
    admin = bool(ctx.catalog.scalar(
        "SELECT COUNT(*) FROM users WHERE role = 'admin' AND is_active = 1"))
    primaries = ctx.catalog.scalar(
        "SELECT COUNT(*) FROM repositories WHERE role = 'primary'")
    return {
        "initialized": database and admin and primaries == 1,
        "database_initialized": database,
        "admin_initialized": admin,
        "primary_repository_initialized": primaries == 1,
        "next_registration_role": "user" if admin else "admin",
        "repository_defaults": {
            "default_root": str(ctx.config.storage_root),
            "strategy": "date",
            "duplicate_handling": "rename",
        },
    }


def is_ready(ctx: Context) -> bool:
    return status(ctx)["initialized"]


def initialize(ctx: Context) -> dict:
    value = secrets.create_once(ctx.config.secrets_dir, secrets.VAULT_KEY)
    if value is None:
        raise Conflict("System already initialized")
    log.info("setup: vault key created in the data folder")
    return {"database_user": "sqlite", "password_length": len(value)}
