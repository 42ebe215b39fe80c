"""`cvis case share|unshare|shares` and `cvis subject share|unshare|shares`: joint
investigations with partner agencies (parse, call cvis.fusion.shares, render).

No ``from __future__ import annotations`` here: typer reads the option annotations, whose
help texts name the closure's ``kind``, so they must be evaluated where they are written."""

from collections.abc import Callable
from typing import Annotated, TypeVar

import typer

from cvis import policy
from cvis.cli import render
from cvis.policy.actors import local_operator
from cvis.store.db import Store

T = TypeVar("T")


def _call(what: str, fn: Callable[..., T], *args: object) -> T:
    from cvis.fusion.shares import ShareError

    try:
        return fn(Store(), local_operator(purpose=what), *args)
    except policy.NotVisible:
        render.error(f"no such {what.split()[0]}")
        raise typer.Exit(1) from None
    except (ShareError, policy.AccessDenied) as exc:
        render.error(str(exc))
        raise typer.Exit(1) from None


def add_share_commands(app: typer.Typer, kind: str) -> None:
    """Add share, unshare and shares to `app` for resources of `kind` (case or subject)."""

    @app.command("share")
    def share_command(
        ref: Annotated[str, typer.Argument(help=f"The {kind} to share.")],
        agency: Annotated[list[str], typer.Option(help="Partner agency (foreign partners "
                                                  "too); repeatable.")],
        purpose: Annotated[str, typer.Option(help="Why the partner needs to know.")],
        rights: Annotated[str, typer.Option(help="Comma-separated: read, review"
                                            + (", export" if kind == "case" else ""))] = "read",
    ) -> None:
        """Share with partner agencies (a joint investigation), with the rights each holds."""
        from cvis.fusion import shares

        for partner in agency:
            share_id = _call(f"{kind} share", shares.share, kind, ref, partner,
                             rights.split(","), purpose)
            render.note(f"share {share_id}: {kind} {ref} with {partner} ({rights})")

    @app.command("unshare")
    def unshare_command(
        share_id: Annotated[int, typer.Argument(help="The share's id (see `shares`).")],
        reason: Annotated[str, typer.Option(help="Why it ends.")] = "",
    ) -> None:
        """Revoke a share: the partner sees nothing of it from now on."""
        from cvis.fusion import shares

        ended = _call(f"{kind} share revoke", shares.revoke, share_id, reason)
        render.note(f"share {share_id} revoked: {ended.kind} {ended.ref}, {ended.partner}")

    @app.command("shares")
    def shares_command(ref: Annotated[str, typer.Argument(help=f"The {kind}.")]) -> None:
        """The partners this is shared with, and the rights each holds (ended ones too)."""
        from cvis.fusion import shares

        rows = _call(f"{kind} shares", shares.list_shares, kind, ref)
        render.write_jsonl([{"share_id": r.share_id, "partner": r.partner, "rights": r.rights,
                             "purpose": r.purpose, "shared_by": r.shared_by,
                             "shared_at": r.shared_at.isoformat(), "live": r.live,
                             "revoked_by": r.revoked_by} for r in rows], render.stdout())
