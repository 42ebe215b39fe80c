"""Scans: submit a server-side evidence path, follow its status, page through results."""

from __future__ import annotations

from itertools import islice
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi import Path as PathParam

from cvis.accounts.roles import SCANS_READ, SCANS_WRITE
from cvis.accounts.service import Principal
from cvis.api.deps import ServicesDep, require, touch
from cvis.api.scan_jobs import NoSuchScan, ScanRefused, check_paths, get_scan, submit_scan
from cvis.api.schemas.scans import ScanResults, ScanStatus, ScanSubmit
from cvis.identify.scan import ScanRequest, iter_scan_results

router = APIRouter(prefix="/scans", tags=["scans"])
Reader = Annotated[Principal, Depends(require(SCANS_READ))]
ScanId = Annotated[int, PathParam(ge=1, le=2**31 - 1)]  # the id column is 32-bit


@router.post("", response_model=ScanStatus, status_code=202)
def submit_route(
    body: ScanSubmit,
    request: Request,
    services: ServicesDep,
    principal: Annotated[Principal, Depends(require(SCANS_WRITE))],
) -> ScanStatus:
    touch(request, f"case:{body.case} paths:{','.join(body.paths)}", "scan.submit")
    try:
        paths = check_paths(body.paths, services.settings.evidence_roots)
        scan_id = submit_scan(services.store, ScanRequest(body.case, paths, body.sets),
                              principal.agency)
    except ScanRefused as exc:
        raise HTTPException(403, str(exc)) from None
    except ValueError as exc:
        raise HTTPException(400, str(exc)) from None
    return ScanStatus(scan_id=scan_id, case=body.case.strip(), status="running", items=0,
                      matches=0, errors=0)


def _scan_or_404(services: Any, scan_id: int, agency: str) -> Any:
    try:
        with services.store.session() as session:
            return get_scan(session, scan_id, agency)
    except NoSuchScan as exc:
        raise HTTPException(404, str(exc)) from None


@router.get("/{scan_id}", response_model=ScanStatus)
def status_route(
    scan_id: ScanId,
    request: Request, services: ServicesDep, principal: Reader,
) -> ScanStatus:
    touch(request, f"scan:{scan_id}", "scan.status")
    scan, case = _scan_or_404(services, scan_id, principal.agency)
    return ScanStatus(scan_id=scan.id, case=case.number, status=scan.status,
                      items=scan.item_count, matches=scan.match_count, errors=scan.error_count)


@router.get("/{scan_id}/results", response_model=ScanResults)
def results_route(
    scan_id: ScanId,
    request: Request,
    services: ServicesDep,
    principal: Reader,
    after: Annotated[str, Query(max_length=4000)] = "",
    limit: Annotated[int, Query(ge=1, le=5000)] = 500,
) -> dict[str, Any]:
    touch(request, f"scan:{scan_id}", "scan.results")
    _scan_or_404(services, scan_id, principal.agency)
    with services.store.session() as session:
        rows = [r for r in islice(
            (r for r in iter_scan_results(session, scan_id) if r["path"] > after), limit
        )]
    return {"scan_id": scan_id, "items": rows,
            "next_after": rows[-1]["path"] if len(rows) == limit else None}
