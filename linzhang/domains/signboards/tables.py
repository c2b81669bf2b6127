"""Tables of the signboards domain: each board's own data, projections of chiefs and issues, public reports."""

from __future__ import annotations

import datetime as dt
from typing import cast

from sqlalchemy import BigInteger, Boolean, CheckConstraint, Date, Float, Index, Integer, String, Table, Text
from sqlalchemy.orm import Mapped, mapped_column

from linzhang.db.base import Base, PathString, UTCDateTime

BigId = BigInteger().with_variant(Integer(), "sqlite")


class Board(Base):
    """What a jurisdiction's office says on its signboard beyond its chiefs (all optional)."""

    __tablename__ = "signboards_boards"

    jurisdiction_code: Mapped[str] = mapped_column(String(32), primary_key=True)
    supervision_phone: Mapped[str | None] = mapped_column(String(40))
    duties: Mapped[str | None] = mapped_column(Text)
    area: Mapped[str | None] = mapped_column(String(200))  # 管护面积 as a person writes it ("12,300 亩")
    updated_by: Mapped[str] = mapped_column(String(100))
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class ChiefEntry(Base):
    """The chiefs' events as the signboards see them (ChiefAppointed, ChiefTermEnded), in any order."""

    __tablename__ = "signboards_chiefs"
    __table_args__ = (Index("ix_signboards_chiefs_jurisdiction", "jurisdiction_code", "ended"),)

    chief_id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=False)
    jurisdiction_code: Mapped[str] = mapped_column(String(32))
    # Unknown until the appointment arrives (a term's end delivered first).
    name: Mapped[str | None] = mapped_column(String(50))
    post: Mapped[str | None] = mapped_column(String(100))
    role: Mapped[str | None] = mapped_column(String(10))
    term_start: Mapped[dt.date | None] = mapped_column(Date)
    ended: Mapped[bool] = mapped_column(Boolean, default=False)


class IssueState(Base):
    """The newest state of each issue (问题整改) the task events told of, by revision."""

    __tablename__ = "signboards_issues"

    task_id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=False)
    revision: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(10))
    owner_code: Mapped[str] = mapped_column(String(32))
    holder_code: Mapped[str] = mapped_column(String(32))
    changed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class PublicReport(Base):
    """A report from a signboard's form. Its receipt number is kept only as a SHA-256."""

    __tablename__ = "signboards_reports"
    __table_args__ = (
        CheckConstraint("state IN ('received', 'issue', 'refused')", name="state"),
        Index("ix_signboards_reports_client", "client_key", "created_at"),
        Index("ix_signboards_reports_receipt", "receipt_hash", unique=True),
        Index("ix_signboards_reports_task", "task_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    receipt_hash: Mapped[str] = mapped_column(String(64))
    jurisdiction_code: Mapped[str] = mapped_column(String(32))
    jurisdiction_path: Mapped[str] = mapped_column(PathString)
    category: Mapped[str] = mapped_column(String(50))
    text: Mapped[str] = mapped_column(Text)
    longitude: Mapped[float | None] = mapped_column(Float)
    latitude: Mapped[float | None] = mapped_column(Float)
    photo_count: Mapped[int] = mapped_column(Integer, default=0)
    # A keyed hash of the client's address: the throttle counts by it; the address is not kept.
    client_key: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(10))  # received | issue | refused
    task_id: Mapped[int | None] = mapped_column(BigId)
    refused_detail: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


boards_table = cast(Table, Board.__table__)
chiefs_table = cast(Table, ChiefEntry.__table__)
issues_table = cast(Table, IssueState.__table__)
reports_table = cast(Table, PublicReport.__table__)
