"""Repositories: folders the user owns, registered in the catalog.

A folder becomes a repository by getting a `.lumiliorepo` file and a `.lumilio/`
folder; nothing else in it is touched. A folder that already has a `.lumiliorepo` (one
carried from another machine) is adopted under the id written in it.
"""

from __future__ import annotations

import logging
import re
import uuid
from pathlib import Path

from lumilio.auth.principal import Principal
from lumilio.context import Context
from lumilio.errors import BadRequest, Conflict, NotFound
from lumilio.library import layout, repofile
from lumilio.timeutil import now_iso

log = logging.getLogger(__name__)


def dto(row: dict) -> dict:
    out = {
        "id": row["repository_id"],
        "name": row["name"],
        "path": row["path"],
        "role": row["role"],
        "is_primary": row["role"] == "primary",
        "storage_strategy": row["storage_strategy"],
        "local_settings": {"handle_duplicate_filenames": row["duplicate_handling"]},
    }
    if row["default_owner_id"] is not None:
        out["default_owner_id"] = row["default_owner_id"]
    return out


def all_rows(ctx: Context) -> list[dict]:
    return ctx.catalog.all("SELECT * FROM repositories ORDER BY created_at")


def get_row(ctx: Context, repository_id: str) -> dict:
    row = ctx.catalog.one(
        "SELECT * FROM repositories WHERE repository_id = ?", (str(repository_id),))
    if row is None:
        raise NotFound("Repository not found")
    return row


def primary_row(ctx: Context) -> dict | None:
    return ctx.catalog.one("SELECT * FROM repositories WHERE role = 'primary'")


def slugify(name: str) -> str:
    slug = re.sub(r"[^a-z0-9_-]+", "-", name.strip().lower())
    slug = re.sub(r"-{2,}", "-", slug).strip("-_")
    if not slug:
        raise BadRequest("Repository name must contain letters or digits")
    return slug


def _check_nesting(ctx: Context, folder: Path) -> None:
    for row in all_rows(ctx):
        other = Path(row["path"])
        if folder == other:
            raise BadRequest("This folder is already registered",
                             f"{folder} is the repository {row['name']!r}")
        if folder.is_relative_to(other) or other.is_relative_to(folder):
            raise BadRequest("Repositories cannot be nested",
                             f"{folder} overlaps the repository {row['name']!r}")


def register(
    ctx: Context,
    folder: Path,
    *,
    name: str | None = None,
    role: str = "regular",
    strategy: str | None = None,
    duplicate_handling: str | None = None,
    owner_id: int | None = None,
) -> dict:
    """Register a folder in place (creating it if needed) and return its row."""
    folder = folder.expanduser().resolve()
    try:
        present = folder.exists()
    except OSError as exc:
        raise BadRequest("Invalid folder path", exc.strerror) from None
    if present and not folder.is_dir():
        raise BadRequest("Repository path is not a folder", str(folder))

    existing = repofile.read(folder) if present else None
    moved = None
    if existing is not None:
        moved = ctx.catalog.one(
            "SELECT * FROM repositories WHERE repository_id = ?", (existing.id,))
    if moved is not None and Path(moved["path"]) != folder:
        return _relocate(ctx, moved, folder)
    _check_nesting(ctx, folder)

    try:
        folder.mkdir(parents=True, exist_ok=True)
        if existing is None:
            existing = repofile.RepoFile(
                name=name or folder.name,
                storage_strategy=strategy or "date",
                handle_duplicate_filenames=duplicate_handling or "rename",
            )
            repofile.write(folder, existing)
            log.info("new repository %r at %s", existing.name, folder)
        else:
            log.info("adopting repository %r (%s) found at %s", existing.name,
                     existing.id, folder)
        layout.ensure(folder)
    except OSError as exc:
        # TODO: read-only folders (a mounted archive) need their derived files kept
        # in the data folder instead; until then they cannot be registered.
        raise BadRequest(
            "Lumilio cannot write to this folder",
            f"{folder}: {exc.strerror}; it needs to add .lumiliorepo and .lumilio/",
        ) from None

    def insert(conn) -> dict:
        if role == "primary" and conn.execute(
                "SELECT 1 FROM repositories WHERE role = 'primary'").fetchall():
            raise Conflict("Primary repository already exists")
        stamp = now_iso()
        conn.execute(
            "INSERT INTO repositories (repository_id, name, path, role,"
            " storage_strategy, duplicate_handling, default_owner_id, created_at,"
            " updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (existing.id, existing.name, str(folder), role,
             existing.storage_strategy, existing.handle_duplicate_filenames,
             owner_id, existing.created_at, stamp))
        return conn.execute("SELECT * FROM repositories WHERE repository_id = ?",
                            (existing.id,)).fetchall()[0]

    return ctx.catalog.write(insert)


def _relocate(ctx: Context, row: dict, folder: Path) -> dict:
    """A known repository found at a new place: same id, same assets, new path."""
    log.info("repository %r moved from %s to %s", row["name"], row["path"], folder)
    layout.ensure(folder)

    def update(conn) -> dict:
        conn.execute("UPDATE repositories SET path = ?, updated_at = ?"
                     " WHERE repository_id = ?",
                     (str(folder), now_iso(), row["repository_id"]))
        return conn.execute("SELECT * FROM repositories WHERE repository_id = ?",
                            (row["repository_id"],)).fetchall()[0]

    return ctx.catalog.write(update)


def ensure_primary(ctx: Context) -> dict:
    row = primary_row(ctx)
    if row is not None:
        return row
    return register(ctx, ctx.config.storage_root / "primary", name="Primary",
                    role="primary")


