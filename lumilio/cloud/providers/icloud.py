"""iCloud Photos, through pyicloud (Apple's web sign-in, two-factor codes included).

pyicloud is reached through one seam, `factory`: a callable that builds the signed-in
service object from the Apple ID, the password, the session folder and the region.
Everything this module uses of that object is listed in `ICloudService`. Apple keeps
a session alive by cookies, which pyicloud writes to the session folder; the folder
is this account's owner-only folder in the data folder, so a code entered once keeps
the session for the weeks Apple allows, across restarts. pyicloud is imported on
first use: a server that imports nothing from iCloud never loads it.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from lumilio.cloud.providers.base import (
    ChallengeFailed,
    CloudError,
    Field,
    InvalidInput,
    ItemGone,
    Library,
    Provider,
    RemoteItem,
    SessionExpired,
    SignIn,
    SignInRefused,
    Sink,
    Unreachable,
    mask,
)

log = logging.getLogger(__name__)

CHALLENGE = {
    "type": "verification_code",
    "title": "Verification required",
    "description": "Enter the six-digit code Apple sent to your trusted devices.",
}
_CODE = re.compile(r"^\d{6}$")


class ICloudPhoto(Protocol):
    id: str
    filename: str
    size: int | None
    created: datetime

    def download(self, version: str = "original") -> bytes | None: ...


class ICloudService(Protocol):
    """What the provider uses of pyicloud's `PyiCloudService`."""

    requires_2fa: bool
    requires_2sa: bool

    def validate_2fa_code(self, code: str) -> bool: ...

    @property
    def photos(self) -> Any: ...  # `.all` iterates ICloudPhoto


Factory = Callable[..., ICloudService]


def pyicloud_service(apple_id: str, password: str, cookie_directory: str,
                     china_mainland: bool) -> ICloudService:
    """The real service: signs in to Apple (or reuses the session in the folder)."""
    from pyicloud import PyiCloudService

    return PyiCloudService(apple_id, password, cookie_directory=cookie_directory,
                           china_mainland=china_mainland)


