from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from cvis.api.schemas.common import MatchOut
from cvis.api.settings import MAX_HASHES_PER_CALL


class HashIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    signal: str = Field(max_length=30, description="md5, sha1, sha256 or pdq")
    value: str = Field(max_length=200)
    quality: int | None = Field(None, ge=0, le=100, description="PDQ quality, when known")


class LookupRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    hashes: list[HashIn] = Field(max_length=MAX_HASHES_PER_CALL)
    sets: list[str] | None = Field(None, description="Only these sets (default: all visible)")


class LookupResult(BaseModel):
    query: str
    signal: str
    matches: list[MatchOut]


class LookupResponse(BaseModel):
    results: list[LookupResult]
