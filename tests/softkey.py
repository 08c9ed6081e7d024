"""A software passkey authenticator for tests: what a browser and a phone would answer.

Built on fido2's data structures and a P-256 key from `cryptography`; it speaks the
JSON forms of `navigator.credentials.create()` and `.get()`.
"""

from __future__ import annotations

import base64
import hashlib
import os
from dataclasses import dataclass

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from fido2.cose import ES256
from fido2.webauthn import (
    AttestationObject,
    AttestedCredentialData,
    AuthenticatorData,
    CollectedClientData,
)

FLAGS = AuthenticatorData.FLAG


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass
class Credential:
    credential_id: bytes
    key: ec.EllipticCurvePrivateKey
    user_handle: bytes
    counter: int = 0


class SoftAuthenticator:
    def __init__(self, origin: str, rp_id: str = "localhost"):
        self.origin = origin
        self.rp_id = rp_id
        self.credentials: dict[bytes, Credential] = {}

    def _rp_hash(self) -> bytes:
        return hashlib.sha256(self.rp_id.encode()).digest()

    def create(self, options: dict) -> dict:
        """Answer to registration options: a new key pair, attestation "none"."""
        assert options["rp"]["id"] == self.rp_id
        key = ec.generate_private_key(ec.SECP256R1())
        cred_id = os.urandom(32)
        attested = AttestedCredentialData.create(
            b"\0" * 16, cred_id, ES256.from_cryptography_key(key.public_key()))
        auth_data = AuthenticatorData.create(
            self._rp_hash(), FLAGS.UP | FLAGS.UV | FLAGS.AT, 0, attested)
        attestation = AttestationObject.create("none", auth_data, {})
        client_data = CollectedClientData.create(
            "webauthn.create", unb64url(options["challenge"]), self.origin)
        self.credentials[cred_id] = Credential(
            cred_id, key, unb64url(options["user"]["id"]))
        return {
            "id": b64url(cred_id), "rawId": b64url(cred_id), "type": "public-key",
            "response": {
                "clientDataJSON": b64url(bytes(client_data)),
                "attestationObject": b64url(bytes(attestation)),
                "transports": ["internal"],
            },
            "clientExtensionResults": {},
        }

    def get(self, options: dict, origin: str | None = None) -> dict:
        """Answer to authentication options with the first matching credential."""
        allowed = {unb64url(c["id"]) for c in options.get("allowCredentials", [])}
        cred = next(c for cid, c in self.credentials.items()
                    if not allowed or cid in allowed)
        cred.counter += 1
        auth_data = AuthenticatorData.create(
            self._rp_hash(), FLAGS.UP | FLAGS.UV, cred.counter)
        client_data = CollectedClientData.create(
            "webauthn.get", unb64url(options["challenge"]), origin or self.origin)
        signature = cred.key.sign(
            bytes(auth_data) + hashlib.sha256(bytes(client_data)).digest(),
            ec.ECDSA(hashes.SHA256()))
        return {
            "id": b64url(cred.credential_id), "rawId": b64url(cred.credential_id),
            "type": "public-key",
            "response": {
                "clientDataJSON": b64url(bytes(client_data)),
                "authenticatorData": b64url(bytes(auth_data)),
                "signature": b64url(signature),
                "userHandle": b64url(cred.user_handle),
            },
            "clientExtensionResults": {},
        }
