"""Scans the API starts: a server-side evidence path or object-store URI, hashed on a
background thread.

Only paths under the configured evidence roots, and URIs under the configured object-store
roots, may be scanned (the server must not become a way to read its own files, or whatever
its store credentials reach); a case is its agency's (the policy's "case" rule), and one
the caller may not know of is "no such case".

Scans that finish: each job beats a heartbeat on its row while it runs. A job
whose heartbeat is older than ``STALE_AFTER`` lost its worker (the server was
killed); the next status request, resubmission or server start claims it
atomically and resumes it (the scan pipeline skips items already stored), up to
``MAX_ATTEMPTS`` times, after which it is marked failed with the reason.
"""

from __future__ import annotations

import os
import platform
import threading
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from cvis import policy
from cvis.accounts.roles import SCANS_WRITE
from cvis.api.models import ApiScanJob
from cvis.cases import scan_state
from cvis.cases.scanning import open_scan, run_scan
from cvis.identify.scan import ScanRequest
from cvis.media.folders import EvidencePath
from cvis.media.objects import ObjectStoreError, check_key, check_uri, is_uri, safe_uri, within_root
from cvis.policy import Actor, Resource
from cvis.store.db import Store
from cvis.store.models import Case, Scan, utcnow

SERVER_SCAN_WORKERS = 1
HEARTBEAT_SECONDS = 5.0
STALE_AFTER = timedelta(seconds=30)
MAX_ATTEMPTS = 3


class ScanRefused(PermissionError):
    pass


class NoSuchScan(LookupError):
    pass


def case_visible(case: Case, agency: str) -> bool:
    """Need-to-know: a case is seen by its own agency (kept for callers; the policy's "case"
    rule is the one answer)."""
    return case.agency == agency


def case_resource(case: Case) -> Resource:
    return Resource("case", case.number, case.agency)


def scan_resource(scan: Scan, case: Case) -> Resource:
    return Resource("scan", scan.id, case.agency)


def check_paths(
    paths: list[str], roots: tuple[Path, ...], uri_roots: tuple[str, ...] = ()
) -> list[EvidencePath]:
    """Each local path resolved and under an evidence root, each URI under an object-store
    root (`cvis.media.objects.within_root`); ScanRefused naming the first that is not, a
    ValueError for a URI that carries credentials or names no bucket."""
    return [_check_uri(raw, uri_roots) if is_uri(raw) else _check_path(raw, roots)
            for raw in paths]


def _check_path(raw: str, roots: tuple[Path, ...]) -> Path:
    if not roots:
        raise ScanRefused("this server has no evidence roots configured (CVIS_EVIDENCE_ROOTS)")
    if "\x00" in raw:
        raise ScanRefused(f"{raw!r} is not a valid path")
    path = Path(raw).resolve()
    if not any(path == root or path.is_relative_to(root) for root in roots):
        raise ScanRefused(f"{raw} is outside the evidence roots this server may read")
    return path


def _check_uri(raw: str, roots: tuple[str, ...]) -> str:
    """The URI as stored (scheme in lower case); a '.' or '..' segment could reach past the
    root once a store folds it, so it is refused, not interpreted."""
    check_uri(raw)  # credentials in it, no bucket: ObjectStoreError (a ValueError)
    shown = safe_uri(raw)
    if not roots:
        raise ScanRefused("this server has no object-store evidence roots configured "
                          "(CVIS_EVIDENCE_URI_ROOTS)")
    try:
        check_key(raw)
    except ObjectStoreError as exc:
        raise ScanRefused(f"{shown}: {exc}") from None
    if not any(within_root(shown, root) for root in roots):
        raise ScanRefused(f"{shown} is outside the object-store evidence roots this server "
                          "may read")
    return shown


def shown_paths(paths: list[str]) -> str:
    """The paths and URIs as an audit record names them: never a URI's credentials."""
    return ",".join(safe_uri(p) if is_uri(p) else p for p in paths)


def _worker_id() -> str:
    return f"{platform.node()}:{os.getpid()}:{threading.get_ident()}"


def _open_scan(session: Session, request: ScanRequest, actor: Actor) -> tuple[int, bool]:
    """The scan to run, opened as the command line opens it (`cases.scanning.open_scan`:
    an unfinished one of the same case and paths is resumed, else a new row); a completed
    one is not reopened. Returns (scan id, whether a live worker already runs it)."""
    number = request.case.strip()
    case = session.scalar(select(Case).where(Case.number == number))
    if case is None:
        case = Case(number=number, agency=actor.agency)
        session.add(case)
        session.flush()
    policy.require(actor, SCANS_WRITE, case_resource(case))
    scan = open_scan(session, case, request, reuse_completed=False)
    job = session.get(ApiScanJob, scan.id)
    if job is None:  # a new scan, or one the command line started: the API's bookkeeping
        session.add(ApiScanJob(scan_id=scan.id, agency=case.agency, submitted_by=actor.name,
                               worker="", heartbeat_at=None, attempts=0))
        session.flush()
    live = scan.status == "running" and (
        (job is not None and not _stale(job.heartbeat_at, utcnow()))
        or scan_state.is_live(session, scan.id))
    return scan.id, live


def _aware(at: datetime | None) -> datetime | None:
    return at.replace(tzinfo=UTC) if at is not None and at.tzinfo is None else at


def _stale(heartbeat: datetime | None, now: datetime) -> bool:
    beat = _aware(heartbeat)
    return beat is None or now - beat > STALE_AFTER


