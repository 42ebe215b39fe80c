"""Posters, internal: a person publishes, updates, marks captured and withdraws them.

The analyst application calls these; each asks the policy (``posters:publish`` on the
poster, in ``cvis.portal.access``) and is audited by the portal's service. The public sees
the result at ``cvis public serve``.
"""

from __future__ import annotations

import json
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, HTTPException, UploadFile
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from cvis.accounts.roles import POSTERS_PUBLISH
from cvis.accounts.service import Principal
from cvis.api.deps import ServicesDep, require
from cvis.policy import AccessDenied, NotVisible
from cvis.policy.actors import from_principal
from cvis.portal import service
from cvis.portal.posters import PosterInvalid, UnknownPoster
from cvis.portal.settings import load_portal_settings

router = APIRouter(tags=["posters"])
Publisher = Annotated[Principal, Depends(require(POSTERS_PUBLISH))]
MAX_PHOTOS = 12


class Withdrawal(BaseModel):
    reason: str = Field(min_length=1, max_length=2000)


class Capture(BaseModel):
    note: str = Field(default="captured", max_length=2000)


def _call(action: service.Action, services: Any) -> dict[str, str]:
    try:
        published = action(services.store, load_portal_settings(services.store.settings))
    except PosterInvalid as exc:
        raise HTTPException(400, str(exc)) from None
    except (UnknownPoster, NotVisible):
        raise HTTPException(404, "no such poster") from None
    except AccessDenied as exc:
        raise HTTPException(403, str(exc)) from None
    return published.to_dict()


async def _draft(folder: Path, poster: str, photos: list[UploadFile]) -> Path:
    """The poster JSON and its uploaded photos, as ``cvis poster publish`` would read them."""
    if len(photos) > MAX_PHOTOS:
        raise HTTPException(400, f"at most {MAX_PHOTOS} photos")
    for n, upload in enumerate(photos):
        name = Path(upload.filename or f"photo-{n}").name
        (folder / name).write_bytes(await upload.read())
    path = folder / "poster.json"
    try:
        path.write_text(json.dumps(json.loads(poster)))
    except json.JSONDecodeError:
        raise HTTPException(400, "'poster' is not JSON") from None
    return path


@router.post("/posters", status_code=201)
async def publish(principal: Publisher, services: ServicesDep,
                  poster: Annotated[str, Form(description="The poster JSON")],
                  photos: list[UploadFile] | None = None) -> dict[str, str]:
    """Publish: ``poster`` is the contract's JSON, its photo paths naming the uploaded files."""
    with TemporaryDirectory() as folder:
        path = await _draft(Path(folder), poster, photos or [])
        return await run_in_threadpool(_call, lambda store, settings: service.publish(
            store, settings, from_principal(principal), path), services)


@router.put("/posters/{poster_id}")
async def update(poster_id: str, principal: Publisher, services: ServicesDep,
                 poster: Annotated[str, Form()],
                 photos: list[UploadFile] | None = None) -> dict[str, str]:
    with TemporaryDirectory() as folder:
        path = await _draft(Path(folder), poster, photos or [])
        return await run_in_threadpool(_call, lambda store, settings: service.update(
            store, settings, from_principal(principal), poster_id, path), services)


@router.post("/posters/{poster_id}/captured")
def captured(poster_id: str, body: Capture, principal: Publisher,
             services: ServicesDep) -> dict[str, str]:
    return _call(lambda store, settings: service.captured(
        store, settings, from_principal(principal), poster_id, body.note), services)


@router.post("/posters/{poster_id}/withdraw")
def withdraw(poster_id: str, body: Withdrawal, principal: Publisher,
             services: ServicesDep) -> dict[str, str]:
    return _call(lambda store, settings: service.withdraw(
        store, settings, from_principal(principal), poster_id, body.reason), services)
