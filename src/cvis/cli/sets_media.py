"""`cvis sets import-media`: a version of a set built from media (hashes kept, media not)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cvis import policy
from cvis.audit import audited
from cvis.cli import render
from cvis.hashsets.media_import import ManifestError, import_media
from cvis.hashsets.service import ImportRejected, configure_set
from cvis.policy.actors import local_operator
from cvis.store.db import Store


def import_media_command(
    manifest: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True,
                                             help="CSV: media_id,file[,category,series,"
                                                  "victim_identified]; files relative to it.")],
    name: Annotated[str, typer.Option(help="The set to import into (created if new).")],
    skip_bad: Annotated[bool, typer.Option(help="Import the good rows, report the bad.")] = False,
    agency: Annotated[str | None, typer.Option(help="Owning agency of the set.")] = None,
) -> None:
    """Hash every picture and video the manifest names (every signal cvis knows) and import
    the hashes as a new version of a set; the media themselves are not kept."""
    store = Store()
    policy.require(local_operator(), "sets:write", policy.Resource("set", name, agency or ""))
    try:
        with audited(store, "cli", "sets.import-media", f"set:{name} file:{manifest}"), \
                store.session() as session:
            configure_set(session, name, agency=agency)
            report = import_media(session, manifest, name=name, skip_bad=skip_bad)
    except (ManifestError, ImportRejected) as exc:
        render.error(str(exc))
        raise typer.Exit(2 if isinstance(exc, ManifestError) else 1) from None
    for bad in report.errors[:20]:
        render.note(f"skipped {bad}")
    render.note(
        f"set {report.set_name!r} version {report.version} (media): {report.pictures} "
        f"pictures, {report.videos} videos, {report.values} hashes; {report.added} added, "
        f"{report.updated} updated, {report.removed} removed, {report.unchanged} unchanged, "
        f"{report.error_count} skipped"
    )
