"""Who identified the child, and whom a prosecutor calls: the media record, then its series.

The known media's own record wins (a hash list may carry ``identifying_agency`` and
``contact`` columns); what it leaves empty comes from the series record
(`cvis sets series NAME --identified --contact-agency ...`).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from cvis.store.models import KnownMedia, Series

AGENCY_KEYS = ("identifying_agency", "IdentifyingAgency", "victim_identified_by")
CONTACT_KEYS = ("contact", "Contact", "prosecutor_contact")


@dataclass(frozen=True)
class IdentificationContact:
    agency: str
    contact: str


@dataclass(frozen=True)
class Identification:
    """Is the child identified, by whom, and whom to call: for one matched known item."""

    victim_identified: bool | None
    agency: str
    contact: str


def identification_contact(session: Session, media: KnownMedia) -> IdentificationContact | None:
    """The identifying agency and contact for this media item (its record, else its series)."""
    found = SeriesBook(session).identification(media)
    if not (found.agency or found.contact):
        return None
    return IdentificationContact(found.agency, found.contact)


class SeriesBook:
    """Series records read once per report or scan listing, by name."""

    def __init__(self, session: Session) -> None:
        self._session = session
        self._series: dict[str, Series | None] = {}

    def series(self, name: str | None) -> Series | None:
        if not name:
            return None
        if name not in self._series:
            self._series[name] = self._session.scalar(select(Series).where(Series.name == name))
        return self._series[name]

    def identification(self, media: KnownMedia) -> Identification:
        extra = media.extra or {}
        agency = next((str(extra[k]) for k in AGENCY_KEYS if extra.get(k)), "")
        contact = next((str(extra[k]) for k in CONTACT_KEYS if extra.get(k)), "")
        identified = media.victim_identified
        series = self.series(media.series)
        if series is not None:
            if identified is None:
                identified = series.victim_identified
            agency = agency or series.identifying_agency or series.contact_agency
            contact = contact or _series_contact(series)
        return Identification(identified, agency, contact)


def _series_contact(series: Series) -> str:
    parts = [series.contact_agency, series.contact_unit, series.contact_phone,
             series.contact_email]
    return ", ".join(p for p in parts if p)
