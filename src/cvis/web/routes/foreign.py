"""Foreign work: screening hits to determine, notices, inbound requests, the complaints queue
and the annual report. Thin over `cvis.foreign` (every rule in `cvis.policy`).

A form post answers 303 (POST/redirect/GET). A step the record's state does not allow
(confirming a notice twice, reviewing a decided complaint) comes back to the page with
``?error=state``; a form filled wrongly is shown again with the reason (400).
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response

from cvis import policy
from cvis.accounts.roles import FOREIGN_CONFIRM, FOREIGN_READ, FOREIGN_WRITE
from cvis.foreign import annual, notices, queues
from cvis.foreign.access import REPORT
from cvis.foreign.travel import answer_inbound, determine
from cvis.policy import Resource
from cvis.web.render import page, see_other
from cvis.web.routes.common import ServicesDep, require_right, touch
from cvis.web.session import FormUserDep, UserDep, WebUser

router = APIRouter(prefix="/foreign")
DONE = {
    "determined": "Determination recorded.",
    "confirmed": "Notice confirmed and signed.",
    "sent": "Notice sent.",
    "unsent": "The notice could not be delivered; every attempt is listed below.",
    "received": "Receipt recorded.",
    "answered": "Answer recorded.",
    "approved": "Answer approved.",
    "reviewed": "Complaint decided; the letter to the person is written.",
    "attached": "Complaint tied to the notice.",
}
ERRORS = {
    "state": "That step is not open for this record in its present state (shown below).",
    "smtp": "No mail relay is set for the web application (CVIS_SMTP_HOST): send the "
            "notice with `cvis notice send`.",
}
NOTICE_ACTIONS = {"confirm": FOREIGN_CONFIRM, "send": FOREIGN_WRITE,
                  "received": FOREIGN_WRITE, "answered": FOREIGN_WRITE}
COMPLAINT_ACTIONS = {"review": FOREIGN_CONFIRM, "attach": FOREIGN_WRITE}
FORMATS = {"pdf": "application/pdf", "json": "application/json"}


def _flash(done: str, error: str) -> dict[str, Any]:
    return {"notice": DONE.get(done, ""), "error": ERRORS.get(error, "")}


def _reader(request: Request, user: WebUser, obj: str, event: str, kind: str) -> None:
    touch(request, obj, event, purpose="foreign notices")
    require_right(user, FOREIGN_READ, kind)


async def _form(request: Request) -> dict[str, str]:
    return {k: str(v) for k, v in (await request.form()).items() if isinstance(v, str)}


def _download(body: bytes, media_type: str, name: str) -> Response:
    return Response(body, media_type=media_type,
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


@router.get("")
def hits(request: Request, services: ServicesDep, user: UserDep,
         done: str = "", error: str = "") -> Response:
    """Travellers with candidates that no analyst has determined yet, soonest first."""
    _reader(request, user, "foreign:hits", "web.foreign.hits", "screening")
    rows = queues.pending_hits(services.store, user.actor)
    return page(request, "foreign/hits.html", user, title="Screening hits", hits=rows,
                **_flash(done, error))


@router.get("/travellers/{traveller_id}")
def traveller(request: Request, services: ServicesDep, user: UserDep, traveller_id: int,
              done: str = "", error: str = "") -> Response:
    _reader(request, user, f"traveller:{traveller_id}", "web.foreign.traveller", "screening")
    view = queues.traveller_view(services.store, user.actor, traveller_id)
    return page(request, "foreign/traveller.html", user, title=f"Traveller {traveller_id}",
                t=view, form={}, may_write=user.may(FOREIGN_WRITE), **_flash(done, error))


@router.post("/travellers/{traveller_id}")
async def traveller_determine(request: Request, services: ServicesDep, user: FormUserDep,
                              traveller_id: int) -> Response:
    """The analyst's determination; a covered traveller to notify gets a draft notice."""
    touch(request, f"traveller:{traveller_id}", "web.foreign.determine",
          purpose="foreign notices")
    require_right(user, FOREIGN_WRITE, "screening")
    form = await _form(request)
    covered, notify = form.get("covered") == "yes", form.get("notify") == "1"
    try:
        det = determine(services.store, user.actor, traveller_id, form.get("registry_id", ""),
                        covered=covered, basis=form.get("basis", ""), notify=notify,
                        no_notice_reason=form.get("no_notice_reason", ""))
    except ValueError as exc:
        view = queues.traveller_view(services.store, user.actor, traveller_id)
        return page(request, "foreign/traveller.html", user, title=f"Traveller {traveller_id}",
                    t=view, form=form, may_write=True, error=str(exc), http_status=400)
    if covered and notify:
        notice_id = notices.draft_traveller_notice(services.store, user.actor, det)
        return see_other(f"/foreign/notices/{notice_id}?done=determined")
    return see_other(f"/foreign/travellers/{traveller_id}?done=determined")


