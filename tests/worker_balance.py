"""Heaviest test files first, so a `-n 2 --dist loadfile` run does not end on one worker.

xdist hands out whole files in order of their test count, so a file of one slow test (Spark
linkage, the fusion month, the browser checks) could start last and run alone for minutes
while the other worker idles. Handing out the files known to be slow first, longest first,
lets the quick files fill in around them. Other files keep xdist's order.
"""

from __future__ import annotations

from typing import Any

import pytest

# Per-file seconds of a full run (2 workers, load average ~5), 2026-12-01; longest first.
# Only the order matters: a file missing here just runs in xdist's usual turn.
SLOW_FILES = (
    "tests/test_fusion_month.py",  # 229 s
    "tests/test_web_browser.py",  # 139 s
    "tests/test_web_access.py",  # 98 s
    "tests/test_linkage_spark.py",  # 97 s, one test
    "tests/test_access_matrix.py",  # 88 s
    "tests/test_service_schemathesis.py",  # 86 s
    "tests/test_trust.py",  # 85 s
    "tests/test_web_pages.py",  # 74 s
    "tests/test_portal_browser.py",  # 72 s
    "tests/test_casework.py",  # 69 s
    "tests/test_travel.py",  # 67 s
    "tests/test_foreign.py",  # 62 s
    "tests/test_service_api.py",  # 61 s
    "tests/test_scan_spark.py",  # 58 s
    "tests/test_linkage_febrl.py",  # 57 s
    "tests/test_demo.py",  # 57 s, one test
)
_RANK = {name: n for n, name in enumerate(SLOW_FILES)}


def _rank(scope: str) -> tuple[int, int]:
    return (0, _RANK[scope]) if scope in _RANK else (1, 0)


@pytest.hookimpl(optionalhook=True, tryfirst=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    if config.getvalue("dist") != "loadfile":
        return None
    from xdist.scheduler import LoadFileScheduling

    class HeaviestFirst(LoadFileScheduling):  # type: ignore[misc]
        def _assign_work_unit(self, node: Any) -> None:
            heaviest = min(self.workqueue, key=_rank)  # first of equals: xdist's order
            self.workqueue.move_to_end(heaviest, last=False)
            super()._assign_work_unit(node)

    return HeaviestFirst(config, log)
