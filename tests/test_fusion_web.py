"""The fusion pages: targets per office with reasons, a subject's timeline with conflicts
side by side and merges with undo, work queues and outcomes, releases and detainers, the
monthly report with its plots and PDF, the 30-day list, and joint investigations (a partner
agency sees what was shared, with the rights granted, until the share is revoked)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from cvis.accounts.service import add_agency, add_user
from cvis.cases.service import new_case
from cvis.linkage.state import LinkageState
from cvis.store.db import Store
from cvis.store.models import AuditRecord
from tests.fusion_web_helpers import fusion_ids, seed_fusion
from tests.web_helpers import (
    AGENCY_A,
    AGENCY_B,
    PASSWORD,
    World,
    client,
    fast_argon2,  # noqa: F401  (autouse)
    sign_in,
)

CASE = "A-JOINT-1"


@pytest.fixture
def world(store: Store) -> World:
    """Two agencies, a supervisor in each, the seeded fusion data and one case of A's."""
    world = World(store, Path("."))
    with store.session() as session:
        for agency in (AGENCY_A, AGENCY_B):
            add_agency(session, agency)
        for name, agency in (("sup-a", AGENCY_A), ("sup-b", AGENCY_B)):
            world.secrets[name] = add_user(session, name, agency, "supervisor", PASSWORD)[1]
        new_case(session, CASE, actor="sup-a", agency=AGENCY_A, title="Joint work")
    seed_fusion(store, (AGENCY_A, AGENCY_B))
    return world


def _signed_in(world: World, user: str) -> tuple[TestClient, str]:
    http = client(world.store)
    return http, sign_in(http, world, user)


def _events(store: Store) -> list[str]:
    with store.session() as session:
        return list(session.scalars(select(AuditRecord.event)))


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_fusion_pages_show_the_agency_its_own_programme(world: World) -> None:
    http, _ = _signed_in(world, "sup-a")
    ids = fusion_ids(world.store)
    own, other = ids["own"], ids["other"]
    targets = http.get("/targets")
    assert targets.status_code == 200
    text = _text(targets.text)
    assert "HOU" in text and "S-A1" in text and "S-B1" not in text
    assert "charged and at large (active warrant) +35 (link:warrants:W1)" in text
    subject = _text(http.get("/subjects/S-A1").text)
    assert "Conflicting facts, side by side" in subject
    assert "registry:R1" in subject and "inmates:I1" in subject
    assert "1970-01-02" in subject and "1970-02-01" in subject and "0.91" in subject
    assert "Confirm" in subject and "Partner of A" in subject  # merge to decide, its share
    assert "Undo merge" not in subject
    queue = _text(http.get("/queues?office=HOU").text)
    assert "fugitive operations" in queue and "S-A1" in queue and "wrong person" in queue
    releases = _text(http.get("/releases").text)
    assert "County Jail East" in releases and "S-B1" not in releases
    detainer = _text(http.get(f"/detainers/{own['detainer_id']}").text)
    assert "I confirm the facts and sign" in detainer and "removal country GB" in detainer
    month = http.get("/months", follow_redirects=False)
    assert month.headers["location"] == "/months/2026-11"
    page = http.get("/months/2026-11").text
    assert 'src="/months/2026-11/plots/tiers.svg"' in page and "report.pdf" in page
    plot = http.get("/months/2026-11/plots/tiers.svg")
    assert plot.headers["content-type"].startswith("image/svg+xml") and b"<svg" in plot.content
    assert http.get("/months/2026-11/report.pdf").content.startswith(b"%PDF")
    assert "S-A1" in _text(http.get("/targets/high-priority").text)
    for url in ("/subjects/S-B1", "/subjects/NO-SUCH", f"/detainers/{other['detainer_id']}",
                "/months/2026-10", "/months/2026-10/report.pdf"):
        assert http.get(url).status_code == 404, url


