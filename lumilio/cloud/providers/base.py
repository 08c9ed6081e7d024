"""What every cloud provider offers: a form, a sign-in, a library to list and fetch.

    Provider       describes itself (form and challenge fields), signs in, opens
    └── Library    one signed-in account: its items, and the bytes of each

Failures a provider reports, for the credentials and the import to act on:

    CloudError            anything the service or the inputs made go wrong
    ├── InvalidInput      a form value cannot be used (caught before any request)
    ├── SignInRefused     the service refused the user name, password or key
    ├── ChallengeFailed   a verification code was wrong or has expired
    ├── SessionExpired    a kept session needs a new sign-in or a new code
    ├── Unreachable       the service did not answer
    ├── RemoteGone        the bucket or folder being imported no longer exists
    └── ItemGone          one item vanished between the listing and its download

Progress is reported through what a library hands back: `items()` yields as it
lists, and `download` writes to the sink as bytes arrive, so the caller counts both.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from lumilio import outbound


class CloudError(Exception):
    """A failure to tell the person in words; `str()` is the sentence."""


class InvalidInput(CloudError):
    pass


class SignInRefused(CloudError):
    pass


class ChallengeFailed(CloudError):
    pass


class SessionExpired(CloudError):
    pass


class Unreachable(CloudError):
    pass


class RemoteGone(CloudError):
    pass


class ItemGone(CloudError):
    pass


@dataclass(frozen=True)
class Field:
    """One input of a provider's form, as `GET /cloud/providers` shows it."""

    name: str
    label: str
    type: str = "text"
    required: bool = True
    placeholder: str = ""
    help_text: str = ""
    autocomplete: str = ""
    options: tuple[tuple[str, str], ...] = ()

    def dto(self) -> dict:
        out: dict[str, Any] = {"name": self.name, "label": self.label,
                               "type": self.type, "required": self.required}
        for key in ("placeholder", "help_text", "autocomplete"):
            if getattr(self, key):
                out[key] = getattr(self, key)
        if self.options:
            out["options"] = [{"value": v, "label": label}
                              for v, label in self.options]
        return out


@dataclass(frozen=True)
class SignIn:
    """How a sign-in ended: connected, or waiting for the answer to a challenge."""

    status: str  # "connected" or "challenge_required"
    challenge: dict | None = None


@dataclass(frozen=True)
class RemoteItem:
    """A file in the remote library, with what the service says about it."""

    remote_id: str             # stable within the account: a key, a path, a record
    name: str                  # the file name to import it under
    size: int | None           # bytes, when the service tells
    version: str               # changes when the content does (ETag, size and time)
    modified: datetime | None = None
    # Why the listing itself rules the item out (it lies outside the imported
    # folder): the import records it as failed with this reason, and never
    # downloads it.
    refused: str = ""
    # The provider's own object for the item (iCloud's photo record); never stored.
    handle: Any = field(default=None, compare=False, repr=False)


class Sink(Protocol):
    """Where a download goes: a staged file that hashes and limits what it gets."""

    def write(self, data: bytes) -> Any: ...


class Library(ABC):
    """One signed-in account, ready to list and download."""

    @abstractmethod
    def items(self) -> Iterator[RemoteItem]:
        """Every file under the imported root; raises RemoteGone if it is gone."""

    @abstractmethod
    def download(self, item: RemoteItem, sink: Sink) -> None:
        """Write the item's bytes to `sink`, checking them where the service gives
        a checksum. Errors the sink raises (a size limit) pass through unchanged."""

    def check(self) -> None:
        """Raise RemoteGone when the imported root no longer exists."""

    def close(self) -> None:
        pass


class Provider(ABC):
    """A kind of cloud service: its form, and how to sign in to an account."""

    id: str
    title: str
    description: str
    status = "enabled"
    security_note = ""
    form_fields: tuple[Field, ...] = ()
    challenge_fields: tuple[Field, ...] = ()
    # Inputs sealed in the catalog and never shown; the others are public config.
    secret_fields: frozenset[str] = frozenset()
    # Whether sign-ins leave a session to keep in the account's folder.
    keeps_session = False
    # Inputs shown as the account's public config; who it is shows only masked.
    shown_fields: tuple[str, ...] = ()

    def describe(self) -> dict:
        out = {"id": self.id, "title": self.title, "description": self.description,
               "status": self.status,
               "form_fields": [f.dto() for f in self.form_fields]}
        if self.challenge_fields:
            out["challenge_fields"] = [f.dto() for f in self.challenge_fields]
        if self.security_note:
            out["security_note"] = self.security_note
        return out

    def normalise(self, inputs: dict[str, str]) -> dict[str, str]:
        """The form's values trimmed and checked; InvalidInput names what is wrong."""
        out = {}
        for f in self.form_fields:
            value = inputs.get(f.name) or ""
            value = value if f.type == "password" else value.strip()
            if f.type != "password" and any(ord(c) < 32 or ord(c) == 127
                                            for c in value):
                raise InvalidInput(f"{f.label} must not contain control "
                                   "characters")
            if f.required and not value:
                raise InvalidInput(f"{f.label} is required")
            if len(value) > 2048:
                raise InvalidInput(f"{f.label} is too long")
            if f.options and value and value not in {v for v, _ in f.options}:
                raise InvalidInput(f"{f.label} must be one of "
                                   + ", ".join(v for v, _ in f.options))
            out[f.name] = value
        return out

    @abstractmethod
    def masked_identity(self, inputs: dict[str, str]) -> str:
        """Who the account is, with enough hidden that it can be shown anywhere."""

    @abstractmethod
    def sign_in(self, inputs: dict[str, str], state: Path) -> SignIn:
        """Check the inputs against the service. `state` is an owner-only folder
        kept for this account, where a provider may keep a session."""

    def answer_challenge(self, inputs: dict[str, str], state: Path,
                         answers: dict[str, str]) -> SignIn:
        raise CloudError(f"{self.title} does not ask for verification codes")

    @abstractmethod
    def open(self, inputs: dict[str, str], state: Path) -> Library:
        """A library to import from; SessionExpired when a new sign-in is needed."""

    def forget(self, state: Path) -> None:
        """Drop what is kept in memory for this account (its folder goes too)."""


def check_url(value: str, label: str) -> str:
    """An http(s) address typed into a form, refused when it cannot be right or
    points where the product does not connect (see `lumilio.outbound`)."""
    try:
        outbound.check_url(value, label)
    except outbound.CredentialsInURL as exc:
        raise InvalidInput(f"{exc}; use the fields for them") from None
    except outbound.Refused as exc:
        raise InvalidInput(str(exc)) from None
    if "?" in value or "#" in value:
        raise InvalidInput(f"{label} must not contain ? or #")
    return value


def mask(text: str, keep_start: int = 1, keep_end: int = 1) -> str:
    """`text` with its middle hidden: "alice" -> "a***e"."""
    if len(text) <= keep_start + keep_end:
        return text[:1] + "***"
    return text[:keep_start] + "***" + text[len(text) - keep_end:]
