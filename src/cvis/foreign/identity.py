"""Who a traveller is beyond their name: nationality, travel document and date of birth.

A manifest (PAXLST above all: NAT, DOC and DTM+329) carries more than a name, and a common
name is shared by thousands. Where both the traveller and the registrant carry a fact, a
disagreement speaks against the pair and an agreement on the document for it:

- the same travel document number (and no nationality against it) is the same person,
  whatever the name looks like (a transliteration, an order swapped, a typo);
- a date of birth that disagrees, or a nationality the registrant does not hold, is
  another person of the same name;
- a different document number is another person unless the date of birth agrees
  exactly and the nationality agrees too (a renewed passport).

Nationalities are compared as ISO 3166 alpha-2 codes: PAXLST gives alpha-3 (``USA``), a
CSV alpha-2 or a country's English name, a registry perhaps several (``US;MX``). Babel's
CLDR data maps the three forms; nothing is downloaded.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache

DOCUMENT_COLUMNS = ("passport_number", "passport", "document_number", "travel_document")
_SPLIT = re.compile(r"[;,|/]")
ICAO_SPECIAL = {"D": "DE", "GBD": "GB", "GBN": "GB", "GBO": "GB", "GBP": "GB", "GBS": "GB",
                "UNK": "XK", "RKS": "XK"}


@cache
def _aliases() -> tuple[dict[str, str], dict[str, str]]:
    from babel import Locale
    from babel.core import get_global

    alpha3 = {k: v[0] for k, v in get_global("territory_aliases").items()
              if len(k) == 3 and k.isalpha() and v}
    names = {str(name).casefold(): code for code, name in Locale("en").territories.items()
             if len(code) == 2}
    return alpha3, names


def country_code(value: object) -> str:
    """``USA``, ``us``, ``United States`` -> ``US``; unknown text comes back upper-cased."""
    text = str(value or "").strip()
    if not text:
        return ""
    upper = text.upper()
    if upper in ICAO_SPECIAL:
        return ICAO_SPECIAL[upper]
    if len(upper) == 2 and upper.isalpha():
        return upper
    alpha3, names = _aliases()
    if len(upper) == 3 and upper in alpha3:
        return alpha3[upper]
    return names.get(text.casefold(), upper)


def nationalities(value: object) -> frozenset[str]:
    if value is None or (isinstance(value, float) and value != value):  # NaN
        return frozenset()
    return frozenset(c for c in (country_code(p) for p in _SPLIT.split(str(value))) if c)


def document(value: object) -> str:
    """A document number as the machine-readable zone writes it: letters and digits only."""
    if value is None or (isinstance(value, float) and value != value):
        return ""
    return re.sub(r"[^0-9A-Z]", "", str(value).upper())


def documents(row: Mapping[str, object]) -> frozenset[str]:
    found: set[str] = set()
    for column in DOCUMENT_COLUMNS:
        raw = row.get(column)
        if raw is None or (isinstance(raw, float) and raw != raw):
            continue
        found.update(d for d in (document(p) for p in _SPLIT.split(str(raw))) if d)
    return frozenset(found)


@dataclass(frozen=True)
class Verdict:
    """Whether the pair stays a candidate, and the identity evidence said in words."""

    keep: bool
    evidence: str


def judge(traveller: Mapping[str, object], registrant: Mapping[str, object], dob_agreement: str
          ) -> Verdict:
    """The identity facts of one pair. ``dob_agreement`` is the linkage's label for the
    dates ("exact", "one typo", ... ; "" when one side has no date, "different")."""
    said: list[str] = []
    t_docs, r_docs = documents(traveller), documents(registrant)
    same_doc = bool(t_docs & r_docs)
    t_nat = nationalities(traveller.get("nationality"))
    r_nat = nationalities(registrant.get("nationality"))
    nat_known = bool(t_nat and r_nat)
    nat_agrees = nat_known and bool(t_nat & r_nat)
    if same_doc:
        said.append("document: same number")
    elif t_docs and r_docs:
        said.append("document: different number")
    if nat_known:
        said.append(f"nationality: {'agrees' if nat_agrees else 'differs'}")
    if same_doc:
        return Verdict(not nat_known or nat_agrees, "; ".join(said))
    if dob_agreement == "different":
        return Verdict(False, "; ".join([*said, "dob: different"]))
    if nat_known and not nat_agrees:
        return Verdict(False, "; ".join(said))
    if t_docs and r_docs and not (dob_agreement == "exact" and nat_agrees):
        return Verdict(False, "; ".join(said))
    return Verdict(True, "; ".join(said))
