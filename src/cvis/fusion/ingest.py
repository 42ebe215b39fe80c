"""Facts in from every source: the registry, linked index records, tips, cases.

Each source adds facts with its own kind and reference; nothing overwrites what
another source said. Linked index records come from a `cvis link` run: their facts
carry the link's match probability as confidence, and two registrants linked to the
same person become a merge *proposal* for a person to confirm.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any, Protocol

import pandas as pd
from sqlalchemy.orm import Session

from cvis.fusion.subjects import (
    FactIn,
    Subject,
    add_fact,
    ensure_subject,
    get_subject,
    propose_merge,
    retract_facts,
    subject_key,
)
from cvis.linkage.mapping import ROW, SourceTable

OfficeOf = Callable[[dict[str, Any]], str]
_SKIP = {ROW, "id"}


def _when(day: date) -> datetime:
    return datetime.combine(day, time(0), UTC)


def _facts(record: dict[str, Any], kind: str, ref: str, at: datetime,
           confidence: float) -> Iterator[FactIn]:
    for name, value in record.items():
        if name in _SKIP or value is None or (isinstance(value, float) and pd.isna(value)):
            continue
        if isinstance(value, str) and value.strip().lower() in ("true", "false"):
            value = value.strip().lower() == "true"
        yield FactIn(name, value, kind, ref, at, confidence)


@dataclass
class IngestCounts:
    subjects: int = 0
    facts: int = 0
    retracted: int = 0
    merges_proposed: int = 0


def ingest_registry(session: Session, table: SourceTable, as_of: date, agency: str,
                    office_of: OfficeOf, counts: IngestCounts, by: str = "") -> None:
    """Every registrant is a subject; every field and attribute a fact from the registry."""
    at = _when(as_of)
    for record in table.frame.to_dict("records"):
        rid = str(record["id"])
        subject = ensure_subject(session, subject_key(rid), agency, office_of(record))
        counts.subjects += 1
        for fact in _facts(record, "registry", rid, at, 1.0):
            counts.facts += add_fact(session, subject, fact, by)


def ingest_links(session: Session, links: pd.DataFrame, tables: dict[str, SourceTable],
                 as_of: date, counts: IngestCounts, by: str = "") -> None:
    """Facts from each linked index record, with the link's probability as confidence."""
    at = _when(as_of)
    records = {name: t.frame.set_index(t.frame["id"].astype(str)) for name, t in tables.items()}
    for link in links.to_dict("records"):
        frame = records.get(str(link["index"]))
        rid, rec = str(link["registry_id"]), str(link["record_id"])
        if frame is None or rec not in frame.index:
            continue
        subject = get_subject(session, subject_key(rid))
        data = frame.loc[rec].to_dict()
        ref = f"{link['index']}:{rec}"
        for fact in _facts(data, "link", ref, at, float(link["match_probability"])):
            counts.facts += add_fact(session, subject, fact, by)
    propose_merges(session, links, counts)


def propose_merges(session: Session, links: pd.DataFrame, counts: IngestCounts) -> None:
    """Registrants the linkage engine grouped as one person: merge candidates."""
    if links.empty or "person_id" not in links.columns:
        return
    for person, group in links.groupby("person_id"):
        ids = sorted({str(r) for r in group["registry_id"]})
        kept = get_subject(session, subject_key(ids[0]))
        for other in ids[1:]:
            evidence = {"person_id": str(person), "links": [
                {"registry_id": str(r.registry_id), "index": str(r.index),
                 "record_id": str(r.record_id), "match_probability": float(r.match_probability),
                 "agreement": str(getattr(r, "agreement", ""))}
                for r in group.itertuples()]}
            if propose_merge(session, kept, get_subject(session, subject_key(other)), evidence):
                counts.merges_proposed += 1


def retract_ended(session: Session, changes: pd.DataFrame, counts: IngestCounts,
                  run_id: int) -> None:
    """A link that ended this month no longer speaks for the subject."""
    for row in changes[changes["change"] == "ended"].to_dict("records"):
        try:
            subject = get_subject(session, subject_key(str(row["registry_id"])))
        except ValueError:
            continue
        counts.retracted += retract_facts(session, subject, "link",
                                          f"{row['index']}:{row['record_id']}",
                                          f"link ended in run {run_id}")


