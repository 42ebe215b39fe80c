"""Registry links in the web application: the review queue (clerical band first), a link's
evidence side by side, confirm and reject with a reason through the linkage service, the
linkage rule deciding who sees them (agency B's supervisor: not found), every decision and
every read of the linkage state audited."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from cvis.linkage.review import queue
from cvis.linkage.state import LinkageState
from cvis.store.db import Store
from cvis.store.models import AuditRecord
from tests.web_helpers import (
    World,
    build_world,
    client,
    demo_files,
    fast_argon2,  # noqa: F401  (autouse)
    sign_in,
)


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return demo_files(tmp_path_factory.mktemp("web-registry"))


@pytest.fixture
def world(store: Store, files: tuple[Path, Path]) -> World:
    return build_world(store, files)


def _events(store: Store, prefix: str) -> list[AuditRecord]:
    with store.session() as session:
        return list(session.scalars(select(AuditRecord).where(
            AuditRecord.event.startswith(prefix)).order_by(AuditRecord.id)))


def test_links_review_side_by_side_confirm_and_reject_with_a_reason(world: World) -> None:
    http = client(world.store)
    csrf = sign_in(http, world, "sue")
    listing = http.get("/links").text
    review_key, link_key = world.links["review"], world.links["link"]
    assert listing.index(review_key) < listing.index(link_key)  # the clerical band first
    assert "Registry links" in http.get("/").text  # in the navigation for this role
    page = http.get(f"/links/{review_key}").text
    assert "dates of birth differ" in page and "-8.40" in page and "1970-01-01" in page
    refused = http.post(f"/links/{review_key}", data={"csrf": csrf, "decision": "reject"})
    assert "Say why you reject" in refused.text
    http.post(f"/links/{review_key}", data={"csrf": csrf, "decision": "reject",
                                            "reason": "different dates of birth"})
    done = http.post(f"/links/{link_key}", data={"csrf": csrf, "decision": "confirm"})
    assert f"Link {link_key} confirmed" in done.text
    with LinkageState(world.store.settings.home / "linkage", audit=False) as state:
        status = {i.key: i.status for i in queue(state, include_decided=True)}
        reviewers = state.query("SELECT reviewer, note FROM decision_log ORDER BY decided_at")
    assert status == {review_key: "rejected", link_key: "confirmed"}
    assert list(reviewers.itertuples(index=False, name=None)) == [
        ("sue", "different dates of birth"), ("sue", "")]
    assert "Nothing awaits a decision" in http.get("/links").text
    events = [(r.event, r.outcome, r.user) for r in _events(world.store, "web.link.")
              if r.event != "web.link.show"]
    assert events == [("web.link.reject", "failure", "sue"),
                           ("web.link.reject", "success", "sue"),
                           ("web.link.confirm", "success", "sue")]
    written = _events(world.store, "linkage.state.write")
    assert written and written[-1].user == "sue" and "decisions" in written[-1].detail


def test_links_are_the_owning_agencys_only(world: World) -> None:
    other = client(world.store)
    sign_in(other, world, "sam")  # a supervisor of agency B: holds the rights, not the links
    assert other.get("/links").status_code == 404
    assert other.get(f"/links/{world.links['link']}").status_code == 404
    examiner = client(world.store)
    csrf = sign_in(examiner, world, "ana")  # agency A, but an examiner: no linkage right
    assert examiner.get("/links").status_code == 403
    assert examiner.post(f"/links/{world.links['link']}",
                         data={"csrf": csrf, "decision": "confirm"}).status_code == 403
    assert "Registry links" not in examiner.get("/").text
    own = client(world.store)
    sign_in(own, world, "sue")
    assert own.get("/links/0000000000").status_code == 404
