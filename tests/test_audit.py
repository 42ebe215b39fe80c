"""The audit chain: intact verifies; an altered, removed or appended row is named."""

from __future__ import annotations

import hashlib
import os
import pwd
import shutil
from pathlib import Path

import pytest
from sqlalchemy import delete, func, select, text, update
from typer.testing import CliRunner

from cvis.audit import Actor, AuditEntry, audited, record_event, verify_log
from cvis.audit.chain import GENESIS, record_digest
from cvis.cli.app import app
from cvis.config import Settings
from cvis.store.db import Store
from cvis.store.models import AuditHead, AuditRecord

ACTOR = Actor("examiner1", "Agency A", "127.0.0.1")


def _fill(store: Store, count: int = 5) -> None:
    for i in range(count):
        record_event(store, AuditEntry("test", "lookup", ACTOR, "success", f"md5:{i}", "case 7"))


def _verify(store: Store):  # type: ignore[no-untyped-def]
    return verify_log(store)


def _roll_head_back(store: Store, keep: int) -> None:
    """What an attacker with database access does after cutting the tail: a consistent head."""
    with store.session() as session:
        session.execute(delete(AuditRecord).where(AuditRecord.seq > keep))
        last = session.scalar(select(AuditRecord.record_hash).where(AuditRecord.seq == keep))
        session.execute(update(AuditHead).values(seq=keep, record_hash=last or GENESIS))


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


FORGED = {"component": "x", "event": "x", "user": "x", "agency": "", "outcome": "success",
          "client": "", "object": "", "purpose": "", "detail": "", "claimed": ""}


@pytest.mark.parametrize("guess", [b"", b"0" * 64])
def test_appended_forged_row_with_head_updated_is_named(store: Store, guess: bytes) -> None:
    """A forger who writes a well-formed record and moves the head still lacks the key."""
    _fill(store, 2)
    with store.session() as session:
        last = session.scalars(select(AuditRecord).where(AuditRecord.seq == 2)).one()
        digest = (record_digest(guess, last.record_hash, 3, last.at, FORGED) if guess else
                  hashlib.sha256(f"{last.record_hash}\n3".encode()).hexdigest())
        session.add(AuditRecord(seq=3, at=last.at, prev_hash=last.record_hash,
                                record_hash=digest, **FORGED))
        session.execute(update(AuditHead).values(seq=3, record_hash=digest))
    report = _verify(store)
    assert not report.intact and report.first_bad_seq == 3


@pytest.mark.parametrize("keep", [4, 0])
def test_truncated_tail_or_wiped_log_with_head_rolled_back_is_named(
    store: Store, keep: int
) -> None:
    _fill(store)
    _roll_head_back(store, keep)
    report = _verify(store)
    assert not report.intact and "checkpoint" in (report.problem or "")


def test_three_hundred_records_cut_from_the_end_are_noticed(store: Store) -> None:
    for i in range(310):
        record_event(store, AuditEntry("test", "lookup", ACTOR, "success", f"md5:{i}"))
    _roll_head_back(store, 10)
    assert not _verify(store).intact


def test_rewritten_history_is_named(store: Store) -> None:
    """Every record recomputed in order (a plain hash chain would verify again)."""
    _fill(store)
    with store.session() as session:
        prev = GENESIS
        for record in session.scalars(select(AuditRecord).order_by(AuditRecord.seq)):
            fields = {name: getattr(record, name) for name in FORGED} | {"user": "nobody"}
            digest = record_digest(b"guessed key", prev, record.seq, record.at, fields)
            record.user, record.prev_hash, record.record_hash = "nobody", prev, digest
            prev = digest
        session.execute(update(AuditHead).values(record_hash=prev))
    report = _verify(store)
    assert not report.intact and report.first_bad_seq == 1


def test_an_older_copy_of_the_database_is_noticed(tmp_path: Path) -> None:
    """The database file is copied, more is audited, then the copy is put back (a file
    restore: SQLite's case; on PostgreSQL the same is a dump restored)."""
    home = tmp_path / "cvis-home"
    sqlite_store = Store(Settings(home=home, database_url=f"sqlite:///{home / 'cvis.db'}"))
    _fill(sqlite_store, 3)
    db = sqlite_store.settings.home / "cvis.db"
    sqlite_store.dispose()
    shutil.copy(db, db.with_suffix(".old"))
    store = Store(sqlite_store.settings)
    _fill(store, 3)
    assert _verify(store).intact
    store.dispose()
    for suffix in ("-wal", "-shm"):
        db.with_name(db.name + suffix).unlink(missing_ok=True)
    shutil.copy(db.with_suffix(".old"), db)
    restored = Store(sqlite_store.settings)
    report = _verify(restored)
    assert not report.intact and "checkpoint" in (report.problem or "")
    _fill(restored, 5)  # and audited work goes on over the restored copy
    assert not _verify(restored).intact
    restored.dispose()


