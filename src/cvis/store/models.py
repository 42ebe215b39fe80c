"""The central store's tables: hashes and metadata only, never media bytes."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    event,
    inspect,
    select,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, relationship


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    type_annotation_map = {dict[str, Any]: JSON, list[str]: JSON, list[int]: JSON}


class HashSet(Base):
    """A bank of known hashes with its provenance and match settings."""

    __tablename__ = "hash_sets"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    source: Mapped[str] = mapped_column(String(500), default="")
    agency: Mapped[str] = mapped_column(String(200), default="")
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    thresholds: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    media: Mapped[list[KnownMedia]] = relationship(back_populates="hash_set")
    versions: Mapped[list[SetVersion]] = relationship(back_populates="hash_set")


class SetVersion(Base):
    """One import into a set: what came in, from where, and what it changed."""

    __tablename__ = "set_versions"
    id: Mapped[int] = mapped_column(primary_key=True)
    set_id: Mapped[int] = mapped_column(ForeignKey("hash_sets.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    format: Mapped[str] = mapped_column(String(20))
    source_file: Mapped[str] = mapped_column(String(1000), default="")
    source_sha256: Mapped[str] = mapped_column(String(64), default="")
    added: Mapped[int] = mapped_column(Integer, default=0)
    updated: Mapped[int] = mapped_column(Integer, default=0)
    removed: Mapped[int] = mapped_column(Integer, default=0)
    skipped: Mapped[int] = mapped_column(Integer, default=0)
    imported_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    hash_set: Mapped[HashSet] = relationship(back_populates="versions")
    __table_args__ = (UniqueConstraint("set_id", "number"),)


class KnownMedia(Base):
    """A picture or video known to a set, with what the curators know of it."""

    __tablename__ = "known_media"
    id: Mapped[int] = mapped_column(primary_key=True)
    set_id: Mapped[int] = mapped_column(ForeignKey("hash_sets.id", ondelete="CASCADE"))
    media_id: Mapped[str] = mapped_column(String(200))
    category: Mapped[int | None] = mapped_column(Integer)
    series: Mapped[str | None] = mapped_column(String(300))
    victim_identified: Mapped[bool | None] = mapped_column(Boolean)
    offender_identified: Mapped[bool | None] = mapped_column(Boolean)
    distributed: Mapped[bool | None] = mapped_column(Boolean)
    tags: Mapped[list[str]] = mapped_column(default=list)
    extra: Mapped[dict[str, Any]] = mapped_column(default=dict)
    hash_set: Mapped[HashSet] = relationship(back_populates="media")
    signals: Mapped[list[KnownSignal]] = relationship(
        back_populates="media", cascade="all, delete-orphan"
    )
    __table_args__ = (UniqueConstraint("set_id", "media_id"),)


class KnownSignal(Base):
    """One hash of a known media item (normalised by its signal type's validator)."""

    __tablename__ = "known_signals"
    id: Mapped[int] = mapped_column(primary_key=True)
    media_pk: Mapped[int] = mapped_column(ForeignKey("known_media.id", ondelete="CASCADE"))
    signal_type: Mapped[str] = mapped_column(String(30))
    value: Mapped[str] = mapped_column(String(200))
    media: Mapped[KnownMedia] = relationship(back_populates="signals")
    __table_args__ = (
        Index("ix_known_signals_type_value", "signal_type", "value"),
        Index("ix_known_signals_media", "media_pk"),
    )


class SignalChanges(Base):
    """One row: a counter the database's triggers bump on every change to ``known_signals``
    (and on media moved between sets); the matcher's index cache is keyed by it
    (migration 0007_signal_changes)."""

    __tablename__ = "signal_changes"
    id: Mapped[int] = mapped_column(primary_key=True)
    changes: Mapped[int] = mapped_column(BigInteger)


class Case(Base):
    __tablename__ = "cases"
    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(100), unique=True)
    agency: Mapped[str] = mapped_column(String(200), default="")
    status: Mapped[str] = mapped_column(String(20), default="open")
    notes: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    title: Mapped[str] = mapped_column(String(300), default="")
    examiners: Mapped[list[str]] = mapped_column(default=list)
    contact: Mapped[str] = mapped_column(String(500), default="")
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Evidence(Base):
    """A source the examiner scanned: a folder, archive or disk image."""

    __tablename__ = "evidence"
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    source_path: Mapped[str] = mapped_column(String(2000))
    kind: Mapped[str] = mapped_column(String(20), default="folder")
    size: Mapped[int | None] = mapped_column(BigInteger)
    sha256: Mapped[str | None] = mapped_column(String(64))
    acquired_by: Mapped[str] = mapped_column(String(200), default="")
    acquired_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # evidence (issue 3): the image's own stored hash, and the latest re-hash of the source
    stored_md5: Mapped[str | None] = mapped_column(String(32))
    stored_hash_ok: Mapped[bool | None] = mapped_column(Boolean)
    verified_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    verified_ok: Mapped[bool | None] = mapped_column(Boolean)


