"""Canonical person fields shared by every registry and index."""

from __future__ import annotations

from dataclasses import dataclass, field

#: Fields every mapping file maps onto; anything else is kept as an attribute.
CANONICAL_FIELDS: tuple[str, ...] = (
    "id",
    "given_names",
    "middle_names",
    "family_name",
    "full_name",
    "aliases",
    "dob",
    "sex",
    "country_of_birth",
    "nationality",
    "native_script_name",
    "address",
    "city",
    "postcode",
    "state",
    "national_id",
)

#: Fields that hold dates and are parsed (ISO 8601 unless the mapping gives a format).
DATE_FIELDS: frozenset[str] = frozenset({"dob"})

#: Attributes parsed as dates when present, because later steps compute with them.
DATE_ATTRIBUTES: frozenset[str] = frozenset({"release_date"})

#: Fields that describe a name; used for matching through `names.py`.
NAME_FIELDS: frozenset[str] = frozenset(
    {"given_names", "middle_names", "family_name", "full_name", "aliases", "native_script_name"}
)


@dataclass(frozen=True)
class PersonRecord:
    """One person as a source describes them, in canonical fields (None = missing)."""

    source: str
    id: str
    fields: dict[str, str | None] = field(default_factory=dict)
    attributes: dict[str, str | None] = field(default_factory=dict)

    def display_name(self) -> str:
        """Name as written by the source, for documents a person reads."""
        parts = [self.fields.get(k) for k in ("given_names", "middle_names", "family_name")]
        joined = " ".join(p for p in parts if p)
        return joined or (self.fields.get("full_name") or "")


@dataclass(frozen=True)
class Issue:
    """A malformed row or field; never carries the offending value (it may be personal)."""

    source: str
    row: int
    field: str
    problem: str
