"""account lifecycle: case-folded usernames, display names, login failure counters

Revision ID: 0005_account_lifecycle
Revises: 0009_retention
Create Date: 2026-12-01 19:30:00

Usernames become unique case-folded (``Admin`` cannot sit beside ``admin``). Existing accounts that
differ only in case stop the upgrade with their names: an administrator renames one of them first.
Existing accounts get a display name: a chief account its chief's name, the others their
jurisdiction's name and their role; what they did before (task creators, timelines, sweeps,
assessments) is shown by that name from now on instead of their username.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from linzhang.db.base import UTCDateTime

revision: str = "0005_account_lifecycle"
down_revision: str | None = "0009_retention"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Columns that name who did something, by username until this revision.
ACTOR_COLUMNS = (
    ("tasks_tasks", "created_by"),
    ("tasks_timeline", "actor"),
    ("tasks_sweeps", "actor"),
    ("tasks_summonses", "created_by"),
    ("assessments_vetoes", "recorded_by"),
    ("assessments_bonuses", "recorded_by"),
    ("assessments_runs", "computed_by"),
    ("assessments_runs", "published_by"),
    ("platform_test_clock", "moved_by"),
)
ROLE_LABELS = {"admin": "系统管理员", "office": "林长办", "chief": "林长", "integration": "对接系统"}
DISPLAY_NAME_MAX_LENGTH = 64


def upgrade() -> None:
    with op.batch_alter_table("identity_users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("username_folded", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("display_name", sa.String(length=64), nullable=False, server_default=""))

    connection = op.get_bind()
    users = sa.table(
        "identity_users",
        sa.column("id", sa.Integer()),
        sa.column("username", sa.String()),
        sa.column("username_folded", sa.String()),
        sa.column("display_name", sa.String()),
        sa.column("role", sa.String()),
        sa.column("jurisdiction_code", sa.String()),
        sa.column("chief_id", sa.Integer()),
    )
    chiefs = sa.table("chiefs_chiefs", sa.column("id", sa.Integer()), sa.column("name", sa.String()))
    units = sa.table("jurisdictions_units", sa.column("code", sa.String()), sa.column("name", sa.String()))
    rows = connection.execute(
        sa.select(users.c.id, users.c.username, users.c.role, users.c.jurisdiction_code, users.c.chief_id)
    ).all()
    clashes: dict[str, list[str]] = {}
    for row in rows:
        clashes.setdefault(row.username.casefold(), []).append(row.username)
    duplicates = [names for names in clashes.values() if len(names) > 1]
    if duplicates:
        listed = "; ".join(", ".join(names) for names in duplicates)
        raise RuntimeError(f"accounts whose usernames differ only in case must be renamed first: {listed}")
    chief_names = dict(connection.execute(sa.select(chiefs.c.id, chiefs.c.name)).all())
    unit_names = dict(connection.execute(sa.select(units.c.code, units.c.name)).all())
    for row in rows:
        label = ROLE_LABELS.get(row.role, "")
        name = chief_names.get(row.chief_id) if row.chief_id is not None else None
        if not name:
            name = unit_names.get(row.jurisdiction_code, "")[: DISPLAY_NAME_MAX_LENGTH - len(label)] + label
        name = name[:DISPLAY_NAME_MAX_LENGTH]
        connection.execute(
            users.update()
            .where(users.c.id == row.id)
            .values(username_folded=row.username.casefold(), display_name=name)
        )

    # One pass over each table: a correlated look-up by username (unique, indexed) per row.
    for table_name, column_name in ACTOR_COLUMNS:
        # The names come from ACTOR_COLUMNS above, never from input.
        statement = (
            f"UPDATE {table_name} SET {column_name} = (SELECT u.display_name FROM identity_users u"  # noqa: S608
            f" WHERE u.username = {table_name}.{column_name})"
            f" WHERE {column_name} IN (SELECT username FROM identity_users)"
        )
        op.execute(statement)

    with op.batch_alter_table("identity_users", schema=None) as batch_op:
        batch_op.alter_column("username_folded", existing_type=sa.String(length=64), nullable=False)
        batch_op.alter_column("display_name", existing_type=sa.String(length=64), server_default=None)
        batch_op.create_unique_constraint(batch_op.f("uq_identity_users_username_folded"), ["username_folded"])

    op.create_table(
        "identity_login_failures",
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_failure_at", UTCDateTime(), nullable=False),
        sa.Column("blocked_until", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_identity_login_failures")),
    )


def downgrade() -> None:
    op.drop_table("identity_login_failures")
    with op.batch_alter_table("identity_users", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_identity_users_username_folded"), type_="unique")
        batch_op.drop_column("display_name")
        batch_op.drop_column("username_folded")
