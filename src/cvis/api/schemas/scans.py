from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from cvis.api.schemas.common import HashOut, MatchOut


class ScanSubmit(BaseModel):
    model_config = ConfigDict(extra="forbid")
    case: str = Field(min_length=1, max_length=100)
    paths: list[str] = Field(min_length=1, max_length=100, description=(
        "Server-side paths under the evidence roots, or object-store URIs "
        "(s3://bucket/prefix/) under the object-store roots"))
    sets: list[str] | None = None


class ScanStatus(BaseModel):
    scan_id: int
    case: str
    status: str
    items: int
    matches: int
    errors: int
    reason: str = Field("", description="Why a failed scan failed")


class ScanItemOut(HashOut):
    matches: list[MatchOut]


class ScanResults(BaseModel):
    scan_id: int
    items: list[ScanItemOut]
    next_after: str | None = Field(description="Pass as 'after' for the next page")
