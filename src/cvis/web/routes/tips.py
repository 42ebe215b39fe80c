"""The tip line in the analyst application: the call-taker console, the queues, a lead's page.

Thin over ``cvis.tips`` (intake, service, queues, messages): the policy decides which
leads a person sees and may change (``tips/access.py``), the services write the lead's
history and the audit record, and every page request is audited by the web app. Forms
post and come back (POST/redirect/GET); a refusal comes back as the page's error line.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Form, Query, Request, Response
from sqlalchemy.orm import Session

from cvis import policy
from cvis.accounts.roles import TIPS_INTAKE, TIPS_READ, TIPS_WRITE
from cvis.policy import Actor, Resource
from cvis.tips import messages, queues, service
from cvis.tips.intake import submit_tip
from cvis.tips.leads import LeadError
from cvis.tips.triage import TIERS
from cvis.tips.validate import NO_MEDIA, TipRejected, normalise_phone
from cvis.web.render import page, see_other
from cvis.web.routes.common import ServicesDep, require_right, touch
from cvis.web.session import FormUserDep, UserDep, WebUser

router = APIRouter()
Text = Annotated[str, Form(max_length=4000)]
Short = Annotated[str, Form(max_length=300)]
STATUSES = ("received", "triaged", "assigned", "accepted", "actioned", "closed")


@contextmanager
def _session(services: ServicesDep) -> Iterator[Session]:
    """A unit of work that knows its store's settings (the audit key is found from them)."""
    with services.store.session() as session:
        session.info["settings"] = services.store.settings
        yield session


def _lines(text: str) -> list[str]:
    return [p.strip() for p in text.replace(",", "\n").splitlines() if p.strip()]


def console_payload(form: dict[str, str]) -> dict[str, Any]:
    """The console's fields as the tip JSON every channel sends (validated by intake)."""
    anonymous = form.get("caller") == "anonymous"
    return {
        "channel": "phone",
        "immediate_danger": form.get("immediate_danger") == "yes",
        "narrative": form.get("narrative", ""),
        "anonymous": anonymous,
        "contact": "" if anonymous else form.get("caller_name", ""),
        "callback": "" if anonymous else form.get("callback", ""),
        "location": {k: form.get(k, "") for k in ("zip", "city", "state", "county", "address")},
        "subject": {"name": form.get("subject_name", ""), "dob": form.get("subject_dob", ""),
                    "aliases": _lines(form.get("subject_aliases", ""))},
        "urls": _lines(form.get("urls", "")),
        "accounts": _lines(form.get("accounts", "")),
        "idempotency_key": form.get("call_id", ""),
    }


def _console(request: Request, user: WebUser, *, form: dict[str, str] | None = None,
             error: str = "", result: dict[str, Any] | None = None, status: int = 200
             ) -> Response:
    form = form or {}
    if not form.get("call_id"):
        form["call_id"] = f"console-{uuid.uuid4()}"  # a second press of Submit is one tip
    return page(request, "tips/console.html", user, title="Take a call", form=form,
                error=error, result=result, no_media=NO_MEDIA, http_status=status)


@router.get("/tips/console")
def console(request: Request, user: UserDep) -> Response:
    touch(request, "tip console", "web.tips.console")
    policy.require(user.actor, TIPS_INTAKE, Resource("tip-intake"))
    return _console(request, user)


@router.post("/tips/console")
async def console_submit(request: Request, services: ServicesDep, user: FormUserDep) -> Response:
    """Take the call: the tip goes through the same intake as every channel; the page shows
    the receipt (and, for an anonymous caller, the passphrase, once), the tier and the office."""
    touch(request, "tip console submit", "web.tips.submit", purpose="tip intake")
    policy.require(user.actor, TIPS_INTAKE, Resource("tip-intake"))
    raw = await request.form()
    form = {k: str(v)[:20_000] for k, v in raw.items() if k != "csrf" and isinstance(v, str)}
    try:
        with _session(services) as session:
            result = submit_tip(session, console_payload(form), channel="phone",
                                actor=user.actor, limiter=None,
                                index_dir=services.store.settings.index_dir)
        callback = "" if form.get("caller") == "anonymous" else \
            normalise_phone(form.get("callback", ""))
    except TipRejected as exc:
        request.state.audit_outcome = "failure"
        return _console(request, user, form=form, error=str(exc), status=400)
    touch(request, f"tip:{result['tip_id']} lead:{result['lead_id']}")
    return _console(request, user, result=result | {"callback": callback})


@router.get("/leads")
def lead_queue(
    request: Request, services: ServicesDep, user: UserDep,
    office: Annotated[str, Query(max_length=100)] = "",
    tier: Annotated[str, Query(pattern="^(|IMMEDIATE|URGENT|STANDARD|MONITOR|PAUSED)$")] = "",
    status: Annotated[str, Query(pattern="^(|received|triaged|assigned|accepted|actioned"
                                         "|closed)$")] = "",
    overdue: Annotated[int, Query(ge=0, le=1)] = 0,
) -> Response:
    """The leads this person may see, by office and tier, overdue first."""
    touch(request, f"leads office:{office or '*'} tier:{tier or '*'}", "web.tips.queue")
    require_right(user, TIPS_READ, "lead")
    with _session(services) as session:
        rows = queues.queue(session, user.actor, office=office, tier=tier, status=status,
                            overdue_only=bool(overdue))
        offices = queues.offices(session)
    return page(request, "tips/queue.html", user, title="Tip line leads", rows=rows,
                offices=offices, tiers=TIERS, statuses=STATUSES, office=office, tier=tier,
                status=status, overdue=overdue, block="results")


