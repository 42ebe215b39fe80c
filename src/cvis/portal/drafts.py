"""Posters prepared in the analyst application: drafts, fusion's nominations, publication.

A draft is internal (``poster_drafts``, never read by the public app). A person with
``posters:publish`` edits it, then publishes it: the draft becomes the contract's poster
(``posters.parse_draft``) with generated portrait drawings, and ``service`` copies it into
the public tables, audits it and alerts the subscribers. Captured and withdrawn go the same
way. Every question is the one policy's (the ``poster`` rule, on the draft's agency).
"""

from __future__ import annotations

import secrets
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from cvis import policy
from cvis.accounts.roles import FUSION_READ, POSTERS_PUBLISH
from cvis.audit import audited
from cvis.policy import Actor, NotVisible, Resource
from cvis.portal import posters, service
from cvis.portal.demo import draw_face
from cvis.portal.models import PosterDraftRecord
from cvis.portal.posters import PosterInvalid
from cvis.portal.settings import PortalSettings
from cvis.store.db import Store
from cvis.store.models import utcnow

STATUSES = ("draft", "published", "captured", "withdrawn")
MAX_PORTRAITS = 4


class UnknownDraft(LookupError):
    """No such draft, or not one this person may see: the two read the same."""


@dataclass(frozen=True)
class DraftForm:
    """The editor's fields as a person typed them (one item a line in the list fields)."""

    kind: str = "fugitive"
    title: str = ""
    aliases: str = ""
    description: str = ""
    descriptors: str = ""  # "Label: value" a line
    charges: str = ""
    caution: str = ""
    reward: str = ""
    field_office: str = ""
    areas: str = ""  # "ZIP radius" a line
    captions: str = ""  # one portrait drawing per line
    subject_id: str = ""

    @classmethod
    def of(cls, record: PosterDraftRecord) -> DraftForm:
        return cls(
            kind=record.kind, title=record.title, aliases="\n".join(record.aliases),
            description=record.description,
            descriptors="\n".join(f"{k}: {v}" for k, v in record.descriptors.items()),
            charges="\n".join(record.charges), caution=record.caution, reward=record.reward,
            field_office=record.field_office,
            areas="\n".join(f"{a['zip']} {a['radius_miles']:g}" for a in record.areas),
            captions="\n".join(record.captions), subject_id=record.subject_id)


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def _descriptors(text: str) -> dict[str, str]:
    pairs = {}
    for line in _lines(text):
        label, sep, value = line.partition(":")
        if not sep or not label.strip() or not value.strip():
            raise PosterInvalid(f"descriptor {line!r} is not 'Label: value'")
        pairs[label.strip()] = value.strip()
    return pairs


def _areas(text: str) -> list[dict[str, Any]]:
    areas = []
    for line in _lines(text):
        zip_code, *rest = line.replace(",", " ").split()
        areas.append({"zip": zip_code, "radius_miles": rest[0] if rest else 25})
    return areas


def contract(form: DraftForm) -> dict[str, Any]:
    """The design contract's poster JSON for this form (photos aside)."""
    return {"kind": form.kind, "title": form.title, "aliases": _lines(form.aliases),
            "description": form.description, "descriptors": _descriptors(form.descriptors),
            "charges": _lines(form.charges), "field_office": form.field_office,
            "areas": _areas(form.areas), "reward": form.reward, "caution": form.caution}


def _apply(record: PosterDraftRecord, form: DraftForm) -> None:
    checked = posters.parse_draft(contract(form))  # refuses what publication would refuse
    captions = _lines(form.captions)[:MAX_PORTRAITS] or ["Artist's drawing"]
    record.kind, record.title, record.aliases = checked.kind, checked.title, checked.aliases
    record.description, record.descriptors = checked.description, checked.descriptors
    record.charges, record.caution, record.reward = checked.charges, checked.caution, \
        checked.reward
    record.field_office, record.captions = checked.field_office, captions
    record.areas = [{"zip": a["zip"], "radius_miles": a["radius_miles"]} for a in checked.areas]
    record.subject_id = form.subject_id.strip()[:40]
    record.updated_at = utcnow()


def _resource(record: PosterDraftRecord) -> Resource:
    return Resource("poster", record.poster_id or record.draft_id, record.agency,
                    {"status": record.status})


def _may(actor: Actor, record: PosterDraftRecord) -> bool:
    return policy.decide(actor, POSTERS_PUBLISH, _resource(record)).allowed


def _find(session: Session, actor: Actor, draft_id: str) -> PosterDraftRecord:
    record = session.scalar(select(PosterDraftRecord).where(
        PosterDraftRecord.draft_id == draft_id))
    if record is None or not _may(actor, record):
        raise UnknownDraft(f"There is no poster {draft_id!r} that you can see.")
    return record


def list_drafts(store: Store, actor: Actor) -> list[PosterDraftRecord]:
    """Every poster of the actor's agency, newest change first."""
    with store.session() as session:
        records = session.scalars(select(PosterDraftRecord).order_by(
            PosterDraftRecord.updated_at.desc(), PosterDraftRecord.id.desc())).all()
        return [r for r in records if _may(actor, r)]


