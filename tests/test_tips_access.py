"""Every tip-line route has its row in tests/tips_access_matrix.py; the rows are part of
tests/access_matrix.py's EXPECTED, so tests/test_access_matrix.py tries each of them for
every role and agency relation (once, not here again)."""

from __future__ import annotations

from tests.test_access_matrix import route_table
from tests.tips_access_matrix import TIPS_EXPECTED
from tests.tips_helpers import audit_key
from tests.trust_helpers import World

__all__ = ["audit_key"]


def test_every_tips_route_has_a_row(sqlite_world: World) -> None:
    routes = route_table(sqlite_world.client.app)  # type: ignore[arg-type]
    ours = {r for r in routes if r[1].startswith(("/api/v1/tips", "/api/v1/leads"))}
    assert ours == set(TIPS_EXPECTED)
