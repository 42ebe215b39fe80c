"""Trust between agencies (issue 14): one test per row of the issue's tables.

Each failed on the main of 2026-11-30; the world is tests/trust_helpers.py (agencies A
and B, every role, a public set, B's private set, B's set shared with A for matching).
"""

from __future__ import annotations

import gc
import json
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pyotp
import pytest
from sqlalchemy import select

import cvis.accounts.service as accounts
from cvis.accounts.service import AuthenticationFailed, logon
from cvis.store.db import Store
from cvis.store.models import AuditRecord, HashSet, KnownMedia, SetAccess, User
from tests.service_helpers import PASSWORD, bearer, fast_argon2  # noqa: F401
from tests.trust_helpers import World

A, B = "Agency A", "Agency B"


def _wait(world: World, scan_id: int, headers: dict[str, str]) -> dict[str, Any]:
    for _ in range(400):
        status: dict[str, Any] = world.client.get(f"/api/v1/scans/{scan_id}",
                                                  headers=headers).json()
        if status["status"] != "running":
            return status
        time.sleep(0.05)
    raise AssertionError(f"scan {scan_id} did not finish: {status}")


def _records(store: Store, event: str) -> list[AuditRecord]:
    with store.session() as session:
        return list(session.scalars(select(AuditRecord).where(AuditRecord.event == event)
                                    .order_by(AuditRecord.seq)))


# --- row 1: a scan does not match B's private set; results show nothing of it -------------

def test_row01_scan_hides_another_agencys_private_set(sqlite_world: World) -> None:
    w = sqlite_world
    h = w.headers(A, "examiner")
    for sets, expected in ((None, {"public", "b-shared", "a-own"}),
                           (["public", "b-shared"], {"public", "b-shared"})):
        r = w.client.post("/api/v1/scans", headers=h,
                          json={"case": f"A-{sets is None}", "paths": [str(w.evidence)],
                                "sets": sets})
        assert r.status_code == 202, r.text
        assert _wait(w, r.json()["scan_id"], h)["status"] == "completed"
        results = w.client.get(f"/api/v1/scans/{r.json()['scan_id']}/results", headers=h)
        text = results.text
        assert "b-private" not in text and "series of b-private" not in text
        matched = {m["set"] for i in results.json()["items"] for m in i["matches"]}
        assert matched == expected
    named = w.client.post("/api/v1/scans", headers=h, json={
        "case": "A-2", "paths": [str(w.evidence)], "sets": ["b-private"]})
    assert named.status_code == 404


# --- row 2: A's curator cannot import into B's private set ---------------------------------

def test_row02_import_into_another_agencys_set_is_refused(world: World) -> None:
    upload = {"file": ("x.csv", b"media_id,md5\nX-1," + b"a" * 32 + b"\n", "text/csv")}
    r = world.client.post("/api/v1/sets/b-private/import", files=upload,
                          headers=world.headers(A, "curator"))
    assert r.status_code in (403, 404)
    shared = world.client.post("/api/v1/sets/b-shared/import", files=upload,
                               headers=world.headers(A, "curator"))
    assert shared.status_code == 403
    with world.store.session() as session:
        ids = session.scalars(select(KnownMedia.media_id).join(KnownMedia.hash_set).where(
            HashSet.name.in_(["b-private", "b-shared"]))).all()
    assert sorted(ids) == ["b-private-1", "b-shared-1"]


# --- row 3: a set created through the API is its creator's agency's ------------------------

def test_row03_a_set_created_through_the_api_is_owned_and_private(world: World) -> None:
    body = b"media_id,md5\nN-1," + b"b" * 32 + b"\n"
    r = world.client.post("/api/v1/sets/new-set/import", files={"file": ("n.csv", body)},
                          headers=world.headers(A, "curator"))
    assert r.status_code == 200, r.text
    with world.store.session() as session:
        hash_set = session.scalars(select(HashSet).where(HashSet.name == "new-set")).one()
        rows = session.scalars(select(SetAccess.agency).where(
            SetAccess.set_id == hash_set.id)).all()
    assert hash_set.agency == A and rows == [A]
    versions = world.client.get("/api/v1/sets/new-set/versions",
                                headers=world.headers(A, "curator")).json()
    import hashlib

    assert versions[0]["source_sha256"] == hashlib.sha256(body).hexdigest()
    listed = world.client.get("/api/v1/sets", headers=world.headers(B, "examiner")).json()
    assert "new-set" not in {s["name"] for s in listed}


