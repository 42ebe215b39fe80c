"""`cvis travel`: screen passenger manifests against the registry (candidates, not verdicts)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer

from cvis import policy
from cvis.cli import render
from cvis.foreign import annual, notices
from cvis.foreign.manifest import FORMATS, ManifestError
from cvis.foreign.notices import SmtpSettings
from cvis.foreign.travel import screen_manifest
from cvis.linkage.mapping import MappingError
from cvis.policy.actors import local_operator
from cvis.store.db import Store

travel_app = typer.Typer(help="Traveller screening against the registry.", no_args_is_help=True)


@travel_app.command("screen")
def screen_command(
    manifest: Annotated[Path, typer.Argument(help="PAXLST, CSV or JSON passenger manifest.")],
    registry: Annotated[Path, typer.Option(help="Registry file, as for `cvis link run`.")],
    format: Annotated[str, typer.Option(help="|".join(FORMATS))] = "auto",
    registry_mapping: Annotated[Path | None, typer.Option(
        help="Mapping file for the registry (TOML, as for `cvis link`).")] = None,
    threshold: Annotated[float, typer.Option(min=0.0, max=1.0,
                                             help="Minimum match probability.")] = 0.5,
    jsonl: Annotated[Path | None, typer.Option(help="Write JSON lines here.")] = None,
) -> None:
    """One JSON line per traveller with the registrants they may be (for an analyst)."""
    if format not in FORMATS:
        raise typer.BadParameter(f"format must be one of {', '.join(FORMATS)}")
    if not manifest.is_file():
        render.error(f"no such manifest: {manifest}")
        raise typer.Exit(2)
    if not registry.is_file():
        render.error(f"no such registry file: {registry}")
        raise typer.Exit(2)
    try:
        run = screen_manifest(Store(), local_operator(purpose="traveller screening"), manifest,
                              registry, fmt=format, registry_mapping=registry_mapping,
                              threshold=threshold)
    except ManifestError as exc:
        render.error(f"malformed manifest, nothing kept: {exc}")
        raise typer.Exit(2) from None
    except MappingError as exc:
        render.error(str(exc))
        raise typer.Exit(2) from None
    with render.output_stream(jsonl) as out:
        render.write_jsonl([r.contract() for r in run.results], out)
    for where in run.manifest.duplicates:
        render.note(f"duplicate traveller at {where}: screened once")
    for r in run.results:
        for note in r.traveller.notes:
            render.note(f"{r.traveller.where}: {note}")
    late = sum(1 for r in run.results if r.candidates and not r.in_time)
    if late:
        render.note(f"{late} traveller(s) with candidates depart in under 48 hours")
    if run.seen_before:
        render.note("this manifest was screened before")
    render.note(f"screening {run.screening_id}: {len(run.results)} travellers, "
                f"{sum(1 for r in run.results if r.candidates)} with candidates")


@travel_app.command("determine")
def determine_command(
    traveller_id: int,
    registry_id: str,
    covered: Annotated[bool, typer.Option("--covered/--not-covered",
                                          help="The analyst's determination.")],
    basis: Annotated[str, typer.Option(help="On what basis (kept with it).")],
    notify: Annotated[bool, typer.Option(help="Notify the destination country.")] = False,
    no_notice_reason: Annotated[str, typer.Option(help="Why a covered traveller is not "
                                                  "notified.")] = "",
) -> None:
    """Record an analyst's determination on one candidate."""
    from cvis.foreign.travel import determine

    try:
        det = determine(Store(), local_operator(purpose="determination"), traveller_id,
                        registry_id, covered=covered, basis=basis, notify=notify,
                        no_notice_reason=no_notice_reason)
    except (ValueError, LookupError) as exc:
        render.error(str(exc))
        raise typer.Exit(1) from None
    render.note(f"determination {det} recorded")


notice_app = typer.Typer(help="Notices to foreign governments.", no_args_is_help=True)


def _smtp(host: str, port: int, sender: str, retries: int) -> SmtpSettings:
    return SmtpSettings(host, port, sender, retries=retries)


@notice_app.command("draft")
def notice_draft_command(
    determination: Annotated[int | None, typer.Option(help="From this determination.")] = None,
    removal: Annotated[str | None, typer.Option(help="A removal: the registry id.")] = None,
    country: Annotated[str | None, typer.Option(help="Removal destination (ISO code).")] = None,
    departure: Annotated[str | None, typer.Option(help="Removal date-time, ISO 8601.")] = None,
) -> None:
    """Draft a notice from the subject's record (identity and convictions, no advice)."""
    actor = local_operator(purpose="foreign notice")
    try:
        if determination is not None:
            notice_id = notices.draft_traveller_notice(Store(), actor, determination)
        elif removal and country:
            when = datetime.fromisoformat(departure) if departure else None
            notice_id = notices.draft_removal_notice(Store(), actor, removal, country, when)
        else:
            raise typer.BadParameter("give --determination, or --removal with --country")
    except (notices.NoticeError, ValueError) as exc:
        render.error(str(exc))
        raise typer.Exit(1) from None
    render.note(f"notice {notice_id} drafted: an officer confirms it before it is sent")


