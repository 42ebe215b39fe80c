"""Import the area-of-responsibility table and answer "which office owns this place?".

A county beats its state; the national desk (states ``*``, at most one office) takes
what no other office claims. ZIP codes resolve to state and county offline (``zipcodes``).
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from cvis.offices.models import Office, OfficeArea

COLUMNS = ("office_id", "name", "email", "states", "counties")
_STATE = re.compile(r"^[A-Z]{2}$")
_COUNTY_SUFFIX = re.compile(
    r"\s+(county|parish|borough|census area|city and borough|municipality)$"
)


class OfficeTableError(ValueError):
    """The area-of-responsibility file cannot be imported as it is (line and reason given)."""


@dataclass(frozen=True)
class OfficeRow:
    office_id: str
    name: str
    email: str
    states: tuple[str, ...]
    counties: tuple[tuple[str, str], ...]  # (state, normalised county)

    @property
    def national(self) -> bool:
        return self.states == ("*",)


def normalise_county(name: str) -> str:
    """'Harris County', 'harris' and ' HARRIS  county ' are one county."""
    return _COUNTY_SUFFIX.sub("", " ".join(name.split()).lower())


def read_offices(path: Path) -> list[OfficeRow]:
    """Parse and check the whole file before anything is stored."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise OfficeTableError(f"{path}: cannot read: {exc}") from None
    reader = csv.DictReader(text.splitlines())
    missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        raise OfficeTableError(f"{path}: missing column(s) {', '.join(missing)}; "
                               f"expected {','.join(COLUMNS)}")
    rows = [_parse_row(record, line) for line, record in enumerate(reader, start=2)]
    _check_table(rows)
    return rows


def _parse_row(record: dict[str, str], line: int) -> OfficeRow:
    office_id, name = (record["office_id"] or "").strip(), (record["name"] or "").strip()
    if not office_id or not name:
        raise OfficeTableError(f"line {line}: office_id and name are required")
    states = tuple(s.strip().upper() for s in (record["states"] or "").split(";") if s.strip())
    for state in states:
        if state != "*" and not _STATE.match(state):
            raise OfficeTableError(f"line {line}: {state!r} is not a two-letter state code or *")
    if "*" in states and len(states) > 1:
        raise OfficeTableError(f"line {line}: the national desk '*' stands alone in states")
    counties = []
    for item in (record["counties"] or "").split(";"):
        if not item.strip():
            continue
        state, sep, county = item.partition(":")
        state = state.strip().upper()
        if not sep or not _STATE.match(state) or not county.strip():
            raise OfficeTableError(f"line {line}: county {item!r} is not 'ST:County Name'")
        counties.append((state, normalise_county(county)))
    if not states and not counties:
        raise OfficeTableError(f"line {line}: office {office_id} has no states and no counties")
    email = (record["email"] or "").strip()
    return OfficeRow(office_id, name, email, states, tuple(counties))


def _check_table(rows: Iterable[OfficeRow]) -> None:
    seen_ids: set[str] = set()
    owners: dict[tuple[str, str], str] = {}
    national = [r.office_id for r in rows if r.national]
    if len(national) > 1:
        raise OfficeTableError(f"more than one national desk: {', '.join(national)}")
    for row in rows:
        if row.office_id in seen_ids:
            raise OfficeTableError(f"office_id {row.office_id} appears twice")
        seen_ids.add(row.office_id)
        areas = [(s, "") for s in row.states if s != "*"] + list(row.counties)
        for area in areas:
            if area in owners:
                raise OfficeTableError(
                    f"{area[0]}{':' + area[1] if area[1] else ''} is claimed by both "
                    f"{owners[area]} and {row.office_id}")
            owners[area] = row.office_id


def import_offices(session: Session, rows: list[OfficeRow]) -> int:
    """Replace the area-of-responsibility table with these rows (one transaction)."""
    session.execute(delete(OfficeArea))
    existing = {o.office_id: o for o in session.scalars(select(Office))}
    for row in rows:
        office = existing.pop(row.office_id, None) or Office(office_id=row.office_id)
        office.name, office.email, office.national = row.name, row.email, row.national
        session.add(office)
        session.flush()
        for state in row.states:
            if state != "*":
                session.add(OfficeArea(office_pk=office.id, state=state, county=""))
        for state, county in row.counties:
            session.add(OfficeArea(office_pk=office.id, state=state, county=county))
    for gone in existing.values():
        gone.national = False  # kept for history (leads may name it); it owns no area now
    session.flush()
    return len(rows)


def list_offices(session: Session) -> list[Office]:
    return list(session.scalars(select(Office).order_by(Office.office_id)))


def office_for(session: Session, state: str | None, county: str | None = None) -> Office | None:
    """The office responsible for a place: its county's, else its state's, else the national
    desk's; None when there is no national desk either."""
    state = (state or "").strip().upper()
    if state and county:
        found = _area_owner(session, state, normalise_county(county))
        if found is not None:
            return found
    if state:
        found = _area_owner(session, state, "")
        if found is not None:
            return found
    return session.scalar(select(Office).where(Office.national.is_(True)))


def _area_owner(session: Session, state: str, county: str) -> Office | None:
    return session.scalar(
        select(Office).join(OfficeArea).where(OfficeArea.state == state,
                                              OfficeArea.county == county)
    )


@dataclass(frozen=True)
class Place:
    zip: str
    state: str
    county: str
    city: str
    lat: float | None
    lon: float | None


def place_for_zip(zip_code: str) -> Place | None:
    """State, county and centre of a US ZIP code, offline; None when unknown."""
    import zipcodes

    code = (zip_code or "").strip()[:5]
    if not re.fullmatch(r"\d{5}", code):
        return None
    try:
        found = zipcodes.matching(code)
    except (TypeError, ValueError):
        return None
    if not found:
        return None
    z = found[0]
    lat, lon = z.get("lat"), z.get("long")
    return Place(code, z["state"], z.get("county", ""), z.get("city", ""),
                 float(lat) if lat else None, float(lon) if lon else None)


def office_for_zip(session: Session, zip_code: str) -> Office | None:
    place = place_for_zip(zip_code)
    if place is None:
        return office_for(session, None)
    return office_for(session, place.state, place.county)
