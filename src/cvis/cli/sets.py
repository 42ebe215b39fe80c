"""`cvis sets`: hash sets — import, export, list, show, versions, diff, feedback, sync."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from sqlalchemy.orm import Session

from cvis.audit import audited
from cvis.cli import render
from cvis.cli.errors import fail
from cvis.cli.sets_media import import_media_command
from cvis.hashsets.access import access_list, grant
from cvis.hashsets.feed import FeedError, publish_feed, pull_feed
from cvis.hashsets.feedback import UnknownMatch, contested_hashes, record_feedback
from cvis.hashsets.formats import UnknownFormatError
from cvis.hashsets.records import record_to_dict
from cvis.hashsets.series import SeriesRecord, save_series
from cvis.hashsets.service import (
    ImportRejected,
    UnknownSet,
    UnknownVersion,
    configure_set,
    diff_versions,
    export_set,
    get_set,
    import_file,
    list_sets,
    list_versions,
)
from cvis.policy.actors import local_operator
from cvis.store.db import Store

sets_app = typer.Typer(help="Hash sets: import, export, versions, feedback, sync.",
                       no_args_is_help=True)
Json = Annotated[bool, typer.Option("--json", help="JSON lines instead of a table.")]
FAILURES = (ImportRejected, UnknownFormatError, UnicodeDecodeError, UnknownSet, UnknownVersion,
            UnknownMatch, FeedError, ValueError)


@contextmanager
def _session(event: str, obj: str) -> Iterator[Session]:
    """An audited unit of work whose expected failures become a message and exit code 1."""
    store = Store()
    try:
        with audited(store, "cli", f"sets.{event}", obj), store.session() as session:
            yield session
    except FAILURES as exc:
        raise fail(exc) from None


@sets_app.command("import")
def import_command(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
    name: Annotated[str, typer.Option(help="The set to import into (created if new).")],
    format: Annotated[str, typer.Option(
        help="auto, vics, vics2, icse, ncmec, hma, csv, plain or jsonl.")] = "auto",
    skip_bad: Annotated[
        bool, typer.Option(help="Import the good records, report the bad.")
    ] = False,
    agency: Annotated[str | None, typer.Option(
        help="Owning agency of a new set (default: CVIS_AGENCY).")] = None,
    source: Annotated[str | None, typer.Option(help="Where the list came from.")] = None,
    description: Annotated[str | None, typer.Option()] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q")] = False,
) -> None:
    """Import a hash list as a new version of a set (all or nothing unless --skip-bad)."""
    agency = agency or local_operator().agency or None  # a new set is its creator's agency's
    with _session("import", f"set:{name} file:{file}") as session, render.file_progress(
        "importing", file.stat().st_size, render.show_progress(quiet)
    ) as advance:
        configure_set(session, name, agency=agency, source=source, description=description)
        report = import_file(session, file, name=name, format_name=format, skip_bad=skip_bad,
                             on_progress=advance)
    for bad in report.errors[:20]:
        render.note(f"skipped {bad}")
    render.note(
        f"set {report.set_name!r} version {report.version} ({report.format}): "
        f"{report.added} added, {report.updated} updated, {report.removed} removed, "
        f"{report.unchanged} unchanged, {report.error_count} skipped"
    )


@sets_app.command("list")
def list_command(json_lines: Json = False) -> None:
    """List hash sets with their sizes."""
    with _session("list", "hash sets") as session:
        summaries = list_sets(session)
    if json_lines:
        render.write_jsonl((render.plain(s) for s in summaries), render.stdout())
        return
    render.table(
        "hash sets",
        ["name", "agency", "enabled", "media", "signals", "versions"],
        (
            [s.name, s.agency, s.enabled, s.media,
             ", ".join(f"{k}: {v}" for k, v in sorted(s.signals.items())), s.versions]
            for s in summaries
        ),
    )


@sets_app.command("show")
def show_command(name: str, json_lines: Json = False) -> None:
    """A set's provenance, match settings, visibility and contested hashes."""
    with _session("show", f"set:{name}") as session:
        hash_set = get_set(session, name)
        rows: list[list[Any]] = [["agency", hash_set.agency], ["source", hash_set.source],
                ["description", hash_set.description], ["enabled", hash_set.enabled],
                ["thresholds", hash_set.thresholds or "defaults"]]
        rows += [[f"access: {a.agency}", f"match={a.can_match} metadata={a.can_see_metadata}"]
                 for a in access_list(session, hash_set)] or [["access", "every agency"]]
        contested = contested_hashes(session, hash_set)
    if json_lines:
        render.write_jsonl([{"set": name, "settings": {str(k): v for k, v in rows},
                             "contested": render.plain(contested)}], render.stdout())
        return
    render.table(f"set {name}", ["setting", "value"], rows)
    if contested:
        render.table("contested hashes", ["media", "signal", "value", "confirmed",
                                          "false positive", "suppressed"],
                     ([c.media_id, c.signal_type, c.value, c.confirmed, c.false_positive,
                       c.suppressed] for c in contested))


