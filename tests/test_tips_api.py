"""The tip line over HTTP: console intake, referrals, the SMS webhook, queues by office,
a lead's life, uploads refused (both backends)."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlencode

import pytest

from cvis.store.db import Store
from cvis.tips.sms import AUTH_TOKEN_ENV, twilio_signature
from tests.service_helpers import bearer, fast_argon2, make_accounts, make_client
from tests.test_tips import REFERRAL
from tests.tips_helpers import audit_key, load_offices, tip

__all__ = ["audit_key", "fast_argon2"]
SMS_URL = "http://testserver/api/v1/tips/sms"


def test_twilio_signature_matches_the_documented_example() -> None:
    params = {"CallSid": "CA1234567890ABCDE", "Caller": "+12349013030", "Digits": "1234",
              "From": "+12349013030", "To": "+18005551212"}
    assert twilio_signature("12345", "https://mycompany.com/myapp.php?foo=1&bar=2",
                            params) == "0/KCTR6DLpKmkAf8muzZqo1nDgQ="


def test_each_channel_reaches_the_right_office_queue(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    load_offices(store, tmp_path)
    houston = make_accounts(store, "TX-H")
    desk = make_accounts(store, "HQ")
    client = make_client(store, tmp_path)
    console = client.get("/api/v1/tips/console", headers=bearer(houston["call-taker"]))
    assert console.json()["questions"][0]["field"] == "immediate_danger"
    phoned = client.post("/api/v1/tips", headers=bearer(houston["call-taker"]) | {
        "Idempotency-Key": "call-1"}, json=tip(channel="phone", callback="202-555-0143",
                                               location={"zip": "77002"}, immediate_danger=True))
    assert phoned.status_code == 201, phoned.text
    assert phoned.json()["tier"] == "IMMEDIATE" and phoned.json()["office"] == "TX-H"
    again = client.post("/api/v1/tips", headers=bearer(houston["call-taker"]) | {
        "Idempotency-Key": "call-1"}, json=tip(channel="phone"))
    assert again.json()["tip_id"] == phoned.json()["tip_id"]
    referral = client.post("/api/v1/tips/referrals", headers=bearer(desk["examiner"]) | {
        "Content-Type": "application/xml"}, content=REFERRAL.format(md5="0" * 32))
    assert referral.status_code == 201 and referral.json()["office"] == "CA"
    bad_xml = client.post("/api/v1/tips/referrals", headers=bearer(desk["examiner"]),
                          content=b"<report>\n<x>\n</report>")
    assert bad_xml.status_code == 400 and "line 3" in bad_xml.json()["detail"]

    monkeypatch.setenv(AUTH_TOKEN_ENV, "sms-secret")
    form = {"From": "+12025550188", "Body": "A man is selling pictures of kids in Dallas",
            "MessageSid": "SM1"}
    signed = {"X-Twilio-Signature": twilio_signature("sms-secret", SMS_URL, form),
              "Content-Type": "application/x-www-form-urlencoded"}
    sms = client.post("/api/v1/tips/sms", content=urlencode(form), headers=signed)
    assert sms.status_code == 200 and "receipt TIP-" in sms.text
    forged = client.post("/api/v1/tips/sms", content=urlencode(form | {"Body": "x"}),
                         headers=signed)
    assert forged.status_code == 403

    queue = client.get("/api/v1/leads", headers=bearer(houston["examiner"]))
    assert [r["office"] for r in queue.json()] == ["TX-H"]
    assert queue.json()[0]["factors"][0] == {"name": "child in immediate danger", "points": 100}
    national = client.get("/api/v1/leads", headers=bearer(desk["examiner"]))
    assert {r["office"] for r in national.json()} == {"TX-H", "CA", "HQ"}
    channels = {t["channel"] for r in national.json() for t in client.get(
        f"/api/v1/leads/{r['lead_id']}", headers=bearer(desk["examiner"])).json()["tips"]}
    assert channels == {"phone", "referral", "sms"}


def test_a_lead_moves_through_its_life_over_http_and_hides_from_others(
    store: Store, tmp_path: Path
) -> None:
    load_offices(store, tmp_path)
    houston, california = make_accounts(store, "TX-H"), make_accounts(store, "CA")
    client = make_client(store, tmp_path)
    created = client.post("/api/v1/tips", headers=bearer(houston["examiner"]),
                          json=tip(location={"zip": "77002"}))
    lead = created.json()["lead_id"]
    hidden = client.get(f"/api/v1/leads/{lead}", headers=bearer(california["examiner"]))
    assert hidden.status_code == 404
    refused = client.post(f"/api/v1/leads/{lead}/steps", headers=bearer(houston["analyst"]),
                          json={"step": "assign", "assignee": "kim"})
    assert refused.status_code == 403  # analysts read; they do not move leads
    writer = bearer(houston["supervisor"])
    for body in ({"step": "assign", "assignee": "kim", "reason": "on shift"},
                 {"step": "accept"}, {"step": "action", "reason": "search warrant served"},
                 {"step": "close", "outcome": "arrest"}):
        answer = client.post(f"/api/v1/leads/{lead}/steps", headers=writer, json=body)
        assert answer.status_code == 200, answer.text
    assert answer.json()["status"] == "closed"
    wrong = client.post(f"/api/v1/leads/{lead}/steps", headers=writer, json={"step": "accept"})
    assert wrong.status_code == 400
    tiered = client.post(f"/api/v1/leads/{lead}/tier", headers=writer,
                         json={"value": "urgent", "reason": "victim is 6"})
    assert tiered.json()["tier"] == "URGENT"
    report = client.get("/api/v1/leads/report.pdf?week=2026-11-30",
                        headers=bearer(houston["supervisor"]))
    assert report.status_code == 200 and report.content.startswith(b"%PDF")


def test_uploads_are_refused_with_the_reason(store: Store, tmp_path: Path) -> None:
    load_offices(store, tmp_path)
    tokens = make_accounts(store, "HQ")
    client = make_client(store, tmp_path)
    upload = client.post("/api/v1/tips", headers=bearer(tokens["call-taker"]),
                         files={"file": ("a.jpg", b"\xff\xd8\xff", "image/jpeg")})
    assert upload.status_code == 415
    assert "does not accept pictures" in upload.json()["detail"]


def test_anonymous_tipster_answers_an_investigators_question(
    store: Store, tmp_path: Path
) -> None:
    from cvis.tips import messages
    from cvis.tips.intake import submit_tip

    load_offices(store, tmp_path)
    tokens = make_accounts(store, "TX-H")
    client = make_client(store, tmp_path)
    with store.session() as session:  # as the portal does
        given = submit_tip(session, tip(anonymous=True, location={"zip": "77002"}))
    asked = client.post(f"/api/v1/tips/{given['tip_id']}/messages",
                        headers=bearer(tokens["examiner"]), json={"text": "What car?"})
    assert asked.status_code == 201
    with store.session() as session:
        messages.tipster_reply(session, given["receipt"], given["passphrase"], "A red van")
    thread = client.get(f"/api/v1/tips/{given['tip_id']}/messages",
                        headers=bearer(tokens["examiner"])).json()
    assert [m["body"] for m in thread] == ["What car?", "A red van"]
