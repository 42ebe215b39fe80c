"""Is a `running` scan really running? Leases tell a killed scan from a live one.

A scan holds a lease (host, process id, last heartbeat) while it runs; the heartbeat
moves with every batch it stores. A scan whose process is gone (same host) or whose
heartbeat is older than ``STALE_AFTER`` (any host) is shown ``interrupted`` when scans
are listed or resumed; running it again resumes it. A `running` scan without a lease has
not started yet (an API job waiting for its worker, which keeps its own heartbeat) or
predates leases: it is left as it is, and the command line may resume it.
"""

from __future__ import annotations

import os
import platform
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from cvis.cases.models import ScanLease
from cvis.cases.service import record_event
from cvis.store.models import Case, Scan, utcnow

STALE_AFTER = timedelta(minutes=30)
INTERRUPTED = "interrupted"
_ACTIVE: set[int] = set()  # scans this process is running right now (threads included)


def claim(session: Session, scan_id: int) -> None:
    """This process runs the scan from now on."""
    lease = session.get(ScanLease, scan_id)
    if lease is None:
        lease = ScanLease(scan_id=scan_id)
        session.add(lease)
    lease.host, lease.pid, lease.heartbeat_at = platform.node(), os.getpid(), utcnow()
    scan = session.get_one(Scan, scan_id)
    if scan.status == INTERRUPTED:
        scan.status = "running"
    _ACTIVE.add(scan_id)


def release(scan_id: int) -> None:
    _ACTIVE.discard(scan_id)


def heartbeat(session: Session, scan_id: int) -> None:
    lease = session.get(ScanLease, scan_id)
    if lease is not None:
        lease.heartbeat_at = utcnow()


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def is_stale(lease: ScanLease | None, now: datetime | None = None) -> bool:
    if lease is None:
        return False
    if lease.scan_id in _ACTIVE:
        return False
    if lease.host == platform.node():
        if lease.pid == os.getpid() or not _process_alive(lease.pid):
            return True
    return (now or utcnow()) - _aware(lease.heartbeat_at) > STALE_AFTER


def is_live(session: Session, scan_id: int) -> bool:
    """A process holds this scan now (its lease is fresh)."""
    lease = session.get(ScanLease, scan_id)
    return lease is not None and not is_stale(lease)


def mark_interrupted(session: Session, case_id: int | None = None) -> list[int]:
    """Scans shown `running` whose process is gone become `interrupted`; their ids."""
    query = (select(Scan, ScanLease, Case)
             .outerjoin(ScanLease, ScanLease.scan_id == Scan.id)
             .join(Case, Case.id == Scan.case_id)
             .where(Scan.status == "running"))
    if case_id is not None:
        query = query.where(Scan.case_id == case_id)
    marked = []
    for scan, lease, case in session.execute(query).all():
        if lease is not None and is_stale(lease):
            scan.status = INTERRUPTED
            record_event(session, case, "cvis", "scan interrupted", scan_id=scan.id,
                         last_heartbeat=lease.heartbeat_at.isoformat() if lease else None)
            marked.append(scan.id)
    if marked:
        session.flush()
    return marked
