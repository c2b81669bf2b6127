"""bus queues: pending and sent deliveries indexed by subscriber

The relay claims pending deliveries a subscriber at a time (each subscriber has a queue of its own and a
limit of deliveries in flight), and a worker claims a batch of its subscriber's sent deliveries: both
read the partial indexes on (subscriber, id).

Revision ID: 0006_bus_queues
Revises: 0007_test_clock
Create Date: 2026-12-01 19:15:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006_bus_queues"
down_revision: str | None = "0007_test_clock"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("bus_deliveries", schema=None) as batch_op:
        batch_op.drop_index(
            "ix_bus_deliveries_pending",
            postgresql_where=sa.text("status = 'pending'"),
            sqlite_where=sa.text("status = 'pending'"),
        )
        batch_op.create_index(
            "ix_bus_deliveries_pending",
            ["subscriber", "id"],
            unique=False,
            postgresql_where=sa.text("status = 'pending'"),
            sqlite_where=sa.text("status = 'pending'"),
        )
        batch_op.create_index(
            "ix_bus_deliveries_sent_by_subscriber",
            ["subscriber", "id"],
            unique=False,
            postgresql_where=sa.text("status = 'sent'"),
            sqlite_where=sa.text("status = 'sent'"),
        )


def downgrade() -> None:
    with op.batch_alter_table("bus_deliveries", schema=None) as batch_op:
        batch_op.drop_index(
            "ix_bus_deliveries_sent_by_subscriber",
            postgresql_where=sa.text("status = 'sent'"),
            sqlite_where=sa.text("status = 'sent'"),
        )
        batch_op.drop_index(
            "ix_bus_deliveries_pending",
            postgresql_where=sa.text("status = 'pending'"),
            sqlite_where=sa.text("status = 'pending'"),
        )
        batch_op.create_index(
            "ix_bus_deliveries_pending",
            ["id"],
            unique=False,
            postgresql_where=sa.text("status = 'pending'"),
            sqlite_where=sa.text("status = 'pending'"),
        )
