"""`cvis travel`: screen passenger manifests against the registry (candidates, not verdicts)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cvis.cli import render
from cvis.foreign.manifest import FORMATS, ManifestError
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
