"""retention: the event feed's horizon, the periodic jobs' record, events by age

Revision ID: 0009_retention
Revises: 0006_bus_queues
Create Date: 2026-12-01 19:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from linzhang.db.base import UTCDateTime

revision: str = "0009_retention"
down_revision: str | None = "0006_bus_queues"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "bus_feed_horizon",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("purged_through", sa.BigInteger(), nullable=False),
        sa.Column("purged_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_bus_feed_horizon_single_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bus_feed_horizon")),
    )
    op.create_table(
        "bus_job_runs",
        sa.Column("job", sa.String(length=100), nullable=False),
        sa.Column("runs", sa.BigInteger(), nullable=False),
        sa.Column("failures", sa.BigInteger(), nullable=False),
        sa.Column("items", sa.BigInteger(), nullable=False),
        sa.Column("last_started_at", UTCDateTime(), nullable=True),
        sa.Column("last_success_at", UTCDateTime(), nullable=True),
        sa.Column("last_failure_at", UTCDateTime(), nullable=True),
        sa.Column("last_duration_seconds", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("job", name=op.f("pk_bus_job_runs")),
    )
    with op.batch_alter_table("bus_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_bus_events_occurred_at"), ["occurred_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("bus_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_bus_events_occurred_at"))
    op.drop_table("bus_job_runs")
    op.drop_table("bus_feed_horizon")