# --- row 4: feedback only on one's own agency's matches, suppressing for that agency -------

def test_row04_feedback_is_per_agency(world: World) -> None:
    w = world
    a_match = {"match_id": w.matches[A], "verdict": "false_positive"}
    by_b = w.client.post("/api/v1/sets/public/feedback", json=a_match,
                         headers=w.headers(B, "examiner"))
    assert by_b.status_code == 404
    by_analyst = w.client.post("/api/v1/sets/public/feedback", json=a_match,
                               headers=w.headers(A, "analyst"))
    assert by_analyst.status_code == 403
    ok = w.client.post("/api/v1/sets/public/feedback", json=a_match,
                       headers=w.headers(A, "examiner"))
    assert ok.status_code == 201, ok.text
    url = f"/api/v1/lookup?signal=md5&value={w.md5['public']}"
    a_sees = w.client.get(url, headers=w.headers(A, "examiner")).json()["results"][0]["matches"]
    b_sees = w.client.get(url, headers=w.headers(B, "examiner")).json()["results"][0]["matches"]
    assert a_sees == [] and [m["set"] for m in b_sees] == ["public"]


def test_suppressing_for_everyone_is_the_owner_curators_decision_and_can_be_lifted(
    world: World,
) -> None:
    w = world
    body = {"signal": "md5", "value": w.md5["b-shared"], "reason": "a sunset, not a match"}
    assert w.client.post("/api/v1/sets/b-shared/suppressions", json=body,
                         headers=w.headers(A, "curator")).status_code == 403
    assert w.client.post("/api/v1/sets/b-shared/suppressions", json=body,
                         headers=w.headers(B, "examiner")).status_code == 403
    r = w.client.post("/api/v1/sets/b-shared/suppressions", json=body,
                      headers=w.headers(B, "curator"))
    assert r.status_code == 201, r.text
    url = f"/api/v1/lookup?signal=md5&value={w.md5['b-shared']}"
    for agency in (A, B):
        assert w.client.get(url, headers=w.headers(agency, "examiner")
                            ).json()["results"][0]["matches"] == []
    recorded = _records(w.store, "sets.suppress")
    assert recorded[-1].user == "curator-Agency B" and recorded[-1].outcome == "success"
    lifted = w.client.delete(f"/api/v1/sets/b-shared/suppressions?signal=md5&value="
                             f"{w.md5['b-shared']}", headers=w.headers(B, "curator"))
    assert lifted.status_code == 200
    assert w.client.get(url, headers=w.headers(A, "examiner")).json()["results"][0]["matches"]


# --- row 5: a match-only grant gives the match and nothing more ----------------------------

def test_row05_match_only_grant_hides_metadata_show_and_export(world: World) -> None:
    w = world
    h = w.headers(A, "curator")
    assert w.client.get("/api/v1/sets/b-shared", headers=h).status_code == 404
    assert w.client.get("/api/v1/sets/b-shared/export", headers=h).status_code == 404
    assert w.client.get("/api/v1/sets/b-shared/versions", headers=h).status_code == 404
    url = f"/api/v1/lookup?signal=md5&value={w.md5['b-shared']}"
    (match,) = w.client.get(url, headers=h).json()["results"][0]["matches"]
    assert match["set"] == "b-shared" and match["media_id"] == "b-shared-1"
    assert (match["category"], match["series"], match["victim_identified"]) == (None, None, None)
    (own,) = w.client.get(url, headers=w.headers(B, "curator")).json()["results"][0]["matches"]
    assert own["series"] == "series of b-shared"


