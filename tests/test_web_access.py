"""Every web page and form × every role × own or another agency's resource has an expected
outcome, and answers it; a web route without an entry fails here (the web's counterpart of
the API's access matrix: the pages are reached with a session cookie, not a bearer token)."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.routing import Mount

from cvis.accounts.roles import (
    ACCOUNTS_ADMIN,
    AUDIT_READ,
    CASES_EXPORT,
    CASES_READ,
    CASES_WRITE,
    FOREIGN_CONFIRM,
    FOREIGN_READ,
    FOREIGN_WRITE,
    FUSION_READ,
    FUSION_WRITE,
    LINKAGE_READ,
    LINKAGE_REVIEW,
    POSTERS_PUBLISH,
    ROLES,
    SETS_CURATE,
    SETS_READ,
    SETS_WRITE,
    TIPS_INTAKE,
    TIPS_READ,
    TIPS_WRITE,
)
from cvis.accounts.service import create_token
from cvis.cases.review import categorise_item, review_queue
from cvis.cases.series import build_candidate_series
from cvis.demo import DEMO_CASE
from cvis.foreign import sample
from cvis.hashsets.access import create_owned_set
from cvis.offices.service import import_offices, read_offices
from cvis.policy import Actor
from cvis.portal.models import PosterDraftRecord
from cvis.store.db import Store
from cvis.store.models import Case, Match, Scan, ScanItem
from cvis.tips.intake import submit_tip
from cvis.tips.models import LeadCandidate
from tests.fusion_web_helpers import fusion_ids
from tests.web_helpers import (
    AGENCY_A,
    AGENCY_B,
    B_CASE,
    World,
    build_world,
    client,
    demo_files,
    fast_argon2,  # noqa: F401  (autouse)
    sign_in,
)


@dataclass(frozen=True)
class Expect:
    """What a route answers: ``right`` (None: any signed-in user), the status for the actor's
    own agency's resource, and for another agency's (None: the route names no such resource).
    A role without the right gets 403 whatever is asked for."""

    right: str | None
    own: int
    other: int | None = None
    form: Callable[[str], dict[str, str]] | None = None  # data for a POST, given the role


def _decide(_: str) -> dict[str, str]:
    return {"action": "note", "note": "checked"}


FOREIGN_EXPECTED: dict[tuple[str, str], Expect] = {  # own: sample.seed's decided records
    ("GET", "/foreign"): Expect(FOREIGN_READ, 200),
    ("GET", "/foreign/travellers/{traveller_id}"): Expect(FOREIGN_READ, 200, 404),
    ("POST", "/foreign/travellers/{traveller_id}"): Expect(FOREIGN_WRITE, 303, 404, lambda _: {
        "registry_id": sample.registry_id(AGENCY_A), "covered": "no", "basis": "checked"}),
    ("GET", "/foreign/notices"): Expect(FOREIGN_READ, 200),
    ("GET", "/foreign/notices/{notice_id}"): Expect(FOREIGN_READ, 200, 404),
    ("GET", "/foreign/notices/{notice_id}/notice.{format}"): Expect(FOREIGN_READ, 200, 404),
    ("POST", "/foreign/notices/{notice_id}"): Expect(FOREIGN_WRITE, 303, 404, lambda _: {
        "action": "received"}),
    ("GET", "/foreign/inbound"): Expect(FOREIGN_READ, 200),
    ("GET", "/foreign/inbound/{request_id}"): Expect(FOREIGN_READ, 200, 404),
    ("POST", "/foreign/inbound/{request_id}"): Expect(FOREIGN_CONFIRM, 303, 404, lambda _: {
        "covered": "no", "basis": "checked"}),
    ("GET", "/foreign/complaints"): Expect(FOREIGN_READ, 200),
    ("GET", "/foreign/complaints/{complaint_id}"): Expect(FOREIGN_READ, 200, 404),
    ("GET", "/foreign/complaints/{complaint_id}/letter.pdf"): Expect(FOREIGN_READ, 200, 404),
    ("POST", "/foreign/complaints/{complaint_id}"): Expect(FOREIGN_CONFIRM, 303, 404, lambda _: {
        "action": "review", "upheld": "no", "explanation": "checked"}),
    ("GET", "/foreign/report"): Expect(FOREIGN_READ, 200),
    ("GET", "/foreign/report/{year}.{format}"): Expect(FOREIGN_READ, 200),
}
EXPECTED: dict[tuple[str, str], Expect] = {
    ("GET", "/"): Expect(None, 200),
    ("GET", "/signin"): Expect(None, 303),  # signed in already: on to the page
    ("GET", "/cases"): Expect(CASES_READ, 200),
    ("GET", "/cases/{number}"): Expect(CASES_READ, 200, 404),
    ("GET", "/cases/{number}/report.{format}"): Expect(CASES_EXPORT, 200, 404),
    ("GET", "/cases/{number}/review"): Expect(CASES_READ, 200, 404),
    ("GET", "/cases/{number}/review/items/{item_id}"): Expect(CASES_READ, 200, 404),
    ("GET", "/media/{item_id}"): Expect(CASES_READ, 200, 404),
    ("GET", "/media/{item_id}/frame"): Expect(CASES_READ, 200, 404),
    ("GET", "/review/exposure"): Expect(None, 200),
    ("GET", "/sets"): Expect(SETS_READ, 200),
    ("GET", "/sets/{name}"): Expect(SETS_READ, 200, 404),
    ("POST", "/sets/import"): Expect(SETS_WRITE, 303, form=lambda _: {"name": "no-file"}),
    ("GET", "/sets/imports/{job_id}"): Expect(SETS_WRITE, 404),  # none running
    ("POST", "/sets/{name}/suppressions/lift"): Expect(SETS_CURATE, 303, 404, form=lambda _: {
        "signal": "md5", "value": "0" * 32}),
    ("POST", "/sets/{name}/access"): Expect(SETS_CURATE, 303, 404, form=lambda _: {
        "agency": "Agency B", "level": "match"}),
    ("GET", "/links"): Expect(LINKAGE_READ, 200),  # one cross-match, agency A's
    ("GET", "/links/{key}"): Expect(LINKAGE_READ, 200),
    ("POST", "/links/{key}"): Expect(LINKAGE_REVIEW, 303, form=lambda _: {
        "decision": "confirm"}),
    ("GET", "/cases/{number}/series"): Expect(CASES_READ, 200, 404),
    ("POST", "/cases/{number}/series"): Expect(CASES_WRITE, 303, 404, lambda _: {}),
    ("GET", "/cases/{number}/series/{label}/export"): Expect(CASES_EXPORT, 200, 404),
    ("GET", "/audit"): Expect(AUDIT_READ, 200),
    ("GET", "/admin"): Expect(ACCOUNTS_ADMIN, 200),
    ("GET", "/settings"): Expect(None, 200),
    ("POST", "/settings"): Expect(None, 200, form=lambda _: {
        "blur": "true", "greyscale": "true", "break_minutes": "20", "daily_cap": "300"}),
    ("POST", "/settings/break"): Expect(None, 303, form=lambda _: {}),
    ("POST", "/cases/{number}/review/items/{item_id}"): Expect(CASES_WRITE, 303, 404, _decide),
    ("POST", "/cases/{number}/review/undo"): Expect(CASES_WRITE, 303, 404, lambda _: {}),
    ("POST", "/admin/agencies"): Expect(ACCOUNTS_ADMIN, 200, form=lambda r: {
        "name": f"Agency of {r}"}),
    ("POST", "/admin/users"): Expect(ACCOUNTS_ADMIN, 200, form=lambda r: {
        "name": f"new-{r}", "agency": "Agency B", "role": "analyst",
        "password": "a long enough password"}),
    ("POST", "/admin/tokens/{token_id}/revoke"): Expect(ACCOUNTS_ADMIN, 200, form=lambda _: {}),
    ("GET", "/posters"): Expect(POSTERS_PUBLISH, 200),
    ("GET", "/posters/new"): Expect(POSTERS_PUBLISH, 200),
    ("POST", "/posters/new"): Expect(POSTERS_PUBLISH, 303, form=lambda r: {
        "kind": "fugitive", "title": f"Poster by {r}", "areas": "12207 10"}),
    ("GET", "/posters/{draft_id}"): Expect(POSTERS_PUBLISH, 200, 404),
    ("GET", "/posters/{draft_id}/portrait-{position}.png"): Expect(POSTERS_PUBLISH, 200, 404),
    ("POST", "/posters/{draft_id}"): Expect(POSTERS_PUBLISH, 303, 404, lambda _: {
        "kind": "fugitive", "title": "Poster subject", "areas": "12207 10",
        "captions": "Drawing"}),
    # in this order: publish, captured, withdraw (a withdrawn draft publishes a new poster)
    ("POST", "/posters/{draft_id}/publish"): Expect(POSTERS_PUBLISH, 303, 404, lambda _: {}),
    ("POST", "/posters/{draft_id}/captured"): Expect(POSTERS_PUBLISH, 303, 404, lambda _: {
        "note": "Arrested"}),
    ("POST", "/posters/{draft_id}/withdraw"): Expect(POSTERS_PUBLISH, 303, 404, lambda _: {
        "reason": "the access matrix"}),
    # intelligence fusion (agency A's subjects, queues, detainers and month; B's are hidden)
    ("GET", "/targets"): Expect(FUSION_READ, 200),
    ("GET", "/targets/high-priority"): Expect(FUSION_READ, 200),
    ("POST", "/targets/high-priority/share"): Expect(FUSION_WRITE, 303, form=lambda r: {
        "partners": f"Partner of {r}", "purpose": "30-day list"}),
    ("GET", "/subjects/{subject_id}"): Expect(FUSION_READ, 200, 404),
    ("POST", "/subjects/{subject_id}/merges/{merge_id}"): Expect(FUSION_WRITE, 303, 404,
                                                                lambda _: {"action": "confirm"}),
    ("POST", "/subjects/{subject_id}/assign"): Expect(FUSION_WRITE, 303, 404,
                                                      lambda _: {"office": "HOU"}),
    ("POST", "/subjects/{subject_id}/shares"): Expect(FUSION_WRITE, 303, 404, lambda r: {
        "partner": f"Partner of {r}", "rights": "read", "purpose": "joint investigation"}),
    ("POST", "/shares/{share_id}/revoke"): Expect(FUSION_WRITE, 303, 404, lambda _: {}),
    ("GET", "/queues"): Expect(FUSION_READ, 200),
    ("POST", "/queues/{assignment_id}/accept"): Expect(FUSION_WRITE, 303, 404, lambda _: {}),
    ("POST", "/queues/{assignment_id}/outcome"): Expect(FUSION_WRITE, 303, 404,
                                                        lambda _: {"result": "located"}),
    ("GET", "/releases"): Expect(FUSION_READ, 200),
    ("GET", "/detainers/{detainer_id}"): Expect(FUSION_READ, 200, 404),
    ("POST", "/detainers/{detainer_id}"): Expect(FOREIGN_CONFIRM, 303, 404,
                                                 lambda _: {"status": "signed"}),
    ("GET", "/months"): Expect(FUSION_READ, 303),
    ("GET", "/months/{period}"): Expect(FUSION_READ, 200, 404),
    ("GET", "/months/{period}/plots/{plot}.svg"): Expect(FUSION_READ, 200, 404),
    ("GET", "/months/{period}/report.pdf"): Expect(FUSION_READ, 200, 404),
    ("POST", "/signin"): Expect(None, 403, form=lambda _: {  # no sign-in nonce: refused
        "user": "x", "password": "y", "code": "000000"}),
    ("POST", "/signout"): Expect(None, 303, form=lambda _: {}),
    **FOREIGN_EXPECTED,
    # the tip line (leads are an office's: agency A's office and agency B's)
    ("GET", "/tips/console"): Expect(TIPS_INTAKE, 200),
    ("POST", "/tips/console"): Expect(TIPS_INTAKE, 200, form=lambda _: {
        "immediate_danger": "no", "caller": "anonymous", "narrative": "a call", "state": "TX"}),
    ("GET", "/leads"): Expect(TIPS_READ, 200),
    ("GET", "/leads/{lead_id}"): Expect(TIPS_READ, 200, 404),
    ("POST", "/leads/{lead_id}/tier"): Expect(TIPS_WRITE, 303, 404, lambda r: {
        "tier": "URGENT", "reason": f"{r} checked"}),
    ("POST", "/leads/{lead_id}/step"): Expect(TIPS_WRITE, 303, 404, lambda r: {
        "step": "assign", "assignee": r, "reason": "on duty"}),
    ("POST", "/leads/{lead_id}/route"): Expect(TIPS_WRITE, 303, 404, lambda _: {
        "how": "forward", "to": "Agency C", "reason": "theirs"}),
    ("POST", "/leads/{lead_id}/tips/{tip_id}/ask"): Expect(TIPS_WRITE, 303, 404, lambda _: {
        "question": "Where?"}),
    ("POST", "/leads/{lead_id}/candidates/{candidate_id}"): Expect(
        TIPS_WRITE, 303, 404, lambda _: {"decision": "reject", "reason": "not the same"}),
}


def web_routes(app: FastAPI) -> set[tuple[str, str]]:
    """(method, path) of every page and form the web mount serves (static files aside)."""
    mount = next(r for r in app.routes if isinstance(r, Mount) and r.name == "web")
    found: set[tuple[str, str]] = set()
    for route in mount.routes:
        if isinstance(route, APIRoute):
            found.update((m, route.path) for m in route.methods if m != "HEAD")
        elif hasattr(route, "effective_route_contexts"):  # FastAPI's included routers
            for ctx in route.effective_route_contexts():
                found.update((m, ctx.path) for m in ctx.methods if m != "HEAD")
    return found


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return demo_files(tmp_path_factory.mktemp("web-access"))


def test_every_web_route_has_an_expected_outcome(sqlite_store: Store) -> None:
    routes = web_routes(client(sqlite_store).app)  # type: ignore[arg-type]
    assert not sorted(routes - EXPECTED.keys()), "add these routes to EXPECTED"
    assert not sorted(EXPECTED.keys() - routes), "EXPECTED names routes the app no longer has"


OFFICES = ("office_id,name,email,states,counties\n"
           f"{AGENCY_A},Agency A's office,,TX,\n{AGENCY_B},Agency B's office,,CA,\n")


def _leads(session: Session, state: str) -> dict[str, str]:
    """An anonymous tip's lead in the office of ``state``, and a candidate beside it (the
    same name, another date of birth)."""
    if state == "TX":
        with tempfile.TemporaryDirectory() as folder:
            (Path(folder) / "offices.csv").write_text(OFFICES)
            import_offices(session, read_offices(Path(folder) / "offices.csv"))
    actor = Actor(name="desk", agency="", role="call-taker", rights=ROLES["call-taker"])
    first = submit_tip(session, {"channel": "phone", "narrative": "a tip", "anonymous": True,
                                 "location": {"state": state},
                                 "subject": {"name": f"Jon Doe {state}", "dob": "1970-01-01"}},
                       actor=actor, limiter=None)
    submit_tip(session, {"channel": "phone", "narrative": "another", "location": {"state": state},
                         "subject": {"name": f"Jon Doe {state}", "dob": "1971-01-01"}},
               actor=actor, limiter=None)
    session.flush()
    candidate = session.scalar(select(LeadCandidate.id).where(
        LeadCandidate.lead_id == first["lead_id"]))
    return {"lead_id": str(first["lead_id"]), "tip_id": str(first["tip_id"]),
            "candidate_id": str(candidate)}


def _ids(store: Store, world: World) -> dict[str, dict[str, str]]:
    """Path parameters naming agency A's own resources and agency B's."""
    with store.session() as session:
        for name, agency in (("a-owned", AGENCY_A), ("b-owned", AGENCY_B)):
            create_owned_set(session, name, agency)
        unmatched = review_queue(session, DEMO_CASE, unmatched=True)[0].item_id
        categorise_item(session, unmatched, reviewer="ana", category=3)
        build_candidate_series(session, DEMO_CASE, actor="ana")

        def item(number: str) -> str:  # a matched picture of the case
            return str(session.scalar(
                select(ScanItem.id).join(Scan).join(Case).join(Match, Match.item_id == ScanItem.id)
                .where(Case.number == number).order_by(ScanItem.id)))

        series = f"{DEMO_CASE}-NEW-001"
        token = create_token(session, "bob", purpose="a token for the revoke form")[0].id
        for draft_id, agency in (("d-own", AGENCY_A), ("d-other", AGENCY_B)):
            session.add(PosterDraftRecord(
                draft_id=draft_id, agency=agency, kind="fugitive", title="Poster subject",
                aliases=[], description="", descriptors={}, charges=[], caution="", reward="",
                field_office="", areas=[{"zip": "12207", "radius_miles": 10}],
                captions=["Drawing"], portrait_seed=3, status="draft", poster_id="",
                created_by="adm"))
        own, other = _leads(session, "TX"), _leads(session, "CA")
        ids = {
            "own": {"number": DEMO_CASE, "item_id": item(DEMO_CASE), "format": "json",
                    "name": "a-owned", "token_id": str(token), "job_id": "1",
                    "key": world.links["link"], "label": series, "draft_id": "d-own",
                    "position": "0"} | own,
            "other": {"number": B_CASE, "item_id": item(B_CASE), "format": "json",
                      "name": "b-owned", "token_id": str(token), "job_id": "1",
                      "key": world.links["link"], "label": series, "draft_id": "d-other",
                      "position": "0"} | other,
        }
    for relation, agency in (("own", AGENCY_A), ("other", "Agency B")):
        seeded = sample.seed(store, agency)
        ids[relation] |= {k: str(seeded[k]) for k in (
            "traveller_id", "notice_id", "request_id", "complaint_id", "year")}
    fusion = fusion_ids(store)
    return {relation: ids[relation] | fusion[relation] for relation in ids}


def test_every_web_route_role_and_agency_answers_as_expected(
    store: Store, files: tuple[Path, Path]
) -> None:
    world: World = build_world(store, files)
    ids = _ids(store, world)
    wrong = []
    for role in ROLES:
        http = client(store)
        csrf = sign_in(http, world, f"{role}-a")
        http.post("/cases/B-CASE-1/review/undo", data={"csrf": csrf})  # warm: nothing to undo
        for (method, path), expect in sorted(EXPECTED.items(), key=lambda e: e[0][1] == "/signout"):
            holds = expect.right is None or expect.right in ROLES[role]
            for relation, answer in (("own", expect.own), ("other", expect.other)):
                if answer is None:
                    continue
                url = path.format(**ids[relation])
                data = ({"csrf": csrf} | expect.form(role)) if expect.form else None
                r = http.request(method, url, data=data, follow_redirects=False)
                wanted = answer if holds or path in ("/signin",) else 403
                if r.status_code != wanted:
                    wrong.append(f"{method} {path} {role} {relation}: {r.status_code} "
                                 f"(expected {wanted})")
    assert not wrong, "\n".join(wrong)
