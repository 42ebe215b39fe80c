"""Roles and the rights each grants: the one table that says who may do what.

A right names an action on a kind of resource. The role table says which rights
a role may ever exercise; the policy's rules (``cvis.policy``, one per resource
kind) say on which resources: a set of another agency, a case of its own, ...
Token scopes are a subset of these names, never wider than the user's role.

Rights over hash sets (decided per set by the "set" rule in cvis.hashsets.access):

- ``sets:read``      know that the set exists (list it, name it in a lookup)
- ``sets:match``     match hashes against it: the answer carries set, media id,
                     signal and distance, nothing more
- ``sets:metadata``  see its records' metadata (category, series, victim identified)
- ``sets:export``    download its records
- ``sets:write``     import new versions, change its settings (owner agency only)
- ``sets:curate``    suppress a hash for every agency, lift that, grant access
                     (owner agency's curators only)
- ``sets:feedback``  record an agency's verdict on a match of its own case
"""

from __future__ import annotations

HASH = "hash"
LOOKUP = "lookup"
SETS_READ = "sets:read"
SETS_MATCH = "sets:match"
SETS_METADATA = "sets:metadata"
SETS_EXPORT = "sets:export"
SETS_WRITE = "sets:write"
SETS_CURATE = "sets:curate"
SETS_FEEDBACK = "sets:feedback"
SCANS_READ = "scans:read"
SCANS_WRITE = "scans:write"
CASES_READ = "cases:read"
CASES_WRITE = "cases:write"
CASES_EXPORT = "cases:export"
AUDIT_READ = "audit:read"
ACCOUNTS_ADMIN = "accounts:admin"
OFFICES_READ = "offices:read"
OFFICES_WRITE = "offices:write"
FUSION_READ = "fusion:read"  # subjects, targets, queues
FUSION_WRITE = "fusion:write"  # facts, merges, assignments, shares, detainers
FOREIGN_READ = "foreign:read"  # screenings, notices, complaints
FOREIGN_WRITE = "foreign:write"  # screen, determine, draft, review complaints
FOREIGN_CONFIRM = "foreign:confirm"  # an officer confirms a notice before it goes out
TIPS_INTAKE = "tips:intake"  # submit tips (call-takers, partners)
TIPS_READ = "tips:read"  # see leads and their tips (per lead: the "lead" rule, by office)
TIPS_WRITE = "tips:write"  # triage, assign, accept, action, close, re-route, forward
_TIPS = frozenset({TIPS_INTAKE, TIPS_READ, TIPS_WRITE})
LINKAGE_READ = "linkage:read"  # the registry cross-match's links and their evidence
LINKAGE_REVIEW = "linkage:review"  # confirm or reject a candidate link
LINKAGE = frozenset({LINKAGE_READ, LINKAGE_REVIEW, "linkage:run"})  # registry cross-matching

ALL_PERMISSIONS = frozenset(
    {HASH, LOOKUP, SETS_READ, SETS_MATCH, SETS_METADATA, SETS_EXPORT, SETS_WRITE, SETS_CURATE,
     SETS_FEEDBACK, SCANS_READ, SCANS_WRITE, CASES_READ, CASES_WRITE, CASES_EXPORT, AUDIT_READ,
     ACCOUNTS_ADMIN, OFFICES_READ, OFFICES_WRITE, FUSION_READ, FUSION_WRITE, FOREIGN_READ,
     FOREIGN_WRITE, FOREIGN_CONFIRM}
) | LINKAGE | _TIPS
_MATCHING = frozenset({HASH, LOOKUP, SETS_READ, SETS_MATCH, SETS_METADATA, OFFICES_READ})
_EXAMINER = _MATCHING | {
    SETS_FEEDBACK, SCANS_READ, SCANS_WRITE, CASES_READ, CASES_WRITE, CASES_EXPORT
}
ROLES: dict[str, frozenset[str]] = {
    "examiner": _EXAMINER | _TIPS,
    "analyst": _MATCHING | {SCANS_READ, CASES_READ, FUSION_READ, FUSION_WRITE, FOREIGN_READ,
                            FOREIGN_WRITE, TIPS_INTAKE, TIPS_READ},
    "curator": _MATCHING | {SETS_EXPORT, SETS_WRITE, SETS_CURATE},
    "supervisor": _EXAMINER | {AUDIT_READ, FUSION_READ, FUSION_WRITE, FOREIGN_READ,
                               FOREIGN_WRITE, FOREIGN_CONFIRM} | _TIPS,
    "call-taker": frozenset({TIPS_INTAKE, OFFICES_READ}),
    "auditor": frozenset({AUDIT_READ}),
    "admin": ALL_PERMISSIONS,
}


class UnknownRole(ValueError):
    pass


def check_role(role: str) -> str:
    if role not in ROLES:
        raise UnknownRole(f"unknown role {role!r} (known: {', '.join(ROLES)})")
    return role


def check_scopes(scopes: list[str], role: str | None = None) -> list[str]:
    """Known scope names, and (given a role) none beyond what the role holds."""
    unknown = sorted(set(scopes) - ALL_PERMISSIONS)
    if unknown:
        raise ValueError(
            f"unknown scope(s) {', '.join(unknown)} (known: {', '.join(sorted(ALL_PERMISSIONS))})"
        )
    if role is not None:
        beyond = sorted(set(scopes) - ROLES[check_role(role)])
        if beyond:
            raise ValueError(f"role {role!r} does not hold {', '.join(beyond)}: a token's scopes "
                             "cannot be wider than its user's role")
    return sorted(set(scopes))


# The public portal: programme staff publish, update and withdraw most-wanted posters.
POSTERS_PUBLISH = "posters:publish"
ALL_PERMISSIONS = ALL_PERMISSIONS | {POSTERS_PUBLISH}
ROLES["supervisor"] = ROLES["supervisor"] | {POSTERS_PUBLISH}
ROLES["admin"] = ALL_PERMISSIONS

# Registry links (the web's link review): the analysts and supervisors of the agency that
# runs the cross-match read and decide its links (the "linkage" rule says which agency).
for _role in ("analyst", "supervisor"):
    ROLES[_role] = ROLES[_role] | {LINKAGE_READ, LINKAGE_REVIEW}
