"""Which hash sets a caller may match against and see (need-to-know)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from cvis.hashsets.access import visible_sets


def visible_set_names(session: Session, agency: str) -> set[str]:
    return {s.name for s in visible_sets(session, agency)}
