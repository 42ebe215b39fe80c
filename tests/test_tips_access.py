"""The tip line's routes answer as tests/tips_access_matrix.py says, for every role and
agency relation (the same check tests/test_access_matrix.py makes once the rows are in)."""

from __future__ import annotations

from cvis.accounts.roles import ROLES
from tests.test_access_matrix import AGENCY, route_table
from tests.tips_access_matrix import TIPS_EXPECTED
from tests.tips_helpers import audit_key
from tests.trust_helpers import World

__all__ = ["audit_key"]


def test_every_tips_route_has_a_row(sqlite_world: World) -> None:
    routes = route_table(sqlite_world.client.app)  # type: ignore[arg-type]
    ours = {r for r in routes if r[1].startswith(("/api/v1/tips", "/api/v1/leads"))}
    assert ours == set(TIPS_EXPECTED)


def test_every_tips_route_role_and_relation_answers_as_expected(world: World) -> None:
    wrong = []
    for (method, path), expect in sorted(TIPS_EXPECTED.items()):
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
