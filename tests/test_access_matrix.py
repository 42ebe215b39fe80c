"""Every route × role × agency relation has an expected outcome (tests/access_matrix.py),
and answers it; a route without an entry fails here."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute
from starlette.routing import Mount, Route

from cvis.accounts.roles import ROLES
from tests.access_matrix import EXPECTED
from tests.trust_helpers import World

AGENCY = "Agency A"


def route_table(app: FastAPI) -> set[tuple[str, str]]:
    """(method, path) of every HTTP route the app serves, included routers and mounts too."""
    found: set[tuple[str, str]] = set()

    def walk(routes: Any, prefix: str = "") -> None:
        for route in routes:
            if isinstance(route, APIRoute | Route):
                found.update((m, prefix + route.path) for m in (route.methods or ()) if m != "HEAD")
            elif hasattr(route, "effective_route_contexts"):  # FastAPI's included routers
                for ctx in route.effective_route_contexts():
                    found.update((m, prefix + ctx.path) for m in ctx.methods if m != "HEAD")
            elif isinstance(route, Mount) and route.name != "web":
                # The web pages sign in with a session cookie, not a bearer token: their own
                # route x role x agency matrix is tests/test_web_access.py.
                walk(getattr(route, "routes", []) or [], prefix + route.path)

    walk(app.routes)
    return found


def test_every_route_has_an_expected_outcome(sqlite_world: World) -> None:
    routes = route_table(sqlite_world.client.app)  # type: ignore[arg-type]
    missing = sorted(routes - EXPECTED.keys())
    assert not missing, f"add these routes to tests/access_matrix.py: {missing}"
    stale = sorted(EXPECTED.keys() - routes)
    assert not stale, f"tests/access_matrix.py names routes the app no longer has: {stale}"


def test_every_route_role_and_relation_answers_as_expected(world: World) -> None:
    """Agency A's users, one per role, against A's own, B's private and B's shared resources."""
    wrong = []
    for (method, path), expect in sorted(EXPECTED.items()):
        for role in ROLES:
            holds = expect.right is None or expect.right in ROLES[role]
            for relation, answer in expect.cases():
                url, kwargs = expect.build(world, relation, role)
                headers = {} if expect.public else world.headers(AGENCY, role)
                r = world.client.request(method, url, headers=headers, **kwargs)
                wanted = answer if holds else expect.denied
                if r.status_code != wanted:
                    wrong.append(f"{method} {path} {role} {relation}: {r.status_code} "
                                 f"(expected {wanted}) {r.text[:120]}")
    assert not wrong, "\n".join(wrong)
