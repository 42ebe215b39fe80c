"""Who may do what to a poster: the portal's rules in the one policy.

Publishing, updating and withdrawing need ``posters:publish`` (programme staff); a poster
stays with the agency that published it (an administrator is bound to its own agency too, as
everywhere else in the policy). The
public reads a poster only while it is wanted or captured; a withdrawn one is not there.
"""

from __future__ import annotations

from cvis import policy
from cvis.accounts.roles import POSTERS_PUBLISH
from cvis.policy import Actor, Decision, Resource

POSTERS_VIEW = "posters:view"
VISIBLE_STATUSES = frozenset({"wanted", "captured"})
PUBLIC = Actor(name="public", agency="", role="public", rights=frozenset({POSTERS_VIEW}),
               purpose="public portal", interactive=False)


@policy.rule("poster")
def poster_rule(actor: Actor, right: str, resource: Resource) -> Decision | None:
    if right == POSTERS_VIEW:
        if resource.attrs.get("status") in VISIBLE_STATUSES:
            return Decision.allow("a published poster is public")
        return Decision.deny("no such poster", hide=True)
    if right != POSTERS_PUBLISH:
        return None
    owner = resource.agency
    if not owner or owner == actor.agency:
        return Decision.allow(f"{actor.role} may publish posters for {owner or 'the programme'}")
    return Decision.deny(f"the poster belongs to {owner}")
