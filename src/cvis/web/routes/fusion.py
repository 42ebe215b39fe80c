"""Intelligence fusion pages: targets per office, a subject's record, work queues, releases
and detainers, the monthly report and the 30-day high-priority list.

Thin over cvis.fusion (every call asks the policy and is audited there); a form posts and
comes back to its page (POST/redirect/GET), a refusal the service explains is shown on it.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Query, Request, Response
from reportlab.graphics import renderSVG

from cvis.accounts.roles import FOREIGN_CONFIRM, FUSION_READ, FUSION_WRITE
from cvis.api.services import Services
from cvis.fusion import queues, service, shares, views
from cvis.fusion.report import bar_chart
from cvis.linkage.state import DB_FILE
from cvis.web.render import page, see_other
from cvis.web.routes.common import ServicesDep, require_right, touch
from cvis.web.routes.links import state_dir as linkage_state_dir
from cvis.web.session import FormUserDep, UserDep

router = APIRouter()
Office = Annotated[str, Query(max_length=100)]
Error = Annotated[str, Query(max_length=300)]
Notice = Annotated[str, Query(max_length=300)]
PLOTS = {"links": ("Links: new, changed, ended", "link_changes"),
         "tiers": ("Targets by tier", "targets_by_tier"),
         "outcomes": ("Outcomes recorded", "outcomes"),
         "detainers": ("Detainers by status", "detainers")}


def back(url: str, error: str = "", notice: str = "") -> Response:
    """To the page, carrying what happened (a refusal the service explained, or a notice)."""
    extra = {k: v for k, v in (("error", error), ("notice", notice)) if v}
    sep = "&" if "?" in url else "?"
    return see_other(f"{url}{sep}{urlencode(extra)}" if extra else url)


def failed(request: Request, exc: Exception) -> str:
    request.state.audit_outcome = "failure"
    return str(exc)


# ---------------------------------------------------------------------- targets


@router.get("/targets")
def target_list(request: Request, services: ServicesDep, user: UserDep,
                office: Office = "") -> Response:
    touch(request, f"targets office:{office or '*'}", "web.targets")
    require_right(user, FUSION_READ, "target")
    targets = service.list_targets(services.store, user.actor, office or None, date.today())
    by_office: dict[str, list[service.Target]] = {}
    for target in targets:
        by_office.setdefault(target.office or "no office", []).append(target)
    return page(request, "fusion/targets.html", user, title="Targets", by_office=by_office,
                office=office, offices=views.offices_seen(services.store, user.actor),
                count=len(targets), version=targets[0].config_version if targets else "")


@router.get("/targets/high-priority")
def high_priority(request: Request, services: ServicesDep, user: UserDep,
                  error: Error = "", notice: Notice = "") -> Response:
    """The 30-day high-priority suspect list, and to whom each entry is shared."""
    touch(request, "targets high-priority", "web.targets.high_priority")
    require_right(user, FUSION_READ, "target")
    listed = [t for t in service.list_targets(services.store, user.actor, None, date.today())
              if t.tier in queues.HIGH_PRIORITY_TIERS]
    shared = views.high_priority_shares(services.store, user.actor,
                                        [t.subject_id for t in listed])
    return page(request, "fusion/high_priority.html", user, title="30-day high-priority list",
                targets=listed, shared=shared, may_share=user.may(FUSION_WRITE),
                error=error, notice=notice)


@router.post("/targets/high-priority/share")
def share_high_priority(request: Request, services: ServicesDep, user: FormUserDep,
                        partners: Annotated[str, Form(max_length=1000)],
                        purpose: Annotated[str, Form(max_length=1000)]) -> Response:
    touch(request, f"targets high-priority share:{partners}", "web.targets.share",
          purpose=purpose)
    require_right(user, FUSION_WRITE, "target")
    names = sorted({p.strip() for p in partners.split(",") if p.strip()})
    if not names or not purpose.strip():
        return back("/targets/high-priority", failed(request, ValueError(
            "Name at least one partner agency and say why they need to know.")))
    listed = queues.share_high_priority(services.store, user.actor, names, date.today(),
                                        purpose.strip())
    return back("/targets/high-priority",
                notice=f"Shared {len(listed)} target(s) with {', '.join(names)}.")


# ---------------------------------------------------------------------- subjects


def _subject_url(subject_id: str) -> str:
    return f"/subjects/{subject_id}"


@router.get("/subjects/{subject_id}")
def subject_page(request: Request, services: ServicesDep, user: UserDep, subject_id: str,
                 error: Error = "", notice: Notice = "") -> Response:
    touch(request, f"subject:{subject_id}", "web.subject", purpose=f"subject {subject_id}")
    require_right(user, FUSION_READ, "subject")
    record = views.subject_record(services.store, user.actor, subject_id, date.today())
    return page(request, "fusion/subject.html", user, title=f"Subject {subject_id}",
                record=record, view=record.subject, outcomes=queues.OUTCOMES,
                rights=shares.RIGHTS["subject"], error=error, notice=notice)


@router.post("/subjects/{subject_id}/merges/{merge_id}")
def merge_action(request: Request, services: ServicesDep, user: FormUserDep, subject_id: str,
                 merge_id: int,
                 action: Annotated[str, Form(pattern="^(confirm|reject|undo)$")]) -> Response:
    touch(request, f"subject:{subject_id} merge:{merge_id} {action}", f"web.merge.{action}")
    require_right(user, FUSION_WRITE, "subject")
    try:
        status = service.decide_merge(services.store, user.actor, merge_id, action)
    except ValueError as exc:
        return back(_subject_url(subject_id), failed(request, exc))
    return back(_subject_url(subject_id), notice=f"Merge {merge_id}: {status}.")


@router.post("/subjects/{subject_id}/assign")
def assign(request: Request, services: ServicesDep, user: FormUserDep, subject_id: str,
           office: Annotated[str, Form(min_length=1, max_length=100)],
           team: Annotated[str, Form(max_length=100)] = "",
           assignee: Annotated[str, Form(max_length=200)] = "",
           link: Annotated[str, Form(max_length=100)] = "") -> Response:
    touch(request, f"subject:{subject_id} assign office:{office}", "web.queue.assign")
    require_right(user, FUSION_WRITE, "assignment")
    job = queues.assign(services.store, user.actor, subject_id, office.strip(), team.strip(),
                        assignee.strip(), link.strip())
    return back(_subject_url(subject_id), notice=f"Assignment {job} is in {office}'s queue.")


@router.post("/subjects/{subject_id}/shares")
def share_subject(request: Request, services: ServicesDep, user: FormUserDep, subject_id: str,
                  partner: Annotated[str, Form(max_length=200)],
                  purpose: Annotated[str, Form(max_length=1000)],
                  rights: Annotated[list[str] | None, Form()] = None) -> Response:
    touch(request, f"subject:{subject_id} share partner:{partner}", "web.subject.share",
          purpose=purpose)
    require_right(user, FUSION_WRITE, "subject")
    try:
        share_id = shares.share(services.store, user.actor, "subject", subject_id, partner,
                                rights or ["read"], purpose)
    except shares.ShareError as exc:
        return back(_subject_url(subject_id), failed(request, exc))
    return back(_subject_url(subject_id), notice=f"Share {share_id} with {partner.strip()}.")


@router.post("/shares/{share_id}/revoke")
def revoke_share(request: Request, services: ServicesDep, user: FormUserDep, share_id: int,
                 reason: Annotated[str, Form(max_length=1000)] = "") -> Response:
    touch(request, f"share:{share_id} revoke", "web.share.revoke", purpose=reason)
    require_right(user, FUSION_WRITE, "subject")
    try:
        ended = shares.revoke(services.store, user.actor, share_id, reason)
    except shares.ShareError as exc:
        return back("/targets", failed(request, exc))
    return back(_subject_url(ended.ref), notice=f"Share {share_id} with {ended.partner} ended.")


# ---------------------------------------------------------------------- queues


@router.get("/queues")
def queue_page(request: Request, services: ServicesDep, user: UserDep, office: Office = "",
               error: Error = "", notice: Notice = "") -> Response:
    touch(request, f"queues office:{office or '*'}", "web.queues")
    require_right(user, FUSION_READ, "assignment")
    rows, closed = views.queue_rows(services.store, user.actor, office or None)
    grouped: dict[tuple[str, str], list[views.AssignmentView]] = {}
    for row in rows:
        grouped.setdefault((row.office, row.team), []).append(row)
    return page(request, "fusion/queues.html", user, title="Work queues", grouped=grouped,
                closed=closed[-20:], office=office,
                offices=views.offices_seen(services.store, user.actor),
                outcomes=queues.OUTCOMES, may_write=user.may(FUSION_WRITE), error=error,
                notice=notice)


def _queue_url(office: str) -> str:
    return f"/queues?{urlencode({'office': office})}" if office else "/queues"


@router.post("/queues/{assignment_id}/accept")
def accept(request: Request, services: ServicesDep, user: FormUserDep, assignment_id: int,
           office: Annotated[str, Form(max_length=100)] = "") -> Response:
    touch(request, f"assignment:{assignment_id} accept", "web.queue.accept")
    require_right(user, FUSION_WRITE, "assignment")
    try:
        queues.accept(services.store, user.actor, assignment_id)
    except queues.QueueError as exc:
        return back(_queue_url(office), failed(request, exc))
    return back(_queue_url(office), notice=f"Assignment {assignment_id} accepted.")


@router.post("/queues/{assignment_id}/outcome")
def outcome(request: Request, services: ServicesDep, user: FormUserDep, assignment_id: int,
            result: Annotated[str, Form(max_length=30)],
            note: Annotated[str, Form(max_length=2000)] = "",
            office: Annotated[str, Form(max_length=100)] = "") -> Response:
    """Close an assignment; "wrong person" retracts the link's facts and reopens the link."""
    touch(request, f"assignment:{assignment_id} outcome:{result}", "web.queue.outcome")
    require_right(user, FUSION_WRITE, "assignment")
    state = _linkage_state(services)
    try:
        status = queues.record_outcome(services.store, user.actor, assignment_id, result,
                                       note, state_dir=state)
    except queues.QueueError as exc:
        return back(_queue_url(office), failed(request, exc))
    if result == "wrong_person" and state is None:
        status += (" (the link's facts are retracted; this server holds no linkage state, "
                   "so reopen the link for review where the linkage ran)")
    return back(_queue_url(office), notice=f"Assignment {assignment_id}: {status}.")


