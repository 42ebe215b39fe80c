"""Traveller screening as a service: read the manifest whole, screen it, keep it, audit it.

Nothing is written unless the whole manifest reads: a malformed one raises
ManifestError before the store is touched (the refusal itself is audited).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import func, select

from cvis import policy
from cvis.audit import audited
from cvis.digests import file_sha256
from cvis.foreign.manifest import Manifest, read_manifest
from cvis.foreign.models import Determination, ScreenedTraveller, Screening
from cvis.foreign.screening import Screened, ScreeningSetup, screen
from cvis.fusion.common import audit_actor, now
from cvis.policy import Actor, Resource
from cvis.store.db import Store


@dataclass(frozen=True)
class ScreeningRun:
    screening_id: int
    manifest: Manifest
    results: list[Screened]
    seen_before: bool  # the same manifest was screened already (a duplicate submission)


def models_dir(store: Store) -> Path:
    return store.settings.home / "screening" / "models"


def screen_manifest(store: Store, actor: Actor, path: Path, registry: Path, *,
                    fmt: str = "auto", registry_mapping: Path | None = None,
                    threshold: float = 0.5, at: datetime | None = None) -> ScreeningRun:
    """Screen one manifest file against the registry and keep the result for review."""
    policy.require(actor, "foreign:write", Resource("screening", agency=actor.agency))
    with audited(store, "foreign", "travel.screen", f"manifest:{path}",
                 actor=audit_actor(actor), purpose=actor.purpose) as note:
        manifest = read_manifest(path.read_bytes(), fmt, path)
        setup = ScreeningSetup(registry, registry_mapping, models_dir(store), threshold)
        results = screen(setup, manifest, at)
        with store.session() as session:
            seen = session.scalar(select(func.count()).select_from(Screening).where(
                Screening.manifest_sha256 == manifest.sha256)) or 0
            row = Screening(kind="manifest", manifest_sha256=manifest.sha256,
                            format=manifest.format, source=str(path),
                            registry_sha256=file_sha256(registry), agency=actor.agency,
                            screened_by=actor.name, screened_at=at or now(),
                            travellers=len(results), duplicates=len(manifest.duplicates))
            session.add(row)
            session.flush()
            for i, result in enumerate(results):
                session.add(_traveller_row(row.id, i, result))
            screening_id = row.id
        hits = sum(1 for r in results if r.candidates)
        note.object = f"screening:{screening_id} manifest:{path}"
        note.detail = (f"{len(results)} travellers, {hits} with candidates, "
                       f"{len(manifest.duplicates)} duplicates")
    return ScreeningRun(screening_id, manifest, results, seen > 0)


def _traveller_row(screening_id: int, position: int, result: Screened) -> ScreenedTraveller:
    t = result.traveller
    return ScreenedTraveller(
        screening_id=screening_id, position=position, fields=t.fields,
        departure_at=t.departure_at, departure_zone=str(t.departure_at.tzinfo or ""),
        destination=t.destination, flight=t.fields.get("flight", ""),
        hours_before=result.hours_before_departure,
        candidates=[{"registry_id": c.registry_id, "match_probability": c.match_probability,
                     "match_weight": c.match_weight, "agreement": c.agreement}
                    for c in result.candidates])


def determine(store: Store, actor: Actor, traveller_id: int, registry_id: str, *,
              covered: bool, basis: str, notify: bool = False,
              no_notice_reason: str = "") -> int:
    """An analyst's determination on one candidate; a decision not to notify needs a reason."""
    if not basis.strip():
        raise ValueError("a determination states its basis")
    if covered and not notify and not no_notice_reason.strip():
        raise ValueError("a covered traveller is notified, or the reason not to is recorded")
    with audited(store, "foreign", "travel.determine", f"traveller:{traveller_id}",
                 actor=audit_actor(actor), purpose=actor.purpose) as note, \
            store.session() as session:
        traveller = session.get(ScreenedTraveller, traveller_id)
        screening = session.get(Screening, traveller.screening_id) if traveller else None
        if traveller is None or screening is None:
            raise LookupError(f"no such traveller {traveller_id}")
        policy.require(actor, "foreign:write", Resource("screening", screening.id,
                                                        screening.agency))
        if registry_id not in {c["registry_id"] for c in traveller.candidates}:
            raise ValueError(f"{registry_id} is not a candidate for traveller {traveller_id}")
        row = Determination(traveller_id=traveller_id, registry_id=registry_id, covered=covered,
                            basis=basis, notify=covered and notify,
                            no_notice_reason=no_notice_reason, analyst=actor.name)
        session.add(row)
        session.flush()
        note.detail = f"{registry_id}: {'covered' if covered else 'not covered'}"
        return row.id


