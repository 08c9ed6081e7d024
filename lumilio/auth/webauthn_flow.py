"""Passkeys (WebAuthn) through the `webauthn` library: options out, responses checked.

Pure functions of the relying party, the challenge and the browser's answer; where
challenges are kept and which user a credential belongs to is `services.passkeys`.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass

from webauthn import (
    generate_authentication_options,
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers import (
    base64url_to_bytes,
    parse_authentication_credential_json,
    parse_registration_credential_json,
)
from webauthn.helpers.exceptions import WebAuthnException
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria,
    AuthenticatorTransport,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

log = logging.getLogger(__name__)

RP_NAME = "Lumilio Photos"
TIMEOUT_MS = 120_000
TRANSPORTS = {t.value for t in AuthenticatorTransport}


class CredentialRejected(Exception):
    """The browser's answer is malformed, for another challenge, or not verified."""


@dataclass(frozen=True)
class RelyingParty:
    id: str
    origins: list[str]


@dataclass(frozen=True)
class KnownCredential:
    credential_id: bytes
    transports: list[str]


@dataclass(frozen=True)
class Enrolled:
    credential_id: bytes
    public_key: bytes
    sign_count: int
    aaguid: str
    transports: list[str]


def _descriptors(known: list[KnownCredential]) -> list[PublicKeyCredentialDescriptor]:
    return [
        PublicKeyCredentialDescriptor(
            id=c.credential_id,
            transports=[AuthenticatorTransport(t) for t in c.transports
                        if t in TRANSPORTS] or None)
        for c in known
    ]


def enrolment_options(rp: RelyingParty, user_handle: bytes, username: str,
                      display_name: str, known: list[KnownCredential]
                      ) -> tuple[bytes, dict]:
    """(challenge, options for navigator.credentials.create)."""
    options = generate_registration_options(
        rp_id=rp.id,
        rp_name=RP_NAME,
        user_id=user_handle,
        user_name=username,
        user_display_name=display_name,
        timeout=TIMEOUT_MS,
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.PREFERRED,
            user_verification=UserVerificationRequirement.REQUIRED),
        exclude_credentials=_descriptors(known),
    )
    return options.challenge, json.loads(options_to_json(options))


def verify_enrolment(rp: RelyingParty, challenge: bytes,
                     credential: object) -> Enrolled:
    try:
        # A malformed answer (not a dict, fields missing) is refused by the parser.
        parsed = parse_registration_credential_json(credential)  # type: ignore
        result = verify_registration_response(
            credential=parsed,
            expected_challenge=challenge,
            expected_rp_id=rp.id,
            expected_origin=rp.origins,
            require_user_verification=True,
        )
    except (WebAuthnException, ValueError) as exc:
        log.debug("passkey enrolment refused: %s", exc)
        raise CredentialRejected(str(exc)) from None
    transports = [t.value for t in parsed.response.transports or []]
    return Enrolled(result.credential_id, result.credential_public_key,
                    result.sign_count, result.aaguid, transports)


def sign_in_options(rp: RelyingParty, known: list[KnownCredential]
                    ) -> tuple[bytes, dict]:
    """(challenge, options for navigator.credentials.get); no credentials listed
    lets the authenticator offer the passkeys it holds for this site."""
    options = generate_authentication_options(
        rp_id=rp.id,
        timeout=TIMEOUT_MS,
        allow_credentials=_descriptors(known),
        user_verification=UserVerificationRequirement.REQUIRED,
    )
    return options.challenge, json.loads(options_to_json(options))


def credential_id(credential: object) -> bytes:
    """The id the browser claims for its answer, before anything is verified."""
    if not isinstance(credential, dict) or not isinstance(credential.get("rawId"), str):
        raise CredentialRejected("the credential has no rawId")
    try:
        return base64url_to_bytes(credential["rawId"])
    except ValueError:
        raise CredentialRejected("rawId is not base64url") from None


def verify_sign_in(rp: RelyingParty, challenge: bytes, credential: object,
                   public_key: bytes, sign_count: int) -> int:
    """Checks the signature over the challenge; returns the new signature count."""
    try:
        parsed = parse_authentication_credential_json(credential)  # type: ignore
        result = verify_authentication_response(
            credential=parsed,
            expected_challenge=challenge,
            expected_rp_id=rp.id,
            expected_origin=rp.origins,
            credential_public_key=public_key,
            credential_current_sign_count=sign_count,
            require_user_verification=True,
        )
    except (WebAuthnException, ValueError) as exc:
        log.debug("passkey sign-in refused: %s", exc)
        raise CredentialRejected(str(exc)) from None
    return result.new_sign_count
