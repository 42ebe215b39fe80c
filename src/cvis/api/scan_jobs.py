"""Scans the API starts: a server-side evidence path, hashed on a background thread.

Only paths under the configured evidence roots may be scanned (the server must
not become a way to read its own files), and a case belongs to one agency.
"""

from __future__ import annotations

import threading
from dataclasses import replace
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

import cvis
from cvis.identify.scan import ScanRequest, run_scan
from cvis.store.db import Store
from cvis.store.models import Case, Scan

SERVER_SCAN_WORKERS = 1


class ScanRefused(PermissionError):
    pass


class NoSuchScan(LookupError):
    pass


def case_visible(case: Case, agency: str) -> bool:
    """Need-to-know: a case is seen by its own agency (sharing arrives with the cases work)."""
    return case.agency == agency


def check_paths(paths: list[str], roots: tuple[Path, ...]) -> list[Path]:
    if not roots:
        raise ScanRefused("this server has no evidence roots configured (CVIS_EVIDENCE_ROOTS)")
    resolved = []
    for raw in paths:
        if "\x00" in raw:
            raise ScanRefused(f"{raw!r} is not a valid path")
        path = Path(raw).resolve()
        if not any(path == root or path.is_relative_to(root) for root in roots):
            raise ScanRefused(f"{raw} is outside the evidence roots this server may read")
        resolved.append(path)
    return resolved


def _open_scan(session: Session, request: ScanRequest, agency: str) -> int:
    number = request.case.strip()
    case = session.scalar(select(Case).where(Case.number == number))
    if case is None:
        case = Case(number=number, agency=agency)
        session.add(case)
        session.flush()
    elif not case_visible(case, agency):
        raise ScanRefused(f"case {number} belongs to another agency")
    scan = Scan(case_id=case.id, paths=[str(p) for p in request.paths],
                settings={"sets": request.sets, "workers": request.workers},
                cvis_version=cvis.__version__, host="api")
    session.add(scan)
    session.flush()
    return scan.id


def submit_scan(store: Store, request: ScanRequest, agency: str) -> int:
    """Record the scan now, hash it in the background; status lives on the scan row."""
    with store.session() as session:
        scan_id = _open_scan(session, request, agency)
    job = replace(request, resume_scan_id=scan_id, workers=SERVER_SCAN_WORKERS)
    threading.Thread(target=_run, args=(store, job, scan_id), daemon=True).start()
    return scan_id


def _run(store: Store, request: ScanRequest, scan_id: int) -> None:
    try:
        run_scan(store, request)
    except Exception:  # the scan row says it failed; the examiner can resume it
        with store.session() as session:
            session.get_one(Scan, scan_id).status = "failed"


def get_scan(session: Session, scan_id: int, agency: str) -> tuple[Scan, Case]:
    scan = session.get(Scan, scan_id)
    case = session.get(Case, scan.case_id) if scan is not None else None
    if scan is None or case is None or not case_visible(case, agency):
        raise NoSuchScan(f"no scan {scan_id} visible to you")
    return scan, case
