"""Audit records for the linkage state: who read and wrote which tables, and why."""

from __future__ import annotations

from pathlib import Path

from cvis.audit.log import AuditEntry, cli_actor, record_event
from cvis.store.db import Store


def record_state_access(directory: Path, read: set[str], written: set[str],
                        purpose: str = "") -> None:
    """One record per kind of access (read, write) to the state database."""
    obj = f"linkage-state:{directory}"
    for event, tables in (("linkage.state.read", read), ("linkage.state.write", written)):
        if tables:
            record_event(Store(), AuditEntry("linkage", event, cli_actor(), "success", obj,
                                             purpose, "tables: " + ", ".join(sorted(tables))))
