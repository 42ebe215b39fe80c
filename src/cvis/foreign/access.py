"""Need-to-know for foreign work beyond the agency rule (`cvis.fusion.access`): complaints
from the public before they are tied to a notice, and the programme's annual figures.

A complaint filed on the public portal names no notice and so no agency. Until a reviewer
ties it to a notice of their agency, it is open to every holder of the foreign rights (it
holds only what the person wrote). The annual report is counts, no person: holders of
``foreign:read`` read it.
"""

from __future__ import annotations

from cvis import policy
from cvis.policy import Actor, Decision, Resource

REPORT = "foreign-report"


@policy.rule("complaint")
def unassigned_complaint(actor: Actor, right: str, resource: Resource) -> Decision | None:
    if not resource.agency:
        return Decision.allow("a complaint not yet tied to a notice is open to reviewers")
    return None


@policy.rule(REPORT)
def annual_report(actor: Actor, right: str, resource: Resource) -> Decision | None:
    return Decision.allow(f"{actor.role} reads the programme's annual figures")
