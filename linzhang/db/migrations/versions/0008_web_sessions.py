"""web sessions: the pages' signed-in browsers

Revision ID: 0008
Revises: 0003_task_rules
Create Date: 2026-12-01 19:10:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from linzhang.db.base import UTCDateTime

revision: str = "0008"
down_revision: str | None = "0003_task_rules"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "identity_web_sessions",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("token_version", sa.Integer(), nullable=False),
        sa.Column("csrf_token", sa.String(length=64), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["identity_users.id"], name=op.f("fk_identity_web_sessions_user_id_identity_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_identity_web_sessions")),
    )
    op.create_index("ix_identity_web_sessions_expires", "identity_web_sessions", ["expires_at"], unique=False)
    op.create_index("ix_identity_web_sessions_user", "identity_web_sessions", ["user_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_identity_web_sessions_user", table_name="identity_web_sessions")
    op.drop_index("ix_identity_web_sessions_expires", table_name="identity_web_sessions")
    op.drop_table("identity_web_sessions")
