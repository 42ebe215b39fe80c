"""Foreign work's and case shares' rows for tests/access_matrix.py:
``EXPECTED.update(FOREIGN_EXPECTED)``.

Each agency's foreign records come from `cvis.foreign.sample.seed` (once per world); a
step that changes a record's state (confirm, decide, review, determine, revoke) gets a
fresh record each request, so repeated steps never trip over a state. Screening a
manifest is checked up to the service with a malformed manifest (422: past the policy,
refused whole); the whole screening is tests/test_foreign_api.py's.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from cvis.foreign import notices, sample
from cvis.foreign.models import InboundRequest
from cvis.policy import Actor
from cvis.policy.actors import local_operator
from tests.access_matrix import Builder, Built, Expect, _url
from tests.trust_helpers import World

AGENCY = {"own": "Agency A", "other": "Agency B"}
CASES = {"own": "A-CASE-1", "other": "B-CASE-1"}
_SEEDED: dict[str, dict[str, dict[str, Any]]] = {}


def _ids(w: World, relation: str) -> dict[str, Any]:
    """The seeded records of the relation's agency (both agencies seeded once a world)."""
    key = str(w.store.settings.home)
    if key not in _SEEDED:
        _SEEDED[key] = {a: sample.seed(w.store, a) for a in AGENCY.values()}
    return _SEEDED[key][AGENCY[relation]]


def _actor(relation: str) -> Actor:
    return replace(local_operator(purpose="matrix"), agency=AGENCY[relation])


def _seeded(template: str, key: str, **kwargs: Any) -> Builder:
    def build(w: World, relation: str, role: str) -> Built:
        return template.format(_ids(w, relation)[key]), kwargs

    return build


def _manifest(w: World, relation: str, role: str) -> Built:
    folder = w.store.settings.home / "registries"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "registry.csv").write_text("id,given_names,family_name,dob\n")
    bad = b"family_name,departure_at\nDoe,not a time\n"
    return "/api/v1/travel/manifests", {"files": {"file": ("m.csv", bad)},
                                        "data": {"registry": "registry.csv"}}


def _determination(w: World, relation: str, role: str) -> Built:
    _ids(w, relation)
    agency = AGENCY[relation]
    hit = sample.registry_id(agency, 1)
    _, traveller_id = sample._screening(w.store, agency, "manifest", sample.PEOPLE[0], hit, 5)
    return f"/api/v1/travel/travellers/{traveller_id}/determination", {
        "json": {"registry_id": hit, "covered": False, "basis": "matrix"}}


def _confirm(w: World, relation: str, role: str) -> Built:
    _ids(w, relation)
    notice_id = notices.draft_removal_notice(
        w.store, _actor(relation), sample.registry_id(AGENCY[relation], 1), "MX", None)
    return f"/api/v1/notices/{notice_id}/confirm", {}


def _decision(w: World, relation: str, role: str) -> Built:
    _ids(w, relation)
    agency = AGENCY[relation]
    screening_id, _ = sample._screening(w.store, agency, "inbound", sample.PEOPLE[0],
                                        sample.registry_id(agency, 1), 3)
    with w.store.session() as session:
        request = InboundRequest(country="GB", reference=f"M-{relation}-{role}",
                                 screening_id=screening_id, traveller={"family_name": "X"})
        session.add(request)
        session.flush()
        request_id = request.id
    return f"/api/v1/inbound/{request_id}/decision", {
        "json": {"covered": False, "basis": "matrix"}}


def _review(w: World, relation: str, role: str) -> Built:
    complaint_id = notices.file_complaint(w.store, "Matrix", "matrix",
                                          notice_id=_ids(w, relation)["notice_id"])
    return f"/api/v1/complaints/{complaint_id}/review", {
        "json": {"upheld": False, "explanation": "matrix"}}


def _case_shares(**kwargs: Any) -> Builder:
    return lambda w, relation, role: (f"/api/v1/cases/{CASES[relation]}/shares", kwargs)


def _revoke_case_share(w: World, relation: str, role: str) -> Built:
    from cvis.fusion.models import Share

    with w.store.session() as session:
        share = Share(kind="case", ref=CASES[relation], partner="Partner Agency",
                      rights=["cases:read"], purpose="matrix", shared_by="matrix")
        session.add(share)
        session.flush()
        share_id = share.id
    return f"/api/v1/case-shares/{share_id}/revoke", {"json": {"reason": "matrix"}}


READ, WRITE, CONFIRM = "foreign:read", "foreign:write", "foreign:confirm"
SHARE = {"partner": "Partner Agency", "rights": ["read"], "purpose": "joint investigation"}
FOREIGN_EXPECTED: dict[tuple[str, str], Expect] = {
    # foreign work: screening, notices, inbound requests, complaints, the annual figures
    ("POST", "/api/v1/travel/manifests"): Expect(WRITE, _manifest, own=422),
    ("GET", "/api/v1/travel/hits"): Expect(READ, _url("/api/v1/travel/hits")),
    ("GET", "/api/v1/travel/travellers/{traveller_id}"): Expect(
        READ, _seeded("/api/v1/travel/travellers/{}", "traveller_id"), other=404),
    ("POST", "/api/v1/travel/travellers/{traveller_id}/determination"): Expect(
        WRITE, _determination, own=201, other=404),
    ("GET", "/api/v1/notices"): Expect(READ, _url("/api/v1/notices")),
    ("GET", "/api/v1/notices/{notice_id}"): Expect(
        READ, _seeded("/api/v1/notices/{}", "notice_id"), other=404),
    ("GET", "/api/v1/notices/{notice_id}/notice.json"): Expect(
        READ, _seeded("/api/v1/notices/{}/notice.json", "notice_id"), other=404),
    ("POST", "/api/v1/notices/{notice_id}/confirm"): Expect(CONFIRM, _confirm, other=404),
    ("GET", "/api/v1/inbound"): Expect(READ, _url("/api/v1/inbound")),
    ("GET", "/api/v1/inbound/{request_id}"): Expect(
        READ, _seeded("/api/v1/inbound/{}", "request_id"), other=404),
    ("POST", "/api/v1/inbound/{request_id}/decision"): Expect(CONFIRM, _decision, other=404),
    ("GET", "/api/v1/complaints"): Expect(READ, _url("/api/v1/complaints")),
    ("GET", "/api/v1/complaints/{complaint_id}"): Expect(
        READ, _seeded("/api/v1/complaints/{}", "complaint_id"), other=404),
    ("POST", "/api/v1/complaints/{complaint_id}/review"): Expect(CONFIRM, _review, other=404),
    ("GET", "/api/v1/foreign/report/{year}"): Expect(
        READ, _seeded("/api/v1/foreign/report/{}", "year")),
    # joint investigations on cases: the case's holders share it and end the shares
    ("GET", "/api/v1/cases/{number}/shares"): Expect("cases:write", _case_shares(),
                                                     other=404),
    ("POST", "/api/v1/cases/{number}/shares"): Expect(
        "cases:write", _case_shares(json=SHARE), own=201, other=404),
    ("POST", "/api/v1/case-shares/{share_id}/revoke"): Expect(
        "cases:write", _revoke_case_share, other=404),
}
