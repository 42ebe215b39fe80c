"""SEAM: hash-set services the API needs that the hash-set work is adding in parallel.

Each function calls ``cvis.hashsets.service.<name>`` when it exists and otherwise
does the least that is correct today. The lead wires the real ones at merge.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from cvis.hashsets import service as hashset_service
from cvis.hashsets.service import UnknownSet
from cvis.store.models import HashSet, SetVersion


class NotAvailableYet(NotImplementedError):
    pass


def list_versions(session: Session, name: str) -> list[dict[str, Any]]:
    """Versions of a set, oldest first (SEAM: hashsets.service.list_versions)."""
    real = getattr(hashset_service, "list_versions", None)
    if real is not None:
        return [v if isinstance(v, dict) else vars(v) for v in real(session, name)]
    hash_set = session.scalar(select(HashSet).where(HashSet.name == name))
    if hash_set is None:
        raise UnknownSet(f"no hash set named {name!r}")
    rows = session.scalars(
        select(SetVersion).where(SetVersion.set_id == hash_set.id).order_by(SetVersion.number)
    )
    return [
        {
            "number": v.number, "format": v.format, "source_file": v.source_file,
            "source_sha256": v.source_sha256, "added": v.added, "updated": v.updated,
            "removed": v.removed, "skipped": v.skipped, "imported_at": v.imported_at.isoformat(),
        }
        for v in rows
    ]


def record_feedback(
    session: Session, name: str, media_id: str, verdict: str, note: str, user: str, agency: str
) -> Any:
    """Match feedback (SEAM: hashsets.service.record_feedback)."""
    real = getattr(hashset_service, "record_feedback", None)
    if real is None:
        raise NotAvailableYet("match feedback is not available in this build yet")
    return real(session, name, media_id=media_id, verdict=verdict, note=note, user=user,
                agency=agency)
