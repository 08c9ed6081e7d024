"""Access, media, MFA and refresh tokens.

Access and media tokens are HS256 JWTs signed with different derived keys; a media
token therefore never passes as an access token. Refresh tokens are random strings
stored hashed in the catalog, rotated on every use.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import jwt

from lumilio.auth.secrets import derive

ISSUER = "lumilio-photos"


@dataclass(frozen=True)
class Claims:
    user_id: int
    username: str
    role: str
    scope: str
    expires: datetime


class TokenSigner:
    def __init__(self, root_secret: str):
        self._keys = {
            scope: derive(root_secret, f"lumilio/{scope}")
            for scope in ("access", "media", "mfa", "totp_setup", "passkey")
        }

    def issue(
        self, scope: str, user: dict, lifetime: timedelta, **extra
    ) -> tuple[str, datetime]:
        now = datetime.now(timezone.utc)
        expires = now + lifetime
        payload = {
            "user_id": user["user_id"],
            "username": user["username"],
            "role": user["role"],
            "scope": scope,
            "sub": str(user["user_id"]),
            "iss": ISSUER,
            "iat": now,
            "nbf": now - timedelta(seconds=5),
            "exp": expires,
            **extra,
        }
        token = jwt.encode(payload, self._keys[scope], algorithm="HS256")
        return token, expires

    def decode(self, scope: str, token: str) -> dict | None:
        """The token's payload, or None when it is invalid, expired or of another kind."""
        try:
            payload = jwt.decode(
                token,
                self._keys[scope],
                algorithms=["HS256"],
                issuer=ISSUER,
                options={"require": ["exp", "iat", "sub"]},
            )
        except jwt.PyJWTError:
            return None
        if payload.get("scope") != scope:
            return None
        return payload

    def claims(self, scope: str, token: str) -> Claims | None:
        payload = self.decode(scope, token)
        if payload is None:
            return None
        return Claims(
            user_id=int(payload["user_id"]),
            username=payload["username"],
            role=payload["role"],
            scope=scope,
            expires=datetime.fromtimestamp(payload["exp"], timezone.utc),
        )


def new_refresh_token() -> str:
    return secrets.token_hex(32)


def hash_refresh_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
