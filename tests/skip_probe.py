"""Run only by tests/test_suite_policy.py (its name keeps it out of normal collection)."""

import pytest


def test_probe_skips() -> None:
    pytest.skip("a probe that never runs")
