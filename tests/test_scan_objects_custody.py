"""Objects in a store as evidence: the custody record of a scanned prefix (or object) and its
verification, and API scans of URIs only under the object-store roots the server allows
(a real S3-compatible server on loopback, on SQLite and PostgreSQL)."""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner

from cvis.api.scan_jobs import ScanRefused, check_paths
from cvis.api.settings import uri_roots
from cvis.cases.models import EvidenceManifest
from cvis.cases.service import get_or_create_case
from cvis.cli.app import app
from cvis.config import Settings
from cvis.evidence.custody import (
    folder_manifest,
    manifest_sha256,
    register_evidence,
    verify_evidence,
)
from cvis.evidence.objects import object_manifest
from cvis.hashing import hash_item
from cvis.media.folders import file_item
from cvis.media.objects import ObjectStoreError, object_digest, within_root
from cvis.store.db import Store
from cvis.store.models import AuditRecord
from tests.object_store_helpers import ObjectStore
from tests.service_helpers import bearer, make_accounts, make_client

BUCKET = "evidence"


def phone(folder: Path) -> Path:
    """Three small benign files in two folders."""
    (folder / "DCIM").mkdir(parents=True)
    (folder / "notes.txt").write_text("shopping list\n")
    (folder / "DCIM" / "a.txt").write_text("benign a\n")
    (folder / "DCIM" / "b.txt").write_text("benign b\n")
    return folder


def evidence_records(runner: CliRunner, case: str) -> dict[str, dict[str, Any]]:
    listing = runner.invoke(app, ["evidence", "list", "--case", case, "--json"])
    assert listing.exit_code == 0, listing.output
    return {r["kind"]: r for r in map(json.loads, listing.stdout.splitlines())}


def test_a_scanned_prefix_and_object_are_recorded_and_verify_names_every_change(
    cli_env: Settings, runner: CliRunner, object_store: ObjectStore, tmp_path: Path
) -> None:
    folder = phone(tmp_path / "phone")
    client = object_store.client()
    if BUCKET not in {b["Name"] for b in client.list_buckets()["Buckets"]}:
        client.create_bucket(Bucket=BUCKET)
    client.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    prefix = object_store.upload(folder, BUCKET, f"{tmp_path.name}/phone")
    card_key = f"{tmp_path.name}/card/card.bin"
    client.put_object(Bucket=BUCKET, Key=card_key, Body=b"benign card image")
    card = f"s3://{BUCKET}/{card_key}"
    scanned = runner.invoke(app, ["scan", prefix, card, "--case", "S-1", "--workers", "1",
                                  "-q", "--acquired-by", "Examiner A"])
    assert scanned.exit_code == 0, scanned.output
    records = evidence_records(runner, "S-1")
    assert (records["prefix"]["source"], records["prefix"]["files"]) == (prefix, 3)
    assert records["prefix"]["sha256"] == manifest_sha256(folder_manifest(folder)), \
        "the prefix's manifest is the folder's it was uploaded from"
    assert (records["object"]["source"], records["object"]["size"]) == (card, 17)
    assert records["object"]["sha256"] == hashlib.sha256(b"benign card image").hexdigest()
    with Store(cli_env).session() as session:
        rows = session.get_one(EvidenceManifest, records["prefix"]["id"]).files
    assert [r[0] for r in rows] == ["DCIM/a.txt", "DCIM/b.txt", "notes.txt"]
    assert all(set(r[3]) == {"etag", "version_id", "last_modified"} for r in rows)
    recorded_version = dict((r[0], r[3]["version_id"]) for r in rows)["DCIM/b.txt"]

    same = runner.invoke(app, ["evidence", "verify", "--case", "S-1"])
    assert same.exit_code == 0 and same.output.count("unchanged") == 2, same.output

    key = f"{tmp_path.name}/phone"
    client.put_object(Bucket=BUCKET, Key=f"{key}/DCIM/b.txt", Body=b"swapped\n")
    client.put_object(Bucket=BUCKET, Key=f"{key}/DCIM/planted.txt", Body=b"not evidence\n")
    client.delete_object(Bucket=BUCKET, Key=f"{key}/notes.txt")
    client.put_object(Bucket=BUCKET, Key=card_key, Body=b"benign card image")  # same bytes
    changed = runner.invoke(app, ["evidence", "verify", "--case", "S-1"])
    assert changed.exit_code == 1, changed.output
    out = " ".join(changed.output.split())
    assert "CHANGED since it was recorded: 3 difference(s)" in out
    assert "added: DCIM/planted.txt (13 bytes" in out and "removed: notes.txt" in out
    assert "changed: DCIM/b.txt" in out and f"version_id {recorded_version}, now" in out
    assert "unchanged" in out and "store: card.bin (same bytes; " in out, "rewritten in place"

    client.put_object(Bucket=BUCKET, Key=card_key, Body=b"another card")
    gone = runner.invoke(app, ["evidence", "verify", str(records["object"]["id"])])
    assert gone.exit_code == 1 and "changed: card.bin" in " ".join(gone.output.split())


