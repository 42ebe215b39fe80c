"""Hash sets: the list, a set's versions, and what changed between two versions."""

from __future__ import annotations

from itertools import islice
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from cvis import policy
from cvis.accounts.roles import SETS_READ
from cvis.hashsets.access import access_list
from cvis.hashsets.service import UnknownVersion, diff_versions, list_sets, list_versions
from cvis.policy import NotVisible, Resource
from cvis.store.models import HashSet
from cvis.web.render import page
from cvis.web.routes.common import NoSuch, ServicesDep, require_right, touch
from cvis.web.session import UserDep, WebUser

router = APIRouter()
DIFF_ROWS = 500


def set_resource(session: Session, hash_set: HashSet) -> Resource:
    access = {a.agency: (a.can_match, a.can_see_metadata)
              for a in access_list(session, hash_set)}
    return Resource("set", hash_set.name, hash_set.agency, {"access": access})


def _visible(session: Session, user: WebUser) -> set[str]:
    return {s.name for s in session.scalars(select(HashSet))
            if policy.decide(user.actor, SETS_READ, set_resource(session, s)).allowed}


@router.get("/sets")
def set_list(request: Request, services: ServicesDep, user: UserDep) -> Response:
    touch(request, "sets", "web.sets")
    require_right(user, SETS_READ, "set")
    with services.store.session() as session:
        visible = _visible(session, user)
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
    error, changes, more = "", [], False
    with services.store.session() as session:
        hash_set = session.scalar(select(HashSet).where(HashSet.name == name))
        try:
            if hash_set is None:
                raise NoSuch
            policy.require(user.actor, SETS_READ, set_resource(session, hash_set))
        except (NoSuch, NotVisible):
            raise NoSuch(f"There is no hash set named {name!r} that you can see.") from None
        versions = list_versions(session, name)
        if first is not None and last is not None:
            try:
                found = list(islice(diff_versions(session, name, first, last), DIFF_ROWS + 1))
                changes, more = found[:DIFF_ROWS], len(found) > DIFF_ROWS
            except UnknownVersion as exc:
                error = f"{exc}. Choose two versions from the table."
    return page(request, "set.html", user, title=f"Hash set {name}", name=name,
                versions=versions, changes=changes, more=more, first=first, last=last,
                error=error)
