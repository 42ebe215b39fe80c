"""A lead's history and the audit record, written in the caller's unit of work."""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from cvis.audit.chain import append_records
from cvis.audit.keys import key_path, load_key
from cvis.audit.log import Actor as AuditActor
from cvis.audit.log import AuditEntry, entry_fields
from cvis.config import Settings, load_settings
from cvis.policy import Actor
from cvis.store.models import utcnow
from cvis.tips.models import Lead, LeadEvent

COMPONENT = "tips"
ANONYMOUS = "anonymous"


def who(actor: Actor) -> str:
    return f"{actor.name} (as {actor.claimed})" if actor.claimed else actor.name


def event(session: Session, lead: Lead, actor: str, step: str, reason: str = "",
          at: datetime | None = None, **detail: Any) -> LeadEvent:
    """One step in the lead's life: who, when, what and why."""
    row = LeadEvent(lead_id=lead.id, at=at or utcnow(), actor=actor, step=step, reason=reason,
                    detail=detail)
    session.add(row)
    return row


def audit(session: Session, actor: Actor | None, event_name: str, obj: str, *,
          purpose: str = "", outcome: str = "success", detail: str = "",
          client: str = "") -> None:
    """An audit record in the same transaction as the change it describes.

    ``actor`` None is the anonymous public: no name, no agency, no address.
    """
    who_acted = (AuditActor(actor.name, actor.agency, client or actor.client, actor.claimed)
                 if actor is not None else AuditActor(ANONYMOUS, "", "", ""))
    entry = AuditEntry(COMPONENT, event_name, who_acted, outcome, obj,
                       purpose or (actor.purpose if actor else ""), detail)
    append_records(session, [(entry_fields(entry), utcnow())], _audit_key(session))


def settings_of(session: Session) -> Settings:
    """The settings of the store this session writes to: ``session.info["settings"]`` when
    the caller put them there, else the environment's when it names the same database, else
    (SQLite) the database file's folder as the data directory."""
    given = session.info.get("settings")
    if isinstance(given, Settings):
        return given
    url = session.get_bind().engine.url.render_as_string(hide_password=False)
    settings = load_settings()
    if settings.database_url == url or not url.startswith("sqlite"):
        return settings
    return Settings(home=Path(url.split("///", 1)[-1]).parent, database_url=url)


def _audit_key(session: Session) -> bytes:
    return _key_at(key_path(settings_of(session)), settings_of(session))


@lru_cache(maxsize=64)
def _key_cached(path: Path, mtime: float, settings: Settings) -> bytes:
    return load_key(settings)


def _key_at(path: Path, settings: Settings) -> bytes:
    """The audit key (cvis.audit.keys), read once per key file version."""
    try:
        mtime = path.stat().st_mtime
    except OSError:
        return load_key(settings)  # creates it, or takes CVIS_AUDIT_KEY
    return _key_cached(path, mtime, settings)