@sets_app.command("configure")
def configure_command(
    name: str,
    agency: Annotated[str | None, typer.Option()] = None,
    source: Annotated[str | None, typer.Option()] = None,
    description: Annotated[str | None, typer.Option()] = None,
    enabled: Annotated[bool | None, typer.Option("--enabled/--disabled")] = None,
    threshold: Annotated[list[str] | None, typer.Option(
        help="SIGNAL=DISTANCE, e.g. pdq=24; vpdq_query=PERCENT or vpdq_compared=PERCENT for "
             "video matches; NAME=default drops an override (repeatable).")] = None,
    grant_match: Annotated[list[str] | None, typer.Option(
        help="Agency that may match against the set (repeatable).")] = None,
    grant_metadata: Annotated[list[str] | None, typer.Option(
        help="Agency that may match and see the set's metadata (repeatable).")] = None,
) -> None:
    """Set an existing set's provenance, thresholds, enabled flag and visibility."""
    try:
        pairs = [_threshold(t) for t in threshold or []]
    except ValueError as exc:
        raise fail(str(exc), 2) from None
    with _session("configure", f"set:{name}") as session:
        hash_set = configure_set(
            session, name, create=False, agency=agency, source=source, description=description,
            enabled=enabled, thresholds={k: v for k, v in pairs if v is not None} or None)
        if pairs:
            kept = {k: v for k, v in (hash_set.thresholds or {}).items()
                    if k not in {signal for signal, _ in pairs}}
            hash_set.thresholds = {**kept, **{k: v for k, v in pairs if v is not None}}
        grant(session, hash_set, grant_match or [], match=True, metadata=False)
        grant(session, hash_set, grant_metadata or [], match=True, metadata=True)
    render.note(f"set {name!r} updated")


def _threshold(text: str) -> tuple[str, int | None]:
    """SIGNAL=DISTANCE; SIGNAL=default drops the override (None)."""
    signal, _, distance = text.partition("=")
    if distance.strip().lower() == "default":
        return signal.strip().lower(), None
    if not distance.strip().isdigit():
        raise ValueError(f"--threshold wants SIGNAL=DISTANCE, got {text!r}")
    return signal.strip().lower(), int(distance)


@sets_app.command("export")
def export_command(
    name: str,
    format: Annotated[str, typer.Option(help="Format name.")] = "csv",
    out: Annotated[Path | None, typer.Option(help="File to write (stdout by default).")] = None,
    version: Annotated[int | None, typer.Option(help="Export the set as of this version.")] = None,
) -> None:
    """Export a set's records, now or as of a version."""
    render.check_out(out)
    with _session("export", f"set:{name} format:{format}") as session, \
            render.output_stream(out) as stream:
        export_set(session, name, format, stream, version)


@sets_app.command("versions")
def versions_command(name: str, json_lines: Json = False) -> None:
    """A set's version history."""
    with _session("versions", f"set:{name}") as session:
        versions = list_versions(session, name)
    if json_lines:
        render.write_jsonl((render.plain(v) for v in versions), render.stdout())
        return
    render.table(
        f"versions of {name}",
        ["version", "imported", "format", "added", "updated", "removed", "skipped", "source"],
        ([v.number, v.imported_at.strftime("%Y-%m-%d %H:%M"), v.format, v.added, v.updated,
          v.removed, v.skipped, v.source_file] for v in versions),
    )


