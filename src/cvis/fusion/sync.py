"""Subjects kept up to date from the latest `cvis link run` without a month run.

`cvis target list` calls this first: when the linkage state holds a run not yet taken in,
its links (rejected ones excluded) become subjects and facts through the linkage's public
review queue (the registrant's and the index record's data, the match probability, the
person grouping). Cheap when nothing is new.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from cvis.fusion import ingest
from cvis.fusion.subjects import FactIn, add_fact, ensure_subject, subject_key
from cvis.linkage import service as linkage
from cvis.linkage.review import ReviewItem
from cvis.store.db import Store

_SKIP = ("id", "_row")


def _marker(store: Store) -> Path:
    return store.settings.home / "fusion" / "linkage-synced.json"


def synced_run(store: Store, state: Path) -> int:
    path = _marker(store)
    if not path.is_file():
        return 0
    return int(json.loads(path.read_text(encoding="utf-8")).get(str(state.resolve()), 0))


def mark_synced(store: Store, state: Path, run_id: int) -> None:
    path = _marker(store)
    path.parent.mkdir(parents=True, exist_ok=True)
    doc = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
    doc[str(state.resolve())] = run_id
    path.write_text(json.dumps(doc), encoding="utf-8")


def latest_run_id(state: Path) -> int:
    from cvis.linkage.state import LinkageState

    with LinkageState(state, purpose="fusion: latest run") as st:
        return st.latest_run_id() or 0


def sync_from_linkage(store: Store, state: Path, agency: str = "", by: str = "") -> int:
    """Take in the linkage state's latest run if it is new; returns the facts added.

    The linkage state is read before the store's transaction opens (it audits too)."""
    if not (state / "linkage.duckdb").exists():
        return 0
    run_id = latest_run_id(state)
    if run_id == 0 or run_id <= synced_run(store, state):
        return 0
    items = [i for i in linkage.review_queue(state, include_decided=True)
             if i.status != "rejected"]
    counts = ingest.IngestCounts()
    with store.session() as session:
        for item in items:
            _take_in(session, item, agency, by, counts)
        session.flush()
        links = pd.DataFrame([{"registry_id": i.registry_id, "index": i.index,
                               "record_id": i.record_id,
                               "match_probability": i.match_probability,
                               "agreement": i.agreement, "person_id": i.person_id}
                              for i in items])
        ingest.propose_merges(session, links, counts)
    mark_synced(store, state, run_id)
    return counts.facts


def _take_in(session: object, item: ReviewItem, agency: str, by: str,
             counts: ingest.IngestCounts) -> None:
    from sqlalchemy.orm import Session

    assert isinstance(session, Session)
    at = datetime.now(UTC)
    subject = ensure_subject(session, subject_key(item.registry_id), agency, item.office)
    for name, value in item.registrant.items():
        if name not in _SKIP and value not in (None, ""):
            counts.facts += add_fact(session, subject, FactIn(
                name, value, "registry", item.registry_id, at, 1.0), by)
    confidence = 1.0 if item.status == "confirmed" else item.match_probability
    for name, value in item.record.items():
        if name not in _SKIP and value not in (None, ""):
            counts.facts += add_fact(session, subject, FactIn(
                name, value, "link", f"{item.index}:{item.record_id}", at, confidence), by)
