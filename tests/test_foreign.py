"""End to end with a foreign government: PAXLST -> covered traveller -> determination ->
notice on time -> complaint -> correction and letter -> the annual report counts it all."""

from __future__ import annotations

import email
import json
import socket
from collections.abc import Iterator
from datetime import UTC, datetime
from email.policy import default
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from cvis import policy
from cvis.foreign import annual, notices
from cvis.foreign.documents import render, verify
from cvis.foreign.models import Delivery, Notice, ScreenedTraveller
from cvis.foreign.travel import determine, screen_manifest
from cvis.policy import Actor
from cvis.policy.actors import local_operator
from cvis.store.db import Store
from tests.fusion_helpers import paxlst, traveller_from, write_registry


class Inbox:
    def __init__(self) -> None:
        self.messages: list[email.message.EmailMessage] = []

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: N802
        self.messages.append(email.message_from_bytes(envelope.content, policy=default))
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def smtp() -> Iterator[tuple[notices.SmtpSettings, Inbox]]:
    inbox = Inbox()
    port = _free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield notices.SmtpSettings("127.0.0.1", port, "notices@cvis.example", backoff_s=0.01), inbox
    controller.stop()


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory):
    folder = tmp_path_factory.mktemp("reg")
    return write_registry(folder, n=200)


@pytest.fixture(autouse=True)
def agency(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CVIS_AGENCY", "HSI")


def officer() -> Actor:
    return Actor("officer", "HSI", "supervisor", frozenset({"foreign:read", "foreign:write",
                                                         "foreign:confirm"}))


def test_paxlst_to_annual_report(store: Store, registry, smtp, tmp_path: Path) -> None:
    path, frame = registry
    settings, inbox = smtp
    analyst = local_operator(purpose="screening")
    person = traveller_from(frame.iloc[2])
    edi = tmp_path / "flight.edi"
    edi.write_text(paxlst([person, traveller_from(frame.iloc[9], family_name="Zzyzx",
                                                  given_names="Quentin")]))
    at = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)  # departure is 2026-12-20: > 48 h ahead
    run = screen_manifest(store, analyst, edi, path, at=at)
    hit, other = run.results
    assert hit.candidates and hit.in_time and other.candidates == []
    with store.session() as session:
        traveller_id = session.scalar(select(ScreenedTraveller.id).where(
            ScreenedTraveller.screening_id == run.screening_id,
            ScreenedTraveller.position == 0))
    det = determine(store, analyst, traveller_id, hit.candidates[0].registry_id, covered=True,
                    basis="name, date of birth and sex agree with the registry entry",
                    notify=True)
    notice_id = notices.draft_traveller_notice(store, analyst, det)
    with pytest.raises(notices.NoticeError):
        notices.send(store, analyst, notice_id, settings)  # not confirmed yet
    notices.confirm(store, officer(), notice_id)
    assert notices.send(store, analyst, notice_id, settings, tmp_path / "out")
    [message] = inbox.messages
    assert message["To"] == "liaison-gb@example.org"
    parts = {p.get_filename(): p for p in message.walk() if p.get_filename()}
    signed = json.loads(parts[f"N-{notice_id}.json"].get_payload(decode=True))
    assert verify(signed)
    assert "recommend" not in json.dumps(signed["body"]).lower()
    signed["body"]["country"] = "FR"
    assert not verify(signed)
    text = message.get_body(preferencelist=("plain",)).get_content()
    assert "does not recommend any action" in text
    notices.mark(store, analyst, notice_id, "received")
    [tracked] = notices.list_notices(store, analyst)
    assert tracked["status"] == "sent" and tracked["before_departure"] is True
    assert tracked["received_at"] and tracked["answered_at"] is None

    complaint = notices.file_complaint(store, "Alex Doe", "I am not that person",
                                       notice_id=notice_id, contact="alex@example.org")
    letter = notices.review_complaint(store, officer(), complaint, upheld=True,
                                      explanation="the traveller was a different person",
                                      prevention="dates of birth from passports are checked "
                                                 "against the registry file before notifying",
                                      smtp=settings, folder=tmp_path / "out")
    assert len(inbox.messages) == 2  # the correction went to the country at once
    correction = inbox.messages[1].get_body(preferencelist=("plain",)).get_content()
    assert f"CORRECTS our notice N-{notice_id}" in correction
    assert "different person" in letter["text"] and Path(letter["path"]).is_file()
    with store.session() as session:
        assert session.get(Notice, notice_id).status == "corrected"

    figures = annual.annual_report(store, analyst, 2026, tmp_path / "report")
    assert figures["notices"] == 1 and figures["sent_by_country"] == {"GB": 1}
    assert figures["share_sent_before_departure"] == 1.0
    assert figures["errors_found"] == 1 and figures["corrections_sent"] == 1
    assert figures["complaints"]["upheld"] == 1 and figures["complaints"]["answered_in_time"] == 1
    assert figures["complaints"]["letters_written"] == 1
    assert (tmp_path / "report" / "foreign-2026.pdf").read_bytes().startswith(b"%PDF")


def test_delivery_retries_and_records_every_attempt(store: Store, tmp_path: Path) -> None:
    actor = local_operator()
    notice_id = notices.draft_removal_notice(store, actor, "R404", "MX", None)
    notices.confirm(store, actor, notice_id)
    dead = notices.SmtpSettings("127.0.0.1", _free_port(), "x@example.org", retries=2,
                                backoff_s=0.01, timeout_s=1)
    assert not notices.send(store, actor, notice_id, dead, tmp_path)
    with store.session() as session:
        attempts = [d.outcome for d in session.query(Delivery).order_by(Delivery.attempt)]
        assert attempts == ["failed", "failed"]
        assert session.get(Notice, notice_id).language == "es"


def test_templates_per_language() -> None:
    context = {"kind": "removal", "reference": "N-1", "date": "1 de diciembre de 2026",
               "country": "MX", "departure": "", "identity": [["Nombre", "Ana"]],
               "convictions": [], "corrects": "", "corrects_date": "", "reason": ""}
    spanish = render("notice", "es", context)
    assert "México" in spanish and "No recomienda ninguna medida" in spanish
    assert "does not recommend" in render("notice", "de", context)  # falls back to English


def test_an_inbound_request_is_screened_then_answered_after_approval(store: Store, registry,
                                                                     tmp_path: Path) -> None:
    from cvis.foreign.travel import answer_inbound, receive_inbound

    path, frame = registry
    r = frame.iloc[5]
    asked = {"given_names": r.given_names, "family_name": r.family_name, "dob": r.dob,
             "sex": r.sex, "destination": "GB"}
    request = receive_inbound(store, local_operator(), "GB", "UK-2026-001", asked, path)
    stranger = Actor("stranger", "OTHER", "supervisor", frozenset({"foreign:confirm"}))
    with pytest.raises(policy.NotVisible):
        answer_inbound(store, stranger, request, covered=True, basis="x")
    answer = answer_inbound(store, officer(), request, covered=True,
                            basis="name and date of birth agree")
    assert answer["registry_ids"] == [r.id] and answer["reference"] == "UK-2026-001"
