"""Secrets kept in the catalog: sealed (encrypted) or fingerprinted with server keys.

A copy of `catalog.db` alone then gives away neither a TOTP secret nor an API key, nor
lets one test guesses of recovery codes offline: the keys are derived from the root
key in the owner-only secrets folder.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import os
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from lumilio.auth import secrets

_VERSION = "v1:"


@functools.cache
def _key(secrets_dir: Path, label: str) -> bytes:
    root = secrets.read_or_create(secrets_dir, secrets.ROOT_KEY)
    return secrets.derive(root, f"lumilio/sealed/{label}")


def seal(secrets_dir: Path, label: str, text: str) -> str:
    """`text` encrypted and authenticated; `label` says what it is for."""
    nonce = os.urandom(12)
    box = AESGCM(_key(secrets_dir, label)).encrypt(nonce, text.encode(), label.encode())
    return _VERSION + base64.urlsafe_b64encode(nonce + box).decode()


def unseal(secrets_dir: Path, label: str, sealed: str) -> str | None:
    """The text back, or None when it was sealed with another key or altered."""
    if not sealed.startswith(_VERSION):
        return None
    try:
        raw = base64.urlsafe_b64decode(sealed[len(_VERSION):])
        plain = AESGCM(_key(secrets_dir, label)).decrypt(
            raw[:12], raw[12:], label.encode())
    except (ValueError, InvalidTag):
        return None
    return plain.decode()


def fingerprint(secrets_dir: Path, label: str, text: str) -> str:
    """A keyed hash of `text`, for values only ever compared, never read back."""
    return hmac.new(_key(secrets_dir, label), text.encode(), hashlib.sha256).hexdigest()
