"""Joint investigations: a case or a subject (and so its target entry) shared with named
partner agencies, foreign partners included, each with the rights it holds.

A share is a row in ``fusion_shares`` (kind ``case`` or ``subject``). The policy rules in
``cases/access.py`` and ``fusion/access.py`` read the live shares from the resource's
``attrs["shares"]``, which the functions here fill; revoking a share ends it at once.
Sharing, revoking and listing are audited; only an actor who may write the resource may
share it, and what a partner may do with it is what the share names, nothing more.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from cvis import policy
from cvis.accounts.roles import CASES_EXPORT, CASES_READ, CASES_WRITE, FUSION_READ, FUSION_WRITE
from cvis.audit import audited
from cvis.fusion.common import audit_actor, aware, now
from cvis.fusion.models import Share, Subject
from cvis.policy import Actor, Resource
from cvis.store.db import Store
from cvis.store.models import Case

KINDS = ("case", "subject")
#: The rights a share may grant, by kind, with the short names the CLI and pages use.
RIGHTS: dict[str, dict[str, str]] = {
    "case": {"read": CASES_READ, "review": CASES_WRITE, "export": CASES_EXPORT},
    "subject": {"read": FUSION_READ, "review": FUSION_WRITE},
}
#: The right an actor needs on a resource to share it (or to end its shares).
OWNER_RIGHT = {"case": CASES_WRITE, "subject": FUSION_WRITE}


class ShareError(ValueError):
    """A share that cannot be made (unknown kind or right, no partner, already ended)."""


@dataclass(frozen=True)
class ShareView:
    share_id: int
    kind: str
    ref: str
    partner: str
    rights: list[str]
    purpose: str
    shared_by: str
    shared_at: datetime
    revoked_at: datetime | None
    revoked_by: str

    @property
    def live(self) -> bool:
        return self.revoked_at is None


def shares_of(session: Session, kind: str, ref: str) -> dict[str, list[str]]:
    """Partner agency -> rights, for the live shares of one resource."""
    out: dict[str, list[str]] = {}
    for share in session.scalars(select(Share).where(
            Share.kind == kind, Share.ref == ref, Share.revoked_at.is_(None))):
        out.setdefault(share.partner, []).extend(share.rights)
    return out


def case_resource(session: Session, case: Case) -> Resource:
    """A case as the policy sees it: its agency and the partners it is shared with."""
    return Resource("case", case.number, case.agency,
                    {"shares": shares_of(session, "case", case.number)})


def subject_resource(session: Session, subject: Subject, kind: str = "subject") -> Resource:
    return Resource(kind, subject.subject_id, subject.agency,
                    {"shares": shares_of(session, "subject", subject.subject_id)})


def check_rights(kind: str, rights: list[str]) -> list[str]:
    """Short names (read, review, export) or full right names, as full names, sorted."""
    if kind not in KINDS:
        raise ShareError(f"kind must be one of {', '.join(KINDS)}")
    known = RIGHTS[kind]
    out = set()
    for right in rights:
        full = known.get(right.strip(), right.strip())
        if full not in known.values():
            raise ShareError(f"a {kind} share grants {', '.join(known)} "
                             f"({', '.join(known.values())}), not {right!r}")
        out.add(full)
    if not out:
        raise ShareError("name at least one right to grant")
    read = RIGHTS[kind]["read"]
    return sorted(out | {read})  # whoever may review or export a thing may read it


def _resource(session: Session, kind: str, ref: str, actor: Actor, right: str) -> Resource:
    """The resource, if the actor may exercise `right` on it; else "not found"."""
    if kind == "case":
        case = session.scalar(select(Case).where(Case.number == ref))
        resource = case_resource(session, case) if case else None
    else:
        subject = session.scalar(select(Subject).where(Subject.subject_id == ref))
        resource = subject_resource(session, subject) if subject else None
    if resource is None:
        raise policy.NotVisible(policy.Decision.deny(f"no such {kind}", hide=True), right,
                                Resource(kind, ref))
    policy.require(actor, right, resource)
    return resource


def share(store: Store, actor: Actor, kind: str, ref: str, partner: str, rights: list[str],
          purpose: str) -> int:
    """Share a case or subject with a partner agency; returns the share's id."""
    full = check_rights(kind, rights)
    partner = partner.strip()
    if not partner:
        raise ShareError("name the partner agency")
    if not purpose.strip():
        raise ShareError("say why the partner needs to know (--purpose)")
    with audited(store, "fusion", f"{kind}.share", f"{kind}:{ref} partner:{partner}",
                 actor=audit_actor(actor), purpose=purpose) as note, \
            store.session() as session:
        resource = _resource(session, kind, ref, actor, OWNER_RIGHT[kind])
        if partner == resource.agency:
            raise ShareError(f"{partner} holds this {kind} already")
        row = Share(kind=kind, ref=ref, partner=partner, rights=full, purpose=purpose,
                    shared_by=actor.name)
        session.add(row)
        session.flush()
        note.detail = f"share {row.id}: rights {','.join(full)}"
        return row.id


def revoke(store: Store, actor: Actor, share_id: int, reason: str = "",
           kind: str | None = None) -> ShareView:
    """End a share at once; the partner sees nothing of the resource from then on. With
    ``kind``, a share of another kind is "no such share" (the case-share route's ids)."""
    with audited(store, "fusion", "share.revoke", f"share:{share_id}",
                 actor=audit_actor(actor), purpose=reason or actor.purpose) as note, \
            store.session() as session:
        row = session.get(Share, share_id)
        if row is None or row.kind not in KINDS or (kind and row.kind != kind):
            raise policy.NotVisible(policy.Decision.deny("no such share", hide=True),
                                    "share", Resource("share", share_id))
        _resource(session, row.kind, row.ref, actor, OWNER_RIGHT[row.kind])
        if row.revoked_at is not None:
            raise ShareError(f"share {share_id} was revoked already")
        row.revoked_at, row.revoked_by = now(), actor.name
        note.detail = f"{row.kind}:{row.ref} partner:{row.partner}"
        return share_view(row)


def list_shares(store: Store, actor: Actor, kind: str, ref: str) -> list[ShareView]:
    """A resource's shares, live and ended (for those who may change the resource: a
    partner is not told who else holds it)."""
    right = OWNER_RIGHT.get(kind, "")
    with audited(store, "fusion", f"{kind}.shares", f"{kind}:{ref}",
                 actor=audit_actor(actor), purpose=actor.purpose), store.session() as session:
        if kind not in KINDS:
            raise ShareError(f"kind must be one of {', '.join(KINDS)}")
        _resource(session, kind, ref, actor, right)
        rows = session.scalars(select(Share).where(Share.kind == kind, Share.ref == ref)
                               .order_by(Share.id))
        return [share_view(r) for r in rows]


def share_view(row: Share) -> ShareView:
    return ShareView(row.id, row.kind, row.ref, row.partner, list(row.rights), row.purpose,
                     row.shared_by, aware(row.shared_at),
                     aware(row.revoked_at) if row.revoked_at else None, row.revoked_by)
