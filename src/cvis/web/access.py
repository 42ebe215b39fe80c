"""Rules for what only the web application's pages name as resources: the audit log as a
whole and the account administration. (Cases and sets use their own areas' rules.)"""

from __future__ import annotations

from cvis import policy
from cvis.policy import Actor, Decision, Resource

WHOLE_LOG_ROLES = ("auditor", "admin")


@policy.rule("audit")
def audit_rule(actor: Actor, right: str, resource: Resource) -> Decision | None:
    """Auditors and admins read the whole log; others holding the right, their agency's."""
    if actor.role in WHOLE_LOG_ROLES:
        return Decision.allow(f"{actor.role}s read the whole audit log")
    return policy.same_agency(actor, right, resource)


@policy.rule("accounts")
def accounts_rule(actor: Actor, right: str, resource: Resource) -> Decision | None:
    """Administrators (who hold accounts:admin) manage every agency's accounts."""
    return Decision.allow("administrators manage accounts") if actor.role == "admin" else None
