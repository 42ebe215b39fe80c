"""Which hash sets a caller may match against and see (need-to-know).

SEAM: the hash-set work adds ``cvis.hashsets.service.visible_sets(session, agency)``;
until it lands, every enabled set is visible to every agency.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from cvis.hashsets import service as hashset_service
from cvis.store.models import HashSet


def visible_set_names(session: Session, agency: str) -> set[str]:
    visible_sets = getattr(hashset_service, "visible_sets", None)
    if visible_sets is not None:
        return {getattr(s, "name", s) for s in visible_sets(session, agency)}
    return set(session.scalars(select(HashSet.name).where(HashSet.enabled.is_(True))))
