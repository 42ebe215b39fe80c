"""Request bodies of the foreign-work API (screening, notices, inbound, complaints) and of
case shares: closed (``extra="forbid"``) and bounded, so what is refused is a 422."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, model_validator

Text = Annotated[str, Field(min_length=1, max_length=4000)]
Basis = Annotated[str, Field(min_length=1, max_length=2000)]


class Closed(BaseModel):
    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="after")
    def _no_nul(self) -> Closed:
        """NUL cannot be stored (PostgreSQL text) and is never meant: refused, not a 500."""
        for value in self.__dict__.values():
            for text in value if isinstance(value, list) else [value]:
                if isinstance(text, str) and "\x00" in text:
                    raise ValueError("text must not contain NUL characters")
        return self


class DeterminationIn(Closed):
    """An analyst's determination on one candidate of a screened traveller."""

    registry_id: str = Field(min_length=1, max_length=100)
    covered: bool
    basis: Basis
    notify: bool = False
    no_notice_reason: str = Field(default="", max_length=2000)


class InboundDecisionIn(Closed):
    """The officer's approved answer to a foreign government's request."""

    covered: bool
    basis: Basis


class ComplaintReviewIn(Closed):
    """Upheld: a correction goes to the country and the records are fixed; either way the
    person gets a letter with the explanation."""

    upheld: bool
    explanation: Text
    prevention: str = Field(default="", max_length=4000)


class CaseShareIn(Closed):
    """A joint investigation: the partner agency and the rights it is to hold on the case."""

    partner: str = Field(min_length=1, max_length=200)
    rights: list[Annotated[str, Field(min_length=1, max_length=40)]] = Field(
        default_factory=lambda: ["read"], min_length=1, max_length=4)
    purpose: str = Field(min_length=1, max_length=1000)


class RevokeIn(Closed):
    reason: str = Field(default="", max_length=1000)
