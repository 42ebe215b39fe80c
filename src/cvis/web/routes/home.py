"""Home: my cases, my review queue, deconfliction notices."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from sqlalchemy import select

from cvis.accounts.roles import CASES_READ
from cvis.cases.review import review_queue
from cvis.store.models import Case, DeconflictionNotice
from cvis.web.render import page
from cvis.web.routes.common import ServicesDep, touch, visible_cases
from cvis.web.session import UserDep

router = APIRouter()


@router.get("/")
def home(request: Request, services: ServicesDep, user: UserDep) -> Response:
    touch(request, "home")
    mine, queue, notices = [], [], []
    if user.may(CASES_READ):
        with services.store.session() as session:
            cases = visible_cases(session, user, CASES_READ)
            mine = [c for c in cases if user.name in (c.examiners or [])]
            for case in (c for c in cases if c.status == "open"):
                pending = len(review_queue(session, case.number))
                if pending:
                    queue.append({"case": case, "pending": pending})
            by_id = {c.id: c for c in cases}
            for notice, other in session.execute(
                select(DeconflictionNotice, Case)
                .join(Case, Case.id == DeconflictionNotice.other_case_id)
                .where(DeconflictionNotice.case_id.in_(list(by_id)))
                .order_by(DeconflictionNotice.id.desc())
            ):
                notices.append({"case": by_id[notice.case_id], "other": other,
                                "basis": notice.basis, "shared": notice.shared})
    return page(request, "home.html", user, title="Home", mine=mine, queue=queue,
                notices=notices)
