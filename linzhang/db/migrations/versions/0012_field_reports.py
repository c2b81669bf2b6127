"""patrols: field reports and the month-end checks

Revision ID: 0012_field_reports
Revises: 0011_patrols
Create Date: 2026-12-01 22:53:01.577456
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from linzhang.db.base import UTCDateTime

revision: str = "0012_field_reports"
down_revision: str | None = "0011_patrols"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "patrols_field_reports",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("reporter_kind", sa.String(length=10), nullable=False),
        sa.Column("reporter_id", sa.Integer(), nullable=False),
        sa.Column("reporter_name", sa.String(length=50), nullable=False),
        sa.Column(
            "reporter_path",
            sa.String(length=400).with_variant(sa.String(length=400, collation="C"), "postgresql"),
            nullable=False,
        ),
        sa.Column("jurisdiction_code", sa.String(length=32), nullable=False),
        sa.Column(
            "jurisdiction_path",
            sa.String(length=400).with_variant(sa.String(length=400, collation="C"), "postgresql"),
            nullable=False,
        ),
        sa.Column("routed_by_area", sa.Boolean(), nullable=False),
        sa.Column("patrol_id", sa.BigInteger(), nullable=True),
        sa.Column("category", sa.String(length=50), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("photo_hashes", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("task_id", sa.BigInteger(), nullable=True),
        sa.Column("refusal", sa.Text(), nullable=True),
        sa.Column("reported_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint("status IN ('sent', 'issue', 'refused')", name=op.f("ck_patrols_field_reports_status")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_patrols_field_reports")),
    )
    with op.batch_alter_table("patrols_field_reports", schema=None) as batch_op:
        batch_op.create_index("ix_patrols_field_reports_path", ["reporter_path", "id"], unique=False)
        batch_op.create_index("ix_patrols_field_reports_reporter", ["reporter_kind", "reporter_id", "id"], unique=False)

    op.create_table(
        "patrols_month_checks",
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("shortfalls", sa.Integer(), nullable=False),
        sa.Column("checked_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("month", name=op.f("pk_patrols_month_checks")),
    )


def downgrade() -> None:
    op.drop_table("patrols_month_checks")
    with op.batch_alter_table("patrols_field_reports", schema=None) as batch_op:
        batch_op.drop_index("ix_patrols_field_reports_reporter")
        batch_op.drop_index("ix_patrols_field_reports_path")

    op.drop_table("patrols_field_reports")
