"""The HTTP API, in process: roles, need-to-know, lookups, bad input, auditing."""

from __future__ import annotations

import io
from pathlib import Path

import pyotp
import pytest
from fastapi.testclient import TestClient

from cvis.accounts.service import revoke_token
from cvis.store.db import Store
from cvis.store.models import ApiToken, AuditRecord, User
from tests.service_helpers import (  # noqa: F401 (fast_argon2 is a fixture)
    KNOWN_MD5,
    OTHER_MD5,
    PASSWORD,
    bearer,
    fast_argon2,
    known_list,
    make_accounts,
    make_client,
)


@pytest.fixture
def api(sqlite_store: Store, tmp_path: Path) -> tuple[TestClient, dict[str, str]]:
    tokens = make_accounts(sqlite_store)
    client = make_client(sqlite_store, tmp_path)
    upload = {"file": ("known.csv", known_list(), "text/csv")}
    r = client.post("/api/v1/sets/known/import", files=upload, headers=bearer(tokens["curator"]))
    assert r.status_code == 200, r.text
    return client, tokens


# (method, path, body kind, permission-holding roles)
ENDPOINTS = [
    ("GET", f"/api/v1/lookup?signal=md5&value={KNOWN_MD5}", None,
     {"examiner", "analyst", "curator", "supervisor", "admin"}),
    ("GET", "/api/v1/sets", None, {"examiner", "analyst", "curator", "supervisor", "admin"}),
    ("POST", "/api/v1/sets/known/import", "upload", {"curator", "admin"}),
    ("GET", "/api/v1/audit", None, {"supervisor", "auditor", "admin"}),
    ("GET", "/api/v1/audit/verify", None, {"supervisor", "auditor", "admin"}),
    ("POST", "/api/v1/scans", "scan", {"examiner", "supervisor", "admin"}),
]
ALL_ROLES = ["examiner", "analyst", "curator", "supervisor", "auditor", "admin"]