def test_older_copy_of_the_audit_tables_on_either_backend(store: Store) -> None:
    _fill(store, 3)
    with store.session() as session:
        saved = session.execute(select(AuditHead.seq, AuditHead.record_hash)).one()
    _fill(store, 3)
    with store.session() as session:  # the restore: later records gone, head as it was
        session.execute(delete(AuditRecord).where(AuditRecord.seq > saved[0]))
        session.execute(update(AuditHead).values(seq=saved[0], record_hash=saved[1]))
    assert not _verify(store).intact
    _fill(store, 4)
    assert not _verify(store).intact


def test_the_key_is_kept_outside_the_database_with_mode_0600(store: Store) -> None:
    _fill(store, 1)
    key_file = store.settings.home / "audit.key"
    assert key_file.exists() and (key_file.stat().st_mode & 0o777) == 0o600
    with store.session() as session:
        dumped = " ".join(str(r) for r in session.execute(text("SELECT * FROM audit_records")))
    assert key_file.read_text().strip() not in dumped


def test_a_change_that_committed_is_never_left_without_a_record(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The process dies after the change commits and before its outcome record: the intent
    record written before the change is on the log (a kill -9 on main left nothing)."""
    import cvis.audit.log as log

    real = log.record_event
    calls = {"n": 0}

    def dies_on_the_outcome(store_: Store, entry: AuditEntry) -> None:
        calls["n"] += 1
        if calls["n"] > 1:
            raise SystemExit(137)
        real(store_, entry)

    monkeypatch.setattr(log, "record_event", dies_on_the_outcome)
    with pytest.raises(SystemExit), audited(store, "cli", "sets.import", "set:x", actor=ACTOR):
        with store.session() as session:
            session.execute(text("INSERT INTO agencies (name, created_at) "
                                 "VALUES ('changed', CURRENT_TIMESTAMP)"))
    with store.session() as session:
        events = list(session.execute(select(AuditRecord.event, AuditRecord.object)))
        assert session.scalar(select(func.count()).select_from(AuditRecord)) == 1
    assert events == [("sets.import", "set:x")]


def test_audited_records_failure_and_reraises(store: Store) -> None:
    try:
        with audited(store, "cli", "sets.import", "set:x", actor=ACTOR):
            raise ValueError("bad list")
    except ValueError:
        pass
    with store.session() as session:
        rows = session.scalars(select(AuditRecord).order_by(AuditRecord.seq)).all()
        assert [(r.outcome, r.event) for r in rows] == [("started", "sets.import"),
                                                       ("failure", "sets.import")]
        assert rows[1].detail == "ValueError: bad list"


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


def test_cli_actor_is_the_os_account_with_the_claimed_name_beside(
    cli_env: Settings, runner: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    """LOGNAME=someone.else was recorded as someone.else on main."""
    monkeypatch.setenv("LOGNAME", "someone.else")
    monkeypatch.setenv("USER", "someone.else")
    monkeypatch.setenv("CVIS_USER", "claimed.name")
    assert runner.invoke(app, ["agency", "add", "Agency A"]).exit_code == 0
    store = Store(cli_env)
    with store.session() as session:
        row = session.scalars(select(AuditRecord).order_by(AuditRecord.seq.desc())).first()
    store.dispose()
    assert row is not None
    uid = os.getuid()
    assert row.user == f"os:{uid}:{pwd.getpwuid(uid).pw_name}" and row.claimed == "claimed.name"
    assert "someone.else" not in row.user


def test_cli_search_is_itself_audited(cli_env: Settings, runner: CliRunner) -> None:
    runner.invoke(app, ["agency", "add", "Agency A"])
    first = runner.invoke(app, ["audit", "search", "--event", "agency.add"])
    assert first.exit_code == 0 and '"agency:Agency A"' in first.output
    again = runner.invoke(app, ["audit", "search", "--event", "audit.search"])
    assert '"audit.search"' in again.output
