"""The audit chain: intact verifies; an altered, removed or appended row is named."""

from __future__ import annotations

from sqlalchemy import delete, text, update
from typer.testing import CliRunner

from cvis.audit import Actor, AuditEntry, audited, record_event, verify_chain
from cvis.audit.chain import record_digest
from cvis.cli.app import app
from cvis.config import Settings
from cvis.store.db import Store
from cvis.store.models import AuditRecord

ACTOR = Actor("examiner1", "Agency A", "127.0.0.1")


def _fill(store: Store, count: int = 5) -> None:
    for i in range(count):
        record_event(store, AuditEntry("test", "lookup", ACTOR, "success", f"md5:{i}", "case 7"))


def _verify(store: Store):  # type: ignore[no-untyped-def]
    with store.session() as session:
        return verify_chain(session)


def test_intact_chain_verifies(store: Store) -> None:
    _fill(store)
    report = _verify(store)
    assert report.intact and report.records == 5


def test_altered_row_is_named(store: Store) -> None:
    _fill(store)
    with store.session() as session:
        session.execute(update(AuditRecord).where(AuditRecord.seq == 3).values(user="someone"))
    report = _verify(store)
    assert not report.intact and report.first_bad_seq == 3 and "altered" in (report.problem or "")


def test_removed_row_is_named(store: Store) -> None:
    _fill(store)
    with store.session() as session:
        session.execute(delete(AuditRecord).where(AuditRecord.seq == 2))
    report = _verify(store)
    assert not report.intact and report.first_bad_seq == 2 and "missing" in (report.problem or "")


def test_removed_tail_is_named(store: Store) -> None:
    _fill(store)
    with store.session() as session:
        session.execute(delete(AuditRecord).where(AuditRecord.seq == 5))
    report = _verify(store)
    assert not report.intact and report.first_bad_seq == 5


def test_appended_forged_row_is_named(store: Store) -> None:
    """A forger who recomputes the hash still cannot move the head row's anchor unseen."""
    _fill(store, 2)
    with store.session() as session:
        last = session.get_one(AuditRecord, 2)
        fields = {"component": "x", "event": "x", "user": "x", "agency": "", "outcome": "success",
                  "client": "", "object": "", "purpose": "", "detail": ""}
        session.add(AuditRecord(seq=3, at=last.at, prev_hash=last.record_hash,
                                record_hash=record_digest(last.record_hash, 3, last.at, fields),
                                **fields))
    report = _verify(store)
    assert not report.intact and report.first_bad_seq == 3


def test_audited_records_failure_and_reraises(store: Store) -> None:
    try:
        with audited(store, "cli", "sets.import", "set:x", actor=ACTOR):
            raise ValueError("bad list")
    except ValueError:
        pass
    with store.session() as session:
        row = session.get_one(AuditRecord, 1)
        assert (row.outcome, row.event, row.detail) == ("failure", "sets.import",
                                                       "ValueError: bad list")


def test_cli_verify_exit_codes(cli_env: Settings, runner: CliRunner) -> None:
    assert runner.invoke(app, ["agency", "add", "Agency A"]).exit_code == 0
    ok = runner.invoke(app, ["audit", "verify"])
    assert ok.exit_code == 0, ok.output
    store = Store(cli_env)
    with store.session() as session:
        session.execute(text("UPDATE audit_records SET outcome = 'failure' WHERE seq = 1"))
    store.dispose()
    broken = runner.invoke(app, ["audit", "verify"])
    assert broken.exit_code == 1 and "record 1" in broken.output


def test_cli_search_is_itself_audited(cli_env: Settings, runner: CliRunner) -> None:
    runner.invoke(app, ["agency", "add", "Agency A"])
    first = runner.invoke(app, ["audit", "search", "--event", "agency.add"])
    assert first.exit_code == 0 and '"agency:Agency A"' in first.output
    again = runner.invoke(app, ["audit", "search", "--event", "audit.search"])
    assert '"audit.search"' in again.output
