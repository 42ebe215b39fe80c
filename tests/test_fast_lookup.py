"""The lookup hot path (cvis.api.fast_lookup): the same answers and audit records as the whole
application, for every caller and set relation; concurrent lookups matched and recorded
together, each exactly once, the chain intact."""

from __future__ import annotations

import asyncio
import json
import secrets
import time
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import orjson
import pytest
from fastapi import HTTPException
from sqlalchemy import select

from cvis.accounts.credentials import token_digest
from cvis.accounts.service import revoke_token
from cvis.api import fast_lookup
from cvis.api.fast_lookup import FastLookup
from cvis.api.lookup_batch import HEX_LENGTHS, parse_hex_batch
from cvis.api.lookup_body import parse_lookup_body
from cvis.audit.log import verify_log
from cvis.hashsets.feedback import record_feedback
from cvis.identify.matcher import Matcher, Query
from cvis.store.db import Store
from cvis.store.models import ApiToken, AuditRecord
from tests.service_helpers import bearer, make_accounts, make_client
from tests.trust_helpers import World, build_world

# The hot path trusts cached answers only and keeps the matcher fresh in the background.
FAST = {"cache_seconds": 60.0, "index_refresh_seconds": 60.0, "background_refresh": True}
# Batches above this many values are matched on a thread, smaller ones on the event loop; the
# test lowers the limit from its 5000 so both sides of it are crossed with a tenth the values.
INLINE_QUERIES = 500
AUDITED = ("component", "event", "user", "agency", "outcome", "client", "object", "purpose",
           "detail", "claimed")


def _last_record(store: Store) -> dict[str, Any]:
    with store.session() as session:
        record = session.scalars(select(AuditRecord).order_by(AuditRecord.seq.desc())).first()
        assert record is not None
        return {name: getattr(record, name) for name in AUDITED}


