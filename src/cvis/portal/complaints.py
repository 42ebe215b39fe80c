"""The portal's one-way gate into the foreign complaints service: a complaint goes in, only
its reference comes back.

The person's words are kept as they wrote them (with the country and any reference they
gave), and nothing else about them: not their address on the internet, not the page they
came from. No file is taken. The complaint enters the review queue with its deadline
(`cvis.foreign.notices.file_complaint`, channel ``portal``), audited as the public.
A form whose hidden trap field is filled (only robots see it) is thanked and dropped.
"""

from __future__ import annotations

from dataclasses import dataclass

from cvis.config import Settings
from cvis.portal.tipline import PORTAL
from cvis.store.db import Store

LIMITS = {"name": 300, "contact": 500, "country": 100, "reference": 100, "statement": 5000}
TRAP = "website"  # the honeypot: hidden from people, filled by robots
NO_FILES = ("This form does not take files or pictures. Describe what is wrong; if we need a "
            "document we will ask you for it.")


class ComplaintInvalid(ValueError):
    pass


@dataclass(frozen=True)
class Filed:
    reference: str  # "" when the trap caught a robot (nothing was kept)


def statement_of(form: dict[str, str]) -> str:
    """What is kept: the person's words, after what they said of the notice."""
    head = [f"{label}: {form[key].strip()}" for key, label in (
        ("country", "Country the notice went to"), ("reference", "Reference given"))
        if form.get(key, "").strip()]
    return "\n".join([*head, *([""] if head else []), form["statement"].strip()])


def check(form: dict[str, str]) -> dict[str, str]:
    for key, limit in LIMITS.items():
        if len(form.get(key, "")) > limit:
            raise ComplaintInvalid(f"{key} is longer than {limit} characters")
    if not form.get("name", "").strip():
        raise ComplaintInvalid("Give your name, so that we can find the notice about you.")
    if not form.get("statement", "").strip():
        raise ComplaintInvalid("Tell us what is wrong with the notice.")
    return form


class ComplaintDesk:
    """Files complaints in the internal store (opened on first use) and hands back the
    reference; never reads anything back."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._store: Store | None = None

    def file(self, form: dict[str, str], language: str) -> Filed:
        if form.get(TRAP, "").strip():
            return Filed("")
        check(form)
        from cvis.foreign.notices import file_complaint

        if self._store is None:
            self._store = Store(self.settings)
        number = file_complaint(self._store, form["name"].strip(), statement_of(form),
                                notice_id=None, contact=form.get("contact", "").strip(),
                                language=language, channel="portal", by=PORTAL)
        return Filed(f"C-{number}")

    def close(self) -> None:
        if self._store is not None:
            self._store.dispose()
