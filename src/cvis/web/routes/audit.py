"""The audit log for auditors: search by user, agency, event, object and time; chain status."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from sqlalchemy import func, select

from cvis import policy
from cvis.accounts.roles import AUDIT_READ
from cvis.audit import AuditQuery, search_audit, verify_log
from cvis.policy import Resource
from cvis.store.models import AuditRecord
from cvis.web.render import page
from cvis.web.routes.common import ServicesDep, touch
from cvis.web.session import UserDep

router = APIRouter()
WHOLE_LOG_ROLES = ("auditor", "admin")


def _when(value: str) -> datetime | None:
    return datetime.fromisoformat(value) if value.strip() else None


def _recent(services: ServicesDep) -> int:
    """Without a filter, start near the end of the log (the page shows the newest)."""
    with services.store.session() as session:
        head = session.scalar(select(func.max(AuditRecord.seq))) or 0
    return max(0, head - 1000)


@router.get("/audit")
def audit_page(
    request: Request, services: ServicesDep, user: UserDep,
    who: Annotated[str, Query(max_length=200)] = "",
    agency: Annotated[str, Query(max_length=200)] = "",
    event: Annotated[str, Query(max_length=60)] = "",
    obj: Annotated[str, Query(max_length=200)] = "",
    since: Annotated[str, Query(max_length=40)] = "",
    until: Annotated[str, Query(max_length=40)] = "",
    verify: Annotated[int, Query(ge=0, le=1)] = 0,
) -> Response:
    """Auditors and admins search the whole log; supervisors their own agency's records."""
    whole = user.principal.role in WHOLE_LOG_ROLES
    scope = agency if whole else user.principal.agency
    touch(request, f"audit user={who} agency={scope} event={event} object={obj}", "web.audit")
    policy.require(user.actor, AUDIT_READ, Resource("audit", "log", "" if whole else scope))
    error, records, chain = "", [], None
    try:
        start = 0 if (who or event or obj or since or until) else _recent(services)
        query = AuditQuery(who or None, scope or None, event or None, None, _when(since),
                           _when(until), start, 1000)
        records = search_audit(services.store, query)
    except ValueError:
        error = "Write times as 2026-11-30 or 2026-11-30T14:00."
    if obj:
        records = [r for r in records if obj in r["object"]]
    records = list(reversed(records[-200:]))
    if verify:
        chain = verify_log(services.store)
    return page(request, "audit.html", user, title="Audit log", records=records, who=who,
                agency=scope, event=event, obj=obj, since=since, until=until, chain=chain,
                whole=whole, error=error)
