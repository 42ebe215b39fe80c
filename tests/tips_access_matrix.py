"""The tip line's rows for tests/access_matrix.py: ``EXPECTED.update(TIPS_EXPECTED)``.

Leads are made on demand in the two-agency world: Agency A's office answers for Texas,
Agency B's for California (an office's staff are the agency named by its office id).
Each request gets a fresh lead, so repeated steps never trip over a lead's state.
"""

from __future__ import annotations

from typing import Any

from cvis.offices.service import OfficeRow, import_offices
from cvis.tips.intake import submit_tip
from tests.access_matrix import Builder, Built, Expect
from tests.trust_helpers import World

STATES = {"own": "TX", "other": "CA"}


def _offices(w: World) -> None:
    rows = [OfficeRow("Agency A", "Agency A office", "a@example.org", ("TX",), ()),
            OfficeRow("Agency B", "Agency B office", "b@example.org", ("CA",), ())]
    with w.store.session() as session:
        import_offices(session, rows)


def _tip(w: World, relation: str, **extra: Any) -> dict[str, Any]:
    _offices(w)
    payload = {"channel": "web", "narrative": "matrix", "location": {"state": STATES[relation]}}
    with w.store.session() as session:
        session.info["settings"] = w.store.settings
        return submit_tip(session, payload | extra, limiter=None)


def _lead(suffix: str, **body: Any) -> Builder:
    def build(w: World, relation: str, role: str) -> Built:
        return f"/api/v1/leads/{_tip(w, relation)['lead_id']}{suffix}", body

    return build


def _messages(**body: Any) -> Builder:
    def build(w: World, relation: str, role: str) -> Built:
        tip = _tip(w, relation, anonymous=True)
        return f"/api/v1/tips/{tip['tip_id']}/messages", body

    return build


def _candidate(w: World, relation: str, role: str) -> Built:
    from cvis.tips.models import LeadCandidate

    first = _tip(w, relation, subject={"name": f"Matrix {role} {relation}", "dob": "1970-01-01"})
    second = _tip(w, relation, subject={"name": f"Matrix {role} {relation}",
                                        "dob": "1971-01-01"})
    pair = sorted((first["lead_id"], second["lead_id"]))
    with w.store.session() as session:
        found = session.query(LeadCandidate).filter(
            LeadCandidate.lead_id == pair[0], LeadCandidate.other_lead_id == pair[1]).one()
    return f"/api/v1/leads/candidates/{found.id}", {"json": {"value": "reject",
                                                             "reason": "matrix"}}


def _post(url: str, **body: Any) -> Builder:
    def build(w: World, relation: str, role: str) -> Built:
        _offices(w)
        return url, body

    return build


TIP = {"channel": "phone", "narrative": "matrix", "location": {"state": "TX"}}
CHANGE = {"reason": "matrix"}
TIPS_EXPECTED: dict[tuple[str, str], Expect] = {
    ("POST", "/api/v1/tips"): Expect("tips:intake", _post("/api/v1/tips", json=TIP), own=201),
    ("GET", "/api/v1/tips/console"): Expect("tips:intake", _post("/api/v1/tips/console")),
    ("POST", "/api/v1/tips/referrals"): Expect(
        "tips:intake", _post("/api/v1/tips/referrals", json=TIP), own=201),
    ("POST", "/api/v1/tips/sms"): Expect(None, _post("/api/v1/tips/sms", data={"Body": "x"}),
                                         own=403, public=True),  # unsigned
    ("GET", "/api/v1/tips/{tip_id}/messages"): Expect("tips:read", _messages(), other=404),
    ("POST", "/api/v1/tips/{tip_id}/messages"): Expect(
        "tips:write", _messages(json={"text": "Which park?"}), own=201, other=404),
    ("GET", "/api/v1/leads"): Expect("tips:read", _post("/api/v1/leads")),
    ("GET", "/api/v1/leads/report.pdf"): Expect("tips:read", _post("/api/v1/leads/report.pdf")),
    ("GET", "/api/v1/leads/{lead_id}"): Expect("tips:read", _lead(""), other=404),
    ("POST", "/api/v1/leads/{lead_id}/steps"): Expect(
        "tips:write", _lead("/steps", json={"step": "assign", "assignee": "kim"}), other=404),
    ("POST", "/api/v1/leads/{lead_id}/tier"): Expect(
        "tips:write", _lead("/tier", json=CHANGE | {"value": "URGENT"}), other=404),
    ("POST", "/api/v1/leads/{lead_id}/reroute"): Expect(
        "tips:write", _lead("/reroute", json=CHANGE | {"value": "Agency A"}), other=404),
    ("POST", "/api/v1/leads/{lead_id}/forward"): Expect(
        "tips:write", _lead("/forward", json=CHANGE | {"value": "Agency C"}), other=404),
    ("POST", "/api/v1/leads/candidates/{candidate_id}"): Expect(
        "tips:write", _candidate, other=404),
}
