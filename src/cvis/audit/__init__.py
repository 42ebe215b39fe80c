"""The tamper-evident audit log: every access is accountable (design principle 4).

The names below are imported on first use (PEP 562): a light command writes its record
through ``cvis.audit.quick`` without importing the database layer the log needs.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
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

_WHERE = {
    "VerifyReport": "cvis.audit.chain",
    "verify_chain": "cvis.audit.chain",
    "os_account": "cvis.policy.actors",
    **{name: "cvis.audit.log" for name in (
        "Actor", "AuditEntry", "AuditQuery", "audited", "checkpoint", "cli_actor",
        "record_event", "record_in", "search_audit", "verify_log",
    )},
}


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module 'cvis.audit' has no attribute {name!r}")
    return getattr(importlib.import_module(_WHERE[name]), name)


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
