from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class SetOut(BaseModel):
    name: str
    agency: str
    enabled: bool
    media: int
    signals: dict[str, int]
    versions: int


class VersionOut(BaseModel):
    number: int
    format: str
    source_file: str
    source_sha256: str
    added: int
    updated: int
    removed: int
    skipped: int
    imported_at: str


class ImportOut(BaseModel):
    set: str
    version: int
    format: str
    added: int
    updated: int
    removed: int
    skipped: int


class FeedbackIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    match_id: int = Field(ge=1, description="The stored match the verdict is about.")
    verdict: Literal["confirmed", "false_positive"]
    note: str = Field("", max_length=2000)


class SuppressIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    signal: str = Field(max_length=30, description="md5, sha1, sha256 or pdq")
    value: str = Field(max_length=200)
    reason: str = Field(min_length=1, max_length=2000)