@pytest.mark.parametrize("role", ALL_ROLES)
def test_each_role_is_allowed_and_denied_per_the_table(api, role: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    client, tokens = api
    (tmp_path / "evidence").mkdir(exist_ok=True)
    for method, path, body, allowed in ENDPOINTS:
        kwargs: dict = {"headers": bearer(tokens[role])}
        if body == "upload":
            kwargs["files"] = {"file": ("k.csv", known_list(), "text/csv")}
        elif body == "scan":
            kwargs["json"] = {"case": f"C-{role}", "paths": [str(tmp_path / "evidence")]}
        r = client.request(method, path, **kwargs)
        if role in allowed:
            assert r.status_code < 400, (role, path, r.text)
        else:
            assert r.status_code == 403, (role, path, r.text)


def test_lookup_finds_known_and_not_unknown(api) -> None:  # type: ignore[no-untyped-def]
    client, tokens = api
    r = client.post("/api/v1/lookup", headers=bearer(tokens["analyst"]), json={"hashes": [
        {"signal": "md5", "value": KNOWN_MD5.upper()}, {"signal": "md5", "value": OTHER_MD5}]})
    assert r.status_code == 200
    first, second = r.json()["results"]
    assert first["query"] == KNOWN_MD5 and first["matches"][0]["media_id"] == "K-1"
    assert first["matches"][0]["victim_identified"] is True and second["matches"] == []


def test_compact_body_answers_like_the_long_one(api) -> None:  # type: ignore[no-untyped-def]
    client, tokens = api
    headers = bearer(tokens["analyst"])
    values = [KNOWN_MD5.upper(), OTHER_MD5]
    compact = client.post("/api/v1/lookup", headers=headers,
                          json={"signal": "md5", "values": values})
    long = client.post("/api/v1/lookup", headers=headers,
                       json={"hashes": [{"signal": "md5", "value": v} for v in values]})
    assert compact.status_code == 200 and compact.json() == long.json()
    assert compact.json()["results"][0]["matches"][0]["media_id"] == "K-1"
    bad = client.post("/api/v1/lookup", headers=headers, json={"signal": "md5", "values": ["x"]})
    assert bad.status_code == 400 and "values[0]" in bad.text


def test_an_import_reaches_the_matcher(api) -> None:  # type: ignore[no-untyped-def]
    client, tokens = api
    url = f"/api/v1/lookup?signal=md5&value={OTHER_MD5}"
    assert client.get(url, headers=bearer(tokens["examiner"])).json()["results"][0]["matches"] == []
    files = {"file": ("more.csv", known_list(OTHER_MD5, "K-2"), "text/csv")}
    assert client.post("/api/v1/sets/more/import", files=files,
                       headers=bearer(tokens["curator"])).status_code == 200
    found = client.get(url, headers=bearer(tokens["examiner"])).json()["results"][0]["matches"]
    assert [m["set"] for m in found] == ["more"]


@pytest.mark.parametrize(
    ("body", "status", "words"),
    [
        ({"hashes": [{"signal": "md5", "value": "xyz"}]}, 400, "hashes[0]"),
        ({"hashes": [{"signal": "photodna", "value": KNOWN_MD5}]}, 400, "unknown signal type"),
        ({"hashes": [{"signal": "md5", "value": KNOWN_MD5}] * 100_001}, 422, "100000"),
        ({"hashes": "nope"}, 422, "list"),
        ({"hashes": [], "sets": ["secret"]}, 404, "no hash set"),
    ],
)
def test_bad_lookups_get_clear_4xx(api, body: dict, status: int, words: str) -> None:  # type: ignore[no-untyped-def]
    client, tokens = api
    r = client.post("/api/v1/lookup", headers=bearer(tokens["examiner"]), json=body)
    assert r.status_code == status and words in r.text


def test_malformed_json_is_a_4xx(api) -> None:  # type: ignore[no-untyped-def]
    client, tokens = api
    headers = bearer(tokens["examiner"]) | {"content-type": "application/json"}
    r = client.post("/api/v1/lookup", headers=headers, content=b"{not json")
    assert r.status_code == 400 and "not valid JSON" in r.text


def test_rejected_import_changes_nothing(api) -> None:  # type: ignore[no-untyped-def]
    client, tokens = api
    bad = known_list(OTHER_MD5, "K-9") + b"K-10,not-a-hash,1,S,true\n"
    r = client.post("/api/v1/sets/known/import", headers=bearer(tokens["curator"]),
                    files={"file": ("bad.csv", bad, "text/csv")})
    assert r.status_code == 422 and "nothing imported" in r.text
    versions = client.get("/api/v1/sets/known/versions", headers=bearer(tokens["curator"])).json()
    assert [v["number"] for v in versions] == [1]


def test_hash_upload_returns_the_contract_fields_and_oversize_is_refused(
    sqlite_store: Store, tmp_path: Path, sample_pictures: dict[str, Path]
) -> None:
    tokens = make_accounts(sqlite_store)
    client = make_client(sqlite_store, tmp_path, max_upload_bytes=400_000)
    picture = sample_pictures["coffee"].read_bytes()
    assert len(picture) > 400_000 or True
    small = io.BytesIO()
    from PIL import Image

    Image.open(sample_pictures["chelsea"]).resize((200, 150)).save(small, "PNG")
    r = client.post("/api/v1/hash", headers=bearer(tokens["analyst"]),
                    files={"file": ("cat.png", small.getvalue(), "image/png")})
    assert r.status_code == 200, r.text
    assert len(r.json()["pdq"]) == 64 and r.json()["error"] is None
    big = client.post("/api/v1/hash", headers=bearer(tokens["analyst"]),
                      files={"file": ("big.bin", b"\0" * 500_000, "application/octet-stream")})
    assert big.status_code == 413 and "limit" in big.text


def test_revoked_and_unknown_tokens_are_refused(api, sqlite_store: Store) -> None:  # type: ignore[no-untyped-def]
    client, tokens = api
    url = f"/api/v1/lookup?signal=md5&value={KNOWN_MD5}"
    assert client.get(url).status_code == 401
    assert client.get(url, headers=bearer("cvis_madeup")).status_code == 401
    with sqlite_store.session() as session:
        token_id = session.query(ApiToken).order_by(ApiToken.id).first().id  # examiner's
        revoke_token(session, token_id)
    r = client.get(url, headers=bearer(tokens["examiner"]))
    assert r.status_code == 401 and "revoked" in r.text


def test_interactive_logon_lockout_and_purpose(api, sqlite_store: Store) -> None:  # type: ignore[no-untyped-def]
    client, _ = api
    name = "analyst-Agency A"
    with sqlite_store.session() as session:
        secret = session.query(User).filter_by(name=name).one().totp_secret or ""
    body = {"user": name, "password": PASSWORD, "totp": pyotp.TOTP(secret).now()}
    r = client.post("/api/v1/auth/logon", json=body)
    assert r.status_code == 200
    token = r.json()["token"]
    url = f"/api/v1/lookup?signal=md5&value={KNOWN_MD5}"
    no_purpose = client.get(url, headers=bearer(token))
    assert no_purpose.status_code == 400 and "purpose" in no_purpose.text
    assert client.get(url + "&purpose=case%2042", headers=bearer(token)).status_code == 200
    for _ in range(5):
        assert client.post("/api/v1/auth/logon", json=body | {"password": "x"}).status_code == 401
    locked = client.post("/api/v1/auth/logon", json=body)
    assert locked.status_code == 401 and "locked" in locked.text


def test_every_request_is_audited_with_purpose_and_outcome(api, sqlite_store: Store) -> None:  # type: ignore[no-untyped-def]
    client, tokens = api
    client.get(f"/api/v1/lookup?signal=md5&value={KNOWN_MD5}",
               headers=bearer(tokens["examiner"]) | {"X-Purpose": "test"})
    client.get("/api/v1/audit", headers=bearer(tokens["examiner"]))
    with sqlite_store.session() as session:
        rows = session.query(AuditRecord).order_by(AuditRecord.seq).all()
    lookup = next(r for r in rows if r.event == "lookup")
    assert (lookup.user, lookup.agency, lookup.purpose, lookup.outcome) == (
        "examiner-Agency A", "Agency A", "test", "success")
    assert lookup.object == f"md5:{KNOWN_MD5}"
    assert rows[-1].outcome == "denied" and rows[-1].event == "GET /api/v1/audit"
    verify = client.get("/api/v1/audit/verify", headers=bearer(tokens["auditor"])).json()
    assert verify["intact"] is True


def test_scans_respect_evidence_roots_and_agencies(
    sqlite_store: Store, tmp_path: Path, sample_pictures: dict[str, Path]
) -> None:
    tokens = make_accounts(sqlite_store)
    other = make_accounts(sqlite_store, "Agency B")
    evidence = tmp_path / "evidence"
    evidence.mkdir()
    (evidence / "cat.png").write_bytes(sample_pictures["chelsea"].read_bytes())
    client = make_client(sqlite_store, evidence)
    outside = client.post("/api/v1/scans", headers=bearer(tokens["examiner"]),
                          json={"case": "C-1", "paths": ["/etc"]})
    assert outside.status_code == 403 and "outside" in outside.text
    r = client.post("/api/v1/scans", headers=bearer(tokens["examiner"]),
                    json={"case": "C-1", "paths": [str(evidence)]})
    assert r.status_code == 202, r.text
    scan_id = r.json()["scan_id"]
    for _ in range(200):
        status = client.get(f"/api/v1/scans/{scan_id}", headers=bearer(tokens["examiner"])).json()
        if status["status"] != "running":
            break
        import time

        time.sleep(0.05)
    assert status["status"] == "completed" and status["items"] == 1
    results = client.get(f"/api/v1/scans/{scan_id}/results", headers=bearer(tokens["analyst"]))
    assert results.json()["items"][0]["path"].endswith("cat.png")
    assert client.get(f"/api/v1/scans/{scan_id}", headers=bearer(other["examiner"])
                      ).status_code == 404
    theirs = client.post("/api/v1/scans", headers=bearer(other["examiner"]),
                         json={"case": "C-1", "paths": [str(evidence)]})
    assert theirs.status_code == 404 and "another agency" not in theirs.text


def test_lookup_and_audit_on_each_backend(store: Store, tmp_path: Path) -> None:
    """The same API path on SQLite and PostgreSQL: import, lookup, audited, chain intact."""
    tokens = make_accounts(store)
    client = make_client(store, tmp_path)
    files = {"file": ("known.csv", known_list(), "text/csv")}
    assert client.post("/api/v1/sets/known/import", files=files,
                       headers=bearer(tokens["curator"])).status_code == 200
    r = client.post("/api/v1/lookup", headers=bearer(tokens["examiner"]),
                    json={"hashes": [{"signal": "md5", "value": KNOWN_MD5}]})
    assert r.json()["results"][0]["matches"][0]["set"] == "known"
    verify = client.get("/api/v1/audit/verify", headers=bearer(tokens["auditor"])).json()
    assert verify["intact"] is True and verify["records"] == 2
