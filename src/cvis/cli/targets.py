"""`cvis target`, `cvis subject`, `cvis month`: fusion commands (parse, call, render)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Annotated, TypeVar

import typer

from cvis import policy
from cvis.cli import render
from cvis.cli.shares import add_share_commands
from cvis.fusion import service
from cvis.fusion.subjects import SubjectError
from cvis.fusion.targets import TargetConfigError
from cvis.policy.actors import local_operator
from cvis.store.db import Store

target_app = typer.Typer(help="Prioritised targets (a person decides what to do).",
                         no_args_is_help=True)
subject_app = typer.Typer(help="Subjects: facts with their sources; merges.",
                          no_args_is_help=True)

T = TypeVar("T")
Jsonl = Annotated[Path | None, typer.Option(help="Write JSON lines here instead of stdout.")]


def _day(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        raise typer.BadParameter("dates are YYYY-MM-DD") from None


@target_app.command("list")
def list_command(
    office: Annotated[str | None, typer.Option(help="Only this office's targets.")] = None,
    jsonl: Jsonl = None,
    as_of: Annotated[str | None, typer.Option(help="Score as of this day (YYYY-MM-DD).")] = None,
    weights: Annotated[Path | None, typer.Option(help="Weights file (TOML).")] = None,
    state: Annotated[Path | None, typer.Option(help="Linkage state directory whose latest "
                                               "run is taken in first.")] = None,
) -> None:
    """Prioritised subjects, best first, each with the factors that put it there."""
    from cvis.linkage import service as linkage

    try:
        targets = service.list_targets(Store(), local_operator(purpose="target list"), office,
                                       _day(as_of), weights, linkage.state_dir(state))
    except TargetConfigError as exc:
        render.error(str(exc))
        raise typer.Exit(2) from None
    with render.output_stream(jsonl) as out:
        render.write_jsonl([t.contract() for t in targets], out)


@subject_app.command("show")
def show_command(subject_id: str) -> None:
    """A subject's facts with source, time and confidence; conflicts side by side."""
    try:
        view = service.show_subject(Store(), local_operator(purpose="subject view"), subject_id)
    except policy.NotVisible:
        render.error(f"no such subject {subject_id}")
        raise typer.Exit(1) from None
    render.table(f"{view.subject_id} ({view.office or 'no office'})",
                 ["fact", "value", "source", "observed", "confidence", "held by"],
                 [[f.name, str(f.value), f"{f.source_kind}:{f.source_ref}",
                   f.observed_at.date().isoformat(), f"{f.confidence:.2f}", f.subject_id]
                  for f in view.facts])
    for name, group in view.conflicts.items():
        render.note(f"conflict on {name}: " + "; ".join(
            f"{f.value} ({f.source_kind}:{f.source_ref}, {f.confidence:.2f})" for f in group))


@subject_app.command("merge")
def merge_command(
    merge_id: int,
    action: Annotated[str, typer.Argument(help="confirm | reject | undo")],
) -> None:
    """Decide on a merge the linkage engine proposed, or undo a confirmed one."""
    try:
        status = service.decide_merge(Store(), local_operator(purpose="merge review"), merge_id,
                                      action)
    except (SubjectError, policy.NotVisible) as exc:
        render.error(str(exc))
        raise typer.Exit(1) from None
    render.note(f"merge {merge_id}: {status}")


month_app = typer.Typer(help="The monthly protocol, in one command.", no_args_is_help=True)


def _inputs(values: list[str], what: str) -> dict[str, Path]:
    out = {}
    for value in values:
        name, sep, path = value.partition("=")
        if not sep or not name or not path:
            raise typer.BadParameter(f"{what} must look like NAME=FILE, got {value!r}")
        out[name] = Path(path)
    return out


