"""`cvis evidence`: the chain-of-custody records of a case, and re-verifying them."""

from __future__ import annotations

from typing import Annotated

import typer
from sqlalchemy import select

from cvis.audit import audited
from cvis.cli import render
from cvis.evidence.custody import case_evidence, verify_evidence
from cvis.store.db import Store
from cvis.store.models import Case, Evidence

evidence_app = typer.Typer(help="Evidence: custody records and verification.",
                           no_args_is_help=True)


def _case_id(store: Store, number: str) -> int:
    with store.session() as session:
        case_id = session.scalar(select(Case.id).where(Case.number == number))
    if case_id is None:
        render.error(f"no case {number}")
        raise typer.Exit(1)
    return case_id


@evidence_app.command("list")
def list_command(case: Annotated[str, typer.Option(help="Case number.")]) -> None:
    """Every evidence source of a case with its recorded size and hashes."""
    store = Store()
    case_id = _case_id(store, case)
    with audited(store, "cli", "evidence.list", f"case:{case}"), store.session() as session:
        rows = [
            [e.id, e.kind, e.source_path, e.size, e.sha256, e.stored_hash_ok, e.acquired_by,
             e.acquired_at, e.verified_ok]
            for e in case_evidence(session, case_id)
        ]
    render.table(f"evidence of case {case}",
                 ["id", "kind", "source", "size", "sha256", "E01 hash ok", "acquired by",
                  "acquired at", "verified"], rows)


@evidence_app.command("verify")
def verify_command(
    evidence_id: Annotated[int | None, typer.Argument(help="Evidence id (see list).")] = None,
    case: Annotated[str | None, typer.Option(help="Verify every source of this case.")] = None,
) -> None:
    """Re-hash evidence and say whether it changed since it was recorded (exit 1 if so)."""
    if (evidence_id is None) == (case is None):
        render.error("give an evidence id or --case, not both")
        raise typer.Exit(2)
    store = Store()
    ids = [evidence_id] if evidence_id is not None else [
        e.id for e in _case_evidence(store, _case_id(store, case or ""))
    ]
    changed = 0
    for one in ids:
        try:
            with audited(store, "cli", "evidence.verify", f"evidence:{one}"), \
                    store.session() as session:
                result = verify_evidence(session, one)
        except LookupError as exc:
            render.error(str(exc))
            raise typer.Exit(1) from None
        render.verification(result)
        changed += result.current_sha256 is not None and not result.unchanged
    if changed:
        raise typer.Exit(1)


def _case_evidence(store: Store, case_id: int) -> list[Evidence]:
    with store.session() as session:
        return case_evidence(session, case_id)
