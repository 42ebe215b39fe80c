"""Joint investigations on cases over HTTP: a case's holders share it with partner
agencies (foreign partners too), list its shares, and end them.

Thin over `cvis.fusion.shares` (the `cvis case share|shares|unshare` service): sharing
needs ``cases:write`` on the case, which the policy answers; a case the caller may not
change is "no such case" (404). Subject shares are in `fusion.py`.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path, Request

from cvis.accounts.roles import CASES_WRITE
from cvis.api.deps import ServicesDep, acting, touch
from cvis.api.routes.fusion import share_json
from cvis.api.schemas.foreign import CaseShareIn, RevokeIn
from cvis.fusion import shares
from cvis.policy import Actor
from cvis.policy.inputs import check_name

router = APIRouter(tags=["cases"])
Owner = Annotated[Actor, Depends(acting(CASES_WRITE))]
Number = Annotated[str, Path(min_length=1, max_length=100, description="the case number")]
Id = Annotated[int, Path(ge=1, le=2**31 - 1, description="the share's id")]


@router.get("/cases/{number}/shares")
def list_case_shares(request: Request, services: ServicesDep, actor: Owner,
                     number: Number) -> list[dict[str, Any]]:
    """The partner agencies a case is shared with (live and ended), for its holders."""
    touch(request, f"case:{number} shares", "case.shares")
    check_name(number, "a case number", max_length=100)
    return [share_json(v) for v in shares.list_shares(services.store, actor, "case", number)]


@router.post("/cases/{number}/shares", status_code=201)
def share_case(request: Request, services: ServicesDep, actor: Owner, number: Number,
               body: CaseShareIn) -> dict[str, Any]:
    """Share a case with a partner agency, with named rights (read, review, export)."""
    touch(request, f"case:{number} share partner:{body.partner}", "case.share")
    check_name(number, "a case number", max_length=100)
    check_name(body.partner, "a partner agency")
    try:
        share_id = shares.share(services.store, actor, "case", number, body.partner,
                                body.rights, body.purpose)
    except shares.ShareError as exc:
        raise HTTPException(422, str(exc)) from None
    return {"share_id": share_id}


@router.post("/case-shares/{share_id}/revoke")
def revoke_case_share(request: Request, services: ServicesDep, actor: Owner, share_id: Id,
                      body: RevokeIn) -> dict[str, Any]:
    """End a case share at once: the partner sees nothing of the case from then on."""
    touch(request, f"share:{share_id} revoke", "case.share.revoke")
    try:
        ended = shares.revoke(services.store, actor, share_id, body.reason, kind="case")
    except shares.ShareError as exc:
        raise HTTPException(409, str(exc)) from None
    return share_json(ended)
