"""Passkeys end to end against a software authenticator: enrol, sign in, delete."""

from __future__ import annotations

import pytest
from serverkit import PASSWORD, Server
from softkey import SoftAuthenticator


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    server = Server(tmp_path_factory.mktemp("passkeys") / "data").start()
    server.sign_up()
    yield server
    server.stop()


def enrol(srv: Server, token: str, key: SoftAuthenticator, label=None) -> dict:
    start = srv.post("/auth/mfa/passkeys/options", {}, token=token)
    assert start.status_code == 200, start.text
    body = {"challenge_token": start.json()["challenge_token"],
            "credential": key.create(start.json()["options"])}
    if label:
        body["label"] = label
    res = srv.post("/auth/mfa/passkeys/verify", body, token=token)
    assert res.status_code == 200, res.text
    return res.json()


def sign_in(srv: Server, key: SoftAuthenticator, username: str | None,
            origin: str | None = None):
    body = {"username": username} if username else {}
    start = srv.post("/auth/passkeys/login/options", body, token=None)
    assert start.status_code == 200, start.text
    options = start.json()["options"]
    assertion = key.get(options, origin)
    res = srv.post("/auth/passkeys/login/verify", {
        "challenge_token": start.json()["challenge_token"], "credential": assertion},
        token=None)
    return res, start.json(), assertion


def test_enrolment_lists_the_passkey(srv):
    token = srv.register("keyholder")
    key = SoftAuthenticator(srv.base)
    start = srv.post("/auth/mfa/passkeys/options", {}, token=token).json()
    options = start["options"]
    assert options["rp"]["id"] == "localhost"
    assert options["user"]["name"] == "keyholder"
    assert options["authenticatorSelection"]["userVerification"] == "required"
    assert options["challenge"] and start["challenge_token"]

    credential = key.create(options)
    res = srv.post("/auth/mfa/passkeys/verify", {
        "challenge_token": start["challenge_token"], "credential": credential,
        "label": "Laptop"}, token=token)
    assert res.status_code == 200, res.text
    summary = res.json()
    assert isinstance(summary["passkey_id"], int) and summary["label"] == "Laptop"
    assert summary["transports"] == ["internal"] and summary["created_at"]

    # The challenge was consumed: the same answer cannot enrol twice.
    again = srv.post("/auth/mfa/passkeys/verify", {
        "challenge_token": start["challenge_token"], "credential": credential},
        token=token)
    assert again.status_code == 400

    listed = srv.get("/auth/mfa/passkeys", token=token).json()
    assert listed["total"] == 1
    assert listed["credentials"][0]["passkey_id"] == summary["passkey_id"]
    status = srv.get("/auth/mfa", token=token).json()
    assert status["passkey_count"] == 1 and "passkey" in status["available_methods"]

    # A second enrolment excludes the passkey already there.
    options = srv.post("/auth/mfa/passkeys/options", {}, token=token).json()["options"]
    excluded = [c["id"] for c in options["excludeCredentials"]]
    assert excluded == [credential["id"]]


def test_sign_in_with_a_passkey_by_username_and_without(srv):
    token = srv.register("signer")
    key = SoftAuthenticator(srv.base)
    passkey = enrol(srv, token, key)

    res, start, assertion = sign_in(srv, key, "Signer")
    assert res.status_code == 200, res.text
    session = res.json()
    assert session["user"]["username"] == "signer" and session["requires_mfa"] is False
    assert srv.get("/auth/me", token=session["token"]).json()["username"] == "signer"
    allowed = [c["id"] for c in start["options"]["allowCredentials"]]
    assert allowed == [assertion["id"]]

    replay = srv.post("/auth/passkeys/login/verify", {
        "challenge_token": start["challenge_token"], "credential": assertion},
        token=None)
    assert replay.status_code == 401

    # Without a username the authenticator picks its own credential for the site.
    res, start, _ = sign_in(srv, key, None)
    assert res.status_code == 200 and res.json()["user"]["username"] == "signer"
    assert start["options"].get("allowCredentials", []) == []

    listed = srv.get("/auth/mfa/passkeys", token=token).json()["credentials"]
    assert listed[0]["passkey_id"] == passkey["passkey_id"]
    assert listed[0]["last_used_at"]


def test_a_foreign_origin_or_someone_elses_key_is_refused(srv):
    alice_token = srv.register("keyowner")
    alice_key = SoftAuthenticator(srv.base)
    enrol(srv, alice_token, alice_key)
    srv.register("keythief")
    thief_key = SoftAuthenticator(srv.base)
    enrol(srv, srv.post("/auth/login", {"username": "keythief",
                                        "password": PASSWORD},
                        token=None).json()["token"], thief_key)

    res, _, _ = sign_in(srv, alice_key, "keyowner", origin="http://evil.example")
    assert res.status_code == 401

    # A challenge issued for keyowner answered with keythief's passkey.
    start = srv.post("/auth/passkeys/login/options", {"username": "keyowner"},
                     token=None).json()
    forged = thief_key.get({"challenge": start["options"]["challenge"]})
    res = srv.post("/auth/passkeys/login/verify", {
        "challenge_token": start["challenge_token"], "credential": forged},
        token=None)
    assert res.status_code == 401


def test_unknown_user_and_user_without_passkeys_look_the_same(srv):
    srv.register("plainuser")
    unknown = srv.post("/auth/passkeys/login/options", {"username": "nobody-here"},
                       token=None)
    plain = srv.post("/auth/passkeys/login/options", {"username": "plainuser"},
                     token=None)
    assert unknown.status_code == plain.status_code == 401
    assert unknown.json() == plain.json()


def test_deleting_a_passkey(srv):
    token = srv.register("deleter")
    other = srv.register("bystander")
    key = SoftAuthenticator(srv.base)
    passkey = enrol(srv, token, key)

    path = f"/auth/mfa/passkeys/{passkey['passkey_id']}"
    assert srv.request("DELETE", path, token=other).status_code == 404
    assert srv.request("DELETE", path, token=None).status_code == 401
    res = srv.request("DELETE", path, token=token)
    assert res.status_code == 200
    assert srv.request("DELETE", path, token=token).status_code == 404
    assert srv.get("/auth/mfa/passkeys", token=token).json()["total"] == 0
    res = srv.post("/auth/passkeys/login/options", {"username": "deleter"}, token=None)
    assert res.status_code == 401


def test_totp_sign_in_offers_the_passkey_too(srv):
    import pyotp

    token = srv.register("bothfactors")
    enrol(srv, token, SoftAuthenticator(srv.base))
    setup = srv.post("/auth/mfa/totp/setup", {}, token=token).json()
    res = srv.post("/auth/mfa/totp/enable", {
        "setup_token": setup["setup_token"], "code": pyotp.TOTP(setup["secret"]).now()},
        token=token)
    assert res.status_code == 200
    login = srv.post("/auth/login", {"username": "bothfactors", "password": PASSWORD},
                     token=None).json()
    assert login["requires_mfa"] is True
    assert login["mfa_methods"] == ["totp", "recovery_code", "passkey"]