class Scan(Base):
    __tablename__ = "scans"
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    paths: Mapped[list[str]] = mapped_column(default=list)
    settings: Mapped[dict[str, Any]] = mapped_column(default=dict)
    status: Mapped[str] = mapped_column(String(20), default="running")
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    item_count: Mapped[int] = mapped_column(Integer, default=0)
    match_count: Mapped[int] = mapped_column(Integer, default=0)
    error_count: Mapped[int] = mapped_column(Integer, default=0)
    cvis_version: Mapped[str] = mapped_column(String(40), default="")
    host: Mapped[str] = mapped_column(String(200), default="")


class ScanItem(Base):
    """One media item as hashed in a scan; (scan, path) is unique so resumes never duplicate."""

    __tablename__ = "scan_items"
    id: Mapped[int] = mapped_column(primary_key=True)
    scan_id: Mapped[int] = mapped_column(ForeignKey("scans.id", ondelete="CASCADE"))
    path: Mapped[str] = mapped_column(String(4000))
    size: Mapped[int | None] = mapped_column(BigInteger)
    md5: Mapped[str | None] = mapped_column(String(32), index=True)
    sha1: Mapped[str | None] = mapped_column(String(40))
    sha256: Mapped[str | None] = mapped_column(String(64))
    pdq: Mapped[str | None] = mapped_column(String(64))
    pdq_quality: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(Text)
    flags: Mapped[list[str]] = mapped_column(default=list)  # evidence (issue 3)
    __table_args__ = (UniqueConstraint("scan_id", "path"),)


class Match(Base):
    """A candidate: a scan item whose signal is within threshold of a known media item."""

    __tablename__ = "matches"
    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("scan_items.id", ondelete="CASCADE"))
    known_media_id: Mapped[int] = mapped_column(ForeignKey("known_media.id", ondelete="CASCADE"))
    signal_type: Mapped[str] = mapped_column(String(30))
    distance: Mapped[int] = mapped_column(Integer, default=0)
    # A video match's figures: query/compared percentages and matching time ranges.
    video: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    __table_args__ = (Index("ix_matches_item", "item_id"),)


# --- investigations (cases, review, candidate series, deconfliction) ---


class CaseEvent(Base):
    """Every change to a case: who did what, when (the case's own history)."""

    __tablename__ = "case_events"
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(50))
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)


class MatchReview(Base):
    """An examiner's verdict on one candidate match; the match itself stays as found."""

    __tablename__ = "match_reviews"
    id: Mapped[int] = mapped_column(primary_key=True)
    match_id: Mapped[int] = mapped_column(
        ForeignKey("matches.id", ondelete="CASCADE"), unique=True
    )
    verdict: Mapped[str] = mapped_column(String(20))  # confirmed | rejected
    reviewer: Mapped[str] = mapped_column(String(200))
    reviewed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    note: Mapped[str] = mapped_column(Text, default="")


