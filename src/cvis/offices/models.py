"""Field offices and the states and counties each is responsible for."""

from __future__ import annotations

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from cvis.store.models import Base


class Office(Base):
    """A field office (or the national desk, whose area is ``*``)."""

    __tablename__ = "offices"
    id: Mapped[int] = mapped_column(primary_key=True)
    office_id: Mapped[str] = mapped_column(String(100), unique=True)
    name: Mapped[str] = mapped_column(String(300))
    email: Mapped[str] = mapped_column(String(320), default="")
    national: Mapped[bool] = mapped_column(default=False)
    areas: Mapped[list[OfficeArea]] = relationship(
        back_populates="office", cascade="all, delete-orphan"
    )


class OfficeArea(Base):
    """One state, or one county of a state (``county`` normalised, '' for the whole state)."""

    __tablename__ = "office_areas"
    id: Mapped[int] = mapped_column(primary_key=True)
    office_pk: Mapped[int] = mapped_column(ForeignKey("offices.id", ondelete="CASCADE"))
    state: Mapped[str] = mapped_column(String(2))
    county: Mapped[str] = mapped_column(String(200), default="")
    office: Mapped[Office] = relationship(back_populates="areas")
    __table_args__ = (UniqueConstraint("state", "county"),)
