"""Tables of the tasks domain."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import cast

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from linzhang.db.base import Base, PathString, ScaledDecimal, UTCDateTime

Quantity = ScaledDecimal()
BigId = BigInteger().with_variant(Integer(), "sqlite")


class Plan(Base):
    """An annual work plan imported from config/plans (e.g. 重庆市绿化委员会2021年工作要点)."""

    __tablename__ = "tasks_plans"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    issued_by: Mapped[str] = mapped_column(String(200))
    issued_on: Mapped[dt.date] = mapped_column(Date)
    year: Mapped[int] = mapped_column(Integer)
    imported_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class Task(Base):
    __tablename__ = "tasks_tasks"
    __table_args__ = (
        CheckConstraint("kind IN ('target', 'issue', 'order')", name="kind"),
        CheckConstraint("status IN ('open', 'submitted', 'done')", name="status"),
        # Quantities are stored in ten-thousandths (ScaledDecimal).
        CheckConstraint("completed_quantity >= 0", name="completed_quantity"),
        CheckConstraint("target_quantity IS NULL OR target_quantity > 0", name="target_quantity"),
        UniqueConstraint("plan_key", "plan_point"),
        Index("ix_tasks_tasks_path", "jurisdiction_path", "id"),
        Index("ix_tasks_tasks_jurisdiction", "jurisdiction_code", "status", "due_date", "id"),
        Index("ix_tasks_tasks_parent", "parent_id"),
        # Open work by due date: what the escalation sweep and the overdue filters read.
        Index(
            "ix_tasks_tasks_open_due",
            "due_date",
            postgresql_where=text("status <> 'done'"),
            sqlite_where=text("status <> 'done'"),
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(10))
    status: Mapped[str] = mapped_column(String(10))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    category: Mapped[str | None] = mapped_column(String(50))
    lead_department: Mapped[str | None] = mapped_column(String(200))
    cooperating_departments: Mapped[str | None] = mapped_column(Text)
    # The owning jurisdiction stays responsible for the work.
    jurisdiction_code: Mapped[str] = mapped_column(String(32))
    jurisdiction_path: Mapped[str] = mapped_column(PathString)
    # Who holds it now: the owner, or the level it escalated to (督办).
    holder_code: Mapped[str] = mapped_column(String(32))
    holder_path: Mapped[str] = mapped_column(PathString)
    holder_level: Mapped[str] = mapped_column(String(10))
    due_date: Mapped[dt.date] = mapped_column(Date)
    escalation_due_date: Mapped[dt.date | None] = mapped_column(Date)
    target_quantity: Mapped[Decimal | None] = mapped_column(Quantity)
    completed_quantity: Mapped[Decimal] = mapped_column(Quantity, default=Decimal(0))
    unit: Mapped[str | None] = mapped_column(String(20))
    parent_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("tasks_tasks.id"))
    children_count: Mapped[int] = mapped_column(Integer, default=0)
    plan_key: Mapped[str | None] = mapped_column(String(64), ForeignKey("tasks_plans.key"))
    plan_point: Mapped[str | None] = mapped_column(String(20))
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    done_on: Mapped[dt.date | None] = mapped_column(Date)


class TimelineEntry(Base):
    """Every change to a task: who, what, when (and the details of what)."""

    __tablename__ = "tasks_timeline"
    __table_args__ = (Index("ix_tasks_timeline_task", "task_id", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    task_id: Mapped[int] = mapped_column(BigId, ForeignKey("tasks_tasks.id"))
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(30))
    detail: Mapped[str] = mapped_column(Text, default="{}")


tasks_table = cast(Table, Task.__table__)
timeline_table = cast(Table, TimelineEntry.__table__)
plans_table = cast(Table, Plan.__table__)
