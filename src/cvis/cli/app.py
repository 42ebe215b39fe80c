"""The `cvis` command: thin commands that parse, call one service, and render."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from cvis.audit import audited
from cvis.cli import render
from cvis.cli.accounts import agency_app, token_app, user_app
from cvis.cli.audit import audit_app
from cvis.cli.cases import case_app, report_command, review_command
from cvis.cli.evidence import evidence_app
from cvis.cli.link import link_app
from cvis.cli.offices import office_app
from cvis.cli.serve import SERVE_HELP, serve_command
from cvis.cli.sets import sets_app
from cvis.cli.sets_media import import_media_command
from cvis.hashing import DEFAULT_MAX_PIXELS, HashingLimits
from cvis.hashsets.service import UnknownSet
from cvis.identify.hashpool import DEFAULT_TIME_LIMIT, hash_items
from cvis.identify.lookup import lookup_lines
from cvis.identify.matcher import Matcher, UnknownSetError
from cvis.identify.scan import ScanRequest, iter_scan_results, run_scan, summarize_scan
from cvis.media.folders import iter_media
from cvis.media.limits import IntakeLimits
from cvis.signals import get_signal_type
from cvis.signals.base import InvalidSignalValue
from cvis.store.db import Store, upgrade

app = typer.Typer(
    help="cvis: known-image identification for child-protection investigations.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(sets_app, name="sets")
sets_app.command("import-media")(import_media_command)
app.add_typer(evidence_app, name="evidence")
app.add_typer(case_app, name="case")
app.command("review")(review_command)
app.command("report")(report_command)
db_app = typer.Typer(help="The database: schema upgrades.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(agency_app, name="agency")
app.add_typer(user_app, name="user")
app.add_typer(token_app, name="token")
app.add_typer(audit_app, name="audit")
app.add_typer(link_app, name="link")
app.add_typer(office_app, name="office")
app.command("serve", help=SERVE_HELP)(serve_command)

Quiet = Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")]
Workers = Annotated[int, typer.Option(help="Worker processes (0: all cores).", min=0)]
Jsonl = Annotated[Path | None, typer.Option(help="Write JSON lines here instead of stdout.")]


def _sets_option(value: str | None) -> list[str] | None:
    return [s.strip() for s in value.split(",") if s.strip()] if value else None


def _paths(paths: list[Path]) -> str:
    return "paths:" + ",".join(str(p) for p in paths)


def fail(message: str) -> typer.Exit:
    render.error(message)
    return typer.Exit(1)


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Bring the database schema to the newest version."""
    store = Store(auto_upgrade=False)
    upgrade(store.engine)
    render.note(f"database at {store.settings.database_url} is up to date")


@app.command("hash")
def hash_command(
    paths: Annotated[list[Path], typer.Argument(help="Files or folders.")],
    jsonl: Jsonl = None,
    workers: Workers = 0,
    quiet: Quiet = False,
) -> None:
    """Hash media: one JSON object per item (md5, sha1, sha256, pdq, quality, error)."""
    store = Store()
    with audited(store, "cli", "hash", _paths(paths)), render.output_stream(
        jsonl
    ) as out, render.progress_bar(
        "hashing", None, render.show_progress(quiet) and jsonl is not None
    ) as advance:
        for record in hash_items(iter_media(paths), workers or os.cpu_count() or 1):
            render.write_jsonl([record.to_dict()], out)
            advance(1)


@app.command("scan")
def scan_command(
    paths: Annotated[list[Path], typer.Argument(help="Evidence: files or folders.")],
    case: Annotated[str, typer.Option(help="Case number (created if new).")],
    sets: Annotated[str | None, typer.Option(help="Comma-separated set names.")] = None,
    workers: Workers = 0,
    jsonl: Jsonl = None,
    resume: Annotated[int | None, typer.Option(help="Resume this scan id.")] = None,
    restart: Annotated[bool, typer.Option(help="Start over, ignoring unfinished scans.")] = False,
    acquired_by: Annotated[str, typer.Option(help="Who acquired the evidence.")] = "",
    time_limit: Annotated[
        float, typer.Option(help="Seconds one item may take to decode.", min=1)
    ] = DEFAULT_TIME_LIMIT,
    max_pixels: Annotated[
        int, typer.Option(help="Larger pictures are decompression bombs.", min=1)
    ] = DEFAULT_MAX_PIXELS,
    max_depth: Annotated[int, typer.Option(help="Archives nested deeper are not opened.")] = 8,
    quiet: Quiet = False,
) -> None:
    """Hash evidence and match it against the hash sets; results are stored in the case."""
    store = Store()
    request = ScanRequest(
        case, paths, _sets_option(sets), workers, restart, resume,
        intake=IntakeLimits(max_depth=max_depth), hashing=HashingLimits(max_pixels=max_pixels),
        time_limit=time_limit, acquired_by=acquired_by,
    )
    try:
        with audited(store, "cli", "scan", f"case:{case} {_paths(paths)}"), render.scan_progress(
            render.show_progress(quiet)
        ) as progress:
            scan_id = run_scan(store, request, progress)
    except (UnknownSetError, LookupError, ValueError) as exc:
        raise fail(str(exc)) from None
    with store.session() as session, render.output_stream(jsonl) as out:
        render.write_jsonl(iter_scan_results(session, scan_id), out)
        summary = summarize_scan(session, scan_id)
    render.scan_summary(summary, jsonl)


@app.command("lookup")
def lookup_command(
    source: Annotated[str, typer.Argument(help="File of hashes, one per line, or - for stdin.")],
    sets: Annotated[str | None, typer.Option(help="Comma-separated set names.")] = None,
    signal: Annotated[str | None, typer.Option(help="Signal type, e.g. pdq.")] = None,
    jsonl: Jsonl = None,
) -> None:
    """Look up hashes: one JSON line per query with its matches."""
    try:
        if signal:
            signal = get_signal_type(signal).name
        lines = sys.stdin if source == "-" else Path(source).open(encoding="utf-8")
    except (InvalidSignalValue, OSError) as exc:
        raise fail(str(exc)) from None
    store = Store()
    bad = 0
    with audited(store, "cli", "lookup", f"hashes from {source}"), store.session() as session, \
            render.output_stream(jsonl) as out:
        try:
            matcher = Matcher(session, _sets_option(sets), store.settings.index_dir)
        except UnknownSetError as exc:
            raise fail(str(exc)) from None
        for row in lookup_lines(matcher, lines, signal):
            bad += "error" in row
            render.write_jsonl([row], out)
    if bad:
        raise fail(f"{bad} line(s) were not valid hashes (see their 'error' field)")


@app.command("demo")
def demo_command(
    workdir: Annotated[
        Path | None, typer.Option(help="Where to build the benign demo data.")
    ] = None,
    quiet: Quiet = False,
) -> None:
    """Run the whole job end to end on benign sample pictures."""
    from cvis.demo import run_demo

    with audited(Store(), "cli", "demo", "benign demo data"):
        run_demo(workdir, quiet=quiet)


def main() -> None:
    try:
        app()
    except UnknownSet as exc:
        render.error(str(exc))
        sys.exit(1)


if __name__ == "__main__":
    main()
