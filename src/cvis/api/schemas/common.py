from __future__ import annotations

from pydantic import BaseModel, Field


class MatchOut(BaseModel):
    set: str
    media_id: str
    signal: str
    distance: int
    category: int | None
    series: str | None
    victim_identified: bool | None


class HashOut(BaseModel):
    path: str
    size: int | None
    md5: str | None
    sha1: str | None
    sha256: str | None
    pdq: str | None
    pdq_quality: int | None
    error: str | None
    flags: list[str] = []


class Problem(BaseModel):
    detail: str = Field(description="What was wrong, in words")
