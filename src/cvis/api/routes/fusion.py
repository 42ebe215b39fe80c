"""Fusion and foreign routes: the target list and a subject's facts (need-to-know by policy)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request

from cvis import policy
from cvis.accounts.service import Principal
from cvis.api.deps import PurposeDep, ServicesDep, require, touch
from cvis.fusion import service
from cvis.policy.actors import from_principal

router = APIRouter(tags=["fusion"])
Reader = Annotated[Principal, Depends(require("fusion:read"))]


@router.get("/targets")
def list_targets(request: Request, services: ServicesDep, principal: Reader, purpose: PurposeDep,
                 office: Annotated[str | None, Query(max_length=100)] = None,
                 as_of: date | None = None) -> list[dict[str, Any]]:
    """Prioritised subjects, best first (the `cvis target list` lines, with reasons)."""
    touch(request, f"targets office:{office or '*'}", "target.list")
    actor = from_principal(principal)
    targets = service.list_targets(services.store, actor, office, as_of)
    return [{**t.contract(), "reasons": [f["label"] for f in t.factors],
             "weights_version": t.config_version} for t in targets]


@router.get("/subjects/{subject_id}")
def show_subject(request: Request, services: ServicesDep, principal: Reader,
                 purpose: PurposeDep, subject_id: str) -> dict[str, Any]:
    """A subject's facts with source, time and confidence; conflicts side by side."""
    touch(request, f"subject:{subject_id}", "subject.read")
    try:
        view = service.show_subject(services.store, from_principal(principal), subject_id)
    except policy.NotVisible:
        raise HTTPException(404, f"no such subject {subject_id}") from None
    except policy.AccessDenied as exc:
        raise HTTPException(403, str(exc)) from None

    def fact(f: Any) -> dict[str, Any]:
        return {"name": f.name, "value": f.value, "source": {"kind": f.source_kind,
                "ref": f.source_ref}, "observed_at": f.observed_at.isoformat(),
                "confidence": f.confidence, "held_by": f.subject_id}
    return {"subject_id": view.subject_id, "office": view.office, "members": view.members,
            "facts": [fact(f) for f in view.facts],
            "conflicts": {k: [fact(f) for f in v] for k, v in view.conflicts.items()}}