class ItemReview(Base):
    """An examiner's categorisation of an item, matched or not (scan items stay immutable)."""

    __tablename__ = "item_reviews"
    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(
        ForeignKey("scan_items.id", ondelete="CASCADE"), unique=True
    )
    category: Mapped[int | None] = mapped_column(Integer)
    notes: Mapped[str] = mapped_column(Text, default="")
    tags: Mapped[list[str]] = mapped_column(default=list)
    reviewer: Mapped[str] = mapped_column(String(200))
    reviewed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class CandidateSeries(Base):
    """New material: categorised unmatched items grouped by near-duplicate PDQ within a case."""

    __tablename__ = "candidate_series"
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    label: Mapped[str] = mapped_column(String(200))
    item_ids: Mapped[list[int]] = mapped_column(default=list)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class DeconflictionNotice(Base):
    """Two agencies' cases share known media or hashes: each owner is told of the other."""

    __tablename__ = "deconfliction_notices"
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    other_case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    basis: Mapped[str] = mapped_column(String(20))  # series | media | hash
    shared: Mapped[list[str]] = mapped_column(default=list)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    __table_args__ = (UniqueConstraint("case_id", "other_case_id", "basis"),)


# --- evidence (issue 3): completed scans are immutable --------------------------------------


class CompletedScanError(Exception):
    """A completed scan is a record for court; nothing may change it."""


def _completed_scan_ids(session: Session, scan_ids: set[int]) -> set[int]:
    if not scan_ids:
        return set()
    with session.no_autoflush:
        rows = session.execute(
            select(Scan.id).where(Scan.id.in_(scan_ids), Scan.status == "completed")
        )
        return {row[0] for row in rows}


@event.listens_for(Session, "before_flush")
def _refuse_changes_to_completed_scans(session: Session, _ctx: Any, _instances: Any) -> None:
    for obj in session.dirty | session.deleted:
        if isinstance(obj, Scan):
            old = inspect(obj).attrs.status.history.deleted
            if (old and old[0] == "completed") or (obj in session.deleted
                                                   and obj.status == "completed"):
                raise CompletedScanError(f"scan {obj.id} is completed and cannot change")
    touched = {o.scan_id for o in session.new | session.dirty | session.deleted
               if isinstance(o, ScanItem)}
    if done := _completed_scan_ids(session, touched):
        raise CompletedScanError(f"scan {min(done)} is completed and cannot change")
# --- hashsets (issue 6): visibility, version change log, series, feedback, sync -------------


class SetAccess(Base):
    """An agency's rights on a set; a set with no rows is open to every agency."""

    __tablename__ = "set_access"
    id: Mapped[int] = mapped_column(primary_key=True)
    set_id: Mapped[int] = mapped_column(ForeignKey("hash_sets.id", ondelete="CASCADE"))
    agency: Mapped[str] = mapped_column(String(200))
    can_match: Mapped[bool] = mapped_column(Boolean, default=True)
    can_see_metadata: Mapped[bool] = mapped_column(Boolean, default=False)
    __table_args__ = (UniqueConstraint("set_id", "agency"),)


class SetChange(Base):
    """One media item a version added, updated or tombstoned, with its state before (undo log).

    The current state lives in known_media; replaying these backwards gives any version.
    """

    __tablename__ = "set_changes"
    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("set_versions.id", ondelete="CASCADE"))
    media_id: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(10))
    prior: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    __table_args__ = (Index("ix_set_changes_version_media", "version_id", "media_id"),)


class Series(Base):
    """A series of known media: who contributed it, is the child identified, whom to call."""

    __tablename__ = "series"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(300), unique=True)
    agency: Mapped[str] = mapped_column(String(200), default="")
    victim_identified: Mapped[bool | None] = mapped_column(Boolean)
    identifying_agency: Mapped[str] = mapped_column(String(200), default="")
    contact_agency: Mapped[str] = mapped_column(String(200), default="")
    contact_unit: Mapped[str] = mapped_column(String(200), default="")
    contact_phone: Mapped[str] = mapped_column(String(60), default="")
    contact_email: Mapped[str] = mapped_column(String(200), default="")
    notes: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class MatchFeedback(Base):
    """An examiner's verdict on a candidate match: confirmed or false_positive."""

    __tablename__ = "match_feedback"
    id: Mapped[int] = mapped_column(primary_key=True)
    set_id: Mapped[int] = mapped_column(ForeignKey("hash_sets.id", ondelete="CASCADE"))
    match_id: Mapped[int | None] = mapped_column(Integer)
    media_id: Mapped[str] = mapped_column(String(200))
    signal_type: Mapped[str] = mapped_column(String(30))
    value: Mapped[str] = mapped_column(String(200))
    verdict: Mapped[str] = mapped_column(String(20))
    examiner: Mapped[str] = mapped_column(String(200), default="")
    agency: Mapped[str] = mapped_column(String(200), default="")
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    __table_args__ = (Index("ix_match_feedback_set_value", "set_id", "signal_type", "value"),)


