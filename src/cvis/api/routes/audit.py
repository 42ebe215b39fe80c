"""Audit log: search and verify. Reading the log is itself audited (by the middleware)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request

from cvis.accounts.roles import AUDIT_READ
from cvis.api.deps import ServicesDep, acting, touch
from cvis.api.schemas.audit import AuditRecordOut, VerifyOut
from cvis.audit import AuditQuery, search_audit, verify_log
from cvis.audit.log import as_utc
from cvis.policy import Actor

router = APIRouter(prefix="/audit", tags=["audit"])
Auditor = Annotated[Actor, Depends(acting(AUDIT_READ))]
WHOLE_LOG_ROLES = ("auditor", "admin")


@router.get("", response_model=list[AuditRecordOut])
def search_route(
    request: Request,
    services: ServicesDep,
    actor: Auditor,
    user: Annotated[str | None, Query(max_length=200)] = None,
    event: Annotated[str | None, Query(max_length=60)] = None,
    outcome: Annotated[str | None, Query(max_length=20)] = None,
    since: datetime | None = None,
    until: datetime | None = None,
    after_seq: Annotated[int, Query(ge=0, le=2**62)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[dict[str, Any]]:
    """Supervisors see their own agency's records; auditors and admins see all."""
    agency = None if actor.role in WHOLE_LOG_ROLES else actor.agency
    since, until = (as_utc(t) if t is not None else None for t in (since, until))
    touch(request, f"audit user={user} event={event} agency={agency}", "audit.search")
    query = AuditQuery(user, agency, event, outcome, since, until, after_seq, limit)
    return search_audit(services.store, query)


@router.get("/verify", response_model=VerifyOut)
def verify_route(request: Request, services: ServicesDep, _: Auditor) -> VerifyOut:
    touch(request, "audit chain", "audit.verify")
    report = verify_log(services.store)
    return VerifyOut(**vars(report))
