"""Registry links in the web application: the review queue (clerical band first), a link's
evidence side by side, confirm and reject with a reason through the linkage service, the
linkage rule deciding who sees them (agency B's supervisor: not found), every decision and
every read of the linkage state audited."""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient
from sqlalchemy import select

from cvis.accounts.credentials import use_password_hasher
from cvis.config import Settings
from cvis.demo import DEMO_CASE
from cvis.hashsets.feedback import suppress
from cvis.linkage.review import queue
from cvis.linkage.state import LinkageState
from cvis.store.db import Store
from cvis.store.models import (
    AuditRecord,
    HashSet,
    ItemReview,
    Match,
    MatchReview,
    SetAccess,
    SetVersion,
    Suppression,
)
from tests.conftest import PostgresDatabases
from tests.web_helpers import World, build_world, client, demo_files, item_ids, sign_in


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return demo_files(tmp_path_factory.mktemp("web-registry"))


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def world(request: pytest.FixtureRequest, files: tuple[Path, Path],
          tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """One world per backend for the module (its tests touch different things)."""
    previous = use_password_hasher(PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
    home = tmp_path_factory.mktemp(f"registry-{request.param}")
    databases: PostgresDatabases | None = None
    if request.param == "sqlite":
        url = f"sqlite:///{home / 'cvis.db'}"
    else:
        databases = request.getfixturevalue("postgres_databases")
        url = databases.url(databases.create())
    store = Store(Settings(home=home, database_url=url))
    yield build_world(store, files)
    store.dispose()
    if databases is not None:
        databases.drop(url.rsplit("/", 1)[1])
    use_password_hasher(previous)


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
    assert http.get("/links/0000000000").status_code == 404
    page = http.get(f"/links/{review_key}").text
    assert "dates of birth differ" in page and "-8.40" in page and "1970-01-01" in page
    assert "given_names" not in page  # shown under the linker's comparison, given_name
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


def _poll(http: TestClient, location: str) -> str:
    """The import's progress page, until it says the import ended."""
    deadline = time.monotonic() + 30
    while True:
        text = http.get(location).text
        if "every 1s" not in text or time.monotonic() > deadline:
            return text
        time.sleep(0.1)


def test_a_curator_imports_with_progress_grants_and_lifts_a_suppression(world: World) -> None:
    http = client(world.store)
    csrf = sign_in(http, world, "curator-a")
    md5 = hashlib.md5(b"benign").hexdigest()
    good = f"media_id,md5,category\nm1,{md5},1\nm2,{'0' * 31}1,2\n"
    started = http.post("/sets/import", data={"csrf": csrf, "name": "a-list", "format": "csv"},
                        files={"file": ("a-list.csv", good.encode())}, follow_redirects=False)
    assert started.status_code == 303
    done = _poll(http, started.headers["location"])
    assert "as version 1 of" in done and "2 added" in done
    bad = f"media_id,md5,category\nm3,{md5},1\nm4,not-a-hash,1\n"
    started = http.post("/sets/import", data={"csrf": csrf, "name": "a-list", "format": "csv"},
                        files={"file": ("bad.csv", bad.encode())}, follow_redirects=False)
    rejected = _poll(http, started.headers["location"])
    assert "Nothing was imported" in rejected and "line 3" in rejected  # the error's line
    with world.store.session() as session:
        hash_set = session.scalars(select(HashSet).where(HashSet.name == "a-list")).one()
        assert hash_set.agency == "Demo Agency"
        assert [v.number for v in session.scalars(select(SetVersion).where(
            SetVersion.set_id == hash_set.id))] == [1]
        suppress(session, hash_set.id, "md5", md5, reason="false positive")
    page = http.get("/sets/a-list").text
    assert "Who may use this set" in page and "Import a new version" in page
    assert ">a-list.csv<" in page  # the version's source: the uploaded name
    http.post("/sets/a-list/access", data={"csrf": csrf, "agency": "Agency B",
                                           "level": "match"})
    lifted = http.post("/sets/a-list/suppressions/lift",
                       data={"csrf": csrf, "signal": "md5", "value": md5})
    assert "Lifted" in lifted.text
    with world.store.session() as session:
        assert session.scalars(select(Suppression)).all() == []
        rows = session.scalars(select(SetAccess).join(HashSet).where(
            HashSet.name == "a-list")).all()
        assert {(r.agency, r.can_match, r.can_see_metadata) for r in rows} == {
            ("Demo Agency", True, True), ("Agency B", True, False)}
    # agency B's examiner now knows of the set (match only: no records, no curation)
    other = client(world.store)
    other_csrf = sign_in(other, world, "bob")
    assert "a-list" in other.get("/sets").text
    assert "Who may use this set" not in other.get("/sets/a-list").text
    assert other.post("/sets/a-list/access", data={
        "csrf": other_csrf, "agency": "Agency B", "level": "metadata"}).status_code == 403
    events = [(r.event, r.outcome, r.user) for r in _events(world.store, "web.set.")
              if r.event in ("web.set.import.finished", "web.set.grant")]
    assert events == [("web.set.import.finished", "success", "curator-a"),
                      ("web.set.import.finished", "failure", "curator-a"),
                      ("web.set.grant", "success", "curator-a"),
                      ("web.set.grant", "denied", "bob")]


def test_candidate_series_regroup_show_blurred_and_export_hashes_only(world: World) -> None:
    http = client(world.store)
    csrf = sign_in(http, world, "ana")
    unmatched = item_ids(http.get(f"/cases/{DEMO_CASE}/review?queue=unmatched").text)
    for item in unmatched:
        http.post(f"/cases/{DEMO_CASE}/review/items/{item}",
                  data={"csrf": csrf, "action": "category", "category": "3",
                        "queue": "unmatched"})
    assert "No candidate series yet" in http.get(f"/cases/{DEMO_CASE}/series").text
    page = http.post(f"/cases/{DEMO_CASE}/series", data={"csrf": csrf, "max_distance": "31"})
    assert "candidate series (pictures within PDQ distance 31)" in page.text
    label = f"{DEMO_CASE}-NEW-001"
    assert label in page.text and 'src="/media/' in page.text
    shown = http.get(re.findall(r'src="(/media/\d+)"', page.text)[0])
    assert shown.status_code == 200 and shown.headers["cache-control"] == "no-store"
    export = http.get(f"/cases/{DEMO_CASE}/series/{label}/export?format=csv")
    assert export.status_code == 200 and "attachment" in export.headers["content-disposition"]
    assert export.text.startswith("media_id,") and label in export.text
    other = client(world.store)
    sign_in(other, world, "bob")
    assert other.get(f"/cases/{DEMO_CASE}/series").status_code == 404
    assert other.get(f"/cases/{DEMO_CASE}/series/{label}/export").status_code == 404
    auditor = client(world.store)
    sign_in(auditor, world, "aud")
    assert auditor.get(f"/cases/{DEMO_CASE}/series").status_code == 403


def test_undo_is_kept_in_the_store_across_restarts_and_workers(world: World) -> None:
    first = client(world.store)
    csrf = sign_in(first, world, "sue")
    item = item_ids(first.get(f"/cases/{DEMO_CASE}/review").text)[0]
    url = f"/cases/{DEMO_CASE}/review/items/{item}"
    first.post(url, data={"csrf": csrf, "action": "note", "note": "looked"})
    first.post(url, data={"csrf": csrf, "action": "confirm"})
    with world.store.session() as session:
        matches = list(session.scalars(select(Match.id).where(Match.item_id == item)))
        assert {r.verdict for r in session.scalars(select(MatchReview).where(
            MatchReview.match_id.in_(matches)))} == {"confirmed"}
    restarted = client(world.store)  # a new app: another worker, or the same after a restart
    restarted.cookies = first.cookies
    restarted.post(f"/cases/{DEMO_CASE}/review/undo", data={"csrf": csrf})
    with world.store.session() as session:
        assert session.scalars(select(MatchReview).where(
            MatchReview.match_id.in_(matches))).all() == []
        assert session.scalar(select(ItemReview.notes).where(ItemReview.item_id == item)) == (
            "looked")
    first.post(f"/cases/{DEMO_CASE}/review/undo", data={"csrf": csrf})  # the older step
    with world.store.session() as session:
        assert session.scalar(select(ItemReview.notes).where(ItemReview.item_id == item)) in (
            None, "")
    nothing = restarted.post(f"/cases/{DEMO_CASE}/review/undo", data={"csrf": csrf},
                             follow_redirects=False)
    assert "nothing+to+undo" in nothing.headers["location"].lower().replace("%20", "+")
    other = client(world.store)  # another browser session of the same user has its own stack
    other_csrf = sign_in(other, world, "sue")
    other.post(url, data={"csrf": other_csrf, "action": "note", "note": "mine"})
    first.post(f"/cases/{DEMO_CASE}/review/undo", data={"csrf": csrf})
    with world.store.session() as session:
        assert session.scalar(select(ItemReview.notes).where(ItemReview.item_id == item)) == (
            "mine")