# ---------------------------------------------------------------------- tips


@dataclass(frozen=True)
class TipRecord:
    """A tip (or lead) naming someone: joined to a subject only on exact name and birth date."""

    ref: str
    name: str
    dob: str
    received_at: datetime


class TipSource(Protocol):
    def tips(self, session: Session) -> Iterable[TipRecord]: ...


class TipFile:
    """Tips as JSON lines: {"tip_id", "name", "dob", "received_at"} (generated months, tests)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def tips(self, session: Session) -> Iterable[TipRecord]:
        for line in self.path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                doc = json.loads(line)
                yield TipRecord(f"tip:{doc['tip_id']}", doc.get("name", ""), doc.get("dob", ""),
                                datetime.fromisoformat(doc["received_at"]))


class TipsLeads:
    """Tips from `cvis.tips` through its public service functions (``iter_leads`` and
    ``show_lead``, which check need-to-know and audit); no tips when it is not installed."""

    def __init__(self, actor: Any) -> None:
        self.actor = actor

    def tips(self, session: Session) -> Iterable[TipRecord]:
        try:
            from cvis.tips import service as tips_service
        except ImportError:
            return
        for lead in list(tips_service.iter_leads(session, self.actor)):
            shown = tips_service.show_lead(session, self.actor, lead.id)
            for tip in shown.get("tips", []):
                who = tip.get("subject") or {}
                if who.get("name") and who.get("dob"):
                    yield TipRecord(f"lead:{lead.id}/tip:{tip['tip_id']}", str(who["name"]),
                                    str(who["dob"]), datetime.fromisoformat(tip["received_at"]))


def _norm(name: str) -> str:
    return re.sub(r"[^a-z ]", "", " ".join(name.lower().split()))


def ingest_tips(session: Session, source: TipSource, registry: SourceTable,
                counts: IngestCounts, by: str = "") -> None:
    """A tip whose subject has exactly a registrant's name and birth date joins that subject."""
    frame = registry.frame
    index: dict[tuple[str, str], str] = {}
    for rec in frame.to_dict("records"):
        name = " ".join(str(rec.get(k) or "") for k in ("given_names", "family_name")).strip()
        if name and rec.get("dob"):
            index[(_norm(name), str(rec["dob"]))] = str(rec["id"])
    for tip in source.tips(session):
        rid = index.get((_norm(tip.name), tip.dob))
        if rid is None:
            continue
        subject: Subject = get_subject(session, subject_key(rid))
        counts.facts += add_fact(session, subject, FactIn(
            "tip", tip.ref, "tip", tip.ref, tip.received_at, 1.0), by)


# ---------------------------------------------------------------------- cases


def ingest_cases(session: Session, counts: IngestCounts, by: str = "") -> None:
    """Subjects named in a case (a `case_number` fact): that case's hash matches say whether
    it produced new material, and whether it shows a victim not yet identified."""
    from sqlalchemy import select

    from cvis.fusion.models import Fact
    from cvis.store.models import Case, KnownMedia, Match, Scan, ScanItem

    named = session.execute(select(Fact.subject_pk, Fact.value).where(
        Fact.name == "case_number", Fact.retracted_at.is_(None))).all()
    for subject_pk, value in named:
        number = str(value.get("v"))
        case = session.scalar(select(Case).where(Case.number == number))
        if case is None:
            continue
        subject = session.get(Subject, subject_pk)
        assert subject is not None
        matched = (select(Scan.finished_at, KnownMedia.victim_identified)
                   .join(ScanItem, ScanItem.scan_id == Scan.id)
                   .join(Match, Match.item_id == ScanItem.id)
                   .join(KnownMedia, KnownMedia.id == Match.known_media_id)
                   .where(Scan.case_id == case.id))
        rows = session.execute(matched).all()
        if not rows:
            continue
        latest = max((r[0] for r in rows if r[0] is not None), default=None)
        at = latest or datetime.now(UTC)
        ref = f"case:{number}"
        counts.facts += add_fact(session, subject, FactIn(
            "case_new_material", at.date().isoformat(), "case", ref, at, 1.0), by)
        unidentified = sum(1 for r in rows if r[1] is False)
        if unidentified:
            counts.facts += add_fact(session, subject, FactIn(
                "unidentified_victim", True, "case", ref, at, 1.0), by)
