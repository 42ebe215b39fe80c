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
    return bool(secret) and pyotp.TOTP(secret or "").verify(code, for_time=at, valid_window=1)


def totp_uri(secret: str, user: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=user, issuer_name="cvis")
