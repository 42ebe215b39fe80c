"""Fusion data for the web tests: subjects with conflicting facts, merges, queues, detainers,
shares and a month report, for two agencies (written straight to the store: no link run)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import select

from cvis.fusion import subjects as subj
from cvis.fusion.models import Assignment, Detainer, Merge, MonthReport, Share, Subject
from cvis.fusion.subjects import FactIn
from cvis.store.db import Store

AT = datetime(2026, 11, 1, tzinfo=UTC)
PERIODS = {"own": "2026-11", "other": "2026-10"}


def _facts(days_to_release: int) -> list[tuple[str, Any, str, str, float]]:
    release = (date.today() + timedelta(days=days_to_release)).isoformat()
    return [("dob", "1970-01-02", "registry", "R1", 1.0),
            ("dob", "1970-02-01", "link", "inmates:I1", 0.91),
            ("wanted", True, "link", "warrants:W1", 0.97),
            ("offence_against_child", True, "registry", "R1", 1.0),
            ("release_date", release, "link", "inmates:I1", 0.9),
            ("removable", True, "link", "immigration:X1", 0.95),
            ("removal_country", "GB", "link", "immigration:X1", 0.95)]


def _subject(session: Any, sid: str, agency: str, office: str,
             facts: list[tuple[str, Any, str, str, float]]) -> Subject:
    subject = subj.ensure_subject(session, sid, agency, office)
    for name, value, kind, ref, confidence in facts:
        subj.add_fact(session, subject, FactIn(name, value, kind, ref, AT, confidence))
    return subject


def _summary(period: str) -> dict[str, Any]:
    return {"period": period, "as_of": f"{period}-01", "link_run": 1, "links": 12,
            "link_changes": {"new": 10, "changed": 1, "ended": 1}, "targets": 2,
            "targets_by_tier": {"critical": 1, "high": 1}, "subjects": 3, "facts": 14,
            "merges_open": 1, "detainers_drafted": 1, "outcomes": {"located": 1},
            "detainers": {"draft": 1}, "weights_version": "test", "previous_period": None,
            "targets_new": ["S-A1"], "targets_dropped": [], "tier_changes": {},
            "no_bond_flags": ["S-A1"], "most_wanted_nominations": ["S-A1"],
            "top": [{"subject_id": "S-A1", "rank": 1, "tier": "critical", "score": 80,
                     "factors": [{"name": "charged_at_large", "points": 35}], "office": "HOU",
                     "sources": [], "labels": ["charged and at large"]}]}


def seed_fusion(store: Store, agencies: tuple[str, str]) -> None:
    """Agency A holds S-A1 (and S-A2, proposed for a merge); agency B holds S-B1 and S-B2."""
    with store.session() as session:
        for tag, agency, office in (("A", agencies[0], "HOU"), ("B", agencies[1], "DAL")):
            one = _subject(session, f"S-{tag}1", agency, office, _facts(30))
            two = _subject(session, f"S-{tag}2", agency, office,
                           [("contact_offence", True, "registry", f"R{tag}2", 1.0)])
            subj.propose_merge(session, one, two, {"person_id": f"P-{tag}", "agreed": "dob"})
            session.add(Assignment(subject_pk=one.id, office=office, team="fugitive operations",
                                   link_key="inmates:I1", created_by="seed"))
            session.add(Detainer(subject_pk=one.id, link_key=f"k-{tag}1",
                                 release_date=date.today() + timedelta(days=30),
                                 facility="County Jail East", body={
                                     "subject": {"name": f"Subject {tag}", "dob": "1970-01-02"},
                                     "custody": {"index": "inmates", "record_id": "I1"},
                                     "request": "Notify before release."}))
            session.add(Share(kind="subject", ref=f"S-{tag}1", partner=f"Partner of {tag}",
                              rights=["fusion:read"], purpose="joint investigation",
                              shared_by="seed"))
            period = PERIODS["own" if tag == "A" else "other"]
            session.add(MonthReport(period=period, agency=agency, summary=_summary(period),
                                    run_by="seed"))


def fusion_ids(store: Store) -> dict[str, dict[str, str]]:
    """Path parameters naming agency A's fusion resources ("own") and agency B's ("other")."""
    out: dict[str, dict[str, str]] = {}
    with store.session() as session:
        for relation, tag in (("own", "A"), ("other", "B")):
            one = session.scalar(select(Subject).where(Subject.subject_id == f"S-{tag}1"))
            assert one is not None
            out[relation] = {
                "subject_id": one.subject_id,
                "merge_id": str(session.scalar(select(Merge.id).where(Merge.kept_pk == one.id))),
                "assignment_id": str(session.scalar(select(Assignment.id).where(
                    Assignment.subject_pk == one.id).order_by(Assignment.id))),
                "detainer_id": str(session.scalar(select(Detainer.id).where(
                    Detainer.subject_pk == one.id))),
                "share_id": str(session.scalar(select(Share.id).where(
                    Share.ref == one.subject_id).order_by(Share.id))),
                "period": PERIODS[relation], "plot": "tiers",
            }
    return out
