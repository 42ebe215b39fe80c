"""Shared set-up for the web tests: the demo case scanned, users of two agencies, sign-in."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pyotp
import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient

from cvis.accounts.credentials import use_password_hasher
from cvis.accounts.roles import ROLES
from cvis.accounts.service import add_agency, add_user
from cvis.api import create_app
from cvis.api.settings import ServiceSettings
from cvis.cases.scanning import run_scan
from cvis.cases.service import new_case
from cvis.demo import DEMO_CASE, DEMO_SET, build_evidence, build_reference
from cvis.hashsets.service import import_file
from cvis.identify.scan import ScanRequest
from cvis.linkage.review import link_key
from cvis.linkage.state import LinkageState
from cvis.store.db import Store
from tests.fusion_web_helpers import seed_fusion

PASSWORD = "correct horse battery staple"
AGENCY_A, AGENCY_B = "Demo Agency", "Agency B"
B_CASE = "B-CASE-1"
USERS = {  # name: (agency, role)
    "ana": (AGENCY_A, "examiner"),
    "bob": (AGENCY_B, "examiner"),
    "aud": (AGENCY_A, "auditor"),
    "adm": (AGENCY_A, "admin"),
    "sue": (AGENCY_A, "supervisor"),  # reviews agency A's registry links
    "sam": (AGENCY_B, "supervisor"),  # holds the linkage rights, but of another agency
}
LINK_FIELDS = ("given_names", "family_name", "dob", "state")


@pytest.fixture(autouse=True)
def fast_argon2() -> Iterator[None]:
    """Production argon2 costs ~1 s a hash on a busy 2-core box; tests need speed, not cost."""
    previous = use_password_hasher(PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
    yield
    use_password_hasher(previous)


def demo_files(folder: Path) -> tuple[Path, Path]:
    """The demo's known-set CSV and evidence folder (benign sample photos), built once."""
    csv_path = build_reference(folder / "reference")
    build_evidence(folder / "reference", folder / "evidence")
    return csv_path, folder / "evidence"


@dataclass
class World:
    store: Store
    evidence: Path
    secrets: dict[str, str] = field(default_factory=dict)
    used: dict[str, int] = field(default_factory=dict)
    links: dict[str, str] = field(default_factory=dict)  # band -> a link key of that band

    def code(self, user: str) -> str:
        """A fresh code: each is single-use, and a step at or before the last used is refused,
        so successive sign-ins take the previous, current and next 30-second steps. A code is
        accepted until the step after its own ends; one that would expire within
        ``CODE_MARGIN`` seconds (a slow browser round-trip) waits for the next step instead."""
        totp = pyotp.TOTP(self.secrets[user])
        while True:
            now = datetime.now(UTC)
            step = max(totp.timecode(now) - 1, self.used.get(user, -1) + 1)
            left = (step + 2) * totp.interval - now.timestamp()
            if left >= CODE_MARGIN:
                break
            time.sleep(left + 0.01)
        self.used[user] = step
        return totp.generate_otp(step)


CODE_MARGIN = 10.0


def build_world(store: Store, files: tuple[Path, Path]) -> World:
    """The demo's benign known set and evidence, scanned into agency A's case."""
    csv_path, evidence = files
    world = World(store, evidence)
    with store.session() as session:
        import_file(session, csv_path, name=DEMO_SET)
        for agency in (AGENCY_A, AGENCY_B):
            add_agency(session, agency)
        for name, (agency, role) in USERS.items():
            world.secrets[name] = add_user(session, name, agency, role, PASSWORD)[1]
        for role in ROLES:  # one user per role in agency A, for the access matrix
            world.secrets[f"{role}-a"] = add_user(session, f"{role}-a", AGENCY_A, role,
                                                  PASSWORD)[1]
        new_case(session, DEMO_CASE, actor="ana", agency=AGENCY_A, examiners=["ana"],
                 title="Benign demonstration evidence")
        new_case(session, B_CASE, actor="bob", agency=AGENCY_B, examiners=["bob"],
                 title="Agency B's own case")
    world.links = seed_linkage(store.settings.home / "linkage")
    seed_fusion(store, (AGENCY_A, AGENCY_B))  # subjects, queues, detainers, a month per agency
    run_scan(store, ScanRequest(DEMO_CASE, [world.evidence], [DEMO_SET], workers=1))
    run_scan(store, ScanRequest(B_CASE, [world.evidence / "DCIM" / "IMG_0001.png"], [DEMO_SET],
                                workers=1))
    return world


