"""The command-line contract (design.md): `cvis tip submit FILE|-`, `cvis lead list`, and
a lead's life, referral and weekly report from the CLI (both backends)."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from cvis.cli.app import app
from cvis.config import Settings
from tests.tips_helpers import OFFICES_CSV, audit_key

__all__ = ["audit_key"]


def _lines(output: str) -> list[dict]:
    return [json.loads(x) for x in output.splitlines() if x.startswith("{")]


def test_tip_submit_and_lead_list_contract(cli_env: Settings, runner: CliRunner,
                                           tmp_path: Path) -> None:
    offices = tmp_path / "offices.csv"
    offices.write_text(OFFICES_CSV)
    assert runner.invoke(app, ["office", "import", str(offices)]).exit_code == 0
    tip = {"channel": "web", "narrative": "He shares pictures of kids on a forum.",
           "anonymous": False, "location": {"zip": "77002", "city": "Houston", "state": "TX",
                                            "address": "1 Main St"},
           "subject": {"name": "Quinn Avery", "dob": "1979-05-06", "aliases": ["QA"]},
           "urls": ["https://forum.example/t/1"], "hashes": [], "contact": "a@example.org"}
    path = tmp_path / "tip.json"
    path.write_text(json.dumps(tip))
    first = runner.invoke(app, ["tip", "submit", str(path)])
    assert first.exit_code == 0, first.output
    out = _lines(first.output)[0]
    assert set(out) == {"tip_id", "receipt", "lead_id", "tier", "office"}
    assert out["office"] == "TX-H"
    same = {"channel": "web", "narrative": "Again him.", "anonymous": True,
            "subject": {"name": "Quinn Avery", "dob": "1979-05-06"}}
    second = runner.invoke(app, ["tip", "submit", "-"], input=json.dumps(same))
    joined = _lines(second.output)[0]
    assert joined["lead_id"] == out["lead_id"] and joined["passphrase"]
    for bad in ("{not json", json.dumps({"channel": "web"}), json.dumps([1])):
        refused = runner.invoke(app, ["tip", "submit", "-"], input=bad)
        assert refused.exit_code == 2
    listed = runner.invoke(app, ["lead", "list", "--office", "TX-H"])
    rows = _lines(listed.output)
    assert len(rows) == 1
    assert set(rows[0]) == {"lead_id", "tier", "score", "factors", "office", "status",
                            "tip_ids"}
    assert rows[0]["tip_ids"] == [out["tip_id"], joined["tip_id"]]
    assert all(set(f) == {"name", "points"} for f in rows[0]["factors"])
    assert _lines(runner.invoke(app, ["lead", "list", "--tier", "IMMEDIATE"]).output) == []
    jsonl = tmp_path / "leads.jsonl"
    assert runner.invoke(app, ["lead", "list", "--jsonl", str(jsonl)]).exit_code == 0
    assert len(_lines(jsonl.read_text())) == 1
    assert runner.invoke(app, ["lead", "list", "--tier", "SOON"]).exit_code == 1


def test_a_leads_life_and_the_weekly_report_from_the_cli(cli_env: Settings, runner: CliRunner,
                                                         tmp_path: Path) -> None:
    offices = tmp_path / "offices.csv"
    offices.write_text(OFFICES_CSV)
    runner.invoke(app, ["office", "import", str(offices)])
    tip = json.dumps({"channel": "phone", "narrative": "Caller saw a child being abused right now",
                      "callback": "+1 202 555 0143", "location": {"state": "CA"}})
    lead = _lines(runner.invoke(app, ["tip", "submit", "-"], input=tip).output)[0]["lead_id"]
    steps = [["assign", str(lead), "--to", "kim", "-r", "on duty"], ["accept", str(lead)],
             ["action", str(lead), "-r", "patrol sent"],
             ["close", str(lead), "--outcome", "child safe"]]
    for step in steps:
        result = runner.invoke(app, ["lead", *step])
        assert result.exit_code == 0, result.output
    assert _lines(result.output)[0]["status"] == "closed"
    assert runner.invoke(app, ["lead", "accept", str(lead)]).exit_code == 1
    assert runner.invoke(app, ["lead", "show", "999"]).exit_code == 1
    shown = _lines(runner.invoke(app, ["lead", "show", str(lead)]).output)[0]
    assert [h["step"] for h in shown["history"]][-4:] == ["assigned", "accepted", "actioned",
                                                         "closed"]
    pdf = tmp_path / "week.pdf"
    week = shown["created_at"][:10]
    made = runner.invoke(app, ["lead", "report", "--out", str(pdf), "--week", week])
    assert made.exit_code == 0, made.output
    assert pdf.read_bytes().startswith(b"%PDF")
    referral = tmp_path / "r.xml"
    referral.write_text("<report>\n<incidentSummary>\n<description>x</description>\n"
                        "</incidentSummary>\n<bogus/>\n</report>\n")
    refused = runner.invoke(app, ["tip", "referral", str(referral)])
    assert refused.exit_code == 2 and "line 5" in refused.output
