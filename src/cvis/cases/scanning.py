"""A scan as a step of a case: open (or resume) its row, claim it, run the pipeline, deconflict.

`cvis.identify.scan` hashes and matches; this module is the case workflow around it:
which scan row a run continues (the CLI and the API open scans here alike), the lease
that tells a live scan from a killed one, the evidence registered for custody, and the
deconfliction once the scan is complete.
"""

from __future__ import annotations

import platform
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

import cvis
from cvis.cases import scan_state
from cvis.cases.deconflict import deconflict_case
from cvis.cases.service import get_or_create_case
from cvis.evidence.custody import record_folder_manifest, register_evidence
from cvis.identify.forkserver import start_fork_server
from cvis.identify.scan import (
    ENGINES,
    ProgressFn,
    ScanProgress,
    ScanRequest,
    WholeFileDigests,
    finish_scan,
    hash_and_match,
)
from cvis.media.objects import is_uri
from cvis.store.db import Store
from cvis.store.models import Case, Scan, ScanItem


def find_resumable(session: Session, case_id: int, request: ScanRequest) -> Scan | None:
    """The scan to continue: the one named, else the newest unfinished one of the same paths,
    else a finished one of the same paths and sets (a re-run adds nothing)."""
    scan_state.mark_interrupted(session, case_id)
    if request.resume_scan_id is not None:
        scan = session.get(Scan, request.resume_scan_id)
        if scan is None or scan.case_id != case_id:
            raise LookupError(f"no scan {request.resume_scan_id} in case {request.case}")
        if scan.status == "completed":
            raise LookupError(f"scan {scan.id} is completed and cannot change")
        return scan
    if request.restart:
        return None
    paths = [str(p) for p in request.paths]
    same = [s for s in session.scalars(
        select(Scan).where(Scan.case_id == case_id).order_by(Scan.id.desc())
    ) if s.paths == paths]
    for scan in same:
        if scan.status != "completed":
            return scan
    return next((s for s in same if (s.settings or {}).get("sets") == request.sets), None)


def refuse_live(session: Session, scan: Scan) -> None:
    """A scan another process is running now is not taken over."""
    if scan.status == "running" and scan_state.is_live(session, scan.id):
        raise LookupError(f"scan {scan.id} of these paths is running now; wait for it, "
                          "or give --restart to scan again beside it")


def open_scan(
    session: Session, case: Case, request: ScanRequest, *, reuse_completed: bool = True
) -> Scan:
    """The scan row a run of this request continues (see `find_resumable`), else a new one.

    Nothing is claimed here: the CLI claims the row as it starts hashing, the API when its
    worker takes the job. ``reuse_completed=False``: a completed scan is not the answer
    (the API's resubmission of finished work scans again).
    """
    scan = find_resumable(session, case.id, request)
    if scan is not None and scan.status == "completed" and not reuse_completed:
        scan = None
    if scan is None:
        scan = Scan(
            case_id=case.id,
            paths=[str(p) for p in request.paths],
            settings=request.recorded_settings(),
            cvis_version=cvis.__version__,
            host=platform.node(),
        )
        session.add(scan)
        session.flush()
    return scan


def finished_scan(store: Store, request: ScanRequest) -> int | None:
    """The completed scan a run of this request would repeat (same case, paths and sets)."""
    if request.restart or request.resume_scan_id is not None:
        return None
    with store.session() as session:
        case_id = session.scalar(select(Case.id).where(Case.number == request.case.strip()))
        if case_id is None:
            return None
        scan = find_resumable(session, case_id, request)
        return scan.id if scan is not None and scan.status == "completed" else None


def _start_scan(store: Store, request: ScanRequest) -> tuple[int, set[str], bool]:
    """Open (or reopen) and claim the scan row; its id, the paths already stored, whether
    it is done."""
    with store.session() as session:
        case = get_or_create_case(session, request.case)
        scan = open_scan(session, case, request)
        if scan.status == "completed":
            return scan.id, set(), True
        refuse_live(session, scan)
        scan_state.claim(session, scan.id)
        for path in request.paths:  # a URI where nothing is: the scan says not found
            if is_uri(str(path)) or Path(path).exists():
                register_evidence(session, case.id, path, request.acquired_by)
        done = set(session.scalars(select(ScanItem.path).where(ScanItem.scan_id == scan.id)))
        return scan.id, done, False


def run_scan(
    store: Store, request: ScanRequest, progress: ScanProgress | ProgressFn | None = None
) -> int:
    """Scan evidence for a case: hash and match every item not yet stored for its scan,
    then deconflict the case; return the scan id (a finished scan's, unchanged, when the
    same scan already ran to its end)."""
    if request.engine not in ENGINES:
        raise ValueError(f"unknown engine {request.engine!r}; choose one of {', '.join(ENGINES)}")
    if request.engine == "local":
        start_fork_server()  # its workers' imports run while the scan opens its rows
    scan_id, done, finished = _start_scan(store, request)
    if finished:  # the same scan ran to its end before: nothing to add, nothing counted twice
        return scan_id
    digested: WholeFileDigests = {}
    try:
        hash_and_match(store, request, scan_id, done, progress, heartbeat=scan_state.heartbeat,
                       digested=digested)
    finally:
        scan_state.release(scan_id)
    _complete(store, request, scan_id, digested, resumed=bool(done))
    return scan_id


def _complete(store: Store, request: ScanRequest, scan_id: int, digested: WholeFileDigests,
              resumed: bool) -> None:
    """Mark the scan complete, record its folders' manifests and deconflict, in one
    transaction. A scan of the same folder beside this one (``--restart``) may record the
    folder's manifest between this one's look and its insert: the insert then fails, and the
    second try finds that manifest standing, instead of the scan failing at its very end."""
    for attempt in (1, 2):
        try:
            with store.session() as session:  # complete and its manifests recorded, or neither
                finish_scan(session, scan_id)
                record_manifests(session, request, scan_id, digested, resumed=resumed)
                deconflict_case(session, request.case, actor="cvis scan")
            return
        except IntegrityError:
            if attempt == 2:
                raise


def record_manifests(session: Session, request: ScanRequest, scan_id: int,
                     digested: WholeFileDigests, resumed: bool) -> None:
    """The manifest of each folder scanned, from the scan's own digests: this run's, and
    those an interrupted run stored (``resumed``)."""
    folders = [Path(p) for p in request.paths if not is_uri(str(p)) and Path(p).is_dir()]
    if not folders:
        return
    case_id = session.get_one(Scan, scan_id).case_id
    known = dict(_stored_whole_files(session, scan_id)) if resumed else {}
    known.update(digested)
    for folder in folders:
        record_folder_manifest(session, case_id, folder, known)


def _stored_whole_files(session: Session, scan_id: int) -> Iterator[tuple[str, tuple[int, str]]]:
    """Stored items that are a file of a folder read whole: a name with no member ("!") or
    duplicate ("#2") mark is only ever that (any other is read again for the manifest)."""
    rows = session.execute(select(ScanItem.path, ScanItem.size, ScanItem.sha256).where(
        ScanItem.scan_id == scan_id, ScanItem.sha256.is_not(None)))
    for path, size, sha256 in rows:
        if size is not None and sha256 is not None and "!" not in path and "#" not in path:
            yield path, (size, sha256)
