"""Which agencies may match against a set, and which may see its metadata.

Visibility is data (set_access rows naming agencies); the "set" rule below turns it into
the policy's answers (``cvis.policy.require(actor, right, set_resource(...))``). A set
with no rows is open to every agency; its owning agency always has every right; a set
created through the service is private to its creator's agency until shared.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from typing import Any, Literal

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from cvis import policy
from cvis.accounts.roles import (
    SETS_CURATE,
    SETS_EXPORT,
    SETS_MATCH,
    SETS_METADATA,
    SETS_READ,
    SETS_WRITE,
)
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


def set_resource(hash_set: HashSet, access: dict[str, tuple[bool, bool]] | None = None,
                 session: Session | None = None) -> Resource:
    """The policy's view of a set: its owner agency and its access rows (agency -> (match,
    metadata)); pass ``access`` when known, else ``session`` to read it."""
    if access is None:
        rows = access_list(session, hash_set) if session is not None else []
        access = {r.agency: (r.can_match, r.can_see_metadata) for r in rows}
    return Resource("set", hash_set.name, hash_set.agency,
                    {"access": access, "enabled": hash_set.enabled})


def set_resources(session: Session, enabled_only: bool = False) -> dict[str, Resource]:
    """Every set's resource by name, in two queries (for listing and filtering)."""
    rights: dict[int, dict[str, tuple[bool, bool]]] = {}
    for row in session.scalars(select(SetAccess)):
        rights.setdefault(row.set_id, {})[row.agency] = (row.can_match, row.can_see_metadata)
    query = select(HashSet).order_by(HashSet.name)
    if enabled_only:
        query = query.where(HashSet.enabled.is_(True))
    return {s.name: set_resource(s, rights.get(s.id, {})) for s in session.scalars(query)}


def sets_for(session: Session, actor: Actor, right: str, enabled_only: bool = False) -> list[str]:
    """The names of the sets this actor may exercise ``right`` on, by name."""
    return [name for name, res in set_resources(session, enabled_only).items()
            if policy.decide(actor, right, res).allowed]


def require_set(session: Session, actor: Actor, right: str, name: str) -> HashSet:
    """The set, if the actor may do ``right`` to it; NotVisible when it does not exist or the
    actor may not know of it (the same answer, so existence is not told)."""
    hash_set = session.scalar(select(HashSet).where(HashSet.name == name))
    resource = (set_resource(hash_set, session=session) if hash_set is not None
                else Resource("set", name, "", {"missing": True}))
    policy.require(actor, right, resource)
    assert hash_set is not None  # a missing set is refused (hidden) by the rule
    return hash_set


def create_owned_set(session: Session, name: str, agency: str) -> HashSet:
    """A new set belongs to its creator's agency and is private to it until shared
    (an access row for the owner keeps "no rows = open to every agency" from applying)."""
    hash_set = HashSet(name=name, agency=agency, thresholds={})
    session.add(hash_set)
    session.flush()
    if agency:
        grant(session, hash_set, [agency], match=True, metadata=True)
    return hash_set


METADATA_FIELDS = ("category", "series", "victim_identified")


def shape_matches(
    matches: Iterable[dict[str, Any]], may_see: Mapping[str, bool],
    suppressed: Collection[tuple[str, str, str]] = (),
) -> list[dict[str, Any]]:
    """Matches as an actor may see them, wherever they are rendered (API, web, reports):
    only sets in ``may_see`` (set -> may see its metadata, from the policy), metadata
    emptied under a match-only grant, and none the actor's agency suppressed for itself."""
    shaped = []
    for match in matches:
        name = match["set"]
        if name not in may_see or (name, match["media_id"], match["signal"]) in suppressed:
            continue
        shaped.append(match if may_see[name] else match | dict.fromkeys(METADATA_FIELDS))
    return shaped


_SEE = {SETS_READ, SETS_MATCH}
_GRANTED_BY_METADATA = {SETS_READ, SETS_MATCH, SETS_METADATA, SETS_EXPORT}
_OWNER_ONLY = {SETS_WRITE, SETS_CURATE}


@policy.rule("set")
def set_rule(actor: Actor, right: str, resource: Resource) -> Decision | None:
    """Owner agency: every right its role holds. Others: what the set's access rows grant
    (a match-only grant covers knowing of the set and matching, not its metadata or export);
    a set with no rows is open to read, match and see (a public list), never to change.
    Refusals are hidden unless the actor may already know the set exists."""
    if resource.attrs.get("missing"):
        return Decision.deny(f"no set named {resource.id!r}", hide=True)
    if (operator := policy.local_operator(actor, right, resource)) is not None:
        return operator
    if resource.agency and resource.agency == actor.agency:
        return Decision.allow(f"set belongs to {actor.agency}")
    access: dict[str, tuple[bool, bool]] = dict(resource.attrs.get("access", {}))
    if not access:
        visible, covered = True, _GRANTED_BY_METADATA
        why = "set is open to every agency"
    else:
        can_match, can_see = access.get(actor.agency, (False, False))
        visible = can_match or can_see
        covered = _GRANTED_BY_METADATA if can_see else _SEE
        why = f"set shared with {actor.agency} ({'metadata' if can_see else 'match only'})"
    if not visible:
        return Decision.deny(f"set not shared with {actor.agency}", hide=True)
    if right in covered:
        return Decision.allow(why)
    if right in _OWNER_ONLY:
        return Decision.deny(f"only {resource.agency or 'the deployment'} may change this set")
    # metadata or export under a match-only grant: the grant does not cover them, and a 404
    # keeps the set's records (and whether it has any) out of sight
    return Decision.deny(f"{why}: {right} not granted", hide=True)
