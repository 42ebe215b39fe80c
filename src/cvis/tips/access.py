"""Need-to-know for tips and leads: an office sees its own leads, the national desk all.

A lead resource carries its office (``agency``) and ``attrs``: ``national`` (the national
desk's office id) and ``forwarded_to`` (an agency the lead was forwarded to, which may
read it). An actor belongs to an office when its agency is the office's id. A tip is
seen through its lead. Refusals are hidden: a lead's existence is need-to-know.
"""

from __future__ import annotations

from cvis import policy
from cvis.policy import Actor, Decision, Resource


def _office_rule(actor: Actor, right: str, resource: Resource) -> Decision | None:
    if (operator := policy.local_operator(actor, right, resource)) is not None:
        return operator
    national = str(resource.attrs.get("national", ""))
    if national and actor.agency == national:
        return Decision.allow("the national desk sees every lead")
    if resource.agency and actor.agency == resource.agency:
        return Decision.allow(f"the lead is office {resource.agency}'s")
    forwarded = str(resource.attrs.get("forwarded_to", ""))
    if forwarded and actor.agency == forwarded and right.endswith(":read"):
        return Decision.allow(f"the lead was forwarded to {forwarded}")
    return Decision.deny(f"the lead is not {actor.agency or 'this agency'}'s", hide=True)


@policy.rule("lead")
def lead_rule(actor: Actor, right: str, resource: Resource) -> Decision | None:
    return _office_rule(actor, right, resource)


@policy.rule("tip")
def tip_rule(actor: Actor, right: str, resource: Resource) -> Decision | None:
    return _office_rule(actor, right, resource)


@policy.rule("tip-intake")
def intake_rule(actor: Actor, right: str, resource: Resource) -> Decision | None:
    """Submitting a tip touches no one's data: holding the right is enough."""
    return Decision.allow("may submit tips")
