"""The public portal's complaint form: a complaint about a notice sent abroad lands in the
review queue with its deadline and the person gets a reference; no files; robots caught by
the trap; rate-limited; the instructions are published in English and Spanish."""

from __future__ import annotations

from datetime import timedelta

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from cvis.config import Settings
from cvis.foreign.models import Complaint
from cvis.foreign.notices import COMPLAINT_DAYS
from cvis.portal.app import create_public_app
from cvis.portal.settings import PortalSettings, RateLimits
from cvis.store.db import Store
from cvis.store.models import AuditRecord

FORM = {"name": "Alex <b>Doe</b>", "contact": "PO Box 7, Springfield",
        "country": "Mexico", "reference": "N-12",
        "statement": "The notice says I was convicted; I never was. <script>x()</script>"}


def _paths(app: FastAPI) -> set[str]:
    """Every path the portal answers: none reads a complaint back."""
    found = set()
    for route in app.routes:
        if hasattr(route, "effective_route_contexts"):  # FastAPI's included routers
            found.update(ctx.path for ctx in route.effective_route_contexts())
        else:
            found.add(getattr(route, "path", ""))
    return found


def test_a_complaint_from_the_form_lands_in_the_review_queue(settings: Settings) -> None:
    portal = PortalSettings(store=settings, public_url="http://portal.test", cache_seconds=0.0,
                            limits=RateLimits(writes=0.01, writes_burst=4))
    tables: set[str] = set()
    app = create_public_app(portal, seen=tables.update)
    assert {p for p in _paths(app) if "complaint" in p} == {"/complaints", "/complaints/form"}
    with TestClient(app) as http:
        howto = http.get("/complaints?lang=es")
        assert howto.status_code == 200 and "Cómo presentar una queja" in howto.text
        assert f"{COMPLAINT_DAYS} días" in howto.text
        assert 'href="/complaints?lang=en"' in http.get("/?lang=en").text  # in every footer
        form = http.get("/complaints/form")
        assert 'name="website"' in form.text and "<div hidden>" in form.text
        sent = http.post("/complaints", data={**FORM, "lang": "es"})
        assert sent.status_code == 201 and "Hemos recibido su queja" in sent.text
        reference = sent.text.split("<strong>")[1].split("</strong>")[0]
        media = http.post("/complaints", data=FORM, files={"photo": ("a.jpg", b"\xff\xd8",
                                                                     "image/jpeg")})
        assert media.status_code == 415 and "does not take files" in media.text
        robot = http.post("/complaints", data={**FORM, "website": "http://spam.example"})
        assert robot.status_code == 201 and "<strong>" not in robot.text
        empty = http.post("/complaints", data={**FORM, "statement": " "})
        assert empty.status_code == 400 and "what is wrong" in empty.text
        assert "Alex &lt;b&gt;Doe&lt;/b&gt;" in empty.text  # the form comes back, escaped
        assert http.post("/complaints", data=FORM).status_code == 429  # a burst of writes
    assert not any(name.startswith(("foreign", "audit")) for name in tables)
    store = Store(settings)
    try:
        with store.session() as session:
            [kept] = session.scalars(select(Complaint)).all()  # not the robot's, not the file
            assert reference == f"C-{kept.id}"
            assert kept.channel == "portal" and kept.notice_id is None and kept.language == "es"
            assert kept.complainant == FORM["name"] and kept.contact == FORM["contact"]
            assert kept.statement.splitlines() == [
                "Country the notice went to: Mexico", "Reference given: N-12", "",
                FORM["statement"]]
            assert kept.due_at - kept.received_at == timedelta(days=COMPLAINT_DAYS)
            audit = session.scalars(select(AuditRecord).where(
                AuditRecord.event == "complaint.file")).all()
            assert {(a.user, a.client) for a in audit} == {("public", "portal")}
            assert "testclient" not in str([(a.object, a.detail) for a in audit])
    finally:
        store.dispose()

