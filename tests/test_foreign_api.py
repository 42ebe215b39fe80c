"""Foreign work over the HTTP API, on both backends: a CSV manifest screened -> a hit ->
the analyst's determination drafts a notice -> an officer confirms it -> the signed JSON
verifies; another agency sees none of it (404); a malformed manifest is refused whole,
naming its line. Case shares: shared, listed, revoked."""

from __future__ import annotations

import csv
import io
import shutil
from pathlib import Path

import pandas as pd
import pytest

from cvis.foreign.documents import verify
from cvis.foreign.manifest import COLUMNS
from cvis.foreign.travel import models_dir
from tests.fusion_helpers import registry_frame, traveller_from
from tests.service_helpers import fast_argon2  # noqa: F401  (the world's accounts, quickly)
from tests.trust_helpers import World

A, B = "Agency A", "Agency B"


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    return registry_frame(200)


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The traveller model trained on the first backend, reused on the second (training
    is the screening's cost and is the same on both)."""
    return tmp_path_factory.mktemp("models") / "models"


def _csv(rows: list[dict[str, str]]) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(COLUMNS))
    writer.writeheader()
    writer.writerows({k: row.get(k, "") for k in COLUMNS} for row in rows)
    return out.getvalue().encode()


def _upload(w: World, body: bytes, agency: str = A) -> tuple[int, dict]:
    r = w.client.post("/api/v1/travel/manifests", headers=w.headers(agency, "analyst"),
                      files={"file": ("flight.csv", body)},
                      data={"registry": "registry.csv", "format": "csv"})
    return r.status_code, r.json()


def test_manifest_to_signed_notice_another_agency_sees_none_malformed_refused(
        world: World, frame: pd.DataFrame, trained: Path) -> None:
    folder = world.store.settings.home / "registries"
    folder.mkdir(parents=True, exist_ok=True)
    frame.to_csv(folder / "registry.csv", index=False)
    if trained.is_dir():
        shutil.copytree(trained, models_dir(world.store))
    person = traveller_from(frame.iloc[2], departure="2099-12-20T09:15:00-05:00")
    _a_malformed_manifest_is_refused_whole(world, person)
    stranger = traveller_from(frame.iloc[9], family_name="Zzyzx", given_names="Quentin",
                              departure="2099-12-20T09:15:00-05:00")
    status, run = _upload(world, _csv([person, stranger]))
    assert status == 201, run
    assert run["travellers"] == 2 and run["with_candidates"] == 1
    if not trained.is_dir():
        shutil.copytree(models_dir(world.store), trained)
    analyst, officer = world.headers(A, "analyst"), world.headers(A, "supervisor")
    [hit] = [h for h in world.client.get("/api/v1/travel/hits", headers=analyst).json()
             if h["name"].endswith(person["family_name"]) or person["family_name"] in h["name"]]
    traveller = world.client.get(f"/api/v1/travel/travellers/{hit['traveller_id']}",
                                 headers=analyst).json()
    registry_id = traveller["candidates"][0]["registry_id"]

    other = world.headers(B, "supervisor")
    decide = {"registry_id": registry_id, "covered": True, "notify": True,
              "basis": "name, date of birth and sex agree with the registry entry"}
    url = f"/api/v1/travel/travellers/{hit['traveller_id']}/determination"
    assert world.client.post(url, headers=other, json=decide).status_code == 404
    r = world.client.post(url, headers=analyst, json=decide)
    assert r.status_code == 201, r.text
    notice_id = r.json()["notice_id"]
    assert hit["traveller_id"] not in {
        h["traveller_id"] for h in world.client.get("/api/v1/travel/hits",
                                                    headers=analyst).json()}

    notice = f"/api/v1/notices/{notice_id}"
    assert world.client.get(f"{notice}/notice.json", headers=analyst).status_code == 409
    assert world.client.post(f"{notice}/confirm", headers=analyst).status_code == 403
    for path in ("", "/notice.json"):
        assert world.client.get(notice + path, headers=other).status_code == 404
    assert world.client.post(f"{notice}/confirm", headers=other).status_code == 404
    r = world.client.post(f"{notice}/confirm", headers=officer)
    assert r.status_code == 200 and r.json()["status"] == "confirmed"
    assert world.client.post(f"{notice}/confirm", headers=officer).status_code == 409
    signed = world.client.get(f"{notice}/notice.json", headers=analyst).json()
    assert verify(signed) and signed["body"]["reference"] == f"N-{notice_id}"
    signed["body"]["country"] = "FR"
    assert not verify(signed)
    listed = world.client.get("/api/v1/notices?status=confirmed", headers=analyst).json()
    assert notice_id in {n["notice_id"] for n in listed}
    assert notice_id not in {n["notice_id"] for n in world.client.get("/api/v1/notices",
                                                               headers=other).json()}


def _a_malformed_manifest_is_refused_whole(world: World, good: dict[str, str]) -> None:
    """One bad row refuses the manifest whole, naming its line; nothing is kept."""
    analyst = world.headers(A, "analyst")
    status, body = _upload(world, _csv([good, {**good, "dob": "31/31/1980"}]))
    assert status == 422 and body["detail"]["where"] == "line 3", body
    assert world.client.get("/api/v1/travel/hits", headers=analyst).json() == []
    r = world.client.post("/api/v1/travel/manifests", headers=analyst,
                          files={"file": ("f.csv", _csv([good]))},
                          data={"registry": "../registry.csv"})
    assert r.status_code == 422  # a registry is named, never a path


def test_a_case_is_shared_listed_and_revoked(world: World) -> None:
    examiner = world.headers(A, "examiner")
    url = "/api/v1/cases/A-CASE-1/shares"
    body = {"partner": "Partner Police", "rights": ["read", "review"],
            "purpose": "joint investigation"}
    assert world.client.post("/api/v1/cases/B-CASE-1/shares", headers=examiner,
                             json=body).status_code == 404
    r = world.client.post(url, headers=examiner, json=body)
    assert r.status_code == 201, r.text
    share_id = r.json()["share_id"]
    [listed] = world.client.get(url, headers=examiner).json()
    assert listed["partner"] == "Partner Police" and listed["revoked_at"] is None
    assert "cases:write" in listed["rights"]
    assert world.client.post(f"/api/v1/case-shares/{share_id}/revoke",
                             headers=world.headers(B, "examiner"), json={}).status_code == 404
    r = world.client.post(f"/api/v1/case-shares/{share_id}/revoke", headers=examiner,
                          json={"reason": "ended"})
    assert r.status_code == 200 and r.json()["revoked_at"]
    assert world.client.post(f"/api/v1/case-shares/{share_id}/revoke", headers=examiner,
                             json={}).status_code == 409
