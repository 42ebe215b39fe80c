"""Secrets at rest: argon2 for passwords, SHA-256 for random tokens, TOTP second factors."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

TOKEN_PREFIX = "cvis_"
_hasher = PasswordHasher()


def use_password_hasher(hasher: PasswordHasher) -> PasswordHasher:
    """Swap the argon2 parameters (tests use cheap ones); returns the previous hasher."""
    global _hasher
    previous, _hasher = _hasher, hasher
    return previous


def hash_password(password: str) -> str:
    return _hasher.hash(password)


_DUMMY: dict[int, str] = {}


def burn_password_check(password: str) -> None:
    """The same argon2 work as a real check, for unknown or locked users (no timing oracle)."""
    key = id(_hasher)
    if key not in _DUMMY:
        _DUMMY[key] = _hasher.hash("cvis: no such user")
    password_matches(_DUMMY[key], password)


def password_matches(stored: str | None, password: str) -> bool:
    if not stored:
        return False
    try:
        return _hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


def new_token() -> str:
    """256 random bits: a fast hash at rest is enough (nothing to brute-force)."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_totp_secret() -> str:
    return pyotp.random_base32()


def totp_matches(secret: str | None, code: str, at: datetime) -> bool:
    return totp_step(secret, code, at) is not None


def totp_step(secret: str | None, code: str, at: datetime) -> int | None:
    """The 30-second step whose code this is (one step of clock drift either way), else None.

    The step is what makes a code single-use: a logon claims it, and a step at or before
    the last claimed one is refused.
    """
    if not secret or not code.isdigit():
        return None
    totp = pyotp.TOTP(secret)
    now = totp.timecode(at)
    for step in (now, now - 1, now + 1):
        if secrets.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def totp_uri(secret: str, user: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=user, issuer_name="cvis")
