"""Triage that explains itself: named factors with points, hard floors, and a tier.

The score is the sum of the factors' points; a factor may also set a floor (a child
in immediate danger is IMMEDIATE whatever else is known). If scoring fails the tip
is URGENT, never lost or lowered. A person may change a lead's tier, with a reason.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

TIERS = ("IMMEDIATE", "URGENT", "STANDARD", "MONITOR", "PAUSED")
RANK = {"IMMEDIATE": 4, "URGENT": 3, "STANDARD": 2, "MONITOR": 1, "PAUSED": 0}
# IMMEDIATE is never reached by adding points: only a child in immediate danger sets it.
THRESHOLDS = (("URGENT", 50), ("STANDARD", 15))
RETENTION_CLOSE = timedelta(hours=72)
RETENTION_NOTED = timedelta(days=14)
DANGER_WORDS = re.compile(
    r"\b(immediate danger|in danger|right now|happening now|as we speak|tonight|"
    r"(is|are) being (abused|hurt|raped|assaulted|held)|meeting (him|her|them|the child) "
    r"(today|tonight|tomorrow)|going to (meet|hurt|abuse)|kidnapp?ed|missing child)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Factor:
    """One named reason for a tier: its points, the floor it sets, and what it rests on."""

    name: str
    points: int
    floor: str | None = None
    evidence: str = ""
    pause: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items()
                if k in ("name", "points") or v not in (None, "", False)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Factor:
        return cls(data["name"], int(data["points"]), data.get("floor"), data.get("evidence", ""),
                   bool(data.get("pause", False)))


@dataclass(frozen=True)
class Triage:
    score: int
    tier: str
    factors: list[Factor]


def tier_for(score: int, factors: Iterable[Factor]) -> str:
    """The tier the score earns, raised to the highest floor; PAUSED unless IMMEDIATE."""
    factors = list(factors)
    tier = next((t for t, least in THRESHOLDS if score >= least), "MONITOR")
    for factor in factors:
        if factor.floor and RANK[factor.floor] > RANK[tier]:
            tier = factor.floor
    if tier != "IMMEDIATE" and any(f.pause for f in factors):
        return "PAUSED"  # another agency is working it; a child in danger is never paused
    return tier


def danger_factor(narrative: str, stated: bool) -> Factor | None:
    if stated:
        return Factor("child in immediate danger", 100, "IMMEDIATE", "stated by the tipster")
    found = DANGER_WORDS.search(narrative)
    if found:
        return Factor("child in immediate danger", 100, "IMMEDIATE",
                      f"the narrative says {found.group(0)!r}")
    return None


def retention_factor(deadline: datetime | None, now: datetime) -> Factor | None:
    """A platform keeps data for a while; a preservation request must beat its deadline."""
    if deadline is None:
        return None
    left = deadline - now
    if left <= RETENTION_CLOSE:
        return Factor("platform retention deadline close", 30, "URGENT",
                      f"data may be deleted at {deadline.isoformat()}")
    if left <= RETENTION_NOTED:
        return Factor("platform retention deadline", 10, None, f"by {deadline.isoformat()}")
    return None


def match_factors(matches: list[dict[str, Any]], identified_series: set[str]) -> list[Factor]:
    """Hash matches: one to a series whose victim is not yet identified sets URGENT."""
    factors = []
    unidentified = sorted({m["series"] for m in matches if m.get("series")
                           and m.get("victim_identified") is not True
                           and m["series"] not in identified_series})
    if unidentified:
        factors.append(Factor("hash match: series with unidentified victim", 60, "URGENT",
                              "series " + ", ".join(unidentified)))
    if matches:
        sets = sorted({m["set"] for m in matches})
        factors.append(Factor("hash match: known material", 25, None,
                              f"{len(matches)} match(es) in " + ", ".join(sets)))
    return factors


def detail_factors(subject: dict[str, Any], location: dict[str, str], urls: list[str],
                   accounts: list[str]) -> list[Factor]:
    """What makes a tip actionable: a named subject, a place, an address on the internet."""
    factors = []
    if subject.get("name"):
        evidence = "with date of birth" if subject.get("dob") else "no date of birth"
        factors.append(Factor("subject named", 15 if subject.get("dob") else 10, None, evidence))
    if subject.get("absconder"):
        factors.append(Factor("absconder", 50, "URGENT", "the subject is wanted or absconded"))
    if location:
        factors.append(Factor("location given", 5, None, ", ".join(sorted(location))))
    if urls or accounts:
        factors.append(Factor("online accounts or URLs", 10, None,
                              f"{len(urls)} URL(s), {len(accounts)} account(s)"))
    return factors


def score(factors: list[Factor]) -> Triage:
    total = sum(f.points for f in factors)
    return Triage(total, tier_for(total, factors), factors)


def safely(compute: Callable[[], list[Factor]]) -> Triage:
    """Score, or URGENT with the failure named when scoring itself fails."""
    try:
        return score(compute())
    except Exception as exc:  # a tip is never lost or lowered because scoring broke
        failed = Factor("scoring failed", 0, "URGENT", f"{type(exc).__name__}: {exc}"[:300])
        return Triage(0, "URGENT", [failed])


def merge(factor_lists: Iterable[Iterable[Factor]]) -> list[Factor]:
    """A lead's factors: each name once, with its strongest showing."""
    best: dict[str, Factor] = {}
    for factors in factor_lists:
        for f in factors:
            held = best.get(f.name)
            if held is None or (f.points, RANK.get(f.floor or "", -1)) > (
                held.points, RANK.get(held.floor or "", -1)
            ):
                best[f.name] = f
    return sorted(best.values(), key=lambda f: (-f.points, f.name))
