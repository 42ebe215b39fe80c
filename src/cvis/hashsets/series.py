"""Series as records: who contributed it, is the child identified, whom a prosecutor calls."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from cvis.store.models import KnownMedia, Series, utcnow


@dataclass
class SeriesRecord:
    name: str
    agency: str = ""
    victim_identified: bool | None = None
    identifying_agency: str = ""
    contact_agency: str = ""
    contact_unit: str = ""
    contact_phone: str = ""
    contact_email: str = ""
    notes: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Identification:
    """What a match can tell an examiner: is this child identified, and whom to contact."""

    series: str
    victim_identified: bool | None
    identifying_agency: str
    contact: str


SERIES_FIELDS = tuple(f.name for f in fields(SeriesRecord))


def save_series(session: Session, record: SeriesRecord) -> Series:
    """Create or replace a series record by name."""
    if not record.name.strip():
        raise ValueError("a series needs a name")
    if record.contact_email and "@" not in record.contact_email:
        raise ValueError(f"not an email address: {record.contact_email!r}")
    row = session.scalar(select(Series).where(Series.name == record.name))
    if row is None:
        row = Series(name=record.name)
        session.add(row)
    for name in SERIES_FIELDS:
        setattr(row, name, getattr(record, name))
    row.updated_at = utcnow()
    session.flush()
    return row


def get_series(session: Session, name: str) -> SeriesRecord | None:
    row = session.scalar(select(Series).where(Series.name == name))
    return None if row is None else _record(row)


def list_series(session: Session) -> list[SeriesRecord]:
    return [_record(r) for r in session.scalars(select(Series).order_by(Series.name))]


def identification_for(session: Session, known_media_pk: int) -> Identification | None:
    """For a matched known item: the identification status and contact of its series."""
    media = session.get(KnownMedia, known_media_pk)
    if media is None or not media.series:
        return None
    series = get_series(session, media.series)
    if series is None:
        return Identification(media.series, media.victim_identified, "", "")
    identified = series.victim_identified
    if identified is None:
        identified = media.victim_identified
    return Identification(series.name, identified, series.identifying_agency, _contact(series))


def _contact(series: SeriesRecord) -> str:
    parts = [series.contact_agency, series.contact_unit, series.contact_phone,
             series.contact_email]
    return ", ".join(p for p in parts if p)


def _record(row: Series) -> SeriesRecord:
    return SeriesRecord(**{name: getattr(row, name) for name in SERIES_FIELDS})
