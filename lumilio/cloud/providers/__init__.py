"""The cloud providers Lumilio can import from, by id."""

from __future__ import annotations

from lumilio.cloud.providers.base import Provider
from lumilio.cloud.providers.icloud import ICloud
from lumilio.cloud.providers.s3 import S3
from lumilio.cloud.providers.webdav import WebDAV

# One instance each for the life of the process: the iCloud provider keeps the
# sign-ins that wait for a verification code.
REGISTRY: dict[str, Provider] = {p.id: p for p in (ICloud(), S3(), WebDAV())}


def get(provider_id: str) -> Provider | None:
    return REGISTRY.get(provider_id)


def describe_all() -> list[dict]:
    return [p.describe() for p in REGISTRY.values()]
