"""`cvis audit`: verify the chain, search the records (itself audited)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import typer

from cvis.audit import AuditQuery, audited, search_audit, verify_log
from cvis.cli import render
from cvis.store.db import Store

audit_app = typer.Typer(help="The tamper-evident audit log.", no_args_is_help=True)


@audit_app.command("verify")
def verify_command() -> None:
    """Exit 0 when the chain is intact, 1 naming the first altered, inserted or missing record."""
    store = Store()
    with audited(store, "cli", "audit.verify", "audit chain") as note:
        report = verify_log(store)
        note.detail = "intact" if report.intact else f"broken: {report.problem}"
    if not report.intact:
        render.error(f"audit chain broken: {report.problem}")
        raise typer.Exit(1)
    render.note(f"audit chain intact: {report.records} records")


@audit_app.command("search")
def search_command(
    user: Annotated[str | None, typer.Option()] = None,
    agency: Annotated[str | None, typer.Option()] = None,
    event: Annotated[str | None, typer.Option()] = None,
    outcome: Annotated[str | None, typer.Option()] = None,
    since: Annotated[datetime | None, typer.Option()] = None,
    until: Annotated[datetime | None, typer.Option()] = None,
    limit: Annotated[int, typer.Option(min=1)] = 100,
) -> None:
    """Records matching every given field, oldest first, as JSON lines."""
    store = Store()
    query = AuditQuery(user, agency, event, outcome, since, until, 0, limit)
    with audited(store, "cli", "audit.search", f"audit user={user} event={event}"):
        rows = search_audit(store, query)
    render.write_jsonl(rows, render.stdout())