@router.get("/notices")
def notice_list(request: Request, services: ServicesDep, user: UserDep,
                status: Annotated[str, Query(pattern="^(|draft|confirmed|sent|failed|"
                                                     "corrected)$")] = "") -> Response:
    _reader(request, user, f"notices status={status!r}", "web.foreign.notices", "notice")
    rows = notices.list_notices(services.store, user.actor, status or None)
    return page(request, "foreign/notices.html", user, title="Notices", notices=rows,
                status=status)


@router.get("/notices/{notice_id}")
def notice_page(request: Request, services: ServicesDep, user: UserDep, notice_id: int,
                done: str = "", error: str = "") -> Response:
    _reader(request, user, f"notice:{notice_id}", "web.foreign.notice", "notice")
    view = queues.notice_view(services.store, user.actor, notice_id)
    return page(request, "foreign/notice.html", user, title=f"Notice N-{notice_id}", n=view,
                may_write=user.may(FOREIGN_WRITE), may_confirm=user.may(FOREIGN_CONFIRM),
                smtp=queues.smtp_from_env() is not None, **_flash(done, error))


@router.get("/notices/{notice_id}/notice.{format}")
def notice_download(request: Request, services: ServicesDep, user: UserDep, notice_id: int,
                    format: str) -> Response:
    """The notice for people (PDF) or machines (JSON signed with Ed25519)."""
    if format not in FORMATS:
        raise LookupError(f"No notice format {format!r}: choose pdf or json.")
    _reader(request, user, f"notice:{notice_id} format:{format}", "web.foreign.download",
            "notice")
    try:
        body = queues.notice_file(services.store, user.actor, notice_id, format)
    except notices.NoticeError:
        return see_other(f"/foreign/notices/{notice_id}?error=state")
    return _download(body, FORMATS[format], f"N-{notice_id}.{format}")


@router.post("/notices/{notice_id}")
async def notice_action(request: Request, services: ServicesDep, user: FormUserDep,
                        notice_id: int) -> Response:
    form = await _form(request)
    action = form.get("action", "")
    if action not in NOTICE_ACTIONS:
        raise LookupError(f"No notice action {action!r}.")
    touch(request, f"notice:{notice_id} action:{action}", f"web.foreign.notice.{action}",
          purpose="foreign notices")
    require_right(user, NOTICE_ACTIONS[action], "notice")
    back = f"/foreign/notices/{notice_id}"
    try:
        if action == "confirm":
            notices.confirm(services.store, user.actor, notice_id)
            return see_other(f"{back}?done=confirmed")
        if action == "send":
            smtp = queues.smtp_from_env()
            if smtp is None:
                queues.notice_view(services.store, user.actor, notice_id)  # may they see it?
                return see_other(f"{back}?error=smtp")
            sent = notices.send(services.store, user.actor, notice_id, smtp)
            return see_other(f"{back}?done={'sent' if sent else 'unsent'}")
        notices.mark(services.store, user.actor, notice_id, action)
        return see_other(f"{back}?done={action}")
    except notices.NoticeError:
        return see_other(f"{back}?error=state")


@router.get("/inbound")
def inbound_list(request: Request, services: ServicesDep, user: UserDep) -> Response:
    _reader(request, user, "inbound", "web.foreign.inbound", "inbound")
    rows = queues.inbound_list(services.store, user.actor)
    return page(request, "foreign/inbound.html", user, title="Inbound requests", requests=rows)


@router.get("/inbound/{request_id}")
def inbound_page(request: Request, services: ServicesDep, user: UserDep, request_id: int,
                 done: str = "", error: str = "") -> Response:
    _reader(request, user, f"inbound:{request_id}", "web.foreign.inbound.show", "inbound")
    view = queues.inbound_view(services.store, user.actor, request_id)
    return page(request, "foreign/inbound_request.html", user,
                title=f"Inbound request {view['reference']}", r=view,
                may_confirm=user.may(FOREIGN_CONFIRM), **_flash(done, error))


@router.post("/inbound/{request_id}")
async def inbound_answer(request: Request, services: ServicesDep, user: FormUserDep,
                         request_id: int) -> Response:
    """The approval step: an officer approves what goes back to the foreign government."""
    touch(request, f"inbound:{request_id}", "web.foreign.inbound.answer",
          purpose="foreign notices")
    require_right(user, FOREIGN_CONFIRM, "inbound")
    form = await _form(request)
    basis = form.get("basis", "").strip()
    back = f"/foreign/inbound/{request_id}"
    if not basis:
        view = queues.inbound_view(services.store, user.actor, request_id)
        return page(request, "foreign/inbound_request.html", user,
                    title=f"Inbound request {view['reference']}", r=view, may_confirm=True,
                    error="An answer states its basis.", http_status=400)
    try:
        answer_inbound(services.store, user.actor, request_id,
                       covered=form.get("covered") == "yes", basis=basis)
    except ValueError:
        return see_other(f"{back}?error=state")
    return see_other(f"{back}?done=approved")


@router.get("/complaints")
def complaint_queue(request: Request, services: ServicesDep, user: UserDep) -> Response:
    _reader(request, user, "complaints", "web.foreign.complaints", "complaint")
    rows = queues.complaint_queue(services.store, user.actor)
    return page(request, "foreign/complaints.html", user, title="Complaints", complaints=rows,
                overdue=sum(1 for r in rows if r["overdue"]))