def _requests(world: World) -> list[tuple[str, str, str, str, dict[str, Any]]]:
    """(agency, role, method, url, kwargs): happy lookups and every kind of refusal."""
    md5 = world.md5
    unknown = secrets.token_hex(16)
    rows: list[tuple[str, str, str, str, dict[str, Any]]] = []
    for agency in ("Agency A", "Agency B"):
        rows.append((agency, "auditor", "GET",  # the auditor holds no lookup right: 403
                     f"/api/v1/lookup?signal=md5&value={md5['public']}", {}))
        rows.append((agency, "auditor", "POST", "/api/v1/lookup",
                     {"json": {"signal": "md5", "values": [md5["public"]]}}))
        for role in ("analyst",):
            for name in md5:
                rows.append((agency, role, "GET", f"/api/v1/lookup?signal=md5&value={md5[name]}",
                             {}))
                rows.append((agency, role, "GET",
                             f"/api/v1/lookup?signal=md5&value={md5[name]}&sets={name}", {}))
            rows += [
                (agency, role, "GET", f"/api/v1/lookup?signal=MD5&value={unknown.upper()}", {}),
                (agency, role, "GET", "/api/v1/lookup?signal=md5&value=xyz", {}),
                (agency, role, "GET", f"/api/v1/lookup?signal=pdq&value={'0' * 64}", {}),
                (agency, role, "GET", f"/api/v1/lookup?signal=md5&value={unknown}&purpose=other",
                 {}),
                (agency, role, "GET", f"/api/v1/lookup?signal=md5&value={unknown}&purpose=test",
                 {}),
                (agency, role, "GET", f"/api/v1/lookup?signal=md5&signal=md5&value={unknown}",
                 {}),
                (agency, role, "POST", "/api/v1/lookup",
                 {"json": {"signal": "md5", "values": [*md5.values(), unknown]}}),
                (agency, role, "POST", "/api/v1/lookup",
                 {"json": {"signal": "md5", "values": [md5["public"].upper(), unknown]}}),
                (agency, role, "POST", "/api/v1/lookup",
                 {"json": {"signal": "md5", "values": [unknown], "sets": ["b-private"]}}),
                (agency, role, "POST", "/api/v1/lookup",
                 {"json": {"hashes": [{"signal": "md5", "value": md5["b-shared"]}]}}),
                (agency, role, "POST", "/api/v1/lookup", {"json": {"signal": "md5",
                                                                   "values": ["x"]}}),
                (agency, role, "POST", "/api/v1/lookup?purpose=test",
                 {"json": {"signal": "md5", "values": [md5["a-own"]]}}),
                (agency, role, "POST", "/api/v1/lookup", {"content": b"{not json"}),
            ]
    many = [f"{n:032x}" for n in range(INLINE_QUERIES)] + [md5["public"]]  # on a thread
    rows.append(("Agency B", "analyst", "POST", "/api/v1/lookup",
                 {"json": {"signal": "md5", "values": many}}))
    for agency in ("Agency A", "Agency B"):  # large batches, hits in every kind of set
        for size in (INLINE_QUERIES // 2, 3 * INLINE_QUERIES):  # on the loop; on a thread
            rows.append((agency, "analyst", "POST", "/api/v1/lookup",
                         {"json": {"signal": "md5", "values": _mixed(md5, size)}}))
        rows.append((agency, "analyst", "POST", "/api/v1/lookup",  # A: metadata hidden
                     {"json": {"signal": "md5", "values": _mixed(md5, 2 * INLINE_QUERIES),
                               "sets": ["b-shared", "public"]}}))
        rows.append((agency, "analyst", "POST", "/api/v1/lookup",  # no known sha1 at all
                     {"json": {"signal": "sha1", "values": [secrets.token_hex(20)] * 50}}))
    return rows


def _mixed(md5: dict[str, str], size: int) -> list[str]:
    """``size`` values, one in seven a known md5 of some set (repeats included)."""
    known = list(md5.values())
    return [known[(n // 7) % len(known)] if n % 7 == 3 else f"{n * 7919:032x}"
            for n in range(size)]


def test_hot_path_answers_and_records_as_the_application_does(
    sqlite_store: Store, tmp_path: Path, sample_pictures: dict[str, Path],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(fast_lookup, "INLINE_QUERIES", INLINE_QUERIES)
    world = build_world(sqlite_store, tmp_path, sample_pictures, **FAST)
    with sqlite_store.session() as session:  # Agency A marks a public match false positive
        record_feedback(session, world.matches["Agency A"], "false_positive",
                        examiner="analyst-Agency A", agency="Agency A")
    slow = make_client(sqlite_store, world.evidence, **FAST, fast_lookup=False)
    fast_app = world.client.app
    fast: FastLookup = fast_app.fast  # type: ignore[attr-defined]
    answered = 0
    original = fast._answer

    async def counting(*args: Any) -> None:
        nonlocal answered
        answered += 1
        await original(*args)

    fast._answer = counting  # type: ignore[method-assign]
    for agency in ("Agency A", "Agency B"):  # warm the caches the hot path reads
        for role in ("analyst", "auditor"):
            world.client.get(f"/api/v1/lookup?signal=md5&value={'0' * 32}",
                             headers=world.headers(agency, role))
    answered, differences = 0, []
    requests = _requests(world)
    for agency, role, method, url, kwargs in requests:
        headers = world.headers(agency, role)
        a = world.client.request(method, url, headers=headers, **kwargs)
        record_a = _last_record(sqlite_store)
        b = slow.request(method, url, headers=headers, **kwargs)
        record_b = _last_record(sqlite_store)
        if (a.status_code, a.content, record_a) != (b.status_code, b.content, record_b):
            differences.append(f"{agency} {role} {method} {url} {kwargs}: "
                               f"{a.status_code} {a.text[:200]} {record_a} | "
                               f"{b.status_code} {b.text[:200]} {record_b}")
    assert not differences, "\n".join(differences)
    # Took the hot path: the analysts' well-formed lookups of sets they may match, with no
    # purpose or their token's own: per agency 4 GETs of every set + 3 naming a set it sees,
    # the unknown (upper case), PDQ and purpose=test GETs, and the compact, upper-case,
    # long-form and purpose=test POSTs; B's POST naming b-private too (A's is a 404).
    assert answered == 2 * (4 + 3 + 3 + 4) + 1 + 1 + 2 * 4  # and the large batches
    suppressed = world.client.get(f"/api/v1/lookup?signal=md5&value={world.md5['public']}",
                                  headers=world.headers("Agency A", "analyst")).json()
    assert suppressed["results"][0]["matches"] == [], "A's own false-positive verdict hides it"
    assert verify_log(sqlite_store).intact


@pytest.mark.parametrize("signal", sorted(HEX_LENGTHS))
def test_the_batch_shortcut_takes_only_values_its_validator_keeps(signal: str) -> None:
    length = HEX_LENGTHS[signal]
    normal = [secrets.token_hex(length // 2) for _ in range(3)]
    raw = orjson.dumps({"signal": signal, "values": normal})
    batch = parse_hex_batch(raw)
    assert batch is not None and batch.queries() == parse_lookup_body(raw)[0]
    for odd in (normal[0].upper(), f" {normal[0]}", normal[0][:-1], "g" * length, 7, "é" * length):
        assert parse_hex_batch(orjson.dumps({"signal": signal, "values": [odd]})) is None, odd


def test_the_batch_shortcut_reads_any_layout_as_the_json_parser_does() -> None:
    """The values are read from the raw bytes: every layout gives the parser's queries, or
    None (then the parser decides), never other values."""
    values = [secrets.token_hex(16) for _ in range(4)]
    a, b = values[0].encode(), values[1].encode()
    bodies = [
        orjson.dumps({"signal": "md5", "values": values}),
        json.dumps({"signal": "md5", "values": values}).encode(),
        json.dumps({"values": values, "sets": ["x"], "signal": "md5"}, indent=2).encode(),
        b'{"signal":"md5","values":[ "%s" ,\n "%s" ] }' % (a, b),
        b'{"signal":"md5","values":["%s"],"values":["%s"]}' % (a, b),
        b'{"signal":"md5","sets":[",\\"values\\":["],"values":["%s"]}' % a,
        b'{"signal":"md5","values":["%s"\x0b,"%s"]}' % (a, b),
        b'{"signal":"md5","values":["%s","%s"]' % (a, b),
        b'{"signal":"md5","values":["%s","%s", 7]}' % (a, b),
        b'{"signal":"md5","values":["%s","%sff"]}' % (a, b[:-2]),
    ]
    for raw in bodies:
        batch = parse_hex_batch(raw)
        try:
            expected = parse_lookup_body(raw)[0]
        except HTTPException:
            assert batch is None, raw
            continue
        assert batch is None or batch.queries() == expected, raw
        if batch is not None:
            assert batch.digests().tobytes() == b"".join(
                bytes.fromhex(q.value) for q in expected)
    assert all(parse_hex_batch(raw) is not None for raw in bodies[:6])


REQUESTS = 120


def test_a_flood_of_lookups_is_recorded_once_each_in_an_intact_chain(
    store: Store, tmp_path: Path
) -> None:
    tokens = make_accounts(store)
    client = make_client(store, tmp_path, **FAST)
    app = client.app
    writer = app.state.services.audit  # type: ignore[attr-defined]
    batches: list[int] = []
    flush = writer._flush

    def counted(batch: list[Any]) -> None:
        batches.append(len(batch))
        flush(batch)

    writer._flush = counted
    headers = bearer(tokens["analyst"])
    assert client.get(f"/api/v1/lookup?signal=md5&value={'0' * 32}",
                      headers=headers).status_code == 200  # fills the caches
    with store.session() as session:
        before = session.scalar(select(AuditRecord.seq).order_by(AuditRecord.seq.desc()))
    values = [f"{n:032x}" for n in range(REQUESTS)]
    bad = {n for n in range(0, REQUESTS, 10)}  # malformed: the application's 400, recorded

    async def flood() -> list[int]:
        transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
        async with httpx.AsyncClient(transport=transport, base_url="http://cvis") as http:
            async def one(n: int) -> int:
                value = values[n] + ("z" if n in bad else "")
                r = await http.get(f"/api/v1/lookup?signal=md5&value={value}", headers=headers)
                return r.status_code

            return await asyncio.gather(*(one(n) for n in range(REQUESTS)))

    statuses = asyncio.run(flood())
    assert statuses == [400 if n in bad else 200 for n in range(REQUESTS)]
    with store.session() as session:
        objects = session.scalars(select(AuditRecord.object).where(
            AuditRecord.seq > before, AuditRecord.event.in_(["lookup", "GET /api/v1/lookup"])
        )).all()
    wanted = [f"md5:{values[n]}" for n in range(REQUESTS) if n not in bad]
    assert sorted(o for o in objects if o.startswith("md5:")) == sorted(wanted)
    assert len([o for o in objects if "?signal" in o]) == len(bad)
    assert len(objects) == REQUESTS, "one record per request, no more"
    assert max(batches) > 1, "concurrent requests' records were committed together"
    report = verify_log(store)
    assert report.intact, report.problem


def test_digests_are_matched_from_arrays_as_from_queries(
    sqlite_store: Store, tmp_path: Path, sample_pictures: dict[str, Path]
) -> None:
    world = build_world(sqlite_store, tmp_path, sample_pictures)
    with sqlite_store.session() as session:
        record_feedback(session, world.matches["Agency A"], "false_positive",
                        examiner="analyst-Agency A", agency="Agency A")
    values = _mixed(world.md5, 3000)
    batch = parse_hex_batch(orjson.dumps({"signal": "md5", "values": values}))
    assert batch is not None
    assert batch.digests().tobytes() == b"".join(bytes.fromhex(v) for v in values)
    with sqlite_store.session() as session:
        for names in (None, ["b-shared", "a-own"]):
            matcher = Matcher(session, names)
            queries = [Query("md5", v) for v in values]
            want = matcher.match_columns(queries)
            got = matcher.match_digests("md5", batch.digests())
            assert got is not None and got.queries.size == want.queries.size > 0
            for name in ("queries", "rows", "distances"):
                assert np.array_equal(getattr(got, name), getattr(want, name)), name
            assert got.facts.media_id == want.facts.media_id
            assert matcher.match_digests("pdq", np.zeros((1, 32), np.uint8)) is None


def test_a_revoked_token_leaves_the_hot_path_within_the_cache_life(
    store: Store, tmp_path: Path
) -> None:
    """The hot path remembers a caller only beside the cached principal: a revoked token
    is refused (by the application, 401) once the principal cache lets it go."""
    token = make_accounts(store)["analyst"]
    with store.session() as session:
        token_id = session.scalar(select(ApiToken.id).where(
            ApiToken.token_sha256 == token_digest(token)))
        assert token_id is not None
    life = 0.5
    client = make_client(store, tmp_path, cache_seconds=life, index_refresh_seconds=60.0,
                         background_refresh=True)
    url = f"/api/v1/lookup?signal=md5&value={'0' * 32}"
    assert all(client.get(url, headers=bearer(token)).status_code == 200 for _ in range(3))
    with store.session() as session:
        revoke_token(session, token_id)
    revoked, statuses = time.monotonic(), []
    while time.monotonic() - revoked < life + 2.0 and 401 not in statuses:
        statuses.append(client.get(url, headers=bearer(token)).status_code)
        time.sleep(0.02)
    assert statuses[-1] == 401, statuses
    assert time.monotonic() - revoked < life + 1.0  # within the cache's life (and a renewal)
