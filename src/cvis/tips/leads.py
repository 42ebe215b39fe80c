"""One lead per subject: collapsing tips, candidates a person confirms, a lead's life.

Tips join an open lead when they share an exact key with it: the subject's name and
date of birth, an online account, or a URL. A looser resemblance (the same name with
no or another date of birth, an alias) is recorded as a candidate; a person confirms
it (the two leads merge) or rejects it. Nothing about a person is decided by itself.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime
from urllib.parse import urlsplit

from anyascii import anyascii
from sqlalchemy import func, select, tuple_, update
from sqlalchemy.orm import Session

from cvis.linkage.names import family_features, given_features, split_full_name
from cvis.tips import deadlines
from cvis.tips.history import event
from cvis.tips.models import Lead, LeadCandidate, LeadKey, Tip
from cvis.tips.triage import TIERS, Factor, Triage, merge, tier_for

JOINING = ("subject", "account", "url")
LOOSE = ("name", "likeness")
STEPS = ("received", "triaged", "assigned", "accepted", "actioned", "closed")
NEXT: dict[str, tuple[str, ...]] = {
    "received": ("triaged",),
    "triaged": ("assigned",),
    "assigned": ("assigned", "accepted"),
    "accepted": ("actioned",),
    "actioned": ("actioned",),
}
SYSTEM = "cvis-triage"


class LeadError(ValueError):
    """A step that cannot be taken as asked (the message says why)."""


class NoSuchLead(LookupError):
    pass


def normal_name(name: str) -> str:
    return " ".join(re.sub(r"[^a-z0-9 ]", " ", anyascii(name).lower()).split())


def normal_url(url: str) -> str:
    parts = urlsplit(url.strip())
    host = (parts.hostname or "").lower().removeprefix("www.")
    path = parts.path.rstrip("/") or ""
    return f"{host}{path}" + (f"?{parts.query}" if parts.query else "")


def likeness(name: str) -> list[str]:
    """The linkage engine's name features (cvis.linkage.names): the given name's variant
    group and its skeleton, each with the family skeleton, so Bob/Robert, Mohammed/Muhammad
    and Сергей Иванов/Sergei Ivanov (transliterated) agree."""
    parts = split_full_name(name)
    given, family = given_features(parts.given), family_features(parts.family)
    if not family.skel:
        return []
    return list(dict.fromkeys(f"{g or ''}|{family.skel}" for g in (given.canon, given.skel)))


def names_alike(one: str, other: str) -> bool:
    """The linkage engine's name comparison (cvis.linkage.names), the strict end of it: the
    family names agree by variant group or consonant skeleton after transliteration
    (Иванов / Ivanov, Mohammed / Muhammad), and so do the given names, when both are given
    (by variant group: Bob / Robert; or skeleton: Sergey / Sergei)."""
    a, b = split_full_name(one), split_full_name(other)
    fa, fb = family_features(a.family), family_features(b.family)
    if not fa.skel or not fb.skel:
        return False
    if fa.skel != fb.skel and fa.variant != fb.variant:
        return False
    ga, gb = given_features(a.given), given_features(b.given)
    if not ga.std or not gb.std:
        return True
    return bool(set(ga.groups) & set(gb.groups)) or ga.skel == gb.skel


def tip_keys(subject: dict[str, object], urls: Iterable[str],
             accounts: Iterable[str]) -> list[tuple[str, str]]:
    """The exact keys that join leads, and the loose ``name`` keys that only propose."""
    keys: list[tuple[str, str]] = []
    name = normal_name(str(subject.get("name", "")))
    if name and subject.get("dob"):
        keys.append(("subject", f"{name}|{subject['dob']}"))
    aliases = subject.get("aliases") or []
    names = [name] + [normal_name(str(a)) for a in aliases]  # type: ignore[attr-defined]
    keys += [("name", n) for n in dict.fromkeys(names) if n]
    if subject.get("name"):
        keys += [("likeness", alike) for alike in likeness(str(subject["name"]))]
    keys += [("account", a.strip().lower()) for a in accounts if a.strip()]
    keys += [("url", u) for u in dict.fromkeys(normal_url(u) for u in urls) if u]
    return [(kind, value[:500]) for kind, value in dict.fromkeys(keys)]


def _open_leads_with(session: Session, keys: list[tuple[str, str]],
                     kinds: Iterable[str]) -> dict[int, set[str]]:
    wanted = [(k, v) for k, v in keys if k in kinds]
    found: dict[int, set[str]] = {}
    if not wanted:
        return found
    rows = session.execute(
        select(LeadKey.lead_id, LeadKey.kind).join(Lead, Lead.id == LeadKey.lead_id)
        .where(tuple_(LeadKey.kind, LeadKey.value).in_(wanted), Lead.status != "closed"))
    for lead_id, kind in rows:
        found.setdefault(lead_id, set()).add(kind)
    return found


def find_lead(
    session: Session, keys: list[tuple[str, str]]
) -> tuple[Lead | None, dict[int, set[str]]]:
    """The open lead a tip joins (the oldest sharing an exact key), and every open lead
    sharing any key with the tip, exact or loose, with the kinds shared (one query)."""
    sharing = _open_leads_with(session, keys, JOINING + LOOSE)
    joining = [lead_id for lead_id, kinds in sharing.items() if kinds & set(JOINING)]
    if not joining:
        return None, sharing
    return session.get_one(Lead, min(joining)), sharing


def add_keys(session: Session, lead: Lead, keys: list[tuple[str, str]],
             new: bool = False) -> None:
    """The tip's keys on the lead (``new``: the lead was just made, it holds none yet)."""
    held = set() if new else {(k, v) for k, v in session.execute(
        select(LeadKey.kind, LeadKey.value).where(LeadKey.lead_id == lead.id))}
    session.add_all(LeadKey(lead_id=lead.id, kind=k, value=v) for k, v in keys
                    if (k, v) not in held)


