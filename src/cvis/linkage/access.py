"""Need-to-know for the linkage state (runs, links, review, releases): the deployment's
local operator acts for it; API callers hold the linkage rights through their role."""

from __future__ import annotations

from cvis import policy
from cvis.policy import Actor, Decision, Resource


@policy.rule("linkage")
def linkage_rule(actor: Actor, right: str, resource: Resource) -> Decision | None:
    if (operator := policy.local_operator(actor, right, resource)) is not None:
        return operator
    return policy.same_agency(actor, right, resource)
