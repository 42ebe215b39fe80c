"""The tip line in the analyst web application (in-process, both backends): the call-taker
console, the queues with what is overdue, a lead's page and its changes, need-to-know."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import select

from cvis.accounts.service import add_agency, add_user
from cvis.store.db import Store
from cvis.store.models import AuditRecord
from cvis.tips.intake import submit_tip
from cvis.tips.models import LeadEvent
from tests.tips_helpers import audit_key, load_offices, person, tip
from tests.web_helpers import PASSWORD, World, client, sign_in
from tests.web_helpers import fast_argon2 as fast_argon2

__all__ = ["audit_key"]
USERS = {"calls": ("TX-H", "call-taker"), "hou": ("TX-H", "examiner"),
         "cal": ("CA", "examiner")}


def _world(store: Store, tmp_path: Path) -> World:
    """Offices (their ids are the agencies' names), a call-taker and two examiners."""
    load_offices(store, tmp_path)
    world = World(store, tmp_path)
    with store.session() as session:
        for agency in ("TX-H", "CA"):
            add_agency(session, agency)
        for name, (agency, role) in USERS.items():
            world.secrets[name] = add_user(session, name, agency, role, PASSWORD)[1]
    return world


def _signed_in(world: World, user: str) -> tuple[TestClient, str]:
    http = client(world.store)
    csrf = sign_in(http, world, user)
    http.follow_redirects = False  # the form posts answer 303 back to the lead
    return http, csrf


def test_console_queue_and_lead_pages(store: Store, tmp_path: Path) -> None:
    """One world per backend (a PostgreSQL database costs seconds): the console, then the
    queue and the lead page."""
    world = _world(store, tmp_path)
    _console_takes_a_call(world)
    _queue_lead_page_and_changes_with_need_to_know(world)


def _console_takes_a_call(world: World) -> None:
    """The console shows receipt, tier and office; a second press is the same tip."""
    http, csrf = _signed_in(world, "calls")
    form = http.get("/tips/console")
    assert form.status_code == 200
    html = form.text
    assert html.index("child in danger now") < html.index("What happened")  # asked first
    call_id = re.search(r'name="call_id" value="([^"]+)"', html).group(1)  # type: ignore[union-attr]
    fields = {"csrf": csrf, "call_id": call_id, "immediate_danger": "yes", "caller": "named",
              "caller_name": "Pat Caller", "callback": "(202) 555-0143",
              "narrative": "A man is hurting a <b>child</b> in a house on Main St.",
              "zip": "77002", "subject_name": "John Roe", "subject_dob": "1980-02-03"}
    taken = http.post("/tips/console", data=fields)
    assert taken.status_code == 200, taken.text
    assert "TIP-" in taken.text and "IMMEDIATE" in taken.text and "TX-H" in taken.text
    assert "+12025550143" in taken.text  # the call-back number, normalised
    again = http.post("/tips/console", data=fields)  # Submit pressed twice: one tip
    assert "already recorded" in again.text
    anonymous = http.post("/tips/console", data={
        "csrf": csrf, "immediate_danger": "no", "caller": "anonymous", "callback": "555",
        "narrative": "Someone sells pictures on a forum", "state": "CA"})
    assert "Passphrase" in anonymous.text and ">CA<" in anonymous.text
    refused = http.post("/tips/console", data=fields | {"call_id": "other", "zip": "7700"})
    assert refused.status_code == 400 and "ZIP" in refused.text
    assert "Pat Caller" in refused.text  # what was typed is kept
    assert http.get("/leads").status_code == 403  # a call-taker takes calls, reads no leads


def _queue_lead_page_and_changes_with_need_to_know(world: World) -> None:
    """Overdue first; a tier change needs a reason and is recorded; CA sees none of TX-H's."""
    store = world.store
    houston = person("TX-H", "examiner")
    long_ago = datetime.now(UTC) - timedelta(days=40)  # MONITOR: 7 and 30 days
    with store.session() as session:
        late = submit_tip(session, tip(location={"zip": "77002"}), actor=houston, limiter=None,
                          now=long_ago)
        fresh = submit_tip(session, tip(location={"county": "Harris", "state": "TX"},
                                        anonymous=True, accounts=["@fresh"]),
                           actor=houston, limiter=None)
        cal_lead = submit_tip(session, tip(location={"state": "CA"}, urls=["x.example/c"]),
                              actor=houston, limiter=None)
    http, csrf = _signed_in(world, "hou")
    queue = http.get("/leads")
    assert queue.status_code == 200
    text = queue.text
    assert f"/leads/{late['lead_id']}" in text and f"/leads/{fresh['lead_id']}" in text
    assert f"/leads/{cal_lead['lead_id']}" not in text  # another office's lead
    assert text.index(f"/leads/{late['lead_id']}") < text.index(f"/leads/{fresh['lead_id']}")
    assert "overdue: acknowledge, action" in text and "1 overdue" in text
    only_late = http.get("/leads?overdue=1").text
    assert f"/leads/{fresh['lead_id']}\"" not in only_late

    lead_url = f"/leads/{fresh['lead_id']}"
    page = http.get(lead_url)
    assert page.status_code == 200 and "Why this tier" in page.text and "points" in page.text
    no_reason = http.post(f"{lead_url}/tier", data={"csrf": csrf, "tier": "URGENT"})
    assert no_reason.status_code == 303 and "error=" in no_reason.headers["location"]
    changed = http.post(f"{lead_url}/tier", data={"csrf": csrf, "tier": "URGENT",
                                                   "reason": "the caller sounded credible"})
    assert changed.status_code == 303
    shown = http.get(changed.headers["location"]).text
    assert "tier changed" in shown and "the caller sounded credible" in shown
    assert "tier-URGENT" in shown
    for step in ({"step": "assign", "assignee": "hou", "reason": "on duty"},
                 {"step": "accept", "reason": "mine"}):
        assert "notice=" in http.post(f"{lead_url}/step", data={"csrf": csrf} | step
                                      ).headers["location"]
    asked = http.post(f"{lead_url}/tips/{fresh['tip_id']}/ask",
                      data={"csrf": csrf, "question": "Which forum, please?"})
    assert "notice=" in asked.headers["location"]
    shown = http.get(lead_url).text
    assert "Which forum, please?" in shown and "accepted" in shown
    with store.session() as session:
        steps = [(e.actor, e.step, e.reason) for e in session.scalars(
            select(LeadEvent).where(LeadEvent.lead_id == fresh["lead_id"]))]
        assert ("hou", "tier changed", "the caller sounded credible") in steps
        assert session.scalar(select(AuditRecord.id).where(
            AuditRecord.event == "lead.tier", AuditRecord.user == "hou")) is not None

    other, other_csrf = _signed_in(world, "cal")
    assert other.get(lead_url).status_code == 404
    assert f"/leads/{fresh['lead_id']}" not in other.get("/leads").text
    assert other.post(f"{lead_url}/tier", data={"csrf": other_csrf, "tier": "MONITOR",
                                                "reason": "x"}).status_code == 404
    forwarded = http.post(f"{lead_url}/route", data={"csrf": csrf, "how": "forward",
                                                     "to": "CA", "reason": "they hold it"})
    assert "notice=" in forwarded.headers["location"]
    readable = other.get(lead_url)  # forwarded: CA may read it, and is offered no change
    assert readable.status_code == 200 and "Change the tier" not in readable.text
    assert "Change the tier" in http.get(lead_url).text
    assert other.post(f"{lead_url}/tier", data={"csrf": other_csrf, "tier": "MONITOR",
                                                "reason": "x"}).status_code == 404  # read only
