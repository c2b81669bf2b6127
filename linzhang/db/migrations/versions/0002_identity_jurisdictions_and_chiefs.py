"""identity, jurisdictions and chiefs

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28 23:06:33.834393
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from linzhang.db.base import PathString, UTCDateTime

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
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
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("chief_id", sa.Integer(), nullable=False),
        sa.Column("task_id", sa.Integer(), nullable=False),
        sa.Column("box", sa.String(length=20), nullable=False),
        sa.Column("reason", sa.String(length=20), nullable=False),
        sa.Column("open", sa.Boolean(), nullable=False),
        sa.Column("handed_over_from", sa.Integer(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chiefs_inbox_items")),
    )
    with op.batch_alter_table("chiefs_inbox_items", schema=None) as batch_op:
        batch_op.create_index("ix_chiefs_inbox_items_chief", ["chief_id", "open"], unique=False)

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


def downgrade() -> None:
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
    with op.batch_alter_table("chiefs_inbox_items", schema=None) as batch_op:
        batch_op.drop_index("ix_chiefs_inbox_items_chief")

    op.drop_table("chiefs_inbox_items")
    with op.batch_alter_table("chiefs_chiefs", schema=None) as batch_op:
        batch_op.drop_index("ix_chiefs_chiefs_path")
        batch_op.drop_index("ix_chiefs_chiefs_jurisdiction")

    op.drop_table("chiefs_chiefs")
