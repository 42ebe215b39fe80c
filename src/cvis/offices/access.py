"""Need-to-know rules for offices: the table is public knowledge inside the programme;
changing it is an administrator's act."""

from __future__ import annotations

from cvis import policy
from cvis.policy import Actor, Decision, Resource


@policy.rule("office")
def office_rule(actor: Actor, right: str, resource: Resource) -> Decision | None:
    if (operator := policy.local_operator(actor, right, resource)) is not None:
        return operator
    if right.endswith(":read"):
        return Decision.allow("the office table is shared with every agency")
    return None
