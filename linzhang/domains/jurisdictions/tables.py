"""Tables of the jurisdictions domain."""

from __future__ import annotations

from datetime import datetime
from typing import cast

from sqlalchemy import Boolean, CheckConstraint, Index, Integer, String, Table
from sqlalchemy.orm import Mapped, mapped_column

from linzhang.db.base import Base, PathString, UTCDateTime


class Unit(Base):
    """One division of the tree: the city, a district or zone, a township or street, a village or community."""

    __tablename__ = "jurisdictions_units"
    __table_args__ = (
        CheckConstraint("level IN ('city', 'district', 'township', 'village')", name="level"),
        CheckConstraint("active_chiefs >= 0", name="active_chiefs"),
        Index("ix_jurisdictions_units_parent", "parent_code", "code"),
        Index("ix_jurisdictions_units_level_path", "level", "path"),
    )

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    level: Mapped[str] = mapped_column(String(10))
    parent_code: Mapped[str | None] = mapped_column(String(32))
    # Codes from the city down, "/50/500101/500101001/"; subtree queries are ranges on it.
    path: Mapped[str] = mapped_column(PathString, unique=True)
    # Chiefs in office here (全域覆盖), recounted from jurisdictions_chief_terms on every chief event.
    active_chiefs: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


units_table = cast(Table, Unit.__table__)


class ChiefTerm(Base):
    """Which chief holds (or held) office where: this domain's projection of the chiefs' events.

    Kept per chief rather than as a bare counter, so events handled in any order give the same count.
    """

    __tablename__ = "jurisdictions_chief_terms"
    __table_args__ = (Index("ix_jurisdictions_chief_terms_unit", "jurisdiction_code", "active"),)

    chief_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    jurisdiction_code: Mapped[str] = mapped_column(String(32))
    active: Mapped[bool] = mapped_column(Boolean)


chief_terms_table = cast(Table, ChiefTerm.__table__)
