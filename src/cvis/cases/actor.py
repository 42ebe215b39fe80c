"""Who is acting: the name recorded on every case change and review decision.

Read through the policy's one resolver (``cvis.policy.actors.local_operator``), so the name
on a case change and the actor the policy and the audit log see never disagree.
"""

from __future__ import annotations

from cvis.policy.actors import CLAIMED_NAME_ENV, local_operator, os_account

ACTOR_ENV = CLAIMED_NAME_ENV


def current_actor(explicit: str | None = None) -> str:
    """An explicit name wins, then CVIS_USER, then the operating-system account (looked up
    from the uid, as the local operator is)."""
    return local_operator(explicit).claimed or os_account().split(":", 1)[1]
