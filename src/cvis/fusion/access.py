"""Need-to-know for fusion and foreign work: subjects, targets, queues, detainers,
screenings, notices, complaints and inbound requests.

A subject (and its target entry) belongs to the agency that holds it. A partner agency
sees it only through a share (a joint investigation or the 30-day list), and only with
the rights that share grants: the service puts the shares in ``resource.attrs["shares"]``
as ``{agency: [rights]}``. Anything else is refused as not found.
"""

from __future__ import annotations

from cvis import policy
from cvis.policy import Actor, Decision, Resource

SHARED_KINDS = ("subject", "target", "assignment", "detainer")
AGENCY_KINDS = ("screening", "notice", "complaint", "inbound", "fusion_month")


def _shared_rule(actor: Actor, right: str, resource: Resource) -> Decision | None:
    return (policy.local_operator(actor, right, resource)
            or policy.same_agency(actor, right, resource)
            or policy.shared(actor, right, resource))


def _agency_rule(actor: Actor, right: str, resource: Resource) -> Decision | None:
    return policy.local_operator(actor, right, resource) or policy.same_agency(
        actor, right, resource)


for _kind in SHARED_KINDS:
    policy.rule(_kind)(_shared_rule)
for _kind in AGENCY_KINDS:
    policy.rule(_kind)(_agency_rule)
