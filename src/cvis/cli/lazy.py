"""The `cvis` command groups, imported only when their command runs.

Most groups import SQLAlchemy, pandas, Splink or reportlab; `cvis --help` and `cvis hash`
need none of that. Each group is named here with the module that defines it and its
one-line help, so the top-level help lists every group without importing any; the
module is imported when the group (or its own --help) is used. A test keeps the help
lines here equal to the groups' own.
"""

from __future__ import annotations

import importlib
from collections.abc import MutableMapping
from dataclasses import dataclass
from typing import Any

import typer
from typer._click.core import Command
from typer.core import TyperCommand


@dataclass(frozen=True)
class LazyCommand:
    module: str
    attr: str  # a typer.Typer (a group) or a function (one command)
    help: str


LAZY: dict[str, LazyCommand] = {
    "sets": LazyCommand("cvis.cli.sets", "sets_app",
                        "Hash sets: import, export, versions, feedback, sync."),
    "evidence": LazyCommand("cvis.cli.evidence", "evidence_app",
                            "Evidence: custody records and verification."),
    "case": LazyCommand("cvis.cli.cases", "case_app",
                        "Cases: open, list, show, close, series, deconfliction."),
    "review": LazyCommand("cvis.cli.cases", "review_command",
                          "Review a case's matches: interactively, or one decision at a time "
                          "with options."),
    "report": LazyCommand("cvis.cli.cases", "report_command",
                          "Write the victim-identification report for prosecution (no imagery)."),
    "agency": LazyCommand("cvis.cli.accounts", "agency_app",
                          "Agencies: the unit of need-to-know."),
    "user": LazyCommand("cvis.cli.accounts", "user_app", "Users: one agency, one role each."),
    "token": LazyCommand("cvis.cli.accounts", "token_app",
                         "API tokens: scoped, expiring, revocable."),
    "audit": LazyCommand("cvis.cli.audit", "audit_app", "The tamper-evident audit log."),
    "link": LazyCommand("cvis.cli.link", "link_app",
                        "Registry cross-matching against other agencies' person indices."),
    "travel": LazyCommand("cvis.cli.travel", "travel_app",
                          "Traveller screening against the registry."),
    "notice": LazyCommand("cvis.cli.travel", "notice_app", "Notices to foreign governments."),
    "complaint": LazyCommand("cvis.cli.travel", "complaint_app",
                             "Complaints about notices, and their redress."),
    "target": LazyCommand("cvis.cli.targets", "target_app",
                          "Prioritised targets (a person decides what to do)."),
    "subject": LazyCommand("cvis.cli.targets", "subject_app",
                           "Subjects: facts with their sources; merges."),
    "month": LazyCommand("cvis.cli.targets", "month_app", "The monthly protocol, in one command."),
    "queue": LazyCommand("cvis.cli.targets", "queue_app",
                         "Work queues per field office and fugitive team."),
    "detainer": LazyCommand("cvis.cli.targets", "detainer_app",
                            "Detainer requests for inmates due for release."),
    "public": LazyCommand("cvis.cli.portal", "public_app",
                          "The public portal: posters, tips, alerts, registries."),
    "poster": LazyCommand("cvis.cli.portal", "poster_app",
                          "Most-wanted posters: publish, update, withdraw."),
    "office": LazyCommand("cvis.cli.offices", "office_app",
                          "Field offices and their areas of responsibility."),
    "tip": LazyCommand("cvis.cli.tips", "tip_app",
                       "The tip line: submit tips and referrals, talk with tipsters."),
    "lead": LazyCommand("cvis.cli.tips", "lead_app",
                        "Leads: queues by office and tier, and each lead's life."),
}

# The order of `cvis --help`: typer's own (single commands first, then groups).
ORDER = ("review", "report", "serve", "hash", "scan", "lookup", "demo", "sets", "evidence",
         "case", "db", "agency", "user", "token", "audit", "link", "travel", "notice",
         "complaint", "target", "subject", "month", "queue", "detainer", "public", "poster",
         "office", "tip", "lead")

_loaded: dict[str, Command] = {}


def load(name: str) -> Command:
    """The group or command itself (its module imported now)."""
    if name not in _loaded:
        entry = LAZY[name]
        target = getattr(importlib.import_module(entry.module), entry.attr)
        command: Command
        if isinstance(target, typer.Typer):
            command = typer.main.get_group(target)
        else:
            holder = typer.Typer()
            holder.command(name)(target)
            command = typer.main.get_command(holder)
        command.name = name
        _loaded[name] = command
    return _loaded[name]


class LazyCommands(dict[str, Any]):
    """A group's ``commands``: the lazy groups appear at once, each imported on first
    access (``get``, ``[]``), so code that walks ``group.commands`` needs no change."""

    def __init__(self, eager: MutableMapping[str, Command]) -> None:
        super().__init__()
        for name in (*ORDER, *eager):
            if name in eager or name in LAZY:
                super().__setitem__(name, eager.get(name))

    def __getitem__(self, name: str) -> Command:
        value = super().__getitem__(name)
        if value is None:
            value = load(name)
            super().__setitem__(name, value)
        return value

    def get(self, name: str, default: Any = None) -> Any:
        return self[name] if name in self else default

    def loaded(self, name: str) -> bool:
        return super().get(name) is not None

    def values(self) -> Any:
        return [self[name] for name in self]

    def items(self) -> Any:
        return [(name, self[name]) for name in self]


def placeholder(name: str) -> Command:
    """What the top-level help lists for a group not yet imported: its name and help."""
    return TyperCommand(name, help=LAZY[name].help, short_help=LAZY[name].help)
