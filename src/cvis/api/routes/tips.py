"""The tip line, internal: intake (call-takers, partners, SMS webhook) and the lead queues.

Every route asks the policy (``tips:intake``, ``tips:read``, ``tips:write`` on the lead);
a lead the caller may not see is "no such lead" (404). The public tip form is the
portal's (``cvis public serve``), which calls the same ``submit_tip``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path as FilePath
from tempfile import TemporaryDirectory
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, HTTPException, Path, Query, Request, Response
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from cvis import policy
from cvis.accounts.roles import TIPS_INTAKE, TIPS_READ, TIPS_WRITE
from cvis.accounts.service import Principal
from cvis.api.deps import ServicesDep, require, touch
from cvis.policy import AccessDenied, Actor
from cvis.policy.actors import from_principal
from cvis.tips import messages, report, service
from cvis.tips.intake import submit_tip
from cvis.tips.leads import LeadError, NoSuchLead
from cvis.tips.referral import parse_referral
from cvis.tips.sms import AUTH_TOKEN_ENV, signature_valid, sms_tip, twiml_message
from cvis.tips.validate import NO_MEDIA, TipRejected

router = APIRouter(tags=["tips"])
Intake = Annotated[Principal, Depends(require(TIPS_INTAKE))]
Reader = Annotated[Principal, Depends(require(TIPS_READ))]
Writer = Annotated[Principal, Depends(require(TIPS_WRITE))]
Id = Annotated[int, Path(ge=1, le=2**31 - 1, description="an id (32-bit, as stored)")]
CONSOLE_QUESTIONS = [
    {"field": "immediate_danger", "ask": "Is a child in danger now? (If yes: stay on the line; "
     "the lead is IMMEDIATE.)", "type": "boolean"},
    {"field": "narrative", "ask": "What happened, where, and when?", "type": "text"},
    {"field": "location", "ask": "Where is the child or the person? (ZIP, city, state, county, "
     "address)", "type": "location"},
    {"field": "subject", "ask": "Who is the person? (name, date of birth, other names)",
     "type": "subject"},
    {"field": "urls", "ask": "Web addresses, usernames or accounts involved?", "type": "list"},
    {"field": "anonymous", "ask": "May we call you back? (If not, give them the receipt and "
     "passphrase to read our questions.)", "type": "boolean"},
    {"field": "callback", "ask": "Call-back number", "type": "phone"},
]


@contextmanager
def _session(services: ServicesDep) -> Iterator[Session]:
    """A unit of work that knows its store's settings (the audit key is found from them)."""
    with services.store.session() as session:
        session.info["settings"] = services.store.settings
        yield session


def _actor(principal: Principal) -> Actor:
    return from_principal(principal)


def _fail(exc: Exception) -> HTTPException:
    if isinstance(exc, NoSuchLead):
        return HTTPException(404, str(exc))
    if isinstance(exc, AccessDenied):
        return HTTPException(403, str(exc))
    return HTTPException(400 if isinstance(exc, LeadError | TipRejected) else 500, str(exc))


def _refuse_uploads(request: Request) -> None:
    kind = request.headers.get("content-type", "")
    if kind.startswith(("multipart/", "image/", "video/", "application/octet-stream")):
        raise HTTPException(415, NO_MEDIA)


async def _json(request: Request) -> Any:
    _refuse_uploads(request)
    try:
        return json.loads(await request.body())
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise HTTPException(400, f"not a JSON tip: {exc}") from None


def _intake(services: ServicesDep, principal: Principal, payload: Any, channel: str | None,
            key: str | None) -> dict[str, Any]:
    actor = _actor(principal)
    try:
        policy.require(actor, TIPS_INTAKE, policy.Resource("tip-intake"))
    except AccessDenied as exc:
        raise _fail(exc) from None
    if key and isinstance(payload, dict):
        payload = payload | {"idempotency_key": key}
    try:
        with _session(services) as session:
            return submit_tip(session, payload, channel=channel, actor=actor, limiter=None,
                              index_dir=services.store.settings.index_dir)
    except TipRejected as exc:
        raise HTTPException(400, str(exc)) from None