class Suppression(Base):
    """A known hash a set will no longer match on, after a false-positive verdict."""

    __tablename__ = "suppressions"
    id: Mapped[int] = mapped_column(primary_key=True)
    set_id: Mapped[int] = mapped_column(ForeignKey("hash_sets.id", ondelete="CASCADE"))
    signal_type: Mapped[str] = mapped_column(String(30))
    value: Mapped[str] = mapped_column(String(200))
    reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    __table_args__ = (UniqueConstraint("set_id", "signal_type", "value"),)


class SyncCheckpoint(Base):
    """The last version of a remote feed applied to a local set, so a pull resumes."""

    __tablename__ = "sync_checkpoints"
    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(String(2000))
    set_id: Mapped[int] = mapped_column(ForeignKey("hash_sets.id", ondelete="CASCADE"))
    last_version: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    __table_args__ = (UniqueConstraint("set_id", "source"),)
# --- service area (issue 9): agencies, accounts, tokens, sessions, audit -------------------


class Agency(Base):
    """A member agency: the unit of need-to-know."""

    __tablename__ = "agencies"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class User(Base):
    """A person (or service account) of one agency, with one role."""

    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"))
    role: Mapped[str] = mapped_column(String(20))
    password_hash: Mapped[str | None] = mapped_column(String(200))
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    failed_logons: Mapped[int] = mapped_column(Integer, default=0)
    last_totp_step: Mapped[int | None] = mapped_column(BigInteger)  # trust: codes are single-use
    locked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    agency: Mapped[Agency] = relationship()


class ApiToken(Base):
    """A bearer credential: only its SHA-256 is stored; scoped, expiring, revocable.

    ``kind`` is "api" for tokens made by `cvis token create`, "session" for the
    token an interactive logon returns (which locks after idle minutes).
    """

    __tablename__ = "api_tokens"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(10), default="api")
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))
    scopes: Mapped[list[str]] = mapped_column(default=list)
    purpose: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    user: Mapped[User] = relationship()


class AuditRecord(Base):
    """One accountable event; ``record_hash`` chains it to the one before (tamper-evident)."""

    __tablename__ = "audit_records"
    id: Mapped[int] = mapped_column(primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger, unique=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    component: Mapped[str] = mapped_column(String(20))
    event: Mapped[str] = mapped_column(String(60))
    user: Mapped[str] = mapped_column(String(200), default="")
    agency: Mapped[str] = mapped_column(String(200), default="")
    outcome: Mapped[str] = mapped_column(String(20))
    client: Mapped[str] = mapped_column(String(100), default="")
    object: Mapped[str] = mapped_column(Text, default="")
    purpose: Mapped[str] = mapped_column(Text, default="")
    detail: Mapped[str] = mapped_column(Text, default="")
    claimed: Mapped[str] = mapped_column(String(200), default="")  # trust: a name claimed beside
    prev_hash: Mapped[str] = mapped_column(String(64))
    record_hash: Mapped[str] = mapped_column(String(64))
    __table_args__ = (Index("ix_audit_records_at", "at"),)


class AuditHead(Base):
    """The chain's newest (seq, hash): one row, locked by each writer so appends are serial."""

    __tablename__ = "audit_head"
    id: Mapped[int] = mapped_column(primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger, default=0)
    record_hash: Mapped[str] = mapped_column(String(64))