def _linkage_state(services: Services) -> Path | None:
    """The deployment's linkage state, as the link review pages use it (where a
    wrong-person link goes back to review); None when there is none."""
    state = linkage_state_dir(services)
    return state if (state / DB_FILE).exists() else None


# ---------------------------------------------------------------------- releases and detainers


@router.get("/releases")
def releases(request: Request, services: ServicesDep, user: UserDep) -> Response:
    touch(request, "releases", "web.releases")
    require_right(user, FUSION_READ, "detainer")
    rows = views.detainers(services.store, user.actor, date.today())
    return page(request, "fusion/releases.html", user, title="Releases and detainers",
                rows=rows)


@router.get("/detainers/{detainer_id}")
def detainer_page(request: Request, services: ServicesDep, user: UserDep, detainer_id: int,
                  error: Error = "", notice: Notice = "") -> Response:
    touch(request, f"detainer:{detainer_id}", "web.detainer")
    require_right(user, FUSION_READ, "detainer")
    row = views.detainer(services.store, user.actor, detainer_id, date.today())
    nexts = _next_states(row.status)
    return page(request, "fusion/detainer.html", user, title=f"Detainer {detainer_id}", d=row,
                nexts=nexts, may_confirm=user.may(FOREIGN_CONFIRM), error=error,
                notice=notice)