@router.post("/tips", status_code=201)
async def submit_route(request: Request, services: ServicesDep, principal: Intake,
                       idempotency_key: Annotated[str | None, Header()] = None
                       ) -> dict[str, Any]:
    """A tip from the call-taker console (or any authenticated intake): the tip JSON."""
    payload = await _json(request)
    result = await run_in_threadpool(_intake, services, principal, payload, None,
                                     idempotency_key)
    touch(request, f"tip:{result['tip_id']}", "tips.submit")
    return result


@router.get("/tips/console")
def console_route(principal: Intake) -> dict[str, Any]:
    """The call-taker's guided form: the questions, in the order to ask them."""
    return {"channel": "phone", "questions": CONSOLE_QUESTIONS}


@router.post("/tips/referrals", status_code=201)
async def referral_route(request: Request, services: ServicesDep, principal: Intake,
                         idempotency_key: Annotated[str | None, Header()] = None
                         ) -> dict[str, Any]:
    """A partner's CyberTipline-style referral: XML (cvis schema) or JSON."""
    _refuse_uploads(request)
    body = await request.body()
    try:
        payload = parse_referral(body)
    except TipRejected as exc:
        raise HTTPException(400, str(exc)) from None
    result = await run_in_threadpool(_intake, services, principal, payload, "referral",
                                     idempotency_key)
    touch(request, f"tip:{result['tip_id']}", "tips.referral")
    return result


@router.post("/tips/sms")
async def sms_route(request: Request, services: ServicesDep,
                    x_twilio_signature: Annotated[str | None, Header()] = None) -> Response:
    """Twilio-compatible SMS webhook: accepted only with a valid X-Twilio-Signature."""
    form = {k: str(v) for k, v in (await request.form()).items()}
    url = os.environ.get("CVIS_TWILIO_WEBHOOK_URL") or str(request.url)
    if not signature_valid(os.environ.get(AUTH_TOKEN_ENV, ""), url, form,
                           x_twilio_signature or ""):
        request.state.audit_user = "sms-webhook"
        raise HTTPException(403, "the request is not signed by the SMS provider")
    request.state.audit_user = "sms-webhook"
    try:
        result = await run_in_threadpool(_sms_intake, services, form)
        text = (f"Thank you. Your tip is received; receipt {result['receipt']}. If a child is "
                "in danger now, call 911.")
    except TipRejected as exc:
        text = f"Your message could not be taken: {exc}"
    touch(request, "sms", "tips.sms")
    return Response(twiml_message(text), media_type="application/xml")


def _sms_intake(services: ServicesDep, form: dict[str, str]) -> dict[str, Any]:
    with _session(services) as session:
        return submit_tip(session, sms_tip(form), channel="sms", source=form.get("From", ""))


@router.get("/leads")
def list_route(request: Request, services: ServicesDep, principal: Reader,
               office: str | None = None, tier: str | None = None,
               status: str | None = None, overdue: bool = False) -> list[dict[str, Any]]:
    """Leads the caller may see (need-to-know by office), most urgent first."""
    touch(request, f"leads office:{office or '*'}", "leads.list")
    when = datetime.now(UTC) if overdue else None
    try:
        with _session(services) as session:
            return service.list_leads(session, _actor(principal), office=office, tier=tier,
                                      status=status, overdue_at=when)
    except LeadError as exc:
        raise _fail(exc) from None


@router.get("/leads/report.pdf")
def report_route(request: Request, services: ServicesDep, principal: Reader,
                 office: str | None = None,
                 week: Annotated[date | None, Query(description="Any day of the week")] = None
                 ) -> Response:
    """The weekly report (PDF) of an office, or national."""
    touch(request, f"report office:{office or 'national'}", "leads.report")
    with TemporaryDirectory() as folder, _session(services) as session:
        out = FilePath(folder) / "report.pdf"
        report.write_weekly(session, _actor(principal), out, office=office, day=week)
        return Response(out.read_bytes(), media_type="application/pdf")


@router.get("/leads/{lead_id}")
def show_route(request: Request, services: ServicesDep, principal: Reader,
               lead_id: Id) -> dict[str, Any]:
    touch(request, f"lead:{lead_id}", "leads.show")
    try:
        with _session(services) as session:
            return service.show_lead(session, _actor(principal), lead_id)
    except NoSuchLead as exc:
        raise _fail(exc) from None


