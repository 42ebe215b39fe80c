"""Shared set-up for the service tests: an in-process app, agencies, users and tokens."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient

from cvis.accounts.credentials import use_password_hasher
from cvis.accounts.roles import ROLES
from cvis.accounts.service import add_agency, add_user, create_token
from cvis.api import create_app
from cvis.api.settings import ServiceSettings
from cvis.store.db import Store

KNOWN_MD5 = hashlib.md5(b"benign known item").hexdigest()
OTHER_MD5 = hashlib.md5(b"benign unknown item").hexdigest()
PASSWORD = "correct horse battery staple"


@pytest.fixture(autouse=True)
def fast_argon2() -> Iterator[None]:
    """Production argon2 costs ~1 s a hash on a busy 2-core box; tests need speed, not cost."""
    previous = use_password_hasher(PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
    yield
    use_password_hasher(previous)


def make_client(store: Store, evidence: Path, **overrides: object) -> TestClient:
    options = {"index_refresh_seconds": 0.0, "background_refresh": False, "cache_seconds": 0.0}
    settings = ServiceSettings(evidence_roots=(evidence.resolve(),), **(options | overrides))  # type: ignore[arg-type]
    return TestClient(create_app(store, settings))


def make_accounts(store: Store, agency: str = "Agency A") -> dict[str, str]:
    """One user per role in ``agency``; returns role -> bearer token."""
    tokens = {}
    with store.session() as session:
        add_agency(session, agency)
        for role in ROLES:
            name = f"{role}-{agency}"
            add_user(session, name, agency, role, PASSWORD)
            tokens[role] = create_token(session, name, purpose="test")[1]
    return tokens


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def known_list(md5: str = KNOWN_MD5, media_id: str = "K-1") -> bytes:
    return f"media_id,md5,category,series,victim_identified\n{media_id},{md5},1,S,true\n".encode()
