"""Accounts: lockout, token expiry and revocation, idle session lock, the CLI."""

from __future__ import annotations

from datetime import timedelta

import pyotp
import pytest
from typer.testing import CliRunner

from cvis.accounts.service import (
    AuthenticationFailed,
    authenticate_token,
    create_token,
    logon,
    revoke_token,
)
from cvis.cli.app import app
from cvis.config import Settings
from cvis.store.db import Store
from cvis.store.models import User, utcnow
from tests.service_helpers import PASSWORD, fast_argon2, make_accounts  # noqa: F401


def _code(store: Store, name: str) -> str:
    with store.session() as session:
        user = session.query(User).filter_by(name=name).one()
        return pyotp.TOTP(user.totp_secret or "").now()


def _try_logon(store: Store, name: str, password: str, code: str, now=None) -> str | None:  # type: ignore[no-untyped-def]
    try:
        return logon(store, name, password, code, now)
    except AuthenticationFailed:
        return None


def test_five_failed_logons_lock_the_account_for_ten_minutes_or_more(store: Store) -> None:
    make_accounts(store)
    name = "examiner-Agency A"
    for _ in range(5):
        assert _try_logon(store, name, "wrong", _code(store, name)) is None
    assert _try_logon(store, name, PASSWORD, _code(store, name)) is None  # locked
    later = utcnow() + timedelta(minutes=10)
    assert _try_logon(store, name, PASSWORD, _code(store, name), later) is None
    much_later = utcnow() + timedelta(minutes=16)
    assert _try_logon(store, name, PASSWORD, pyotp.TOTP("A" * 32).now(), much_later) is None
    with store.session() as session:
        secret = session.query(User).filter_by(name=name).one().totp_secret
    code = pyotp.TOTP(secret or "").at(much_later)
    assert _try_logon(store, name, PASSWORD, code, much_later) is not None


def test_logon_needs_the_second_factor(sqlite_store: Store) -> None:
    make_accounts(sqlite_store)
    assert _try_logon(sqlite_store, "analyst-Agency A", PASSWORD, "000000") is None
    code = _code(sqlite_store, "analyst-Agency A")
    assert _try_logon(sqlite_store, "analyst-Agency A", PASSWORD, code) is not None


def test_token_expiry_and_revocation(store: Store) -> None:
    make_accounts(store)
    with store.session() as session:
        row, token = create_token(session, "examiner-Agency A", expires_days=1, purpose="t")
    with store.session() as session:
        assert authenticate_token(session, token).user == "examiner-Agency A"
        with pytest.raises(AuthenticationFailed, match="expired"):
            authenticate_token(session, token, utcnow() + timedelta(days=1, seconds=1))
        revoke_token(session, row.id)
    with store.session() as session, pytest.raises(AuthenticationFailed, match="revoked"):
        authenticate_token(session, token)


def test_token_scope_narrows_the_role(sqlite_store: Store) -> None:
    make_accounts(sqlite_store)
    with sqlite_store.session() as session:
        _, token = create_token(session, "admin-Agency A", scopes=["lookup"], purpose="t")
        principal = authenticate_token(session, token)
    assert principal.may("lookup") and not principal.may("sets:write")


def test_interactive_session_locks_after_30_idle_minutes(sqlite_store: Store) -> None:
    make_accounts(sqlite_store)
    name = "examiner-Agency A"
    token = _try_logon(sqlite_store, name, PASSWORD, _code(sqlite_store, name))
    assert token
    with sqlite_store.session() as session:
        assert authenticate_token(session, token, utcnow() + timedelta(minutes=29)).interactive
    with sqlite_store.session() as session, pytest.raises(AuthenticationFailed, match="idle"):
        authenticate_token(session, token, utcnow() + timedelta(minutes=60))


def test_cli_accounts(cli_env: Settings, runner: CliRunner) -> None:
    assert runner.invoke(app, ["agency", "add", "Agency B"]).exit_code == 0
    assert runner.invoke(app, ["agency", "add", "Agency B"]).exit_code == 1
    added = runner.invoke(app, ["user", "add", "ana", "--agency", "Agency B", "--role", "analyst",
                                "--password-stdin"], input="a benign long passphrase\n")
    assert added.exit_code == 0, added.output
    bad_role = runner.invoke(app, ["user", "add", "bob", "--agency", "Agency B", "--role", "boss"])
    assert bad_role.exit_code == 1 and "unknown role" in bad_role.output
    made = runner.invoke(app, ["token", "create", "ana", "--expires-days", "5", "--scope",
                               "lookup", "--purpose", "triage of case 7"])
    assert made.exit_code == 0, made.output
    token = made.stdout.strip().splitlines()[-1]
    assert token.startswith("cvis_")
    store = Store(cli_env)
    with store.session() as session:
        principal = authenticate_token(session, token)
    store.dispose()
    assert principal.permissions == frozenset({"lookup"})


@pytest.mark.parametrize("password, why", [
    ("short-1", "at least 12"), ("password1234", "common or breached"),
    ("Password123!", "common or breached"), ("aaaaaaaaaaaaaaa", "different characters"),
    ("ana-is-my-name-2026", "user name"),
])
def test_the_password_policy(cli_env: Settings, runner: CliRunner, password: str,
                             why: str) -> None:
    assert runner.invoke(app, ["agency", "add", "Agency B"]).exit_code == 0
    added = runner.invoke(app, ["user", "add", "ana", "--agency", "Agency B", "--role",
                                "analyst", "--password-stdin"], input=password + "\n")
    assert added.exit_code == 1 and why in added.output


def test_user_and_token_lists(cli_env: Settings, runner: CliRunner) -> None:
    import json

    assert runner.invoke(app, ["agency", "add", "Agency B"]).exit_code == 0
    for name, role in (("ana", "analyst"), ("cat", "curator")):
        assert runner.invoke(app, ["user", "add", name, "--agency", "Agency B",
                                   "--role", role]).exit_code == 0
    no_purpose = runner.invoke(app, ["token", "create", "ana"])
    assert no_purpose.exit_code == 1 and "purpose" in no_purpose.output
    made = runner.invoke(app, ["token", "create", "cat", "--purpose", "nightly sync"])
    token = made.stdout.strip().splitlines()[-1]
    users = [json.loads(x) for x in runner.invoke(app, ["user", "list", "--json"]).stdout
             .splitlines()]
    assert [(u["name"], u["agency"], u["role"]) for u in users] == [
        ("ana", "Agency B", "analyst"), ("cat", "Agency B", "curator")]
    listed = runner.invoke(app, ["token", "list", "--json"])
    (row,) = [json.loads(x) for x in listed.stdout.splitlines()]
    assert row["user"] == "cat" and row["purpose"] == "nightly sync" and not row["revoked"]
    assert token not in listed.stdout and token.startswith(row["prefix"])
    assert "cat" in runner.invoke(app, ["user", "list"]).stdout


def test_a_logon_name_with_nul_is_an_unknown_user_on_both_backends(store: Store) -> None:
    """PostgreSQL cannot be asked about a name holding NUL: it is refused like any unknown
    user (the schema fuzz found a 500 here)."""
    with pytest.raises(AuthenticationFailed):
        logon(store, "ana\x00", "wrong password", "000000")
