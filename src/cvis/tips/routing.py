"""Which office owns a tip: ZIP code, else county and state, else the national desk.

The area-of-responsibility table and its lookups are cvis.offices'; this module only
chooses which part of a tip's location to ask with.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cvis.offices.models import Office, OfficeArea
from cvis.offices.service import Place, normalise_county, place_for_zip

NO_OFFICE = ""  # no table imported yet: the lead waits, unrouted, for the national desk


@dataclass(frozen=True)
class Route:
    office: str
    basis: str


@dataclass(frozen=True)
class _Areas:
    """The area-of-responsibility table as it stood at ``version``: (state, county) -> office
    id ('' county: the whole state), and the national desk's id."""

    version: tuple[Any, ...]
    owners: dict[tuple[str, str], str]
    national: str | None

    def owner(self, state: str, county: str) -> str | None:
        """cvis.offices.service.office_for's answer: the county's, the state's, the desk's."""
        state = state.strip().upper()
        if state and county:
            found = self.owners.get((state, normalise_county(county)))
            if found is not None:
                return found
        return self.owners.get((state, "")) if state else None


_AREAS: dict[str, tuple[float, _Areas]] = {}
_AREAS_LOCK = threading.Lock()
AREAS_FRESH_SECONDS = 5.0


def _areas(session: Session) -> _Areas:
    """The table, read again when it changed: an import replaces every area row, so the
    rows' highest id and count, the offices' and the desk's are its version (one small
    query a tip instead of up to three joins). SQLite may reuse the ids of deleted rows,
    so the table is read again every few seconds whatever the version says."""
    version = tuple(session.execute(select(
        func.max(OfficeArea.id), func.count(OfficeArea.id),
        select(func.max(Office.id)).scalar_subquery(),
        select(func.max(Office.id)).where(Office.national.is_(True)).scalar_subquery())).one())
    key = session.get_bind().engine.url.render_as_string(hide_password=True)
    read_at, held = _AREAS.get(key, (0.0, None))
    if held is not None and held.version == version and \
            time.monotonic() - read_at < AREAS_FRESH_SECONDS:
        return held
    owners = {(state, county): office_id for state, county, office_id in session.execute(
        select(OfficeArea.state, OfficeArea.county, Office.office_id)
        .join(Office, Office.id == OfficeArea.office_pk))}
    table = _Areas(version, owners, national_desk(session) or None)
    with _AREAS_LOCK:
        _AREAS[key] = (time.monotonic(), table)
    return table


def route(session: Session, location: dict[str, str]) -> Route:
    """The responsible office for a place, and why (for the lead's history)."""
    zip_code, state, county = (location.get(k, "") for k in ("zip", "state", "county"))
    place = _place(zip_code) if zip_code else None
    table = _areas(session)
    if place is not None:  # office_for_zip's answer, with the ZIP looked up once
        office = table.owner(place.state, place.county)
        basis = f"ZIP {zip_code}"
    else:
        office = table.owner(state, county)
        basis = ", ".join(p for p in (f"{county} County" if county else "", state) if p)
    if office is None and table.national is None:
        return Route(NO_OFFICE, "no area-of-responsibility table")
    if office is None:
        return Route(str(table.national), f"national desk ({basis or 'no location'})")
    return Route(office, basis)


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
