"""Fusion: facts side by side, merges and their undo, target scores, queues, need-to-know."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cvis import policy
from cvis.cli.app import app
from cvis.config import Settings
from cvis.fusion import queues, service
from cvis.fusion import subjects as subj
from cvis.fusion.ingest import IngestCounts, TipRecord, ingest_tips
from cvis.fusion.subjects import FactIn
from cvis.fusion.targets import load_config, score_facts
from cvis.linkage.mapping import Mapping, load_source
from cvis.policy import Actor
from cvis.policy.actors import local_operator
from cvis.store.db import Store

TODAY = date(2026, 11, 30)
AT = datetime(2026, 11, 1, tzinfo=UTC)


def person(name: str, agency: str, rights: set[str]) -> Actor:
    return Actor(name=name, agency=agency, role="analyst", rights=frozenset(rights))


def _subject(store: Store, sid: str, agency: str, facts: list[tuple[str, object, str, str, float]]
             ) -> None:
    with store.session() as session:
        s = subj.ensure_subject(session, sid, agency, "HOU")
        for name, value, kind, ref, conf in facts:
            subj.add_fact(session, s, FactIn(name, value, kind, ref, AT, conf))


def test_conflicting_facts_are_kept_side_by_side(store: Store) -> None:
    _subject(store, "S-R1", "A1", [("dob", "1970-01-02", "registry", "R1", 1.0),
                                   ("dob", "1970-02-01", "link", "inmates:I9", 0.91),
                                   ("dob", "1970-01-02", "registry", "R1", 1.0)])
    view = service.show_subject(store, local_operator(), "S-R1")
    dobs = [(f.value, f.source_kind, f.confidence) for f in view.facts if f.name == "dob"]
    assert dobs == [("1970-01-02", "registry", 1.0), ("1970-02-01", "link", 0.91)]
    assert [f.source_ref for f in view.conflicts["dob"]] == ["R1", "inmates:I9"]


def test_a_merge_is_proposed_confirmed_and_undone(store: Store) -> None:
    _subject(store, "S-R1", "A1", [("offence_against_child", True, "registry", "R1", 1.0)])
    _subject(store, "S-R2", "A1", [("wanted", True, "link", "warrants:W1", 0.97)])
    with store.session() as session:
        merge = subj.propose_merge(session, subj.get_subject(session, "S-R1"),
                                   subj.get_subject(session, "S-R2"), {"person_id": "P1"})
        assert merge is not None
        merge_id = merge.id
    actor = local_operator()
    assert service.decide_merge(store, actor, merge_id, "confirm") == "confirmed"
    view = service.show_subject(store, actor, "S-R1")
    assert {f.name: f.subject_id for f in view.facts} == {"offence_against_child": "S-R1",
                                                          "wanted": "S-R2"}
    ids = [t.subject_id for t in service.list_targets(store, actor, today=TODAY)]
    assert ids == ["S-R1"]  # the merged subject is no longer listed on its own
    assert service.decide_merge(store, actor, merge_id, "undo") == "undone"
    assert [f.name for f in service.show_subject(store, actor, "S-R1").facts] == [
        "offence_against_child"]
    assert sorted(t.subject_id for t in service.list_targets(store, actor, today=TODAY)) == [
        "S-R1", "S-R2"]
    with pytest.raises(subj.SubjectError):
        service.decide_merge(store, actor, merge_id, "undo")


def test_score_names_factors_floors_and_version() -> None:
    config = load_config()
    facts = [subj.FactView("compliance", "absconded", "registry", "R1", AT, 1.0, "S-R1", 1),
             subj.FactView("release_date", "2026-12-20", "link", "inmates:I1", AT, 0.9, "S-R1", 2),
             subj.FactView("tip", "tip:1", "tip", "tip:1", AT, 1.0, "S-R1", 3),
             subj.FactView("tip", "tip:2", "tip", "tip:2", AT, 1.0, "S-R1", 4),
             subj.FactView("removable", True, "link", "immigration:A1", 0.3, 0.3, "S-R1", 5)]
    facts[-1] = subj.FactView("removable", True, "link", "immigration:A1", AT, 0.3, "S-R1", 5)
    score = score_facts(facts, config, TODAY)
    assert score.contract_factors() == [{"name": "absconder", "points": 30},
                                        {"name": "release_within_90_days", "points": 20},
                                        {"name": "recent_tips", "points": 10}]
    assert score.score == 60 and score.tier == "high"  # low-confidence removability ignored
    only_release = score_facts(facts[1:2], config, TODAY)
    assert (only_release.score, only_release.tier) == (20, "medium")  # the floor lifts it
    assert config.version


def test_target_list_contract_and_office_filter(cli_env: Settings, runner: CliRunner) -> None:
    store = Store(cli_env)
    _subject(store, "S-R1", "", [("wanted", True, "link", "warrants:W1", 0.97)])
    _subject(store, "S-R2", "", [("contact_offence", True, "registry", "R2", 1.0)])
    with store.session() as session:
        subj.get_subject(session, "S-R2").office = "DAL"
    store.dispose()
    result = runner.invoke(app, ["target", "list"])
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["subject_id"] for r in rows] == ["S-R1", "S-R2"]
    assert rows[0] == {"subject_id": "S-R1", "rank": 1, "tier": "high", "score": 35,
                       "factors": [{"name": "charged_at_large", "points": 35}],
                       "office": "HOU", "sources": [{"kind": "link", "ref": "warrants:W1"}]}
    result = runner.invoke(app, ["target", "list", "--office", "DAL"])
    assert [json.loads(line)["rank"] for line in result.stdout.splitlines()] == [1]


def test_need_to_know_on_shared_targets(store: Store) -> None:
    _subject(store, "S-R1", "A1", [("wanted", True, "link", "warrants:W1", 0.97)])
    owner = person("owner", "A1", {"fusion:read", "fusion:write"})
    partner = person("partner", "A2", {"fusion:read", "fusion:write"})
    other = person("other", "A3", {"fusion:read"})
    assert service.list_targets(store, partner, today=TODAY) == []
    with pytest.raises(policy.NotVisible):
        service.show_subject(store, partner, "S-R1")
    service.share_subject(store, owner, "S-R1", "A2", ["fusion:read"], "joint investigation")
    assert [t.subject_id for t in service.list_targets(store, partner, today=TODAY)] == ["S-R1"]
    assert service.show_subject(store, partner, "S-R1").subject_id == "S-R1"
    with pytest.raises(policy.AccessDenied):  # read only: may not assign it
        queues.assign(store, partner, "S-R1", "HOU")
    assert service.list_targets(store, other, today=TODAY) == []
    from cvis.audit import AuditQuery, search_audit
    events = [r["event"] for r in search_audit(store, AuditQuery(limit=1000))]
    assert "subject.share" in events and "target.list" in events


def test_wrong_person_returns_the_link_to_review(store: Store, tmp_path: Path) -> None:
    _subject(store, "S-R1", "A1", [("release_date", "2026-12-20", "link", "inmates:I7", 0.8),
                                   ("offence_against_child", True, "registry", "R1", 1.0)])
    actor = local_operator()
    job = queues.assign(store, actor, "S-R1", "HOU", team="fugitive ops",
                        link_key="inmates:I7")
    queues.accept(store, actor, job)
    reopened: list[tuple[Path, str, str]] = []
    status = queues.record_outcome(store, actor, job, "wrong_person", "different DOB in person",
                                   state_dir=tmp_path, reopen=lambda *a: reopened.append(a))
    assert status == "returned to review"
    assert reopened == [(tmp_path, "inmates:I7", "different DOB in person")]
    names = [f.name for f in service.show_subject(store, actor, "S-R1").facts]
    assert names == ["offence_against_child"]  # what the wrong link said is retracted
    assert queues.queue(store, actor) == []
    with pytest.raises(queues.QueueError):
        queues.record_outcome(store, actor, job, "arrested")


def test_tips_join_a_subject_only_on_exact_name_and_birth_date(store: Store,
                                                               tmp_path: Path) -> None:
    reg = tmp_path / "registry.csv"
    reg.write_text("id,given_names,family_name,dob\nR1,Ann,Lee,1980-05-06\n")
    table = load_source("registry", reg, Mapping())
    _subject(store, "S-R1", "", [])

    class StubTips:  # stands in for cvis.tips until that branch is merged
        def tips(self, session: object) -> list[TipRecord]:
            return [TipRecord("tip:1", "ann  LEE", "1980-05-06", AT),
                    TipRecord("tip:2", "Ann Lee", "1980-06-05", AT)]

    counts = IngestCounts()
    with store.session() as session:
        ingest_tips(session, StubTips(), table, counts)
    facts = service.show_subject(store, local_operator(), "S-R1").facts
    assert [f.source_ref for f in facts] == ["tip:1"]


def test_a_case_with_matches_of_unidentified_victims_raises_the_subject(store: Store) -> None:
    from cvis.fusion.ingest import ingest_cases
    from cvis.store.models import Case, HashSet, KnownMedia, Match, Scan, ScanItem

    _subject(store, "S-R1", "", [("case_number", "C-77", "link", "cases:K1", 0.95)])
    with store.session() as session:
        hs = HashSet(name="known")
        case = Case(number="C-77")
        session.add_all([hs, case])
        session.flush()
        media = KnownMedia(set_id=hs.id, media_id="m1", victim_identified=False)
        scan = Scan(case_id=case.id, status="done", finished_at=AT)
        session.add_all([media, scan])
        session.flush()
        item = ScanItem(scan_id=scan.id, path="a.jpg")
        session.add(item)
        session.flush()
        session.add(Match(item_id=item.id, known_media_id=media.id, signal_type="pdq"))
    with store.session() as session:
        ingest_cases(session, IngestCounts())
    [target] = service.list_targets(store, local_operator(), today=TODAY)
    assert [f["name"] for f in target.factors] == ["unidentified_victim", "new_material"]
    assert target.tier == "critical"
    assert {"kind": "case", "ref": "case:C-77"} in target.sources


def test_api_targets_and_subjects_follow_need_to_know(store: Store, tmp_path: Path) -> None:
    from tests.service_helpers import bearer, make_accounts, make_client

    own = make_accounts(store, "Agency A")
    partner = make_accounts(store, "Agency B")
    _subject(store, "S-R1", "Agency A", [("wanted", True, "link", "warrants:W1", 0.97)])
    with make_client(store, tmp_path) as client:
        rows = client.get("/api/v1/targets", headers=bearer(own["analyst"])).json()
        assert [r["subject_id"] for r in rows] == ["S-R1"]
        assert rows[0]["reasons"] == ["charged and at large (active warrant)"]
        assert client.get("/api/v1/targets", headers=bearer(partner["analyst"])).json() == []
        hidden = client.get("/api/v1/subjects/S-R1", headers=bearer(partner["analyst"]))
        assert hidden.status_code == 404
        seen = client.get("/api/v1/subjects/S-R1", headers=bearer(own["analyst"])).json()
        assert seen["facts"][0]["source"] == {"kind": "link", "ref": "warrants:W1"}
        assert client.get("/api/v1/targets", headers=bearer(own["curator"])).status_code == 403


def test_registry_subjects_take_the_office_of_their_county_or_state(store: Store,
                                                                    tmp_path: Path) -> None:
    from cvis.fusion.ingest import ingest_registry
    from cvis.fusion.month import _office_of
    from cvis.offices.service import import_offices, read_offices

    table = tmp_path / "offices.csv"
    table.write_text("office_id,name,email,states,counties\n"
                     "HOU,Houston,h@example.org,TX,\n"
                     "DAL,Dallas,d@example.org,,TX:Dallas\n"
                     "HQ,National desk,hq@example.org,*,\n")
    reg = tmp_path / "registry.csv"
    reg.write_text("id,given_names,family_name,dob,state,county\n"
                   "R1,Ann,Lee,1980-05-06,TX,Harris\nR2,Bo,Kim,1975-01-02,TX,Dallas\n"
                   "R3,Cy,Ng,1990-03-04,OR,\n")
    with store.session() as session:
        import_offices(session, read_offices(table))
    with store.session() as session:
        ingest_registry(session, load_source("registry", reg, Mapping()), TODAY, "A1",
                        _office_of(session), IngestCounts())
    with store.session() as session:
        offices = {s.subject_id: s.office for s in subj.active_subjects(session)}
    assert offices == {"S-R1": "HOU", "S-R2": "DAL", "S-R3": "HQ"}


def test_tips_come_through_the_tips_service_when_it_is_installed(
        store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import sys
    import types
    from dataclasses import dataclass as dc

    from cvis.fusion.ingest import TipsLeads

    @dc
    class Lead:
        id: int

    seen: list[str] = []
    fake = types.ModuleType("cvis.tips.service")
    fake.iter_leads = lambda session, actor: [Lead(7)]  # type: ignore[attr-defined]

    def show_lead(session: object, actor: Actor, lead_id: int) -> dict:
        seen.append(actor.name)
        return {"tips": [{"tip_id": 3, "received_at": "2026-11-20T10:00:00+00:00",
                          "subject": {"name": "Ann Lee", "dob": "1980-05-06"}}]}

    fake.show_lead = show_lead  # type: ignore[attr-defined]
    package = types.ModuleType("cvis.tips")
    package.service = fake  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "cvis.tips", package)
    monkeypatch.setitem(sys.modules, "cvis.tips.service", fake)
    reg = tmp_path / "registry.csv"
    reg.write_text("id,given_names,family_name,dob\nR1,Ann,Lee,1980-05-06\n")
    _subject(store, "S-R1", "", [])
    actor = local_operator()
    with store.session() as session:
        ingest_tips(session, TipsLeads(actor), load_source("registry", reg, Mapping()),
                    IngestCounts())
    facts = service.show_subject(store, actor, "S-R1").facts
    assert [f.source_ref for f in facts] == ["lead:7/tip:3"] and seen == [actor.name]
