"""The foreign pages of the analyst web application, in-process on both backends: a hit
determined beside the registrant, a notice confirmed, downloaded signed and sent on time, a
complaint from the public tied to it and upheld (correction sent, letter written), an
inbound request approved, the annual report; another agency's records are not there."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select, update

from cvis.accounts.service import add_agency, add_user
from cvis.foreign import notices, sample
from cvis.foreign.documents import verify
from cvis.foreign.models import Complaint, Notice
from cvis.store.db import Store
from cvis.store.models import AuditRecord
from tests.test_foreign import Inbox, _free_port
from tests.web_helpers import (
    AGENCY_A,
    AGENCY_B,
    PASSWORD,
    World,
    client,
    fast_argon2,  # noqa: F401  (autouse)
    sign_in,
)


@pytest.fixture
def smtp(monkeypatch: pytest.MonkeyPatch) -> Iterator[Inbox]:
    inbox, port = Inbox(), _free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    monkeypatch.setenv("CVIS_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("CVIS_SMTP_PORT", str(port))
    yield inbox
    controller.stop()


def foreign_world(store: Store) -> tuple[World, dict, dict]:
    """Two agencies with their sample records; a supervisor and an analyst in A."""
    world = World(store, Path("."))
    with store.session() as session:
        for agency in (AGENCY_A, AGENCY_B):
            add_agency(session, agency)
        for name, role in (("sup", "supervisor"), ("ann", "analyst")):
            world.secrets[name] = add_user(session, name, AGENCY_A, role, PASSWORD)[1]
    return world, sample.seed(store, AGENCY_A), sample.seed(store, AGENCY_B)


def _csrf(html: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', html).group(1)  # type: ignore[union-attr]


def test_from_a_hit_to_a_notice_a_complaint_and_the_report(store: Store, smtp: Inbox) -> None:
    world, own, other = foreign_world(store)
    http = client(store)
    csrf = sign_in(http, world, "sup")
    assert "Foreign notices" in http.get("/").text  # in the navigation
    hits = http.get("/foreign").text
    assert f'/foreign/travellers/{own["traveller_id"]}"' in hits
    assert f'/foreign/travellers/{other["traveller_id"]}"' not in hits
    page = http.get(f"/foreign/travellers/{own['traveller_id']}").text
    registrant = sample.registry_id(AGENCY_A)
    assert f"Registrant {registrant}" in page and page.count("Castellanos") >= 2
    assert "possession of child sexual abuse material" in page  # the conviction, for context
    url = f"/foreign/travellers/{own['traveller_id']}"
    missing = http.post(url, data={"csrf": csrf, "registry_id": registrant, "covered": "yes",
                                   "basis": "same passport"})
    assert missing.status_code == 400 and "reason not to is recorded" in missing.text
    done = http.post(url, data={"csrf": csrf, "registry_id": registrant, "covered": "yes",
                                "basis": "same passport, birth date and name", "notify": "1"},
                     follow_redirects=False)
    assert done.status_code == 303
    notice_url = done.headers["location"].split("?")[0]
    notice_id = int(notice_url.rsplit("/", 1)[1])
    assert "draft" in http.get(notice_url).text
    assert http.get(f"{notice_url}/notice.json", follow_redirects=False).headers[
        "location"].endswith("error=state")  # a draft is not signed
    for action in ("confirm", "confirm", "send"):
        answer = http.post(notice_url, data={"csrf": csrf, "action": action},
                           follow_redirects=False)
        assert answer.status_code == 303
    assert "error=state" not in answer.headers["location"]
    signed = json.loads(http.get(f"{notice_url}/notice.json").content)
    assert verify(signed) and signed["body"]["country"] == "GB"
    assert http.get(f"{notice_url}/notice.pdf").content.startswith(b"%PDF")
    assert len(smtp.messages) == 1
    shown = http.get(notice_url).text
    assert "Sent before departure</th><td>yes" in shown and "attempt 1: sent" in shown
    assert http.get(f"/foreign/notices/{other['notice_id']}").status_code == 404

    with store.session() as session:  # a complaint past its deadline comes first
        session.execute(update(Complaint).where(Complaint.id == own["open_complaint_id"])
                        .values(due_at=datetime.now(UTC) - timedelta(days=1)))
    queue = http.get("/foreign/complaints").text
    first = re.search(r'/foreign/complaints/(\d+)"', queue).group(1)  # type: ignore[union-attr]
    assert int(first) == own["open_complaint_id"] and "overdue" in queue
    complaint_url = f"/foreign/complaints/{first}"
    http.post(complaint_url, data={"csrf": csrf, "action": "attach", "notice": f"N-{notice_id}"})
    upheld = http.post(complaint_url, data={
        "csrf": csrf, "action": "review", "upheld": "yes",
        "explanation": "the passport was another person's", "prevention": "two officers "
        "compare the passport with the registry file"}, follow_redirects=False)
    assert upheld.headers["location"].endswith("done=reviewed")
    assert len(smtp.messages) == 2  # the correction went to the country at once
    page = http.get(complaint_url).text
    assert "Correction to the country" in page and "letter.pdf" in page
    assert http.get(f"{complaint_url}/letter.pdf").content.startswith(b"%PDF")
    with store.session() as session:
        assert session.get(Notice, notice_id).status == "corrected"
    assert http.get(f"/foreign/complaints/{other['complaint_id']}").status_code == 404

    inbound = f"/foreign/inbound/{own['pending_request_id']}"
    assert http.post(inbound, data={"csrf": csrf, "covered": "no", "basis": "birth date "
                                    "differs"}, follow_redirects=False).status_code == 303
    assert "Approved by sup" in http.get(inbound).text
    report = http.get("/foreign/report").text
    assert "Errors found</th><td>1" in report
    figures = json.loads(http.get(f"/foreign/report/{own['year']}.json").content)
    assert figures["corrections_sent"] == 1 and figures["complaints"]["upheld"] == 1
    assert http.get(f"/foreign/report/{own['year']}.pdf").content.startswith(b"%PDF")
    with store.session() as session:
        events = set(session.scalars(select(AuditRecord.event).where(
            AuditRecord.event.like("web.foreign%"))))
    assert {"web.foreign.determine", "web.foreign.notice.confirm",
            "web.foreign.complaint.review"} <= events
    _analyst_cannot_confirm_and_markup_is_text(store, world, own)


def _analyst_cannot_confirm_and_markup_is_text(store: Store, world: World, own: dict) -> None:
    newest = notices.file_complaint(store, "<b>Eve</b>", "<script>alert(1)</script>",
                                    notice_id=None)
    http = client(store)
    csrf = sign_in(http, world, "ann")
    assert http.post(f"/foreign/notices/{own['draft_id']}", data={
        "csrf": csrf, "action": "confirm"}).status_code == 403
    queue = http.get("/foreign/complaints").text
    assert "&lt;b&gt;Eve&lt;/b&gt;" in queue and "<b>Eve" not in queue
    page = http.get(f"/foreign/complaints/{newest}").text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "<script>alert" not in page