# --- row 6: at most 5 wrong passwords checked, however many arrive at once -----------------

@pytest.mark.parametrize("attempts", [30, 60])
def test_row06_concurrent_wrong_passwords_check_at_most_five(
    world: World, monkeypatch: pytest.MonkeyPatch, attempts: int
) -> None:
    checked, lock = [0], threading.Lock()
    real = accounts.password_matches

    def counting(stored: str | None, password: str) -> bool:
        with lock:
            checked[0] += 1
        time.sleep(0.01)  # widen the window a racing counter would slip through
        return real(stored, password)

    monkeypatch.setattr(accounts, "password_matches", counting)
    name = world.user(A, "analyst")
    barrier = threading.Barrier(attempts)

    def attempt() -> None:
        barrier.wait()
        try:
            logon(world.store, name, "wrong password!", "000000")
        except AuthenticationFailed:
            pass

    threads = [threading.Thread(target=attempt) for _ in range(attempts)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert checked[0] <= 5
    with world.store.session() as session:
        user = session.scalars(select(User).where(User.name == name)).one()
        secret, locked = user.totp_secret, user.locked_until
    assert locked is not None
    with pytest.raises(AuthenticationFailed):  # locked: even the right password is refused
        logon(world.store, name, PASSWORD, pyotp.TOTP(secret or "").now())


def test_row06_logons_from_one_address_are_rate_limited(sqlite_world: World) -> None:
    codes = [sqlite_world.client.post("/api/v1/auth/logon", json={
        "user": f"nobody{i}", "password": "x" * 12, "totp": "000000"}).status_code
        for i in range(30)]
    assert codes[:20] == [401] * 20 and set(codes[20:]) == {429}
    assert _records(sqlite_world.store, "logon")[-1].outcome == "denied"


# --- row 7: a TOTP code is single-use ------------------------------------------------------

def test_row07_a_totp_code_works_once(world: World) -> None:
    name = world.user(A, "examiner")
    with world.store.session() as session:
        secret = session.scalar(select(User.totp_secret).where(User.name == name))
    code = pyotp.TOTP(secret or "").now()
    assert logon(world.store, name, PASSWORD, code)
    with pytest.raises(AuthenticationFailed) as refused:
        logon(world.store, name, PASSWORD, code)
    assert refused.value.reason == "second-factor code already used"


# --- row 8: unknown and known users get the same work and the same answer ------------------

def test_row08_unknown_and_known_users_answer_alike(
    sqlite_world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    import cvis.accounts.credentials as credentials

    work = [0]
    real = credentials.password_matches

    def counting(stored: str | None, password: str) -> bool:
        work[0] += 1
        return real(stored, password)

    monkeypatch.setattr(credentials, "password_matches", counting)
    monkeypatch.setattr(accounts, "password_matches", counting)
    answers = {}
    for name in ("nobody-at-all", sqlite_world.user(A, "analyst")):
        before = work[0]
        r = sqlite_world.client.post("/api/v1/auth/logon", json={
            "user": name, "password": "wrong password!", "totp": "000000"})
        answers[name] = (r.status_code, r.json()["detail"], work[0] - before)
    for _ in range(6):  # and a locked account says nothing more
        r = sqlite_world.client.post("/api/v1/auth/logon", json={
            "user": sqlite_world.user(A, "analyst"), "password": "wrong password!",
            "totp": "000000"})
    assert len(set(answers.values())) == 1, answers
    assert (r.status_code, r.json()["detail"]) == answers["nobody-at-all"][:2]
    reasons = [rec.detail for rec in _records(sqlite_world.store, "logon")]
    assert any("unknown user" in d for d in reasons) and any("locked" in d for d in reasons)


# --- row 9: deeply nested JSON is a 400 ----------------------------------------------------

def test_row09_deep_json_is_refused_with_400(world: World) -> None:
    deep = "[" * 5000 + "]" * 5000
    h = world.headers(A, "examiner") | {"content-type": "application/json"}
    for url in ("/api/v1/lookup", "/api/v1/scans", "/api/v1/sets/public/feedback"):
        body = '{"hashes": ' + deep + "}" if url.endswith("lookup") else '{"case": ' + deep + "}"
        r = world.client.post(url, content=body, headers=h)
        assert r.status_code == 400, (url, r.status_code, r.text)


# --- row 10: purpose on every interactive access; fixed on service tokens ------------------

def test_row10_interactive_access_needs_a_purpose(sqlite_world: World) -> None:
    w = sqlite_world
    session_token = w.logon(A, "admin")
    h = bearer(session_token)
    scan = w.scans[A]
    attempts: list[tuple[str, str, dict[str, Any]]] = [
        ("GET", "/api/v1/sets/public/export", {}),
        ("POST", "/api/v1/scans", {"json": {"case": "A-9", "paths": [str(w.evidence)]}}),
        ("GET", f"/api/v1/scans/{scan}", {}),
        ("GET", f"/api/v1/scans/{scan}/results", {}),
        ("POST", "/api/v1/hash", {"files": {"file": ("a.bin", b"benign bytes")}}),
        ("GET", "/api/v1/sets", {}),
    ]
    for method, url, kwargs in attempts:
        r = w.client.request(method, url, headers=h, **kwargs)
        assert r.status_code == 400 and "purpose" in r.text, (url, r.status_code, r.text)
        r = w.client.request(method, url, headers=h | {"X-Purpose": "case A-9"}, **kwargs)
        assert r.status_code < 400, (url, r.status_code, r.text)


def test_row10_a_service_tokens_purpose_is_fixed(sqlite_world: World) -> None:
    w = sqlite_world
    url = f"/api/v1/lookup?signal=md5&value={w.md5['public']}"
    other = w.client.get(url, headers=w.headers(A, "examiner") | {"X-Purpose": "curiosity"})
    assert other.status_code == 400 and "fixed" in other.text
    same = w.client.get(url, headers=w.headers(A, "examiner"))
    assert same.status_code == 200 and _records(w.store, "lookup")[-1].purpose == "test"
    from cvis.accounts.service import AccountError, create_token

    with pytest.raises(AccountError, match="purpose"), w.store.session() as session:
        create_token(session, w.user(A, "examiner"))


# --- row 11: names with control or bidirectional characters --------------------------------

@pytest.mark.parametrize("name", ["bad%00name", "bad%0Aname", "bad%E2%80%AEname", "%20"])
def test_row11_set_names_with_control_characters_are_refused(
    sqlite_world: World, name: str
) -> None:
    r = sqlite_world.client.post(f"/api/v1/sets/{name}/import",
                                 files={"file": ("n.csv", b"media_id,md5\n")},
                                 headers=sqlite_world.headers(A, "curator"))
    assert r.status_code == 400, r.text
    with sqlite_world.store.session() as session:
        assert len(session.scalars(select(HashSet)).all()) == 4


# --- row 12: lookups keep matching a hash while its set is re-imported ---------------------

def test_row12_a_known_hash_keeps_matching_across_an_import(
    store: Store, tmp_path: Path, sample_pictures: dict[str, Path]
) -> None:
    """The matcher built before an import keeps answering (as a busy server's does for a few
    seconds): a hash in the set before and after must still match."""
    from tests.trust_helpers import build_world

    w = build_world(store, tmp_path, sample_pictures, index_refresh_seconds=3600.0,
                    background_refresh=True)
    url = f"/api/v1/lookup?signal=md5&value={w.md5['public']}"
    h = w.headers(A, "examiner")
    assert w.client.get(url, headers=h).json()["results"][0]["matches"]
    for category in (2, 3):
        lines = json.dumps({"media_id": "public-1", "signals": {"md5": w.md5["public"]},
                            "category": category}) + "\n"
        r = w.client.post("/api/v1/sets/public/import", headers=w.headers(A, "curator"),
                          files={"file": ("v.jsonl", lines.encode())},
                          data={"format": "jsonl"})
        assert r.status_code == 200, r.text
        assert w.client.get(url, headers=h).json()["results"][0]["matches"], category


# --- row 13: a scan whose worker died is resumed; resubmitting resumes ---------------------

def _age_heartbeat(store: Store, scan_id: int) -> None:
    """The last beat of a worker that died a minute ago."""
    from sqlalchemy import update

    from cvis.api.models import ApiScanJob
    from cvis.store.models import utcnow

    with store.session() as session:
        session.execute(update(ApiScanJob).where(ApiScanJob.scan_id == scan_id)
                        .values(heartbeat_at=utcnow() - timedelta(minutes=1)))


def _mark(store: Store, scan_id: int, status: str) -> None:
    from cvis.store.models import Scan

    with store.session() as session:
        session.get_one(Scan, scan_id).status = status


def test_row13_a_scan_whose_worker_died_resumes(
    sqlite_world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    import cvis.api.scan_jobs as jobs

    w = sqlite_world
    h = w.headers(A, "examiner")
    started: list[Any] = []
    real_thread = jobs.threading.Thread

    class Killed:  # the server dies before the worker hashes anything
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            started.append(kwargs.get("name"))

        def start(self) -> None:
            pass

    monkeypatch.setattr(jobs.threading, "Thread", Killed)
    body = {"case": "A-13", "paths": [str(w.evidence)]}
    first = w.client.post("/api/v1/scans", headers=h, json=body).json()
    assert first["status"] == "running" and started
    again = w.client.post("/api/v1/scans", headers=h, json=body).json()
    assert again["scan_id"] == first["scan_id"], "resubmitting picks up the same scan"
    _mark(w.store, first["scan_id"], "interrupted")  # as `cvis case show` marks a dead one
    assert w.client.post("/api/v1/scans", headers=h, json=body).json()["scan_id"] == \
        first["scan_id"], "an interrupted scan is resumed too"
    monkeypatch.setattr(jobs.threading, "Thread", real_thread)
    _age_heartbeat(w.store, first["scan_id"])
    final = _wait(w, first["scan_id"], h)
    assert final["status"] == "completed" and final["items"] == 4, final["reason"]
    resubmitted = w.client.post("/api/v1/scans", headers=h, json=body).json()
    assert resubmitted["scan_id"] != first["scan_id"]  # a completed scan is not reopened


def test_row13_a_scan_that_keeps_dying_is_marked_failed_with_the_reason(
    sqlite_world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    import cvis.api.scan_jobs as jobs

    w = sqlite_world
    monkeypatch.setattr(jobs, "MAX_ATTEMPTS", 1)
    monkeypatch.setattr(jobs, "_run", lambda *args: None)
    h = w.headers(A, "examiner")
    scan_id = w.client.post("/api/v1/scans", headers=h,
                            json={"case": "A-13b", "paths": [str(w.evidence)]}).json()["scan_id"]
    _age_heartbeat(w.store, scan_id)
    status = w.client.get(f"/api/v1/scans/{scan_id}", headers=h).json()
    assert status["status"] == "failed" and "stopped" in status["reason"]


# --- row 14: another agency's case number is "no such case" --------------------------------

def test_row14_another_agencys_case_is_not_found(world: World) -> None:
    r = world.client.post("/api/v1/scans", headers=world.headers(A, "examiner"),
                          json={"case": "B-CASE-1", "paths": [str(world.evidence)]})
    assert r.status_code == 404 and "another agency" not in r.text
    missing = world.client.get("/api/v1/scans/999999", headers=world.headers(A, "examiner"))
    theirs = world.client.get(f"/api/v1/scans/{world.scans[B]}",
                              headers=world.headers(A, "examiner"))
    assert missing.status_code == theirs.status_code == 404


# --- row 15: time zones in audit time filters ----------------------------------------------

def test_row15_audit_time_filters_honour_time_zones(world: World) -> None:
    h = world.headers(A, "auditor")
    middle = datetime.now(UTC) - timedelta(seconds=1)
    for _ in range(3):
        world.client.get("/api/v1/sets", headers=world.headers(A, "examiner"))
    end = datetime.now(UTC)
    counts = set()
    for offset in (timedelta(hours=5), timedelta(0), timedelta(hours=-5)):
        zone = timezone(offset)
        params = {"since": middle.astimezone(zone).isoformat(),
                  "until": end.astimezone(zone).isoformat(), "limit": 1000}
        r = world.client.get("/api/v1/audit", headers=h, params=params)
        assert r.status_code == 200, r.text
        counts.add(len(r.json()))
    zulu = {"since": middle.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            "until": end.strftime("%Y-%m-%dT%H:%M:%S.%fZ"), "limit": 1000}
    counts.add(len(world.client.get("/api/v1/audit", headers=h, params=zulu).json()))
    assert len(counts) == 1 and counts.pop() >= 3


# --- row 16: token scopes no wider than the role -------------------------------------------

def test_row16_token_scopes_beyond_the_role_are_refused(
    cli_env: Any, runner: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cvis.cli.app import app

    assert runner.invoke(app, ["agency", "add", A]).exit_code == 0
    added = runner.invoke(app, ["user", "add", "ana", "--agency", A, "--role", "analyst",
                                "--password-stdin"], input="a long benign passphrase\n")
    assert added.exit_code == 0, added.output
    wide = runner.invoke(app, ["token", "create", "ana", "--scope", "sets:write",
                               "--purpose", "triage"])
    assert wide.exit_code == 1 and "does not hold" in wide.output
    assert "cvis_" not in wide.output


# --- the audit list ------------------------------------------------------------------------

def test_audit_records_413_and_500_answers(
    sqlite_store: Store, tmp_path: Path, sample_pictures: dict[str, Path],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from tests.trust_helpers import build_world

    w = build_world(sqlite_store, tmp_path, sample_pictures, max_upload_bytes=1000)
    big = w.client.post("/api/v1/hash", files={"file": ("big.bin", b"x" * 5000)},
                        headers=w.headers(A, "examiner"))
    assert big.status_code == 413
    import cvis.api.routes.sets as sets_routes

    def boom(*_: Any, **__: Any) -> None:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(sets_routes, "list_sets", boom)
    broken = w.client.get("/api/v1/sets", headers=w.headers(A, "examiner"))
    assert broken.status_code == 500 and "fire" not in broken.text
    with w.store.session() as session:
        details = session.scalars(select(AuditRecord.detail)).all()
    assert any(d.startswith("HTTP 413") for d in details)
    assert any(d.startswith("HTTP 500") and "disk on fire" in d for d in details)


def test_audit_401_records_the_credential_and_the_reason(sqlite_world: World) -> None:
    r = sqlite_world.client.get("/api/v1/sets", headers=bearer("cvis_not-a-real-token"))
    assert r.status_code == 401
    with sqlite_world.store.session() as session:
        last = session.scalars(select(AuditRecord).order_by(AuditRecord.seq.desc())).first()
    assert last is not None and last.user.startswith("token cvis_not-a-r")
    assert "unknown token" in last.detail and last.outcome == "denied"


def test_audit_400_and_403_records_carry_purpose_and_queried_value(sqlite_world: World) -> None:
    w = sqlite_world
    bad = w.client.get("/api/v1/lookup?signal=md5&value=not-a-hash",
                       headers=w.headers(A, "examiner") | {"X-Purpose": "test"})
    assert bad.status_code == 400
    refused = w.client.get("/api/v1/audit?user=someone",
                           headers=w.headers(A, "examiner") | {"X-Purpose": "test"})
    assert refused.status_code == 403
    with w.store.session() as session:
        rows = session.scalars(select(AuditRecord).order_by(AuditRecord.seq.desc())).all()[:2]
    audit_row, lookup_row = rows
    assert lookup_row.purpose == "test" and "not-a-hash" in lookup_row.object
    assert audit_row.purpose == "test" and "someone" in audit_row.object


TAMPERINGS: dict[str, Callable[[Store], None]] = {}


def _tampering(name: str) -> Callable[[Callable[[Store], None]], Callable[[Store], None]]:
    def register(fn: Callable[[Store], None]) -> Callable[[Store], None]:
        TAMPERINGS[name] = fn
        return fn

    return register


@_tampering("truncated tail")
def _truncate(store: Store) -> None:
    from tests.test_audit import _roll_head_back

    _roll_head_back(store, 2)


@_tampering("wiped log")
def _wipe(store: Store) -> None:
    from tests.test_audit import _roll_head_back

    _roll_head_back(store, 0)


@_tampering("forged append")
def _forge(store: Store) -> None:
    from sqlalchemy import update

    from cvis.audit.chain import record_digest
    from cvis.store.models import AuditHead
    from tests.test_audit import FORGED

    with store.session() as session:
        last = session.scalars(select(AuditRecord).order_by(AuditRecord.seq.desc())).first()
        assert last is not None
        digest = record_digest(b"k" * 32, last.record_hash, last.seq + 1, last.at, FORGED)
        session.add(AuditRecord(seq=last.seq + 1, at=last.at, prev_hash=last.record_hash,
                                record_hash=digest, **FORGED))
        session.execute(update(AuditHead).values(seq=last.seq + 1, record_hash=digest))


@_tampering("rewritten history")
def _rewrite(store: Store) -> None:
    from sqlalchemy import update

    from cvis.audit.chain import GENESIS, record_digest
    from cvis.store.models import AuditHead
    from tests.test_audit import FORGED

    with store.session() as session:
        prev = GENESIS
        for record in session.scalars(select(AuditRecord).order_by(AuditRecord.seq)):
            fields = {k: getattr(record, k) for k in FORGED} | {"outcome": "success"}
            record.outcome = "success"
            record.prev_hash, record.record_hash = prev, record_digest(
                b"k" * 32, prev, record.seq, record.at, fields)
            prev = record.record_hash
        session.execute(update(AuditHead).values(record_hash=prev))


@pytest.mark.parametrize("kind", sorted(TAMPERINGS))
def test_cli_audit_verify_exits_1_for_each_tampering(
    cli_env: Any, runner: Any, kind: str
) -> None:
    from cvis.cli.app import app

    for name in ("Agency A", "Agency B", "Agency C"):
        assert runner.invoke(app, ["agency", "add", name]).exit_code == 0
    assert runner.invoke(app, ["audit", "verify"]).exit_code == 0
    store = Store(cli_env)
    TAMPERINGS[kind](store)
    store.dispose()
    result = runner.invoke(app, ["audit", "verify"])
    assert result.exit_code == 1, (kind, result.output)


def test_cli_audit_verify_exits_1_for_an_older_copy_of_the_database(
    tmp_path: Path, runner: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import shutil

    from cvis.cli.app import app

    home = tmp_path / "home"
    monkeypatch.setenv("CVIS_HOME", str(home))
    monkeypatch.delenv("CVIS_DATABASE_URL", raising=False)
    assert runner.invoke(app, ["agency", "add", "Agency A"]).exit_code == 0
    gc.collect()
    shutil.copy(home / "cvis.db", tmp_path / "copy.db")
    for name in ("Agency B", "Agency C"):
        assert runner.invoke(app, ["agency", "add", name]).exit_code == 0
    assert runner.invoke(app, ["audit", "verify"]).exit_code == 0
    gc.collect()  # the commands' engines, so no connection holds the old file
    for suffix in ("-wal", "-shm"):
        (home / f"cvis.db{suffix}").unlink(missing_ok=True)
    shutil.copy(tmp_path / "copy.db", home / "cvis.db")
    result = runner.invoke(app, ["audit", "verify"])
    assert result.exit_code == 1 and "checkpoint" in result.output
