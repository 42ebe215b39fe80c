"""Scans: submit server-side evidence paths or object-store URIs (each under a root the
server allows), follow their status, page through results.

The sets a scan matches against are the policy's choice, made before the matcher
runs; results show only what the caller's grants cover (``shape_matches``).
"""

from __future__ import annotations

from itertools import islice
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi import Path as PathParam
from sqlalchemy import select

from cvis.accounts.roles import SCANS_READ, SCANS_WRITE
from cvis.api.deps import ServicesDep, acting, touch
from cvis.api.routes.lookup import allowed_sets
from cvis.api.scan_jobs import (
    NoSuchScan,
    ScanRefused,
    check_paths,
    get_scan,
    job_reason,
    recover,
    shown_paths,
    submit_scan,
)
from cvis.api.schemas.scans import ScanResults, ScanStatus, ScanSubmit
from cvis.cases.scan_state import INTERRUPTED
from cvis.hashsets.access import shape_matches
from cvis.identify.scan import ScanRequest, iter_scan_results
from cvis.policy import Actor
from cvis.store.models import HashSet

router = APIRouter(prefix="/scans", tags=["scans"])
Reader = Annotated[Actor, Depends(acting(SCANS_READ))]
ScanId = Annotated[int, PathParam(ge=1, le=2**31 - 1)]  # the id column is 32-bit


@router.post("", response_model=ScanStatus, status_code=202)
def submit_route(
    body: ScanSubmit,
    request: Request,
    services: ServicesDep,
    actor: Annotated[Actor, Depends(acting(SCANS_WRITE))],
) -> ScanStatus:
    """Submitting the same case, paths and sets again resumes the unfinished scan."""
    touch(request, f"case:{body.case} paths:{shown_paths(body.paths)} sets:{body.sets}",
          "scan.submit")
    sets: list[str] | None = sorted(allowed_sets(services, actor, body.sets))
    if not sets:  # the matcher reads "no names" as "every set": only safe when there are none
        if _any_set(services):
            raise HTTPException(400, "there is no hash set you may match against")
        sets = None
    try:
        paths = check_paths(body.paths, services.settings.evidence_roots,
                            services.settings.evidence_uri_roots)
        scan_id = submit_scan(services.store, ScanRequest(body.case.strip(), paths, sets), actor)
    except ScanRefused as exc:
        request.state.audit_detail = str(exc)
        raise HTTPException(403, str(exc)) from None
    except ValueError as exc:
        request.state.audit_detail = str(exc)
        raise HTTPException(400, str(exc)) from None
    return _status(services, scan_id, actor)


def _any_set(services: Any) -> bool:
    with services.store.session() as session:
        return session.scalar(select(HashSet.id).limit(1)) is not None


def _status(services: Any, scan_id: int, actor: Actor) -> ScanStatus:
    try:
        with services.store.session() as session:
            scan, case = get_scan(session, scan_id, actor, SCANS_READ)
            reason = job_reason(session, scan_id) if scan.status == "failed" else ""
            return ScanStatus(scan_id=scan.id, case=case.number, status=scan.status,
                              items=scan.item_count, matches=scan.match_count,
                              errors=scan.error_count, reason=reason)
    except NoSuchScan as exc:
        raise HTTPException(404, str(exc)) from None


@router.get("/{scan_id}", response_model=ScanStatus)
def status_route(
    scan_id: ScanId, request: Request, services: ServicesDep, actor: Reader
) -> ScanStatus:
    """A scan whose worker died is noticed here and resumed (or marked failed, with why)."""
    touch(request, f"scan:{scan_id}", "scan.status")
    status = _status(services, scan_id, actor)
    if status.status in ("running", INTERRUPTED):
        recover(services.store, scan_id)
        status = _status(services, scan_id, actor)
    return status


@router.get("/{scan_id}/results", response_model=ScanResults)
def results_route(
    scan_id: ScanId,
    request: Request,
    services: ServicesDep,
    actor: Reader,
    after: Annotated[str, Query(max_length=4000)] = "",
    limit: Annotated[int, Query(ge=1, le=5000)] = 500,
) -> dict[str, Any]:
    touch(request, f"scan:{scan_id}", "scan.results")
    _status(services, scan_id, actor)
    may_see = services.matchable_sets(actor, enabled_only=False)
    suppressed = services.suppressed_for(actor.agency)
    with services.store.session() as session:
        rows = [r | {"matches": shape_matches(r["matches"], may_see, suppressed)}
                for r in islice(
                    (r for r in iter_scan_results(session, scan_id) if r["path"] > after), limit)]
    return {"scan_id": scan_id, "items": rows,
            "next_after": rows[-1]["path"] if len(rows) == limit else None}
