"""Rules for the service itself, scans and their matches.

``Resource("service")`` is the service as a whole: a right the role holds (the
edge's first question, before any particular resource is named).
A scan is its case's agency's; so is feedback on a match.

A scan resource is ``Resource("scan", id, case_agency)``. A match resource (what feedback is
about) is ``Resource("match", id, case_agency, {"set": <the set's Resource>})``: feedback
needs the case to be the actor's agency's and the set to be one it may match against.
"""

from __future__ import annotations

from cvis import policy
from cvis.accounts.roles import SETS_MATCH
from cvis.policy import Actor, Decision, Resource

SERVICE = Resource("service")


@policy.rule("service")
def service_rule(actor: Actor, right: str, resource: Resource) -> Decision | None:
    return Decision.allow(f"role {actor.role!r} holds {right!r}")


@policy.rule("scan")
def scan_rule(actor: Actor, right: str, resource: Resource) -> Decision | None:
    if (operator := policy.local_operator(actor, right, resource)) is not None:
        return operator
    if resource.agency and resource.agency == actor.agency:
        return Decision.allow(f"scan of a case of {actor.agency}")
    return Decision.deny(f"no scan {resource.id} visible to {actor.agency}", hide=True)


@policy.rule("match")
def match_rule(actor: Actor, right: str, resource: Resource) -> Decision | None:
    if (operator := policy.local_operator(actor, right, resource)) is not None:
        return operator
    if not resource.agency or resource.agency != actor.agency:
        return Decision.deny(f"match {resource.id} is not of a case of {actor.agency}", hide=True)
    hash_set = resource.attrs.get("set")
    if not isinstance(hash_set, Resource) or not policy.decide(actor, SETS_MATCH, hash_set).allowed:
        return Decision.deny(f"match {resource.id} is against a set {actor.agency} may not use",
                             hide=True)
    return Decision.allow(f"match of a case of {actor.agency}")
