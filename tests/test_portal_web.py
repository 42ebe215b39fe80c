"""The done-when of the public portal, end to end: a supervisor publishes a poster in the
analyst application; it is on the public site and in the Atom and CAP feeds; a subscriber
near the place gets a web push (decrypted here); a tip sent from the poster lands in the tip
line with the poster's reference; withdrawing it in the analyst application sends Cancel.
Only publishers of the poster's agency see it in the analyst application. Cached pages leave
by a fast path with the same headers and limits."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from dataclasses import replace
from pathlib import Path

import http_ece
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from cvis.accounts.service import add_agency, add_user
from cvis.audit import AuditQuery, search_audit
from cvis.fusion.service import Target
from cvis.portal.app import create_public_app
from cvis.portal.feeds import CAP_NS
from cvis.portal.models import PosterDraftRecord
from cvis.portal.settings import PortalSettings, RateLimits
from cvis.store.db import Store
from tests.test_portal_alerts import browser_keys, push_service  # noqa: F401 (fixture)
from tests.web_helpers import (
    PASSWORD,
    World,
    client,
    csrf_of,
    fast_argon2,  # noqa: F401 (autouse)
    sign_in,
)

CAP = f"{{{CAP_NS}}}"
POSTER_FORM = {
    "kind": "fugitive", "title": "Casey Placeholder", "aliases": "C. P.\nKC",
    "description": "Wanted for failing to register; may travel by bus.",
    "descriptors": "Height: 5 ft 9 in\nEyes: green", "charges": "Failure to register",
    "caution": "Do not approach.", "reward": "Up to $5,000",
    "field_office": "Albany field office", "areas": "12207 25",
    "captions": "Artist's drawing, 2026\nProfile drawing",
}


@pytest.fixture
def people(store: Store) -> World:
    world = World(store, Path("."))
    with store.session() as session:
        for agency in ("Programme", "Elsewhere"):
            add_agency(session, agency)
        for name, agency, role in (("sue", "Programme", "supervisor"),
                                   ("ed", "Programme", "examiner"),
                                   ("otto", "Elsewhere", "supervisor")):
            world.secrets[name] = add_user(session, name, agency, role, PASSWORD)[1]
    return world


def _cap_types(public: TestClient) -> list[str]:
    cap = ET.fromstring(public.get("/cap.xml").content)
    return [a.findtext(f"{CAP}msgType") or "" for a in cap.iter(f"{CAP}alert")]


def test_a_poster_published_in_the_analyst_app_reaches_the_public_and_is_withdrawn(
        store, settings, people, push_service, monkeypatch):  # noqa: F811
    from cvis.tips.models import Tip

    handler, port = push_service
    monkeypatch.setenv("CVIS_PUBLIC_URL", "http://portal.test")
    portal = PortalSettings(store=settings, public_url="http://portal.test", cache_seconds=0.0,
                            push_to_loopback=True)
    private, auth, keys = browser_keys()
    web = client(store)
    with TestClient(create_public_app(portal)) as public:
        assert public.post("/api/v1/subscriptions", json={  # a browser near Albany
            "channel": "push", "push": {"endpoint": f"http://127.0.0.1:{port}/d", "keys": keys},
            "zip": "12203", "radius_miles": 10}).status_code == 201

        csrf = sign_in(web, people, "sue")
        nominated = Target("S-NOM-1", 1, "critical", 90, [], "ALB", [], "v1")
        monkeypatch.setattr("cvis.fusion.service.list_targets", lambda *_a, **_k: [nominated])
        listing = web.get("/posters").text
        assert "Most-wanted posters" in listing and "/posters/new?subject=S-NOM-1" in listing
        assert web.post("/posters/new", data={"csrf": csrf, **POSTER_FORM, "areas": "00000"}
                        ).status_code == 400  # an unknown ZIP: said, nothing stored
        made = web.post("/posters/new", data={"csrf": csrf, **POSTER_FORM,
                                              "subject_id": "S-NOM-1"}, follow_redirects=False)
        assert made.status_code == 303
        assert "S-NOM-1" not in web.get("/posters").text.split("Nominations from fusion")[1]
        draft = made.headers["location"].split("?")[0]
        editor = web.get(draft).text
        assert "Status: <strong>draft</strong>" in editor and csrf_of(editor) == csrf
        portrait = web.get(f"{draft}/portrait-1.png")
        assert portrait.headers["content-type"] == "image/png"
        assert public.get("/").text.count("Casey Placeholder") == 0  # a draft is not public

        published = web.post(f"{draft}/publish", data={"csrf": csrf}, follow_redirects=False)
        assert published.status_code == 303, published.text
        with store.session() as session:
            record = session.scalar(select(PosterDraftRecord))
            assert record is not None and record.status == "published"
            poster_id = record.poster_id
        page = public.get(f"/posters/{poster_id}")
        assert page.status_code == 200 and "Casey Placeholder" in page.text
        assert "Profile drawing" in page.text and "Albany field office" in page.text
        assert "Casey Placeholder" in public.get("/").text
        assert poster_id in public.get("/feed.atom").text
        assert _cap_types(public) == ["Alert"]
        (headers, body), = handler.received
        pushed = json.loads(http_ece.decrypt(body, private_key=private, auth_secret=auth,
                                             version="aes128gcm"))
        assert pushed["tag"] == poster_id and pushed["title"] == "Wanted near you"

        _fast_path_serves_the_same_page_with_the_same_headers_and_limits(portal, poster_id)
        tip = public.post("/tips", data={"narrative": "He boards the 7:10 bus", "poster":
                                         poster_id, "zip": "12207"})
        assert tip.status_code == 201, tip.text
        assert re.search(r"<strong>[^<]+</strong>", tip.text)  # the receipt

        refused = web.post(f"{draft}/withdraw", data={"csrf": csrf, "reason": " "})
        assert refused.status_code == 409 and "needs a reason" in refused.text
        gone = web.post(f"{draft}/withdraw", data={"csrf": csrf, "reason": "charges dropped"},
                        follow_redirects=False)
        assert gone.status_code == 303
        assert public.get(f"/posters/{poster_id}").status_code == 410
        assert _cap_types(public) == ["Cancel"]
        assert len(handler.received) == 2  # the subscriber hears of the withdrawal too
    with store.session() as session:
        (landed,) = session.scalars(select(Tip)).all()
    assert landed.channel == "web" and poster_id in json.dumps(landed.details)
    for event in ("poster.publish", "poster.withdraw"):
        record_ = search_audit(store, AuditQuery(event=event))[-1]
        assert (record_["user"], record_["outcome"]) == ("sue", "success")
        assert record_["object"] == f"poster:{poster_id}"
    _only_publishers_of_the_agency_see_its_posters(store, people, web, draft)


def _only_publishers_of_the_agency_see_its_posters(store: Store, people: World,
                                                   sue: TestClient, draft: str) -> None:
    ed, otto = client(store), client(store)
    sign_in(ed, people, "ed")
    assert ed.get("/posters").status_code == 403  # an examiner holds no posters:publish
    assert ed.get(draft).status_code == 403
    sign_in(otto, people, "otto")  # a publisher of another agency: no such poster
    assert otto.get(draft).status_code == 404
    assert "Casey Placeholder" not in otto.get("/posters").text
    assert "Casey Placeholder" in sue.get("/posters").text




def _fast_path_serves_the_same_page_with_the_same_headers_and_limits(
        portal: PortalSettings, poster_id: str) -> None:
    """A cached page leaves at the door (before the middleware stack) exactly as built."""
    limited = replace(portal, cache_seconds=60, limits=RateLimits(pages=0.01, pages_burst=3))
    app = create_public_app(limited)
    with TestClient(app) as public:
        built = public.get(f"/posters/{poster_id}")  # the slow path builds and caches it
        served = public.get(f"/posters/{poster_id}")  # answered at the door
        assert app.fast is not None and app.fast.cache.peek(("poster", poster_id, "en"))
        assert served.content == built.content
        assert {k: v for k, v in served.headers.items() if k != "date"} == {
            k: v for k, v in built.headers.items() if k != "date"}
        assert "frame-ancestors 'none'" in served.headers["content-security-policy"]
        same = public.get(f"/posters/{poster_id}", headers={"if-none-match": built.headers[
            "etag"]})
        assert same.status_code == 304 and same.headers["etag"] == built.headers["etag"]
        assert public.get(f"/posters/{poster_id}").status_code == 429  # past the burst of 3
