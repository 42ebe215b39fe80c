"""Deadlines end to end: a fake clock, a real SMTP server on loopback, a scheduler restart;
and deconfliction pausing a lead another agency is already working (both backends)."""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from email.message import Message
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from aiosmtpd.controller import Controller
from fastapi.testclient import TestClient

from cvis.api import create_app
from cvis.api.settings import ServiceSettings
from cvis.cli.serve import serve_command
from cvis.config import Settings
from cvis.store.db import Store
from cvis.store.models import Case, KnownMedia, Match, Scan, ScanItem
from cvis.tips import service
from cvis.tips.intake import submit_tip
from cvis.tips.scheduler import (
    INTERVAL_ENV,
    SCHEDULER_ENV,
    THREAD_NAME,
    DeadlineScheduler,
    MailSettings,
)
from tests.hashset_helpers import import_lines, line, md5
from tests.tips_helpers import audit_key, load_offices, person, tip

NIGHT = datetime(2026, 11, 29, 3, 0, tzinfo=UTC)  # a Sunday, 3 a.m.

__all__ = ["audit_key"]


class Inbox:
    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        self.messages.append(message_from_bytes(envelope.content))
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    inbox, port = Inbox(), _free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield inbox, port
    controller.stop()


class FakeClock:
    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at


def test_a_missed_immediate_deadline_escalates_by_email_at_night(
    store: Store, tmp_path: Path, smtp: tuple[Inbox, int]
) -> None:
    inbox, port = smtp
    load_offices(store, tmp_path)
    with store.session() as session:
        late = submit_tip(session, tip(immediate_danger=True, location={"zip": "77002"}),
                          now=NIGHT)
        done = submit_tip(session, tip(narrative="child in danger right now",
                                       location={"zip": "77002"}, urls=["http://x.example/a"]),
                          now=NIGHT)
        service.take_step(session, person("TX-H"), done["lead_id"], "assign", "",
                          assignee="kim", now=NIGHT)
        service.take_step(session, person("TX-H"), done["lead_id"], "accept", "",
                          now=NIGHT + timedelta(minutes=4))
    mail = MailSettings("127.0.0.1", port, "tips@example.org", "duty@example.org")
    clock = FakeClock(NIGHT + timedelta(minutes=5))
    scheduler = DeadlineScheduler(store, mail, clock)
    assert scheduler.run_once() == []
    clock.at = NIGHT + timedelta(minutes=11)  # two thirds of 15 minutes: remind the office
    reminded = scheduler.run_once()
    assert [(n.kind, n.lead_id, n.to) for n in reminded] == [
        ("reminder", late["lead_id"], "hou@example.org")]
    restarted = DeadlineScheduler(Store(store.settings), mail, clock)  # a new process
    clock.at = NIGHT + timedelta(minutes=16)
    escalated = restarted.run_once()
    assert [(n.kind, n.deadline, n.to) for n in escalated] == [
        ("escalation", "acknowledge", "duty@example.org")]
    assert restarted.run_once() == [] and scheduler.run_once() == []  # exactly once
    assert [m["To"] for m in inbox.messages] == ["hou@example.org", "duty@example.org"]
    assert "IMMEDIATE lead" in inbox.messages[1]["Subject"]
    assert "overdue" in inbox.messages[1]["Subject"]
    with store.session() as session:
        shown = service.show_lead(session, person("HQ"), late["lead_id"])
        assert [h["step"] for h in shown["history"]][-2:] == ["reminded", "escalated"]
        overdue = service.list_leads(session, person("HQ"), overdue_at=clock.at)
        assert [r["lead_id"] for r in overdue] == [late["lead_id"]]


def test_a_tier_change_moves_the_deadlines(store: Store, tmp_path: Path,
                                           smtp: tuple[Inbox, int]) -> None:
    inbox, port = smtp
    load_offices(store, tmp_path)
    with store.session() as session:
        result = submit_tip(session, tip(location={"zip": "90012"}), now=NIGHT)  # MONITOR
        service.change_tier(session, person("CA"), result["lead_id"], "IMMEDIATE",
                            "caller said the child is alone with him", now=NIGHT)
    scheduler = DeadlineScheduler(store, MailSettings("127.0.0.1", port, "t@example.org",
                                                      "duty@example.org"),
                                  FakeClock(NIGHT + timedelta(minutes=20)))
    sent = scheduler.run_once()
    assert {n.kind for n in sent} == {"reminder", "escalation"}
    assert len(inbox.messages) == 2


