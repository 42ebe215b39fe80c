"""The fusion facade the CLI (and later the API and pages) call: one function per action.

Every function takes the acting `policy.Actor`, asks the policy about each subject it
touches, and writes an audit record (reads included).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from cvis import policy
from cvis.audit import audited
from cvis.fusion import shares
from cvis.fusion import subjects as subj
from cvis.fusion.common import audit_actor
from cvis.fusion.models import Subject
from cvis.fusion.targets import TargetConfig, load_config, ordering, score_facts
from cvis.policy import Actor, Resource
from cvis.store.db import Store


@dataclass(frozen=True)
class Target:
    subject_id: str
    rank: int
    tier: str
    score: int
    factors: list[dict[str, Any]]  # name, points, label, facts, sources
    office: str
    sources: list[dict[str, str]]
    config_version: str

    def contract(self) -> dict[str, Any]:
        """The JSON line of `cvis target list` (design.md)."""
        return {"subject_id": self.subject_id, "rank": self.rank, "tier": self.tier,
                "score": self.score,
                "factors": [{"name": f["name"], "points": f["points"]} for f in self.factors],
                "office": self.office, "sources": self.sources}


shares_of = shares.shares_of
subject_resource = shares.subject_resource


def visible(session: Session, actor: Actor, subject: Subject, right: str,
            kind: str = "subject") -> bool:
    return policy.decide(actor, right, subject_resource(session, subject, kind)).allowed


def rank_targets(session: Session, actor: Actor, config: TargetConfig, today: date,
                 office: str | None = None) -> list[Target]:
    """Every subject the actor may see with at least one factor, best first."""
    scored = []
    for subject in subj.active_subjects(session, office):
        if not visible(session, actor, subject, "fusion:read", "target"):
            continue
        facts = subj.facts_of(session, subject)
        score = score_facts(facts, config, today)
        if not score.factors:
            continue
        sources = sorted({(f.source_kind, f.source_ref) for f in facts})
        scored.append((ordering(config, score, subject.subject_id), subject, score, sources))
    scored.sort(key=lambda item: item[0])
    return [Target(s.subject_id, rank, sc.tier, sc.score, sc.factors, s.office,
                   [{"kind": k, "ref": r} for k, r in src], config.version)
            for rank, (_, s, sc, src) in enumerate(scored, start=1)]


def list_targets(store: Store, actor: Actor, office: str | None = None,
                 today: date | None = None, config_path: Path | None = None,
                 linkage_state: Path | None = None) -> list[Target]:
    """The prioritised target list (a person decides what to do with it); with a linkage
    state, its latest run is taken in first if it is new."""
    config = load_config(config_path or _home_config(store))
    if linkage_state is not None:
        from cvis.fusion.sync import sync_from_linkage

        sync_from_linkage(store, linkage_state, actor.agency, actor.name)
    with audited(store, "fusion", "target.list", f"office:{office or '*'}",
                 actor=audit_actor(actor), purpose=actor.purpose) as note, \
            store.session() as session:
        targets = rank_targets(session, actor, config, today or date.today(), office)
        note.detail = f"{len(targets)} targets, weights {config.version}"
    return targets


def _home_config(store: Store) -> Path | None:
    local = store.settings.home / "targets.toml"
    return local if local.is_file() else None


@dataclass(frozen=True)
class SubjectView:
    subject_id: str
    office: str
    agency: str
    facts: list[subj.FactView]
    conflicts: dict[str, list[subj.FactView]]
    members: list[str]


def show_subject(store: Store, actor: Actor, subject_id: str) -> SubjectView:
    """A subject with every fact's provenance and the conflicts side by side."""
    with audited(store, "fusion", "subject.read", f"subject:{subject_id}",
                 actor=audit_actor(actor), purpose=actor.purpose), store.session() as session:
        subject = visible_subject(session, actor, subject_id, "fusion:read")
        facts = subj.facts_of(session, subject)
        return SubjectView(subject.subject_id, subject.office, subject.agency, facts,
                           subj.conflicts(facts),
                           [m.subject_id for m in subj.members(session, subject)])


def visible_subject(session: Session, actor: Actor, subject_id: str, right: str,
                    kind: str = "subject") -> Subject:
    """The subject if the actor may exercise `right` on it; an unknown one reads the same
    as one the actor may not know of ("not found")."""
    try:
        subject = subj.get_subject(session, subject_id)
    except subj.SubjectError:
        raise not_found(kind, subject_id, right) from None
    policy.require(actor, right, subject_resource(session, subject, kind))
    return subject


def not_found(kind: str, ref: object, right: str) -> policy.NotVisible:
    return policy.NotVisible(policy.Decision.deny(f"no such {kind}", hide=True), right,
                             Resource(kind, ref if isinstance(ref, (str, int)) else str(ref)))


def decide_merge(store: Store, actor: Actor, merge_id: int, action: str) -> str:
    """confirm | reject | undo a merge proposal; returns its new status."""
    actions = {"confirm": subj.confirm_merge, "reject": subj.reject_merge,
               "undo": subj.undo_merge}
    if action not in actions:
        raise subj.SubjectError(f"action must be one of {', '.join(actions)}")
    with audited(store, "fusion", f"merge.{action}", f"merge:{merge_id}",
                 actor=audit_actor(actor), purpose=actor.purpose), store.session() as session:
        from cvis.fusion.models import Merge

        merge = session.get(Merge, merge_id)
        if merge is None:
            raise not_found("merge", merge_id, "fusion:write")
        for pk in (merge.kept_pk, merge.merged_pk):
            subject = session.get(Subject, pk)
            assert subject is not None
            policy.require(actor, "fusion:write", subject_resource(session, subject))
        return actions[action](session, merge_id, actor.name).status


def share_subject(store: Store, actor: Actor, subject_id: str, partner: str,
                  rights: list[str], purpose: str) -> int:
    """A joint investigation: the partner agency may use the subject with these rights."""
    return shares.share(store, actor, "subject", subject_id, partner, rights, purpose)
