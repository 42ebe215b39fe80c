"""`cvis case`, `cvis review` and `cvis report`: investigations from the terminal."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy import select
from sqlalchemy.orm import Session

from cvis import policy
from cvis.accounts.roles import CASES_READ, CASES_WRITE
from cvis.audit import audited
from cvis.cases.actor import current_actor
from cvis.cases.case_export import export_case
from cvis.cases.deconflict import deconflict_case
from cvis.cases.report import build_report
from cvis.cases.report_pdf import write_pdf
from cvis.cases.review import (
    ReviewError,
    categorise_item,
    check_matches,
    decide_match,
    review_queue,
    undo_item,
    undo_match,
)
from cvis.cases.series import (
    SeriesError,
    build_candidate_series,
    export_candidate_series,
    list_candidate_series,
)
from cvis.cases.service import (
    CaseError,
    UnknownCase,
    close_case,
    list_cases,
    new_case,
    reopen_case,
    show_case,
)
from cvis.cli import render
from cvis.cli.errors import fail
from cvis.cli.review_session import run_interactive_review
from cvis.cli.shares import add_share_commands
from cvis.fusion.shares import case_resource
from cvis.hashsets.formats import UnknownFormatError
from cvis.policy.actors import local_operator
from cvis.store.db import Store
from cvis.store.models import Case

case_app = typer.Typer(help="Cases: open, list, show, close, series, deconfliction.",
                       no_args_is_help=True)
Examiner = Annotated[str | None, typer.Option(help="Who is acting (default: CVIS_USER).")]
Json = Annotated[bool, typer.Option("--json", help="JSON lines instead of a table.")]
CASE_ERRORS = (CaseError, ReviewError, SeriesError, UnknownFormatError)


@contextmanager
def _audited_session(
    event: str, obj: str, case: str | None = None, right: str = CASES_READ,
    examiner: str | None = None,
) -> Iterator[Session]:
    """Every case command reads or changes case data: each one is audited, and the policy
    is asked about the case it names (a refusal that hides the case reads "no case")."""
    store = Store()
    with audited(store, "cli", event, obj), store.session() as session:
        if case is not None:
            _require(session, case, right, examiner)
        yield session


def _require(session: Session, number: str, right: str, examiner: str | None) -> None:
    found = session.scalar(select(Case).where(Case.number == number.strip()))
    if found is None:
        return  # the command itself says there is no such case
    actor = local_operator(examiner)
    try:
        policy.require(actor, right, case_resource(session, found))
    except policy.NotVisible:
        raise fail(UnknownCase(f"no case numbered {number!r}")) from None
    except policy.AccessDenied as exc:
        raise fail(str(exc)) from None


@case_app.command("new")
def case_new(
    number: str,
    agency: Annotated[str, typer.Option(help="Owning agency.")] = "",
    title: Annotated[str, typer.Option(help="Short title.")] = "",
    examiner: Annotated[list[str] | None, typer.Option(help="Examiner (repeatable).")] = None,
    contact: Annotated[str, typer.Option(help="Contact for other agencies.")] = "",
    notes: str = "",
    actor: Examiner = None,
) -> None:
    """Open a case."""
    with _audited_session("case.new", f"case:{number}") as session:
        try:
            new_case(session, number, actor=current_actor(actor), agency=agency, title=title,
                     examiners=examiner, contact=contact, notes=notes)
        except CASE_ERRORS as exc:
            raise fail(exc) from None
    render.note(f"opened case {number}")


@case_app.command("list")
def case_list(json_lines: Json = False) -> None:
    """List cases."""
    with _audited_session("case.list", "cases") as session:
        cases = list_cases(session)
    if json_lines:
        render.write_jsonl((render.plain(c) for c in cases), render.stdout())
        return
    render.table("cases", ["number", "title", "agency", "status", "scans", "opened"],
                 ([c.number, c.title, c.agency, c.status, c.scans, c.created_at.date()]
                  for c in cases))


@case_app.command("show")
def case_show(number: str, json_lines: Json = False) -> None:
    """A case: details, scans, evidence, deconfliction notices and its history."""
    with _audited_session("case.show", f"case:{number}", number) as session:
        try:
            detail = show_case(session, number)
        except CASE_ERRORS as exc:
            raise fail(exc) from None
    if json_lines:
        render.write_jsonl([render.plain(detail)], render.stdout())
        return
    render.case_detail(detail)


@case_app.command("close")
def case_close(number: str, reason: str = "", actor: Examiner = None) -> None:
    """Close a case: its reviews and scans can no longer change."""
    with _audited_session("case.close", f"case:{number}", number, CASES_WRITE, actor) as session:
        try:
            close_case(session, number, actor=current_actor(actor), reason=reason)
        except CASE_ERRORS as exc:
            raise fail(exc) from None
    render.note(f"closed case {number}")


@case_app.command("reopen")
def case_reopen(number: str, reason: str = "", actor: Examiner = None) -> None:
    """Reopen a closed case (new evidence, an appeal); its history keeps the closing."""
    with _audited_session("case.reopen", f"case:{number}", number, CASES_WRITE,
                          actor) as session:
        try:
            reopen_case(session, number, actor=current_actor(actor), reason=reason)
        except CASE_ERRORS as exc:
            raise fail(exc) from None
    render.note(f"reopened case {number}")


@case_app.command("deconflict")
def case_deconflict(number: str, actor: Examiner = None) -> None:
    """Tell this case's owner and other agencies' case owners what they share."""
    with _audited_session("case.deconflict", f"case:{number}", number, CASES_WRITE,
                          actor) as session:
        try:
            new = deconflict_case(session, number, actor=current_actor(actor))
            detail = show_case(session, number)
        except CASE_ERRORS as exc:
            raise fail(exc) from None
    render.note(f"{new} new deconfliction notice(s)")
    render.notices(detail.notices)


@case_app.command("series")
def case_series(
    number: str,
    export: Annotated[str | None, typer.Option(help="Export this candidate series.")] = None,
    format: Annotated[str, typer.Option(help="Export format (vics, icse, csv).")] = "vics",
    out: Annotated[Path | None, typer.Option(help="Export file (stdout by default).")] = None,
    max_distance: Annotated[int, typer.Option(help="PDQ distance linking pictures.",
                                              min=0, max=63)] = 31,
    actor: Examiner = None,
    json_lines: Json = False,
) -> None:
    """Group categorised unmatched pictures into candidate series; export one."""
    render.check_out(out)
    with _audited_session("case.series", f"case:{number}", number, CASES_WRITE,
                          actor) as session:
        try:
            if export:
                with render.output_stream(out) as stream:
                    count = export_candidate_series(session, number, export, format, stream,
                                                    actor=current_actor(actor))
                render.note(f"exported {count} record(s) of {export}")
                return
            build_candidate_series(session, number, actor=current_actor(actor),
                                   max_distance=max_distance)
            series = list_candidate_series(session, number)
        except CASE_ERRORS as exc:
            raise fail(exc) from None
    if json_lines:
        render.write_jsonl(({"label": s.label, "item_ids": list(s.item_ids)} for s in series),
                           render.stdout())
        return
    render.table("candidate series", ["label", "items"],
                 ([s.label, len(s.item_ids)] for s in series))


def review_command(
    case: str,
    list_only: Annotated[bool, typer.Option("--list", help="Print the queue as JSON.")] = False,
    match: Annotated[list[int] | None, typer.Option(
        help="A match id of this case to decide (repeatable: all are decided).")] = None,
    confirm: Annotated[bool, typer.Option("--confirm", help="Confirm --match.")] = False,
    reject: Annotated[bool, typer.Option("--reject", help="Reject --match.")] = False,
    undo: Annotated[bool, typer.Option(
        "--undo", help="Withdraw the decision on --match or the categorisation of --item.")
    ] = False,
    item: Annotated[list[int] | None, typer.Option(
        help="An item id of this case to categorise (repeatable).")] = None,
    category: Annotated[int | None, typer.Option(help="Project VIC category 0-4.",
                                                 min=0, max=4)] = None,
    note: Annotated[str | None, typer.Option(help="A note.")] = None,
    tag: Annotated[list[str] | None, typer.Option(help="A tag (repeatable).")] = None,
    unmatched: Annotated[bool, typer.Option("--unmatched",
                                            help="Queue unmatched items instead.")] = False,
    examiner: Examiner = None,
) -> None:
    """Review a case's matches: interactively, or one decision at a time with options."""
    actor = current_actor(examiner)
    verdict = _review_verdict(confirm, reject, undo, bool(match), bool(item),
                              category is not None or note is not None or bool(tag))
    with _audited_session("review", f"case:{case}", case, CASES_WRITE, examiner) as session:
        try:
            if match:
                _decide(session, case, match, verdict or "", actor, note or "")
            elif item:
                _categorise(session, case, item, actor, undo, category, note, tag)
            elif list_only:
                queue = review_queue(session, case, unmatched=unmatched)
                render.write_jsonl((render.review_entry_dict(e) for e in queue),
                                   render.stdout())
            else:
                run_interactive_review(session, case, actor, unmatched=unmatched)
        except CASE_ERRORS as exc:
            raise fail(exc) from None


