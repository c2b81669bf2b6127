"""assessments: the closed patrol months (巡林履职) kept from PatrolMonthClosed

Revision ID: 0014_assessment_patrol_months
Revises: 0013_signboards
Create Date: 2026-12-01 23:58:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014_assessment_patrol_months"
down_revision: str | None = "0013_signboards"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "assessments_patrol_months",
        sa.Column("person_kind", sa.String(length=10), nullable=False),
        sa.Column("person_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("year", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("month", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("month_end", sa.Date(), nullable=False),
        sa.Column("person_name", sa.String(length=50), nullable=False),
        sa.Column("post", sa.String(length=20), nullable=False),
        sa.Column("jurisdiction_code", sa.String(length=32), nullable=False),
        sa.Column(
            "path",
            sa.String(length=400).with_variant(sa.String(length=400, collation="C"), "postgresql"),
            nullable=False,
        ),
        sa.Column("city_code", sa.String(length=32), nullable=False),
        sa.Column("district_code", sa.String(length=32), nullable=True),
        sa.Column("township_code", sa.String(length=32), nullable=True),
        sa.Column("village_code", sa.String(length=32), nullable=True),
        sa.Column("valid_days", sa.Integer(), nullable=False),
        sa.Column("required_days", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("person_kind", "person_id", "year", "month", name=op.f("pk_assessments_patrol_months")),
    )
    with op.batch_alter_table("assessments_patrol_months", schema=None) as batch_op:
        batch_op.create_index("ix_assessments_patrol_months_end", ["month_end"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("assessments_patrol_months", schema=None) as batch_op:
        batch_op.drop_index("ix_assessments_patrol_months_end")
    op.drop_table("assessments_patrol_months")
