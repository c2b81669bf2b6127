"""bus outbox and delivery ledger

Revision ID: 0001
Revises:
Create Date: 2026-11-28 22:56:06.922088
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from linzhang.db.base import UTCDateTime

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "bus_events",
        sa.Column("position", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("event_id", sa.String(length=36), nullable=False),
        sa.Column("event_type", sa.String(length=100), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("occurred_at", UTCDateTime(), nullable=False),
        sa.Column("correlation_id", sa.String(length=64), nullable=True),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("position", name=op.f("pk_bus_events")),
        sa.UniqueConstraint("event_id", name=op.f("uq_bus_events_event_id")),
    )
    op.create_table(
        "bus_deliveries",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("event_position", BIG_ID, nullable=False),
        sa.Column("event_id", sa.String(length=36), nullable=False),
        sa.Column("subscriber", sa.String(length=100), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("sends", sa.Integer(), nullable=False),
        sa.Column("available_at", UTCDateTime(), nullable=True),
        sa.Column("sent_at", UTCDateTime(), nullable=True),
        sa.Column("done_at", UTCDateTime(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "status IN ('pending', 'sent', 'done', 'dead')",
            name=op.f("ck_bus_deliveries_status"),
        ),
        sa.ForeignKeyConstraint(
            ["event_position"],
            ["bus_events.position"],
            name=op.f("fk_bus_deliveries_event_position_bus_events"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bus_deliveries")),
        sa.UniqueConstraint(
            "event_position",
            "subscriber",
            name=op.f("uq_bus_deliveries_event_position_subscriber"),
        ),
    )
    with op.batch_alter_table("bus_deliveries", schema=None) as batch_op:
        batch_op.create_index(
            "ix_bus_deliveries_dead",
            ["id"],
            unique=False,
            postgresql_where=sa.text("status = 'dead'"),
            sqlite_where=sa.text("status = 'dead'"),
        )
        batch_op.create_index(
            "ix_bus_deliveries_pending",
            ["id"],
            unique=False,
            postgresql_where=sa.text("status = 'pending'"),
            sqlite_where=sa.text("status = 'pending'"),
        )
        batch_op.create_index(
            "ix_bus_deliveries_sent",
            ["sent_at"],
            unique=False,
            postgresql_where=sa.text("status = 'sent'"),
            sqlite_where=sa.text("status = 'sent'"),
        )


def downgrade() -> None:
    with op.batch_alter_table("bus_deliveries", schema=None) as batch_op:
        batch_op.drop_index(
            "ix_bus_deliveries_sent",
            postgresql_where=sa.text("status = 'sent'"),
            sqlite_where=sa.text("status = 'sent'"),
        )
        batch_op.drop_index(
            "ix_bus_deliveries_pending",
            postgresql_where=sa.text("status = 'pending'"),
            sqlite_where=sa.text("status = 'pending'"),
        )
        batch_op.drop_index(
            "ix_bus_deliveries_dead",
            postgresql_where=sa.text("status = 'dead'"),
            sqlite_where=sa.text("status = 'dead'"),
        )

    op.drop_table("bus_deliveries")
    op.drop_table("bus_events")
