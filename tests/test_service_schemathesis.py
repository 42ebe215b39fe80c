"""Property-based fuzzing of the whole API from its OpenAPI spec: no input may cause a 5xx.

Driven through schemathesis' Python API rather than its pytest plug-in (which does
not yet run under pytest 9); examples are bounded per operation to keep it fast.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode

from cvis.api import create_app
from cvis.api.settings import ServiceSettings
from cvis.store.db import Store
from tests.service_helpers import fast_argon2, make_accounts  # noqa: F401

EXAMPLES_PER_OPERATION = 4


def test_no_input_causes_a_server_error(sqlite_store: Store, tmp_path: Path) -> None:
    admin = make_accounts(sqlite_store)["admin"]
    evidence = tmp_path / "evidence"
    evidence.mkdir()
    app = create_app(sqlite_store, ServiceSettings(
        evidence_roots=(evidence,), index_refresh_seconds=0.0, background_refresh=False,
        max_upload_bytes=1_000_000, cache_seconds=0.0,
    ))
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    failures: list[str] = []
    statuses: set[int] = set()
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 14

    for operation, mode in itertools.product(operations, GenerationMode):

        @given(case=operation.as_strategy(mode))
        @settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck))
        def check(case: schemathesis.Case) -> None:
            response = case.call(headers={"Authorization": f"Bearer {admin}"})
            statuses.add(response.status_code)
            if response.status_code >= 500:
                failures.append(f"{case.method} {case.formatted_path}: {response.text[:300]}")

        try:
            check()
        except Unsatisfiable:  # an operation with nothing to get wrong (no parameters)
            assert mode is GenerationMode.NEGATIVE
    assert not failures, "\n".join(failures[:10])
    assert 200 in statuses and 422 in statuses  # valid and invalid input both explored
