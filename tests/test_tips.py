"""The tip line's services: intake on each channel, triage, one lead per subject, routing,
need-to-know, the lead's life, anonymous two-way messages (both backends)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from cvis.audit import AuditQuery, search_audit
from cvis.audit.log import verify_log
from cvis.store.db import Store
from cvis.store.models import AuditRecord
from cvis.tips import messages, service
from cvis.tips.checks import registry_factors
from cvis.tips.intake import RateLimiter, submit_tip
from cvis.tips.leads import LeadError, NoSuchLead
from cvis.tips.models import Lead, Tip
from cvis.tips.referral import parse_referral
from cvis.tips.triage import Factor, safely, tier_for
from cvis.tips.validate import NO_MEDIA, TipRejected
from tests.hashset_helpers import import_lines, line, md5
from tests.tips_helpers import audit_key, load_offices, person, tip

NOW = datetime(2026, 11, 30, 3, 0, tzinfo=UTC)  # the middle of the night

__all__ = ["audit_key"]


@pytest.fixture
def offices(store: Store, tmp_path: Path) -> Store:
    load_offices(store, tmp_path)
    return store


def submit(store: Store, payload: dict, **kw: object) -> dict:
    with store.session() as session:
        return submit_tip(session, payload, now=NOW, **kw)  # type: ignore[arg-type]


def test_routing_by_zip_county_state_and_the_national_desk(offices: Store) -> None:
    assert submit(offices, tip(location={"zip": "77002"}))["office"] == "TX-H"  # Harris County
    assert submit(offices, tip(location={"zip": "75201"}))["office"] == "TX-N"  # Dallas: state
    assert submit(offices, tip(location={"state": "TX", "county": "Harris"}))["office"] == "TX-H"
    assert submit(offices, tip(location={"state": "ca"}))["office"] == "CA"
    assert submit(offices, tip(location={"zip": "10001"}))["office"] == "HQ"  # New York: desk
    assert submit(offices, tip())["office"] == "HQ"


def test_a_child_in_immediate_danger_is_immediate_and_explained(offices: Store) -> None:
    result = submit(offices, tip(narrative="He is meeting the child tonight at the park."))
    assert result["tier"] == "IMMEDIATE"
    with offices.session() as session:
        lead = session.get_one(Lead, result["lead_id"])
        danger = next(f for f in lead.factors if f["name"] == "child in immediate danger")
        assert danger["floor"] == "IMMEDIATE" and "tonight" in danger["evidence"]
    assert submit(offices, tip(immediate_danger=True))["tier"] == "IMMEDIATE"
    assert submit(offices, tip())["tier"] == "MONITOR"


def test_floors_scores_and_a_scoring_failure_is_urgent() -> None:
    assert tier_for(10, [Factor("absconder", 0, "URGENT")]) == "URGENT"
    assert tier_for(120, []) == "URGENT"  # points alone never make IMMEDIATE
    assert tier_for(60, [Factor("x", 0, pause=True)]) == "PAUSED"
    danger = Factor("child in immediate danger", 100, "IMMEDIATE")
    assert tier_for(100, [danger, Factor("x", 0, pause=True)]) == "IMMEDIATE"  # never paused

    def broken() -> list[Factor]:
        raise RuntimeError("registry offline")

    failed = safely(broken)
    assert failed.tier == "URGENT" and "registry offline" in failed.factors[0].evidence


def test_retention_deadline_close_is_urgent(offices: Store) -> None:
    soon = (NOW + timedelta(hours=20)).isoformat()
    later = (NOW + timedelta(days=60)).isoformat()
    assert submit(offices, tip(retention_deadline=soon))["tier"] == "URGENT"
    assert submit(offices, tip(retention_deadline=later))["tier"] == "MONITOR"


def test_registry_link_and_absconder_are_candidates_with_evidence(
    offices: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    registry = tmp_path / "registry.csv"
    registry.write_text("registry_id,given_names,family_name,dob,status\n"
                        "R-1,Dana,Whitfield,1975-03-04,absconded\n")
    monkeypatch.setenv("CVIS_TIP_REGISTRY", str(registry))
    result = submit(offices, tip(subject={"name": "dana WHITFIELD", "dob": "1975-03-04"}))
    assert result["tier"] == "URGENT"
    with offices.session() as session:
        names = {f["name"]: f for f in session.get_one(Lead, result["lead_id"]).factors}
    assert "R-1" in names["subject linked to the registry"]["evidence"]
    assert "absconder" in names


def test_hash_match_to_a_series_with_unidentified_victim(offices: Store) -> None:
    import_lines(offices, "national", line("M-1", series="Lakeside", victim_identified=False),
                 line("M-2", series="Known", victim_identified=True))
    hit = submit(offices, tip(channel="referral", hashes=[{"signal": "md5", "value": md5("M-1")}]))
    known = submit(offices, tip(channel="referral", hashes=[md5("M-2")]))
    assert hit["tier"] == "URGENT" and known["tier"] == "STANDARD"
    with offices.session() as session:
        stored = session.get_one(Tip, hit["tip_id"])
        assert stored.matches[0]["media_id"] == "M-1"
        assert "Lakeside" in next(f["evidence"] for f in stored.factors
                                  if f["name"].startswith("hash match: series"))


def test_same_subject_account_or_url_collapse_into_one_lead(offices: Store) -> None:
    subject = {"name": "Morgan Reyes", "dob": "1988-07-09"}
    first = submit(offices, tip(subject=subject, location={"zip": "77002"}))
    same = submit(offices, tip(subject={"name": "morgan  reyes", "dob": "1988-07-09"}))
    other_dob = submit(offices, tip(subject={"name": "Morgan Reyes", "dob": "1990-01-01"}))
    assert same["lead_id"] == first["lead_id"] and same["office"] == "TX-H"
    assert other_dob["lead_id"] != first["lead_id"]
    variant = submit(offices, tip(subject={"name": "Morgan Rayes", "dob": "1988-07-09"}))
    by_url = submit(offices, tip(urls=["https://www.example.com/u/x1/"]))
    assert submit(offices, tip(urls=["http://example.com/u/x1"]))["lead_id"] == by_url["lead_id"]
    latin = submit(offices, tip(subject={"name": "Sergei Ivanov", "dob": "1975-05-06"}))
    cyrillic = submit(offices, tip(subject={"name": "Сергей Иванов", "dob": "1975-05-06"}))
    assert cyrillic["lead_id"] != latin["lead_id"]  # alike is a candidate, not a join
    by_account = submit(offices, tip(accounts=["chat:Shadow99"]))
    assert submit(offices, tip(accounts=["CHAT:shadow99"]))["lead_id"] == by_account["lead_id"]
    supervisor = person("HQ")
    with offices.session() as session:
        shown = service.show_lead(session, supervisor, first["lead_id"])
        assert len(shown["tips"]) == 2
        bases = {c["leads"][1]: c["basis"] for c in shown["candidates"]}
        assert bases == {other_dob["lead_id"]: "same name, date of birth differs or unknown",
                         variant["lead_id"]: "names alike (variants, spelling)"}
        candidate = shown["candidates"][0]
        assert candidate["status"] == "proposed" and other_dob["lead_id"] in candidate["leads"]
        service.decide_candidate(session, supervisor, candidate["candidate_id"], True,
                                 "same person per the registry photo", now=NOW)
        transliterated = service.show_lead(session, supervisor, cyrillic["lead_id"])
        assert [(c["leads"], c["basis"]) for c in transliterated["candidates"]] == [
            ([latin["lead_id"], cyrillic["lead_id"]], "names alike (variants, spelling)")]
    with offices.session() as session:
        merged = service.show_lead(session, supervisor, first["lead_id"])
        assert len(merged["tips"]) == 3
        assert session.get_one(Lead, other_dob["lead_id"]).status == "closed"


def test_need_to_know_by_office_and_the_national_desk(offices: Store) -> None:
    houston = submit(offices, tip(location={"zip": "77002"}))
    california = submit(offices, tip(location={"state": "CA"}))
    with offices.session() as session:
        seen = {r["lead_id"] for r in service.list_leads(session, person("TX-H"))}
        assert houston["lead_id"] in seen and california["lead_id"] not in seen
        desk = {r["lead_id"] for r in service.list_leads(session, person("HQ"))}
        assert {houston["lead_id"], california["lead_id"]} <= desk
        with pytest.raises(NoSuchLead):
            service.show_lead(session, person("CA"), houston["lead_id"])
        service.forward(session, person("TX-H"), houston["lead_id"], "CA", "subject moved",
                        now=NOW)
        assert service.show_lead(session, person("CA"), houston["lead_id"])["forwarded_to"]


def test_a_leads_life_with_who_when_why(offices: Store) -> None:
    result = submit(offices, tip(location={"zip": "77002"}))
    officer = person("TX-H", name="lee")
    with offices.session() as session:
        lead_id = result["lead_id"]
        with pytest.raises(LeadError):
            service.take_step(session, officer, lead_id, "accept", "too early", now=NOW)
        service.take_step(session, officer, lead_id, "assign", "on duty", assignee="kim", now=NOW)
        service.take_step(session, officer, lead_id, "accept", "", now=NOW)
        service.change_tier(session, officer, lead_id, "URGENT", "subject has access to kids",
                            now=NOW)
        with pytest.raises(LeadError):
            service.change_tier(session, officer, lead_id, "STANDARD", " ", now=NOW)
        service.take_step(session, officer, lead_id, "action", "interviewed the family", now=NOW)
        with pytest.raises(LeadError):
            service.take_step(session, officer, lead_id, "close", "done", now=NOW)
        service.take_step(session, officer, lead_id, "close", "", outcome="referred to DA",
                          now=NOW)
        service.reroute(session, officer, lead_id, "TX-N", "wrong county", now=NOW)
        shown = service.show_lead(session, person("HQ"), lead_id)
    steps = [(h["step"], h["actor"]) for h in shown["history"]]
    assert [s for s, _ in steps] == ["received", "routed", "triaged", "assigned", "accepted",
                                     "tier changed", "actioned", "closed", "re-routed"]
    assert ("tier changed", "lee") in steps
    assert shown["tier"] == "URGENT" and shown["outcome"] == "referred to DA"
    assert shown["history"][5]["reason"] == "subject has access to kids"


def test_anonymous_tipster_reads_and_answers_with_receipt_and_passphrase(
    offices: Store,
) -> None:
    result = submit(offices, tip(anonymous=True, contact="me@example.org",
                                 location={"zip": "77002"}), source="203.0.113.9")
    receipt, passphrase = result["receipt"], result["passphrase"]
    with offices.session() as session:
        stored = session.get_one(Tip, result["tip_id"])
        assert stored.contact == "" and stored.passphrase_hash.startswith("$argon2")
        assert passphrase not in stored.passphrase_hash
        messages.ask_tipster(session, person("TX-H"), result["tip_id"], "Which park?")
    with offices.session() as session:
        inbox = messages.tipster_messages(session, receipt, passphrase)
        assert inbox["messages"][0]["body"] == "Which park?"
        messages.tipster_reply(session, receipt.lower(), passphrase, "Elm Street park")
        with pytest.raises(TipRejected, match="not recognised"):
            messages.tipster_messages(session, receipt, "wrong-phrase")
        with pytest.raises(TipRejected, match="not recognised"):
            messages.tipster_messages(session, "TIP-AAAA-BBBB-CCCC", passphrase)
    with offices.session() as session:
        rows = service.message_rows(session, result["tip_id"])
        assert [r["direction"] for r in rows] == ["to_tipster", "from_tipster"]
        records = session.scalars(select(AuditRecord)).all()
        assert not any("203.0.113.9" in (r.client + r.detail + r.object) for r in records)
        assert not any("me@example.org" in r.detail for r in records)
    submitted = search_audit(offices, AuditQuery(event="tip.submit"))
    assert submitted[0]["user"] == "anonymous" and submitted[0]["client"] == ""
    assert verify_log(offices).intact  # records written inside the tip's transaction chain


def test_bad_input_is_refused_and_nothing_is_stored(offices: Store) -> None:
    bad = [
        ({"channel": "web"}, "narrative is required"),
        (tip(channel="fax"), "channel must be one of"),
        (tip(narrative="x" * 20_001), "too long"),
        (tip(website="http://spam.example"), "refused"),
        (tip(attachments=["photo.jpg"]), "does not accept pictures"),
        (tip(narrative="see data:image/png;base64,AAAA"), "does not accept pictures"),
        (tip(hashes=[{"signal": "md5", "value": "xyz"}]), r"hashes\[0\]"),
        (tip(subject={"dob": "yesterday"}), "YYYY-MM-DD"),
        (tip(location={"zip": "ABCDE"}), "ZIP"),
        (tip(channel="phone", callback="12"), "call-back number"),
        (["not", "an", "object"], "JSON object"),
    ]
    for payload, message in bad:
        with pytest.raises(TipRejected, match=message):
            submit(offices, payload)  # type: ignore[arg-type]
    assert NO_MEDIA.startswith("the tip line does not accept")
    with offices.session() as session:
        assert session.scalars(select(Tip)).all() == []


def test_call_back_numbers_markup_and_idempotency(offices: Store) -> None:
    phoned = submit(offices, tip(channel="phone", callback="(202) 555-0143",
                                 narrative="<script>alert(1)</script> at the school"))
    again = submit(offices, tip(idempotency_key="k-1"))
    repeat = submit(offices, tip(idempotency_key="k-1"))
    assert repeat["tip_id"] == again["tip_id"] and repeat["duplicate"] is True
    with offices.session() as session:
        stored = session.get_one(Tip, phoned["tip_id"])
        assert "+12025550143" in stored.contact
        assert stored.narrative.startswith("<script>")  # kept as written, escaped when shown


def test_rate_limit_per_source() -> None:
    limiter = RateLimiter(limit=2, window=60)
    limiter.check("198.51.100.7", now=0)
    limiter.check("198.51.100.7", now=1)
    limiter.check("198.51.100.8", now=1)
    with pytest.raises(TipRejected, match="too many"):
        limiter.check("198.51.100.7", now=2)
    limiter.check("198.51.100.7", now=61)
    for _ in range(5):
        limiter.check("127.0.0.1", now=62)  # the operator's own machine
    with pytest.raises(TipRejected):
        for _ in range(3):
            limiter.check("+12025550188", now=62)  # an SMS sender is a source too


REFERRAL = """<?xml version="1.0"?>
<report version="1">
  <incidentSummary>
    <incidentType>Child sexual abuse material</incidentType>
    <retentionDeadline>2026-12-01T00:00:00Z</retentionDeadline>
    <description>User uploaded known material.</description>
  </incidentSummary>
  <reporter><organisation>ExampleChat</organisation><reportId>EC-77</reportId></reporter>
  <reportedPerson>
    <name>Alex Stone</name><dateOfBirth>1991-02-03</dateOfBirth>
    <account platform="examplechat">stone_a</account>
  </reportedPerson>
  <location><zip>90012</zip></location>
  <url>https://chat.example/u/stone_a</url>
  <file><fileName>a.jpg</fileName><hash signal="md5">{md5}</hash></file>
