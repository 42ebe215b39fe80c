"""Account services: agencies, users, tokens, interactive logons, lockout and idle lock."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import ColumnElement, and_, case, or_, select, update
from sqlalchemy.orm import Session

from cvis.accounts.credentials import (
    burn_password_check,
    hash_password,
    new_token,
    new_totp_secret,
    password_matches,
    token_digest,
    totp_step,
)
from cvis.accounts.passwords import WeakPassword, check_password
from cvis.accounts.roles import ROLES, check_role, check_scopes
from cvis.policy.inputs import InvalidName
from cvis.policy.inputs import check_name as _check_name
from cvis.store.db import Store
from cvis.store.models import Agency, ApiToken, User, utcnow

MAX_FAILED_LOGONS = 5
LOCKOUT = timedelta(minutes=15)
SESSION_IDLE = timedelta(minutes=30)
SESSION_MAX = timedelta(hours=12)
LAST_USED_GRANULARITY = timedelta(minutes=1)


class AccountError(ValueError):
    """A request about accounts that cannot be done as asked (clear message for the user)."""


class AuthenticationFailed(PermissionError):
    """Credentials were missing, wrong, expired, revoked, locked or idle.

    The message is what the caller is told; ``reason`` (often more precise, such as
    "unknown user" or "account locked") is for the audit record only.
    """

    def __init__(self, message: str, reason: str = "") -> None:
        super().__init__(message)
        self.reason = reason or message


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


def check_name(value: str, what: str, max_length: int = 200) -> str:
    try:
        return _check_name(value, what, max_length)
    except InvalidName as exc:
        raise AccountError(str(exc)) from None


def add_agency(session: Session, name: str) -> Agency:
    name = check_name(name.strip(), "an agency name")
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
    check_name(name, "a user name")
    if password is not None:
        try:
            check_password(password, name)
        except WeakPassword as exc:
            raise AccountError(str(exc)) from None
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
    purpose = purpose.strip()
    if kind == "api" and not purpose:
        raise AccountError("a service token needs its purpose (fixed at creation, recorded "
                           "with every search it makes)")
    if purpose:
        check_name(purpose, "a purpose", max_length=500)
    try:
        granted = check_scopes(scopes, user.role) if scopes else sorted(ROLES[user.role])
    except ValueError as exc:
        raise AccountError(str(exc)) from None
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


LOGON_REFUSED = "logon refused: wrong user name, password or code, or the account is locked"


def _lock_expired(now: datetime) -> ColumnElement[bool]:
    return and_(User.locked_until.is_not(None), User.locked_until <= now)


def _reserve_attempt(session: Session, user_id: int, now: datetime) -> bool:
    """Count this attempt before checking it, atomically: at most MAX_FAILED_LOGONS pass.

    One conditional UPDATE (no read-then-write), so however many attempts arrive at
    once, on SQLite or PostgreSQL, only MAX_FAILED_LOGONS find the counter below the
    limit. The attempt that reaches the limit sets the lock in the same statement, so a
    crash between this and the check cannot leave an account locked for ever.
    """
    expired = _lock_expired(now)
    result = session.execute(
        update(User)
        .where(User.id == user_id,
               or_(User.locked_until.is_(None), expired),
               or_(User.failed_logons < MAX_FAILED_LOGONS, expired))
        .values(
            failed_logons=case((expired, 1), else_=User.failed_logons + 1),
            locked_until=case(
                (expired, None),
                (User.failed_logons + 1 >= MAX_FAILED_LOGONS, now + LOCKOUT),
                else_=User.locked_until,
            ),
        )
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0))


def _claim_totp_step(session: Session, user_id: int, step: int) -> bool:
    """A TOTP code is single-use: claim its step, refusing one at or before the last claimed."""
    result = session.execute(
        update(User)
        .where(User.id == user_id,
               or_(User.last_totp_step.is_(None), User.last_totp_step < step))
        .values(last_totp_step=step)
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0))


def logon(
    store: Store, name: str, password: str, totp_code: str, now: datetime | None = None
) -> str:
    """Interactive logon with password and TOTP; returns a session token.

    Every attempt is counted before it is checked (see ``_reserve_attempt``); five
    failures lock the account for LOCKOUT. Unknown, locked and wrong all get the same
    argon2 work and the same message; ``AuthenticationFailed.reason`` tells the audit log.
    """
    now = now or utcnow()
    with store.session() as session:
        # No account name holds NUL (the name gate refuses it), and PostgreSQL cannot even
        # be asked about one: such a name is an unknown user, with the same work and answer.
        user_id = None if "\x00" in name else session.scalar(
            select(User.id).where(User.name == name))
        reserved = user_id is not None and _reserve_attempt(session, user_id, now)
    if user_id is None or not reserved:
        burn_password_check(password)
        raise AuthenticationFailed(LOGON_REFUSED,
                                   reason="unknown user" if user_id is None else "account locked")
    reason = ""
    with store.session() as session:
        user = session.get_one(User, user_id)
        step = totp_step(user.totp_secret, totp_code, now)
        if user.disabled:
            reason = "account disabled"
        elif not password_matches(user.password_hash, password):
            reason = "wrong password"
        elif step is None:
            reason = "wrong second-factor code"
        elif not _claim_totp_step(session, user_id, step):
            reason = "second-factor code already used"
        if not reason:
            session.execute(update(User).where(User.id == user_id)
                            .values(failed_logons=0, locked_until=None)
                            .execution_options(synchronize_session=False))
            row, token = create_token(session, name, expires_days=None, kind="session")
            row.expires_at, row.last_used_at = now + SESSION_MAX, now
    if reason:
        raise AuthenticationFailed(LOGON_REFUSED, reason=reason)
    return token


@dataclass(frozen=True)
class UserSummary:
    name: str
    agency: str
    role: str
    disabled: bool
    locked_until: str | None
    created_at: str


@dataclass(frozen=True)
class TokenSummary:
    id: int
    user: str
    kind: str
    prefix: str
    scopes: list[str]
    purpose: str
    created_at: str
    expires_at: str | None
    last_used_at: str | None
    revoked: bool


def _iso(at: datetime | None) -> str | None:
    return _aware(at).isoformat() if at is not None else None  # type: ignore[union-attr]


def list_users(session: Session, agency: str | None = None) -> list[UserSummary]:
    stmt = select(User, Agency.name).join(Agency, Agency.id == User.agency_id).order_by(User.name)
    if agency is not None:
        stmt = stmt.where(Agency.name == agency)
    return [
        UserSummary(u.name, agency_name, u.role, u.disabled, _iso(u.locked_until),
                    _iso(u.created_at) or "")
        for u, agency_name in session.execute(stmt)
    ]


def list_tokens(session: Session, user: str | None = None) -> list[TokenSummary]:
    """Tokens by id (never their text: only the digest is stored, and the prefix)."""
    stmt = select(ApiToken, User.name).join(User, User.id == ApiToken.user_id).order_by(ApiToken.id)
    if user is not None:
        stmt = stmt.where(User.name == user)
    return [
        TokenSummary(t.id, user_name, t.kind, t.prefix, list(t.scopes), t.purpose,
                     _iso(t.created_at) or "", _iso(t.expires_at), _iso(t.last_used_at),
                     t.revoked_at is not None)
        for t, user_name in session.execute(stmt)
    ]