def seed_linkage(state_dir: Path) -> dict[str, str]:
    """A finished cross-match run with one link and one review-band pair, as the linker
    writes them (generated people, field-by-field explanation); returns band -> key."""
    from faker import Faker

    fake = Faker()
    fake.seed_instance(20)
    people = [(fake.first_name(), fake.last_name(), fake.date_of_birth().isoformat())
              for _ in range(2)]
    keys = {}
    with LinkageState(state_dir, audit=False) as state:
        run = state.next_run_id()
        state.execute("INSERT INTO runs VALUES (?, now(), now(), 'duckdb', 0.5, 'registry', "
                      "'{}', '{}', 2, 0)", [run])
        for n, ((given, family, dob), band, p) in enumerate(
                zip(people, ("link", "review"), (0.97, 0.31), strict=True)):
            reg, rec = f"R{n}", f"J{n}"
            registrant = dict(zip(LINK_FIELDS, (given, family, dob, "TX"), strict=True))
            record = registrant | ({"dob": "1970-01-01"} if band == "review" else {})
            fields = [{"field": "given_name", "agreement": "exact", "weight": 6.1},
                      {"field": "family_name", "agreement": "exact", "weight": 7.2},
                      {"field": "dob", "agreement": "exact" if band == "link" else "different",
                       "weight": 9.0 if band == "link" else -8.4}]
            state.execute("INSERT INTO records VALUES (?, 'registry', ?, ?)",
                          [run, reg, json.dumps(registrant)])
            state.execute("INSERT INTO records VALUES (?, 'jail', ?, ?)",
                          [run, rec, json.dumps(record)])
            state.execute(
                "INSERT INTO links (run_id, registry_id, index_name, record_id, "
                "match_probability, match_weight, agreement, fingerprint, person_id, band, "
                "reason, explanation) VALUES (?, ?, 'jail', ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [run, reg, rec, p, sum(f["weight"] for f in fields),  # type: ignore[misc]
                 "given_names: exact; family_name: exact", f"fp{n}", f"P{n}", band,
                 "dates of birth differ" if band == "review" else "",
                 json.dumps({"prior_weight": -3.0, "fields": fields})])
            keys[band] = link_key(reg, "jail", rec)
    return keys


def web_settings(**overrides: object) -> ServiceSettings:
    options = {"index_refresh_seconds": 0.0, "background_refresh": False, "cache_seconds": 0.0,
               "linkage_agency": AGENCY_A}
    return ServiceSettings(**(options | overrides))  # type: ignore[arg-type]


def client(store: Store) -> TestClient:
    return TestClient(create_app(store, web_settings()), base_url="http://127.0.0.1")


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, "the page has no CSRF field"
    return found.group(1)


def sign_in(http: TestClient, world: World, user: str) -> str:
    """Sign in through the form; returns the session's CSRF token."""
    nonce = csrf_of(http.get("/signin").text)
    response = http.post("/signin", data={"user": user, "password": PASSWORD,
                                          "code": world.code(user), "csrf": nonce},
                         follow_redirects=False)
    assert response.status_code == 303, response.text
    return csrf_of(http.get("/settings").text)


def item_ids(html: str) -> list[int]:
    return [int(i) for i in re.findall(r'<li id="item-(\d+)"', html)]
