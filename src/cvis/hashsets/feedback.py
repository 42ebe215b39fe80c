"""Examiners' verdicts on matches; a false positive suppresses the hash for that agency.

An agency's verdict is its own: it hides the known hash from that agency's matches
(``agency_suppressions``), never from other agencies'. Suppressing a hash for everyone
(``suppressions``, which the matcher applies) is the set owner's curators' decision,
taken with ``suppress_for_everyone`` and recorded with who took it; it can be lifted.
Feedback with no agency (the deployment's own operator at the CLI) is such a decision.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy import DateTime, ForeignKey, String, Text, UniqueConstraint, and_, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from cvis.policy import Resource
from cvis.store.models import (
    Base,
    Case,
    HashSet,
    KnownMedia,
    KnownSignal,
    Match,
    MatchFeedback,
    Scan,
    ScanItem,
    Suppression,
    utcnow,
)

Verdict = Literal["confirmed", "false_positive"]
VERDICTS = ("confirmed", "false_positive")


class UnknownMatch(LookupError):
    pass


SUPPRESSED_CHUNK = 10_000  # bound variables per query (SQLite allows 32,766)


class AgencySuppression(Base):
    """A known hash one agency no longer matches on, after its own false-positive verdict."""

    __tablename__ = "agency_suppressions"
    id: Mapped[int] = mapped_column(primary_key=True)
    set_id: Mapped[int] = mapped_column(ForeignKey("hash_sets.id", ondelete="CASCADE"))
    agency: Mapped[str] = mapped_column(String(200))
    signal_type: Mapped[str] = mapped_column(String(30))
    value: Mapped[str] = mapped_column(String(200))
    reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    __table_args__ = (UniqueConstraint("set_id", "agency", "signal_type", "value"),)


@dataclass(frozen=True)
class ContestedHash:
    """A known hash examiners disagree with: how often confirmed, how often refuted."""

    media_id: str
    signal_type: str
    value: str
    confirmed: int
    false_positive: int
    suppressed: bool


def record_feedback(
    session: Session, match_id: int, verdict: str, *, examiner: str = "", agency: str = "",
    note: str = "",
) -> MatchFeedback:
    """Record a verdict on a stored match; a false positive adds the known hash to suppressions."""
    if verdict not in VERDICTS:
        raise ValueError(f"verdict must be one of {', '.join(VERDICTS)}, not {verdict!r}")
    row = session.execute(
        select(Match, KnownMedia, KnownSignal.value)
        .join(KnownMedia, KnownMedia.id == Match.known_media_id)
        .join(KnownSignal, and_(KnownSignal.media_pk == KnownMedia.id,
                                KnownSignal.signal_type == Match.signal_type))
        .where(Match.id == match_id)
    ).first()
    if row is None:
        raise UnknownMatch(f"no match with id {match_id}")
    match, media, value = row
    feedback = MatchFeedback(
        set_id=media.set_id, match_id=match.id, media_id=media.media_id,
        signal_type=match.signal_type, value=value, verdict=verdict, examiner=examiner,
        agency=agency, note=note,
    )
    session.add(feedback)
    if verdict == "false_positive" and agency:
        _suppress_for_agency(session, media.set_id, agency, match.signal_type, value,
                             note or f"false positive ({examiner})")
    elif verdict == "false_positive":
        suppress(session, media.set_id, match.signal_type, value, reason=note or "false positive")
    session.flush()
    return feedback


def _suppress_for_agency(
    session: Session, set_id: int, agency: str, signal_type: str, value: str, reason: str
) -> None:
    exists = session.scalar(select(AgencySuppression.id).where(
        AgencySuppression.set_id == set_id, AgencySuppression.agency == agency,
        AgencySuppression.signal_type == signal_type, AgencySuppression.value == value))
    if exists is None:
        session.add(AgencySuppression(set_id=set_id, agency=agency, signal_type=signal_type,
                                      value=value, reason=reason))


def suppress_for_everyone(
    session: Session, hash_set: HashSet, signal_type: str, value: str, *, curator: str,
    agency: str, reason: str,
) -> None:
    """The set owner's curator's decision: no agency matches on this hash any more.
    The caller has asked the policy (``sets:curate`` on the set)."""
    suppress(session, hash_set.id, signal_type, value,
             reason=f"suppressed for every agency by {curator} ({agency}): {reason}")
    session.flush()


def agency_suppressed(session: Session, agency: str) -> set[tuple[str, str, str]]:
    """(set name, media id, signal type) of the known hashes this agency suppressed for itself
    (the fields every rendered match carries).

    Read from the agency's own (few) suppressions outward, by the known signals' (type, value)
    index: one join from ``known_signals`` let SQLite scan every known hash (0.4 s at 2M, on
    every lookup whose cached answer had expired)."""
    wanted = {(set_id, signal, value) for set_id, signal, value in session.execute(
        select(AgencySuppression.set_id, AgencySuppression.signal_type, AgencySuppression.value)
        .where(AgencySuppression.agency == agency)
    )}
    by_type: dict[str, list[str]] = {}
    for _set_id, signal, value in sorted(wanted):
        by_type.setdefault(signal, []).append(value)
    found: set[tuple[str, str, str]] = set()
    for signal, values in by_type.items():
        for start in range(0, len(values), SUPPRESSED_CHUNK):
            rows = session.execute(
                select(HashSet.name, KnownMedia.media_id, KnownMedia.set_id, KnownSignal.value)
                .join(KnownMedia, KnownMedia.id == KnownSignal.media_pk)
                .join(HashSet, HashSet.id == KnownMedia.set_id)
                .where(KnownSignal.signal_type == signal,
                       KnownSignal.value.in_(values[start : start + SUPPRESSED_CHUNK]))
            )
            found.update((name, media_id, signal) for name, media_id, set_id, value in rows
                         if (set_id, signal, value) in wanted)
    return found


def suppress(session: Session, set_id: int, signal_type: str, value: str, reason: str) -> None:
    exists = session.scalar(select(Suppression.id).where(
        Suppression.set_id == set_id, Suppression.signal_type == signal_type,
        Suppression.value == value))
    if exists is None:
        session.add(Suppression(set_id=set_id, signal_type=signal_type, value=value,
                                reason=reason))


def suppressed_signal_ids(session: Session, set_ids: Iterable[int]) -> set[int]:
    """Known-signal ids the matcher must drop: their (set, type, value) is suppressed."""
    rows = session.scalars(
        select(KnownSignal.id)
        .join(KnownMedia, KnownMedia.id == KnownSignal.media_pk)
        .join(Suppression, and_(Suppression.set_id == KnownMedia.set_id,
                                Suppression.signal_type == KnownSignal.signal_type,
                                Suppression.value == KnownSignal.value))
        .where(KnownMedia.set_id.in_(list(set_ids)))
    )
    return set(rows)


def contested_hashes(session: Session, hash_set: HashSet) -> list[ContestedHash]:
    """Hashes with any false-positive verdict, most refuted first, for curators to retire."""
    counts: dict[tuple[str, str, str], dict[str, int]] = {}
    for media_id, kind, value, verdict, n in session.execute(
        select(MatchFeedback.media_id, MatchFeedback.signal_type, MatchFeedback.value,
               MatchFeedback.verdict, func.count())
        .where(MatchFeedback.set_id == hash_set.id)
        .group_by(MatchFeedback.media_id, MatchFeedback.signal_type, MatchFeedback.value,
                  MatchFeedback.verdict)
    ):
        counts.setdefault((media_id, kind, value), {})[verdict] = n
    suppressed = {(kind, value) for kind, value in session.execute(
        select(Suppression.signal_type, Suppression.value).where(
            Suppression.set_id == hash_set.id))}
    contested = [
        ContestedHash(m, k, v, c.get("confirmed", 0), c.get("false_positive", 0),
                      (k, v) in suppressed)
        for (m, k, v), c in counts.items() if c.get("false_positive")
    ]
    return sorted(contested, key=lambda h: (-h.false_positive, h.media_id))


def lift_suppression(session: Session, hash_set: HashSet, signal_type: str, value: str) -> bool:
    """A curator's correction path: match on this hash again."""
    row = session.scalar(select(Suppression).where(
        Suppression.set_id == hash_set.id, Suppression.signal_type == signal_type,
        Suppression.value == value))
    if row is None:
        return False
    session.delete(row)
    return True


def match_set_name(session: Session, match_id: int) -> str | None:
    """The set whose known media a stored match points at (None when no such match)."""
    return session.scalar(
        select(HashSet.name)
        .join(KnownMedia, KnownMedia.set_id == HashSet.id)
        .join(Match, Match.known_media_id == KnownMedia.id)
        .where(Match.id == match_id)
    )


def match_resource(session: Session, match_id: int) -> Resource | None:
    """The policy's view of a stored match: its case's agency and its set (None: no match)."""
    from cvis.hashsets.access import set_resource  # access imports this module's table

    row = session.execute(
        select(Case.agency, HashSet)
        .join(KnownMedia, KnownMedia.set_id == HashSet.id)
        .join(Match, Match.known_media_id == KnownMedia.id)
        .join(ScanItem, ScanItem.id == Match.item_id)
        .join(Scan, Scan.id == ScanItem.scan_id)
        .join(Case, Case.id == Scan.case_id)
        .where(Match.id == match_id)
    ).first()
    if row is None:
        return None
    agency, hash_set = row
    return Resource("match", match_id, agency, {"set": set_resource(hash_set, session=session)})
