"""Need-to-know rules for cases: a case is its agency's, and a partner agency's where the
owner shared it in a joint investigation (``cvis case share``), with the rights that share
grants (``resource.attrs["shares"]``, filled by ``cvis.fusion.shares.case_resource``)."""

from __future__ import annotations

from cvis import policy
from cvis.policy import Actor, Decision, Resource


@policy.rule("case")
def case_rule(actor: Actor, right: str, resource: Resource) -> Decision | None:
    return (policy.local_operator(actor, right, resource)
            or policy.same_agency(actor, right, resource)
            or policy.shared(actor, right, resource))
