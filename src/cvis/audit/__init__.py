"""The tamper-evident audit log: every access is accountable (design principle 4)."""

from cvis.audit.chain import VerifyReport, verify_chain
from cvis.audit.log import (
    Actor,
    AuditEntry,
    AuditQuery,
    audited,
    cli_actor,
    record_event,
    search_audit,
)

__all__ = [
    "Actor",
    "AuditEntry",
    "AuditQuery",
    "VerifyReport",
    "audited",
    "cli_actor",
    "record_event",
    "search_audit",
    "verify_chain",
]