@sets_app.command("diff")
def diff_command(
    name: str,
    first: Annotated[int, typer.Argument(help="From this version (0: empty).")],
    last: Annotated[int | None, typer.Argument(help="To this version (default: latest).")] = None,
) -> None:
    """What changed between two versions, one JSON line per item."""
    with _session("diff", f"set:{name}") as session, render.output_stream(None) as stream:
        if last is None:
            last = max((v.number for v in list_versions(session, name)), default=0)
        changes = diff_versions(session, name, first, last)
        render.write_jsonl(
            ({"media_id": c.media_id, "change": c.action,
              "before": c.before and record_to_dict(c.before),
              "after": c.after and record_to_dict(c.after)} for c in changes),
            stream,
        )


@sets_app.command("feedback")
def feedback_command(
    match_id: Annotated[int, typer.Argument(help="The match, as stored by a scan.")],
    verdict: Annotated[str, typer.Argument(help="confirmed or false_positive.")],
    examiner: Annotated[str, typer.Option(help="Who decided.")] = "",
    agency: Annotated[str, typer.Option()] = "",
    note: Annotated[str, typer.Option()] = "",
) -> None:
    """Confirm a match, or mark it false positive (suppresses the hash in its set)."""
    verdict = verdict.replace("-", "_")
    with _session("feedback", f"match:{match_id} verdict:{verdict}") as session:
        feedback = record_feedback(session, match_id, verdict, examiner=examiner,
                                   agency=agency, note=note)
        what = f"{feedback.signal_type} {feedback.value} of {feedback.media_id}"
    suffix = "; suppressed in its set" if verdict == "false_positive" else ""
    render.note(f"match {match_id}: {verdict} ({what}){suffix}")


@sets_app.command("publish")
def publish_command(name: str, directory: Path) -> None:
    """Write the set's versions as a feed other cvis instances pull."""
    with _session("publish", f"set:{name} feed:{directory}") as session:
        document = publish_feed(session, name, directory)
    render.note(f"feed {directory}: {len(document['versions'])} version(s) of {name!r}")


@sets_app.command("pull")
def pull_command(
    source: Annotated[str, typer.Argument(help="Feed directory, feed.json, or URL.")],
    name: Annotated[str | None, typer.Option(help="Local set (default: the feed's).")] = None,
) -> None:
    """Apply a feed's new versions; resumes after the last one applied."""
    store = Store()
    try:
        with audited(store, "cli", "sets.pull", f"source:{source}"):
            report = pull_feed(store, source, name=name,
                               on_version=lambda n: render.note(f"applied version {n}"))
    except FAILURES as exc:
        raise fail(exc) from None
    render.note(f"set {report.set_name!r} is at feed version {report.up_to} "
                f"({len(report.applied)} applied now)")


@sets_app.command("series")
def series_command(
    name: str,
    agency: Annotated[str, typer.Option(help="Contributing agency.")] = "",
    identified: Annotated[bool | None, typer.Option("--identified/--not-identified")] = None,
    identifying_agency: Annotated[str, typer.Option()] = "",
    contact_agency: Annotated[str, typer.Option()] = "",
    contact_unit: Annotated[str, typer.Option()] = "",
    contact_phone: Annotated[str, typer.Option()] = "",
    contact_email: Annotated[str, typer.Option()] = "",
) -> None:
    """Record a series: identified status and the contact a prosecutor calls."""
    with _session("series", f"series:{name}") as session:
        try:
            save_series(session, SeriesRecord(
                name=name, agency=agency, victim_identified=identified,
                identifying_agency=identifying_agency, contact_agency=contact_agency,
                contact_unit=contact_unit, contact_phone=contact_phone,
                contact_email=contact_email))
        except ValueError as exc:  # a value typed on the command line: an input error
            raise fail(exc, 2) from None
    render.note(f"series {name!r} saved")

sets_app.command("import-media")(import_media_command)
