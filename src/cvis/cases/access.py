"""Need-to-know rules for cases: a case is its agency's (baseline; refined by the trust work)."""

from __future__ import annotations

from cvis import policy
from cvis.policy import Actor, Decision, Resource


@policy.rule("case")
def case_rule(actor: Actor, right: str, resource: Resource) -> Decision | None:
    return policy.local_operator(actor, right, resource) or policy.same_agency(
        actor, right, resource
    )