def create(ctx: Context, who: Principal, body: dict) -> dict:
    """`POST /repositories`: a new folder under a root, or an existing one by path."""
    name = check_name(body.get("name"))
    role = body.get("role") or "regular"
    if role not in ("primary", "regular"):
        raise BadRequest("role must be primary or regular")
    strategy = body.get("storage_strategy") or None
    if strategy is not None and strategy not in repofile.STRATEGIES:
        raise BadRequest("storage_strategy must be one of date, flat, cas")
    handling = body.get("duplicate_handling") or None
    if handling is not None and handling not in repofile.DUPLICATE_HANDLING:
        raise BadRequest("duplicate_handling must be one of rename, uuid, overwrite")
    credential_id = _cloud_credential(ctx, body, role)

    if role == "regular" and primary_row(ctx) is None:
        raise Conflict("Primary repository must be created first")
    folder = _target_folder(ctx, body, name, role)
    row = register(ctx, folder, name=name, role=role, strategy=strategy,
                   duplicate_handling=handling, owner_id=who.user_id)
    from lumilio.library import scanner  # import here: scanner uses this module

    scanner.request_scan(ctx, row["repository_id"], mode="manual",
                         requested_by=who.username)
    out = {"repository": dto(row)}
    if credential_id is not None:
        from lumilio.cloud import imports  # import here: imports uses this module

        out.update(imports.start_for_new_repository(
            ctx, row["repository_id"], credential_id, who.username))
    return out


def _cloud_credential(ctx: Context, body: dict, role: str) -> str | None:
    """The cloud account a new repository is to import from, checked before the
    folder is made."""
    value = body.get("cloud_credential_id")
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise BadRequest("Invalid request data", "cloud_credential_id must be a string")
    if role == "primary":
        raise BadRequest("The primary repository cannot import from the cloud",
                         "create a regular repository with cloud_credential_id")
    credential_id = valid_uuid(value)
    if ctx.catalog.one("SELECT 1 AS x FROM cloud_credentials WHERE credential_id = ?",
                       (credential_id,)) is None:
        raise BadRequest("Unknown cloud account",
                         f"cloud_credential_id {credential_id} names no account")
    return credential_id


def check_name(name: object) -> str:
    if not isinstance(name, str) or not name.strip():
        raise BadRequest("name is required")
    name = name.strip()
    if len(name) > 200 or any(ord(c) < 32 or ord(c) == 127 for c in name):
        raise BadRequest("Repository name must be at most 200 characters without "
                         "control characters")
    return name


def _target_folder(ctx: Context, body: dict, name: str, role: str) -> Path:
    if body.get("path"):
        path = Path(str(body["path"])).expanduser()
        if not path.is_absolute():
            raise BadRequest("path must be absolute")
        try:
            exists = path.is_dir()
        except OSError as exc:  # a name too long for the file system, say
            raise BadRequest("Invalid folder path", exc.strerror) from None
        if not exists:
            raise BadRequest("Folder does not exist", str(path))
        return path
    root = Path(str(body.get("root") or ctx.config.storage_root)).expanduser()
    if not root.is_absolute():
        raise BadRequest("root must be absolute")
    folder = root / ("primary" if role == "primary" else slugify(name))
    if not folder.resolve().is_relative_to(root.resolve()):
        raise BadRequest("Repository path must stay inside its root")
    return folder


def update(ctx: Context, repository_id: str, body: dict) -> dict:
    row = get_row(ctx, repository_id)
    folder = Path(row["path"])
    current = repofile.read(folder) or repofile.RepoFile(
        id=row["repository_id"], name=row["name"])

    if "name" in body and body["name"] is not None:
        current.name = check_name(body["name"])
    if body.get("storage_strategy") is not None:
        current.storage_strategy = str(body["storage_strategy"])
    settings = body.get("local_settings")
    if settings is not None:
        if not isinstance(settings, dict):
            raise BadRequest("local_settings must be an object")
        if settings.get("handle_duplicate_filenames") is not None:
            current.handle_duplicate_filenames = str(
                settings["handle_duplicate_filenames"])
    owner = body.get("default_owner_id", row["default_owner_id"])
    if owner is not None and (not isinstance(owner, int) or isinstance(owner, bool)):
        raise BadRequest("default_owner_id must be an integer")
    if owner is not None and not ctx.catalog.one(
            "SELECT 1 FROM users WHERE user_id = ?", (owner,)):
        raise BadRequest("default_owner_id is not a user")
    current.validate()
    repofile.write(folder, current)

    def save(conn) -> dict:
        conn.execute(
            "UPDATE repositories SET name = ?, storage_strategy = ?,"
            " duplicate_handling = ?, default_owner_id = ?, updated_at = ?"
            " WHERE repository_id = ?",
            (current.name, current.storage_strategy,
             current.handle_duplicate_filenames, owner, now_iso(),
             row["repository_id"]))
        return conn.execute("SELECT * FROM repositories WHERE repository_id = ?",
                            (row["repository_id"],)).fetchall()[0]

    return dto(ctx.catalog.write(save))


def delete(ctx: Context, repository_id: str) -> None:
    """Unregister: the catalog forgets the folder; its files stay as they are."""
    row = get_row(ctx, repository_id)
    if row["role"] == "primary":
        raise Conflict("The primary repository cannot be removed")
    ctx.catalog.write(lambda conn: conn.execute(
        "DELETE FROM repositories WHERE repository_id = ?", (row["repository_id"],)))
    log.info("repository %r unregistered; its folder %s is untouched", row["name"],
             row["path"])


def valid_uuid(value: str) -> str:
    try:
        return str(uuid.UUID(str(value)))
    except ValueError:
        raise BadRequest("Invalid id", f"{value!r} is not a UUID") from None
