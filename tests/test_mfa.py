"""TOTP and recovery codes end to end, with pyotp playing the phone."""

from __future__ import annotations

import time
from urllib.parse import parse_qs, urlparse

import pyotp
import pytest
from serverkit import PASSWORD, Server

PERIOD = 30


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    server = Server(tmp_path_factory.mktemp("mfa") / "data").start()
    server.sign_up()
    yield server
    server.stop()


def login(srv: Server, name: str, password: str = PASSWORD) -> dict:
    res = srv.post("/auth/login", {"username": name, "password": password},
                   token=None)
    assert res.status_code == 200, res.text
    return res.json()


def fresh_step() -> int:
    """The current time step, waiting out its last seconds so that a few requests
    made next all fall into it."""
    if time.time() % PERIOD > PERIOD - 5:
        time.sleep(PERIOD - time.time() % PERIOD + 0.2)
    return int(time.time() // PERIOD)


def code_at(secret: str, step: int) -> str:
    return pyotp.TOTP(secret).at(step * PERIOD)


def enable_totp(srv: Server, token: str) -> tuple[str, dict, int]:
    """TOTP on with a code of the previous step (inside the allowed skew), leaving
    the current and the next step's codes for sign-ins without waiting."""
    setup = srv.post("/auth/mfa/totp/setup", {}, token=token).json()
    step = fresh_step()
    code = code_at(setup["secret"], step - 1)
    res = srv.post("/auth/mfa/totp/enable",
                   {"setup_token": setup["setup_token"], "code": code}, token=token)
    assert res.status_code == 200, res.text
    return setup["secret"], res.json(), step


def verify(srv: Server, mfa_token: str, code: str, method: str = "totp"):
    return srv.post("/auth/mfa/verify", {"mfa_token": mfa_token, "code": code,
                                         "method": method}, token=None)


def test_totp_setup_gives_a_secret_uri_and_token(srv):
    token = srv.register("setupper")
    res = srv.post("/auth/mfa/totp/setup", {}, token=token)
    assert res.status_code == 200
    setup = res.json()
    uri = urlparse(setup["otpauth_uri"])
    query = parse_qs(uri.query)
    assert uri.scheme == "otpauth" and uri.netloc == "totp"
    assert query["secret"] == [setup["secret"]]
    assert query["issuer"] == ["Lumilio Photos"] == [setup["issuer"]]
    assert setup["account_name"] == "setupper"
    assert setup["setup_token"]

    # Nothing changes until a code confirms the secret.
    status = srv.get("/auth/mfa", token=token).json()
    assert status["totp_enabled"] is False and status["recovery_codes_remaining"] == 0
    wrong = srv.post("/auth/mfa/totp/enable", {"setup_token": setup["setup_token"],
                                               "code": "000000"}, token=token)
    assert wrong.status_code == 400
    assert login(srv, "setupper")["requires_mfa"] is False


def test_sign_in_asks_for_a_code_and_refuses_its_replay(srv):
    token = srv.register("totpuser")
    secret, enabled, step = enable_totp(srv, token)
    codes = enabled["recovery_codes"]
    assert len(codes) == 10 and len(set(codes)) == 10
    assert all(len(c) == 8 and c.isalnum() and c.upper() == c for c in codes)
    assert enabled["status"]["totp_enabled"] is True
    assert enabled["status"]["recovery_codes_remaining"] == 10
    assert enabled["status"]["available_methods"] == ["totp", "recovery_code"]

    challenge = login(srv, "totpuser")
    assert challenge["requires_mfa"] is True
    assert "token" not in challenge and "refreshToken" not in challenge
    assert challenge["mfa_methods"] == ["totp", "recovery_code"]
    # The code that enabled TOTP is spent already.
    assert verify(srv, challenge["mfa_token"],
                  code_at(secret, step - 1)).status_code == 401

    done = verify(srv, challenge["mfa_token"], code_at(secret, step))
    assert done.status_code == 200, done.text
    session = done.json()
    assert session["requires_mfa"] is False and session["user"]["username"] == \
        "totpuser"
    assert srv.get("/auth/me", token=session["token"]).status_code == 200

    again = login(srv, "totpuser")
    replay = verify(srv, again["mfa_token"], code_at(secret, step))
    assert replay.status_code == 401
    assert verify(srv, again["mfa_token"],
                  code_at(secret, step + 1)).status_code == 200


def test_a_recovery_code_works_once(srv):
    token = srv.register("recoverer")
    _, enabled, _ = enable_totp(srv, token)
    code = enabled["recovery_codes"][3]

    typed = f"{code[:4].lower()}-{code[4:]}"
    first = verify(srv, login(srv, "recoverer")["mfa_token"], typed, "recovery_code")
    assert first.status_code == 200, first.text
    second = verify(srv, login(srv, "recoverer")["mfa_token"], code, "recovery_code")
    assert second.status_code == 401

    status = srv.get("/auth/mfa", token=token).json()
    assert status["recovery_codes_remaining"] == 9
    assert status["recovery_codes_generated_at"]


def test_regenerate_and_disable_need_the_current_password(srv):
    token = srv.register("changer")
    _, enabled, _ = enable_totp(srv, token)
    old_code = enabled["recovery_codes"][0]

    for path in ("/auth/mfa/recovery-codes/regenerate", "/auth/mfa/totp/disable"):
        res = srv.post(path, {"current_password": "Wrong-Password-1"}, token=token)
        assert res.status_code == 401
        assert srv.post(path, {}, token=token).status_code == 400

    res = srv.post("/auth/mfa/recovery-codes/regenerate",
                   {"current_password": PASSWORD}, token=token)
    assert res.status_code == 200
    fresh = res.json()
    assert len(fresh["recovery_codes"]) == 10 and fresh["generated_at"]
    assert old_code not in fresh["recovery_codes"]
    assert verify(srv, login(srv, "changer")["mfa_token"], old_code,
                  "recovery_code").status_code == 401

    res = srv.post("/auth/mfa/totp/disable", {"current_password": PASSWORD},
                   token=token)
    assert res.status_code == 200
    assert res.json()["totp_enabled"] is False
    assert res.json()["recovery_codes_remaining"] == 0
    assert login(srv, "changer")["requires_mfa"] is False
    again = srv.post("/auth/mfa/totp/disable", {"current_password": PASSWORD},
                     token=token)
    assert again.status_code == 400 and again.json()["message"] == "MFA is not enabled"


def test_challenge_and_setup_tokens_are_bound_to_their_purpose(srv):
    token = srv.register("binder")
    other = srv.register("intruder")
    secret, _, step = enable_totp(srv, token)
    mfa_token = login(srv, "binder")["mfa_token"]

    # An MFA challenge is not a session, and a session is not an MFA challenge.
    assert srv.get("/auth/me", token=mfa_token).status_code == 401
    assert verify(srv, token, code_at(secret, step)).status_code == 401
    assert verify(srv, mfa_token + "x", code_at(secret, step)).status_code == 401
    bad_method = verify(srv, mfa_token, code_at(secret, step), "sms")
    assert bad_method.status_code == 400

    # Someone else's setup token cannot put their secret on my account.
    setup = srv.post("/auth/mfa/totp/setup", {}, token=token).json()
    res = srv.post("/auth/mfa/totp/enable", {
        "setup_token": setup["setup_token"],
        "code": code_at(setup["secret"], fresh_step())}, token=other)
    assert res.status_code == 400
    assert srv.get("/auth/mfa", token=other).json()["totp_enabled"] is False


def test_totp_secret_is_not_stored_in_the_clear(srv):
    token = srv.register("sealer")
    secret, _, _ = enable_totp(srv, token)
    catalog = (srv.data_dir / "catalog.db").read_bytes()
    wal = srv.data_dir / "catalog.db-wal"
    stored = catalog + (wal.read_bytes() if wal.exists() else b"")
    assert secret.encode() not in stored
