"""Subjects: person-centred records whose facts keep their source, time and confidence.

A fact is never overwritten. A source saying something else is a second fact beside
the first (``conflicts`` lists them); a wrong fact is retracted with a reason, not
deleted. Two subjects found to be one person are merged only when a person confirms
the proposal, and a merge can be undone: the merged subject's facts stay its own and
are shown under the survivor while the merge holds.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from cvis.fusion.common import aware, now
from cvis.fusion.models import Fact, Merge, Subject


class SubjectError(ValueError):
    """A request about subjects that cannot be honoured (unknown id, wrong state)."""


@dataclass(frozen=True)
class FactIn:
    """A fact as a source gives it."""

    name: str
    value: Any
    source_kind: str  # registry | link | tip | case | wanted | immigration | custody | analyst
    source_ref: str
    observed_at: datetime
    confidence: float = 1.0


@dataclass(frozen=True)
class FactView:
    name: str
    value: Any
    source_kind: str
    source_ref: str
    observed_at: datetime
    confidence: float
    subject_id: str  # the subject that holds it (differs from the viewed one under a merge)
    fact_id: int


def subject_key(registry_id: str) -> str:
    return f"S-{registry_id}"


def get_subject(session: Session, subject_id: str) -> Subject:
    found = session.scalar(select(Subject).where(Subject.subject_id == subject_id))
    if found is None:
        raise SubjectError(f"no such subject {subject_id}")
    return found


def ensure_subject(session: Session, subject_id: str, agency: str = "",
                   office: str = "") -> Subject:
    """The subject with this id, created on first sight; the office follows the latest source."""
    found = session.scalar(select(Subject).where(Subject.subject_id == subject_id))
    if found is None:
        found = Subject(subject_id=subject_id, agency=agency, office=office)
        session.add(found)
        session.flush()
    elif office and found.office != office:
        found.office = office
    return found


def add_fact(session: Session, subject: Subject, fact: FactIn, by: str = "") -> bool:
    """Record a fact unless this source already said exactly this; True when new."""
    same = session.scalars(select(Fact).where(
        Fact.subject_pk == subject.id, Fact.name == fact.name,
        Fact.source_kind == fact.source_kind, Fact.source_ref == fact.source_ref,
        Fact.retracted_at.is_(None)))
    for existing in same:
        if existing.value.get("v") == fact.value:
            return False
    session.add(Fact(subject_pk=subject.id, name=fact.name, value={"v": fact.value},
                     source_kind=fact.source_kind, source_ref=fact.source_ref,
                     observed_at=fact.observed_at, confidence=fact.confidence,
                     recorded_by=by))
    return True


def retract_facts(session: Session, subject: Subject, source_kind: str, source_ref: str,
                  reason: str) -> int:
    """Retract what one source said (e.g. a link found to be the wrong person)."""
    count = 0
    for fact in session.scalars(select(Fact).where(
            Fact.subject_pk == subject.id, Fact.source_kind == source_kind,
            Fact.source_ref == source_ref, Fact.retracted_at.is_(None))):
        fact.retracted_at, fact.retraction = now(), reason
        count += 1
    return count


def members(session: Session, subject: Subject) -> list[Subject]:
    """The subject and every subject merged into it (transitively)."""
    out, todo = [subject], [subject.id]
    while todo:
        found = list(session.scalars(select(Subject).where(Subject.merged_into.in_(todo))))
        out += found
        todo = [s.id for s in found]
    return out


def facts_of(session: Session, subject: Subject) -> list[FactView]:
    """Current facts of the subject and of those merged into it, oldest first."""
    group = {s.id: s.subject_id for s in members(session, subject)}
    rows = session.scalars(select(Fact).where(
        Fact.subject_pk.in_(list(group)), Fact.retracted_at.is_(None)).order_by(
        Fact.observed_at, Fact.id))
    return [FactView(f.name, f.value.get("v"), f.source_kind, f.source_ref,
                     aware(f.observed_at), f.confidence, group[f.subject_pk], f.id)
            for f in rows]


def conflicts(facts: list[FactView]) -> dict[str, list[FactView]]:
    """Facts of one name on which sources disagree, side by side."""
    by_name: dict[str, list[FactView]] = defaultdict(list)
    for fact in facts:
        by_name[fact.name].append(fact)
    return {name: group for name, group in by_name.items()
            if len({repr(f.value) for f in group}) > 1}


# ---------------------------------------------------------------------- merges


def propose_merge(session: Session, kept: Subject, merged: Subject,
                  evidence: dict[str, Any]) -> Merge | None:
    """A candidate merge (from the linkage engine); None if one is already open or decided."""
    if kept.id == merged.id:
        return None
    existing = session.scalar(select(Merge).where(
        ((Merge.kept_pk == kept.id) & (Merge.merged_pk == merged.id))
        | ((Merge.kept_pk == merged.id) & (Merge.merged_pk == kept.id)),
        Merge.status.in_(("proposed", "confirmed", "rejected"))))
    if existing is not None:
        return None
    merge = Merge(kept_pk=kept.id, merged_pk=merged.id, evidence=evidence)
    session.add(merge)
    session.flush()
    return merge


def _merge(session: Session, merge_id: int, status: str) -> Merge:
    merge = session.get(Merge, merge_id)
    if merge is None:
        raise SubjectError(f"no such merge {merge_id}")
    if merge.status != status:
        raise SubjectError(f"merge {merge_id} is {merge.status}, not {status}")
    return merge


def confirm_merge(session: Session, merge_id: int, by: str) -> Merge:
    """A person confirms: the merged subject's facts show under the survivor."""
    merge = _merge(session, merge_id, "proposed")
    merged = session.get(Subject, merge.merged_pk)
    assert merged is not None
    if merged.merged_into is not None:
        raise SubjectError(f"{merged.subject_id} is already merged into another subject")
    merged.merged_into = merge.kept_pk
    merge.status, merge.decided_by, merge.decided_at = "confirmed", by, now()
    return merge


def reject_merge(session: Session, merge_id: int, by: str) -> Merge:
    merge = _merge(session, merge_id, "proposed")
    merge.status, merge.decided_by, merge.decided_at = "rejected", by, now()
    return merge


def undo_merge(session: Session, merge_id: int, by: str) -> Merge:
    """Separate the two subjects again; each keeps exactly the facts it had."""
    merge = _merge(session, merge_id, "confirmed")
    merged = session.get(Subject, merge.merged_pk)
    assert merged is not None
    merged.merged_into = None
    merge.status, merge.undone_by, merge.undone_at = "undone", by, now()
    return merge


def open_merges(session: Session) -> list[Merge]:
    return list(session.scalars(select(Merge).where(Merge.status == "proposed")
                                .order_by(Merge.id)))


def active_subjects(session: Session, office: str | None = None) -> list[Subject]:
    stmt = select(Subject).where(Subject.merged_into.is_(None))
    if office:
        stmt = stmt.where(Subject.office == office)
    return list(session.scalars(stmt.order_by(Subject.subject_id)))
