"""Hash-list imports started from the web: run in the background, their progress polled.

The upload is written to a private temporary file (a hash list: hashes and metadata,
never pictures) and imported by ``cvis.hashsets.service.import_file`` in a thread, in
one transaction, so a rejected list leaves the set as it was; the file is removed when
the import ends. Progress lives in the serving process (the page that polls it is
served by the same process in a single-worker deployment; another worker answers
"no such import", and the set's versions still show the outcome).
"""

from __future__ import annotations

import itertools
import os
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from sqlalchemy import select

from cvis.audit.log import Actor as AuditActor
from cvis.audit.log import AuditEntry
from cvis.hashsets.access import create_owned_set
from cvis.hashsets.service import ImportRejected, import_file
from cvis.store.db import Store
from cvis.store.models import HashSet, SetVersion

KEEP = 50  # finished imports remembered per process
CHUNK = 1 << 20


class TooLarge(ValueError):
    pass


@dataclass
class ImportJob:
    """One import as the progress fragment shows it."""

    job_id: int
    set_name: str
    file_name: str
    user: str
    size: int
    records: int = 0
    position: int = 0
    state: str = "running"  # running | done | rejected | failed
    version: int | None = None
    counts: dict[str, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    error_count: int = 0
    message: str = ""

    @property
    def percent(self) -> int:
        if self.state != "running":
            return 100
        return min(99, int(100 * self.position / self.size)) if self.size else 0


def save_upload(upload: IO[bytes], folder: Path, limit: int) -> tuple[Path, int]:
    """The upload in a private file under ``folder`` (refused past ``limit`` bytes)."""
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    handle, name = tempfile.mkstemp(dir=folder, suffix=".list")
    size = 0
    try:
        with os.fdopen(handle, "wb") as out:
            for chunk in iter(lambda: upload.read(CHUNK), b""):
                size += len(chunk)
                if size > limit:
                    raise TooLarge(f"the file is larger than {limit} bytes")
                out.write(chunk)
    except BaseException:
        Path(name).unlink(missing_ok=True)
        raise
    return Path(name), size


class ImportJobs:
    """The imports this process started, by id."""

    def __init__(self) -> None:
        self._jobs: dict[int, ImportJob] = {}
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    def get(self, job_id: int) -> ImportJob | None:
        with self._lock:
            return self._jobs.get(job_id)

    def start(self, store: Store, path: Path, job: ImportJob, *, agency: str, format_name: str,
              skip_bad: bool, audit: Callable[[AuditEntry], None], actor: AuditActor,
              wait: bool = False) -> ImportJob:
        with self._lock:
            job.job_id = next(self._ids)
            self._jobs[job.job_id] = job
            for old in sorted(self._jobs)[:-KEEP]:
                if self._jobs[old].state != "running":
                    del self._jobs[old]
        worker = threading.Thread(target=self._run, daemon=True, name=f"import-{job.job_id}",
                                  args=(store, path, job, agency, format_name, skip_bad,
                                        audit, actor))
        worker.start()
        if wait:
            worker.join()
        return job

    def _run(self, store: Store, path: Path, job: ImportJob, agency: str, format_name: str,
             skip_bad: bool, audit: Callable[[AuditEntry], None], actor: AuditActor) -> None:
        def progress(records: int, position: int, _done: bool) -> None:
            job.records, job.position = records, position

        try:
            with store.session() as session:
                if session.scalar(select(HashSet.id).where(
                        HashSet.name == job.set_name)) is None:
                    create_owned_set(session, job.set_name, agency)  # rolled back on failure
                report = import_file(session, path, name=job.set_name, format_name=format_name,
                                     skip_bad=skip_bad, on_progress=progress,
                                     reader_process=False)
                version = session.scalars(select(SetVersion).join(HashSet).where(
                    HashSet.name == job.set_name, SetVersion.number == report.version)).one()
                version.source_file = job.file_name  # the uploaded name, not the temporary file
            job.version, job.error_count = report.version, report.error_count
            job.counts = {"added": report.added, "updated": report.updated,
                          "removed": report.removed, "unchanged": report.unchanged}
            job.errors = [str(e) for e in report.errors]
            job.state = "done"
        except ImportRejected as exc:
            job.state, job.error_count = "rejected", exc.total
            job.errors = [str(e) for e in exc.errors]
        except Exception as exc:  # noqa: BLE001 - shown to the curator, kept in the audit log
            job.state, job.message = "failed", str(exc) or type(exc).__name__
        finally:
            path.unlink(missing_ok=True)
        outcome = "success" if job.state == "done" else "failure"
        detail = (f"version {job.version}: {job.counts}" if job.state == "done"
                  else f"{job.state}: {job.error_count} malformed record(s) {job.message}")
        audit(AuditEntry("web", "web.set.import.finished", actor, outcome,
                         f"set:{job.set_name} file:{job.file_name}", "hash-set import",
                         detail.strip()))