def test_uri_roots_match_scheme_bucket_and_key_prefix_at_a_slash() -> None:
    roots = uri_roots("s3://evidence/case-1  S3://whole/\n")
    assert roots == ("s3://evidence/case-1", "s3://whole/")
    inside = ["s3://evidence/case-1", "s3://evidence/case-1/", "s3://evidence/case-1/a/b.jpg",
              "S3://evidence/case-1/x", "s3://whole/anything/at/all"]
    outside = ["s3://evidence/case-10/", "s3://evidence-x/case-1/", "s3://evidence/case-",
               "s3://Evidence/case-1/", "s3://evidence/Case-1/", "gs://evidence/case-1/",
               "s3://evidence/other/case-1/", "s3://evidence/case-1?x", "s3://wholes/a"]
    assert [check_paths([u], (), roots) for u in inside] == [[u.replace("S3:", "s3:")]
                                                           for u in inside]
    for uri in outside:
        assert not any(within_root(uri, root) for root in roots), uri
        with pytest.raises(ScanRefused, match="outside the object-store evidence roots"):
            check_paths([uri], (), roots)
    for trick in ["s3://evidence/case-1/../case-2/", "s3://evidence/case-1/./x",
                  "s3://evidence/case-1//x", "s3://evidence/case-1/a\\..\\b",
                  "s3://evidence/case-1/\x00"]:
        with pytest.raises(ScanRefused, match="refused"):
            check_paths([trick], (), roots)
    with pytest.raises(ObjectStoreError, match="credentials"):
        check_paths(["s3://AKIAEXAMPLE:hunter2@evidence/case-1/"], (), roots)
    with pytest.raises(ScanRefused, match="no object-store evidence roots"):
        check_paths(["s3://evidence/case-1/"], (Path("/ev"),), ())
    for bad in ["/local/folder", "s3://key:secret@evidence/", "s3://evidence/a/../b"]:
        with pytest.raises(ValueError, match="CVIS_EVIDENCE_URI_ROOTS") as refused:
            uri_roots(bad)
        assert "secret" not in str(refused.value)


def _wait(client: TestClient, scan_id: int, token: str) -> dict[str, Any]:
    for _ in range(600):
        status: dict[str, Any] = client.get(f"/api/v1/scans/{scan_id}",
                                            headers=bearer(token)).json()
        if status["status"] != "running":
            return status
        time.sleep(0.05)
    raise AssertionError(f"scan {scan_id} still running")


