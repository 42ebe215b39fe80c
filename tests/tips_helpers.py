"""Shared pieces for the tip-line tests: an office table, actors, tips."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from cvis.accounts.roles import ROLES
from cvis.offices.service import import_offices, read_offices
from cvis.policy import Actor
from cvis.store.db import Store

OFFICES_CSV = """office_id,name,email,states,counties
HQ,National Desk,desk@example.org,*,
TX-N,North Texas,ntx@example.org,TX,
TX-H,Houston,hou@example.org,,TX:Harris County
CA,California,ca@example.org,CA,
"""


@pytest.fixture(autouse=True)
def audit_key(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """One audit key for the test's records, wherever the store's data directory is."""
    monkeypatch.setenv("CVIS_AUDIT_KEY", "k" * 40)
    yield


def load_offices(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "offices.csv"
    path.write_text(OFFICES_CSV)
    with store.session() as session:
        import_offices(session, read_offices(path))


def person(agency: str, role: str = "supervisor", name: str = "") -> Actor:
    return Actor(name=name or f"{role}@{agency}", agency=agency, role=role,
                 rights=ROLES[role], purpose="tip line duty")


def tip(**extra: Any) -> dict[str, Any]:
    base: dict[str, Any] = {"channel": "web", "narrative": "A man offers pictures of children "
                            "on a forum.", "anonymous": False}
    return base | extra
