"""TOTP codes (RFC 6238 through pyotp) and one-time recovery codes."""

from __future__ import annotations

import hmac
import re
import secrets
import time

import pyotp

ISSUER = "Lumilio Photos"
PERIOD_S = 30
# One step either side absorbs a phone clock a little off and a code typed late.
SKEW_STEPS = 1

RECOVERY_CODE_COUNT = 10
RECOVERY_CODE_LENGTH = 8
# Upper-case letters and digits without the look-alikes 0/O and 1/I.
RECOVERY_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"

_SIX_DIGITS = re.compile(r"^\d{6}$")


def new_secret() -> str:
    return pyotp.random_base32()


def provisioning_uri(secret: str, account_name: str) -> str:
    return pyotp.TOTP(secret, interval=PERIOD_S).provisioning_uri(
        name=account_name, issuer_name=ISSUER)


def current_step(at: float | None = None) -> int:
    return int((time.time() if at is None else at) // PERIOD_S)


def matching_step(secret: str, code: str, after_step: int | None,
                  at: float | None = None) -> int | None:
    """The time step `code` belongs to, if it is valid and later than `after_step`.

    Remembering the accepted step and refusing it (and any earlier one) afterwards is
    what stops a code seen over someone's shoulder from being used a second time.
    """
    code = re.sub(r"\s", "", code or "")
    if not _SIX_DIGITS.match(code):
        return None
    totp = pyotp.TOTP(secret, interval=PERIOD_S)
    now = current_step(at)
    for step in range(now - SKEW_STEPS, now + SKEW_STEPS + 1):
        if after_step is not None and step <= after_step:
            continue
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def new_recovery_codes() -> list[str]:
    return [
        "".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(RECOVERY_CODE_LENGTH))
        for _ in range(RECOVERY_CODE_COUNT)
    ]


def normalize_recovery_code(code: str) -> str:
    """As typed, spaces and dashes allowed, lower case accepted."""
    return re.sub(r"[\s-]", "", code or "").upper()
