"""Which agencies may match against a set, and which may see its metadata.

Visibility is data (set_access rows naming agencies); accounts and agencies themselves
belong to the service layer, which calls ``visible_sets`` with the caller's agency.
A set with no rows is open to every agency; its owning agency always has both rights.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from cvis import policy
from cvis.policy import Actor, Decision, Resource
from cvis.store.models import HashSet, SetAccess

Purpose = Literal["match", "metadata"]


def grant(
    session: Session, hash_set: HashSet, agencies: Iterable[str], *, match: bool = True,
    metadata: bool = False,
) -> None:
    """Give these agencies these rights on the set (replacing what they had)."""
    for agency in agencies:
        row = session.scalar(
            select(SetAccess).where(SetAccess.set_id == hash_set.id, SetAccess.agency == agency)
        )
        if row is None:
            row = SetAccess(set_id=hash_set.id, agency=agency)
            session.add(row)
        row.can_match, row.can_see_metadata = match, metadata
    session.flush()


def revoke(session: Session, hash_set: HashSet, agencies: Iterable[str]) -> None:
    session.execute(
        delete(SetAccess).where(SetAccess.set_id == hash_set.id, SetAccess.agency.in_(agencies))
    )


def access_list(session: Session, hash_set: HashSet) -> list[SetAccess]:
    return list(session.scalars(
        select(SetAccess).where(SetAccess.set_id == hash_set.id).order_by(SetAccess.agency)
    ))


def visible_sets(session: Session, agency: str, purpose: Purpose = "match") -> list[HashSet]:
    """The enabled sets this agency may match against (or, for "metadata", whose metadata it
    may see), by name."""
    rights: dict[int, dict[str, tuple[bool, bool]]] = {}
    for row in session.scalars(select(SetAccess)):
        rights.setdefault(row.set_id, {})[row.agency] = (row.can_match, row.can_see_metadata)
    chosen = []
    for hash_set in session.scalars(
        select(HashSet).where(HashSet.enabled.is_(True)).order_by(HashSet.name)
    ):
        granted = rights.get(hash_set.id)
        if granted is None or hash_set.agency == agency:
            chosen.append(hash_set)
            continue
        can_match, can_see = granted.get(agency, (False, False))
        if can_see if purpose == "metadata" else can_match:
            chosen.append(hash_set)
    return chosen


@policy.rule("set")
def set_rule(actor: Actor, right: str, resource: Resource) -> Decision | None:
    """Owner agency, or the set's access rows (``attrs["access"]``: agency -> (match, metadata));
    a set with no rows is open. Baseline; refined by the trust work."""
    if (operator := policy.local_operator(actor, right, resource)) is not None:
        return operator
    if resource.agency and resource.agency == actor.agency:
        return Decision.allow(f"set belongs to {actor.agency}")
    access: dict[str, tuple[bool, bool]] = dict(resource.attrs.get("access", {}))
    if not access:
        return Decision.allow("set is open to every agency")
    can_match, can_see = access.get(actor.agency, (False, False))
    if can_match or can_see:
        return Decision.allow(f"set shared with {actor.agency}")
    return Decision.deny(f"set not shared with {actor.agency}", hide=True)
