"""assessments: the record as it stood (figure history), draft/published versions, ranking by group

Revision ID: 0004_assessment_versions
Revises: 0008
Create Date: 2026-12-01 19:00:00

The figure history is filled from the events the bus still holds (``bus_events``): every reported or
rolled-up figure with its revision and day, each task's creation and split day. A target whose events
are gone keeps its latest figure, dated 1970-01-01 (known at any date: how it was read before). Existing
runs become numbered versions of their period; the newest of each period is a draft, the older ones
superseded; their ranks are the city-wide ranks they were computed with.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from decimal import Decimal
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from alembic import op

from linzhang.db.base import ScaledDecimal, UTCDateTime

revision: str = "0004_assessment_versions"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SHANGHAI = ZoneInfo("Asia/Shanghai")
LONG_AGO = dt.date(1970, 1, 1)


def upgrade() -> None:
    op.create_table(
        "assessments_figures",
        sa.Column("task_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("revision", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("occurred_on", sa.Date(), nullable=False),
        sa.Column("completed_quantity", ScaledDecimal(), nullable=False),
        sa.Column("target_quantity", ScaledDecimal(), nullable=True),
        sa.PrimaryKeyConstraint("task_id", "revision", name=op.f("pk_assessments_figures")),
    )
    with op.batch_alter_table("assessments_figures", schema=None) as batch_op:
        batch_op.create_index("ix_assessments_figures_day", ["occurred_on"], unique=False)
    with op.batch_alter_table("assessments_tasks", schema=None) as batch_op:
        batch_op.add_column(sa.Column("title", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("unit", sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column("created_on", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("split_on", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("late", sa.Boolean(), nullable=True))
    with op.batch_alter_table("assessments_runs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("version", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("status", sa.String(length=12), nullable=False, server_default="superseded"))
        batch_op.add_column(sa.Column("stale", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column("stale_reason", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("published_at", UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("published_by", sa.String(length=64), nullable=True))
    with op.batch_alter_table("assessments_results", schema=None) as batch_op:
        batch_op.add_column(sa.Column("group_code", sa.String(length=32), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("city_rank", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("city_peers", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("district_code", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("district_name", sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column("weighted", sa.Text(), nullable=False, server_default="{}"))
    _number_runs()
    op.execute("UPDATE assessments_results SET city_rank = rank, city_peers = peers")
    with op.batch_alter_table("assessments_runs", schema=None) as batch_op:
        batch_op.create_unique_constraint(op.f("uq_assessments_runs_period_version"), ["period", "version"])
    _fill_history()


def _number_runs() -> None:
    bind = op.get_bind()
    runs = sa.table("assessments_runs", sa.column("id"), sa.column("period"), sa.column("version"), sa.column("status"))
    numbered: dict[str, int] = {}
    rows = bind.execute(sa.select(runs.c.id, runs.c.period).order_by(runs.c.period, runs.c.id)).all()
    newest = {period: run_id for run_id, period in rows}
    for run_id, period in rows:
        numbered[period] = numbered.get(period, 0) + 1
        status = "draft" if newest[period] == run_id else "superseded"
        bind.execute(runs.update().where(runs.c.id == run_id).values(version=numbered[period], status=status))


def _day(moment: str) -> dt.date:
    return dt.datetime.fromisoformat(moment).astimezone(SHANGHAI).date()


def _fill_history() -> None:
    bind = op.get_bind()
    events = sa.table(
        "bus_events", sa.column("position"), sa.column("event_type"), sa.column("occurred_at"), sa.column("payload")
    )
    figures = sa.table(
        "assessments_figures",
        sa.column("task_id"),
        sa.column("revision"),
        sa.column("occurred_on"),
        sa.column("completed_quantity", ScaledDecimal()),
        sa.column("target_quantity", ScaledDecimal()),
    )
    tracked = sa.table(
        "assessments_tasks",
        sa.column("task_id"),
        sa.column("revision"),
        sa.column("kind"),
        sa.column("title"),
        sa.column("unit"),
        sa.column("created_on"),
        sa.column("split_on"),
        sa.column("completed_quantity", ScaledDecimal()),
        sa.column("target_quantity", ScaledDecimal()),
    )
    known = {row.task_id for row in bind.execute(sa.select(tracked.c.task_id))}
    seen: set[tuple[int, int]] = set()
    kinds = ("TaskCreated", "TaskSplit", "TaskProgressReported", "TaskRolledUp")
    rows = bind.execute(
        sa.select(events.c.event_type, events.c.payload)
        .where(events.c.event_type.in_(kinds))
        .order_by(events.c.position)
    )
    for event_type, payload in rows:
        body = json.loads(payload)
        task = body["task"]
        task_id, task_revision = int(task["task_id"]), int(task["revision"])
        if task_id not in known:
            continue
        day = _day(body["occurred_at"])
        if event_type == "TaskCreated":
            bind.execute(
                tracked.update()
                .where(tracked.c.task_id == task_id)
                .values(title=task.get("title"), unit=body.get("unit"), created_on=day)
            )
            if body.get("target_quantity") is None:
                continue
            completed, target = Decimal(0), Decimal(str(body["target_quantity"]))
        elif event_type == "TaskSplit":
            bind.execute(tracked.update().where(tracked.c.task_id == task_id).values(split_on=day))
            continue
        else:
            completed = Decimal(str(body["completed_quantity"]))
            target = Decimal(str(body["target_quantity"]))
        if (task_id, task_revision) in seen:
            continue
        seen.add((task_id, task_revision))
        bind.execute(
            figures.insert().values(
                task_id=task_id,
                revision=task_revision,
                occurred_on=day,
                completed_quantity=completed,
                target_quantity=target,
            )
        )
    # Targets whose events are gone: their latest figure, known at any date (as they were read before).
    with_history = {task_id for task_id, _ in seen}
    for row in bind.execute(
        sa.select(tracked.c.task_id, tracked.c.revision, tracked.c.completed_quantity, tracked.c.target_quantity).where(
            tracked.c.kind == "target"
        )
    ).all():
        if row.task_id in with_history:
            continue
        bind.execute(
            figures.insert().values(
                task_id=row.task_id,
                revision=row.revision,
                occurred_on=LONG_AGO,
                completed_quantity=row.completed_quantity,
                target_quantity=row.target_quantity,
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("assessments_runs", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("uq_assessments_runs_period_version"), type_="unique")
        for column in ("published_by", "published_at", "stale_reason", "stale", "status", "version"):
            batch_op.drop_column(column)
    with op.batch_alter_table("assessments_results", schema=None) as batch_op:
        for column in ("weighted", "district_name", "district_code", "city_peers", "city_rank", "group_code"):
            batch_op.drop_column(column)
    with op.batch_alter_table("assessments_tasks", schema=None) as batch_op:
        for column in ("late", "split_on", "created_on", "unit", "title"):
            batch_op.drop_column(column)
    with op.batch_alter_table("assessments_figures", schema=None) as batch_op:
        batch_op.drop_index("ix_assessments_figures_day")
    op.drop_table("assessments_figures")
