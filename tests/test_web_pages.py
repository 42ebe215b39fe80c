"""The web application over HTTP (in-process, both backends): sign-in, CSRF, headers,
need-to-know between agencies, server-side blur and audited reveals, undo, settings."""

from __future__ import annotations

import io
from datetime import timedelta
from pathlib import Path

import numpy as np
import pyotp
import pytest
from fastapi.testclient import TestClient
from PIL import Image, ImageFilter
from sqlalchemy import select, update

from cvis.demo import DEMO_CASE
from cvis.hashsets.feedback import AgencySuppression
from cvis.store.db import Store
from cvis.store.models import ApiToken, AuditRecord, Case, CaseEvent, MatchReview, Scan, utcnow
from cvis.web import thumbnails
from tests.web_helpers import (
    B_CASE,
    PASSWORD,
    World,
    build_world,
    client,
    csrf_of,
    demo_files,
    fast_argon2,  # noqa: F401  (autouse)
    item_ids,
    sign_in,
)


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return demo_files(tmp_path_factory.mktemp("web-demo"))


@pytest.fixture
def world(store: Store, files: tuple[Path, Path]) -> World:
    return build_world(store, files)


@pytest.fixture
def http(world: World) -> TestClient:
    return client(world.store)


def _audit(store: Store, event: str) -> list[AuditRecord]:
    with store.session() as session:
        return list(session.scalars(select(AuditRecord).where(AuditRecord.event == event)))


def test_sign_in_needs_password_and_totp_and_sets_a_strict_cookie(
    http: TestClient, world: World
) -> None:
    assert http.get("/cases", follow_redirects=False).headers["location"].startswith("/signin")
    nonce = csrf_of(http.get("/signin").text)
    wrong = http.post("/signin", data={"user": "ana", "password": PASSWORD, "code": "000000",
                                       "csrf": nonce}, follow_redirects=False)
    assert wrong.status_code == 401 and "cvis_session" not in wrong.cookies
    assert "Sign-in refused" in wrong.text
    right = http.post("/signin", data={"user": "ana", "password": PASSWORD,
                                       "code": world.code("ana"), "csrf": nonce},
                      follow_redirects=False)
    assert right.status_code == 303
    cookie = right.headers["set-cookie"].lower()
    assert "cvis_session=" in cookie and "httponly" in cookie and "samesite=strict" in cookie
    assert http.get("/cases").status_code == 200
    outcomes = [r.outcome for r in _audit(world.store, "web.signin")]
    assert outcomes == ["denied", "success"]