@month_app.command("run")
def month_run_command(
    registry: Annotated[Path, typer.Option(help="This month's registry extract.")],
    index: Annotated[list[str], typer.Option(help="An index as NAME=FILE; repeatable.")],
    out: Annotated[Path, typer.Option(help="Folder for links/, targets.jsonl, month.*")],
    period: Annotated[str | None, typer.Option(help="YYYY-MM (default: this month).")] = None,
    mapping: Annotated[list[str] | None, typer.Option(
        help="Mapping as NAME=FILE.toml (NAME 'registry' or an index).")] = None,
    tips: Annotated[Path | None, typer.Option(help="Tips as JSON lines.")] = None,
    as_of: Annotated[str | None, typer.Option(help="The month's day (YYYY-MM-DD).")] = None,
    state: Annotated[Path | None, typer.Option(help="Linkage state directory.")] = None,
) -> None:
    """Registry extract -> link run -> subjects -> targets -> detainer drafts -> report."""
    from cvis.fusion.month import MonthRequest, run_month
    from cvis.linkage import service as linkage

    day = _day(as_of) or date.today()
    maps = _inputs(mapping or [], "--mapping")
    request = MonthRequest(
        period=period or day.strftime("%Y-%m"),
        registry=linkage.InputSpec("registry", registry, maps.get("registry")),
        indices=[linkage.InputSpec(n, p, maps.get(n))
                 for n, p in _inputs(index, "--index").items()],
        out=out, state_dir=linkage.state_dir(state), as_of=day, tips=tips)
    result = run_month(Store(), local_operator(purpose="monthly protocol"), request)
    s = result.summary
    render.note(f"{s['period']}: {s['subjects']} subjects, {s['links']} links "
                f"{s['link_changes']}, {s['targets']} targets {s['targets_by_tier']}, "
                f"{s['detainers_drafted']} detainer drafts, {s['merges_open']} merges to review; "
                f"report {result.paths['month.pdf']}")


queue_app = typer.Typer(help="Work queues per field office and fugitive team.",
                        no_args_is_help=True)
detainer_app = typer.Typer(help="Detainer requests for inmates due for release.",
                           no_args_is_help=True)


def _queue_call(fn: Callable[..., T], *args: object, **kwargs: object) -> T:
    from cvis.fusion.queues import QueueError

    try:
        return fn(Store(), local_operator(purpose="work queue"), *args, **kwargs)
    except (QueueError, SubjectError, policy.NotVisible, policy.AccessDenied) as exc:
        render.error(str(exc))
        raise typer.Exit(1) from None


@queue_app.command("assign")
def queue_assign_command(
    subject_id: str, office: str,
    team: Annotated[str, typer.Option(help="Fugitive operations team.")] = "",
    assignee: Annotated[str, typer.Option(help="Who works it.")] = "",
    link: Annotated[str, typer.Option(help="The link (INDEX:RECORD) it rests on.")] = "",
) -> None:
    """Put a target in an office's (or team's) queue."""
    from cvis.fusion import queues

    job = _queue_call(queues.assign, subject_id, office, team, assignee, link)
    render.note(f"assignment {job}")


@queue_app.command("accept")
def queue_accept_command(assignment_id: int) -> None:
    from cvis.fusion import queues

    _queue_call(queues.accept, assignment_id)


@queue_app.command("outcome")
def queue_outcome_command(
    assignment_id: int,
    outcome: Annotated[str, typer.Argument(help="located | arrested | detainer_lodged | "
                                           "removed | not_found | wrong_person")],
    note: Annotated[str, typer.Option(help="What happened.")] = "",
    state: Annotated[Path | None, typer.Option(help="Linkage state directory.")] = None,
) -> None:
    """Close an assignment; wrong_person sends its link back to review."""
    from cvis.fusion import queues
    from cvis.linkage import service as linkage

    status = _queue_call(queues.record_outcome, assignment_id, outcome, note,
                         state_dir=linkage.state_dir(state))
    render.note(f"assignment {assignment_id}: {status}")


@queue_app.command("list")
def queue_list_command(office: Annotated[str | None, typer.Option()] = None) -> None:
    from cvis.fusion import queues

    rows = _queue_call(queues.queue, office)
    render.write_jsonl([{"assignment_id": r.id, "office": r.office, "team": r.team,
                         "assignee": r.assignee, "status": r.status, "link": r.link_key}
                        for r in rows], render.stdout())


@detainer_app.command("set")
def detainer_set_command(
    detainer_id: int,
    status: Annotated[str, typer.Argument(help="signed | lodged | honoured | declined | "
                                          "released_before_action")],
) -> None:
    """Sign a draft (an officer), then track what became of it."""
    from cvis.fusion import queues

    _queue_call(queues.set_detainer, detainer_id, status)


@target_app.command("share")
def target_share_command(
    partner: Annotated[list[str], typer.Option(help="Partner agency; repeatable.")],
    purpose: Annotated[str, typer.Option(help="Why they need to know.")],
    as_of: Annotated[str | None, typer.Option(help="YYYY-MM-DD")] = None,
    jsonl: Jsonl = None,
) -> None:
    """The 30-day high-priority list: critical and high targets, shared read-only."""
    from cvis.fusion import queues

    listed = _queue_call(queues.share_high_priority, partner, _day(as_of) or date.today(),
                         purpose)
    with render.output_stream(jsonl) as out:
        render.write_jsonl([t.contract() for t in listed], out)


add_share_commands(subject_app, "subject")  # joint investigations (cvis.fusion.shares)
