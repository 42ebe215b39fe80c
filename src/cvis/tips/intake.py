"""Intake: one tip from any channel in, stored, triaged, collapsed into a lead and routed.

``submit_tip`` is the one entry point (CLI, internal API, the public portal, SMS and
partner referrals all call it). It validates first and stores nothing when the tip is
refused; everything it stores is written in the caller's transaction, audit record
included, so a tip is either wholly accepted or not at all.
"""

from __future__ import annotations

import hashlib
import ipaddress
import os
import secrets
import threading
import time
from collections import deque
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from argon2 import PasswordHasher
from sqlalchemy import select
from sqlalchemy.orm import Session

from cvis.policy import Actor
from cvis.tips import checks, leads
from cvis.tips.history import audit, event, who
from cvis.tips.models import Lead, Tip
from cvis.tips.routing import route
from cvis.tips.triage import (
    Factor,
    Triage,
    danger_factor,
    detail_factors,
    match_factors,
    retention_factor,
    safely,
)
from cvis.tips.validate import TipInput, TipRejected, parse_tip

__all__ = ["RateLimiter", "TipRejected", "submit_tip"]

RATE_LIMIT_ENV = "CVIS_TIP_RATE_LIMIT"
_RECEIPT_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I
_PASSPHRASE_ALPHABET = "abcdefghijkmnpqrstuvwxyz23456789"
# The passphrase is 100 random bits chosen by cvis, not by a person: no dictionary to
# try, so a modest argon2 cost protects it as well as a heavy one and keeps intake fast
# (1 MiB: about 1 ms a hash; hashes made with other costs still verify, as argon2 keeps
# its parameters in the hash).
PASSPHRASES = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


class RateLimiter:
    """At most ``limit`` tips per ``window`` seconds from one source (in memory only; the
    source, an address or a number, is kept as a salted digest and never stored).

    Loopback sources are not limited: that is the operator's own machine (a reverse proxy
    in front of the portal must pass the client's address as the source)."""

    def __init__(self, limit: int = 30, window: float = 600.0) -> None:
        self.limit, self.window = limit, window
        self._salt = secrets.token_bytes(16)
        self._seen: dict[bytes, deque[float]] = {}
        self._lock = threading.Lock()

    @classmethod
    def from_env(cls) -> RateLimiter:
        """``CVIS_TIP_RATE_LIMIT`` as ``N/SECONDS`` (default 30/600; ``0`` turns it off)."""
        limit, _, window = os.environ.get(RATE_LIMIT_ENV, "30/600").partition("/")
        return cls(int(limit), float(window or 600))

    def check(self, source: str, now: float | None = None) -> None:
        if self.limit <= 0 or _loopback(source):
            return
        now = time.monotonic() if now is None else now
        key = hashlib.blake2b(source.encode(), key=self._salt, digest_size=16).digest()
        with self._lock:
            seen = self._seen.setdefault(key, deque())
            while seen and seen[0] <= now - self.window:
                seen.popleft()
            if len(seen) >= self.limit:
                wait = int(seen[0] + self.window - now) + 1
                raise TipRejected(f"too many tips from this source; try again in {wait} s")
            seen.append(now)
            if len(self._seen) > 100_000:
                self._seen = {k: v for k, v in self._seen.items() if v}


def _loopback(source: str) -> bool:
    try:
        return ipaddress.ip_address(source).is_loopback
    except ValueError:
        return False


PUBLIC_LIMITS = RateLimiter.from_env()


def _code(alphabet: str, groups: int, size: int, sep: str) -> str:
    return sep.join("".join(secrets.choice(alphabet) for _ in range(size)) for _ in range(groups))


def new_receipt() -> str:
    return "TIP-" + _code(_RECEIPT_ALPHABET, 3, 4, "-")


def new_passphrase() -> str:
    return _code(_PASSPHRASE_ALPHABET, 4, 5, "-")


def idempotency_digest(key: str) -> str:
    return hashlib.sha256(("cvis-tip:" + key).encode()).hexdigest()


def _result(tip: Tip, lead: Lead) -> dict[str, Any]:
    return {"tip_id": tip.id, "receipt": tip.receipt, "lead_id": lead.id, "tier": lead.tier,
            "office": lead.office}


def _factors(session: Session, tip: TipInput, matches: list[dict[str, Any]], office: str,
             now: datetime) -> list[Factor]:
    found: list[Factor | None] = [danger_factor(tip.narrative, tip.immediate_danger),
                                  retention_factor(tip.retention_deadline, now)]
    series = {m["series"] for m in matches if m.get("series")}
    found += match_factors(matches, checks.identified_series(session, series))
    found.append(checks.deconfliction_factor(session, matches, office))
    found += detail_factors(tip.subject, tip.location, tip.urls, tip.accounts)
    for check in checks.SUBJECT_CHECKS:
        found += check(tip.subject)
    return [f for f in found if f is not None]