def _review_verdict(confirm: bool, reject: bool, undo: bool, match: bool, item: bool,
                    sets_something: bool) -> str | None:
    """The one decision the options ask for; contradictory or incomplete options are refused."""
    verdicts = [v for v, given in (("confirmed", confirm), ("rejected", reject),
                                   ("undo", undo)) if given]
    if len(verdicts) > 1:
        raise typer.BadParameter("give one of --confirm, --reject or --undo")
    if match and item:
        raise typer.BadParameter("give --match or --item, not both")
    if match and not verdicts:
        raise typer.BadParameter("--match needs --confirm, --reject or --undo")
    if (confirm or reject) and not match:
        raise typer.BadParameter("--confirm and --reject need --match")
    if undo and not (match or item):
        raise typer.BadParameter("--undo needs --match or --item")
    if item and not undo and not sets_something:
        raise typer.BadParameter("--item needs --category, --note, --tag or --undo")
    return verdicts[0] if verdicts else None


def _categorise(session: Session, case: str, items: list[int], actor: str, undo: bool,
                category: int | None, note: str | None, tags: list[str] | None) -> None:
    for one in items:
        if undo:
            undo_item(session, one, reviewer=actor, case=case)
        else:
            categorise_item(session, one, reviewer=actor, category=category, notes=note,
                            tags=tags, case=case)
    render.note(f"case {case}: item(s) {', '.join(map(str, items))} "
                f"{'restored to uncategorised' if undo else 'categorised'}")