def test_every_page_sends_strict_security_headers(http: TestClient, world: World) -> None:
    sign_in(http, world, "ana")
    for path in ("/signin", "/", f"/cases/{DEMO_CASE}/review", "/static/app.js"):
        headers = http.get(path).headers
        csp = headers["content-security-policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp
        assert "frame-ancestors 'none'" in csp
        assert headers["x-frame-options"] == "DENY"
        assert headers["referrer-policy"] == "no-referrer"
        assert headers["x-content-type-options"] == "nosniff"
    page = http.get(f"/cases/{DEMO_CASE}/review").text
    assert "<script>" not in page and " on" + "click=" not in page


def test_a_form_without_the_session_csrf_token_is_refused(http: TestClient, world: World) -> None:
    sign_in(http, world, "ana")
    item = item_ids(http.get(f"/cases/{DEMO_CASE}/review").text)[0]
    for token in ("", "forged"):
        refused = http.post(f"/cases/{DEMO_CASE}/review/items/{item}",
                            data={"csrf": token, "action": "confirm"})
        assert refused.status_code == 403
        assert "did not come from your current session" in refused.text
    with world.store.session() as session:
        assert session.scalars(select(MatchReview)).first() is None
    assert http.post("/signin", data={"user": "ana", "password": PASSWORD,
                                      "code": world.code("ana"), "csrf": "x"}).status_code == 403


def test_agency_b_sees_none_of_agency_a_cases(http: TestClient, world: World) -> None:
    sign_in(http, world, "bob")
    listing = http.get("/cases").text
    assert B_CASE in listing and DEMO_CASE not in listing
    assert DEMO_CASE not in http.get("/").text
    missing = http.get("/cases/NO-SUCH-CASE")
    for path in (f"/cases/{DEMO_CASE}", f"/cases/{DEMO_CASE}/review",
                 f"/cases/{DEMO_CASE}/report.json", f"/cases/{DEMO_CASE}/report.pdf"):
        hidden = http.get(path)
        assert hidden.status_code == 404
        assert hidden.text.replace(DEMO_CASE, "X") == missing.text.replace("NO-SUCH-CASE", "X")
    ana = client(world.store)
    sign_in(ana, world, "ana")
    item = item_ids(ana.get(f"/cases/{DEMO_CASE}/review").text)[0]
    assert http.get(f"/media/{item}").status_code == 404
    csrf = csrf_of(http.get("/").text)
    assert http.post(f"/cases/{DEMO_CASE}/review/items/{item}",
                     data={"csrf": csrf, "action": "confirm"}).status_code == 404


def _sharpness(jpeg: bytes) -> float:
    """Variance of the edges (inside a margin: the filter's border is an edge of its own)."""
    grey = Image.open(io.BytesIO(jpeg)).convert("L").filter(ImageFilter.FIND_EDGES)
    return float(np.asarray(grey, dtype=float)[3:-3, 3:-3].var())


def _is_grey(jpeg: bytes) -> bool:
    rgb = np.asarray(Image.open(io.BytesIO(jpeg)).convert("RGB"), dtype=int)
    return int(np.abs(rgb[..., 0] - rgb[..., 1]).max()) <= 3


def test_served_pictures_are_blurred_and_grey_until_revealed_and_reveals_are_audited(
    http: TestClient, world: World
) -> None:
    sign_in(http, world, "ana")
    item = item_ids(http.get(f"/cases/{DEMO_CASE}/review").text)[0]
    protected = http.get(f"/media/{item}")
    assert protected.headers["cache-control"] == "no-store"
    assert protected.headers["content-type"] == "image/jpeg"
    assert _is_grey(protected.content)
    assert _audit(world.store, "web.reveal") == []
    revealed = http.get(f"/media/{item}?step={thumbnails.LAST_STEP}")
    assert not _is_grey(revealed.content)
    assert _sharpness(protected.content) * 20 < _sharpness(revealed.content)
    records = _audit(world.store, "web.reveal")
    assert [(r.user, r.object) for r in records] == [("ana", f"item:{item}")]
    assert "category=1" in records[0].detail or "category=2" in records[0].detail
    status = http.get("/review/exposure").text
    assert "Revealed this session: <strong>1</strong>" in status


def test_the_daily_cap_refuses_reveals_of_new_severe_items(http: TestClient, world: World) -> None:
    csrf = sign_in(http, world, "ana")
    saved = http.post("/settings", data={"csrf": csrf, "blur": "true", "greyscale": "true",
                                         "break_minutes": "20", "daily_cap": "1"})
    assert saved.status_code == 200 and "Settings saved" in saved.text
    first, second = item_ids(http.get(f"/cases/{DEMO_CASE}/review").text)[:2]
    assert http.get(f"/media/{first}?step=2").status_code == 200
    assert http.get(f"/media/{first}?step=3").status_code == 200  # the same item again
    refused = http.get(f"/media/{second}?step=1")
    assert refused.status_code == 403
    assert http.get(f"/media/{second}").status_code == 200  # still shown blurred
    assert [r.outcome for r in _audit(world.store, "web.thumbnail")][-2:] == [
        "denied", "success"]
    bad = http.post("/settings", data={"csrf": csrf, "break_minutes": "1", "daily_cap": "5"})
    assert bad.status_code == 400 and "between 5 and 240" in bad.text


def test_review_decisions_and_undo(http: TestClient, world: World) -> None:
    csrf = sign_in(http, world, "ana")
    item = item_ids(http.get(f"/cases/{DEMO_CASE}/review").text)[0]
    url = f"/cases/{DEMO_CASE}/review/items/{item}"
    no_reason = http.post(url, data={"csrf": csrf, "action": "reject"}, follow_redirects=False)
    assert "Say+why" in no_reason.headers["location"]
    card = http.post(url, data={"csrf": csrf, "action": "reject", "reason": "other picture"},
                     headers={"HX-Request": "true"})
    assert card.text.lstrip().startswith(f'<li id="item-{item}"') and "rejected" in card.text
    with world.store.session() as session:
        assert {r.verdict for r in session.scalars(select(MatchReview))} == {"rejected"}
        # A verdict is the case's alone: it never suppresses a hash (issue 16).
        assert session.scalars(select(AgencySuppression)).first() is None
    http.post(f"/cases/{DEMO_CASE}/review/undo", data={"csrf": csrf})
    with world.store.session() as session:
        assert session.scalars(select(MatchReview)).first() is None
        events = [e.action for e in session.scalars(select(CaseEvent))]
        assert "match decision undone" in events


def test_an_idle_session_locks_and_sign_out_ends_it(http: TestClient, world: World) -> None:
    csrf = sign_in(http, world, "ana")
    with world.store.session() as session:
        session.execute(update(ApiToken).values(last_used_at=utcnow() - timedelta(minutes=31)))
    locked = http.get("/cases", follow_redirects=False)
    assert locked.status_code == 303 and "idle" in locked.headers["location"]
    csrf = sign_in(http, world, "ana")
    assert http.post("/signout", data={"csrf": csrf}, follow_redirects=False).status_code == 303
    http.cookies.clear()
    assert http.get("/", follow_redirects=False).status_code == 303


def test_auditors_and_admins_get_their_pages_and_no_more(http: TestClient, world: World) -> None:
    sign_in(http, world, "aud")
    assert "The chain holds" in http.get("/audit?verify=1").text
    assert http.get("/admin").status_code == 403
    assert http.get(f"/cases/{DEMO_CASE}").status_code in (403, 404)
    admin = client(world.store)
    csrf = sign_in(admin, world, "adm")
    added = admin.post("/admin/agencies", data={"csrf": csrf, "name": "Agency C"})
    assert added.status_code == 200 and "Agency C added" in added.text


def test_the_demo_account_signs_in_with_what_cvis_demo_serve_prints(store: Store) -> None:
    from cvis.web.demo_account import DEMO_USER, ensure_demo_account

    first = ensure_demo_account(store)
    again = ensure_demo_account(store)  # idempotent: same secret, password reset
    assert first == again and first.user == DEMO_USER
    http = client(store)
    nonce = csrf_of(http.get("/signin").text)
    code = pyotp.TOTP(first.totp_secret).now()
    signed_in = http.post("/signin", data={"user": first.user, "password": first.password,
                                           "code": code, "csrf": nonce}, follow_redirects=False)
    assert signed_in.status_code == 303
    assert http.get("/cases").status_code == 200


def test_the_case_page_counts_matches_and_follows_a_running_scan(
    http: TestClient, world: World
) -> None:
    sign_in(http, world, "ana")
    page = http.get(f"/cases/{DEMO_CASE}").text
    assert "25 matched item(s)" in page and "Demo Series Cat" in page
    assert 'hx-trigger="every 2s"' not in page
    with world.store.session() as session:
        case_id = session.scalar(select(Case.id).where(Case.number == DEMO_CASE))
        session.add(Scan(case_id=case_id, status="running", item_count=7))
    page = http.get(f"/cases/{DEMO_CASE}").text
    assert 'hx-trigger="every 2s"' in page and "running: 7 items so far" in page


def test_the_grid_pages_a_long_queue(
    http: TestClient, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cvis.web.routes import review

    monkeypatch.setattr(review, "GRID_PAGE", 10)
    sign_in(http, world, "ana")
    first = http.get(f"/cases/{DEMO_CASE}/review").text
    second = http.get(f"/cases/{DEMO_CASE}/review?i=13").text  # the page holding item 14
    assert len(item_ids(first)) == 10 and len(item_ids(second)) == 10
    assert not set(item_ids(first)) & set(item_ids(second))
    assert 'rel="next"' in first and 'rel="prev"' not in first
    assert "items 11–20 of 25" in second and 'rel="prev"' in second
