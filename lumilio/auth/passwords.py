"""Password hashing (argon2id) and the credential policy of the reference."""

from __future__ import annotations

import re

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from lumilio.errors import BadRequest

_hasher = PasswordHasher()

# A hash made once at import, verified against when a username is unknown, so that a
# login for a missing user takes as long as one with a wrong password.
_DUMMY_HASH = _hasher.hash("not a real password, only for timing")

_USERNAME = re.compile(r"^[a-z][a-z0-9._-]{2,31}$")
_DOUBLED_SEPARATOR = re.compile(r"[._-]{2}")

USERNAME_RULE = (
    "Username must be 3-32 characters, start with a letter, use only lower-case "
    "letters, digits, '.', '_' or '-', and not end with or double a separator"
)
PASSWORD_RULE = (
    "Password must be 10-72 bytes long and contain a lower-case letter, an "
    "upper-case letter and a digit"
)


def normalize_username(username: str) -> str:
    return username.strip().lower()


def check_username(username: str) -> str:
    name = normalize_username(username)
    if (
        not _USERNAME.match(name)
        or _DOUBLED_SEPARATOR.search(name)
        or name[-1] in "._-"
    ):
        raise BadRequest(USERNAME_RULE)
    return name


def check_password(password: str) -> None:
    size = len(password.encode("utf-8"))
    if not (10 <= size <= 72):
        raise BadRequest(PASSWORD_RULE)
    if not (
        re.search(r"[a-z]", password)
        and re.search(r"[A-Z]", password)
        and re.search(r"\d", password)
    ):
        raise BadRequest(PASSWORD_RULE)


def check_display_name(name: str) -> str:
    name = name.strip()
    if len(name) > 64 or any(ord(c) < 32 or ord(c) == 127 for c in name):
        raise BadRequest(
            "Display name must be at most 64 characters without control characters"
        )
    return name


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(stored_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(stored_hash or _DUMMY_HASH, password) and bool(
            stored_hash
        )
    except (VerificationError, InvalidHashError):
        return False
