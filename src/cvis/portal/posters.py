"""Publication: a person's approved poster copied into the public tables, and its changes.

Every change appends a ``PublicEvent`` (the CAP message type: Alert, Update, Cancel) so the
feeds and the alerts tell the public what changed. Photographs are re-encoded (metadata
dropped) and stored as files named by their SHA-256 under the public asset folder.
"""

from __future__ import annotations

import hashlib
import io
import json
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PIL import Image, ImageOps
from sqlalchemy import select
from sqlalchemy.orm import Session

from cvis.portal.models import PublicEvent, PublicPhoto, PublicPoster
from cvis.store.models import utcnow

KINDS = ("fugitive", "unknown_suspect")
MAX_PHOTO_SIDE = 1024


class PosterInvalid(ValueError):
    """The poster file is not a poster: says which field and why."""


class UnknownPoster(LookupError):
    pass


@dataclass(frozen=True)
class PhotoDraft:
    path: Path
    caption: str = ""


@dataclass
class PosterDraft:
    """What a person approved for publication (the contract's poster JSON)."""

    kind: str
    title: str
    aliases: list[str] = field(default_factory=list)
    description: str = ""
    descriptors: dict[str, Any] = field(default_factory=dict)
    charges: list[str] = field(default_factory=list)
    photos: list[PhotoDraft] = field(default_factory=list)
    field_office: str = ""
    areas: list[dict[str, Any]] = field(default_factory=list)
    reward: str = ""
    caution: str = ""


def _strings(data: dict[str, Any], key: str) -> list[str]:
    value = data.get(key) or []
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise PosterInvalid(f"{key!r} must be a list of strings")
    return [v.strip() for v in value if v.strip()]


def _text(data: dict[str, Any], key: str) -> str:
    value = data.get(key)
    if value is None:
        return ""
    if isinstance(value, int | float):
        return str(value)
    if not isinstance(value, str):
        raise PosterInvalid(f"{key!r} must be text")
    return value.strip()


def _areas(data: dict[str, Any]) -> list[dict[str, Any]]:
    from cvis.portal.geo import zip_point

    areas = []
    for area in data.get("areas") or []:
        if not isinstance(area, dict):
            raise PosterInvalid("each area is {\"zip\", \"radius_miles\"}")
        zip_code = str(area.get("zip", "")).strip()
        point = zip_point(zip_code)
        if point is None:
            raise PosterInvalid(f"unknown ZIP code {zip_code!r} in areas")
        try:
            radius = float(area.get("radius_miles", 25))
        except (TypeError, ValueError):
            raise PosterInvalid(f"radius_miles for {zip_code} is not a number") from None
        if not 0 <= radius <= 500:
            raise PosterInvalid("radius_miles must be between 0 and 500")
        areas.append({"zip": zip_code, "radius_miles": radius, "lat": point[0], "lon": point[1]})
    return areas


def _photos(data: dict[str, Any], base: Path) -> list[PhotoDraft]:
    photos = []
    for item in data.get("photos") or []:
        path, caption = (item, "") if isinstance(item, str) else (
            item.get("path", ""), item.get("caption", "")) if isinstance(item, dict) else ("", "")
        if not path:
            raise PosterInvalid("each photo is a path or {\"path\", \"caption\"}")
        full = (base / path) if not Path(path).is_absolute() else Path(path)
        if not full.is_file():
            raise PosterInvalid(f"photo {path!r} not found")
        photos.append(PhotoDraft(full, str(caption).strip()))
    return photos


def parse_draft(data: Any, base: Path = Path(".")) -> PosterDraft:
    """The poster JSON checked field by field; photo paths are relative to ``base``."""
    if not isinstance(data, dict):
        raise PosterInvalid("a poster is a JSON object")
    kind = _text(data, "kind")
    if kind not in KINDS:
        raise PosterInvalid(f"kind must be one of {', '.join(KINDS)}")
    title = _text(data, "title")
    if not title:
        raise PosterInvalid("a poster needs a title")
    descriptors = data.get("descriptors") or {}
    if not isinstance(descriptors, dict):
        raise PosterInvalid("'descriptors' must be an object of label: value")
    return PosterDraft(
        kind=kind, title=title, aliases=_strings(data, "aliases"),
        description=_text(data, "description"),
        descriptors={str(k): str(v) for k, v in descriptors.items()},
        charges=_strings(data, "charges"), photos=_photos(data, base),
        field_office=_text(data, "field_office"), areas=_areas(data),
        reward=_text(data, "reward"), caution=_text(data, "caution"),
    )


