"""patrols: the chiefs patrols follows from the chiefs' events (village and township chiefs' posts)

Revision ID: 0015_patrols_chiefs
Revises: 0014_assessment_patrol_months
Create Date: 2026-12-01 23:50:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015_patrols_chiefs"
down_revision: str | None = "0014_assessment_patrol_months"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "patrols_chiefs",
        sa.Column(
            "chief_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=False, nullable=False
        ),
        sa.Column("jurisdiction_code", sa.String(length=32), nullable=False),
        sa.Column(
            "jurisdiction_path",
            sa.String(length=400).with_variant(sa.String(length=400, collation="C"), "postgresql"),
            nullable=False,
        ),
        sa.Column("name", sa.String(length=50), nullable=True),
        sa.Column("post", sa.String(length=20), nullable=True),
        sa.Column("started_on", sa.Date(), nullable=True),
        sa.Column("ended_on", sa.Date(), nullable=True),
        sa.PrimaryKeyConstraint("chief_id", name=op.f("pk_patrols_chiefs")),
    )
    with op.batch_alter_table("patrols_chiefs", schema=None) as batch_op:
        batch_op.create_index("ix_patrols_chiefs_path", ["jurisdiction_path"], unique=False)
    # The chiefs appointed before this projection existed (their events were delivered before it).
    op.execute(
        """
        INSERT INTO patrols_chiefs (chief_id, jurisdiction_code, jurisdiction_path, name, post, started_on, ended_on)
        SELECT c.id, c.jurisdiction_code, c.jurisdiction_path, c.name,
               CASE u.level WHEN 'village' THEN 'village_chief' WHEN 'township' THEN 'township_chief' END,
               c.term_start, c.term_end
        FROM chiefs_chiefs c LEFT JOIN jurisdictions_units u ON u.code = c.jurisdiction_code
        """
    )


def downgrade() -> None:
    with op.batch_alter_table("patrols_chiefs", schema=None) as batch_op:
        batch_op.drop_index("ix_patrols_chiefs_path")

    op.drop_table("patrols_chiefs")
