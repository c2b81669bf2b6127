"""Tables of the chiefs domain."""

from __future__ import annotations

import datetime as dt
from typing import cast

from sqlalchemy import Boolean, CheckConstraint, Date, Index, Integer, String, Table, Text
from sqlalchemy.orm import Mapped, mapped_column

from linzhang.db.base import Base, PathString, UTCDateTime


class Chief(Base):
    __tablename__ = "chiefs_chiefs"
    __table_args__ = (
        CheckConstraint("role IN ('general', 'deputy', 'chief')", name="role"),
        Index("ix_chiefs_chiefs_path", "jurisdiction_path", "id"),
        Index("ix_chiefs_chiefs_jurisdiction", "jurisdiction_code", "active"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(50))
    post: Mapped[str] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(10))
    jurisdiction_code: Mapped[str] = mapped_column(String(32))
    jurisdiction_path: Mapped[str] = mapped_column(PathString)
    term_start: Mapped[dt.date] = mapped_column(Date)
    term_end: Mapped[dt.date | None] = mapped_column(Date)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    end_reason: Mapped[str | None] = mapped_column(Text)
    predecessor_id: Mapped[int | None] = mapped_column(Integer)
    successor_id: Mapped[int | None] = mapped_column(Integer)
    username: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class InboxItem(Base):
    """A piece of work in a chief's inbox: a projection of the tasks domain's events."""

    __tablename__ = "chiefs_inbox_items"
    __table_args__ = (Index("ix_chiefs_inbox_items_chief", "chief_id", "open"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    chief_id: Mapped[int] = mapped_column(Integer)
    task_id: Mapped[int] = mapped_column(Integer)
    box: Mapped[str] = mapped_column(String(20))  # todo | supervising
    reason: Mapped[str] = mapped_column(String(20))  # assigned | escalated
    open: Mapped[bool] = mapped_column(Boolean, default=True)
    # The chief who held it before a handover, if any.
    handed_over_from: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


chiefs_table = cast(Table, Chief.__table__)
inbox_table = cast(Table, InboxItem.__table__)
