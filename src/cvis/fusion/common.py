"""Small pieces every fusion and foreign service uses: who acts (for audit), the clock."""

from __future__ import annotations

import platform
from datetime import UTC, datetime

from cvis.audit.log import Actor as AuditActor
from cvis.policy import Actor


def audit_actor(actor: Actor) -> AuditActor:
    """The audit record's who, from the policy actor (claimed name kept beside)."""
    user = f"{actor.name} ({actor.claimed})" if actor.claimed else actor.name
    return AuditActor(user, actor.agency, f"cli@{platform.node()}")


def now() -> datetime:
    return datetime.now(UTC)


def aware(value: datetime) -> datetime:
    """SQLite hands back naive datetimes for timezone columns; they were stored in UTC."""
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
