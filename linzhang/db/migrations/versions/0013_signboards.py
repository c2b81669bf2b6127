"""signboards: boards, the chiefs and issues they show (projections), the public's reports

Revision ID: 0013_signboards
Revises: 0012_field_reports
Create Date: 2026-12-01 22:45:59.341316
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from linzhang.db.base import UTCDateTime

revision: str = "0013_signboards"
down_revision: str | None = "0012_field_reports"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "signboards_boards",
        sa.Column("jurisdiction_code", sa.String(length=32), nullable=False),
        sa.Column("supervision_phone", sa.String(length=40), nullable=True),
        sa.Column("duties", sa.Text(), nullable=True),
        sa.Column("area", sa.String(length=200), nullable=True),
        sa.Column("updated_by", sa.String(length=100), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("jurisdiction_code", name=op.f("pk_signboards_boards")),
    )
    op.create_table(
        "signboards_chiefs",
        sa.Column(
            "chief_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=False, nullable=False
        ),
        sa.Column("jurisdiction_code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=50), nullable=True),
        sa.Column("post", sa.String(length=100), nullable=True),
        sa.Column("role", sa.String(length=10), nullable=True),
        sa.Column("term_start", sa.Date(), nullable=True),
        sa.Column("ended", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("chief_id", name=op.f("pk_signboards_chiefs")),
    )
    with op.batch_alter_table("signboards_chiefs", schema=None) as batch_op:
        batch_op.create_index("ix_signboards_chiefs_jurisdiction", ["jurisdiction_code", "ended"], unique=False)

    op.create_table(
        "signboards_issues",
        sa.Column("task_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=False, nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("owner_code", sa.String(length=32), nullable=False),
        sa.Column("holder_code", sa.String(length=32), nullable=False),
        sa.Column("changed_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("task_id", name=op.f("pk_signboards_issues")),
    )
    op.create_table(
        "signboards_reports",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("receipt_hash", sa.String(length=64), nullable=False),
        sa.Column("jurisdiction_code", sa.String(length=32), nullable=False),
        sa.Column(
            "jurisdiction_path",
            sa.String(length=400).with_variant(sa.String(length=400, collation="C"), "postgresql"),
            nullable=False,
        ),
        sa.Column("category", sa.String(length=50), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("longitude", sa.Float(), nullable=True),
        sa.Column("latitude", sa.Float(), nullable=True),
        sa.Column("photo_count", sa.Integer(), nullable=False),
        sa.Column("client_key", sa.String(length=64), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("task_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("refused_detail", sa.Text(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint("state IN ('received', 'issue', 'refused')", name=op.f("ck_signboards_reports_state")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_signboards_reports")),
    )
    with op.batch_alter_table("signboards_reports", schema=None) as batch_op:
        batch_op.create_index("ix_signboards_reports_client", ["client_key", "created_at"], unique=False)
        batch_op.create_index("ix_signboards_reports_receipt", ["receipt_hash"], unique=True)
        batch_op.create_index("ix_signboards_reports_task", ["task_id"], unique=False)
    # The chiefs already appointed, as their events would have left them (later events change nothing twice).
    op.execute(
        "INSERT INTO signboards_chiefs (chief_id, jurisdiction_code, name, post, role, term_start, ended) "
        "SELECT id, jurisdiction_code, name, post, role, term_start, NOT active FROM chiefs_chiefs"
    )


def downgrade() -> None:
    with op.batch_alter_table("signboards_reports", schema=None) as batch_op:
        batch_op.drop_index("ix_signboards_reports_task")
        batch_op.drop_index("ix_signboards_reports_receipt")
        batch_op.drop_index("ix_signboards_reports_client")

    op.drop_table("signboards_reports")
    op.drop_table("signboards_issues")
    with op.batch_alter_table("signboards_chiefs", schema=None) as batch_op:
        batch_op.drop_index("ix_signboards_chiefs_jurisdiction")

    op.drop_table("signboards_chiefs")
    op.drop_table("signboards_boards")
