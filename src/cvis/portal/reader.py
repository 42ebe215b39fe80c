"""The public application's only way into the database: published records, nothing else.

``guard_public_tables`` refuses, on the public app's own engine, any statement that names
a table outside ``PUBLIC_TABLES``: the public site has no query to internal data.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy import Engine, event, func, select
from sqlalchemy.orm import Session

from cvis.portal.access import VISIBLE_STATUSES
from cvis.portal.feeds import FeedEvent
from cvis.portal.models import PUBLIC_TABLES, PublicEvent, PublicPhoto, PublicPoster
from cvis.store.models import utcnow

TABLE_NAMES = re.compile(r'\b(?:FROM|JOIN|INTO|UPDATE|TABLE)\s+"?([A-Za-z_][A-Za-z0-9_]*)"?',
                         re.IGNORECASE)


class InternalTableRefused(PermissionError):
    pass


def tables_named(statement: str) -> set[str]:
    return {name.lower() for name in TABLE_NAMES.findall(statement)}


def guard_public_tables(engine: Engine, seen: Callable[[set[str]], None] | None = None) -> None:
    """Refuse statements on anything but the public tables (``seen`` hears every table set)."""

    @event.listens_for(engine, "before_cursor_execute")
    def _check(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        names = tables_named(statement)
        if seen is not None:
            seen(names)
        internal = names - PUBLIC_TABLES
        if internal:
            raise InternalTableRefused(f"the public app may not touch {sorted(internal)}")


@dataclass(frozen=True)
class Photo:
    sha256: str
    caption: str
    width: int
    height: int


@dataclass(frozen=True)
class PosterView:
    """A poster as the public sees it."""

    poster_id: str
    kind: str
    title: str
    aliases: list[str]
    description: str
    descriptors: dict[str, Any]
    charges: list[str]
    caution: str
    reward: str
    field_office: str
    areas: list[dict[str, Any]]
    status: str
    status_note: str
    version: int
    published_at: Any
    updated_at: Any
    photos: list[Photo] = field(default_factory=list)


def _view(poster: PublicPoster, photos: list[Photo]) -> PosterView:
    return PosterView(
        poster.poster_id, poster.kind, poster.title, list(poster.aliases), poster.description,
        dict(poster.descriptors), list(poster.charges), poster.caution, poster.reward,
        poster.field_office, list(poster.areas), poster.status, poster.status_note,
        poster.version, poster.published_at, poster.updated_at, photos)


def _photos(session: Session, poster_pks: list[int]) -> dict[int, list[Photo]]:
    found: dict[int, list[Photo]] = {pk: [] for pk in poster_pks}
    if poster_pks:
        for row in session.scalars(select(PublicPhoto).where(
                PublicPhoto.poster_pk.in_(poster_pks)).order_by(PublicPhoto.position)):
            found[row.poster_pk].append(Photo(row.sha256, row.caption, row.width, row.height))
    return found


def publication_version(session: Session) -> int:
    """Changes with every publication event: the page cache's key."""
    return int(session.scalar(select(func.max(PublicEvent.id))) or 0)


def listed_posters(session: Session, captured_days: int) -> list[PosterView]:
    """Wanted posters, then recently captured ones (their banner shows for a while)."""
    since = utcnow() - timedelta(days=captured_days)
    rows = list(session.scalars(select(PublicPoster).where(
        PublicPoster.status.in_(VISIBLE_STATUSES)).order_by(PublicPoster.published_at.desc())))
    rows = [r for r in rows if r.status == "wanted" or _aware(r.updated_at) >= since]
    photos = _photos(session, [r.id for r in rows])
    return sorted((_view(r, photos[r.id]) for r in rows), key=lambda p: p.status != "wanted")


def _aware(at: Any) -> Any:
    from datetime import UTC

    return at if at.tzinfo else at.replace(tzinfo=UTC)


def poster(session: Session, poster_id: str) -> PosterView | None:
    row = session.scalar(select(PublicPoster).where(PublicPoster.poster_id == poster_id))
    if row is None:
        return None
    return _view(row, _photos(session, [row.id])[row.id])


def visible_photo(session: Session, sha256: str) -> bool:
    return session.scalar(select(PublicPhoto.id).join(
        PublicPoster, PublicPoster.id == PublicPhoto.poster_pk).where(
        PublicPhoto.sha256 == sha256, PublicPoster.status.in_(VISIBLE_STATUSES)).limit(1)
    ) is not None


def feed_events(session: Session, limit: int | None = None) -> list[FeedEvent]:
    """Publication events with their poster, oldest first."""
    stmt = select(PublicEvent, PublicPoster).join(
        PublicPoster, PublicPoster.poster_id == PublicEvent.poster_id).order_by(PublicEvent.id)
    events = [
        FeedEvent(e.id, e.poster_id, e.msg_type, e.status, e.headline, e.note, _aware(e.at),
                  p.kind, p.description, p.caution, p.field_office, list(p.areas))
        for e, p in session.execute(stmt)
    ]
    return events[-limit:] if limit else events


def history(events: list[FeedEvent]) -> dict[str, list[FeedEvent]]:
    by_poster: dict[str, list[FeedEvent]] = {}
    for e in events:
        by_poster.setdefault(e.poster_id, []).append(e)
    return by_poster
