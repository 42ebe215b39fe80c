"""`cvis link ...`: registry cross-matching commands (parse, call the service, render)."""

from __future__ import annotations

import json
import logging
import sys
from dataclasses import asdict
from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from cvis.audit import audited
from cvis.audit.log import AuditEntry, cli_actor, record_event
from cvis.linkage import service
from cvis.linkage.engines import ENGINES, EngineUnavailable
from cvis.linkage.mapping import MappingError
from cvis.linkage.review import ReviewError
from cvis.store.db import Store

link_app = typer.Typer(help="Registry cross-matching against other agencies' person indices.",
                       no_args_is_help=True)
console = Console()
err = Console(stderr=True)

StateOpt = Annotated[Path | None, typer.Option("--state", help="State directory "
                                               "(default $CVIS_HOME/linkage).")]


def _pairs(values: list[str], what: str) -> dict[str, Path]:
    out: dict[str, Path] = {}
    for v in values:
        name, sep, path = v.partition("=")
        if not sep or not name or not path:
            raise typer.BadParameter(f"{what} must look like NAME=FILE, got {v!r}")
        if name == "registry" and what == "--index":
            raise typer.BadParameter("'registry' is reserved; name the index otherwise")
        out[name] = Path(path)
    return out


def _fail(message: str) -> None:
    err.print(f"[red]error:[/red] {message}")
    raise typer.Exit(1)


@link_app.command("run")
def run_cmd(
    registry: Annotated[Path, typer.Option(help="Registry file (CSV or Parquet).")],
    index: Annotated[list[str], typer.Option(help="An index as NAME=FILE; repeatable.")],
    out: Annotated[Path, typer.Option(help="Output directory for links.csv and friends.")],
    mapping: Annotated[list[str] | None, typer.Option(
        help="Mapping as NAME=FILE.toml (NAME 'registry' or an index name); repeatable.")] = None,
    threshold: Annotated[float, typer.Option(min=0.0, max=1.0,
                                             help="Minimum match probability.")] = 0.5,
    engine: Annotated[str, typer.Option(help=f"Splink backend: {'|'.join(ENGINES)}.")] = "duckdb",
    retrain: Annotated[bool, typer.Option(help="Train a new model version.")] = False,
    training_sample: Annotated[int | None, typer.Option(
        help="Train on at most this many rows per side.")] = None,
    state: StateOpt = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q")] = False,
) -> None:
    """Link the registry against each index; writes DIR/links.csv."""
    if engine not in ENGINES:
        raise typer.BadParameter(
            f"engine must be one of {', '.join(ENGINES)}", param_hint="--engine"
        )
    indices, maps = _pairs(index, "--index"), _pairs(mapping or [], "--mapping")
    unknown = set(maps) - set(indices) - {"registry"}
    if unknown:
        raise typer.BadParameter(f"mapping for unknown input(s): {', '.join(sorted(unknown))}")
    request = service.RunRequest(
        registry=service.InputSpec("registry", registry, maps.get("registry")),
        indices=[service.InputSpec(n, p, maps.get(n)) for n, p in indices.items()],
        state_dir=service.state_dir(state), threshold=threshold, engine=engine,
        retrain=retrain, training_sample=training_sample,
    )
    show = sys.stderr.isatty() and not quiet
    try:
        with err.status("linking", spinner="dots") if show else _nothing() as status:
            def progress(msg: str) -> None:
                if status is not None:
                    status.update(msg)
            with audited(Store(), "cli", "link.run", f"out:{out}"):
                result, paths = service.run(request, out, progress)
    except (MappingError, EngineUnavailable, FileNotFoundError) as exc:
        _fail(str(exc))
    if not quiet:
        changes = result.changes["change"].value_counts().to_dict()
        console.print(f"run {result.run_id}: {len(result.links)} links -> {paths['links.csv']}; "
                      f"changes {changes or 'none'}; {len(result.issues)} input issues")


class _nothing:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


