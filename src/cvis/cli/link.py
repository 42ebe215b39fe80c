"""`cvis link ...`: registry cross-matching commands (parse, call the service, render)."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from cvis import policy
from cvis.audit import audited
from cvis.cases.actor import current_actor
from cvis.cli import render
from cvis.cli.errors import fail
from cvis.linkage import service
from cvis.linkage.engines import ENGINES, EngineUnavailable
from cvis.linkage.mapping import MappingError
from cvis.linkage.releases import UnknownIndex
from cvis.linkage.review import ConflictingDecisions, ReviewError, ReviewItem
from cvis.policy.actors import local_operator
from cvis.store.db import Store

link_app = typer.Typer(help="Registry cross-matching against other agencies' person indices.",
                       no_args_is_help=True)

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


def _allow(right: str, state: Path) -> None:
    """Need-to-know, asked of the policy module like every other edge."""
    try:
        policy.require(local_operator(), right, policy.Resource("linkage", str(state)))
    except policy.AccessDenied as exc:
        raise fail(f"not allowed: {exc}") from None


@contextmanager
def _splink_output(verbose: bool) -> Iterator[None]:
    """Splink's own progress lines only with --verbose (on stderr, for this command)."""
    logger = logging.getLogger("splink")
    handler = logging.StreamHandler(sys.stderr) if verbose else None
    logger.setLevel(logging.INFO if verbose else logging.ERROR)
    if handler:
        logger.addHandler(handler)
    try:
        yield
    finally:
        if handler:
            logger.removeHandler(handler)
        logger.setLevel(logging.ERROR)


@link_app.command("run")
def run_cmd(
    registry: Annotated[Path, typer.Option(help="Registry file (CSV or Parquet).")],
    index: Annotated[list[str], typer.Option(help="An index as NAME=FILE; repeatable.")],
    out: Annotated[Path, typer.Option(help="Output directory for links.csv and friends.")],
    mapping: Annotated[list[str] | None, typer.Option(
        help="Mapping as NAME=FILE.toml (NAME 'registry' or an index name); repeatable.")] = None,
    threshold: Annotated[float, typer.Option(min=0.0, max=1.0,
                                             help="Minimum match probability of a link.")] = 0.5,
    review_threshold: Annotated[float, typer.Option(
        min=0.0, max=1.0, help="Lower end of the clerical-review band.")] = 0.2,
    engine: Annotated[str, typer.Option(help=f"Splink backend: {'|'.join(ENGINES)}.")] = "duckdb",
    retrain: Annotated[bool, typer.Option(help="Train a new model version.")] = False,
    training_sample: Annotated[int | None, typer.Option(
        help="Train on at most this many rows per side.")] = None,
    allow_missing: Annotated[list[str] | None, typer.Option(
        help="Run although this expected field (dob) is absent; repeatable.")] = None,
    state: StateOpt = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q")] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v",
                                          help="Show Splink's own output.")] = False,
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
        state_dir=service.state_dir(state), threshold=threshold,
        review_threshold=review_threshold, engine=engine, retrain=retrain,
        training_sample=training_sample,
    )
    _allow("linkage:run", request.state_dir)
    try:
        for note in service.check_inputs(request, set(allow_missing or [])):
            render.note(f"note: {note}")
    except MappingError as exc:
        raise fail(str(exc), 2) from None
    show = sys.stderr.isatty() and not quiet
    try:
        with render.spinner("linking", show) as status:
            def progress(msg: str) -> None:
                if status is not None:
                    status.update(msg)
            with audited(Store(), "cli", "link.run", f"out:{out}", purpose="link run"), \
                    _splink_output(verbose):
                result, paths = service.run(request, out, progress)
    except MappingError as exc:
        raise fail(str(exc), 2) from None
    except (EngineUnavailable, OSError) as exc:
        raise fail(str(exc)) from None
    if not quiet:
        changes = result.changes["change"].value_counts().to_dict()
        render.rich(f"run {result.run_id}: {len(result.links)} links -> "
                      f"{escape(str(paths['links.csv']))}; {len(result.review)} in the review "
                      f"band -> {escape(str(paths['review_band.csv']))}; changes "
                      f"{changes or 'none'}; {len(result.issues)} input issues")


