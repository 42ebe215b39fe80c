"""The store: migrations from the first table, automatic upgrade, both backends."""

from __future__ import annotations

from sqlalchemy import inspect

from cvis.config import Settings
from cvis.store.db import Store, schema_is_current

EXPECTED_TABLES = {
    "hash_sets", "set_versions", "known_media", "known_signals", "cases", "evidence",
    "scans", "scan_items", "matches", "alembic_version",
}


def test_first_use_creates_the_schema(settings: Settings) -> None:
    store = Store(settings)
    try:
        assert EXPECTED_TABLES <= set(inspect(store.engine).get_table_names())
        assert schema_is_current(store.engine)
    finally:
        store.dispose()


def test_without_auto_upgrade_nothing_is_created(empty_settings: Settings) -> None:
    store = Store(empty_settings, auto_upgrade=False)
    try:
        assert inspect(store.engine).get_table_names() == []
        assert not schema_is_current(store.engine)
    finally:
        store.dispose()
    store = Store(empty_settings)  # and the same empty database upgrades on first use
    try:
        assert EXPECTED_TABLES <= set(inspect(store.engine).get_table_names())
    finally:
        store.dispose()


def test_reopening_is_idempotent(settings: Settings) -> None:
    Store(settings).dispose()
    store = Store(settings)
    try:
        assert schema_is_current(store.engine)
    finally:
        store.dispose()
