"""`cvis office`: the area-of-responsibility table (which field office owns a place)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cvis import policy
from cvis.audit import audited
from cvis.cli import render
from cvis.offices.service import OfficeTableError, import_offices, list_offices, read_offices
from cvis.policy.actors import local_operator
from cvis.store.db import Store

office_app = typer.Typer(help="Field offices and their areas of responsibility.",
                         no_args_is_help=True)


@office_app.command("import")
def import_command(
    file: Annotated[Path, typer.Argument(help="CSV: office_id,name,email,states,counties")],
) -> None:
    """Replace the area-of-responsibility table with FILE (checked whole before storing)."""
    try:
        rows = read_offices(file)
    except OfficeTableError as exc:
        render.error(str(exc))
        raise typer.Exit(2) from None
    store = Store()
    policy.require(local_operator(), "offices:write", policy.Resource("office"))
    with audited(store, "cli", "office.import", f"file:{file}") as note, \
            store.session() as session:
        count = import_offices(session, rows)
        note.detail = f"{count} offices"
    render.note(f"{count} offices imported from {file}")


@office_app.command("list")
def list_command(
    json: Annotated[bool, typer.Option("--json", help="JSON lines instead of a table.")] = False,
) -> None:
    """Every office with the states and counties it answers for."""
    store = Store()
    policy.require(local_operator(), "offices:read", policy.Resource("office"))
    with audited(store, "cli", "office.list", "offices"), store.session() as session:
        rows = [{
            "office_id": o.office_id, "name": o.name, "email": o.email,
            "states": ["*"] if o.national else sorted({a.state for a in o.areas if not a.county}),
            "counties": sorted(f"{a.state}:{a.county}" for a in o.areas if a.county),
        } for o in list_offices(session)]
    if json:
        render.write_jsonl(rows, render.stdout())
        return
    render.table("Offices", ["office", "name", "email", "states", "counties"],
                 [[r["office_id"], r["name"], r["email"], ";".join(r["states"]),
                   ";".join(r["counties"])] for r in rows])