def _next_states(status: str) -> list[str]:
    if status == "draft":
        return ["signed"]
    if status == "signed":
        return ["lodged", "released_before_action"]
    if status == "lodged":
        return ["honoured", "declined", "released_before_action"]
    return []


@router.post("/detainers/{detainer_id}")
def detainer_status(request: Request, services: ServicesDep, user: FormUserDep,
                    detainer_id: int,
                    status: Annotated[str, Form(max_length=30)]) -> Response:
    """An officer signs the draft, then records what became of it."""
    touch(request, f"detainer:{detainer_id} {status}", f"web.detainer.{status}")
    require_right(user, FOREIGN_CONFIRM, "detainer")
    url = f"/detainers/{detainer_id}"
    try:
        queues.set_detainer(services.store, user.actor, detainer_id, status)
    except queues.QueueError as exc:
        return back(url, failed(request, exc))
    return back(url, notice=f"Detainer {detainer_id}: {status.replace('_', ' ')}.")


# ---------------------------------------------------------------------- the monthly report


@router.get("/months")
def months(request: Request, services: ServicesDep, user: UserDep) -> Response:
    touch(request, "months", "web.months")
    require_right(user, FUSION_READ, "fusion_month")
    listed = views.month_reports(services.store, user.actor)
    if listed:
        return see_other(f"/months/{listed[0][0]}")
    return page(request, "fusion/month.html", user, title="Monthly report", summary=None,
                months=listed)


@router.get("/months/{period}")
def month_page(request: Request, services: ServicesDep, user: UserDep,
               period: str) -> Response:
    touch(request, f"month:{period}", "web.month")
    require_right(user, FUSION_READ, "fusion_month")
    summary, listed = views.month_report(services.store, user.actor, period)
    return page(request, "fusion/month.html", user, title=f"Monthly report {period}",
                summary=summary, months=listed, plots=PLOTS)


@router.get("/months/{period}/plots/{plot}.svg")
def month_plot(request: Request, services: ServicesDep, user: UserDep, period: str,
               plot: str) -> Response:
    """One of the month's plots, drawn from its summary (counts only, no person named)."""
    touch(request, f"month:{period} plot:{plot}", "web.month.plot")
    require_right(user, FUSION_READ, "fusion_month")
    if plot not in PLOTS:
        raise LookupError(f"No plot {plot!r}.")
    summary = views.month_report(services.store, user.actor, period)[0]
    title, key = PLOTS[plot]
    svg = renderSVG.drawToString(bar_chart(title, summary.get(key) or {}))
    return Response(svg, media_type="image/svg+xml")


@router.get("/months/{period}/report.pdf")
def month_report_pdf(request: Request, services: ServicesDep, user: UserDep,
                     period: str) -> Response:
    touch(request, f"month:{period} pdf", "web.month.pdf")
    require_right(user, FUSION_READ, "fusion_month")
    summary = views.month_report(services.store, user.actor, period)[0]
    body = views.month_pdf_bytes(summary)
    return Response(body, media_type="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="month-{period}.pdf"'})
