"""`cvis sets`: import, list and export hash sets."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cvis.audit import audited
from cvis.cli import render
from cvis.hashsets.formats import UnknownFormatError
from cvis.hashsets.service import ImportRejected, UnknownSet, export_set, import_file, list_sets
from cvis.store.db import Store

sets_app = typer.Typer(help="Hash sets: import, list, export.", no_args_is_help=True)


@sets_app.command("import")
def import_command(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
    name: Annotated[str, typer.Option(help="The set to import into (created if new).")],
    format: Annotated[str, typer.Option(help="auto, or a format name.")] = "auto",
    skip_bad: Annotated[
        bool, typer.Option(help="Import the good records, report the bad.")
    ] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q")] = False,
) -> None:
    """Import a hash list as a new version of a set (all or nothing unless --skip-bad)."""
    store = Store()
    try:
        with audited(store, "cli", "sets.import", f"set:{name} file:{file}"), \
                store.session() as session, render.progress_bar(
            "importing", None, render.show_progress(quiet)
        ) as advance:
            report = import_file(
                session, file, name=name, format_name=format, skip_bad=skip_bad,
                on_progress=advance,
            )
    except (ImportRejected, UnknownFormatError, UnicodeDecodeError) as exc:
        render.error(str(exc))
        raise typer.Exit(1) from None
    for bad in report.errors[:20]:
        render.note(f"skipped {bad}")
    render.note(
        f"set {report.set_name!r} version {report.version} ({report.format}): "
        f"{report.added} added, {report.updated} updated, {report.removed} removed, "
        f"{report.error_count} skipped"
    )


@sets_app.command("list")
def list_command() -> None:
    """List hash sets with their sizes."""
    store = Store()
    with audited(store, "cli", "sets.list", "hash sets"), store.session() as session:
        summaries = list_sets(session)
    render.table(
        "hash sets",
        ["name", "agency", "enabled", "media", "signals", "versions"],
        (
            [s.name, s.agency, s.enabled, s.media,
             ", ".join(f"{k}: {v}" for k, v in sorted(s.signals.items())), s.versions]
            for s in summaries
        ),
    )


@sets_app.command("export")
def export_command(
    name: str,
    format: Annotated[str, typer.Option(help="Format name.")] = "csv",
    out: Annotated[Path | None, typer.Option(help="File to write (stdout by default).")] = None,
) -> None:
    """Export a set's current records."""
    store = Store()
    try:
        with audited(store, "cli", "sets.export", f"set:{name} format:{format}"), \
                store.session() as session, render.output_stream(out) as stream:
            export_set(session, name, format, stream)
    except (UnknownSet, UnknownFormatError) as exc:
        render.error(str(exc))
        raise typer.Exit(1) from None
