from __future__ import annotations

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
    media_id: str = Field(max_length=200)
    verdict: str = Field(max_length=30, description="e.g. true_positive, false_positive")
    note: str = Field("", max_length=2000)
