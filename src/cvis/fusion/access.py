"""Need-to-know for fusion and foreign work: subjects, targets, queues, detainers,
screenings, notices, complaints and inbound requests.

A subject (and its target entry) belongs to the agency that holds it. A partner agency
sees it only through a share (a joint investigation or the 30-day list), and only with
the rights that share grants: the service puts the shares in ``resource.attrs["shares"]``
as ``{agency: [rights]}``. Anything else is refused as not found.
"""

from __future__ import annotations

from collections.abc import Mapping

from cvis import policy
from cvis.policy import Actor, Decision, Resource

SHARED_KINDS = ("subject", "target", "assignment", "detainer")
AGENCY_KINDS = ("screening", "notice", "complaint", "inbound")


def _shared(actor: Actor, right: str, resource: Resource) -> Decision | None:
    shares: Mapping[str, list[str]] = resource.attrs.get("shares", {}) or {}
    granted = shares.get(actor.agency)
    if granted is None:
        return None
    if right in granted:
        return Decision.allow(f"{resource.kind} shared with {actor.agency} for {right}")
    # the partner knows the subject exists; it may not do this with it
    return Decision.deny(f"the share with {actor.agency} does not grant {right!r}")


def _shared_rule(actor: Actor, right: str, resource: Resource) -> Decision | None:
    return (policy.local_operator(actor, right, resource)
            or policy.same_agency(actor, right, resource)
            or _shared(actor, right, resource))


def _agency_rule(actor: Actor, right: str, resource: Resource) -> Decision | None:
    return policy.local_operator(actor, right, resource) or policy.same_agency(
        actor, right, resource)


for _kind in SHARED_KINDS:
    policy.rule(_kind)(_shared_rule)
for _kind in AGENCY_KINDS:
    policy.rule(_kind)(_agency_rule)
