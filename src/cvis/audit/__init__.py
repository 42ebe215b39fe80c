"""The tamper-evident audit log: every access is accountable (design principle 4)."""

from cvis.audit.chain import VerifyReport, verify_chain
from cvis.audit.log import (
    Actor,
    AuditEntry,
    AuditQuery,
    audited,
    checkpoint,
    cli_actor,
    record_event,
    record_in,
    search_audit,
    verify_log,
)
from cvis.policy.actors import os_account

__all__ = [
    "Actor",
    "AuditEntry",
    "AuditQuery",
    "VerifyReport",
    "audited",
    "checkpoint",
    "cli_actor",
    "os_account",
    "record_event",
    "record_in",
    "search_audit",
    "verify_chain",
    "verify_log",
]
