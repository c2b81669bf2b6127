"""Tables of the chiefs domain."""

from __future__ import annotations

import datetime as dt
from typing import cast

from sqlalchemy import BigInteger, Boolean, CheckConstraint, Date, Index, Integer, String, Table, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from linzhang.db.base import Base, PathString, UTCDateTime

BigId = BigInteger().with_variant(Integer(), "sqlite")


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
    """A piece of work in a jurisdiction's inbox, as its chiefs see it: a projection of the task events.

    ``todo``: work the jurisdiction owns (reason ``assigned``) and summonses (约谈) planned for its chiefs
    (reason ``summons``); ``supervising``: work escalated to it from below (reason ``escalated``);
    ``review`` (待核查): work of the level below submitted for its 核查 (reason ``verification``) or
    验收 (reason ``acceptance``). Items belong to the jurisdiction, so every chief in office there (党政同责)
    sees them and a successor finds them as the predecessor left them.
    """

    __tablename__ = "chiefs_inbox_items"
    __table_args__ = (
        UniqueConstraint("task_id", "box", "reason", "jurisdiction_code"),
        Index("ix_chiefs_inbox_items_open", "jurisdiction_code", "open", "deadline", "id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    jurisdiction_code: Mapped[str] = mapped_column(String(32))
    jurisdiction_path: Mapped[str] = mapped_column(PathString)
    task_id: Mapped[int] = mapped_column(BigInteger)
    box: Mapped[str] = mapped_column(String(20))  # todo | supervising | review
    reason: Mapped[str] = mapped_column(String(20))  # assigned | summons | escalated | verification | acceptance
    kind: Mapped[str] = mapped_column(String(10))
    title: Mapped[str] = mapped_column(String(200))
    category: Mapped[str | None] = mapped_column(String(50))
    status: Mapped[str] = mapped_column(String(10))
    owner_code: Mapped[str] = mapped_column(String(32))
    holder_code: Mapped[str] = mapped_column(String(32))
    due_date: Mapped[dt.date] = mapped_column(Date)
    # This box's deadline: the due date for the owner, the escalation due date for the supervisor.
    deadline: Mapped[dt.date] = mapped_column(Date)
    open: Mapped[bool] = mapped_column(Boolean, default=True)
    # A summons' item: the newest summons heard of (a holding closes it; an older plan never reopens it).
    summons_id: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class TaskRevision(Base):
    """The newest revision of each task the inbox has applied: older events arriving late are ignored."""

    __tablename__ = "chiefs_task_revisions"

    task_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    revision: Mapped[int] = mapped_column(Integer)


chiefs_table = cast(Table, Chief.__table__)
inbox_table = cast(Table, InboxItem.__table__)
revisions_table = cast(Table, TaskRevision.__table__)
