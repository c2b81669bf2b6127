"""jurisdictions, chiefs, identity, tasks and assessments

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28 23:57:16.766186
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from linzhang.db.base import PathString, ScaledDecimal, UTCDateTime

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "assessments_bonuses",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("period", sa.String(length=7), nullable=False),
        sa.Column("jurisdiction_code", sa.String(length=32), nullable=False),
        sa.Column("path", PathString, nullable=False),
        sa.Column("item", sa.String(length=50), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("recorded_by", sa.String(length=64), nullable=False),
        sa.Column("recorded_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assessments_bonuses")),
        sa.UniqueConstraint(
            "period", "jurisdiction_code", "item", name=op.f("uq_assessments_bonuses_period_jurisdiction_code_item")
        ),
    )
    op.create_table(
        "assessments_ledger",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("event_id", sa.String(length=36), nullable=False),
        sa.Column("task_id", sa.BigInteger(), nullable=False),
        sa.Column("fact", sa.String(length=20), nullable=False),
        sa.Column("occurred_on", sa.Date(), nullable=False),
        sa.Column("levels", sa.Integer(), nullable=False),
        sa.Column("late", sa.Boolean(), nullable=False),
        sa.Column("path", PathString, nullable=False),
        sa.Column("city_code", sa.String(length=32), nullable=False),
        sa.Column("district_code", sa.String(length=32), nullable=True),
        sa.Column("township_code", sa.String(length=32), nullable=True),
        sa.Column("village_code", sa.String(length=32), nullable=True),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assessments_ledger")),
        sa.UniqueConstraint("event_id", name=op.f("uq_assessments_ledger_event_id")),
    )
    with op.batch_alter_table("assessments_ledger", schema=None) as batch_op:
        batch_op.create_index("ix_assessments_ledger_fact_day", ["fact", "occurred_on"], unique=False)

    op.create_table(
        "assessments_results",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("jurisdiction_code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("level", sa.String(length=10), nullable=False),
        sa.Column("path", PathString, nullable=False),
        sa.Column("score", sa.Float(), nullable=True),
        sa.Column("grade", sa.String(length=10), nullable=True),
        sa.Column("rank", sa.Integer(), nullable=True),
        sa.Column("peers", sa.Integer(), nullable=False),
        sa.Column("vetoed", sa.Boolean(), nullable=False),
        sa.Column("veto_reason", sa.Text(), nullable=True),
        sa.Column("components", sa.Text(), nullable=False),
        sa.Column("deductions", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assessments_results")),
        sa.UniqueConstraint(
            "run_id", "jurisdiction_code", name=op.f("uq_assessments_results_run_id_jurisdiction_code")
        ),
    )
    with op.batch_alter_table("assessments_results", schema=None) as batch_op:
        batch_op.create_index("ix_assessments_results_rank", ["run_id", "level", "path"], unique=False)

    op.create_table(
        "assessments_runs",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("period", sa.String(length=7), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("computed_at", UTCDateTime(), nullable=False),
        sa.Column("computed_by", sa.String(length=64), nullable=False),
        sa.Column("rubric_digest", sa.String(length=64), nullable=False),
        sa.Column("assessed", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assessments_runs")),
    )
    with op.batch_alter_table("assessments_runs", schema=None) as batch_op:
        batch_op.create_index("ix_assessments_runs_period", ["period", "id"], unique=False)

    op.create_table(
        "assessments_tasks",
        sa.Column("task_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("category", sa.String(length=50), nullable=True),
        sa.Column("path", PathString, nullable=False),
        sa.Column("city_code", sa.String(length=32), nullable=False),
        sa.Column("district_code", sa.String(length=32), nullable=True),
        sa.Column("township_code", sa.String(length=32), nullable=True),
        sa.Column("village_code", sa.String(length=32), nullable=True),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("target_quantity", ScaledDecimal(), nullable=True),
        sa.Column("completed_quantity", ScaledDecimal(), nullable=False),
        sa.Column("split", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("done_on", sa.Date(), nullable=True),
        sa.PrimaryKeyConstraint("task_id", name=op.f("pk_assessments_tasks")),
    )
    with op.batch_alter_table("assessments_tasks", schema=None) as batch_op:
        batch_op.create_index("ix_assessments_tasks_district", ["district_code", "due_date"], unique=False)
        batch_op.create_index("ix_assessments_tasks_due", ["due_date"], unique=False)
        batch_op.create_index("ix_assessments_tasks_township", ["township_code", "due_date"], unique=False)
        batch_op.create_index("ix_assessments_tasks_village", ["village_code", "due_date"], unique=False)

    op.create_table(
        "assessments_vetoes",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("period", sa.String(length=7), nullable=False),
        sa.Column("jurisdiction_code", sa.String(length=32), nullable=False),
        sa.Column("path", PathString, nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("recorded_by", sa.String(length=64), nullable=False),
        sa.Column("recorded_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assessments_vetoes")),
        sa.UniqueConstraint("period", "jurisdiction_code", name=op.f("uq_assessments_vetoes_period_jurisdiction_code")),
    )
    op.create_table(
        "chiefs_chiefs",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("name", sa.String(length=50), nullable=False),
        sa.Column("post", sa.String(length=100), nullable=False),
        sa.Column("role", sa.String(length=10), nullable=False),
        sa.Column("jurisdiction_code", sa.String(length=32), nullable=False),
        sa.Column("jurisdiction_path", PathString, nullable=False),
        sa.Column("term_start", sa.Date(), nullable=False),
        sa.Column("term_end", sa.Date(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("end_reason", sa.Text(), nullable=True),
        sa.Column("predecessor_id", sa.Integer(), nullable=True),
        sa.Column("successor_id", sa.Integer(), nullable=True),
        sa.Column("username", sa.String(length=64), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint("role IN ('general', 'deputy', 'chief')", name=op.f("ck_chiefs_chiefs_role")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chiefs_chiefs")),
    )
    with op.batch_alter_table("chiefs_chiefs", schema=None) as batch_op:
        batch_op.create_index("ix_chiefs_chiefs_jurisdiction", ["jurisdiction_code", "active"], unique=False)
        batch_op.create_index("ix_chiefs_chiefs_path", ["jurisdiction_path", "id"], unique=False)

    op.create_table(
        "chiefs_inbox_items",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("jurisdiction_code", sa.String(length=32), nullable=False),
        sa.Column("jurisdiction_path", PathString, nullable=False),
        sa.Column("task_id", sa.BigInteger(), nullable=False),
        sa.Column("box", sa.String(length=20), nullable=False),
        sa.Column("reason", sa.String(length=20), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("category", sa.String(length=50), nullable=True),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("owner_code", sa.String(length=32), nullable=False),
        sa.Column("holder_code", sa.String(length=32), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("deadline", sa.Date(), nullable=False),
        sa.Column("open", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chiefs_inbox_items")),
        sa.UniqueConstraint(
            "task_id", "box", "jurisdiction_code", name=op.f("uq_chiefs_inbox_items_task_id_box_jurisdiction_code")
        ),
    )
    with op.batch_alter_table("chiefs_inbox_items", schema=None) as batch_op:
        batch_op.create_index(
            "ix_chiefs_inbox_items_open", ["jurisdiction_code", "open", "deadline", "id"], unique=False
        )

    op.create_table(
        "chiefs_task_revisions",
        sa.Column("task_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("task_id", name=op.f("pk_chiefs_task_revisions")),
    )
    op.create_table(
        "identity_users",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("password_hash", sa.Text(), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("jurisdiction_code", sa.String(length=32), nullable=True),
        sa.Column("jurisdiction_path", PathString, nullable=False),
        sa.Column("chief_id", sa.Integer(), nullable=True),
        sa.Column("grants", sa.Text(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("token_version", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by"], ["identity_users.id"], name=op.f("fk_identity_users_created_by_identity_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_identity_users")),
        sa.UniqueConstraint("username", name=op.f("uq_identity_users_username")),
    )
    with op.batch_alter_table("identity_users", schema=None) as batch_op:
        batch_op.create_index("ix_identity_users_path", ["jurisdiction_path"], unique=False)

    op.create_table(
        "jurisdictions_chief_terms",
        sa.Column("chief_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("jurisdiction_code", sa.String(length=32), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("chief_id", name=op.f("pk_jurisdictions_chief_terms")),
    )
    with op.batch_alter_table("jurisdictions_chief_terms", schema=None) as batch_op:
        batch_op.create_index("ix_jurisdictions_chief_terms_unit", ["jurisdiction_code", "active"], unique=False)

    op.create_table(
        "jurisdictions_units",
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("level", sa.String(length=10), nullable=False),
        sa.Column("parent_code", sa.String(length=32), nullable=True),
        sa.Column("path", PathString, nullable=False),
        sa.Column("active_chiefs", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint(
            "level IN ('city', 'district', 'township', 'village')", name=op.f("ck_jurisdictions_units_level")
        ),
        sa.CheckConstraint("active_chiefs >= 0", name=op.f("ck_jurisdictions_units_active_chiefs")),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_jurisdictions_units")),
        sa.UniqueConstraint("path", name=op.f("uq_jurisdictions_units_path")),
    )
    with op.batch_alter_table("jurisdictions_units", schema=None) as batch_op:
        batch_op.create_index("ix_jurisdictions_units_level_path", ["level", "path"], unique=False)
        batch_op.create_index("ix_jurisdictions_units_parent", ["parent_code", "code"], unique=False)

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
        "tasks_sweeps",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("as_of", UTCDateTime(), nullable=False),
        sa.Column("started_at", UTCDateTime(), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("escalated", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tasks_sweeps")),
    )
    with op.batch_alter_table("tasks_sweeps", schema=None) as batch_op:
        batch_op.create_index("ix_tasks_sweeps_as_of", ["as_of"], unique=False)

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
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("jurisdiction_code", sa.String(length=32), nullable=False),
        sa.Column("jurisdiction_path", PathString, nullable=False),
        sa.Column("city_code", sa.String(length=32), nullable=False),
        sa.Column("district_code", sa.String(length=32), nullable=True),
        sa.Column("township_code", sa.String(length=32), nullable=True),
        sa.Column("village_code", sa.String(length=32), nullable=True),
        sa.Column("holder_code", sa.String(length=32), nullable=False),
        sa.Column("holder_path", PathString, nullable=False),
        sa.Column("holder_level", sa.String(length=10), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("escalation_due_date", sa.Date(), nullable=True),
        sa.Column("next_escalation_on", sa.Date(), nullable=False),
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
            "ix_tasks_tasks_escalatable",
            ["next_escalation_on"],
            unique=False,
            postgresql_where=sa.text("status = 'open' AND holder_level <> 'city'"),
            sqlite_where=sa.text("status = 'open' AND holder_level <> 'city'"),
        )
        batch_op.create_index(
            "ix_tasks_tasks_escalated",
            ["holder_level", "holder_path"],
            unique=False,
            postgresql_where=sa.text("status <> 'done' AND holder_code <> jurisdiction_code"),
            sqlite_where=sa.text("status <> 'done' AND holder_code <> jurisdiction_code"),
        )
        batch_op.create_index(
            "ix_tasks_tasks_jurisdiction", ["jurisdiction_code", "status", "due_date", "id"], unique=False
        )
        batch_op.create_index("ix_tasks_tasks_parent", ["parent_id"], unique=False)
        batch_op.create_index("ix_tasks_tasks_path", ["jurisdiction_path", "id"], unique=False)
        batch_op.create_index(
            "ix_tasks_tasks_open_path",
            ["jurisdiction_path", "id"],
            unique=False,
            postgresql_where=sa.text("status <> 'done'"),
            sqlite_where=sa.text("status <> 'done'"),
        )

    op.create_table(
        "tasks_escalations",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("task_id", BIG_ID, nullable=False),
        sa.Column("sweep_id", sa.String(length=36), nullable=False),
        sa.Column("from_code", sa.String(length=32), nullable=False),
        sa.Column("from_level", sa.String(length=10), nullable=False),
        sa.Column("to_code", sa.String(length=32), nullable=False),
        sa.Column("to_level", sa.String(length=10), nullable=False),
        sa.Column("to_path", PathString, nullable=False),
        sa.Column("escalation_due_date", sa.Date(), nullable=False),
        sa.Column("days_overdue", sa.Integer(), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("closed_at", UTCDateTime(), nullable=True),
        sa.CheckConstraint("to_level IN ('township', 'district', 'city')", name=op.f("ck_tasks_escalations_to_level")),
        sa.ForeignKeyConstraint(["task_id"], ["tasks_tasks.id"], name=op.f("fk_tasks_escalations_task_id_tasks_tasks")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tasks_escalations")),
        sa.UniqueConstraint("task_id", "to_level", name=op.f("uq_tasks_escalations_task_id_to_level")),
    )
    with op.batch_alter_table("tasks_escalations", schema=None) as batch_op:
        batch_op.create_index("ix_tasks_escalations_sweep", ["sweep_id"], unique=False)

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
    with op.batch_alter_table("tasks_escalations", schema=None) as batch_op:
        batch_op.drop_index("ix_tasks_escalations_sweep")

    op.drop_table("tasks_escalations")
    with op.batch_alter_table("tasks_tasks", schema=None) as batch_op:
        batch_op.drop_index(
            "ix_tasks_tasks_open_path",
            postgresql_where=sa.text("status <> 'done'"),
            sqlite_where=sa.text("status <> 'done'"),
        )
        batch_op.drop_index("ix_tasks_tasks_path")
        batch_op.drop_index("ix_tasks_tasks_parent")
        batch_op.drop_index("ix_tasks_tasks_jurisdiction")
        batch_op.drop_index(
            "ix_tasks_tasks_escalated",
            postgresql_where=sa.text("status <> 'done' AND holder_code <> jurisdiction_code"),
            sqlite_where=sa.text("status <> 'done' AND holder_code <> jurisdiction_code"),
        )
        batch_op.drop_index(
            "ix_tasks_tasks_escalatable",
            postgresql_where=sa.text("status = 'open' AND holder_level <> 'city'"),
            sqlite_where=sa.text("status = 'open' AND holder_level <> 'city'"),
        )

    op.drop_table("tasks_tasks")
    with op.batch_alter_table("tasks_sweeps", schema=None) as batch_op:
        batch_op.drop_index("ix_tasks_sweeps_as_of")

    op.drop_table("tasks_sweeps")
    op.drop_table("tasks_plans")
    with op.batch_alter_table("jurisdictions_units", schema=None) as batch_op:
        batch_op.drop_index("ix_jurisdictions_units_parent")
        batch_op.drop_index("ix_jurisdictions_units_level_path")

    op.drop_table("jurisdictions_units")
    with op.batch_alter_table("jurisdictions_chief_terms", schema=None) as batch_op:
        batch_op.drop_index("ix_jurisdictions_chief_terms_unit")

    op.drop_table("jurisdictions_chief_terms")
    with op.batch_alter_table("identity_users", schema=None) as batch_op:
        batch_op.drop_index("ix_identity_users_path")

    op.drop_table("identity_users")
    op.drop_table("chiefs_task_revisions")
    with op.batch_alter_table("chiefs_inbox_items", schema=None) as batch_op:
        batch_op.drop_index("ix_chiefs_inbox_items_open")

    op.drop_table("chiefs_inbox_items")
    with op.batch_alter_table("chiefs_chiefs", schema=None) as batch_op:
        batch_op.drop_index("ix_chiefs_chiefs_path")
        batch_op.drop_index("ix_chiefs_chiefs_jurisdiction")

    op.drop_table("chiefs_chiefs")
    op.drop_table("assessments_vetoes")
    with op.batch_alter_table("assessments_tasks", schema=None) as batch_op:
        batch_op.drop_index("ix_assessments_tasks_village")
        batch_op.drop_index("ix_assessments_tasks_township")
        batch_op.drop_index("ix_assessments_tasks_due")
        batch_op.drop_index("ix_assessments_tasks_district")

    op.drop_table("assessments_tasks")
    with op.batch_alter_table("assessments_runs", schema=None) as batch_op:
        batch_op.drop_index("ix_assessments_runs_period")

    op.drop_table("assessments_runs")
    with op.batch_alter_table("assessments_results", schema=None) as batch_op:
        batch_op.drop_index("ix_assessments_results_rank")

    op.drop_table("assessments_results")
    with op.batch_alter_table("assessments_ledger", schema=None) as batch_op:
        batch_op.drop_index("ix_assessments_ledger_fact_day")

    op.drop_table("assessments_ledger")
    op.drop_table("assessments_bonuses")
