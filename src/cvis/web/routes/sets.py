"""Hash sets: the list, a set's versions, what changed between two versions, and the hashes
examiners dispute (feedback and suppression)."""

from __future__ import annotations

from itertools import islice
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from cvis import policy
from cvis.accounts.roles import SETS_METADATA, SETS_READ
from cvis.hashsets.access import require_set, set_resource, sets_for
from cvis.hashsets.feedback import contested_hashes
from cvis.hashsets.service import UnknownVersion, diff_versions, list_sets, list_versions
from cvis.policy import NotVisible
from cvis.web.render import page
from cvis.web.routes.common import NoSuch, ServicesDep, require_right, touch
from cvis.web.session import UserDep

router = APIRouter()
DIFF_ROWS = 500


@router.get("/sets")
def set_list(request: Request, services: ServicesDep, user: UserDep) -> Response:
    touch(request, "sets", "web.sets")
    require_right(user, SETS_READ, "set")
    with services.store.session() as session:
        visible = set(sets_for(session, user.actor, SETS_READ))
        sets = [s for s in list_sets(session) if s.name in visible]
    return page(request, "sets.html", user, title="Hash sets", sets=sets)


@router.get("/sets/{name}")
def set_page(
    request: Request, services: ServicesDep, user: UserDep, name: str,
    first: Annotated[int | None, Query(ge=0)] = None,
    last: Annotated[int | None, Query(ge=0)] = None,
) -> Response:
    touch(request, f"set:{name}", "web.set.show")
    require_right(user, SETS_READ, "set")
    error, changes, more, contested = "", [], False, []
    with services.store.session() as session:
        try:
            hash_set = require_set(session, user.actor, SETS_READ, name)
        except NotVisible:
            raise NoSuch(f"There is no hash set named {name!r} that you can see.") from None
        versions = list_versions(session, name)
        records = policy.decide(user.actor, SETS_METADATA,
                                set_resource(hash_set, session=session)).allowed
        if records:
            contested = contested_hashes(session, hash_set)
        if records and first is not None and last is not None:
            try:
                found = list(islice(diff_versions(session, name, first, last), DIFF_ROWS + 1))
                changes, more = found[:DIFF_ROWS], len(found) > DIFF_ROWS
            except UnknownVersion as exc:
                error = f"{exc}. Choose two versions from the table."
    return page(request, "set.html", user, title=f"Hash set {name}", name=name,
                versions=versions, changes=changes, more=more, first=first, last=last,
                error=error, records=records, contested=contested)
