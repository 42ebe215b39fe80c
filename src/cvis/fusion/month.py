"""The monthly protocol in one call: registry extract -> link run -> new, changed and ended
links -> subjects -> targets -> detainer drafts -> the month's report (JSON and PDF).

Everything it proposes (merges, targets, detainers) waits for a person.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cvis.audit import audited
from cvis.fusion import ingest
from cvis.fusion.common import audit_actor, now
from cvis.fusion.models import Assignment, Detainer, Fact, Merge, MonthReport, Subject
from cvis.fusion.report import month_pdf
from cvis.fusion.service import Target, rank_targets
from cvis.fusion.subjects import get_subject, subject_key
from cvis.fusion.targets import load_config
from cvis.linkage import releases as releases_mod
from cvis.linkage import service as linkage
from cvis.linkage.mapping import load_mapping, load_source
from cvis.policy import Actor
from cvis.store.db import Store


@dataclass(frozen=True)
class MonthRequest:
    period: str  # YYYY-MM
    registry: linkage.InputSpec
    indices: list[linkage.InputSpec]
    out: Path
    state_dir: Path
    as_of: date
    tips: Path | None = None
    threshold: float = 0.5
    weights: Path | None = None


@dataclass
class MonthResult:
    summary: dict[str, Any]
    targets: list[Target]
    paths: dict[str, Path] = field(default_factory=dict)


def _office_of(session: Session) -> ingest.OfficeOf:
    from cvis.offices.service import office_for

    def lookup(record: dict[str, Any]) -> str:
        state, county = record.get("state"), record.get("county")
        office = office_for(session, state, county) if state else None
        return office.office_id if office else ""
    return lookup


def _draft_detainers(session: Session, found: list[releases_mod.Release], as_of: date) -> int:
    """A draft per linked inmate released within 90 days (not yet drafted)."""
    drafted = 0
    for release in found:
        if session.scalar(select(Detainer).where(Detainer.link_key == release.key)):
            continue
        subject = get_subject(session, subject_key(release.registry_id))
        session.add(Detainer(subject_pk=subject.id, link_key=release.key,
                             release_date=date.fromisoformat(release.release_date),
                             facility=release.facility,
                             body=releases_mod.document(release, as_of)))
        drafted += 1
    return drafted


def _counts(session: Session) -> dict[str, Any]:
    def count(model: Any, *where: Any) -> int:
        return session.scalar(select(func.count()).select_from(model).where(*where)) or 0
    outcomes = Counter(o for o in session.scalars(
        select(Assignment.outcome).where(Assignment.outcome != "")))
    detainers = Counter(session.scalars(select(Detainer.status)))
    return {"subjects": count(Subject, Subject.merged_into.is_(None)),
            "facts": count(Fact, Fact.retracted_at.is_(None)),
            "merges_open": count(Merge, Merge.status == "proposed"),
            "outcomes": dict(outcomes), "detainers": dict(detainers)}


def no_bond_flags(targets: list[Target]) -> list[str]:
    """Priority fugitives to hold without bond on apprehension (for a person to confirm)."""
    return [t.subject_id for t in targets if t.tier in ("critical", "high")
            and any(f["name"] in ("charged_at_large", "absconder") for f in t.factors)]


def most_wanted_nominations(targets: list[Target], limit: int = 10) -> list[str]:
    """Candidates for the public most-wanted list: a person decides and publishes."""
    return [t.subject_id for t in targets if t.tier == "critical"
            or any(f["name"] == "charged_at_large" for f in t.factors)][:limit]


def run_month(store: Store, actor: Actor, req: MonthRequest) -> MonthResult:
    """One month end to end; writes links/, targets.jsonl, month.json and month.pdf."""
    config = load_config(req.weights)
    with audited(store, "fusion", "month.run", f"period:{req.period}",
                 actor=audit_actor(actor), purpose=actor.purpose) as note:
        run_request = linkage.RunRequest(registry=req.registry, indices=req.indices,
                                         state_dir=req.state_dir, threshold=req.threshold)
        run, link_paths = linkage.run(run_request, req.out / "links")
        registry = load_source("registry", req.registry.path, load_mapping(req.registry.mapping))
        tables = {i.name: load_source(i.name, i.path, load_mapping(i.mapping))
                  for i in req.indices}
        counts = ingest.IngestCounts()
        # read the linkage state before the store's write transaction opens (it audits too)
        upcoming = linkage.list_releases(req.state_dir, 90, req.as_of).releases
        with store.session() as session:
            ingest.ingest_registry(session, registry, req.as_of, actor.agency,
                                   _office_of(session), counts, actor.name)
            ingest.ingest_links(session, run.links, tables, req.as_of, counts, actor.name)
            ingest.retract_ended(session, run.changes, counts, run.run_id)
            session.flush()
            ingest.ingest_cases(session, counts, actor.name)
            ingest.ingest_tips(session, ingest.TipsLeads(actor), registry, counts, actor.name)
            if req.tips:
                ingest.ingest_tips(session, ingest.TipFile(req.tips), registry, counts,
                                   actor.name)
            session.flush()
            drafted = _draft_detainers(session, upcoming, req.as_of)
            session.flush()
            targets = rank_targets(session, actor, config, req.as_of)
            totals = _counts(session)
        summary = {
            "no_bond_flags": no_bond_flags(targets),
            "most_wanted_nominations": most_wanted_nominations(targets),
            "period": req.period, "as_of": req.as_of.isoformat(), "link_run": run.run_id,
            "links": len(run.links),
            "link_changes": {k: int(v) for k, v in
                             run.changes["change"].value_counts().to_dict().items()},
            "ingested": counts.__dict__, "detainers_drafted": drafted,
            "targets": len(targets),
            "targets_by_tier": dict(Counter(t.tier for t in targets)),
            "weights_version": config.version, **totals,
        }
        note.detail = json.dumps({k: summary[k] for k in ("links", "targets")})
    from cvis.fusion.sync import mark_synced

    mark_synced(store, req.state_dir, run.run_id)
    summary.update(_changes_since_last(store.settings.home / "fusion", req.period, targets))
    paths = _write(req.out, summary, targets, link_paths)
    remember(store, actor, summary, targets)
    return MonthResult(summary, targets, paths)


def remember(store: Store, actor: Actor, summary: dict[str, Any], targets: list[Target]) -> None:
    """Keep the month's summary and the top of its list for the pages (a rerun replaces it)."""
    top = [{**t.contract(), "labels": [f["label"] for f in t.factors],
            "weights_version": t.config_version} for t in targets[:25]]
    with store.session() as session:
        row = session.scalar(select(MonthReport).where(
            MonthReport.agency == actor.agency, MonthReport.period == summary["period"]))
        row = row or MonthReport(period=summary["period"], agency=actor.agency)
        row.summary, row.run_by, row.run_at = {**summary, "top": top}, actor.name, now()
        session.add(row)