@notice_app.command("confirm")
def notice_confirm_command(notice_id: int) -> None:
    """An officer confirms (and so signs) a drafted notice."""
    try:
        notices.confirm(Store(), local_operator(purpose="notice confirmation"), notice_id)
    except (notices.NoticeError, policy.NotVisible) as exc:
        render.error(str(exc))
        raise typer.Exit(1) from None
    render.note(f"notice {notice_id} confirmed and signed")


@notice_app.command("send")
def notice_send_command(
    notice_id: int,
    smtp_host: Annotated[str, typer.Option(help="SMTP relay host.")] = "127.0.0.1",
    smtp_port: Annotated[int, typer.Option(help="SMTP relay port.")] = 25,
    sender: Annotated[str, typer.Option(help="From address.")] = "notices@localhost",
    retries: Annotated[int, typer.Option(min=1, help="Attempts before giving up.")] = 3,
    out: Annotated[Path | None, typer.Option(help="Keep the PDF and signed JSON here.")] = None,
) -> None:
    """Deliver a confirmed notice (PDF + signed JSON) through its channel's mailbox."""
    try:
        ok = notices.send(Store(), local_operator(purpose="notice delivery"), notice_id,
                          _smtp(smtp_host, smtp_port, sender, retries), out)
    except (notices.NoticeError, policy.NotVisible) as exc:
        render.error(str(exc))
        raise typer.Exit(1) from None
    if not ok:
        render.error(f"notice {notice_id} could not be delivered (every attempt recorded)")
        raise typer.Exit(1)
    render.note(f"notice {notice_id} sent")


@notice_app.command("mark")
def notice_mark_command(
    notice_id: int, event: Annotated[str, typer.Argument(help="received | answered")],
) -> None:
    """The country acknowledged receipt of a notice, or answered it."""
    try:
        notices.mark(Store(), local_operator(purpose="notice tracking"), notice_id, event)
    except (notices.NoticeError, policy.NotVisible) as exc:
        render.error(str(exc))
        raise typer.Exit(1) from None


@notice_app.command("report")
def notice_report_command(
    year: int, out: Annotated[Path, typer.Option(help="Folder for the JSON and PDF.")],
) -> None:
    """The annual report: per country, before departure, errors, corrections, complaints."""
    figures = annual.annual_report(Store(), local_operator(purpose="annual report"), year, out)
    render.write_jsonl([figures], render.stdout())


complaint_app = typer.Typer(help="Complaints about notices, and their redress.",
                            no_args_is_help=True)


@complaint_app.command("file")
def complaint_file_command(
    notice_id: int,
    complainant: Annotated[str, typer.Option(help="Who complains.")],
    statement: Annotated[str, typer.Option(help="What they say is wrong.")],
    contact: Annotated[str, typer.Option(help="Where the answer goes.")] = "",
    language: Annotated[str, typer.Option(help="Language of the answer.")] = "en",
) -> None:
    """Receive a complaint (it gets a review deadline)."""
    complaint = notices.file_complaint(Store(), complainant, statement, notice_id=notice_id,
                                       contact=contact, language=language, channel="letter")
    render.note(f"complaint {complaint} received")


@complaint_app.command("review")
def complaint_review_command(
    complaint_id: int,
    upheld: Annotated[bool, typer.Option("--upheld/--dismissed", help="The finding.")],
    explanation: Annotated[str, typer.Option(help="The explanation the person receives.")],
    prevention: Annotated[str, typer.Option(help="Action against recurrence (upheld).")] = "",
    smtp_host: Annotated[str | None, typer.Option(help="Send the correction now.")] = None,
    smtp_port: Annotated[int, typer.Option(help="SMTP relay port.")] = 25,
    sender: Annotated[str, typer.Option(help="From address.")] = "notices@localhost",
    out: Annotated[Path | None, typer.Option(help="Folder for the letter.")] = None,
) -> None:
    """Decide a complaint: upheld sends a correction and writes the letter to the person."""
    smtp = _smtp(smtp_host, smtp_port, sender, 3) if smtp_host else None
    try:
        letter = notices.review_complaint(Store(), local_operator(purpose="redress"),
                                          complaint_id, upheld=upheld, explanation=explanation,
                                          prevention=prevention, smtp=smtp, folder=out)
    except (notices.NoticeError, policy.NotVisible) as exc:
        render.error(str(exc))
        raise typer.Exit(1) from None
    render.note(f"letter to the person: {letter['path']}")


@travel_app.command("show")
def show_command(screening_id: int) -> None:
    """A screening's travellers with ids, candidates and what agreed (for determinations)."""
    from cvis.foreign.travel import screened_travellers

    try:
        rows = screened_travellers(Store(), local_operator(purpose="screening review"),
                                   screening_id)
    except (LookupError, policy.NotVisible):
        render.error(f"no such screening {screening_id}")
        raise typer.Exit(1) from None
    render.write_jsonl(rows, render.stdout())


@notice_app.command("list")
def notice_list_command(
    status: Annotated[str | None, typer.Option(help="Only notices in this state.")] = None,
) -> None:
    """Notices with their tracking: sent, received, answered, before departure."""
    rows = notices.list_notices(Store(), local_operator(purpose="notice tracking"), status)
    render.write_jsonl(rows, render.stdout())
