"""Case services the scan pipeline needs now; the investigations work builds on these."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from cvis.store.models import Case


def get_or_create_case(session: Session, number: str) -> Case:
    """Scans name a case by number; the first scan of a new number opens it."""
    number = number.strip()
    if not number:
        raise ValueError("a case number cannot be empty")
    case = session.scalar(select(Case).where(Case.number == number))
    if case is None:
        case = Case(number=number)
        session.add(case)
        session.flush()
    return case
