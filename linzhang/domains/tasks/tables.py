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
        # Open work of a subtree: years of done tasks need not be walked to find it.
        Index(
            "ix_tasks_tasks_open_path",
            "jurisdiction_path",
            "id",
            postgresql_where=text("status <> 'done'"),
            sqlite_where=text("status <> 'done'"),
        ),
        Index("ix_tasks_tasks_jurisdiction", "jurisdiction_code", "status", "due_date", "id"),
        Index("ix_tasks_tasks_parent", "parent_id"),
        # What the escalation sweep reads: open work below the city, by the day it may climb next.
        Index(
            "ix_tasks_tasks_escalatable",
            "next_escalation_on",
            postgresql_where=text("status = 'open' AND holder_level <> 'city'"),
            sqlite_where=text("status = 'open' AND holder_level <> 'city'"),
        ),
        # The escalation board: work held above its owner, by holder.
        Index(
            "ix_tasks_tasks_escalated",
            "holder_level",
            "holder_path",
            postgresql_where=text("status <> 'done' AND holder_code <> jurisdiction_code"),
            sqlite_where=text("status <> 'done' AND holder_code <> jurisdiction_code"),
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
    # Grows by one with every change; events carry it so projections can ignore late, older events.
    revision: Mapped[int] = mapped_column(Integer, default=1)
    # The owning jurisdiction stays responsible for the work.
    jurisdiction_code: Mapped[str] = mapped_column(String(32))
    jurisdiction_path: Mapped[str] = mapped_column(PathString)
    # The owner's path by level (city down to the owner's own level): escalation reads the next one up.
    city_code: Mapped[str] = mapped_column(String(32))
    district_code: Mapped[str | None] = mapped_column(String(32))
    township_code: Mapped[str | None] = mapped_column(String(32))
    village_code: Mapped[str | None] = mapped_column(String(32))
    # Who holds it now: the owner, or the level it escalated to (督办).
    holder_code: Mapped[str] = mapped_column(String(32))
    holder_path: Mapped[str] = mapped_column(PathString)
    holder_level: Mapped[str] = mapped_column(String(10))
    due_date: Mapped[dt.date] = mapped_column(Date)
    escalation_due_date: Mapped[dt.date | None] = mapped_column(Date)
    # The due date, or once escalated the escalation due date: overdue from the day after it.
    next_escalation_on: Mapped[dt.date] = mapped_column(Date)
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
    # The day the owner last submitted the work for 核查 or 验收 (None if it never was).
    submitted_on: Mapped[dt.date | None] = mapped_column(Date)


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


class Escalation(Base):
    """One climb of one task by one level. The database refuses the same task reaching a level twice."""

    __tablename__ = "tasks_escalations"
    __table_args__ = (
        UniqueConstraint("task_id", "to_level"),
        CheckConstraint("to_level IN ('township', 'district', 'city')", name="to_level"),
        Index("ix_tasks_escalations_sweep", "sweep_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    task_id: Mapped[int] = mapped_column(BigId, ForeignKey("tasks_tasks.id"))
    sweep_id: Mapped[str] = mapped_column(String(36))
    from_code: Mapped[str] = mapped_column(String(32))
    from_level: Mapped[str] = mapped_column(String(10))
    to_code: Mapped[str] = mapped_column(String(32))
    to_level: Mapped[str] = mapped_column(String(10))
    to_path: Mapped[str] = mapped_column(PathString)
    escalation_due_date: Mapped[dt.date] = mapped_column(Date)
    days_overdue: Mapped[int] = mapped_column(Integer)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class Sweep(Base):
    """One run of the escalation sweep, at the time it was run for (``as_of``)."""

    __tablename__ = "tasks_sweeps"
    __table_args__ = (Index("ix_tasks_sweeps_as_of", "as_of"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    as_of: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    started_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    actor: Mapped[str] = mapped_column(String(64))
    escalated: Mapped[int] = mapped_column(Integer, default=0)


class Summons(Base):
    """约谈: a summons of the owning jurisdiction's chiefs over a task, planned ahead and recorded once held."""

    __tablename__ = "tasks_summonses"
    __table_args__ = (
        CheckConstraint("status IN ('planned', 'held')", name="status"),
        Index("ix_tasks_summonses_task", "task_id", "id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    task_id: Mapped[int] = mapped_column(BigId, ForeignKey("tasks_tasks.id"))
    status: Mapped[str] = mapped_column(String(10))  # planned | held
    summoning_code: Mapped[str] = mapped_column(String(32))  # who summons (the level above)
    summoned_code: Mapped[str] = mapped_column(String(32))  # whose chiefs are summoned (the owner)
    summoned_path: Mapped[str] = mapped_column(PathString)
    planned_on: Mapped[dt.date | None] = mapped_column(Date)
    held_on: Mapped[dt.date | None] = mapped_column(Date)
    place: Mapped[str | None] = mapped_column(String(200))
    attendees: Mapped[str] = mapped_column(Text, default="[]")  # a JSON list of names and posts
    minutes: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class ReportIntake(Base):
    """A report from another domain (``ProblemReported``) and the issue it became: one per (source, reference)."""

    __tablename__ = "tasks_report_intake"
    __table_args__ = (UniqueConstraint("source", "reference"), Index("ix_tasks_report_intake_task", "task_id"))

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    source: Mapped[str] = mapped_column(String(32))
    reference: Mapped[str] = mapped_column(String(100))
    task_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("tasks_tasks.id"))
    # Why it did not become an issue (a code of ReportRefused), when it did not.
    refused_code: Mapped[str | None] = mapped_column(String(64))
    received_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


tasks_table = cast(Table, Task.__table__)
escalations_table = cast(Table, Escalation.__table__)
sweeps_table = cast(Table, Sweep.__table__)
timeline_table = cast(Table, TimelineEntry.__table__)
plans_table = cast(Table, Plan.__table__)
summonses_table = cast(Table, Summons.__table__)
