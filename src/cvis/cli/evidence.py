"""`cvis evidence`: the chain-of-custody records of a case, and re-verifying them."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from sqlalchemy import select
from sqlalchemy.orm import Session

from cvis.audit import audited
from cvis.cli import render
from cvis.cli.errors import USAGE
from cvis.evidence.custody import MANIFEST_KINDS, case_evidence, manifest_of, verify_evidence
from cvis.store.db import Store
from cvis.store.models import Case, Evidence

evidence_app = typer.Typer(help="Evidence: custody records and verification.",
                           no_args_is_help=True)
COLUMNS = ["id", "kind", "source", "size", "sha256", "files", "E01 hash ok", "acquired by",
           "acquired at", "verified"]


def _case_id(store: Store, number: str) -> int:
    with store.session() as session:
        case_id = session.scalar(select(Case.id).where(Case.number == number))
    if case_id is None:
        render.error(f"no case numbered {number!r}")
        raise typer.Exit(USAGE)
    return case_id


def _record(session: Session, e: Evidence) -> dict[str, Any]:
    """One custody record in full: a folder's (or a prefix's) sha256 is that of its manifest."""
    manifest = manifest_of(session, e.id) if e.kind in MANIFEST_KINDS else None
    return {
        "id": e.id, "kind": e.kind, "source": e.source_path,
        "size": manifest.total_size if manifest else e.size,
        "sha256": manifest.sha256 if manifest else e.sha256,
        "files": manifest.file_count if manifest else None,
        "e01_hash_ok": e.stored_hash_ok, "acquired_by": e.acquired_by,
        "acquired_at": e.acquired_at.isoformat() if e.acquired_at else None,
        "verified": e.verified_ok,
        "verified_at": e.verified_at.isoformat() if e.verified_at else None,
    }


@evidence_app.command("list")
def list_command(
    case: Annotated[str, typer.Option(help="Case number.")],
    json_lines: Annotated[bool, typer.Option("--json", help="JSON lines instead of a table.")
                          ] = False,
) -> None:
    """Every evidence source of a case with its recorded size and hashes (never shortened)."""
    store = Store()
    case_id = _case_id(store, case)
    with audited(store, "cli", "evidence.list", f"case:{case}"), store.session() as session:
        records = [_record(session, e) for e in case_evidence(session, case_id)]
    if json_lines:
        render.write_jsonl(records, render.stdout())
        return
    render.table(f"evidence of case {case}", COLUMNS,
                 ([r["id"], r["kind"], r["source"], r["size"], r["sha256"], r["files"],
                   r["e01_hash_ok"], r["acquired_by"], r["acquired_at"], r["verified"]]
                  for r in records))


@evidence_app.command("verify")
def verify_command(
    evidence_id: Annotated[int | None, typer.Argument(help="Evidence id (see list).")] = None,
    case: Annotated[str | None, typer.Option(help="Verify every source of this case.")] = None,
) -> None:
    """Re-hash evidence (a folder or a prefix in a store: every file or object) and say
    whether it changed (exit 1 if so)."""
    if (evidence_id is None) == (case is None):
        render.error("give an evidence id or --case, not both")
        raise typer.Exit(USAGE)
    store = Store()
    ids = [evidence_id] if evidence_id is not None else [
        e.id for e in _case_evidence(store, _case_id(store, case or ""))
    ]
    failed = 0
    for one in ids:
        try:
            with audited(store, "cli", "evidence.verify", f"evidence:{one}"), \
                    store.session() as session:
                result = verify_evidence(session, one)
        except LookupError as exc:
            render.error(str(exc))
            raise typer.Exit(USAGE) from None
        render.verification(result)
        failed += not result.unchanged
    if failed:
        raise typer.Exit(1)


def _case_evidence(store: Store, case_id: int) -> list[Evidence]:
    with store.session() as session:
        return case_evidence(session, case_id)
