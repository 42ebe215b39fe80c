"""Account services: agencies, users, tokens, interactive logons, lockout and idle lock."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from cvis.accounts.credentials import (
    hash_password,
    new_token,
    new_totp_secret,
    password_matches,
    token_digest,
    totp_matches,
)
from cvis.accounts.roles import ROLES, check_role, check_scopes
from cvis.store.models import Agency, ApiToken, User, utcnow

MAX_FAILED_LOGONS = 5
LOCKOUT = timedelta(minutes=15)
SESSION_IDLE = timedelta(minutes=30)
SESSION_MAX = timedelta(hours=12)
LAST_USED_GRANULARITY = timedelta(minutes=1)


class AccountError(ValueError):
    """A request about accounts that cannot be done as asked (clear message for the user)."""


class AuthenticationFailed(PermissionError):
    """Credentials were missing, wrong, expired, revoked, locked or idle."""


@dataclass(frozen=True)
class Principal:
    """An authenticated caller: what they may do and on whose behalf."""

    user: str
    agency: str
    role: str
    permissions: frozenset[str]
    interactive: bool
    purpose: str = ""
    token_id: int | None = None

    def may(self, permission: str) -> bool:
        return permission in self.permissions


def _aware(at: datetime | None) -> datetime | None:
    """SQLite returns naive UTC datetimes."""
    return at.replace(tzinfo=UTC) if at is not None and at.tzinfo is None else at


def add_agency(session: Session, name: str) -> Agency:
    name = name.strip()
    if not name:
        raise AccountError("an agency name cannot be empty")
    if session.scalar(select(Agency).where(Agency.name == name)) is not None:
        raise AccountError(f"agency {name!r} already exists")
    agency = Agency(name=name)
    session.add(agency)
    session.flush()
    return agency


def get_user(session: Session, name: str) -> User:
    user = session.scalar(select(User).where(User.name == name))
    if user is None:
        raise AccountError(f"no user named {name!r}")
    return user


def add_user(
    session: Session, name: str, agency: str, role: str, password: str | None = None
) -> tuple[User, str]:
    """Create a user; return it and its new TOTP secret (shown once, for the authenticator)."""
    check_role(role)
    found = session.scalar(select(Agency).where(Agency.name == agency))
    if found is None:
        raise AccountError(f"no agency named {agency!r} (add it with `cvis agency add`)")
    if session.scalar(select(User).where(User.name == name)) is not None:
        raise AccountError(f"user {name!r} already exists")
    secret = new_totp_secret()
    user = User(
        name=name, agency_id=found.id, role=role, totp_secret=secret,
        password_hash=hash_password(password) if password else None,
    )
    session.add(user)
    session.flush()
    return user, secret


def create_token(
    session: Session,
    user_name: str,
    *,
    scopes: list[str] | None = None,
    expires_days: int | None = 90,
    purpose: str = "",
    kind: str = "api",
) -> tuple[ApiToken, str]:
    """Issue a bearer token; only its digest is stored, so the text is returned once."""
    user = get_user(session, user_name)
    if expires_days is not None and expires_days <= 0:
        raise AccountError("--expires-days must be positive")
    granted = check_scopes(scopes) if scopes else sorted(ROLES[user.role])
    token = new_token()
    row = ApiToken(
        user_id=user.id, kind=kind, token_sha256=token_digest(token), prefix=token[:12],
        scopes=granted, purpose=purpose,
        expires_at=utcnow() + timedelta(days=expires_days) if expires_days else None,
    )
    session.add(row)
    session.flush()
    return row, token


def revoke_token(session: Session, token_id: int) -> ApiToken:
    row = session.get(ApiToken, token_id)
    if row is None:
        raise AccountError(f"no token with id {token_id}")
    row.revoked_at = row.revoked_at or utcnow()
    return row


def authenticate_token(session: Session, token: str, now: datetime | None = None) -> Principal:
    """The caller behind a bearer token, or AuthenticationFailed saying why."""
    now = now or utcnow()
    row = session.scalar(select(ApiToken).where(ApiToken.token_sha256 == token_digest(token)))
    if row is None:
        raise AuthenticationFailed("unknown token")
    if row.revoked_at is not None:
        raise AuthenticationFailed("token revoked")
    expires_at = _aware(row.expires_at)
    if expires_at is not None and now >= expires_at:
        raise AuthenticationFailed("token expired")
    last_used = _aware(row.last_used_at) or _aware(row.created_at)
    if row.kind == "session" and last_used is not None and now - last_used > SESSION_IDLE:
        row.revoked_at = now
        raise AuthenticationFailed("session locked after 30 idle minutes: log on again")
    user = row.user
    if user.disabled:
        raise AuthenticationFailed("account disabled")
    if last_used is None or now - last_used > LAST_USED_GRANULARITY:
        row.last_used_at = now  # a write per minute, not per request
    permissions = frozenset(row.scopes) & ROLES[user.role]
    return Principal(
        user.name, user.agency.name, user.role, permissions, row.kind == "session",
        row.purpose, row.id,
    )


def logon(
    session: Session, name: str, password: str, totp_code: str, now: datetime | None = None
) -> str:
    """Interactive logon with password and TOTP; returns a session token.

    Five failures in a row lock the account for LOCKOUT; a locked account is
    refused even with the right password, so guessing cannot continue.
    """
    now = now or utcnow()
    user = session.scalar(select(User).where(User.name == name))
    if user is None:
        raise AuthenticationFailed("wrong user name, password or code")
    locked_until = _aware(user.locked_until)
    if locked_until is not None and now < locked_until:
        raise AuthenticationFailed(f"account locked until {locked_until.isoformat()}")
    right = password_matches(user.password_hash, password) and totp_matches(
        user.totp_secret, totp_code, now
    )
    if user.disabled or not right:
        user.failed_logons += 1
        if user.failed_logons >= MAX_FAILED_LOGONS:
            user.locked_until, user.failed_logons = now + LOCKOUT, 0
        raise AuthenticationFailed("wrong user name, password or code")
    user.failed_logons, user.locked_until = 0, None
    _, token = create_token(session, name, expires_days=None, kind="session")
    session.flush()
    row = session.scalar(select(ApiToken).where(ApiToken.token_sha256 == token_digest(token)))
    if row is not None:
        row.expires_at, row.last_used_at = now + SESSION_MAX, now
    return token
