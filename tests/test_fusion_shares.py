"""Joint investigations from the command line (a case shared with a partner agency holds
exactly the rights granted, a non-partner sees nothing, revoking ends it; each step audited),
and the linkage's public reopen that a wrong-person outcome uses."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cvis import policy
from cvis.audit import AuditQuery, search_audit
from cvis.cases.service import new_case
from cvis.cli.app import app
from cvis.config import Settings
from cvis.fusion.queues import reopen_link
from cvis.fusion.shares import case_resource
from cvis.linkage import review
from cvis.linkage.state import LinkageState
from cvis.policy import Actor
from cvis.store.db import Store
from cvis.store.models import Case

RIGHTS = frozenset({"cases:read", "cases:write", "cases:export"})


def _decide(store: Store, agency: str, right: str) -> policy.Decision:
    actor = Actor("someone", agency, "examiner", RIGHTS)
    with store.session() as session:
        case = session.query(Case).filter_by(number="A-1").one()
        return policy.decide(actor, right, case_resource(session, case))


def test_a_case_shared_on_the_command_line_holds_the_rights_granted_until_revoked(
        cli_env: Settings, runner: CliRunner) -> None:
    store = Store(cli_env)
    with store.session() as session:
        new_case(session, "A-1", actor="ana", agency="Agency A")
    assert _decide(store, "Agency B", "cases:read").hide  # not shared: not there at all
    made = runner.invoke(app, ["case", "share", "A-1", "--agency", "Agency B", "--agency",
                               "Police Partner (UK)", "--rights", "read,review",
                               "--purpose", "joint operation"])
    assert made.exit_code == 0, made.output
    assert _decide(store, "Agency B", "cases:read").allowed
    assert _decide(store, "Police Partner (UK)", "cases:write").allowed
    export = _decide(store, "Agency B", "cases:export")
    assert not export.allowed and not export.hide  # a partner, but not for this right
    assert _decide(store, "Agency C", "cases:read").hide  # a non-partner sees nothing
    listed = runner.invoke(app, ["case", "shares", "A-1"])
    rows = [json.loads(line) for line in listed.stdout.splitlines()]
    assert [(r["partner"], r["rights"], r["live"]) for r in rows] == [
        ("Agency B", ["cases:read", "cases:write"], True),
        ("Police Partner (UK)", ["cases:read", "cases:write"], True)]
    ended = runner.invoke(app, ["case", "unshare", str(rows[0]["share_id"]), "--reason", "done"])
    assert ended.exit_code == 0, ended.output
    assert _decide(store, "Agency B", "cases:read").hide
    assert _decide(store, "Police Partner (UK)", "cases:read").allowed
    again = runner.invoke(app, ["case", "unshare", str(rows[0]["share_id"])])
    assert again.exit_code == 1 and "revoked already" in again.output
    wrong = runner.invoke(app, ["case", "share", "A-1", "--agency", "X", "--rights", "delete",
                                "--purpose", "p"])
    assert wrong.exit_code == 1 and "not 'delete'" in wrong.output
    missing = runner.invoke(app, ["subject", "share", "S-NONE", "--agency", "X",
                                  "--purpose", "p"])
    assert missing.exit_code == 1 and "no such subject" in missing.output
    events = [r["event"] for r in search_audit(store, AuditQuery(limit=1000))]
    assert events.count("case.share") >= 2 and "share.revoke" in events
    store.dispose()


def test_reopen_returns_a_decided_link_to_review_and_logs_why(tmp_path: Path) -> None:
    with LinkageState(tmp_path, audit=False) as state:
        state.execute("INSERT INTO decisions (registry_id, index_name, record_id, decision, "
                      "reviewer, note, run_id, fingerprint) VALUES "
                      "('R1', 'inmates', 'I7', 'confirm', 'ana', '', 1, 'fp')")
        state.execute("INSERT INTO leads VALUES ('k1', 'P1', 'R1', 'inmates', 'I7', 'HOU', "
                      "NULL, 1, 'open')")
        with pytest.raises(review.ReviewError):
            review.reopen(state, "inmates", "I7", " ")
    reopen_link(tmp_path, "inmates:I7", "wrong person in the field")  # what fusion calls
    with LinkageState(tmp_path, audit=False) as state:
        assert state.query("SELECT * FROM decisions").empty
        assert state.query("SELECT status FROM leads")["status"].tolist() == ["withdrawn"]
        logged = state.query("SELECT decision, note FROM decision_log")
        assert logged.values.tolist() == [["reopen", "wrong person in the field"]]
