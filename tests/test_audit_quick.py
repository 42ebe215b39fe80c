"""`cvis hash`'s light audit writer: on a current SQLite store it appends, without the
database layer, records the full log cannot tell from its own (chain and checkpoints
verify, fields as ``audited`` writes them); elsewhere the full writer takes over."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from cvis.audit import AuditEntry, cli_actor, quick, record_event, verify_log
from cvis.audit.quick import quick_audited
from cvis.config import Settings
from cvis.store.db import Store
from cvis.store.models import AuditRecord


def _rows(store: Store) -> list[tuple[str, str, str, str]]:
    with store.session() as session:
        return [(r.event, r.outcome, r.object, r.detail) for r in session.scalars(
            select(AuditRecord).order_by(AuditRecord.seq))]


def test_light_records_verify_between_full_ones(
    cli_env: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = Store(cli_env)
    record_event(store, AuditEntry("cli", "before", cli_actor(), "success"))
    light = quick.sqlite_file(cli_env) is not None
    if light:  # the light path must be the one taken, not the fallback
        monkeypatch.setattr("cvis.store.db.Store.__init__", None)
    with quick_audited("cli", "hash", "paths:a.jpg") as note:
        note.detail = "1 item"
    with pytest.raises(ValueError), quick_audited("cli", "hash", "paths:b.jpg"):
        raise ValueError("no such file")
    monkeypatch.undo()
    record_event(store, AuditEntry("cli", "after", cli_actor(), "success"))
    assert _rows(store) == [
        ("before", "success", "", ""),
        ("hash", "started", "paths:a.jpg", ""), ("hash", "success", "paths:a.jpg", "1 item"),
        ("hash", "started", "paths:b.jpg", ""),
        ("hash", "failure", "paths:b.jpg", "ValueError: no such file"),
        ("after", "success", "", ""),
    ]
    report = verify_log(store)
    assert report.intact and report.records == 6, report
    assert light == cli_env.database_url.startswith("sqlite")
    store.dispose()


def test_a_new_store_is_created_by_the_full_writer(cli_env: Settings) -> None:
    with quick_audited("cli", "hash", "paths:x"):
        pass
    store = Store(cli_env)
    assert [r[:2] for r in _rows(store)] == [("hash", "started"), ("hash", "success")]
    assert verify_log(store).intact
    store.dispose()
