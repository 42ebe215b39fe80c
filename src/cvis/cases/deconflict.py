"""Deconfliction: tell two agencies when their cases hold the same known series or files.

As ICSE and the ICAC Data System do, each owner learns only the other case's
number, agency and contact; never its items or notes.
"""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import String, cast, select
from sqlalchemy.orm import Session

from cvis.cases.service import get_case, record_event
from cvis.store.models import Case, DeconflictionNotice, KnownMedia, Match, Scan, ScanItem

Shared = dict[tuple[int, str], set[str]]  # (other case id, basis) -> shared keys


def _case_keys(session: Session, case_id: int) -> dict[str, set[str]]:
    """What a case holds that another case may share: series, known media, file hashes."""
    keys: dict[str, set[str]] = {"series": set(), "media": set(), "hash": set()}
    rows = session.execute(
        select(KnownMedia.id, KnownMedia.series)
        .join(Match, Match.known_media_id == KnownMedia.id)
        .join(ScanItem, ScanItem.id == Match.item_id)
        .join(Scan, Scan.id == ScanItem.scan_id)
        .where(Scan.case_id == case_id)
    )
    for media_pk, series in rows:
        if series:
            keys["series"].add(series)
        else:
            keys["media"].add(str(media_pk))
    keys["hash"] = set(
        session.scalars(
            select(ScanItem.sha256)
            .join(Scan, Scan.id == ScanItem.scan_id)
            .where(Scan.case_id == case_id, ScanItem.sha256.is_not(None),
                   ScanItem.size > 0)
        )
    )
    return keys


def _holders(
    session: Session, basis: str, values: list[str], exclude: int
) -> list[tuple[int, str]]:
    """(case id, value) for other cases holding any of ``values`` on this basis."""
    base = (
        select(Scan.case_id, ScanItem.sha256)
        .join(ScanItem, ScanItem.scan_id == Scan.id)
        .where(ScanItem.sha256.in_(values))
    )
    if basis != "hash":
        column = KnownMedia.series if basis == "series" else cast(KnownMedia.id, String)
        base = (
            select(Scan.case_id, column)
            .join(ScanItem, ScanItem.scan_id == Scan.id)
            .join(Match, Match.item_id == ScanItem.id)
            .join(KnownMedia, KnownMedia.id == Match.known_media_id)
            .where(column.in_(values))
        )
    rows = session.execute(base.where(Scan.case_id != exclude).distinct())
    return [(c, v) for c, v in rows if v is not None]


def _other_cases_sharing(session: Session, case: Case, keys: dict[str, set[str]]) -> Shared:
    shared: Shared = defaultdict(set)
    agencies = dict(session.execute(select(Case.id, Case.agency)).all())
    for basis, mine in keys.items():
        values = sorted(mine)
        for start in range(0, len(values), 500):
            for other_id, value in _holders(session, basis, values[start : start + 500], case.id):
                if agencies[other_id] != case.agency:
                    shared[(other_id, basis)].add(value)
    return shared


def _notify(session: Session, case_id: int, other_id: int, basis: str, keys: set[str]) -> bool:
    notice = session.scalar(
        select(DeconflictionNotice).where(
            DeconflictionNotice.case_id == case_id,
            DeconflictionNotice.other_case_id == other_id,
            DeconflictionNotice.basis == basis,
        )
    )
    if notice is None:
        session.add(DeconflictionNotice(case_id=case_id, other_case_id=other_id, basis=basis,
                                        shared=sorted(keys)))
        return True
    if set(notice.shared) != keys:
        notice.shared = sorted(keys)
    return False


def deconflict_case(session: Session, number: str, *, actor: str) -> int:
    """Record notices for this case and its counterparts; returns how many are new."""
    case = get_case(session, number)
    new = 0
    for (other_id, basis), keys in sorted(
        _other_cases_sharing(session, case, _case_keys(session, case.id)).items()
    ):
        for mine, theirs in ((case.id, other_id), (other_id, case.id)):
            if _notify(session, mine, theirs, basis, keys):
                new += 1
                target = session.get_one(Case, mine)
                record_event(session, target, actor, "deconfliction notice", basis=basis,
                             other_case=session.get_one(Case, theirs).number)
    session.flush()
    return new