def _duplicate(session: Session, digest: str) -> dict[str, Any] | None:
    tip = session.scalar(select(Tip).where(Tip.idempotency_key == digest))
    if tip is None:
        return None
    return _result(tip, session.get_one(Lead, tip.lead_id)) | {"duplicate": True}


def submit_tip(
    session: Session,
    payload: dict[str, Any],
    *,
    channel: str | None = None,
    source: str | None = None,
    actor: Actor | None = None,
    now: datetime | None = None,
    limiter: RateLimiter | None = PUBLIC_LIMITS,
    index_dir: Path | None = None,
) -> dict[str, Any]:
    """Accept one tip: ``{"tip_id", "receipt", "lead_id", "tier", "office"}`` (+ "passphrase"
    for an anonymous tip, shown once; + "duplicate": true for a repeated idempotency key).

    ``channel`` overrides the payload's; ``source`` (a client address, a phone number, a
    partner) is only the rate-limit key and is never stored; ``actor`` is the
    authenticated person or partner submitting (None: the public). Raises TipRejected.
    """
    if source and limiter is not None:
        limiter.check(source)
    tip_in = parse_tip(payload, channel)
    now = now or datetime.now(UTC)
    digest = idempotency_digest(tip_in.idempotency_key) if tip_in.idempotency_key else None
    if digest and (earlier := _duplicate(session, digest)) is not None:
        return earlier
    routed = route(session, tip_in.location)
    matches = checks.match_hashes(session, tip_in.hashes,
                                  checks.intake_actor(routed.office), index_dir)
    triage = safely(lambda: _factors(session, tip_in, matches, routed.office, now))
    lead, created = _lead_for(session, tip_in, routed.office, now)
    passphrase = new_passphrase() if tip_in.anonymous else ""
    tip = _store(session, tip_in, lead, triage, matches, passphrase, digest, actor, now)
    _attach(session, tip, lead, created, routed.basis, tip_in, now)
    audit(session, None if tip_in.anonymous else actor, "tip.submit",
          f"tip:{tip.id} lead:{lead.id}", purpose="tip intake",
          detail=f"channel {tip.channel}, tier {lead.tier}, office {lead.office or '-'}")
    result = _result(tip, lead)
    return result | {"passphrase": passphrase} if passphrase else result


def _lead_for(session: Session, tip_in: TipInput, office: str,
              now: datetime) -> tuple[Lead, bool]:
    keys = leads.tip_keys(tip_in.subject, tip_in.urls, tip_in.accounts)
    lead, sharing = leads.find_lead(session, keys)
    created = lead is None
    if lead is None:
        lead = Lead(status="received", tier="", score=0, factors=[], office=office,
                    override_reason="", forwarded_to="", assignee="", outcome="", created_at=now)
        session.add(lead)
        session.flush()
    leads.add_keys(session, lead, keys, new=created)
    leads.propose_candidates(session, lead, sharing)
    return lead, created


def _store(session: Session, tip_in: TipInput, lead: Lead, triage: Triage,
           matches: list[dict[str, Any]], passphrase: str, digest: str | None,
           actor: Actor | None, now: datetime) -> Tip:
    details = dict(tip_in.details)
    if tip_in.retention_deadline:
        details["retention_deadline"] = tip_in.retention_deadline.isoformat()
    if tip_in.immediate_danger:
        details["immediate_danger"] = True
    contact = "; ".join(p for p in (tip_in.contact, tip_in.callback and
                                    f"call back {tip_in.callback}") if p)
    tip = Tip(
        receipt=new_receipt(), channel=tip_in.channel, received_at=now,
        source="" if actor is None or tip_in.anonymous else who(actor),
        anonymous=tip_in.anonymous, narrative=tip_in.narrative, location=tip_in.location,
        subject=tip_in.subject, urls=tip_in.urls, accounts=tip_in.accounts,
        hashes=tip_in.hashes, details=details, contact=contact,
        passphrase_hash=PASSPHRASES.hash(passphrase) if passphrase else "",
        idempotency_key=digest, score=triage.score, tier=triage.tier,
        factors=[f.to_dict() for f in triage.factors],
        matches=[{k: v for k, v in m.items() if k != "known_media_pk"} for m in matches],
        lead_id=lead.id,
    )
    session.add(tip)
    session.flush()
    return tip


def _attach(session: Session, tip: Tip, lead: Lead, created: bool, basis: str,
            tip_in: TipInput, now: datetime) -> None:
    if created:
        event(session, lead, leads.SYSTEM, "received", f"tip {tip.id} on {tip.channel}", at=now,
              tip=tip.id)
        event(session, lead, leads.SYSTEM, "routed", f"to {lead.office or 'nobody'}: {basis}",
              at=now, office=lead.office)
    else:
        event(session, lead, leads.SYSTEM, "tip added", f"tip {tip.id} on {tip.channel}",
              at=now, tip=tip.id)
    triage = leads.retriage(session, lead, now)
    if lead.status == "received":
        leads.move(session, lead, "triaged", leads.SYSTEM,
                   f"score {triage.score}: " + ", ".join(f.name for f in triage.factors[:5]),
                   now, tier=lead.tier)