def submit_scan(store: Store, request: ScanRequest, actor: Actor) -> int:
    """Record the scan now (or find the unfinished one it repeats), hash it in the background."""
    with store.session() as session:
        scan_id, live = _open_scan(session, request, actor)
    if not live:
        claim_and_start(store, request, scan_id)
    return scan_id


def claim_and_start(store: Store, request: ScanRequest, scan_id: int) -> bool:
    """Take the job if no live worker holds it (one conditional UPDATE, so two servers never
    both resume it) and start a worker; False when someone else holds it."""
    now = utcnow()
    with store.session() as session:
        claimed = session.execute(
            update(ApiScanJob)
            .where(ApiScanJob.scan_id == scan_id,
                   or_(ApiScanJob.heartbeat_at.is_(None),
                       ApiScanJob.heartbeat_at < now - STALE_AFTER))
            .values(worker=_worker_id(), heartbeat_at=now, attempts=ApiScanJob.attempts + 1)
            .execution_options(synchronize_session=False)
        )
        if not getattr(claimed, "rowcount", 0):
            return False
        session.get_one(Scan, scan_id).status = "running"
    job = replace(request, resume_scan_id=scan_id, workers=SERVER_SCAN_WORKERS)
    thread = threading.Thread(target=_run, args=(store, job, scan_id), daemon=True,
                              name=f"cvis-scan-{scan_id}")
    thread.start()
    if isinstance(thread, _THREAD):  # (a test's stand-in for a dead server runs nothing)
        with _RUNNING_LOCK:
            _RUNNING.add(thread)
    return True


_THREAD = threading.Thread
_RUNNING: set[threading.Thread] = set()
_RUNNING_LOCK = threading.Lock()


def wait_for_scans(timeout: float) -> bool:
    """Wait until the scans this process started have ended (a store about to be closed or
    dropped, as at the end of a test); False if some still run after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    with _RUNNING_LOCK:
        threads = list(_RUNNING)
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))
    with _RUNNING_LOCK:
        _RUNNING.difference_update(t for t in threads if not t.is_alive())
        return not any(t.is_alive() for t in _RUNNING)


def _run(store: Store, request: ScanRequest, scan_id: int) -> None:
    stop = threading.Event()
    beat = threading.Thread(target=_heartbeat, args=(store, scan_id, stop), daemon=True)
    beat.start()
    try:
        run_scan(store, request)
    except Exception as exc:  # the scan row says it failed, and why; resubmitting resumes it
        with store.session() as session:
            session.get_one(Scan, scan_id).status = "failed"
            job = session.get_one(ApiScanJob, scan_id)
            job.reason, job.heartbeat_at = f"{type(exc).__name__}: {exc}"[:2000], None
    finally:
        stop.set()
        with _RUNNING_LOCK:
            _RUNNING.discard(threading.current_thread())


def _heartbeat(store: Store, scan_id: int, stop: threading.Event) -> None:
    while not stop.wait(HEARTBEAT_SECONDS):
        with store.session() as session:
            session.execute(update(ApiScanJob).where(ApiScanJob.scan_id == scan_id)
                            .values(heartbeat_at=utcnow())
                            .execution_options(synchronize_session=False))


def recover(store: Store, scan_id: int | None = None) -> list[int]:
    """Resume (or, after MAX_ATTEMPTS, fail) API scans whose worker stopped beating; returns
    the ids resumed. ``scan_id``: only that one."""
    now, resumed = utcnow(), []
    with store.session() as session:
        query = (select(Scan, ApiScanJob, Case)
                 .join(ApiScanJob, ApiScanJob.scan_id == Scan.id)
                 .join(Case, Case.id == Scan.case_id)
                 .where(Scan.status.in_(("running", scan_state.INTERRUPTED))))
        if scan_id is not None:
            query = query.where(Scan.id == scan_id)
        dead = [(s.id, s.paths, (s.settings or {}).get("sets"), c.number, j.attempts)
                for s, j, c in session.execute(query) if _stale(j.heartbeat_at, now)]
    for sid, paths, sets, number, attempts in dead:
        if attempts >= MAX_ATTEMPTS:
            _fail(store, sid, f"the worker stopped {attempts} times; resubmit to try again")
            continue
        request = ScanRequest(number, [p if is_uri(p) else Path(p) for p in paths], sets)
        if claim_and_start(store, request, sid):
            resumed.append(sid)
    return resumed


def _fail(store: Store, scan_id: int, reason: str) -> None:
    with store.session() as session:
        session.get_one(Scan, scan_id).status = "failed"
        job = session.get_one(ApiScanJob, scan_id)
        job.reason, job.attempts, job.heartbeat_at = reason, 0, None


def get_scan(session: Session, scan_id: int, actor: Actor, right: str) -> tuple[Scan, Case]:
    """The scan and its case if the policy lets this actor do ``right`` to it; else NoSuchScan
    (the same whether it exists or not)."""
    scan = session.get(Scan, scan_id)
    case = session.get(Case, scan.case_id) if scan is not None else None
    if scan is None or case is None or not policy.decide(
        actor, right, scan_resource(scan, case)
    ).allowed:
        raise NoSuchScan(f"no scan {scan_id} visible to you")
    return scan, case


def job_reason(session: Session, scan_id: int) -> str:
    job = session.get(ApiScanJob, scan_id)
    return job.reason if job is not None else ""
