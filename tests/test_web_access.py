"""Every web page and form × every role × own or another agency's resource has an expected
outcome, and answers it; a web route without an entry fails here (the web's counterpart of
the API's access matrix: the pages are reached with a session cookie, not a bearer token)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from sqlalchemy import select
from starlette.routing import Mount

from cvis.accounts.roles import (
    ACCOUNTS_ADMIN,
    AUDIT_READ,
    CASES_EXPORT,
    CASES_READ,
    CASES_WRITE,
    ROLES,
    SETS_READ,
)
from cvis.accounts.service import create_token
from cvis.demo import DEMO_CASE, DEMO_SET
from cvis.store.db import Store
from cvis.store.models import Case, Match, Scan, ScanItem
from tests.web_helpers import (
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
    ("GET", "/sets/{name}"): Expect(SETS_READ, 200),
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
    ("POST", "/signin"): Expect(None, 403, form=lambda _: {  # no sign-in nonce: refused
        "user": "x", "password": "y", "code": "000000"}),
    ("POST", "/signout"): Expect(None, 303, form=lambda _: {}),
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


def _ids(store: Store) -> dict[str, dict[str, str]]:
    """Path parameters naming agency A's own resources and agency B's."""
    with store.session() as session:
        def item(number: str) -> str:  # a matched picture of the case
            return str(session.scalar(
                select(ScanItem.id).join(Scan).join(Case).join(Match, Match.item_id == ScanItem.id)
                .where(Case.number == number).order_by(ScanItem.id)))

        token = create_token(session, "bob", purpose="a token for the revoke form")[0].id
        return {
            "own": {"number": DEMO_CASE, "item_id": item(DEMO_CASE), "format": "json",
                    "name": DEMO_SET, "token_id": str(token)},
            "other": {"number": B_CASE, "item_id": item(B_CASE), "format": "json",
                      "name": DEMO_SET, "token_id": str(token)},
        }


def test_every_web_route_role_and_agency_answers_as_expected(
    store: Store, files: tuple[Path, Path]
) -> None:
    world: World = build_world(store, files)
    ids = _ids(store)
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
