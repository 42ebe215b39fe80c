"""What the page routes share: the services, the policy questions about cases, audit notes."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import select
from sqlalchemy.orm import Session

from cvis import policy
from cvis.api.services import Services
from cvis.cases.service import CaseError, get_case
from cvis.policy import NotVisible, Resource
from cvis.store.models import Case
from cvis.web.session import WebUser, services_of

ServicesDep = Annotated[Services, Depends(services_of)]


class NoSuch(LookupError):
    """Not there, or not for this user to know of: the two must read the same."""


def touch(request: Request, obj: str, event: str | None = None, purpose: str = "") -> None:
    """Name what a page touched (and why) for its audit record."""
    request.state.audit_object = obj
    if event:
        request.state.audit_event = event
    if purpose:
        request.state.purpose = purpose


def case_resource(session: Session, case: Case) -> Resource:
    """The case with the partners it is shared with (joint investigations)."""
    from cvis.fusion.shares import case_resource as shared_case

    return shared_case(session, case)


def require_right(user: WebUser, right: str, kind: str) -> None:
    """Refuse (403) a role without the right before looking anything up, so the refusal
    says nothing about whether the thing asked for exists."""
    if not user.may(right):
        policy.require(user.actor, right, Resource(kind))


def load_case(session: Session, user: WebUser, number: str, right: str) -> Case:
    """The case, if the policy lets this user exercise ``right`` on it; else "no such case"."""
    require_right(user, right, "case")
    try:
        case = get_case(session, number)
        policy.require(user.actor, right, case_resource(session, case))
    except (CaseError, NotVisible):
        raise NoSuch(f"There is no case numbered {number!r} that you can see.") from None
    return case


def visible_cases(session: Session, user: WebUser, right: str) -> list[Case]:
    cases = session.scalars(select(Case).order_by(Case.number))
    return [c for c in cases if policy.decide(user.actor, right, case_resource(session, c)).allowed]