def _decide(session: Session, case: str, match_ids: list[int], verdict: str, actor: str,
            note: str) -> None:
    """All the matches named, or none: every id is checked against the case first."""
    check_matches(session, case, match_ids)
    for match_id in match_ids:
        if verdict == "undo":
            undo_match(session, match_id, reviewer=actor, note=note, case=case)
        else:
            decide_match(session, match_id, verdict, reviewer=actor, note=note, case=case)
    what = "decision(s) undone" if verdict == "undo" else verdict
    render.note(f"case {case}: match(es) {', '.join(map(str, match_ids))} {what}")


def report_command(
    case: str,
    format: Annotated[str, typer.Option(help="pdf, json or vics.")],
    out: Annotated[Path, typer.Option(help="File to write.")],
) -> None:
    """Write the victim-identification report for prosecution (no imagery)."""
    if format not in ("pdf", "json", "vics"):
        raise typer.BadParameter("format must be pdf, json or vics", param_hint="--format")
    render.check_out(out)
    with _audited_session("report", f"case:{case} format:{format}", case) as session:
        try:
            if format == "vics":
                with render.output_stream(out) as stream:
                    count = export_case(session, case, "vics", stream)
                render.note(f"wrote {count} media record(s) to {out}")
                return
            report = build_report(session, case)
        except CASE_ERRORS as exc:
            raise fail(exc) from None
    if format == "json":
        with render.output_stream(out) as stream:
            json.dump(report, stream, indent=2, sort_keys=True, ensure_ascii=False)
    else:
        write_pdf(report, out)
    render.note(f"wrote the report for case {case} to {out}: "
                f"{report['summary']['identified_victim_files']} file(s) depicting identified "
                "children")


add_share_commands(case_app, "case")  # joint investigations (cvis.fusion.shares)
