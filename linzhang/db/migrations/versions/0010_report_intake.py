"""report intake and photos: the tasks domain's record of reports made issues; stored photos and their owners

Revision ID: 0010_report_intake
Revises: 0005_account_lifecycle
Create Date: 2026-12-01 22:29:33.082283
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from linzhang.db.base import UTCDateTime

revision: str = "0010_report_intake"
down_revision: str | None = "0005_account_lifecycle"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "media_photo_owners",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("owner_kind", sa.String(length=32), nullable=False),
        sa.Column("owner_ref", sa.String(length=100), nullable=False),
        sa.Column(
            "owner_path",
            sa.String(length=400).with_variant(sa.String(length=400, collation="C"), "postgresql"),
            nullable=False,
        ),
        sa.Column("attached_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_media_photo_owners")),
        sa.UniqueConstraint(
            "sha256", "owner_kind", "owner_ref", name=op.f("uq_media_photo_owners_sha256_owner_kind_owner_ref")
        ),
    )
    with op.batch_alter_table("media_photo_owners", schema=None) as batch_op:
        batch_op.create_index("ix_media_photo_owners_owner", ["owner_kind", "owner_ref"], unique=False)

    op.create_table(
        "media_photos",
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("media_type", sa.String(length=20), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("longitude", sa.Float(), nullable=True),
        sa.Column("latitude", sa.Float(), nullable=True),
        sa.Column("taken_at", sa.String(length=32), nullable=True),
        sa.Column("stored_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("sha256", name=op.f("pk_media_photos")),
    )
    op.create_table(
        "tasks_report_intake",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("reference", sa.String(length=100), nullable=False),
        sa.Column("task_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("refused_code", sa.String(length=64), nullable=True),
        sa.Column("received_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["task_id"], ["tasks_tasks.id"], name=op.f("fk_tasks_report_intake_task_id_tasks_tasks")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tasks_report_intake")),
        sa.UniqueConstraint("source", "reference", name=op.f("uq_tasks_report_intake_source_reference")),
    )
    with op.batch_alter_table("tasks_report_intake", schema=None) as batch_op:
        batch_op.create_index("ix_tasks_report_intake_task", ["task_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("tasks_report_intake", schema=None) as batch_op:
        batch_op.drop_index("ix_tasks_report_intake_task")

    op.drop_table("tasks_report_intake")
    op.drop_table("media_photos")
    with op.batch_alter_table("media_photo_owners", schema=None) as batch_op:
        batch_op.drop_index("ix_media_photo_owners_owner")

    op.drop_table("media_photo_owners")