def receive_inbound(store: Store, actor: Actor, country: str, reference: str,
                    traveller: dict[str, str], registry: Path, *,
                    registry_mapping: Path | None = None, at: datetime | None = None) -> int:
    """A foreign government asks about a named traveller: screened the same way, then held
    for an officer's approval before any answer goes back."""
    import hashlib
    import json

    from cvis.foreign.manifest import make_traveller
    from cvis.foreign.models import InboundRequest

    policy.require(actor, "foreign:write", Resource("inbound", agency=actor.agency))
    row = {"departure_at": (at or now()).isoformat(), **traveller}
    person = make_traveller(row, f"request {reference}")
    raw = json.dumps(row, sort_keys=True).encode()
    manifest = Manifest("inbound", hashlib.sha256(raw).hexdigest(), [person])
    with audited(store, "foreign", "inbound.receive", f"country:{country} ref:{reference}",
                 actor=audit_actor(actor), purpose=actor.purpose) as note:
        setup = ScreeningSetup(registry, registry_mapping, models_dir(store))
        [result] = screen(setup, manifest, at)
        with store.session() as session:
            screening = Screening(kind="inbound", manifest_sha256=manifest.sha256,
                                  format="inbound", source=f"{country}:{reference}",
                                  registry_sha256=file_sha256(registry), agency=actor.agency,
                                  screened_by=actor.name, travellers=1)
            session.add(screening)
            session.flush()
            session.add(_traveller_row(screening.id, 0, result))
            request = InboundRequest(country=country.upper(), reference=reference,
                                     traveller=person.fields, screening_id=screening.id)
            session.add(request)
            session.flush()
            note.object = f"inbound:{request.id}"
            note.detail = f"{len(result.candidates)} candidates"
            return request.id


def answer_inbound(store: Store, officer: Actor, request_id: int, *, covered: bool,
                   basis: str) -> dict[str, object]:
    """The approval step: an officer approves the answer (no recommended action in it)."""
    from cvis.foreign.models import InboundRequest

    with audited(store, "foreign", "inbound.answer", f"inbound:{request_id}",
                 actor=audit_actor(officer), purpose=officer.purpose), \
            store.session() as session:
        request = session.get(InboundRequest, request_id)
        if request is None:
            raise LookupError(f"no such inbound request {request_id}")
        screening = session.get(Screening, request.screening_id)
        policy.require(officer, "foreign:confirm", Resource(
            "inbound", request_id, screening.agency if screening else ""))
        if request.status != "pending":
            raise ValueError(f"request {request_id} is {request.status}")
        traveller = session.scalar(select(ScreenedTraveller).where(
            ScreenedTraveller.screening_id == request.screening_id))
        candidates = traveller.candidates if traveller else []
        request.answer = {"reference": request.reference, "covered": covered, "basis": basis,
                          "registry_ids": [c["registry_id"] for c in candidates]
                          if covered else []}
        request.status, request.approver, request.decided_at = "answered", officer.name, now()
        return dict(request.answer)


def screened_travellers(store: Store, actor: Actor, screening_id: int) -> list[dict[str, object]]:
    """A screening's travellers with their ids, candidates and the evidence, for review."""
    with audited(store, "foreign", "travel.read", f"screening:{screening_id}",
                 actor=audit_actor(actor), purpose=actor.purpose), store.session() as session:
        screening = session.get(Screening, screening_id)
        if screening is None:
            raise LookupError(f"no such screening {screening_id}")
        policy.require(actor, "foreign:read", Resource("screening", screening.id,
                                                       screening.agency))
        rows = session.scalars(select(ScreenedTraveller).where(
            ScreenedTraveller.screening_id == screening_id).order_by(ScreenedTraveller.position))
        return [{"traveller_id": t.id, "traveller": t.fields, "destination": t.destination,
                 "hours_before_departure": round(t.hours_before, 1),
                 "candidates": t.candidates} for t in rows]
