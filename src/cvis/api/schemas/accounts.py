from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class LogonRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    user: str = Field(max_length=200)
    password: str = Field(max_length=1000)
    totp: str = Field(max_length=10, description="The current code from the authenticator")


class LogonResponse(BaseModel):
    token: str
    idle_lock_minutes: int
