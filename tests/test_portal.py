"""The public portal: publication, the public app's pages and feeds, tips, security."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from cvis.audit import AuditQuery, search_audit
from cvis.config import Settings
from cvis.policy import AccessDenied, Actor
from cvis.policy.actors import local_operator
from cvis.portal import reader, service
from cvis.portal.app import create_public_app
from cvis.portal.demo import demo_poster, draw_face
from cvis.portal.feeds import CAP_NS
from cvis.portal.models import PUBLIC_TABLES, PublicPoster
from cvis.portal.posters import PosterInvalid
from cvis.portal.settings import PortalSettings, RateLimits
from cvis.store.db import Store
from tests.service_helpers import bearer, fast_argon2, make_accounts, make_client  # noqa: F401

CAP = f"{{{CAP_NS}}}"
ATOM = "{http://www.w3.org/2005/Atom}"


def poster_json(folder: Path, **changes: Any) -> Path:
    return demo_poster(folder, **changes)


def operator(agency: str = "NCMEC") -> Actor:
    return replace(local_operator(), agency=agency)


@pytest.fixture
def portal_settings(settings: Settings) -> PortalSettings:
    return PortalSettings(store=settings, public_url="http://portal.test", cache_seconds=0.0)


@pytest.fixture
def published(store: Store, portal_settings: PortalSettings, tmp_path: Path) -> service.Published:
    return service.publish(store, portal_settings, operator(), poster_json(tmp_path))


class FakeIntake:
    """Stands in for the tip line's intake where the test is about the portal's side."""

    def __init__(self) -> None:
        self.calls: list[tuple[dict[str, Any], str]] = []

    def __call__(self, payload: dict[str, Any], source: str) -> dict[str, Any]:
        self.calls.append((payload, source))
        return {"tip_id": 7, "receipt": "R-TEST-1", "lead_id": 3, "tier": "high",
                "office": "ALB", **({"passphrase": "apple-bear"} if payload.get("anonymous")
                                    else {})}


@pytest.fixture
def public(portal_settings: PortalSettings) -> Iterator[tuple[TestClient, FakeIntake, set[str]]]:
    intake, tables = FakeIntake(), set()
    app = create_public_app(portal_settings, intake=intake, seen=tables.update)
    with TestClient(app) as client:
        yield client, intake, tables


def test_publish_copies_the_poster_into_public_tables(store, published, portal_settings):
    assert re.fullmatch(r"p-[0-9a-f]{8}", published.poster_id)
    assert published.url == f"http://portal.test/posters/{published.poster_id}"
    with store.session() as session:
        poster = reader.poster(session, published.poster_id)
    assert poster is not None and poster.title == "Jordan Example"
    assert poster.aliases == ["J. Sample", "Jay"] and poster.status == "wanted"
    assert [p.caption for p in poster.photos] == ["Artist's drawing, 2026", ""]
    for photo in poster.photos:  # re-encoded files named by their hash, outside the database
        assert (portal_settings.asset_dir / f"{photo.sha256}.jpg").is_file()
    events = search_audit(store, AuditQuery(event="poster.publish"))
    assert events[-1]["outcome"] == "success"
    assert events[-1]["object"] == f"poster:{published.poster_id}"


def test_publish_refuses_a_malformed_poster_and_stores_nothing(store, portal_settings, tmp_path):
    for bad in ({"kind": "villain"}, {"title": ""}, {"areas": [{"zip": "00000"}]},
                {"photos": ["missing.png"]}):
        with pytest.raises(PosterInvalid):
            service.publish(store, portal_settings, operator(), poster_json(tmp_path, **bad))
    with store.session() as session:
        assert session.scalars(select(PublicPoster)).all() == []


def test_only_holders_of_the_right_publish(store, portal_settings, tmp_path, published):
    analyst = Actor("ana", "NCMEC", "analyst", frozenset({"cases:read"}))
    with pytest.raises(AccessDenied):
        service.publish(store, portal_settings, analyst, poster_json(tmp_path))
    other = replace(operator("Other PD"), role="supervisor")
    with pytest.raises(AccessDenied):
        service.withdraw(store, portal_settings, other, published.poster_id, "not ours")
    refused = search_audit(store, AuditQuery(event="poster.withdraw"))
    assert refused[-1]["outcome"] == "failure"


def test_pages_show_the_poster_with_tip_form_and_share_metadata(public, published):
    client, _intake, _tables = public
    index = client.get("/")
    assert index.status_code == 200 and "Jordan Example" in index.text
    page = client.get(f"/posters/{published.poster_id}")
    assert page.status_code == 200
    html = page.text
    for needle in ('property="og:title" content="Jordan Example"', 'name="twitter:card"',
                   'og:image" content="http://portal.test/photos/', "mailto:?subject=",
                   'class="copy-link"', 'action="/tips"',
                   f'name="poster" value="{published.poster_id}"', "Artist&#39;s drawing",
                   "Failure to register", "Up to $5,000", "Albany field office"):
        assert needle in html, needle
    scripts = re.findall(r"<script[^>]*>(.*?)</script>", html, re.S)
    assert scripts == [""] and re.findall(r'<script src="([^"]+)"', html) == ["/static/portal.js"]
    assert all(src.startswith("/") for src in re.findall(r'src="([^"]+)"', html))
    photo = re.search(r'src="(/photos/[0-9a-f]{64}\.jpg)"', html)
    assert photo and client.get(photo.group(1)).headers["content-type"] == "image/jpeg"


def test_security_headers_and_no_cookies(public, published):
    client, _intake, _tables = public
    for path in ("/", f"/posters/{published.poster_id}", "/feed.atom", "/registries",
                 "/api/v1/vapid", "/nothing-here"):
        headers = client.get(path).headers
        csp = headers["content-security-policy"]
        assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp, path
        assert "unsafe-inline" not in csp
        assert headers["referrer-policy"] == "no-referrer"
        assert headers["x-content-type-options"] == "nosniff"
        assert "set-cookie" not in headers


def test_spanish_pages_from_the_catalogue(public, published):
    client, _intake, _tables = public
    page = client.get(f"/posters/{published.poster_id}?lang=es")
    assert '<html lang="es">' in page.text and "Enviar un aviso" in page.text
    assert "Fugitivo buscado" in page.text
    negotiated = client.get("/", headers={"accept-language": "es-MX,es;q=0.9"})
    assert "Los más buscados" in negotiated.text


def test_catalogue_covers_every_message_and_the_mo_is_compiled_from_the_po():
    from babel.messages.mofile import read_mo
    from babel.messages.pofile import read_po

    from cvis.portal.i18n import DOMAINS, LOCALE_DIR, extract_messages

    catalogues = [(read_po((LOCALE_DIR / f"es/LC_MESSAGES/{d}.po").open("rb")),
                   read_mo((LOCALE_DIR / f"es/LC_MESSAGES/{d}.mo").open("rb"))) for d in DOMAINS]
    for message in extract_messages():
        po, mo = next(((po, mo) for po, mo in catalogues if po.get(message) is not None),
                      catalogues[0])
        assert po.get(message) is not None and po.get(message).string, message
        assert mo.get(message) is not None and mo.get(message).string == po.get(message).string


def test_withdrawal_takes_the_poster_down_and_the_cap_feed_cancels(store, portal_settings,
                                                                    public, published):
    client, _intake, _tables = public
    cap = ET.fromstring(client.get("/cap.xml").content)
    alerts = list(cap.iter(f"{CAP}alert"))
    assert [a.findtext(f"{CAP}msgType") for a in alerts] == ["Alert"]
    first = alerts[0].findtext(f"{CAP}identifier")
    area = alerts[0].find(f"{CAP}info/{CAP}area")
    assert area is not None and area.findtext(f"{CAP}geocode/{CAP}value") == "12207"
    service.withdraw(store, portal_settings, operator(), published.poster_id, "charges dropped")
    assert client.get(f"/posters/{published.poster_id}").status_code == 410
    assert "Jordan Example" not in client.get("/").text
    cap = ET.fromstring(client.get("/cap.xml").content)
    (cancel,) = list(cap.iter(f"{CAP}alert"))
    assert cancel.findtext(f"{CAP}msgType") == "Cancel"
    assert first in (cancel.findtext(f"{CAP}references") or "")
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[-+]\d\d:\d\d",
                        cancel.findtext(f"{CAP}sent") or "")
    standalone = client.get(f"/cap/{cancel.findtext(f'{CAP}identifier')}.xml")
    assert ET.fromstring(standalone.content).tag == f"{CAP}alert"
    atom = ET.fromstring(client.get("/feed.atom").content)
    titles = [e.findtext(f"{ATOM}title") for e in atom.iter(f"{ATOM}entry")]
    assert titles[0].startswith("Withdrawn") and titles[-1].startswith("Wanted")


def test_captured_shows_a_banner_then_leaves_the_list(store, portal_settings, public, published):
    client, _intake, _tables = public
    service.captured(store, portal_settings, operator(), published.poster_id, "arrested 30 Nov")
    page = client.get(f"/posters/{published.poster_id}").text
    assert 'class="banner"' in page and "arrested 30 Nov" in page
    assert "Captured" in client.get("/").text
    cap = ET.fromstring(client.get("/cap.xml").content)
    assert [a.findtext(f"{CAP}msgType") for a in cap.iter(f"{CAP}alert")] == ["Update"]
    app = create_public_app(replace(portal_settings, captured_days=0))
    with TestClient(app) as later:
        assert "Jordan Example" not in later.get("/").text


def test_tip_api_hands_the_tip_to_the_intake_and_answers_the_receipt(public, store):
    client, intake, _tables = public
    tip = {"channel": "web", "narrative": "I saw him at the bus station", "anonymous": True,
           "location": {"zip": "12207"}}
    answer = client.post("/api/v1/tips", json=tip)
    assert answer.status_code == 201
    assert answer.json() == {"receipt": "R-TEST-1", "passphrase": "apple-bear"}
    assert intake.calls == [(tip, "testclient")]
    assert search_audit(store, AuditQuery(event="tip.submit"))[-1]["outcome"] == "success"


def test_tip_api_refuses_malformed_input_and_media(public):
    client, intake, _tables = public
    assert client.post("/api/v1/tips", content=b"{not json",
                       headers={"content-type": "application/json"}).status_code == 400
    assert client.post("/api/v1/tips", json={"channel": "web"}).status_code == 400
    assert client.post("/api/v1/tips", json={"channel": "sms", "narrative": "x"}
                       ).status_code == 400
    media = client.post("/api/v1/tips", json={"narrative": "see photo", "media": ["a.jpg"]})
    assert media.status_code == 400 and "pictures or videos" in media.json()["detail"]
    upload = client.post("/api/v1/tips", files={"file": ("a.jpg", b"\xff\xd8", "image/jpeg")})
    assert upload.status_code == 415 and "pictures or videos" in upload.json()["detail"]
    assert intake.calls == []


def test_tip_form_on_a_poster_carries_the_poster_reference(public, published):
    client, intake, _tables = public
    answer = client.post("/tips", data={"narrative": "He is at 5th and Main", "poster":
                                        published.poster_id, "zip": "12207", "lang": "es"})
    assert answer.status_code == 201 and "R-TEST-1" in answer.text and "Gracias" in answer.text
    payload, _client = intake.calls[-1]
    assert payload == {"channel": "web", "narrative": "He is at 5th and Main",
                       "anonymous": False, "location": {"zip": "12207"},
                       "incident": {"poster": published.poster_id}}


def test_public_app_touches_only_public_tables(public, published, store, portal_settings):
    client, _intake, tables = public
    tables.clear()
    for path in ("/", f"/posters/{published.poster_id}", "/feed.atom", "/cap.xml",
                 "/registries", "/alerts", "/manifest.webmanifest", "/api/v1/vapid"):
        assert client.get(path).status_code == 200, path
    client.post("/alerts", data={"email": "a@example.org", "zip": "12207", "radius": "10"})
    client.post("/api/v1/tips", json={"narrative": "x"})
    assert tables and tables <= PUBLIC_TABLES, tables - PUBLIC_TABLES
    with pytest.raises(reader.InternalTableRefused):
        with client.app.state.portal.session() as session:  # type: ignore[attr-defined]
            session.execute(select(PublicPoster.id).where(PublicPoster.id == 0))
            from cvis.store.models import HashSet

            session.execute(select(HashSet.id))
    source = "".join(p.read_text() for p in Path(reader.__file__).parent.glob("*.py")
                     if p.name not in ("service.py", "posters.py", "tipline.py"))
    assert "cvis.store.models import" not in source.replace(
        "from cvis.store.models import Base, utcnow", "").replace(
        "from cvis.store.models import utcnow", "")


def test_manifest_service_worker_and_icons(public):
    client, _intake, _tables = public
    manifest = client.get("/manifest.webmanifest").json()
    assert manifest["display"] == "standalone" and manifest["start_url"].startswith("/")
    assert {i["sizes"] for i in manifest["icons"]} == {"192x192", "512x512"}
    for icon in manifest["icons"]:
        assert client.get(icon["src"]).content.startswith(b"\x89PNG")
    sw = client.get("/sw.js")
    assert sw.headers["content-type"].startswith("text/javascript") and "caches" in sw.text
    assert "/posters/" in sw.text and client.get("/offline").status_code == 200


def test_rate_limit_answers_429(portal_settings):
    limited = replace(portal_settings, limits=RateLimits(writes=0.01, writes_burst=2))
    with TestClient(create_public_app(limited, intake=FakeIntake())) as client:
        codes = [client.post("/api/v1/tips", json={"narrative": "x"}).status_code
                 for _ in range(4)]
    assert codes == [201, 201, 429, 429]


def test_cli_publish_and_withdraw_follow_the_contract(cli_env, runner, tmp_path, monkeypatch):
    from cvis.cli.app import app

    monkeypatch.setenv("CVIS_PUBLIC_URL", "https://wanted.example.org")
    result = runner.invoke(app, ["poster", "publish", str(poster_json(tmp_path))])
    assert result.exit_code == 0, result.output
    printed = json.loads(result.stdout)
    assert set(printed) == {"poster_id", "url"}
    assert printed["url"] == f"https://wanted.example.org/posters/{printed['poster_id']}"
    bad = runner.invoke(app, ["poster", "publish", str(poster_json(tmp_path, kind="x"))])
    assert bad.exit_code == 2
    gone = runner.invoke(app, ["poster", "withdraw", printed["poster_id"], "--reason", "dup"])
    assert gone.exit_code == 0, gone.output
    assert runner.invoke(app, ["poster", "withdraw", "p-nothere", "--reason", "x"]
                         ).exit_code == 1


def test_a_tip_from_a_poster_lands_in_the_tip_line(store, portal_settings, published):
    from cvis.tips.models import Tip

    with TestClient(create_public_app(portal_settings)) as client:
        answer = client.post("/api/v1/tips", json={"narrative": "Seen at the library",
                                                   "anonymous": True,
                                                   "location": {"zip": "12207"}})
        assert answer.status_code == 201, answer.text
        assert set(answer.json()) == {"receipt", "passphrase"}
        form = client.post("/tips", data={"narrative": "He drives a red van",
                                          "poster": published.poster_id})
        assert form.status_code == 201, form.text
        assert client.post("/api/v1/tips", json={"narrative": "x", "urls": "nope"}
                           ).status_code == 400
    with store.session() as session:
        tips = session.scalars(select(Tip).order_by(Tip.id)).all()
    assert [t.channel for t in tips] == ["web", "web"]
    assert published.poster_id in json.dumps(tips[1].details)


def test_the_analyst_api_publishes_and_withdraws_for_supervisors_only(store, tmp_path,
                                                                      monkeypatch):
    monkeypatch.setenv("CVIS_PUBLIC_URL", "http://portal.test")
    tokens = make_accounts(store, "NCMEC")
    face = draw_face(tmp_path / "face.png")
    poster = {"kind": "unknown_suspect", "title": "Unknown man, bus depot",
              "photos": [{"path": "face.png", "caption": "Composite drawing"}],
              "areas": [{"zip": "12207", "radius_miles": 10}]}
    with make_client(store, tmp_path) as client:
        def publish(role: str) -> Any:
            return client.post("/api/v1/posters", headers=bearer(tokens[role]),
                               data={"poster": json.dumps(poster)},
                               files=[("photos", ("face.png", face.read_bytes(), "image/png"))])

        assert publish("analyst").status_code == 403
        answer = publish("supervisor")
        assert answer.status_code == 201, answer.text
        poster_id = answer.json()["poster_id"]
        assert answer.json()["url"] == f"http://portal.test/posters/{poster_id}"
        assert client.post(f"/api/v1/posters/{poster_id}/withdraw", json={"reason": ""},
                           headers=bearer(tokens["supervisor"])).status_code == 422
        done = client.post(f"/api/v1/posters/{poster_id}/withdraw", json={"reason": "dup"},
                           headers=bearer(tokens["supervisor"]))
        assert done.status_code == 200
        assert client.post("/api/v1/posters/p-00000000/withdraw", json={"reason": "x"},
                           headers=bearer(tokens["admin"])).status_code == 404
    with store.session() as session:
        row = session.scalar(select(PublicPoster).where(PublicPoster.poster_id == poster_id))
    assert row is not None and row.status == "withdrawn" and row.agency == "NCMEC"


def test_demo_poster_publishes_a_drawn_face(store, tmp_path):
    from cvis.portal.demo import publish_demo_poster

    published = publish_demo_poster(store, tmp_path / "demo", operator())
    with store.session() as session:
        poster = reader.poster(session, published.poster_id)
    assert poster is not None and len(poster.photos) == 2


def test_a_separate_public_database_gets_the_posters_and_the_store_keeps_none(
        store, portal_settings, tmp_path):
    public_url = f"sqlite:///{tmp_path / 'public.db'}"
    separate = replace(portal_settings, public_database_url=public_url)
    published = service.publish(store, separate, operator(), poster_json(tmp_path))
    with store.session() as session:
        assert session.scalars(select(PublicPoster)).all() == []
    assert search_audit(store, AuditQuery(event="poster.publish"))[-1]["outcome"] == "success"
    with TestClient(create_public_app(separate, intake=FakeIntake())) as client:
        assert "Jordan Example" in client.get(f"/posters/{published.poster_id}").text
    service.withdraw(store, separate, operator(), published.poster_id, "done")
    with TestClient(create_public_app(separate, intake=FakeIntake())) as client:
        assert client.get(f"/posters/{published.poster_id}").status_code == 410


CAP_ALERT_ORDER = ["identifier", "sender", "sent", "status", "msgType", "source", "scope",
                   "restriction", "addresses", "code", "note", "references", "incidents", "info"]
CAP_INFO_ORDER = ["language", "category", "event", "responseType", "urgency", "severity",
                  "certainty", "audience", "eventCode", "effective", "onset", "expires",
                  "senderName", "headline", "description", "instruction", "web", "contact",
                  "parameter", "resource", "area"]


def _in_schema_order(element: ET.Element, order: list[str]) -> bool:
    names = [child.tag.removeprefix(CAP) for child in element]
    positions = [order.index(name) for name in names]
    return positions == sorted(positions)


def test_cap_messages_follow_the_cap_1_2_element_order(store, portal_settings, public,
                                                       published):
    client, _intake, _tables = public
    service.captured(store, portal_settings, operator(), published.poster_id)
    service.withdraw(store, portal_settings, operator(), published.poster_id, "closed")
    history = reader.history(reader.feed_events(client.app.state.portal.session()))
    for n, event in enumerate(history[published.poster_id]):
        from cvis.portal.feeds import cap_document

        alert = ET.fromstring(cap_document("http://portal.test", event,
                                           history[published.poster_id][:n]))
        assert _in_schema_order(alert, CAP_ALERT_ORDER), event.msg_type
        for info in alert.iter(f"{CAP}info"):
            assert _in_schema_order(info, CAP_INFO_ORDER), event.msg_type
        assert alert.findtext(f"{CAP}msgType") == ["Alert", "Update", "Cancel"][n]
        assert len((alert.findtext(f"{CAP}references") or "").split()) == n
