"""`cvis tip` (intake, referrals, anonymous messages) and `cvis lead` (queues, a lead's life)."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from sqlalchemy.orm import Session

from cvis.cli import render
from cvis.policy import AccessDenied, Actor
from cvis.policy.actors import local_operator
from cvis.store.db import Store
from cvis.tips import messages, report, service
from cvis.tips.intake import submit_tip
from cvis.tips.leads import LeadError, NoSuchLead
from cvis.tips.referral import parse_referral
from cvis.tips.scheduler import DeadlineScheduler, MailSettings
from cvis.tips.validate import TipRejected

tip_app = typer.Typer(help="The tip line: submit tips and referrals, talk with tipsters.",
                      no_args_is_help=True)
lead_app = typer.Typer(help="Leads: queues by office and tier, and each lead's life.",
                       no_args_is_help=True)
T = TypeVar("T")
Reason = Annotated[str, typer.Option("--reason", "-r", help="Why (kept in the history).")]
Jsonl = Annotated[Path | None, typer.Option(help="Write JSON lines here instead of stdout.")]


def _read(source: str) -> bytes:
    try:
        return sys.stdin.buffer.read() if source == "-" else Path(source).read_bytes()
    except OSError as exc:
        render.error(f"cannot read {source}: {exc.strerror}")
        raise typer.Exit(2) from None


@contextmanager
def _unit() -> Iterator[tuple[Session, Actor]]:
    """A unit of work as the local operator; refusals and bad steps exit cleanly."""
    store = Store()
    try:
        with store.session() as session:
            session.info["settings"] = store.settings
            yield session, local_operator()
    except TipRejected as exc:
        render.error(str(exc))
        raise typer.Exit(2) from None
    except (LeadError, NoSuchLead, AccessDenied) as exc:
        render.error(str(exc))
        raise typer.Exit(1) from None
    finally:
        store.dispose()


def _run(work: Callable[[Session, Actor], T]) -> T:
    with _unit() as (session, actor):
        return work(session, actor)


def _print(row: dict[str, Any]) -> None:
    render.write_jsonl([row], render.stdout())


@tip_app.command("submit")
def submit_command(
    source: Annotated[str, typer.Argument(help="A JSON tip file, or - for standard input.")],
) -> None:
    """Submit one tip (JSON); prints {"tip_id", "receipt", "lead_id", "tier", "office"}."""
    raw = _read(source)
    try:
        payload = json.loads(raw.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        render.error(f"{source}: not a JSON tip: {exc}")
        raise typer.Exit(2) from None
    _print(_run(lambda s, a: submit_tip(s, payload, actor=a, limiter=None)))


@tip_app.command("referral")
def referral_command(
    source: Annotated[str, typer.Argument(help="A partner referral, XML or JSON, or -.")],
) -> None:
    """Import one CyberTipline-style referral (XML validated against cvis's schema, or JSON)."""
    raw = _read(source)
    _print(_run(lambda s, a: submit_tip(s, parse_referral(raw), channel="referral", actor=a,
                                        limiter=None)))


@tip_app.command("ask")
def ask_command(
    tip_id: Annotated[int, typer.Argument(help="The anonymous tip.")],
    text: Annotated[str, typer.Argument(help="The question for the tipster.")],
) -> None:
    """Ask an anonymous tipster a question (they read it with their receipt)."""
    _print(_run(lambda s, a: messages.ask_tipster(s, a, tip_id, text)))


@tip_app.command("messages")
def messages_command(tip_id: Annotated[int, typer.Argument(help="The tip.")]) -> None:
    """The conversation with a tip's tipster."""
    def work(session: Session, actor: Actor) -> list[dict[str, Any]]:
        service.tip_lead(session, actor, tip_id)
        return service.message_rows(session, tip_id)
    render.write_jsonl(_run(work), render.stdout())


def _passphrase() -> str:
    return sys.stdin.readline().strip()


@tip_app.command("inbox")
def inbox_command(
    receipt: Annotated[str, typer.Argument(help="The tipster's receipt code.")],
) -> None:
    """As the tipster: read the questions (the passphrase is read from standard input)."""
    phrase = _passphrase()
    _print(_run(lambda s, _a: messages.tipster_messages(s, receipt, phrase)))


@tip_app.command("reply")
def reply_command(
    receipt: Annotated[str, typer.Argument(help="The tipster's receipt code.")],
    text: Annotated[str, typer.Argument(help="The answer.")],
) -> None:
    """As the tipster: answer (the passphrase is read from standard input)."""
    phrase = _passphrase()
    _print(_run(lambda s, _a: messages.tipster_reply(s, receipt, phrase, text)))


@lead_app.command("list")
def list_command(
    office: Annotated[str | None, typer.Option(help="Only this office's leads.")] = None,
    tier: Annotated[str | None, typer.Option(help="IMMEDIATE, URGENT, STANDARD, MONITOR, "
                                                  "PAUSED.")] = None,
    status: Annotated[str | None, typer.Option(help="received ... closed.")] = None,
    overdue: Annotated[bool, typer.Option(help="Only leads past a deadline.")] = False,
    jsonl: Jsonl = None,
) -> None:
    """One JSON line per lead, most urgent first: lead_id, tier, score, factors, office, ..."""
    when = datetime.now(UTC) if overdue else None
    rows = _run(lambda s, a: service.list_leads(s, a, office=office, tier=tier, status=status,
                                                overdue_at=when))
    with render.output_stream(jsonl) as out:
        render.write_jsonl(rows, out)


@lead_app.command("show")
def show_command(lead_id: Annotated[int, typer.Argument()]) -> None:
    """Everything about a lead: its tips, factors with their evidence, its history."""
    _print(_run(lambda s, a: service.show_lead(s, a, lead_id)))


def _step(step: str, lead_id: int, reason: str, assignee: str = "", outcome: str = "") -> None:
    _print(_run(lambda s, a: service.take_step(s, a, lead_id, step, reason, assignee=assignee,
                                               outcome=outcome)))


@lead_app.command("assign")
def assign_command(lead_id: int, to: Annotated[str, typer.Option(help="The person.")],
                   reason: Reason = "") -> None:
    """Assign the lead to a person."""
    _step("assign", lead_id, reason, assignee=to)


@lead_app.command("accept")
def accept_command(lead_id: int, reason: Reason = "") -> None:
    """Acknowledge the lead (meets its acknowledge-by deadline)."""
    _step("accept", lead_id, reason)


@lead_app.command("action")
def action_command(lead_id: int, reason: Reason) -> None:
    """Record what was done (meets its act-by deadline)."""
    _step("action", lead_id, reason)


@lead_app.command("close")
def close_command(lead_id: int, outcome: Annotated[str, typer.Option(help="The outcome.")],
                  reason: Reason = "") -> None:
    """Close the lead with its outcome."""
    _step("close", lead_id, reason, outcome=outcome)


@lead_app.command("tier")
def tier_command(lead_id: int, tier: Annotated[str, typer.Argument(
        help="The tier, or 'auto' for the computed one.")], reason: Reason) -> None:
    """Change a lead's tier (a reason is required)."""
    chosen = None if tier.lower() == "auto" else tier.upper()
    _print(_run(lambda s, a: service.change_tier(s, a, lead_id, chosen, reason)))


@lead_app.command("reroute")
def reroute_command(lead_id: int, office: str, reason: Reason) -> None:
    """Send the lead to another office."""
    _print(_run(lambda s, a: service.reroute(s, a, lead_id, office, reason)))


@lead_app.command("forward")
def forward_command(lead_id: int, agency: str, reason: Reason) -> None:
    """Forward the lead to another agency (which may then read it)."""
    _print(_run(lambda s, a: service.forward(s, a, lead_id, agency, reason)))


@lead_app.command("candidate")
def candidate_command(
    candidate_id: int,
    decision: Annotated[str, typer.Argument(help="confirm (merge the leads) or reject.")],
    reason: Reason,
) -> None:
    """Decide a resemblance between two leads' subjects."""
    if decision not in ("confirm", "reject"):
        render.error("decision must be confirm or reject")
        raise typer.Exit(2)
    _print(_run(lambda s, a: service.decide_candidate(s, a, candidate_id,
                                                      decision == "confirm", reason)))


@lead_app.command("watch")
def watch_command(
    once: Annotated[bool, typer.Option(help="One poll, then exit.")] = False,
    interval: Annotated[float, typer.Option(help="Seconds between polls.")] = 30.0,
) -> None:
    """Run the deadline scheduler: reminders to offices, escalations to the duty supervisor
    (SMTP from CVIS_SMTP_HOST/PORT, CVIS_DUTY_SUPERVISOR)."""
    scheduler = DeadlineScheduler(Store(), MailSettings.from_env(), interval=interval)

    def show(sent: list[Any]) -> None:
        for notice in sent:
            render.note(f"{notice.kind}: lead {notice.lead_id} {notice.deadline} -> "
                        f"{notice.to or '(no address)'}")

    if once:
        show(scheduler.run_once())
        return
    try:
        scheduler.run_forever(show)
    except KeyboardInterrupt:
        scheduler.stop()


@lead_app.command("report")
def report_command(
    out: Annotated[Path, typer.Option(help="The PDF to write.")],
    office: Annotated[str | None, typer.Option(help="One office (default: national).")] = None,
    week: Annotated[str | None, typer.Option(help="Any day of the week (YYYY-MM-DD); "
                                                  "default: last week.")] = None,
) -> None:
    """The weekly report: volume by channel, tier and office, times, deadlines missed."""
    day = date.fromisoformat(week) if week else None
    summary = _run(lambda s, a: report.write_weekly(s, a, out, office=office, day=day))
    render.note(f"{summary['leads']} leads, {summary['tips']} tips -> {out}")
