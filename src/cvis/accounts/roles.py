"""Roles and the permissions each grants: the one table that says who may do what."""

from __future__ import annotations

HASH = "hash"
LOOKUP = "lookup"
SETS_READ = "sets:read"
SETS_WRITE = "sets:write"
SETS_FEEDBACK = "sets:feedback"
SCANS_READ = "scans:read"
SCANS_WRITE = "scans:write"
CASES_READ = "cases:read"
CASES_WRITE = "cases:write"
AUDIT_READ = "audit:read"
ACCOUNTS_ADMIN = "accounts:admin"
OFFICES_READ = "offices:read"
OFFICES_WRITE = "offices:write"

ALL_PERMISSIONS = frozenset(
    {HASH, LOOKUP, SETS_READ, SETS_WRITE, SETS_FEEDBACK, SCANS_READ, SCANS_WRITE, CASES_READ,
     CASES_WRITE, AUDIT_READ, ACCOUNTS_ADMIN, OFFICES_READ, OFFICES_WRITE}
)
_EXAMINER = frozenset(
    {HASH, LOOKUP, SETS_READ, SETS_FEEDBACK, SCANS_READ, SCANS_WRITE, CASES_READ, CASES_WRITE,
     OFFICES_READ}
)
ROLES: dict[str, frozenset[str]] = {
    "examiner": _EXAMINER,
    "analyst": frozenset(
        {HASH, LOOKUP, SETS_READ, SETS_FEEDBACK, SCANS_READ, CASES_READ, OFFICES_READ}
    ),
    "curator": frozenset({HASH, LOOKUP, SETS_READ, SETS_WRITE, SETS_FEEDBACK, OFFICES_READ}),
    "supervisor": _EXAMINER | {AUDIT_READ},
    "auditor": frozenset({AUDIT_READ}),
    "admin": ALL_PERMISSIONS,
}


class UnknownRole(ValueError):
    pass


def check_role(role: str) -> str:
    if role not in ROLES:
        raise UnknownRole(f"unknown role {role!r} (known: {', '.join(ROLES)})")
    return role


def check_scopes(scopes: list[str]) -> list[str]:
    unknown = sorted(set(scopes) - ALL_PERMISSIONS)
    if unknown:
        raise ValueError(
            f"unknown scope(s) {', '.join(unknown)} (known: {', '.join(sorted(ALL_PERMISSIONS))})"
        )
    return sorted(set(scopes))