class StepIn(BaseModel):
    step: str = Field(description="assign, accept, action or close")
    reason: str = Field("", max_length=4000)
    assignee: str = Field("", max_length=200)
    outcome: str = Field("", max_length=4000)


class ChangeIn(BaseModel):
    value: str | None = Field(None, max_length=200, description="tier, office or agency")
    reason: str = Field(max_length=4000)


def _change(services: ServicesDep, principal: Principal, fn: Any, *args: Any) -> Any:
    try:
        with _session(services) as session:
            return fn(session, _actor(principal), *args)
    except (NoSuchLead, LeadError, AccessDenied, TipRejected) as exc:
        raise _fail(exc) from None


@router.post("/leads/{lead_id}/steps")
def step_route(request: Request, services: ServicesDep, principal: Writer, lead_id: Id,
               body: StepIn) -> dict[str, Any]:
    """One step of the lead's life: assign → accept → action → close (with the outcome)."""
    touch(request, f"lead:{lead_id}", f"leads.{body.step}")
    result: dict[str, Any] = _change(
        services, principal,
        lambda s, a: service.take_step(s, a, lead_id, body.step, body.reason,
                                       assignee=body.assignee, outcome=body.outcome))
    return result


@router.post("/leads/{lead_id}/tier")
def tier_route(request: Request, services: ServicesDep, principal: Writer, lead_id: Id,
               body: ChangeIn) -> dict[str, Any]:
    """A person sets the tier (``value`` null: back to the computed tier), with a reason."""
    touch(request, f"lead:{lead_id}", "leads.tier")
    tier = body.value.upper() if body.value else None
    result: dict[str, Any] = _change(services, principal, service.change_tier, lead_id, tier,
                                     body.reason)
    return result


@router.post("/leads/{lead_id}/reroute")
def reroute_route(request: Request, services: ServicesDep, principal: Writer, lead_id: Id,
                  body: ChangeIn) -> dict[str, Any]:
    touch(request, f"lead:{lead_id}", "leads.reroute")
    result: dict[str, Any] = _change(services, principal, service.reroute, lead_id,
                                     body.value or "", body.reason)
    return result


@router.post("/leads/{lead_id}/forward")
def forward_route(request: Request, services: ServicesDep, principal: Writer, lead_id: Id,
                  body: ChangeIn) -> dict[str, Any]:
    touch(request, f"lead:{lead_id}", "leads.forward")
    result: dict[str, Any] = _change(services, principal, service.forward, lead_id,
                                     body.value or "", body.reason)
    return result


@router.post("/leads/candidates/{candidate_id}")
def candidate_route(request: Request, services: ServicesDep, principal: Writer,
                    candidate_id: Id, body: ChangeIn) -> dict[str, Any]:
    """Confirm (``value`` "confirm": the leads merge) or reject a resemblance."""
    touch(request, f"candidate:{candidate_id}", "leads.candidate")
    if body.value not in ("confirm", "reject"):
        raise HTTPException(400, "value must be confirm or reject")
    result: dict[str, Any] = _change(services, principal, service.decide_candidate,
                                     candidate_id, body.value == "confirm", body.reason)
    return result


class MessageIn(BaseModel):
    text: str = Field(max_length=5000)


@router.get("/tips/{tip_id}/messages")
def messages_route(request: Request, services: ServicesDep, principal: Reader,
                   tip_id: Id) -> list[dict[str, Any]]:
    touch(request, f"tip:{tip_id}", "tips.messages")

    def read(session: Any, actor: Actor) -> list[dict[str, Any]]:
        service.tip_lead(session, actor, tip_id)
        return service.message_rows(session, tip_id)

    result: list[dict[str, Any]] = _change(services, principal, read)
    return result


@router.post("/tips/{tip_id}/messages", status_code=201)
def ask_route(request: Request, services: ServicesDep, principal: Writer, tip_id: Id,
              body: MessageIn) -> dict[str, Any]:
    """Ask the anonymous tipster a question (they read it with receipt and passphrase)."""
    touch(request, f"tip:{tip_id}", "tips.ask")
    result: dict[str, Any] = _change(services, principal, messages.ask_tipster, tip_id,
                                     body.text)
    return result
