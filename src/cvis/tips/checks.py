"""What intake learns about a tip from the rest of cvis, each answer a triage factor.

- hash matches against the hash sets the tip line may match against (asked of the policy);
- the subject against the offender registry (a candidate, never a conclusion);
- deconfliction: another agency's open case already holds the matched material.
Checks are plain functions in a list, so a deployment can add its own.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from cvis import policy
from cvis.accounts.roles import LOOKUP, SETS_MATCH, SETS_METADATA
from cvis.hashsets.access import set_resources, shape_matches
from cvis.identify.matcher import Matcher, Query
from cvis.policy import Actor
from cvis.store.models import Case, KnownMedia, Match, Scan, ScanItem, Series
from cvis.tips.leads import names_alike, normal_name
from cvis.tips.triage import Factor

REGISTRY_ENV = "CVIS_TIP_REGISTRY"
ABSCONDER_STATUSES = {"absconder", "absconded", "non-compliant", "noncompliant", "wanted"}
INTAKE_ROLE = "tip-intake"


def intake_actor(agency: str) -> Actor:
    """The tip line matching on intake, as the routed office: it matches, and sees metadata
    (series, victim identified), only in the sets the policy opens to that office."""
    return Actor(name="tip-intake", agency=agency, role=INTAKE_ROLE,
                 rights=frozenset({LOOKUP, SETS_MATCH, SETS_METADATA}), purpose="tip intake",
                 interactive=False)


def match_hashes(session: Session, hashes: list[dict[str, str]], actor: Actor,
                 index_dir: Path | None = None) -> list[dict[str, Any]]:
    """Candidate matches for a tip's hashes, with the evidence (set, media id, distance)."""
    if not hashes:
        return []
    resources = set_resources(session, enabled_only=True)
    names = [n for n, r in resources.items() if policy.decide(actor, SETS_MATCH, r).allowed]
    if not names:
        return []
    may_see = {n: policy.decide(actor, SETS_METADATA, resources[n]).allowed for n in names}
    results = Matcher(session, names, index_dir).match(
        [Query(h["signal"], h["value"]) for h in hashes])
    found = []
    for query, matches in zip(hashes, results, strict=True):
        rows = [m.to_dict() | {"known_media_pk": m.known_media_pk} for m in matches]
        found += [{"query": query["value"], **m} for m in shape_matches(rows, may_see)]
    return found


def identified_series(session: Session, names: set[str]) -> set[str]:
    if not names:
        return set()
    return set(session.scalars(select(Series.name).where(
        Series.name.in_(sorted(names)), Series.victim_identified.is_(True))))


def other_agency_cases(session: Session, media_pks: list[int], office: str) -> list[str]:
    """Open cases of other agencies whose scans matched the same known media."""
    if not media_pks:
        return []
    rows = session.execute(
        select(Case.number, Case.agency).join(Scan, Scan.case_id == Case.id)
        .join(ScanItem, ScanItem.scan_id == Scan.id).join(Match, Match.item_id == ScanItem.id)
        .join(KnownMedia, KnownMedia.id == Match.known_media_id)
        .where(KnownMedia.id.in_(media_pks), Case.status == "open").distinct())
    return sorted(f"{number} ({agency})" for number, agency in rows if agency and agency != office)


def deconfliction_factor(session: Session, matches: list[dict[str, Any]],
                         office: str) -> Factor | None:
    cases = other_agency_cases(session, [m["known_media_pk"] for m in matches], office)
    if not cases:
        return None
    return Factor("deconfliction: another agency's active case", 0, None,
                  "open case(s) " + ", ".join(cases), pause=True)


@dataclass
class RegistryFile:
    """Registrants from a CSV (registry_id, full_name or given_names+family_name, dob, status).

    A registrant born the same day whose name agrees is a candidate link, shown with its
    evidence: the same name, or names alike by the linkage engine's comparison (a
    transliteration, a spelling or a variant). A namesake born another day is not one.
    A person confirms a candidate before anything is done about the registrant.
    """

    path: Path
    _rows: dict[str, list[tuple[str, dict[str, str]]]] = field(default_factory=dict)
    _mtime: float = -1.0

    def lookup(self, name: str, dob: str) -> list[dict[str, str]]:
        """The registrants born on ``dob`` whose name agrees, each with ``basis`` added."""
        self._load()
        wanted, found = normal_name(name), []
        for full, row in self._rows.get(dob, []):
            if normal_name(full) == wanted:
                found.append(row | {"basis": "name and date of birth agree"})
            elif names_alike(name, full):
                found.append(row | {"basis": f"date of birth agrees, names alike ({full!r})"})
        return found

    def _load(self) -> None:
        mtime = self.path.stat().st_mtime
        if mtime == self._mtime:
            return
        rows: dict[str, list[tuple[str, dict[str, str]]]] = {}
        with self.path.open(encoding="utf-8-sig", newline="") as handle:
            for row in csv.DictReader(handle):
                full = row.get("full_name") or " ".join(
                    p for p in (row.get("given_names"), row.get("family_name")) if p)
                rows.setdefault((row.get("dob") or "").strip(), []).append((full, row))
        self._rows, self._mtime = rows, mtime


_REGISTRIES: dict[str, RegistryFile] = {}


def registry_factors(subject: dict[str, Any]) -> list[Factor]:
    """The registry named by CVIS_TIP_REGISTRY, if any, asked about the subject: an exact
    name is a stronger candidate than names alike; either is for a person to confirm."""
    path = os.environ.get(REGISTRY_ENV, "")
    if not path or not subject.get("name") or not subject.get("dob"):
        return []
    registry = _REGISTRIES.setdefault(path, RegistryFile(Path(path)))
    found = registry.lookup(subject["name"], subject["dob"])
    exact = [r for r in found if r["basis"].startswith("name and")]
    factors = []
    if found:
        ids = "; ".join(f"{r.get('registry_id', '?')}: {r['basis']}" for r in found)
        factors.append(Factor("subject linked to the registry", 40 if exact else 25,
                              "URGENT" if exact else None, f"candidate registrant(s) {ids}"))
    if any((r.get("status") or "").strip().lower() in ABSCONDER_STATUSES for r in exact):
        factors.append(Factor("absconder", 50, "URGENT", "the registry lists the subject as "
                              "absconded or non-compliant"))
    return factors


SubjectCheck = Callable[[dict[str, Any]], list[Factor]]
SUBJECT_CHECKS: list[SubjectCheck] = [registry_factors]
