"""The public tables: only what a person has published, copied out of the internal store.

The public application reads these tables and nothing else (``PUBLIC_TABLES``); publication
(``cvis.portal.posters``) is the one writer. Poster photographs live as files under the
public asset folder, named by their SHA-256; the tables hold the hash and the caption.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, DateTime, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from cvis.store.models import Base, utcnow


class PublicPoster(Base):
    """A published poster: a fugitive or an unknown suspect, as a person approved it."""

    __tablename__ = "public_posters"
    id: Mapped[int] = mapped_column(primary_key=True)
    poster_id: Mapped[str] = mapped_column(String(40), unique=True)
    kind: Mapped[str] = mapped_column(String(20))
    title: Mapped[str] = mapped_column(String(300))
    aliases: Mapped[list[str]] = mapped_column(JSON, default=list)
    description: Mapped[str] = mapped_column(Text, default="")
    descriptors: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    charges: Mapped[list[str]] = mapped_column(JSON, default=list)
    caution: Mapped[str] = mapped_column(Text, default="")
    reward: Mapped[str] = mapped_column(String(300), default="")
    field_office: Mapped[str] = mapped_column(String(200), default="")
    agency: Mapped[str] = mapped_column(String(200), default="")  # the publishing agency
    areas: Mapped[list[Any]] = mapped_column(JSON, default=list)
    status: Mapped[str] = mapped_column(String(20), default="wanted")
    status_note: Mapped[str] = mapped_column(Text, default="")
    version: Mapped[int] = mapped_column(Integer, default=1)
    published_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class PublicPhoto(Base):
    """One photograph (or drawing) on a poster: its file's hash and caption."""

    __tablename__ = "public_poster_photos"
    id: Mapped[int] = mapped_column(primary_key=True)
    poster_pk: Mapped[int] = mapped_column(ForeignKey("public_posters.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer, default=0)
    sha256: Mapped[str] = mapped_column(String(64))
    caption: Mapped[str] = mapped_column(String(500), default="")
    width: Mapped[int] = mapped_column(Integer, default=0)
    height: Mapped[int] = mapped_column(Integer, default=0)


class PublicEvent(Base):
    """A change the public may be told about: the CAP message type and the feed entry."""

    __tablename__ = "public_poster_events"
    id: Mapped[int] = mapped_column(primary_key=True)
    poster_id: Mapped[str] = mapped_column(String(40), index=True)
    msg_type: Mapped[str] = mapped_column(String(10))  # Alert | Update | Cancel
    status: Mapped[str] = mapped_column(String(20))
    headline: Mapped[str] = mapped_column(String(400))
    note: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class PublicSubscription(Base):
    """An alert subscription: an area (ZIP + radius) or one poster, by email or web push."""

    __tablename__ = "public_subscriptions"
    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(String(64), unique=True)
    channel: Mapped[str] = mapped_column(String(10))  # email | push
    email: Mapped[str] = mapped_column(String(320), default="")
    push: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    zip: Mapped[str] = mapped_column(String(5), default="")
    radius_miles: Mapped[float] = mapped_column(Float, default=0.0)
    lat: Mapped[float | None] = mapped_column(Float, nullable=True)
    lon: Mapped[float | None] = mapped_column(Float, nullable=True)
    poster_id: Mapped[str] = mapped_column(String(40), default="")
    language: Mapped[str] = mapped_column(String(5), default="en")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # double opt-in: an email subscription is sent nothing until its confirmation link is
    # followed (push is confirmed by the browser's own permission prompt)
    confirm_token: Mapped[str] = mapped_column(String(64), default="")
    confirmed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True),
                                                          nullable=True)


class PublicDelivery(Base):
    """One alert sent (or tried) to one subscription: never twice for the same event."""

    __tablename__ = "public_deliveries"
    __table_args__ = (UniqueConstraint("subscription_id", "event_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    subscription_id: Mapped[int] = mapped_column(
        ForeignKey("public_subscriptions.id", ondelete="CASCADE")
    )
    event_id: Mapped[int] = mapped_column(ForeignKey("public_poster_events.id"))
    outcome: Mapped[str] = mapped_column(String(200), default="sent")
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class PublicKey(Base):
    """Keys the public application owns (the VAPID pair for web push)."""

    __tablename__ = "public_keys"
    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    private_pem: Mapped[str] = mapped_column(Text)
    public_key: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class PublicRegistrySnapshot(Base):
    """A jurisdiction's daily copy of its public registry, searched when it is down."""

    __tablename__ = "public_registry_snapshots"
    jurisdiction_id: Mapped[str] = mapped_column(String(20), primary_key=True)
    fetched_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    records: Mapped[list[Any]] = mapped_column(JSON, default=list)


class PosterDraftRecord(Base):
    """A poster being prepared in the analyst application (internal: never read publicly).

    Publication copies it into the public tables; ``poster_id`` then names the public poster
    and ``status`` follows it (draft, published, captured, withdrawn). The portrait is a
    drawing generated from ``portrait_seed``, never a photograph of a person.
    """

    __tablename__ = "poster_drafts"
    id: Mapped[int] = mapped_column(primary_key=True)
    draft_id: Mapped[str] = mapped_column(String(40), unique=True)
    agency: Mapped[str] = mapped_column(String(200), default="")
    subject_id: Mapped[str] = mapped_column(String(40), default="")  # a fusion nomination
    kind: Mapped[str] = mapped_column(String(20), default="fugitive")
    title: Mapped[str] = mapped_column(String(300), default="")
    aliases: Mapped[list[str]] = mapped_column(JSON, default=list)
    description: Mapped[str] = mapped_column(Text, default="")
    descriptors: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    charges: Mapped[list[str]] = mapped_column(JSON, default=list)
    caution: Mapped[str] = mapped_column(Text, default="")
    reward: Mapped[str] = mapped_column(String(300), default="")
    field_office: Mapped[str] = mapped_column(String(200), default="")
    areas: Mapped[list[Any]] = mapped_column(JSON, default=list)
    captions: Mapped[list[str]] = mapped_column(JSON, default=list)
    portrait_seed: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(20), default="draft")
    poster_id: Mapped[str] = mapped_column(String(40), default="")
    created_by: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


PUBLIC_TABLES = frozenset(
    table.__tablename__
    for table in (PublicPoster, PublicPhoto, PublicEvent, PublicSubscription, PublicDelivery,
                  PublicKey, PublicRegistrySnapshot)
)
