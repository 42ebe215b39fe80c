"""Which office owns a tip: ZIP code, else county and state, else the national desk.

The area-of-responsibility table and its lookups are cvis.offices'; this module only
chooses which part of a tip's location to ask with.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from sqlalchemy import select
from sqlalchemy.orm import Session

from cvis.offices.models import Office
from cvis.offices.service import Place, office_for, place_for_zip

NO_OFFICE = ""  # no table imported yet: the lead waits, unrouted, for the national desk


@dataclass(frozen=True)
class Route:
    office: str
    basis: str


def route(session: Session, location: dict[str, str]) -> Route:
    """The responsible office for a place, and why (for the lead's history)."""
    zip_code, state, county = (location.get(k, "") for k in ("zip", "state", "county"))
    place = _place(zip_code) if zip_code else None
    if place is not None:  # office_for_zip's answer, with the ZIP looked up once
        office = office_for(session, place.state, place.county)
        basis = f"ZIP {zip_code}"
    else:
        office = office_for(session, state or None, county or None)
        basis = ", ".join(p for p in (f"{county} County" if county else "", state) if p)
    if office is None:
        return Route(NO_OFFICE, "no area-of-responsibility table")
    if office.national:
        return Route(office.office_id, f"national desk ({basis or 'no location'})")
    return Route(office.office_id, basis)


@lru_cache(maxsize=50_000)
def _place(zip_code: str) -> Place | None:
    """ZIP codes do not move; the offline lookup scans its table, so remember answers."""
    return place_for_zip(zip_code)


def national_desk(session: Session) -> str:
    return session.scalar(select(Office.office_id).where(Office.national.is_(True))) or NO_OFFICE


def office_email(session: Session, office_id: str) -> str:
    return session.scalar(select(Office.email).where(Office.office_id == office_id)) or ""


def known_office(session: Session, office_id: str) -> bool:
    return session.scalar(select(Office.id).where(Office.office_id == office_id)) is not None