@router.get("/complaints/{complaint_id}")
def complaint_page(request: Request, services: ServicesDep, user: UserDep, complaint_id: int,
                   done: str = "", error: str = "") -> Response:
    _reader(request, user, f"complaint:{complaint_id}", "web.foreign.complaint", "complaint")
    view = queues.complaint_view(services.store, user.actor, complaint_id)
    return page(request, "foreign/complaint.html", user, title=f"Complaint C-{complaint_id}",
                c=view, form={}, may_write=user.may(FOREIGN_WRITE),
                may_confirm=user.may(FOREIGN_CONFIRM), **_flash(done, error))


@router.get("/complaints/{complaint_id}/letter.pdf")
def complaint_letter(request: Request, services: ServicesDep, user: UserDep,
                     complaint_id: int) -> Response:
    _reader(request, user, f"complaint:{complaint_id} letter", "web.foreign.letter",
            "complaint")
    body = queues.letter_file(services.store, user.actor, complaint_id)
    return _download(body, "application/pdf", f"C-{complaint_id}-letter.pdf")


@router.post("/complaints/{complaint_id}")
async def complaint_action(request: Request, services: ServicesDep, user: FormUserDep,
                           complaint_id: int) -> Response:
    """Tie the complaint to its notice, or decide it: upheld means a correction to the
    country at once, the records fixed, the letter, and the action against recurrence."""
    form = await _form(request)
    action = form.get("action", "")
    if action not in COMPLAINT_ACTIONS:
        raise LookupError(f"No complaint action {action!r}.")
    touch(request, f"complaint:{complaint_id} action:{action}",
          f"web.foreign.complaint.{action}", purpose="redress")
    require_right(user, COMPLAINT_ACTIONS[action], "complaint")
    back = f"/foreign/complaints/{complaint_id}"
    try:
        if action == "attach":
            number = form.get("notice", "").strip().upper().removeprefix("N-")
            if not number.isdigit():
                return _complaint_again(request, services, user, complaint_id, form,
                                        "Give the notice's number, as N-12.")
            queues.attach_notice(services.store, user.actor, complaint_id, int(number))
            return see_other(f"{back}?done=attached")
        upheld = form.get("upheld") == "yes"
        if not form.get("explanation", "").strip() or (
                upheld and not form.get("prevention", "").strip()):
            return _complaint_again(request, services, user, complaint_id, form,
                                    "A decision gives the person an explanation; an upheld "
                                    "complaint also records the action against recurrence.")
        notices.review_complaint(services.store, user.actor, complaint_id, upheld=upheld,
                                 explanation=form["explanation"].strip(),
                                 prevention=form.get("prevention", "").strip(),
                                 smtp=queues.smtp_from_env())
    except notices.NoticeError:
        return see_other(f"{back}?error=state")
    return see_other(f"{back}?done=reviewed")


def _complaint_again(request: Request, services: ServicesDep, user: WebUser,
                     complaint_id: int, form: dict[str, Any], error: str) -> Response:
    view = queues.complaint_view(services.store, user.actor, complaint_id)
    return page(request, "foreign/complaint.html", user, title=f"Complaint C-{complaint_id}",
                c=view, form=form, may_write=user.may(FOREIGN_WRITE),
                may_confirm=user.may(FOREIGN_CONFIRM), error=error, http_status=400)


def _require_report(user: WebUser, year: int) -> None:
    require_right(user, FOREIGN_READ, REPORT)
    policy.require(user.actor, FOREIGN_READ, Resource(REPORT, year))


@router.get("/report")
def report_page(request: Request, services: ServicesDep, user: UserDep,
                year: Annotated[int, Query(ge=2000, le=2100)] = 0) -> Response:
    from cvis.fusion.common import now

    year = year or now().year
    touch(request, f"foreign-report:{year}", "web.foreign.report", purpose="foreign notices")
    _require_report(user, year)
    figures = annual.annual_figures(services.store, year)
    return page(request, "foreign/report.html", user, title=f"Annual report {year}",
                f=figures, year=year)


@router.get("/report/{year}.{format}")
def report_download(request: Request, services: ServicesDep, user: UserDep, year: int,
                    format: str) -> Response:
    """The annual report as PDF (with plots) or JSON."""
    if format not in FORMATS or not 2000 <= year <= 2100:
        raise LookupError(f"No report {year}.{format}: choose a year and pdf or json.")
    touch(request, f"foreign-report:{year} format:{format}", "web.foreign.report.download",
          purpose="foreign notices")
    _require_report(user, year)
    if format == "json":
        body = json.dumps(annual.annual_json(services.store, user.actor, year), indent=2)
        return _download(body.encode(), FORMATS[format], f"foreign-{year}.json")
    with tempfile.TemporaryDirectory() as folder:
        annual.annual_report(services.store, user.actor, year, Path(folder))
        pdf = (Path(folder) / f"foreign-{year}.pdf").read_bytes()
    return _download(pdf, FORMATS[format], f"foreign-{year}.pdf")