@link_app.command("review")
def review_cmd(
    confirm: Annotated[list[str] | None, typer.Option(help="Link key to confirm.")] = None,
    reject: Annotated[list[str] | None, typer.Option(help="Link key to reject.")] = None,
    reviewer: Annotated[str | None, typer.Option(
        help="Who decides (default: CVIS_USER, else the OS account).")] = None,
    note: Annotated[str, typer.Option(help="Reason, kept with the decision "
                                           "(required to reject).")] = "",
    interactive: Annotated[bool, typer.Option("--interactive", "-i",
                                              help="Decide one link at a time.")] = False,
    all_links: Annotated[bool, typer.Option("--all", help="Include decided links.")] = False,
    show_leads: Annotated[bool, typer.Option("--leads", help="List open leads instead.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False,
    state: StateOpt = None,
) -> None:
    """List the review queue, decide links by key, or review interactively (-i)."""
    where = service.state_dir(state)
    actions = [(k, "confirm") for k in confirm or []] + [(k, "reject") for k in reject or []]
    if reject and not note.strip():
        raise typer.BadParameter("a rejection needs a reason", param_hint="--note")
    who = current_actor(reviewer)
    _allow("linkage:review" if actions or interactive else "linkage:read", where)
    if interactive:
        _interactive(where, who)
        return
    if actions:
        try:
            with audited(Store(), "cli", "link.review.decide",
                         "links:" + ",".join(k for k, _ in actions), purpose=note):
                items = service.decide_many(where, actions, who, note)
        except ConflictingDecisions as exc:
            raise fail(str(exc), 2) from None
        except ReviewError as exc:
            raise fail(str(exc)) from None
        for item in items:
            render.rich(f"{item.key}: {item.status}")
        return
    _listing(where, show_leads, as_json, all_links)


def _listing(where: Path, show_leads: bool, as_json: bool, all_links: bool) -> None:
    with audited(Store(), "cli", "link.review.read", f"state:{where}"):
        leads = service.leads(where) if show_leads else []
        items = [] if show_leads else service.review_queue(where, include_decided=all_links)
    if show_leads and as_json:
        for lead in leads:
            typer.echo(json.dumps(asdict(lead)))
    elif show_leads:
        table = Table("lead", "person", "registry_id", "index", "record_id", "field office")
        for lead in leads:
            table.add_row(*(escape(str(v)) for v in (lead.lead_id, lead.person_id,
                                                     lead.registry_id, lead.index,
                                                     lead.record_id, lead.field_office)))
        render.rich(table)
    elif as_json:
        for it in items:
            typer.echo(json.dumps(asdict(it), default=str))
    else:
        table = Table("key", "status", "band", "registry_id", "index", "record_id", "prob",
                      "weight", "registrant", "record", "agreed", "office")
        table.columns[0].no_wrap = True
        for it in items:
            table.add_row(*(escape(str(v)) for v in (
                it.key, it.status, it.band, it.registry_id, it.index, it.record_id,
                f"{it.match_probability:.3f}", f"{it.match_weight:.1f}", _who(it.registrant),
                _who(it.record), it.agreement, it.office)))
        render.rich(table)


def _show(item: ReviewItem, position: str) -> None:
    render.rich(f"\n[bold]{position}[/bold] link {escape(item.key)} ({escape(item.status)}, "
                  f"{escape(item.band)} band{': ' + escape(item.reason) if item.reason else ''})"
                  f" p={item.match_probability:.3f} weight={item.match_weight:.1f}")
    render.rich(f"  registrant {escape(item.registry_id)}: {escape(_who(item.registrant))}")
    render.rich(f"  {escape(item.index)} {escape(item.record_id)}: {escape(_who(item.record))}")
    for f in item.explanation or []:
        render.rich(f"    {escape(f['field']):<12} {escape(f['agreement']):<28} "
                      f"{f['weight']:+.1f}")


def _interactive(where: Path, who: str) -> None:
    """One link at a time: c confirm, r reject (a reason is asked), s skip, q quit."""
    items = service.review_queue(where)
    done = {"confirm": 0, "reject": 0, "skip": 0}
    for n, item in enumerate(items, 1):
        _show(item, f"{n}/{len(items)}")
        answer = typer.prompt("[c]onfirm, [r]eject, [s]kip, [q]uit", default="s").strip()[:1]
        if answer == "q":
            break
        if answer not in ("c", "r"):
            done["skip"] += 1
            continue
        decision = "confirm" if answer == "c" else "reject"
        reason = typer.prompt("reason" if decision == "reject" else "note (optional)",
                              default="" if decision == "confirm" else None)
        with audited(Store(), "cli", f"link.review.{decision}", f"link:{item.key}",
                     purpose=reason):
            decided = service.decide(where, item.key, decision, who, reason)
        done[decision] += 1
        render.rich(f"  {escape(decided.key)}: {escape(decided.status)}")
    render.rich(f"{done['confirm']} confirmed, {done['reject']} rejected, "
                  f"{done['skip']} skipped, {len(items) - sum(done.values())} left")


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
    where = service.state_dir(state)
    _allow("linkage:read", where)
    try:
        with audited(Store(), "cli", "link.releases", f"days:{days} out:{out}"):
            listing = service.list_releases(where, days, start, index, out)
    except UnknownIndex as exc:
        raise typer.BadParameter(str(exc), param_hint="--index") from None
    table = Table("release", "days", "key", "registry_id", "index", "record_id", "facility",
                  "prob", "review")
    for r in listing.releases:
        table.add_row(*(escape(str(v)) for v in (
            r.release_date, r.days_left, r.key, r.registry_id, r.index, r.record_id,
            r.facility, f"{r.match_probability:.3f}", r.review_status)))
    render.rich(table)
    if out:
        render.rich(f"{len(listing.documents)} detainer-request drafts in {escape(str(out))}")


logging.getLogger("splink").setLevel(logging.ERROR)
