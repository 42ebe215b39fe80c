"""What an audit record says (who, what, outcome), with no database import: the full writer
(``cvis.audit.log``) and the light one (``cvis.audit.quick``) build records alike."""

from __future__ import annotations

import platform
from dataclasses import dataclass, field
from typing import Any

from cvis.policy import Actor as PolicyActor
from cvis.policy.actors import local_operator

MAX_FIELD = 4000


@dataclass(frozen=True)
class Actor:
    """Who acted and from where; ``claimed`` is a name the caller gave (kept beside, never
    instead: on the CLI only the operating-system account is authenticated)."""

    user: str
    agency: str = ""
    client: str = ""
    claimed: str = ""


def cli_actor(claimed: str | None = None) -> Actor:
    """The operating-system account at this host (``os:uid:name``, as the policy's local
    operator); CVIS_USER or ``claimed`` recorded beside, never instead."""
    operator = local_operator(claimed)
    return Actor(operator.name, operator.agency, f"cli@{platform.node()}", operator.claimed)


def from_policy_actor(actor: PolicyActor) -> Actor:
    """The audit record's actor for a policy actor (API, web or CLI)."""
    return Actor(actor.name, actor.agency, actor.client, actor.claimed)


@dataclass(frozen=True)
class AuditEntry:
    component: str
    event: str
    actor: Actor
    outcome: str
    object: str = ""
    purpose: str = ""
    detail: str = ""


def _clip(value: str) -> str:
    value = value.replace("\x00", "\\x00")  # PostgreSQL text cannot hold NUL: write it as \x00
    return value if len(value) <= MAX_FIELD else value[: MAX_FIELD - 3] + "..."


def entry_fields(entry: AuditEntry) -> dict[str, str]:
    return {
        "component": entry.component,
        "event": entry.event,
        "user": entry.actor.user,
        "agency": entry.actor.agency,
        "outcome": entry.outcome,
        "client": entry.actor.client,
        "object": _clip(entry.object),
        "purpose": _clip(entry.purpose),
        "detail": _clip(entry.detail),
        "claimed": _clip(entry.actor.claimed)[:200],
    }


@dataclass
class AuditNote:
    """What the audited block learns as it runs (the object it touched, a summary)."""

    object: str = ""
    detail: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


def _failed(exc: BaseException) -> bool:
    return getattr(exc, "exit_code", getattr(exc, "code", 1)) not in (0, None)
