"""patrols: rangers, patrols, track points, point batches, patrol areas

Revision ID: 0011_patrols
Revises: 0010_report_intake
Create Date: 2026-12-01 22:30:45.805078
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from linzhang.db.base import UTCDateTime

revision: str = "0011_patrols"
down_revision: str | None = "0010_report_intake"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "patrols_areas",
        sa.Column("jurisdiction_code", sa.String(length=32), nullable=False),
        sa.Column(
            "jurisdiction_path",
            sa.String(length=400).with_variant(sa.String(length=400, collation="C"), "postgresql"),
            nullable=False,
        ),
        sa.Column("geometry", sa.Text(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("jurisdiction_code", name=op.f("pk_patrols_areas")),
    )
    op.create_table(
        "patrols_patrols",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("person_kind", sa.String(length=10), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("person_name", sa.String(length=50), nullable=False),
        sa.Column("post", sa.String(length=20), nullable=False),
        sa.Column("jurisdiction_code", sa.String(length=32), nullable=False),
        sa.Column(
            "jurisdiction_path",
            sa.String(length=400).with_variant(sa.String(length=400, collation="C"), "postgresql"),
            nullable=False,
        ),
        sa.Column("source", sa.String(length=10), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("started_at", UTCDateTime(), nullable=False),
        sa.Column("ended_at", UTCDateTime(), nullable=True),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("point_count", sa.Integer(), nullable=False),
        sa.Column("distance_m", sa.Float(), nullable=True),
        sa.Column("duration_s", sa.Float(), nullable=True),
        sa.Column("max_speed_kmh", sa.Float(), nullable=True),
        sa.Column("fingerprint", sa.String(length=64), nullable=True),
        sa.Column("valid", sa.Boolean(), nullable=True),
        sa.Column("reasons", sa.Text(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("judged_at", UTCDateTime(), nullable=True),
        sa.CheckConstraint("person_kind IN ('ranger', 'chief')", name=op.f("ck_patrols_patrols_person_kind")),
        sa.CheckConstraint("status IN ('open', 'judged')", name=op.f("ck_patrols_patrols_status")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_patrols_patrols")),
    )
    with op.batch_alter_table("patrols_patrols", schema=None) as batch_op:
        batch_op.create_index("ix_patrols_patrols_fingerprint", ["fingerprint"], unique=False)
        batch_op.create_index("ix_patrols_patrols_path_day", ["jurisdiction_path", "day", "id"], unique=False)
        batch_op.create_index("ix_patrols_patrols_person", ["person_kind", "person_id", "day"], unique=False)

    op.create_table(
        "patrols_point_batches",
        sa.Column("patrol_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("batch_key", sa.String(length=100), nullable=False),
        sa.Column("point_count", sa.Integer(), nullable=False),
        sa.Column("received_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("patrol_id", "batch_key", name=op.f("pk_patrols_point_batches")),
    )
    op.create_table(
        "patrols_points",
        sa.Column("patrol_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("accuracy", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("patrol_id", "seq", name=op.f("pk_patrols_points")),
    )
    op.create_table(
        "patrols_rangers",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("name", sa.String(length=50), nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=False),
        sa.Column("post", sa.String(length=20), nullable=False),
        sa.Column("jurisdiction_code", sa.String(length=32), nullable=False),
        sa.Column(
            "jurisdiction_path",
            sa.String(length=400).with_variant(sa.String(length=400, collation="C"), "postgresql"),
            nullable=False,
        ),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("started_on", sa.Date(), nullable=False),
        sa.Column("ended_on", sa.Date(), nullable=True),
        sa.Column("predecessor_id", sa.Integer(), nullable=True),
        sa.Column("successor_id", sa.Integer(), nullable=True),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("username", sa.String(length=64), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint("post IN ('ranger', 'supervisor')", name=op.f("ck_patrols_rangers_post")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_patrols_rangers")),
    )
    with op.batch_alter_table("patrols_rangers", schema=None) as batch_op:
        batch_op.create_index("ix_patrols_rangers_path", ["jurisdiction_path", "id"], unique=False)
        batch_op.create_index("ix_patrols_rangers_phone", ["phone", "active"], unique=False)
        batch_op.create_index("ix_patrols_rangers_user", ["user_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("patrols_rangers", schema=None) as batch_op:
        batch_op.drop_index("ix_patrols_rangers_user")
        batch_op.drop_index("ix_patrols_rangers_phone")
        batch_op.drop_index("ix_patrols_rangers_path")

    op.drop_table("patrols_rangers")
    op.drop_table("patrols_points")
    op.drop_table("patrols_point_batches")
    with op.batch_alter_table("patrols_patrols", schema=None) as batch_op:
        batch_op.drop_index("ix_patrols_patrols_person")
        batch_op.drop_index("ix_patrols_patrols_path_day")
        batch_op.drop_index("ix_patrols_patrols_fingerprint")

    op.drop_table("patrols_patrols")
    op.drop_table("patrols_areas")
