from __future__ import annotations

from pydantic import BaseModel


class AuditRecordOut(BaseModel):
    seq: int
    at: str
    component: str
    event: str
    user: str
    agency: str
    outcome: str
    client: str
    object: str
    purpose: str
    detail: str
    claimed: str = ""
    record_hash: str


class VerifyOut(BaseModel):
    intact: bool
    records: int
    problem: str | None
    first_bad_seq: int | None
