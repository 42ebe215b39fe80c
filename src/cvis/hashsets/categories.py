"""Categories: Project VIC (US) 0-4 is what cvis matches on; UK CAID A/B/C is kept and mapped."""

from __future__ import annotations

from cvis.hashsets.records import KnownRecord

VIC_CATEGORIES = {
    0: "non-pertinent",
    1: "child abuse material",
    2: "child exploitive (non-CAM) / age difficult",
    3: "CGI / animation",
    4: "comparison images",
}
# CAID A, B and C are all indecent images of children under UK law: Project VIC category 1.
CAID_TO_VIC = {"A": 1, "B": 1, "C": 1}
CAID_FIELD = "caid_category"


def parse_caid(value: object) -> str | None:
    """A CAID category letter, or None when absent; anything else is a malformed record."""
    if value is None or str(value).strip() == "":
        return None
    letter = str(value).strip().upper().removeprefix("CATEGORY").strip()
    if letter not in CAID_TO_VIC:
        raise ValueError(f"not a CAID category (A, B or C): {value!r}")
    return letter


def apply_caid(record: KnownRecord) -> KnownRecord:
    """Fill the Project VIC category from a kept CAID letter when the list gives no VIC one."""
    letter = parse_caid(record.extra.get(CAID_FIELD))
    if letter is not None:
        record.extra[CAID_FIELD] = letter
        if record.category is None:
            record.category = CAID_TO_VIC[letter]
    return record
