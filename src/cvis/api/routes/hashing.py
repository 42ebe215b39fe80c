"""POST /hash: hash one uploaded file in memory; the bytes are dropped, never stored."""

from __future__ import annotations

import io
from typing import Annotated

from fastapi import APIRouter, Depends, File, Request, UploadFile

from cvis.accounts.roles import HASH
from cvis.api.deps import acting, touch
from cvis.api.schemas.common import HashOut
from cvis.hashing import hash_item
from cvis.media.items import MediaItem
from cvis.policy import Actor

router = APIRouter(tags=["hashing"])


@router.post("/hash", response_model=HashOut)
def hash_upload(
    request: Request,
    file: Annotated[UploadFile, File(description="The media to hash")],
    _: Annotated[Actor, Depends(acting(HASH))],
) -> HashOut:
    data = file.file.read()
    name = file.filename or "upload"
    item = MediaItem(name, len(data), opener=lambda: io.BytesIO(data))
    record = hash_item(item)
    touch(request, f"upload:{name} sha256:{record.sha256}")
    return HashOut(**record.to_dict())
