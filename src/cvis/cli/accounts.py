"""`cvis agency`, `cvis user`, `cvis token`: accounts for the multi-agency service."""

from __future__ import annotations

import sys
from dataclasses import asdict
from typing import Annotated, Any

import typer

from cvis.accounts.credentials import totp_uri
from cvis.accounts.roles import ROLES, UnknownRole
from cvis.accounts.service import (
    AccountError,
    add_agency,
    add_user,
    create_token,
    list_tokens,
    list_users,
    revoke_token,
)
from cvis.audit import audited
from cvis.cli import render
from cvis.cli.errors import fail
from cvis.store.db import Store

agency_app = typer.Typer(help="Agencies: the unit of need-to-know.", no_args_is_help=True)
user_app = typer.Typer(help="Users: one agency, one role each.", no_args_is_help=True)
token_app = typer.Typer(help="API tokens: scoped, expiring, revocable.", no_args_is_help=True)


@agency_app.command("add")
def agency_add(name: str) -> None:
    """Add an agency."""
    store = Store()
    try:
        with audited(store, "cli", "agency.add", f"agency:{name}"), store.session() as session:
            add_agency(session, name)
    except AccountError as exc:
        raise fail(exc) from None
    render.note(f"agency {name!r} added")


@user_app.command("add")
def user_add(
    name: str,
    agency: Annotated[str, typer.Option(help="The user's agency.")],
    role: Annotated[str, typer.Option(help=f"One of: {', '.join(ROLES)}.")],
    password_stdin: Annotated[bool, typer.Option(help="Read a password from stdin.")] = False,
) -> None:
    """Add a user; prints the TOTP secret for their authenticator once."""
    password = sys.stdin.readline().rstrip("\n") if password_stdin else None
    if password_stdin and not password:
        raise fail(ValueError("no password on stdin"))
    store = Store()
    try:
        with audited(store, "cli", "user.add", f"user:{name} role:{role} agency:{agency}"), \
                store.session() as session:
            _, secret = add_user(session, name, agency, role, password)
    except (AccountError, UnknownRole) as exc:
        raise fail(exc) from None
    render.note(f"user {name!r} added ({role}, {agency})")
    render.secret("TOTP secret (enter in the authenticator; shown once)", secret)
    render.secret("TOTP URI", totp_uri(secret, name))


@token_app.command("create")
def token_create(
    name: Annotated[str, typer.Argument(help="The user the token acts as.")],
    expires_days: Annotated[int, typer.Option(help="Days until it expires.", min=1)] = 90,
    scope: Annotated[
        list[str] | None, typer.Option(help="A permission to grant (repeat); default: the role's.")
    ] = None,
    purpose: Annotated[str, typer.Option(
        help="Why this service searches (required; fixed: callers cannot state another).")] = "",
) -> None:
    """Create an API token; the token is printed once and only its digest is stored.
    Its scopes can be no wider than the user's role."""
    store = Store()
    try:
        with audited(store, "cli", "token.create", f"user:{name}") as note, \
                store.session() as session:
            row, token = create_token(session, name, scopes=scope, expires_days=expires_days,
                                      purpose=purpose)
            note.detail = f"token id {row.id}, scopes {','.join(row.scopes)}"
    except (AccountError, ValueError) as exc:
        raise fail(exc) from None
    expires = f"{row.expires_at:%Y-%m-%d}" if row.expires_at else "never"
    render.note(f"token {row.id} for {name!r}, scopes {', '.join(row.scopes)}, "
                f"purpose {row.purpose!r}, expires {expires}")
    render.secret("token (shown once)", token)


JsonFlag = Annotated[bool, typer.Option("--json", help="One JSON object per line.")]


@user_app.command("list")
def user_list(
    agency: Annotated[str | None, typer.Option(help="Only this agency's users.")] = None,
    json_lines: JsonFlag = False,
) -> None:
    """Users with their agency, role and whether they are locked or disabled."""
    store = Store()
    with audited(store, "cli", "user.list", f"users agency={agency}"), \
            store.session() as session:
        users = [asdict(u) for u in list_users(session, agency)]
    _listing(users, json_lines, "users", ["name", "agency", "role", "disabled", "locked_until"])


@token_app.command("list")
def token_list(
    user: Annotated[str | None, typer.Option(help="Only this user's tokens.")] = None,
    json_lines: JsonFlag = False,
) -> None:
    """Tokens by id, prefix, scopes, purpose and dates (the token text is never stored)."""
    store = Store()
    with audited(store, "cli", "token.list", f"tokens user={user}"), \
            store.session() as session:
        tokens = [asdict(t) for t in list_tokens(session, user)]
    _listing(tokens, json_lines, "tokens", ["id", "user", "kind", "prefix", "scopes", "purpose",
                                            "expires_at", "revoked"])


def _listing(rows: list[dict[str, Any]], json_lines: bool, title: str,
             columns: list[str]) -> None:
    if json_lines:
        render.write_jsonl(rows, render.stdout())
        return
    render.table(title, columns, ([", ".join(r[c]) if isinstance(r[c], list) else r[c]
                                   for c in columns] for r in rows))


@token_app.command("revoke")
def token_revoke(token_id: int) -> None:
    """Revoke a token at once."""
    store = Store()
    try:
        with audited(store, "cli", "token.revoke", f"token:{token_id}"), \
                store.session() as session:
            revoke_token(session, token_id)
    except AccountError as exc:
        raise fail(exc) from None
    render.note(f"token {token_id} revoked")
