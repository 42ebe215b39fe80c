"""Two agencies with every role, and sets of every kind of sharing (the trust tests' world).

Agency A and Agency B each have one user per role and a service token per user.
Sets: ``public`` (owned by A, no access rows: open to all), ``a-own`` (private to A),
``b-private`` (private to B), ``b-shared`` (B's, shared with A for matching only).
Each set holds the MD5 of one benign sample picture in ``evidence`` (skimage samples),
with a category and a series, so a leak of metadata shows.
"""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyotp
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from cvis.accounts.roles import ROLES
from cvis.accounts.service import add_agency, add_user, create_token
from cvis.hashsets.access import create_owned_set, grant, revoke
from cvis.hashsets.service import configure_set, import_stream
from cvis.store.db import Store
from cvis.store.models import Case, KnownMedia, Match, Scan, ScanItem, User
from tests.service_helpers import PASSWORD, bearer, make_client

AGENCIES = ("Agency A", "Agency B")
SET_PICTURES = {"public": "rocket", "a-own": "hubble_deep_field", "b-private": "chelsea",
                "b-shared": "coffee"}
OWNERS = {"public": "Agency A", "a-own": "Agency A", "b-private": "Agency B",
          "b-shared": "Agency B"}


def file_md5(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


@dataclass
class World:
    store: Store
    client: TestClient
    evidence: Path
    tokens: dict[str, dict[str, str]]  # agency -> role -> service token (purpose "test")
    md5: dict[str, str]  # set -> the md5 it knows
    matches: dict[str, int] = field(default_factory=dict)  # agency -> a match in its case
    scans: dict[str, int] = field(default_factory=dict)  # agency -> a scan of its case

    def headers(self, agency: str, role: str) -> dict[str, str]:
        return bearer(self.tokens[agency][role])

    def user(self, agency: str, role: str) -> str:
        return f"{role}-{agency}"

    def logon(self, agency: str, role: str) -> str:
        """An interactive session token (which must state a purpose on every data access)."""
        name = self.user(agency, role)
        with self.store.session() as session:
            secret = session.scalar(select(User.totp_secret).where(User.name == name))
        r = self.client.post("/api/v1/auth/logon", json={
            "user": name, "password": PASSWORD, "totp": pyotp.TOTP(secret or "").now()})
        assert r.status_code == 200, r.text
        return str(r.json()["token"])


def _set_lines(media_id: str, md5: str, series: str) -> str:
    return json.dumps({"media_id": media_id, "signals": {"md5": md5}, "category": 1,
                       "series": series, "victim_identified": True}) + "\n"


def _stored_match(store: Store, agency: str, set_name: str, number: str) -> tuple[int, int]:
    """A completed scan of the agency's case with one match against ``set_name``."""
    with store.session() as session:
        media = session.scalar(select(KnownMedia).where(
            KnownMedia.hash_set.has(name=set_name)))
        assert media is not None
        case = Case(number=number, agency=agency)
        session.add(case)
        session.flush()
        scan = Scan(case_id=case.id, status="running")
        session.add(scan)
        session.flush()
        item = ScanItem(scan_id=scan.id, path=f"/evidence/{number}.png", md5="0" * 32)
        session.add(item)
        session.flush()
        match = Match(item_id=item.id, known_media_id=media.id, signal_type="md5")
        session.add(match)
        session.flush()
        scan.status = "completed"
        return match.id, scan.id


def build_world(store: Store, tmp_path: Path, samples: dict[str, Path],
                **client_options: Any) -> World:
    evidence = tmp_path / "evidence"
    evidence.mkdir(exist_ok=True)
    md5s = {}
    for set_name, picture in SET_PICTURES.items():
        target = evidence / f"{picture}.png"
        target.write_bytes(samples[picture].read_bytes())
        md5s[set_name] = file_md5(target)
    tokens: dict[str, dict[str, str]] = {}
    with store.session() as session:
        for agency in AGENCIES:
            add_agency(session, agency)
            tokens[agency] = {}
            for role in ROLES:
                add_user(session, f"{role}-{agency}", agency, role, PASSWORD)
                tokens[agency][role] = create_token(session, f"{role}-{agency}",
                                                    purpose="test")[1]
        for set_name, owner in OWNERS.items():
            if set_name == "public":  # A's, opened by A to every agency (no access rows)
                revoke(session, configure_set(session, set_name, agency=owner), [owner])
            else:
                create_owned_set(session, set_name, owner)
            import_stream(session, io.StringIO(_set_lines(
                f"{set_name}-1", md5s[set_name], f"series of {set_name}")),
                name=set_name, format_name="jsonl")
        shared = configure_set(session, "b-shared")
        grant(session, shared, ["Agency A"], match=True, metadata=False)
    world = World(store, make_client(store, evidence, **client_options), evidence, tokens, md5s)
    world.matches["Agency A"], world.scans["Agency A"] = _stored_match(
        store, "Agency A", "public", "A-CASE-1")
    world.matches["Agency B"], world.scans["Agency B"] = _stored_match(
        store, "Agency B", "b-private", "B-CASE-1")
    return world


@pytest.fixture
def world(store: Store, tmp_path: Path, sample_pictures: dict[str, Path]) -> Iterator[World]:
    """The two-agency world on each backend."""
    yield build_world(store, tmp_path, sample_pictures)


@pytest.fixture
def sqlite_world(
    sqlite_store: Store, tmp_path: Path, sample_pictures: dict[str, Path]
) -> Iterator[World]:
    yield build_world(sqlite_store, tmp_path, sample_pictures)