def propose_candidates(session: Session, lead: Lead, sharing: dict[int, set[str]]) -> None:
    """Other leads sharing an exact key, and looser resemblances: a person decides."""
    bases: dict[int, str] = {}
    for other, kinds in sharing.items():
        if other == lead.id:
            continue
        exact = sorted(kinds & set(JOINING))
        bases[other] = ("also shares " + ", ".join(exact) if exact else
                        "same name, date of birth differs or unknown" if "name" in kinds
                        else "names alike (variants, spelling)")
    for other, basis in bases.items():
        pair = sorted((lead.id, other))
        exists = session.scalar(select(LeadCandidate.id).where(
            LeadCandidate.lead_id == pair[0], LeadCandidate.other_lead_id == pair[1]))
        if exists is None:
            session.add(LeadCandidate(lead_id=pair[0], other_lead_id=pair[1], basis=basis))


def retriage(session: Session, lead: Lead, now: datetime,
             extra: Iterable[Factor] = ()) -> Triage:
    """The lead's factors are its tips' factors merged; a person's tier choice stands."""
    tips = session.scalars(select(Tip.factors).where(Tip.lead_id == lead.id)).all()
    factors = merge([Factor.from_dict(f) for f in fs] for fs in tips)
    factors = merge([factors, list(extra)])
    if len(tips) > 1:
        factors.append(Factor("several tips", min(5 * (len(tips) - 1), 20), None,
                              f"{len(tips)} tips"))
    total = sum(f.points for f in factors)
    computed = tier_for(total, factors)
    lead.score, lead.factors = total, [f.to_dict() for f in factors]
    before = lead.tier
    lead.tier = lead.tier_override or computed
    if lead.tier != before or not lead.tier:
        deadlines.schedule(session, lead, now, new=not before)
    return Triage(total, lead.tier, factors)


def get_lead(session: Session, lead_id: int) -> Lead:
    lead = session.get(Lead, lead_id)
    if lead is None:
        raise NoSuchLead(f"no such lead {lead_id}")
    return lead


def move(session: Session, lead: Lead, step: str, actor: str, reason: str, now: datetime,
         **detail: object) -> None:
    """Take one step of the lead's life, if it follows from where the lead is."""
    if step == "closed":
        if lead.status == "closed":
            raise LeadError(f"lead {lead.id} is already closed")
    elif step not in NEXT.get(lead.status, ()):
        raise LeadError(f"lead {lead.id} is {lead.status}; it cannot be {step} now "
                        f"(next: {', '.join(NEXT.get(lead.status, ())) or 'nothing'})")
    lead.status = step
    if step == "accepted":
        lead.acknowledged_at = now
        deadlines.complete(session, lead.id, "acknowledge", now)
    elif step == "actioned":
        lead.actioned_at = now
        deadlines.complete(session, lead.id, None, now)
    elif step == "closed":
        lead.closed_at = now
        deadlines.complete(session, lead.id, None, now)
    event(session, lead, actor, step, reason, at=now, **detail)


def set_tier(session: Session, lead: Lead, tier: str | None, actor: str, reason: str,
             now: datetime) -> None:
    """A person sets the tier (None: back to the computed tier); the reason is required."""
    if tier is not None and tier not in TIERS:
        raise LeadError(f"tier must be one of {', '.join(TIERS)}")
    if not reason.strip():
        raise LeadError("a reason is required to change a lead's tier")
    before = lead.tier
    lead.tier_override, lead.override_reason = tier, reason
    retriage(session, lead, now)
    deadlines.schedule(session, lead, now)
    event(session, lead, actor, "tier changed", reason, at=now, before=before, after=lead.tier)


def merge_leads(session: Session, keep: Lead, gone: Lead, actor: str, reason: str,
                now: datetime) -> None:
    """A person confirmed two leads are one subject: the tips move, the other lead closes."""
    session.execute(update(Tip).where(Tip.lead_id == gone.id).values(lead_id=keep.id))
    session.execute(update(LeadKey).where(LeadKey.lead_id == gone.id).values(lead_id=keep.id))
    move(session, gone, "closed", actor, reason, now, merged_into=keep.id)
    gone.outcome = f"merged into lead {keep.id}"
    event(session, keep, actor, "merged", reason, at=now, merged=gone.id)
    retriage(session, keep, now)


def decide_candidate(session: Session, candidate_id: int, confirm: bool, actor: str,
                     reason: str, now: datetime) -> LeadCandidate:
    candidate = session.get(LeadCandidate, candidate_id)
    if candidate is None or candidate.status != "proposed":
        raise LeadError(f"no open candidate {candidate_id}")
    candidate.status = "confirmed" if confirm else "rejected"
    candidate.decided_by, candidate.decided_at = actor, now
    if confirm:
        merge_leads(session, get_lead(session, candidate.lead_id),
                    get_lead(session, candidate.other_lead_id), actor, reason, now)
    return candidate


def tip_count(session: Session, lead_id: int) -> int:
    return session.scalar(select(func.count()).select_from(Tip).where(Tip.lead_id == lead_id)) or 0