def get_draft(store: Store, actor: Actor, draft_id: str) -> PosterDraftRecord:
    with store.session() as session:
        return _find(session, actor, draft_id)


def _audit(store: Store, actor: Actor, event: str, obj: str, purpose: str) -> Any:
    return audited(store, service.COMPONENT, event, obj, actor.purpose or purpose,
                   service._who(actor))


def create(store: Store, actor: Actor, form: DraftForm) -> str:
    """A new draft of the actor's agency; nothing public yet."""
    policy.require(actor, POSTERS_PUBLISH, Resource("poster", None, actor.agency))
    with _audit(store, actor, "poster.draft", "poster draft", "prepare a poster") as note, \
            store.session() as session:
        record = PosterDraftRecord(draft_id="d-" + secrets.token_hex(4), agency=actor.agency,
                                   status="draft", created_by=actor.name,
                                   portrait_seed=secrets.randbelow(200))
        _apply(record, form)
        session.add(record)
        note.object = f"poster-draft:{record.draft_id}"
        return record.draft_id


def save(store: Store, actor: Actor, draft_id: str, form: DraftForm) -> None:
    """Keep the editor's changes (a published poster changes publicly only on Publish)."""
    with _audit(store, actor, "poster.draft.save", f"poster-draft:{draft_id}",
                "edit a poster"), store.session() as session:
        record = _find(session, actor, draft_id)
        if record.status == "withdrawn":
            record.status, record.poster_id = "draft", ""  # a withdrawn poster starts again
        _apply(record, form)


def portrait(record: PosterDraftRecord, position: int, folder: Path) -> Path:
    """The generated drawing for one caption: the same drawing each time for a draft."""
    return draw_face(folder / f"portrait-{position}.png",
                     hue=record.portrait_seed + 50 * position)


def _poster_draft(record: PosterDraftRecord, folder: Path) -> posters.PosterDraft:
    data = {"kind": record.kind, "title": record.title, "aliases": record.aliases,
            "description": record.description, "descriptors": record.descriptors,
            "charges": record.charges, "field_office": record.field_office,
            "areas": record.areas, "reward": record.reward, "caution": record.caution,
            "photos": [{"path": portrait(record, n, folder).name, "caption": caption}
                       for n, caption in enumerate(record.captions)]}
    return posters.parse_draft(data, folder)


def _settle(store: Store, draft_id: str, status: str, poster_id: str) -> None:
    with store.session() as session:
        record = session.scalar(select(PosterDraftRecord).where(
            PosterDraftRecord.draft_id == draft_id))
        if record is not None:
            record.status, record.poster_id, record.updated_at = status, poster_id, utcnow()


def publish(store: Store, settings: PortalSettings, actor: Actor,
            draft_id: str) -> service.Published:
    """Publish the draft (or, once published, replace the public poster: a CAP Update)."""
    record = get_draft(store, actor, draft_id)
    with tempfile.TemporaryDirectory() as folder:
        def load() -> posters.PosterDraft:
            return _poster_draft(record, Path(folder))

        if record.poster_id and record.status in ("published", "captured"):
            done = service.update_draft(store, settings, actor, record.poster_id, load)
            status = record.status
        else:
            done = service.publish_draft(store, settings, actor, load,
                                         f"poster-draft:{draft_id}")
            status = "published"
    _settle(store, draft_id, status, done.poster_id)
    return done


def _public_change(store: Store, actor: Actor, draft_id: str, status: str,
                   change: Callable[[str], service.Published]) -> service.Published:
    record = get_draft(store, actor, draft_id)
    if not record.poster_id or record.status not in ("published", "captured"):
        raise PosterInvalid("this poster is not on the public site")
    done = change(record.poster_id)
    _settle(store, draft_id, status, record.poster_id)
    return done


def captured(store: Store, settings: PortalSettings, actor: Actor, draft_id: str,
             note: str) -> service.Published:
    return _public_change(store, actor, draft_id, "captured", lambda poster_id: service.captured(
        store, settings, actor, poster_id, note.strip() or "captured"))


def withdraw(store: Store, settings: PortalSettings, actor: Actor, draft_id: str,
             reason: str) -> service.Published:
    if not reason.strip():
        raise PosterInvalid("a withdrawal needs a reason")
    return _public_change(store, actor, draft_id, "withdrawn", lambda poster_id: service.withdraw(
        store, settings, actor, poster_id, reason))


def nominations(store: Store, actor: Actor, limit: int = 10) -> list[str]:
    """Fusion's most-wanted candidates the actor may see and nobody has drafted yet: a person
    decides whether any becomes a poster."""
    if not actor.holds(FUSION_READ):
        return []
    from cvis.fusion.month import most_wanted_nominations
    from cvis.fusion.service import list_targets

    try:
        candidates = most_wanted_nominations(list_targets(store, actor), limit)
    except NotVisible:
        return []
    with store.session() as session:
        drafted = set(session.scalars(select(PosterDraftRecord.subject_id).where(
            PosterDraftRecord.subject_id != "")))
    return [c for c in candidates if c not in drafted]