def test_another_agencys_open_case_pauses_the_lead(store: Store, tmp_path: Path) -> None:
    load_offices(store, tmp_path)
    import_lines(store, "national", line("M-5", series="Harbor", victim_identified=False))
    with store.session() as session:
        known = session.query(KnownMedia).filter_by(media_id="M-5").one()
        case = Case(number="FBI-1", agency="FBI Field Unit", status="open")
        session.add(case)
        session.flush()
        scan = Scan(case_id=case.id)
        session.add(scan)
        session.flush()
        item = ScanItem(scan_id=scan.id, path="x/1.jpg", md5=md5("M-5"))
        session.add(item)
        session.flush()
        session.add(Match(item_id=item.id, known_media_id=known.id, signal_type="md5"))
    with store.session() as session:
        result = submit_tip(session, tip(channel="referral", hashes=[md5("M-5")]), now=NIGHT)
        assert result["tier"] == "PAUSED"
        shown = service.show_lead(session, person("HQ"), result["lead_id"])
        pause = next(f for f in shown["factors"] if f.get("pause"))
        assert "FBI-1" in pause["evidence"]
        assert shown["deadlines"] == []  # nothing to chase while another agency works it
        case.status = "closed"
        session.merge(case)
    with store.session() as session:
        again = submit_tip(session, tip(channel="referral", hashes=[md5("M-5")]), now=NIGHT)
        assert again["tier"] == "URGENT"


def _escalations(inbox: Inbox, wanted: int) -> list[str]:
    """The escalation subjects received, waiting (a few seconds at most) for ``wanted``."""
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        found = [str(m["Subject"]) for m in inbox.messages if "overdue" in str(m["Subject"])]
        if len(found) >= wanted:
            return found
        time.sleep(0.05)
    return found


def test_serving_runs_the_deadline_scheduler_once_per_deployment(
    store: Store, cli_env: Settings, tmp_path: Path, smtp: tuple[Inbox, int],
    monkeypatch: pytest.MonkeyPatch
) -> None:
    """The app's lifespan starts the scheduler (and stops it); `cvis serve` runs one beside
    its workers and turns it off in them; either way an overdue lead escalates by mail."""
    inbox, port = smtp
    for name, value in {"CVIS_SMTP_HOST": "127.0.0.1", "CVIS_SMTP_PORT": str(port),
                        "CVIS_DUTY_SUPERVISOR": "duty@example.org", SCHEDULER_ENV: "1",
                        INTERVAL_ENV: "0.1"}.items():
        monkeypatch.setenv(name, value)
    load_offices(store, tmp_path)
    an_hour_ago = datetime.now(UTC) - timedelta(hours=1)
    with store.session() as session:
        first = submit_tip(session, tip(immediate_danger=True, urls=["http://a.example/1"]),
                           now=an_hour_ago)
    app = create_app(store, ServiceSettings(recover_scans=False, tip_scheduler=True,
                                            background_refresh=False))
    with TestClient(app):
        assert any(t.name == THREAD_NAME for t in threading.enumerate())
        assert f"lead {first['lead_id']}: acknowledge overdue" in _escalations(inbox, 1)[0]
    assert not any(t.name == THREAD_NAME for t in threading.enumerate())  # stopped with it

    with store.session() as session:
        second = submit_tip(session, tip(immediate_danger=True, urls=["http://b.example/2"]),
                            now=an_hour_ago)
    served: list[str] = []

    def fake_uvicorn(target: str, **options: Any) -> None:  # the workers, while serving
        served.append(os.environ[SCHEDULER_ENV])
        served.extend(_escalations(inbox, 2)[1:])

    monkeypatch.setattr(uvicorn, "run", fake_uvicorn)
    serve_command(port=_free_port())
    assert served[0] == "0"  # the workers run no scheduler of their own
    assert f"lead {second['lead_id']}: acknowledge overdue" in served[1]
    assert not any(t.name == THREAD_NAME for t in threading.enumerate())
