"""Who identified the child, and whom a prosecutor calls: read from the known media's record."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from cvis.store.models import KnownMedia

AGENCY_KEYS = ("identifying_agency", "IdentifyingAgency", "victim_identified_by")
CONTACT_KEYS = ("contact", "Contact", "prosecutor_contact")


@dataclass(frozen=True)
class IdentificationContact:
    agency: str
    contact: str


def identification_contact(session: Session, media: KnownMedia) -> IdentificationContact | None:
    """The identifying agency and contact the hash list carried for this media item."""
    extra = media.extra or {}
    agency = next((str(extra[k]) for k in AGENCY_KEYS if extra.get(k)), "")
    contact = next((str(extra[k]) for k in CONTACT_KEYS if extra.get(k)), "")
    if not (agency or contact):
        return None
    return IdentificationContact(agency, contact)
