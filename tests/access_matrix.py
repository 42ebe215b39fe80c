"""The expected outcome of every HTTP route, for every role and agency relation.

tests/test_access_matrix.py walks the app's route table: a route with no entry here
fails the suite. Add yours with one ``Expect`` (the right it needs, the answers for a
caller of its own agency, of another agency, and under a match-only share) and a
request builder that turns a relation into a concrete request in the two-agency
world of tests/trust_helpers.py.

Relations: "own" (Agency A's resource, or no resource at all), "other" (Agency B's
private resource), "shared" (B's set shared with A for matching only). The callers are
Agency A's users, one per role; a role without the right gets ``denied`` (403).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tests.trust_helpers import World

Built = tuple[str, dict[str, Any]]  # (url, keyword arguments for client.request)
Builder = Callable[[World, str, str], Built]  # (world, relation, role) -> request


@dataclass(frozen=True)
class Expect:
    right: str | None  # the role right the route needs; None: any authenticated caller
    build: Builder
    own: int = 200
    other: int | None = None  # None: the route names no agency's resource
    shared: int | None = None
    denied: int = 403
    public: bool = False  # no credential at all (logon, the API's own documentation)
    relations: tuple[str, ...] = field(default=())

    def cases(self) -> list[tuple[str, int]]:
        found = [("own", self.own)]
        found += [("other", self.other)] if self.other is not None else []
        found += [("shared", self.shared)] if self.shared is not None else []
        return found


def _url(url: str, **kwargs: Any) -> Builder:
    return lambda world, relation, role: (url, kwargs)


SETS = {"own": "a-own", "other": "b-private", "shared": "b-shared"}


def _set_url(suffix: str, **kwargs: Any) -> Builder:
    return lambda w, relation, role: (f"/api/v1/sets/{SETS[relation]}{suffix}", kwargs)


def _lookup_get(w: World, relation: str, role: str) -> Built:
    name = SETS[relation]
    return f"/api/v1/lookup?signal=md5&value={w.md5[name]}&sets={name}", {}


def _lookup_post(w: World, relation: str, role: str) -> Built:
    name = SETS[relation]
    return "/api/v1/lookup", {"json": {"hashes": [{"signal": "md5", "value": w.md5[name]}],
                                       "sets": [name]}}


def _import(w: World, relation: str, role: str) -> Built:
    body = f"media_id,md5\nM-{role},{'c' * 32}\n".encode()
    return f"/api/v1/sets/{SETS[relation]}/import", {"files": {"file": ("m.csv", body)}}


def _feedback(w: World, relation: str, role: str) -> Built:
    agency, name = ("Agency A", "public") if relation == "own" else ("Agency B", "b-private")
    return f"/api/v1/sets/{name}/feedback", {
        "json": {"match_id": w.matches[agency], "verdict": "confirmed"}}


def _suppress(w: World, relation: str, role: str) -> Built:
    name = SETS[relation]
    return f"/api/v1/sets/{name}/suppressions", {
        "json": {"signal": "md5", "value": w.md5[name], "reason": "matrix"}}


def _lift(w: World, relation: str, role: str) -> Built:
    from cvis.hashsets.feedback import suppress
    from cvis.hashsets.service import get_set

    name = SETS[relation]
    with w.store.session() as session:
        suppress(session, get_set(session, name).id, "md5", w.md5[name], reason="matrix")
    return f"/api/v1/sets/{name}/suppressions?signal=md5&value={w.md5[name]}", {}


def _scan_submit(w: World, relation: str, role: str) -> Built:
    case = f"A-MATRIX-{role}" if relation == "own" else "B-CASE-1"
    return "/api/v1/scans", {"json": {"case": case, "paths": [str(w.evidence)]}}


def _scan(suffix: str) -> Builder:
    def build(w: World, relation: str, role: str) -> Built:
        agency = "Agency A" if relation == "own" else "Agency B"
        return f"/api/v1/scans/{w.scans[agency]}{suffix}", {}

    return build


def _logon(w: World, relation: str, role: str) -> Built:
    return "/api/v1/auth/logon", {"json": {"user": "nobody", "password": "x" * 12,
                                           "totp": "000000"}}


HASH_UPLOAD = {"files": {"file": ("benign.bin", b"benign bytes")}}

# (method, path template) -> expected outcomes
def _subject(w: World, relation: str, role: str) -> Built:
    """A subject held by Agency A ("own") or Agency B ("other")."""
    from cvis.fusion.subjects import ensure_subject

    agency = "Agency A" if relation == "own" else "Agency B"
    subject_id = f"S-{relation}-{role}"
    with w.store.session() as session:
        ensure_subject(session, subject_id, agency=agency)
    return f"/api/v1/subjects/{subject_id}", {}


def _subject_shares(w: World, relation: str, role: str) -> Built:
    url, _ = _subject(w, relation, role)
    return f"{url}/shares", {}


def _share_subject(w: World, relation: str, role: str) -> Built:
    url, _ = _subject(w, relation, role)
    return f"{url}/shares", {"json": {"partner": "Partner Agency", "rights": ["read"],
                                      "purpose": "joint investigation"}}


def _revoke_share(w: World, relation: str, role: str) -> Built:
    """A live share of a subject held by Agency A ("own") or Agency B ("other")."""
    from cvis.fusion.models import Share

    url, _ = _subject(w, relation, role)
    with w.store.session() as session:
        share = Share(kind="subject", ref=url.rsplit("/", 1)[1], partner="Partner Agency",
                      rights=["fusion:read"], purpose="matrix", shared_by="matrix")
        session.add(share)
        session.flush()
        share_id = share.id
    return f"/api/v1/shares/{share_id}/revoke", {"json": {"reason": "matrix"}}


def _poster_json() -> str:
    return json.dumps({"kind": "unknown_suspect", "title": "Matrix suspect",
                       "description": "A drawn suspect for the access matrix.", "photos": []})


def _poster_publish(w: World, relation: str, role: str) -> Built:
    return "/api/v1/posters", {"data": {"poster": _poster_json()}}


def _poster(suffix: str, **body: Any) -> Builder:
    """A poster published by Agency A ("own") or Agency B ("other")."""

    def build(w: World, relation: str, role: str) -> Built:
        from cvis.policy import Actor
        from cvis.portal.demo import demo_poster
        from cvis.portal.service import publish
        from cvis.portal.settings import PortalSettings

        agency = "Agency A" if relation == "own" else "Agency B"
        staff = Actor(f"supervisor-{agency}", agency, "supervisor",
                      frozenset({"posters:publish"}), purpose="matrix")
        folder = w.store.settings.home / f"posters-{relation}-{role}"
        found = publish(w.store, PortalSettings(store=w.store.settings), staff,
                        demo_poster(folder))
        return f"/api/v1/posters/{found.poster_id}{suffix}", body

    return build


EXPECTED: dict[tuple[str, str], Expect] = {
    # FastAPI's own documentation of the API (no data)
    ("GET", "/openapi.json"): Expect(None, _url("/openapi.json"), public=True),
    ("GET", "/docs"): Expect(None, _url("/docs"), public=True),
    ("GET", "/docs/oauth2-redirect"): Expect(None, _url("/docs/oauth2-redirect"), public=True),
    ("GET", "/redoc"): Expect(None, _url("/redoc"), public=True),
    # accounts
    ("POST", "/api/v1/auth/logon"): Expect(None, _logon, own=401, public=True),
    ("POST", "/api/v1/auth/logoff"): Expect(None, _url("/api/v1/auth/logoff"), own=204),
    # hashing and lookups
    ("POST", "/api/v1/hash"): Expect("hash", _url("/api/v1/hash", **HASH_UPLOAD)),
    ("GET", "/api/v1/lookup"): Expect("lookup", _lookup_get, other=404, shared=200),
    ("POST", "/api/v1/lookup"): Expect("lookup", _lookup_post, other=404, shared=200),
    # hash sets
    ("GET", "/api/v1/sets"): Expect("sets:read", _url("/api/v1/sets")),
    ("GET", "/api/v1/sets/{name}"): Expect("sets:metadata", _set_url(""), other=404,
                                           shared=404),
    ("GET", "/api/v1/sets/{name}/versions"): Expect("sets:metadata", _set_url("/versions"),
                                                    other=404, shared=404),
    ("GET", "/api/v1/sets/{name}/export"): Expect("sets:export", _set_url("/export"),
                                                  other=404, shared=404),
    ("POST", "/api/v1/sets/{name}/import"): Expect("sets:write", _import, other=404,
                                                   shared=403),
    ("POST", "/api/v1/sets/{name}/feedback"): Expect("sets:feedback", _feedback, own=201,
                                                     other=404),
    ("POST", "/api/v1/sets/{name}/suppressions"): Expect("sets:curate", _suppress, own=201,
                                                         other=404, shared=403),
    ("DELETE", "/api/v1/sets/{name}/suppressions"): Expect("sets:curate", _lift, other=404,
                                                           shared=403),
    # scans
    ("POST", "/api/v1/scans"): Expect("scans:write", _scan_submit, own=202, other=404),
    ("GET", "/api/v1/scans/{scan_id}"): Expect("scans:read", _scan(""), other=404),
    ("GET", "/api/v1/scans/{scan_id}/results"): Expect("scans:read", _scan("/results"),
                                                       other=404),
    # most-wanted posters, published for the public portal
    ("POST", "/api/v1/posters"): Expect("posters:publish", _poster_publish, own=201),
    ("PUT", "/api/v1/posters/{poster_id}"): Expect(
        "posters:publish", _poster("", data={"poster": _poster_json()}), other=403),
    ("POST", "/api/v1/posters/{poster_id}/captured"): Expect(
        "posters:publish", _poster("/captured", json={"note": "captured"}), other=403),
    ("POST", "/api/v1/posters/{poster_id}/withdraw"): Expect(
        "posters:publish", _poster("/withdraw", json={"reason": "matrix"}), other=403),
    # intelligence fusion: the target list (filtered by the policy), a held subject
    ("GET", "/api/v1/targets"): Expect("fusion:read", _url("/api/v1/targets")),
    ("GET", "/api/v1/subjects/{subject_id}"): Expect("fusion:read", _subject, other=404),
    # joint investigations: a subject's holders share it with partners and end the shares
    ("GET", "/api/v1/subjects/{subject_id}/shares"): Expect("fusion:write", _subject_shares,
                                                            other=404),
    ("POST", "/api/v1/subjects/{subject_id}/shares"): Expect("fusion:write", _share_subject,
                                                             own=201, other=404),
    ("POST", "/api/v1/shares/{share_id}/revoke"): Expect("fusion:write", _revoke_share,
                                                         other=404),
    # audit
    ("GET", "/api/v1/audit"): Expect("audit:read", _url("/api/v1/audit")),
    ("GET", "/api/v1/audit/verify"): Expect("audit:read", _url("/api/v1/audit/verify")),
}

# Each area's rows live beside its tests and join the one table here.
from tests.tips_access_matrix import TIPS_EXPECTED  # noqa: E402

EXPECTED.update(TIPS_EXPECTED)
from tests.foreign_access_matrix import FOREIGN_EXPECTED  # noqa: E402

EXPECTED.update(FOREIGN_EXPECTED)