@router.get("/leads/{lead_id}")
def lead_view(
    request: Request, services: ServicesDep, user: UserDep, lead_id: int,
    error: Annotated[str, Query(max_length=300)] = "",
    notice: Annotated[str, Query(max_length=300)] = "",
) -> Response:
    touch(request, f"lead:{lead_id}", "web.tips.lead")
    require_right(user, TIPS_READ, "lead")
    with _session(services) as session:
        lead = queues.lead_page(session, user.actor, lead_id)
        offices = queues.offices(session)
    return page(request, "tips/lead.html", user, title=f"Lead {lead_id}", lead=lead,
                offices=offices, tiers=TIERS, may_write=lead["may_write"], error=error,
                notice=notice)


def _change(request: Request, services: ServicesDep, user: WebUser, lead_id: int,
            event: str, change: Callable[[Session, Actor], Any], done: str) -> Response:
    """Make one change through the service; back to the lead with what happened."""
    touch(request, f"lead:{lead_id}", f"web.tips.{event}")
    require_right(user, TIPS_WRITE, "lead")
    try:
        with _session(services) as session:
            change(session, user.actor)
    except (LeadError, TipRejected) as exc:
        request.state.audit_outcome = "failure"
        return see_other(f"/leads/{lead_id}?error={quote(str(exc)[:300])}")
    return see_other(f"/leads/{lead_id}?notice={quote(done)}")


@router.post("/leads/{lead_id}/tier")
def lead_tier(request: Request, services: ServicesDep, user: FormUserDep, lead_id: int,
              tier: Annotated[str, Form(pattern="^(computed|IMMEDIATE|URGENT|STANDARD|MONITOR"
                                                "|PAUSED)$")],
              reason: Text = "") -> Response:
    """A person sets the tier ("computed": back to the score's), with a reason."""
    chosen = None if tier == "computed" else tier
    return _change(request, services, user, lead_id, "tier",
                   lambda s, a: service.change_tier(s, a, lead_id, chosen, reason),
                   f"Tier set to {tier}.")


@router.post("/leads/{lead_id}/step")
def lead_step(request: Request, services: ServicesDep, user: FormUserDep, lead_id: int,
              step: Annotated[str, Form(pattern="^(assign|accept|action|close)$")],
              reason: Text = "", assignee: Short = "", outcome: Text = "") -> Response:
    """assign → accept → action → close (with an outcome), each with who, when and why."""
    return _change(request, services, user, lead_id, step,
                   lambda s, a: service.take_step(s, a, lead_id, step, reason,
                                                  assignee=assignee, outcome=outcome),
                   f"Lead {lead_id}: {step} recorded.")


@router.post("/leads/{lead_id}/route")
def lead_route(request: Request, services: ServicesDep, user: FormUserDep, lead_id: int,
               how: Annotated[str, Form(pattern="^(reroute|forward)$")],
               to: Short = "", reason: Text = "") -> Response:
    """Re-route to another office of this deployment, or forward to another agency."""
    change = service.reroute if how == "reroute" else service.forward
    return _change(request, services, user, lead_id, how,
                   lambda s, a: change(s, a, lead_id, to, reason),
                   f"Lead {lead_id} {'re-routed' if how == 'reroute' else 'forwarded'} to {to}.")


@router.post("/leads/{lead_id}/tips/{tip_id}/ask")
def lead_ask(request: Request, services: ServicesDep, user: FormUserDep, lead_id: int,
             tip_id: int, question: Annotated[str, Form(max_length=5000)] = "") -> Response:
    """A question to an anonymous tipster, who reads it with the receipt and passphrase."""
    def ask(session: Session, actor: Actor) -> None:
        if service.tip_lead(session, actor, tip_id).lead_id != lead_id:
            raise LeadError(f"tip {tip_id} is not attached to lead {lead_id}")
        messages.ask_tipster(session, actor, tip_id, question)

    return _change(request, services, user, lead_id, "ask", ask,
                   f"Question to the tipster of tip {tip_id} sent.")


@router.post("/leads/{lead_id}/candidates/{candidate_id}")
def lead_candidate(request: Request, services: ServicesDep, user: FormUserDep, lead_id: int,
                   candidate_id: int,
                   decision: Annotated[str, Form(pattern="^(confirm|reject)$")],
                   reason: Text = "") -> Response:
    """A person confirms (the leads merge) or rejects a resemblance between two leads."""
    return _change(request, services, user, lead_id, "candidate",
                   lambda s, a: service.decide_candidate(s, a, candidate_id,
                                                         decision == "confirm", reason),
                   f"Candidate {candidate_id}: {decision}ed.")