def test_api_scans_a_uri_under_an_allowed_root_as_the_cli_does_and_refuses_the_rest(
    store: Store, cli_env: Settings, runner: CliRunner, object_store: ObjectStore,
    tmp_path: Path, sample_pictures: dict[str, Path],
) -> None:
    folder = tmp_path / "seized"
    folder.mkdir()
    (folder / "cat.png").write_bytes(sample_pictures["chelsea"].read_bytes())
    (folder / "notes.txt").write_text("shopping list\n")
    prefix = object_store.upload(folder, BUCKET, f"{tmp_path.name}/case-1")
    object_store.upload(folder, BUCKET, f"{tmp_path.name}/case-10")
    tokens = make_accounts(store)
    client = make_client(store, tmp_path / "nowhere",
                         evidence_uri_roots=(f"s3://{BUCKET}/{tmp_path.name}/case-1",))
    picture = hash_item(file_item(sample_pictures["chelsea"]))
    known = f"media_id,md5,pdq,category,series,victim_identified\nK-1,{picture.md5}," \
            f"{picture.pdq},1,S,true\n".encode()
    assert client.post("/api/v1/sets/known/import", headers=bearer(tokens["curator"]),
                       files={"file": ("known.csv", known, "text/csv")}).status_code == 200

    submitted = client.post("/api/v1/scans", headers=bearer(tokens["examiner"]),
                            json={"case": "API-1", "paths": [prefix]})
    assert submitted.status_code == 202, submitted.text
    scan_id = submitted.json()["scan_id"]
    assert _wait(client, scan_id, tokens["examiner"])["status"] == "completed"
    items = client.get(f"/api/v1/scans/{scan_id}/results",
                       headers=bearer(tokens["examiner"])).json()["items"]
    by_cli = runner.invoke(app, ["scan", prefix, "--case", "CLI-1", "--sets", "known",
                                 "--workers", "1", "-q"])
    assert by_cli.exit_code == 0, by_cli.output
    fields = ("path", "size", "md5", "sha256", "pdq", "error")

    def rows(found: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
        return sorted((*(r[f] for f in fields),
                       tuple(sorted((m["media_id"], m["signal"]) for m in r["matches"])))
                      for r in found)

    assert rows(items) == rows([json.loads(line) for line in by_cli.stdout.splitlines()])
    assert [r[6] for r in rows(items)] == [(("K-1", "md5"), ("K-1", "pdq")), ()]
    assert evidence_records(runner, "API-1")["prefix"]["files"] == 2, "custody recorded"

    refused = {
        f"s3://{BUCKET}/{tmp_path.name}/case-10/": 403,
        f"s3://{BUCKET}-x/{tmp_path.name}/case-1/": 403,
        f"s3://{BUCKET}/{tmp_path.name}/case-1/../case-10/": 403,
        f"s3://AKIAEXAMPLE:hunter2@{BUCKET}/{tmp_path.name}/case-1/": 400,
    }
    for uri, code in refused.items():
        answer = client.post("/api/v1/scans", headers=bearer(tokens["examiner"]),
                             json={"case": "API-2", "paths": [uri]})
        assert answer.status_code == code, (uri, answer.text)
    with store.session() as session:
        audit = list(session.scalars(select(AuditRecord).where(
            AuditRecord.event == "scan.submit").order_by(AuditRecord.seq)))
    assert [(r.outcome, r.detail.split(":")[0]) for r in audit[1:]] == [
        ("denied", "HTTP 403"), ("denied", "HTTP 403"), ("denied", "HTTP 403"),
        ("failure", "HTTP 400")]
    assert "outside the object-store evidence roots" in audit[1].detail
    assert "case-10" in audit[1].object and "-x/" in audit[2].object
    assert "credentials" in audit[4].detail
    assert not any("hunter2" in r.object + r.detail for r in audit)


def test_an_object_rewritten_while_it_is_read_is_read_again_or_recorded_unreadable(
    store: Store, object_store: ObjectStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each chunk is a ranged GET: the store is asked again after the last one. An object
    never read is never verified "unchanged"."""
    client = object_store.client()
    if BUCKET not in {b["Name"] for b in client.list_buckets()["Buckets"]}:
        client.create_bucket(Bucket=BUCKET)
    client.put_object(Bucket=BUCKET, Key=f"{tmp_path.name}/x.bin", Body=b"benign")
    uri = f"s3://{BUCKET}/{tmp_path.name}/x.bin"
    said = iter([{"etag": "1"}, {"etag": "2"}, {"etag": "2"}, {"etag": "2"}])
    monkeypatch.setattr("cvis.media.objects.store_facts", lambda metadata: next(said))
    assert object_digest(uri) == (6, hashlib.sha256(b"benign").hexdigest(), {"etag": "2"})
    assert next(said, None) is None, "read twice, asked four times"
    always = iter(range(100))
    monkeypatch.setattr("cvis.media.objects.store_facts", lambda m: {"etag": str(next(always))})
    manifest = object_manifest(uri)
    assert manifest is not None and manifest.kind == "object"
    assert manifest.entries[0].sha256 == "unreadable: the object changed each time it was read"
    with store.session() as session:
        evidence = register_evidence(session, get_or_create_case(session, "U-1").id, uri)
        assert evidence is not None and evidence.kind == "object"
        result = verify_evidence(session, evidence.id)
    assert not result.unchanged and result.reason == "NOT VERIFIED: 1 object(s) could not be read"
    assert result.changes == ["still unreadable: x.bin (the object changed each time it was read)"]


def test_an_api_scan_of_a_uri_whose_worker_died_resumes_with_the_uri(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A resumed job is rebuilt from the scan row: a URI stays a URI (a Path folds its //)."""
    import cvis.api.scan_jobs as jobs
    from cvis.api.models import ApiScanJob
    from cvis.store.models import Case, Scan

    uri, folder = "s3://evidence/case-1/", "/ev/phone"
    with store.session() as session:
        case = Case(number="R-1", agency="Agency A")
        session.add(case)
        session.flush()
        scan = Scan(case_id=case.id, paths=[uri, folder], status="running")
        session.add(scan)
        session.flush()
        session.add(ApiScanJob(scan_id=scan.id, agency="Agency A", heartbeat_at=None))
    resumed: list[Any] = []
    monkeypatch.setattr(jobs, "claim_and_start",
                        lambda store, request, scan_id: resumed.append(request) or True)
    assert jobs.recover(store) == [scan.id]
    assert resumed[0].paths == [uri, Path(folder)]
