"""Tables of the assessments domain: its own ledger and task projection, vetoes, bonuses, results."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import cast

from sqlalchemy import BigInteger, Boolean, Date, Float, Index, Integer, String, Table, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from linzhang.db.base import Base, PathString, ScaledDecimal, UTCDateTime

BigId = BigInteger().with_variant(Integer(), "sqlite")


class TrackedTask(Base):
    """What the assessments know of a task, from its events only."""

    __tablename__ = "assessments_tasks"
    __table_args__ = (
        Index("ix_assessments_tasks_due", "due_date"),
        Index("ix_assessments_tasks_district", "district_code", "due_date"),
        Index("ix_assessments_tasks_township", "township_code", "due_date"),
        Index("ix_assessments_tasks_village", "village_code", "due_date"),
    )

    task_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    revision: Mapped[int] = mapped_column(Integer, default=0)
    kind: Mapped[str] = mapped_column(String(10))
    title: Mapped[str | None] = mapped_column(String(200))
    unit: Mapped[str | None] = mapped_column(String(20))  # of the target's quantity (亩, 株 ...)
    category: Mapped[str | None] = mapped_column(String(50))
    path: Mapped[str] = mapped_column(PathString)
    city_code: Mapped[str] = mapped_column(String(32))
    district_code: Mapped[str | None] = mapped_column(String(32))
    township_code: Mapped[str | None] = mapped_column(String(32))
    village_code: Mapped[str | None] = mapped_column(String(32))
    due_date: Mapped[dt.date] = mapped_column(Date)
    target_quantity: Mapped[Decimal | None] = mapped_column(ScaledDecimal())
    completed_quantity: Mapped[Decimal] = mapped_column(ScaledDecimal(), default=Decimal(0))
    split: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(10))
    done_on: Mapped[dt.date | None] = mapped_column(Date)
    # Done late, as the tasks domain judged it (TaskCompleted.late); None: judged by done_on and due_date.
    late: Mapped[bool | None] = mapped_column(Boolean)
    # When the task came to be, and when it was split (Asia/Shanghai dates from the events' occurred_at):
    # an assessment as of an earlier day sees neither the task nor the split.
    created_on: Mapped[dt.date | None] = mapped_column(Date)
    split_on: Mapped[dt.date | None] = mapped_column(Date)


class TaskFigure(Base):
    """Every figure a task reported or rolled up, with its revision and day: the record at any date."""

    __tablename__ = "assessments_figures"
    __table_args__ = (Index("ix_assessments_figures_day", "occurred_on"),)

    task_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    revision: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    occurred_on: Mapped[dt.date] = mapped_column(Date)
    completed_quantity: Mapped[Decimal] = mapped_column(ScaledDecimal())
    target_quantity: Mapped[Decimal | None] = mapped_column(ScaledDecimal())


class LedgerLine(Base):
    """One fact the bus told, once (the event id is unique): the source of every deduction."""

    __tablename__ = "assessments_ledger"
    __table_args__ = (
        UniqueConstraint("event_id"),
        Index("ix_assessments_ledger_fact_day", "fact", "occurred_on"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    event_id: Mapped[str] = mapped_column(String(36))
    task_id: Mapped[int] = mapped_column(BigInteger)
    fact: Mapped[str] = mapped_column(String(20))  # escalated | sent_back | completed
    occurred_on: Mapped[dt.date] = mapped_column(Date)
    levels: Mapped[int] = mapped_column(Integer, default=0)
    late: Mapped[bool] = mapped_column(Boolean, default=False)
    path: Mapped[str] = mapped_column(PathString)
    city_code: Mapped[str] = mapped_column(String(32))
    district_code: Mapped[str | None] = mapped_column(String(32))
    township_code: Mapped[str | None] = mapped_column(String(32))
    village_code: Mapped[str | None] = mapped_column(String(32))
    detail: Mapped[str | None] = mapped_column(Text)


class PatrolMonth(Base):
    """One person's closed patrol month (PatrolMonthClosed), once per person-month: 巡林履职's source."""

    __tablename__ = "assessments_patrol_months"
    __table_args__ = (Index("ix_assessments_patrol_months_end", "month_end"),)

    person_kind: Mapped[str] = mapped_column(String(10), primary_key=True)
    person_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    month: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    month_end: Mapped[dt.date] = mapped_column(Date)  # the month's last day: the month counts from then
    person_name: Mapped[str] = mapped_column(String(50))
    post: Mapped[str] = mapped_column(String(20))
    jurisdiction_code: Mapped[str] = mapped_column(String(32))
    path: Mapped[str] = mapped_column(PathString)
    city_code: Mapped[str] = mapped_column(String(32))
    district_code: Mapped[str | None] = mapped_column(String(32))
    township_code: Mapped[str | None] = mapped_column(String(32))
    village_code: Mapped[str | None] = mapped_column(String(32))
    valid_days: Mapped[int] = mapped_column(Integer)
    required_days: Mapped[int] = mapped_column(Integer)


class Veto(Base):
    """一票否决 recorded by the city office: the grade is 不合格 whatever the points."""

    __tablename__ = "assessments_vetoes"
    __table_args__ = (UniqueConstraint("period", "jurisdiction_code"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    period: Mapped[str] = mapped_column(String(7))
    jurisdiction_code: Mapped[str] = mapped_column(String(32))
    path: Mapped[str] = mapped_column(PathString)
    reason: Mapped[str] = mapped_column(Text)
    recorded_by: Mapped[str] = mapped_column(String(64))
    recorded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class Bonus(Base):
    """A bonus item (加分项) of the rubric awarded to a jurisdiction for a period."""

    __tablename__ = "assessments_bonuses"
    __table_args__ = (UniqueConstraint("period", "jurisdiction_code", "item"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    period: Mapped[str] = mapped_column(String(7))
    jurisdiction_code: Mapped[str] = mapped_column(String(32))
    path: Mapped[str] = mapped_column(PathString)
    item: Mapped[str] = mapped_column(String(50))
    reason: Mapped[str] = mapped_column(Text)
    recorded_by: Mapped[str] = mapped_column(String(64))
    recorded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class Run(Base):
    """A version of a period's scores: a draft until the city office publishes it (定稿), then frozen."""

    __tablename__ = "assessments_runs"
    __table_args__ = (
        Index("ix_assessments_runs_period", "period", "id"),
        UniqueConstraint("period", "version"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    period: Mapped[str] = mapped_column(String(7))
    version: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(12))  # draft | published | superseded
    as_of: Mapped[dt.date] = mapped_column(Date)
    computed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    computed_by: Mapped[str] = mapped_column(String(64))
    rubric_digest: Mapped[str] = mapped_column(String(64))
    assessed: Mapped[int] = mapped_column(Integer)
    # A veto or bonus recorded after the computation: the version does not show it.
    stale: Mapped[bool] = mapped_column(Boolean, default=False)
    stale_reason: Mapped[str | None] = mapped_column(Text)
    published_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    published_by: Mapped[str | None] = mapped_column(String(64))


class Result(Base):
    __tablename__ = "assessments_results"
    __table_args__ = (
        UniqueConstraint("run_id", "jurisdiction_code"),
        Index("ix_assessments_results_rank", "run_id", "level", "path"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    run_id: Mapped[int] = mapped_column(Integer)
    jurisdiction_code: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(100))
    level: Mapped[str] = mapped_column(String(10))
    path: Mapped[str] = mapped_column(PathString)
    score: Mapped[float | None] = mapped_column(Float)
    grade: Mapped[str | None] = mapped_column(String(10))
    # Rank among the peers of the group offices rank in (a township among its district's townships)
    rank: Mapped[int | None] = mapped_column(Integer)
    peers: Mapped[int] = mapped_column(Integer)
    group_code: Mapped[str] = mapped_column(String(32), default="")  # "" for the whole city
    city_rank: Mapped[int | None] = mapped_column(Integer)
    city_peers: Mapped[int] = mapped_column(Integer, default=0)
    district_code: Mapped[str | None] = mapped_column(String(32))  # 所属区县
    district_name: Mapped[str | None] = mapped_column(String(100))
    weighted: Mapped[str] = mapped_column(Text, default="{}")  # JSON: name -> points in the total
    vetoed: Mapped[bool] = mapped_column(Boolean)
    veto_reason: Mapped[str | None] = mapped_column(Text)
    components: Mapped[str] = mapped_column(Text)  # JSON: name -> score (null: does not apply)
    # JSON: {count, items: [{component, reason, points, task_id, task_title, task_unit, jurisdiction_code,
    # jurisdiction_name}]}
    deductions: Mapped[str] = mapped_column(Text)


tracked_table = cast(Table, TrackedTask.__table__)
ledger_table = cast(Table, LedgerLine.__table__)
figures_table = cast(Table, TaskFigure.__table__)
patrol_months_table = cast(Table, PatrolMonth.__table__)
vetoes_table = cast(Table, Veto.__table__)
bonuses_table = cast(Table, Bonus.__table__)
runs_table = cast(Table, Run.__table__)
results_table = cast(Table, Result.__table__)