@link_app.command("review")
def review_cmd(
    confirm: Annotated[list[str] | None, typer.Option(help="Link key to confirm.")] = None,
    reject: Annotated[list[str] | None, typer.Option(help="Link key to reject.")] = None,
    reviewer: Annotated[str | None, typer.Option(help="Who decides (required to decide).")] = None,
    note: Annotated[str, typer.Option(help="Reason, kept with the decision.")] = "",
    all_links: Annotated[bool, typer.Option("--all", help="Include decided links.")] = False,
    show_leads: Annotated[bool, typer.Option("--leads", help="List open leads instead.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False,
    state: StateOpt = None,
) -> None:
    """List the review queue, or record decisions on links by key."""
    where = service.state_dir(state)
    actions = [(k, "confirm") for k in confirm or []] + [(k, "reject") for k in reject or []]
    if actions and not reviewer:
        raise typer.BadParameter("--reviewer is required to record a decision")
    try:
        for key, decision in actions:
            with audited(Store(), "cli", f"link.review.{decision}", f"link:{key}"):
                item = service.decide(where, key, decision, reviewer or "", note)
            console.print(f"{item.key}: {item.status}")
    except ReviewError as exc:
        _fail(str(exc))
    if actions:
        return
    record_event(Store(), AuditEntry("cli", "link.review.read", cli_actor(), "success",
                                     f"state:{where}"))
    if show_leads and as_json:
        for lead in service.leads(where):
            typer.echo(json.dumps(asdict(lead)))
        return
    if show_leads:
        table = Table("lead", "person", "registry_id", "index", "record_id", "field office")
        for lead in service.leads(where):
            table.add_row(lead.lead_id, lead.person_id, lead.registry_id, lead.index,
                          lead.record_id, lead.field_office)
        console.print(table)
        return
    items = service.review_queue(where, include_decided=all_links)
    if as_json:
        for it in items:
            typer.echo(json.dumps(asdict(it), default=str))
        return
    table = Table("key", "status", "registry_id", "index", "record_id", "prob", "weight",
                  "registrant", "record", "agreed")
    table.columns[0].no_wrap = True
    for it in items:
        table.add_row(it.key, it.status, it.registry_id, it.index, it.record_id,
                      f"{it.match_probability:.3f}", f"{it.match_weight:.1f}",
                      _who(it.registrant), _who(it.record), it.agreement)
    console.print(table)


def _who(data: dict[str, object]) -> str:
    name = " ".join(str(data[k]) for k in ("given_names", "family_name") if data.get(k))
    return f"{name or data.get('full_name', '')} {data.get('dob', '')}".strip()


@link_app.command("releases")
def releases_cmd(
    days: Annotated[int, typer.Option(min=0, help="Release within this many days.")] = 90,
    as_of: Annotated[str | None, typer.Option(help="Start of the window (YYYY-MM-DD).")] = None,
    index: Annotated[str | None, typer.Option(help="Only this index.")] = None,
    out: Annotated[Path | None, typer.Option(
        help="Write a detainer-request draft (PDF + JSON) per release here.")] = None,
    state: StateOpt = None,
) -> None:
    """Registrants matched to inmates released within DAYS, soonest first."""
    try:
        start = date.fromisoformat(as_of) if as_of else None
    except ValueError as exc:
        raise typer.BadParameter("--as-of must be YYYY-MM-DD") from exc
    with audited(Store(), "cli", "link.releases", f"days:{days} out:{out}"):
        listing = service.list_releases(service.state_dir(state), days, start, index, out)
    table = Table("release", "days", "key", "registry_id", "index", "record_id", "facility",
                  "prob", "review")
    for r in listing.releases:
        table.add_row(r.release_date, str(r.days_left), r.key, r.registry_id, r.index,
                      r.record_id, r.facility, f"{r.match_probability:.3f}", r.review_status)
    console.print(table)
    if out:
        console.print(f"{len(listing.documents)} detainer-request drafts in {out}")


logging.getLogger("splink").setLevel(logging.WARNING)
