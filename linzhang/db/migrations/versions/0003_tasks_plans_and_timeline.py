"""tasks, plans and timeline

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28 23:29:21.164028
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from linzhang.db.base import PathString, ScaledDecimal, UTCDateTime

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "tasks_plans",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("issued_by", sa.String(length=200), nullable=False),
        sa.Column("issued_on", sa.Date(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("imported_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_tasks_plans")),
    )
    op.create_table(
        "tasks_tasks",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("category", sa.String(length=50), nullable=True),
        sa.Column("lead_department", sa.String(length=200), nullable=True),
        sa.Column("cooperating_departments", sa.Text(), nullable=True),
        sa.Column("jurisdiction_code", sa.String(length=32), nullable=False),
        sa.Column("jurisdiction_path", PathString, nullable=False),
        sa.Column("holder_code", sa.String(length=32), nullable=False),
        sa.Column("holder_path", PathString, nullable=False),
        sa.Column("holder_level", sa.String(length=10), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("escalation_due_date", sa.Date(), nullable=True),
        sa.Column("target_quantity", ScaledDecimal(), nullable=True),
        sa.Column("completed_quantity", ScaledDecimal(), nullable=False),
        sa.Column("unit", sa.String(length=20), nullable=True),
        sa.Column("parent_id", BIG_ID, nullable=True),
        sa.Column("children_count", sa.Integer(), nullable=False),
        sa.Column("plan_key", sa.String(length=64), nullable=True),
        sa.Column("plan_point", sa.String(length=20), nullable=True),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("done_on", sa.Date(), nullable=True),
        sa.CheckConstraint("kind IN ('target', 'issue', 'order')", name=op.f("ck_tasks_tasks_kind")),
        sa.CheckConstraint("status IN ('open', 'submitted', 'done')", name=op.f("ck_tasks_tasks_status")),
        sa.CheckConstraint("completed_quantity >= 0", name=op.f("ck_tasks_tasks_completed_quantity")),
        sa.CheckConstraint(
            "target_quantity IS NULL OR target_quantity > 0", name=op.f("ck_tasks_tasks_target_quantity")
        ),
        sa.ForeignKeyConstraint(["parent_id"], ["tasks_tasks.id"], name=op.f("fk_tasks_tasks_parent_id_tasks_tasks")),
        sa.ForeignKeyConstraint(["plan_key"], ["tasks_plans.key"], name=op.f("fk_tasks_tasks_plan_key_tasks_plans")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tasks_tasks")),
        sa.UniqueConstraint("plan_key", "plan_point", name=op.f("uq_tasks_tasks_plan_key_plan_point")),
    )
    with op.batch_alter_table("tasks_tasks", schema=None) as batch_op:
        batch_op.create_index(
            "ix_tasks_tasks_jurisdiction", ["jurisdiction_code", "status", "due_date", "id"], unique=False
        )
        batch_op.create_index(
            "ix_tasks_tasks_open_due",
            ["due_date"],
            unique=False,
            postgresql_where=sa.text("status <> 'done'"),
            sqlite_where=sa.text("status <> 'done'"),
        )
        batch_op.create_index("ix_tasks_tasks_parent", ["parent_id"], unique=False)
        batch_op.create_index("ix_tasks_tasks_path", ["jurisdiction_path", "id"], unique=False)

    op.create_table(
        "tasks_timeline",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("task_id", BIG_ID, nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("action", sa.String(length=30), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["task_id"], ["tasks_tasks.id"], name=op.f("fk_tasks_timeline_task_id_tasks_tasks")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tasks_timeline")),
    )
    with op.batch_alter_table("tasks_timeline", schema=None) as batch_op:
        batch_op.create_index("ix_tasks_timeline_task", ["task_id", "id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("tasks_timeline", schema=None) as batch_op:
        batch_op.drop_index("ix_tasks_timeline_task")

    op.drop_table("tasks_timeline")
    with op.batch_alter_table("tasks_tasks", schema=None) as batch_op:
        batch_op.drop_index("ix_tasks_tasks_path")
        batch_op.drop_index("ix_tasks_tasks_parent")
        batch_op.drop_index(
            "ix_tasks_tasks_open_due",
            postgresql_where=sa.text("status <> 'done'"),
            sqlite_where=sa.text("status <> 'done'"),
        )
        batch_op.drop_index("ix_tasks_tasks_jurisdiction")

    op.drop_table("tasks_tasks")
    op.drop_table("tasks_plans")