def test_merge_undo_outcome_detainer_thirty_day_share_and_joint_investigation(
        world: World) -> None:
    http, csrf = _signed_in(world, "sup-a")
    own = fusion_ids(world.store)["own"]
    merge = f"/subjects/S-A1/merges/{own['merge_id']}"
    assert http.post(merge, data={"csrf": csrf, "action": "confirm"}).status_code == 200
    page = _text(http.get("/subjects/S-A1").text)
    assert "contact_offence" in page and "Undo merge" in page  # S-A2's fact, shown under S-A1
    http.post(merge, data={"csrf": csrf, "action": "undo"})
    assert "contact_offence" not in _text(http.get("/subjects/S-A1").text)
    job = own["assignment_id"]
    http.post(f"/queues/{job}/accept", data={"csrf": csrf})
    linkage = world.store.settings.home / "linkage"
    with LinkageState(linkage, audit=False) as state:  # the link was confirmed by a reviewer
        state.execute("INSERT INTO decisions (registry_id, index_name, record_id, decision) "
                      "VALUES ('R1', 'inmates', 'I1', 'confirm')")
    done = http.post(f"/queues/{job}/outcome", data={"csrf": csrf, "result": "wrong_person",
                                                    "note": "different person"})
    assert "returned to review" in _text(done.text)
    with LinkageState(linkage, audit=False) as state:  # pending again: a person looks again
        assert state.query("SELECT * FROM decisions").empty
    assert "inmates:I1" not in _text(http.get("/subjects/S-A1").text)  # the link's facts retracted
    url = f"/detainers/{own['detainer_id']}"
    assert "draft" in _text(http.post(url, data={"csrf": csrf, "status": "lodged"}).text)
    http.post(url, data={"csrf": csrf, "status": "signed"})
    signed = _text(http.post(url, data={"csrf": csrf, "status": "lodged"}).text)
    assert "signed by sup-a" in signed and "Honoured" in signed
    shared = http.post("/targets/high-priority/share",
                       data={"csrf": csrf, "partners": "ICAC Task Force", "purpose": "30-day"})
    assert "ICAC Task Force" in _text(shared.text)
    events = _events(world.store)
    assert {"merge.confirm", "merge.undo", "queue.outcome.wrong_person", "detainer.signed",
            "target.share"} <= set(events)
    _joint_investigation(world, http, csrf)  # one world for both (each costs a database)


def _joint_investigation(world: World, owner: TestClient, csrf: str) -> None:
    """A partner sees what was shared, with the rights granted, until it is revoked."""
    partner, partner_csrf = _signed_in(world, "sup-b")
    assert partner.get("/subjects/S-A1").status_code == 404
    assert partner.get(f"/cases/{CASE}").status_code == 404
    owner.post("/subjects/S-A1/shares", data={"csrf": csrf, "partner": AGENCY_B,
                                              "rights": "read", "purpose": "joint operation"})
    from cvis.fusion import shares
    from cvis.policy.actors import local_operator

    case_share = shares.share(world.store, local_operator(), "case", CASE, AGENCY_B, ["read"],
                              "joint operation")
    page = partner.get("/subjects/S-A1")
    assert page.status_code == 200 and "Put in the queue" not in page.text
    assert "Joint investigation" not in page.text  # the owner's shares are not the partner's
    assert "S-A1" in _text(partner.get("/targets").text)
    assert partner.get("/subjects/S-A2").status_code == 404  # only what was shared
    refused = partner.post("/subjects/S-A1/assign", data={"csrf": partner_csrf, "office": "X"})
    assert refused.status_code == 403  # read only: it may not put the subject in a queue
    assert partner.get(f"/cases/{CASE}").status_code == 200
    assert partner.get(f"/cases/{CASE}/report.json").status_code == 403  # read, not export
    share_id = re.search(r'action="/shares/(\d+)/revoke">[^\n]*aria-label="Revoke the share '
                         f'with {AGENCY_B}"', owner.get("/subjects/S-A1").text)
    assert share_id is not None
    owner.post(f"/shares/{share_id.group(1)}/revoke", data={"csrf": csrf})
    shares.revoke(world.store, local_operator(), case_share, "operation over")
    assert partner.get("/subjects/S-A1").status_code == 404
    assert partner.get(f"/cases/{CASE}").status_code == 404
    assert {"subject.share", "case.share", "share.revoke"} <= set(_events(world.store))