def load_draft(path: Path) -> PosterDraft:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise PosterInvalid(f"cannot read {path}: {exc}") from None
    return parse_draft(data, path.parent)


def store_photo(photo: PhotoDraft, asset_dir: Path) -> tuple[str, int, int]:
    """Re-encode as JPEG without metadata; the file is named by the SHA-256 of its bytes."""
    try:
        with Image.open(photo.path) as image:
            picture = ImageOps.exif_transpose(image).convert("RGB")
    except OSError as exc:
        raise PosterInvalid(f"photo {photo.path.name} is not a picture: {exc}") from None
    picture.thumbnail((MAX_PHOTO_SIDE, MAX_PHOTO_SIDE))
    buffer = io.BytesIO()
    picture.save(buffer, "JPEG", quality=85, optimize=True)
    data = buffer.getvalue()
    digest = hashlib.sha256(data).hexdigest()
    asset_dir.mkdir(parents=True, exist_ok=True)
    target = asset_dir / f"{digest}.jpg"
    if not target.exists():
        target.write_bytes(data)
    return digest, picture.width, picture.height


def _new_poster_id(session: Session) -> str:
    while True:
        candidate = "p-" + secrets.token_hex(4)
        if session.scalar(select(PublicPoster.id).where(PublicPoster.poster_id == candidate)) \
                is None:
            return candidate


def _event(session: Session, poster: PublicPoster, msg_type: str, note: str = "") -> PublicEvent:
    event = PublicEvent(poster_id=poster.poster_id, msg_type=msg_type, status=poster.status,
                        headline=poster.title, note=note, at=utcnow())
    session.add(event)
    session.flush()
    return event


def _apply(session: Session, poster: PublicPoster, draft: PosterDraft, asset_dir: Path) -> None:
    poster.kind, poster.title, poster.aliases = draft.kind, draft.title, draft.aliases
    poster.description, poster.descriptors = draft.description, draft.descriptors
    poster.charges, poster.caution, poster.reward = draft.charges, draft.caution, draft.reward
    poster.field_office, poster.areas = draft.field_office, draft.areas
    for old in session.scalars(select(PublicPhoto).where(PublicPhoto.poster_pk == poster.id)):
        session.delete(old)
    for position, photo in enumerate(draft.photos):
        digest, width, height = store_photo(photo, asset_dir)
        session.add(PublicPhoto(poster_pk=poster.id, position=position, sha256=digest,
                                caption=photo.caption, width=width, height=height))


def insert_poster(session: Session, draft: PosterDraft, agency: str, asset_dir: Path
                  ) -> tuple[PublicPoster, PublicEvent]:
    """Copy an approved poster into the public tables: it is on the site from now on."""
    now = utcnow()
    poster = PublicPoster(poster_id=_new_poster_id(session), kind=draft.kind, title=draft.title,
                          agency=agency, status="wanted", status_note="", version=1,
                          published_at=now, updated_at=now)
    session.add(poster)
    session.flush()
    _apply(session, poster, draft, asset_dir)
    return poster, _event(session, poster, "Alert")


def find_poster(session: Session, poster_id: str) -> PublicPoster:
    poster = session.scalar(select(PublicPoster).where(PublicPoster.poster_id == poster_id))
    if poster is None:
        raise UnknownPoster(f"no such poster {poster_id!r}")
    return poster


def replace_poster(session: Session, poster: PublicPoster, draft: PosterDraft, asset_dir: Path
                   ) -> PublicEvent:
    if poster.status == "withdrawn":
        raise PosterInvalid(f"poster {poster.poster_id} was withdrawn; publish a new one")
    _apply(session, poster, draft, asset_dir)
    poster.version += 1
    poster.updated_at = utcnow()
    return _event(session, poster, "Update", "poster updated")


def change_status(session: Session, poster: PublicPoster, status: str, note: str) -> PublicEvent:
    """Captured: a banner (CAP Update). Withdrawn: off the site (CAP Cancel)."""
    if poster.status == "withdrawn":
        raise PosterInvalid(f"poster {poster.poster_id} is already withdrawn")
    if status not in ("captured", "withdrawn"):
        raise PosterInvalid(f"unknown status {status!r}")
    poster.status, poster.status_note = status, note
    poster.version += 1
    poster.updated_at = utcnow()
    return _event(session, poster, "Cancel" if status == "withdrawn" else "Update", note)
