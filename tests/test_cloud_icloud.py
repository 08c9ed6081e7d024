"""The iCloud provider, through its provider interface, with pyicloud replaced by a
local stand-in at the one seam it is reached through (the factory that builds the
signed-in service). Apple's servers are never contacted: the stand-in plays the
account (its password, the code sent to trusted devices, the photo library) and
keeps its session in the session folder, as pyicloud does with its cookies.

The last test takes an iCloud account through the credentials service and an
import run in-process, on a real catalog and a real repository folder.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pyicloud.exceptions import PyiCloudFailedLoginException

from lumilio.cloud.providers.base import (
    ChallengeFailed,
    InvalidInput,
    SessionExpired,
    SignInRefused,
)
from lumilio.cloud.providers.icloud import ICloud
from serverkit import MEDIA

APPLE_ID = "annie@example.com"
PASSWORD = "Apple-Pie-2024"
CODE = "246810"
SESSION_FILE = "standin-session.json"
LIBRARY = ["jpeg/Canon_40D.jpg", "heic/Stonehenge.heic", "jpeg/Nikon_D70.jpg"]


@dataclass
class StandInPhoto:
    """What the provider reads of a pyicloud PhotoAsset."""

    id: str
    filename: str
    data: bytes
    created: datetime

    @property
    def size(self) -> int:
        return len(self.data)

    def download(self, version: str = "original") -> bytes | None:
        assert version == "original"
        return self.data


@dataclass
class AppleSide:
    """The account as Apple holds it, and what the stand-in was asked."""

    photos: list[StandInPhoto]
    password: str = PASSWORD
    code: str = CODE
    builds: list[dict] = field(default_factory=list)

    def factory(self, apple_id: str, password: str, cookie_directory: str,
                china_mainland: bool):
        """Plays `PyiCloudService(...)`: reuse a trusted session from the folder,
        else sign in with the password (a fresh session then wants a code)."""
        self.builds.append({"apple_id": apple_id, "china_mainland": china_mainland,
                            "cookie_directory": cookie_directory})
        session = Path(cookie_directory) / SESSION_FILE
        state = json.loads(session.read_text()) if session.exists() else {}
        if not state.get("trusted"):
            if apple_id != APPLE_ID or password != self.password:
                raise PyiCloudFailedLoginException(
                    "Invalid email/password combination.")
            session.write_text(json.dumps({"trusted": False}))
        return StandInService(self, session)


class StandInService:
    """What the provider uses of a `PyiCloudService`."""

    def __init__(self, apple: AppleSide, session: Path):
        self.apple = apple
        self.session = session
        self.codes_tried: list[str] = []

    @property
    def requires_2fa(self) -> bool:
        return not json.loads(self.session.read_text())["trusted"]

    requires_2sa = False

    def validate_2fa_code(self, code: str) -> bool:
        self.codes_tried.append(code)
        if code != self.apple.code:
            return False
        self.session.write_text(json.dumps({"trusted": True}))
        return True

    @property
    def photos(self):
        assert not self.requires_2fa, "the library is read only once signed in"
        return type("Photos", (), {"all": list(self.apple.photos)})()


@pytest.fixture
def apple() -> AppleSide:
    photos = [StandInPhoto(f"record-{i}", Path(rel).name, (MEDIA / rel).read_bytes(),
                           datetime(2021, 5, i + 1, 12, tzinfo=UTC))
              for i, rel in enumerate(LIBRARY)]
    return AppleSide(photos)


INPUTS = {"username": APPLE_ID, "password": PASSWORD, "domain": "com"}


def _count_downloads(apple: AppleSide):
    """A function that tells how many originals were downloaded since this call."""
    counted = []
    for photo in apple.photos:
        original = photo.download

        def download(version="original", original=original):
            counted.append(version)
            return original(version)

        photo.download = download
    return lambda: len(counted)


def test_the_form_is_the_references(apple):
    described = ICloud(apple.factory).describe()
    fields = {f["name"]: f for f in described["form_fields"]}
    assert list(fields) == ["username", "password", "domain"]
    assert fields["username"]["label"] == "Apple ID"
    assert fields["username"]["type"] == "email"
    assert fields["password"]["type"] == "password"
    assert fields["domain"]["options"] == [{"value": "com", "label": "Global"},
                                           {"value": "cn", "label": "Mainland China"}]
    assert [f["name"] for f in described["challenge_fields"]] == ["code"]


def test_sign_in_asks_for_the_code_and_a_wrong_one_is_refused(apple, tmp_path):
    provider = ICloud(apple.factory)
    inputs = provider.normalise(INPUTS)

    started = provider.sign_in(inputs, tmp_path)
    assert started.status == "challenge_required"
    assert started.challenge["type"] == "verification_code"
    assert started.challenge["title"] == "Verification required"
    assert [f["name"] for f in started.challenge["fields"]] == ["code"]

    with pytest.raises(ChallengeFailed, match="wrong"):
        provider.answer_challenge(inputs, tmp_path, {"code": "111111"})
    with pytest.raises(InvalidInput, match="six digits"):
        provider.answer_challenge(inputs, tmp_path, {"code": "12ab"})
    with pytest.raises(SessionExpired):
        provider.open(inputs, tmp_path)  # still waiting for the right code

    done = provider.answer_challenge(inputs, tmp_path, {"code": CODE})
    assert done.status == "connected"
    # The half-finished sign-in was the one the code went to: a single build.
    assert len(apple.builds) == 1


def test_a_wrong_password_is_refused(apple, tmp_path):
    provider = ICloud(apple.factory)
    with pytest.raises(SignInRefused, match="refused"):
        provider.sign_in(provider.normalise({**INPUTS, "password": "nope"}), tmp_path)


def test_the_code_still_works_after_a_restart(apple, tmp_path):
    inputs = ICloud(apple.factory).normalise(INPUTS)
    ICloud(apple.factory).sign_in(inputs, tmp_path)

    # A new provider is a new process: the session folder carries the sign-in.
    again = ICloud(apple.factory)
    assert again.answer_challenge(inputs, tmp_path, {"code": CODE}).status == \
        "connected"
    assert ICloud(apple.factory).sign_in(inputs, tmp_path).status == "connected"


def test_listing_and_download(apple, tmp_path):
    provider = ICloud(apple.factory)
    inputs = provider.normalise({**INPUTS, "domain": "cn"})
    provider.sign_in(inputs, tmp_path)
    provider.answer_challenge(inputs, tmp_path, {"code": CODE})

    library = ICloud(apple.factory).open(inputs, tmp_path)
    items = list(library.items())
    assert [i.name for i in items] == [Path(rel).name for rel in LIBRARY]
    assert [i.remote_id for i in items] == ["record-0", "record-1", "record-2"]
    assert items[1].size == (MEDIA / LIBRARY[1]).stat().st_size
    assert items[1].modified == datetime(2021, 5, 2, 12, tzinfo=UTC)

    received = bytearray()

    class Sink:
        def write(self, data: bytes) -> None:
            received.extend(data)

    library.download(items[1], Sink())
    assert bytes(received) == (MEDIA / LIBRARY[1]).read_bytes()
    assert all(b["china_mainland"] for b in apple.builds)
    assert provider.masked_identity(inputs) == "a***e@example.com"


def test_an_expired_session_asks_to_reconnect(apple, tmp_path):
    provider = ICloud(apple.factory)
    inputs = provider.normalise(INPUTS)
    provider.sign_in(inputs, tmp_path)
    provider.answer_challenge(inputs, tmp_path, {"code": CODE})

    (tmp_path / SESSION_FILE).unlink()  # Apple let the session lapse
    with pytest.raises(SessionExpired, match="reconnect"):
        ICloud(apple.factory).open(inputs, tmp_path)


def test_an_icloud_account_through_the_service_and_an_import(apple, tmp_path,
                                                             monkeypatch):
    from lumilio import config
    from lumilio.auth.principal import Principal
    from lumilio.cloud import credentials, imports, providers
    from lumilio.errors import BadRequest
    from lumilio.server import build_context
    from lumilio.services import repositories

    monkeypatch.setitem(providers.REGISTRY, "icloud", ICloud(apple.factory))
    ctx = build_context(config.load({"data_dir": tmp_path / "data"}, environ={}))
    try:
        from lumilio.services import accounts

        user = accounts.register(ctx, "root", "Correct-Horse-9")["user"]
        admin = Principal(user["user_id"], "root", "admin")
        created = credentials.create(ctx, admin, {"provider": "icloud",
                                                  "inputs": INPUTS})
        assert created["auth_status"] == "challenge_required"
        assert created["challenge"]["fields"][0]["name"] == "code"
        credential_id = created["credential"]["id"]
        assert created["credential"]["status"] == "challenge_required"

        with pytest.raises(BadRequest) as refused:
            credentials.answer_challenge(ctx, credential_id,
                                         {"inputs": {"code": "000000"}})
        assert refused.value.message == "Verification failed"
        verified = credentials.answer_challenge(ctx, credential_id,
                                                {"inputs": {"code": CODE}})
        assert verified["auth_status"] == "connected"
        assert "challenge" not in verified
        listed = str(credentials.list_all(ctx))
        assert PASSWORD not in listed and APPLE_ID not in listed
        assert credentials.list_all(ctx)[0]["public_config"] == {"domain": "com"}
        stored = ctx.catalog.one("SELECT * FROM cloud_credentials")
        assert PASSWORD not in json.dumps(stored)
        state = ctx.config.secrets_dir / "cloud" / credential_id
        assert (state / SESSION_FILE).exists()
        assert state.stat().st_mode & 0o777 == 0o700

        repo = repositories.register(ctx, tmp_path / "From iCloud", name="iCloud")
        run = imports.start_for_new_repository(ctx, repo["repository_id"],
                                               credential_id, "root")
        imports.run_import(ctx, run["cloud_import_run_id"])  # what the job runs
        done = imports.get_run(ctx, run["cloud_import_run_id"])
        assert (done["status"], done["total_seen"], done["imported_count"],
                done["downloaded_count"]) == ("completed", 3, 3, 3)
        inbox = sorted(p.name for p in (tmp_path / "From iCloud" / "inbox").rglob("*")
                       if p.is_file())
        assert inbox == sorted(Path(rel).name for rel in LIBRARY)

        # A restart in the middle of committing an item: the item is settled by
        # its content hash, without downloading it again.
        staging = tmp_path / "From iCloud" / ".lumilio" / "staging" / "incoming"
        (staging / "upload-left.jpg").write_bytes(b"half")
        ctx.catalog.write(lambda conn: conn.execute(
            "UPDATE cloud_import_items SET state = 'committing', run_id = NULL,"
            " staging_file = 'upload-left.jpg', updated_at = '2000-01-01T00:00:00Z'"
            " WHERE remote_id = 'record-0'"))
        downloads = _count_downloads(apple)
        again = imports.start(ctx, repo["repository_id"], "root")
        imports.run_import(ctx, again["id"])
        settled = imports.get_run(ctx, again["id"])
        assert (settled["imported_count"], settled["skipped_count"],
                settled["downloaded_count"]) == (1, 2, 1)
        assert downloads() == 0
        assert not (staging / "upload-left.jpg").exists()

        credentials.remove(ctx, credential_id)
        assert not state.exists()
        assert imports.repository_status(ctx, repo["repository_id"]) == {
            "enabled": False, "last_import_run_id": again["id"],
            "latest_run": imports.get_run(ctx, again["id"])}
    finally:
        ctx.catalog.close()
