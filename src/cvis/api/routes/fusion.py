"""Fusion and foreign routes: the target list and a subject's facts (need-to-know by policy)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request
from pydantic import BaseModel, Field

from cvis import policy
from cvis.accounts.service import Principal
from cvis.api.deps import PurposeDep, ServicesDep, require, touch
from cvis.fusion import service, shares
from cvis.policy.actors import from_principal

router = APIRouter(tags=["fusion"])
Reader = Annotated[Principal, Depends(require("fusion:read"))]
Writer = Annotated[Principal, Depends(require("fusion:write"))]


class ShareIn(BaseModel):
    """A joint investigation: the partner agency and the rights it is to hold."""

    partner: str = Field(min_length=1, max_length=200)
    rights: list[str] = Field(default_factory=lambda: ["read"], max_length=4)
    purpose: str = Field(min_length=1, max_length=1000)


class RevokeIn(BaseModel):
    reason: str = Field(default="", max_length=1000)


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


def share_json(view: shares.ShareView) -> dict[str, Any]:
    return {"share_id": view.share_id, "kind": view.kind, "ref": view.ref,
            "partner": view.partner, "rights": view.rights, "purpose": view.purpose,
            "shared_by": view.shared_by, "shared_at": view.shared_at.isoformat(),
            "revoked_at": view.revoked_at.isoformat() if view.revoked_at else None,
            "revoked_by": view.revoked_by}


@router.get("/subjects/{subject_id}/shares")
def list_subject_shares(request: Request, services: ServicesDep, principal: Writer,
                        purpose: PurposeDep, subject_id: str) -> list[dict[str, Any]]:
    """The partner agencies a subject is shared with (live and ended), for its holders."""
    touch(request, f"subject:{subject_id} shares", "subject.shares")
    found = shares.list_shares(services.store, from_principal(principal), "subject", subject_id)
    return [share_json(v) for v in found]


@router.post("/subjects/{subject_id}/shares", status_code=201)
def share_subject(request: Request, services: ServicesDep, principal: Writer,
                  purpose: PurposeDep, subject_id: str, body: ShareIn) -> dict[str, Any]:
    """Share a subject (and its target entry) with a partner agency, with named rights."""
    touch(request, f"subject:{subject_id} share partner:{body.partner}", "subject.share")
    try:
        share_id = shares.share(services.store, from_principal(principal), "subject",
                                subject_id, body.partner, body.rights, body.purpose)
    except shares.ShareError as exc:
        raise HTTPException(422, str(exc)) from None
    return {"share_id": share_id}


# Row ids are 32-bit in the store (PostgreSQL refuses a larger one with an error, not a miss).
ShareId = Annotated[int, Path(ge=1, le=2**31 - 1, description="the share's id")]


@router.post("/shares/{share_id}/revoke")
def revoke_share(request: Request, services: ServicesDep, principal: Writer,
                 purpose: PurposeDep, share_id: ShareId, body: RevokeIn) -> dict[str, Any]:
    """End a share at once: the partner sees nothing of the resource from then on."""
    touch(request, f"share:{share_id} revoke", "share.revoke")
    try:
        ended = shares.revoke(services.store, from_principal(principal), share_id, body.reason)
    except shares.ShareError as exc:
        raise HTTPException(409, str(exc)) from None
    return share_json(ended)