def _changes_since_last(folder: Path, period: str, targets: list[Target]) -> dict[str, Any]:
    """New and dropped targets against the latest earlier month (snapshots kept per month)."""
    folder.mkdir(parents=True, exist_ok=True)
    earlier = sorted(p for p in folder.glob("targets-*.json") if p.stem[8:] < period)
    now_ids = {t.subject_id: t.tier for t in targets}
    (folder / f"targets-{period}.json").write_text(json.dumps(now_ids), encoding="utf-8")
    if not earlier:
        return {"previous_period": None, "targets_new": sorted(now_ids), "targets_dropped": [],
                "tier_changes": {}}
    before: dict[str, str] = json.loads(earlier[-1].read_text(encoding="utf-8"))
    return {"previous_period": earlier[-1].stem[8:],
            "targets_new": sorted(set(now_ids) - set(before)),
            "targets_dropped": sorted(set(before) - set(now_ids)),
            "tier_changes": {k: [before[k], v] for k, v in sorted(now_ids.items())
                             if k in before and before[k] != v}}


def _write(out: Path, summary: dict[str, Any], targets: list[Target],
           link_paths: dict[str, Path]) -> dict[str, Path]:
    out.mkdir(parents=True, exist_ok=True)
    paths = {"targets.jsonl": out / "targets.jsonl", "month.json": out / "month.json",
             "month.pdf": out / "month.pdf", **link_paths}
    paths["targets.jsonl"].write_text(
        "".join(json.dumps(t.contract()) + "\n" for t in targets), encoding="utf-8")
    paths["month.json"].write_text(json.dumps(summary, indent=2), encoding="utf-8")
    month_pdf(summary, targets, paths["month.pdf"])
    return paths
