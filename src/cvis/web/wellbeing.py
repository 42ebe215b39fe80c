"""Examiner wellbeing: per-user protection settings, exposure counts and the daily cap.

Defaults protect (blur and greyscale on, a break reminder, a daily cap on
category 1-2 items); each examiner can change them. Exposure is counted from
the audit log itself: every reveal is an audit record, so the count and the
accountability can never disagree.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Select, distinct, func, or_, select
from sqlalchemy.orm import Session

from cvis.store.models import AuditRecord, utcnow
from cvis.web.models import WellbeingSettings

REVEAL_EVENT = "web.reveal"
SEVERE = (1, 2)  # Project VIC: child abuse material, child exploitive / age difficult
LIMITS = {"break_minutes": (5, 240), "daily_cap": (1, 5000)}


class SettingsError(ValueError):
    """A setting out of range (the message says the range)."""


@dataclass(frozen=True)
class Preferences:
    blur: bool = True
    greyscale: bool = True
    break_minutes: int = 20
    daily_cap: int = 300
    last_break_at: datetime | None = None


@dataclass(frozen=True)
class Exposure:
    """What this examiner has revealed: in this session, and today's category 1-2 items."""

    session_items: int
    severe_today: int
    daily_cap: int
    break_due: bool
    minutes_since_break: int

    @property
    def cap_reached(self) -> bool:
        return self.severe_today >= self.daily_cap


def preferences(session: Session, user: str) -> Preferences:
    row = session.scalar(select(WellbeingSettings).where(WellbeingSettings.user == user))
    if row is None:
        return Preferences()
    return Preferences(row.blur, row.greyscale, row.break_minutes, row.daily_cap,
                       _aware(row.last_break_at))


def save_preferences(
    session: Session, user: str, *, blur: bool, greyscale: bool, break_minutes: int,
    daily_cap: int,
) -> Preferences:
    for name, value in (("break_minutes", break_minutes), ("daily_cap", daily_cap)):
        low, high = LIMITS[name]
        if not low <= value <= high:
            raise SettingsError(f"{name.replace('_', ' ')} must be between {low} and {high}")
    row = _row(session, user)
    row.blur, row.greyscale = blur, greyscale
    row.break_minutes, row.daily_cap, row.updated_at = break_minutes, daily_cap, utcnow()
    return preferences(session, user)


def take_break(session: Session, user: str, at: datetime | None = None) -> None:
    _row(session, user).last_break_at = at or utcnow()


def _row(session: Session, user: str) -> WellbeingSettings:
    row = session.scalar(select(WellbeingSettings).where(WellbeingSettings.user == user))
    if row is None:
        row = WellbeingSettings(user=user)
        session.add(row)
    return row


def _aware(at: datetime | None) -> datetime | None:
    return at.replace(tzinfo=UTC) if at is not None and at.tzinfo is None else at


def reveal_detail(category: int | None, step: int, session_id: int | None) -> str:
    """The audit detail of a reveal; the counts below read it back."""
    return f"category={'' if category is None else category} step={step} session={session_id}"


def counts_as_severe(category: int | None) -> bool:
    """Uncategorised items count toward the cap: they may be category 1 or 2."""
    return category is None or category in SEVERE


def _revealed(user: str) -> Select[Any]:
    return select(func.count(distinct(AuditRecord.object))).where(
        AuditRecord.event == REVEAL_EVENT, AuditRecord.user == user,
        AuditRecord.outcome == "success",
    )


def exposure(
    session: Session, user: str, session_id: int | None, session_started: datetime | None,
    prefs: Preferences, now: datetime | None = None,
) -> Exposure:
    now = now or utcnow()
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    stmt = _revealed(user)
    in_session = session.scalar(stmt.where(AuditRecord.detail.like(f"% session={session_id}")))
    severe = session.scalar(stmt.where(
        AuditRecord.at >= midnight,
        or_(AuditRecord.detail.like("category= %"),
            *(AuditRecord.detail.like(f"category={c} %") for c in SEVERE)),
    ))
    since = max((t for t in (_aware(session_started), prefs.last_break_at) if t), default=now)
    minutes = max(0, int((now - since) / timedelta(minutes=1)))
    return Exposure(int(in_session or 0), int(severe or 0), prefs.daily_cap,
                    minutes >= prefs.break_minutes, minutes)
