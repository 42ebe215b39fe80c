"""`cvis case`, `cvis review` and `cvis report`: investigations from the terminal."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy.orm import Session

from cvis.audit import audited
from cvis.cases.actor import current_actor
from cvis.cases.case_export import export_case
from cvis.cases.deconflict import deconflict_case
from cvis.cases.report import build_report
from cvis.cases.report_pdf import write_pdf
from cvis.cases.review import ReviewError, categorise_item, decide_match, review_queue
from cvis.cases.series import (
    SeriesError,
    build_candidate_series,
    export_candidate_series,
    list_candidate_series,
)
from cvis.cases.service import CaseError, close_case, list_cases, new_case, show_case
from cvis.cli import render
from cvis.cli.review_session import run_interactive_review
from cvis.hashsets.formats import UnknownFormatError
from cvis.store.db import Store

case_app = typer.Typer(help="Cases: open, list, show, close, series, deconfliction.",
                       no_args_is_help=True)
Examiner = Annotated[str | None, typer.Option(help="Who is acting (default: CVIS_USER).")]
CASE_ERRORS = (CaseError, ReviewError, SeriesError, UnknownFormatError)


@contextmanager
def _audited_session(event: str, obj: str) -> Iterator[Session]:
    """Every case command reads or changes case data: each one is audited."""
    store = Store()
    with audited(store, "cli", event, obj), store.session() as session:
        yield session


def _fail(exc: Exception) -> typer.Exit:
    render.error(str(exc))
    return typer.Exit(1)


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
            raise _fail(exc) from None
    render.note(f"opened case {number}")


@case_app.command("list")
def case_list() -> None:
    """List cases."""
    with _audited_session("case.list", "cases") as session:
        cases = list_cases(session)
    render.table("cases", ["number", "title", "agency", "status", "scans", "opened"],
                 ([c.number, c.title, c.agency, c.status, c.scans, c.created_at.date()]
                  for c in cases))


@case_app.command("show")
def case_show(number: str) -> None:
    """A case: details, scans, evidence, deconfliction notices and its history."""
    with _audited_session("case.show", f"case:{number}") as session:
        try:
            detail = show_case(session, number)
        except CASE_ERRORS as exc:
            raise _fail(exc) from None
    render.case_detail(detail)


@case_app.command("close")
def case_close(number: str, reason: str = "", actor: Examiner = None) -> None:
    """Close a case: its reviews and scans can no longer change."""
    with _audited_session("case.close", f"case:{number}") as session:
        try:
            close_case(session, number, actor=current_actor(actor), reason=reason)
        except CASE_ERRORS as exc:
            raise _fail(exc) from None
    render.note(f"closed case {number}")


@case_app.command("deconflict")
def case_deconflict(number: str, actor: Examiner = None) -> None:
    """Tell this case's owner and other agencies' case owners what they share."""
    with _audited_session("case.deconflict", f"case:{number}") as session:
        try:
            new = deconflict_case(session, number, actor=current_actor(actor))
            detail = show_case(session, number)
        except CASE_ERRORS as exc:
            raise _fail(exc) from None
    render.note(f"{new} new deconfliction notice(s)")
    render.notices(detail.notices)


@case_app.command("series")
def case_series(
    number: str,
    export: Annotated[str | None, typer.Option(help="Export this candidate series.")] = None,
    format: Annotated[str, typer.Option(help="Export format (vics, icse, csv).")] = "vics",
    out: Annotated[Path | None, typer.Option(help="Export file (stdout by default).")] = None,
    max_distance: Annotated[int, typer.Option(help="PDQ distance linking pictures.")] = 31,
    actor: Examiner = None,
) -> None:
    """Group categorised unmatched pictures into candidate series; export one."""
    with _audited_session("case.series", f"case:{number}") as session:
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
            raise _fail(exc) from None
    render.table("candidate series", ["label", "items"],
                 ([s.label, len(s.item_ids)] for s in series))


def review_command(
    case: str,
    list_only: Annotated[bool, typer.Option("--list", help="Print the queue as JSON.")] = False,
    match: Annotated[int | None, typer.Option(help="A match id to decide.")] = None,
    confirm: Annotated[bool, typer.Option(help="Confirm --match.")] = False,
    reject: Annotated[bool, typer.Option(help="Reject --match.")] = False,
    item: Annotated[int | None, typer.Option(help="An item id to categorise.")] = None,
    category: Annotated[int | None, typer.Option(help="Project VIC category 0-4.")] = None,
    note: Annotated[str | None, typer.Option(help="A note.")] = None,
    tag: Annotated[list[str] | None, typer.Option(help="A tag (repeatable).")] = None,
    unmatched: Annotated[bool, typer.Option(help="Queue unmatched items instead.")] = False,
    examiner: Examiner = None,
) -> None:
    """Review a case's matches: interactively, or one decision at a time with options."""
    actor = current_actor(examiner)
    if confirm and reject:
        raise typer.BadParameter("give --confirm or --reject, not both")
    with _audited_session("review", f"case:{case}") as session:
        try:
            if match is not None:
                if not (confirm or reject):
                    raise typer.BadParameter("--match needs --confirm or --reject")
                decide_match(session, match, "confirmed" if confirm else "rejected",
                             reviewer=actor, note=note or "")
            elif item is not None:
                categorise_item(session, item, reviewer=actor, category=category, notes=note,
                                tags=tag)
            elif list_only:
                queue = review_queue(session, case, unmatched=unmatched)
                render.write_jsonl((render.review_entry_dict(e) for e in queue),
                                   render.stdout())
            else:
                run_interactive_review(session, case, actor, unmatched=unmatched)
        except CASE_ERRORS as exc:
            raise _fail(exc) from None


def report_command(
    case: str,
    format: Annotated[str, typer.Option(help="pdf, json or vics.")],
    out: Annotated[Path, typer.Option(help="File to write.")],
) -> None:
    """Write the victim-identification report for prosecution (no imagery)."""
    if format not in ("pdf", "json", "vics"):
        raise typer.BadParameter("format must be pdf, json or vics", param_hint="--format")
    with _audited_session("report", f"case:{case} format:{format}") as session:
        try:
            if format == "vics":
                with render.output_stream(out) as stream:
                    count = export_case(session, case, "vics", stream)
                render.note(f"wrote {count} media record(s) to {out}")
                return
            report = build_report(session, case)
        except CASE_ERRORS as exc:
            raise _fail(exc) from None
    if format == "json":
        with render.output_stream(out) as stream:
            json.dump(report, stream, indent=2, sort_keys=True, ensure_ascii=False)
    else:
        write_pdf(report, out)
    render.note(f"wrote the report for case {case} to {out}: "
                f"{report['summary']['identified_victim_files']} file(s) depicting identified "
                "children")