</report>
"""


def test_referral_xml_is_validated_and_becomes_a_tip(offices: Store) -> None:
    payload = parse_referral(REFERRAL.format(md5=md5("M-9")).encode())
    result = submit(offices, payload, channel="referral")
    assert result["office"] == "CA" and result["tier"] == "URGENT"  # retention deadline close
    with offices.session() as session:
        stored = session.get_one(Tip, result["tip_id"])
        assert stored.accounts == ["examplechat:stone_a"]
        assert stored.details["reporter"]["organisation"] == "ExampleChat"
    broken = REFERRAL.replace("<reporter>", "<reporter><content>base64</content>")
    with pytest.raises(TipRejected, match="line 8"):
        parse_referral(broken.format(md5=md5("M-9")).encode())
    with pytest.raises(TipRejected, match="malformed XML at line 3"):
        parse_referral(b"<report>\n<incidentSummary>\n</report>")
    with pytest.raises(TipRejected, match="refused XML"):
        parse_referral(b'<!DOCTYPE r [<!ENTITY e "x">]><report>&e;</report>')


def test_registry_candidates_use_the_linkage_name_comparison(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A transliterated or variant name born the same day is a candidate (weaker than an
    exact name, no floor); a namesake born another day is not."""
    registry = tmp_path / "registry.csv"
    registry.write_text("registry_id,full_name,dob,status\n"
                        "R-7,Sergei Ivanov,1975-05-06,absconded\n"
                        "R-8,Robert Whitfield,1980-01-02,\n")
    monkeypatch.setenv("CVIS_TIP_REGISTRY", str(registry))

    def factor(name: str, dob: str) -> Factor | None:
        return next(iter(registry_factors({"name": name, "dob": dob})), None)

    cyrillic = factor("Сергей Иванов", "1975-05-06")
    assert cyrillic is not None and "R-7" in cyrillic.evidence and "alike" in cyrillic.evidence
    assert cyrillic.floor is None and cyrillic.points < 40  # a candidate, not a conclusion
    assert len(registry_factors({"name": "Сергей Иванов", "dob": "1975-05-06"})) == 1
    variant = factor("Bob Whitfield", "1980-01-02")
    assert variant is not None and "R-8" in variant.evidence
    exact = factor("sergei IVANOV", "1975-05-06")
    assert exact is not None and exact.floor == "URGENT" and "name and date" in exact.evidence
    assert factor("Sergei Ivanov", "1975-05-07") is None  # a namesake born another day
    assert factor("Sergei Petrov", "1975-05-06") is None  # another person born that day