class ICloud(Provider):
    id = "icloud"
    title = "iCloud"
    description = "Import originals from iCloud Photos."
    security_note = ("Lumilio signs in to Apple from this computer. The password "
                     "is stored encrypted in the data folder to renew the session, "
                     "and never shown again. Accounts with Advanced Data "
                     "Protection cannot be read from the web and so not from here.")
    form_fields = (
        Field("username", "Apple ID", "email", placeholder="you@example.com",
              autocomplete="username"),
        Field("password", "Password", "password", autocomplete="current-password"),
        Field("domain", "Region", "select", options=(
            ("com", "Global"), ("cn", "Mainland China"))),
    )
    challenge_fields = (
        Field("code", "Verification code", placeholder="123456",
              autocomplete="one-time-code",
              help_text="Six digits, shown on your trusted devices."),
    )
    secret_fields = frozenset({"password"})
    shown_fields = ("domain",)
    keeps_session = True

    def __init__(self, factory: Factory = pyicloud_service):
        self.factory = factory
        # Between a sign-in that asked for a code and the code, the service object
        # holds Apple's half-finished sign-in; kept here by session folder.
        self._waiting: dict[str, ICloudService] = {}
        self._lock = threading.Lock()

    def normalise(self, inputs: dict[str, str]) -> dict[str, str]:
        values = super().normalise({"domain": "com", **inputs})
        if "@" not in values["username"]:
            raise InvalidInput("Apple ID must be an e-mail address")
        return values

    def masked_identity(self, inputs: dict[str, str]) -> str:
        local, _, domain = inputs["username"].partition("@")
        return f"{mask(local)}@{domain}"

    def sign_in(self, inputs: dict[str, str], state: Path) -> SignIn:
        service = self._build(inputs, state)
        if service.requires_2fa:
            self._hold(state, service)
            return SignIn("challenge_required", {
                **CHALLENGE, "fields": [f.dto() for f in self.challenge_fields]})
        if service.requires_2sa:
            raise SignInRefused("This Apple ID uses the older two-step "
                                "verification, which cannot be used here; turn on "
                                "two-factor authentication for it")
        return SignIn("connected")

    def answer_challenge(self, inputs: dict[str, str], state: Path,
                         answers: dict[str, str]) -> SignIn:
        code = (answers.get("code") or "").strip().replace(" ", "")
        if not _CODE.match(code):
            raise InvalidInput("The verification code is six digits")
        with self._lock:
            service = self._waiting.get(str(state))
        if service is None:
            # The server restarted since the sign-in: the session folder still
            # holds Apple's half-finished sign-in.
            service = self._build(inputs, state)
        if not service.requires_2fa:
            self.forget(state)
            return SignIn("connected")

        from pyicloud import exceptions as apple

        try:
            accepted = service.validate_2fa_code(code)
        except apple.PyiCloudConnectionException as exc:
            raise Unreachable(f"Cannot reach Apple: {exc}") from None
        except apple.PyiCloudException as exc:
            raise ChallengeFailed(f"Apple did not accept the code: {exc}") from None
        if not accepted:
            self._hold(state, service)
            raise ChallengeFailed("The verification code is wrong or has expired")
        self.forget(state)
        return SignIn("connected")

    def open(self, inputs: dict[str, str], state: Path) -> ICloudLibrary:
        with self._lock:
            service = self._waiting.get(str(state))
        service = service or self._build(inputs, state)
        if service.requires_2fa or service.requires_2sa:
            raise SessionExpired("Apple asks for a new verification code: "
                                 "reconnect the account")
        return ICloudLibrary(service)

    def forget(self, state: Path) -> None:
        with self._lock:
            self._waiting.pop(str(state), None)

    def _hold(self, state: Path, service: ICloudService) -> None:
        with self._lock:
            self._waiting[str(state)] = service

    def _build(self, inputs: dict[str, str], state: Path) -> ICloudService:
        from pyicloud import exceptions as apple
        from requests import RequestException

        try:
            return self.factory(apple_id=inputs["username"],
                                password=inputs["password"],
                                cookie_directory=str(state),
                                china_mainland=inputs["domain"] == "cn")
        except apple.PyiCloudFailedLoginException:
            raise SignInRefused("Apple refused the Apple ID or password") from None
        except apple.PyiCloud2FARequiredException:
            raise SessionExpired("Apple asks for a verification code: reconnect "
                                 "the account") from None
        except (apple.PyiCloudConnectionException, RequestException) as exc:
            raise Unreachable(f"Cannot reach Apple: {exc}") from None
        except apple.PyiCloudException as exc:
            raise CloudError(f"iCloud sign-in failed: {exc}") from None


class ICloudLibrary(Library):
    def __init__(self, service: ICloudService):
        self.service = service

    def items(self) -> Iterator[RemoteItem]:
        with _translated("the photo library"):
            photos: Iterable[ICloudPhoto] = self.service.photos.all
            for photo in photos:
                yield RemoteItem(
                    remote_id=photo.id, name=photo.filename, size=photo.size,
                    # An original never changes in iCloud (edits are kept
                    # beside it), so its record and size identify its content.
                    version=f"original:{photo.size}", modified=photo.created,
                    handle=photo)

    def download(self, item: RemoteItem, sink: Sink) -> None:
        with _translated(item.name):
            # TODO: pyicloud hands an original over as one bytes object, so a large
            # video is held in memory while it is written; its streaming download
            # goes through a session object that would widen the seam.
            data = item.handle.download("original")
        if data is None:
            raise ItemGone(f"{item.name} has no original to download")
        sink.write(data)


@contextmanager
def _translated(what: str) -> Iterator[None]:
    """Turns pyicloud failures during an import into the provider errors."""
    from pyicloud import exceptions as apple
    from requests import RequestException

    try:
        yield
    except apple.PyiCloudServiceNotActivatedException:
        raise CloudError("iCloud Photos cannot be read from the web for this "
                         "account (Advanced Data Protection, or Photos turned "
                         "off)") from None
    except apple.PyiCloud2FARequiredException:
        raise SessionExpired("Apple asks for a new verification code: reconnect "
                             "the account") from None
    except (apple.PyiCloudConnectionException, RequestException) as exc:
        raise Unreachable(f"Cannot reach Apple: {exc}") from None
    except apple.PyiCloudAPIResponseException as exc:
        if exc.code in (401, 421):
            raise SessionExpired("Apple ended the session: reconnect the "
                                 "account") from None
        raise CloudError(f"iCloud error on {what}: {exc}") from None
    except apple.PyiCloudException as exc:
        raise CloudError(f"iCloud error on {what}: {exc}") from None
