"""task rules: acceptance (验收) dates, planned summonses (约谈), the review box, categories as a vocabulary

Revision ID: 0003_task_rules
Revises: 0002
Create Date: 2026-12-01 19:00:00

The category mapping below is the one of this revision, written out so the migration keeps meaning the
same thing whatever config/categories.toml says later. Codes already in the vocabulary stay; the 2021
plan's and the demo's old free-text codes, and the vocabulary's Chinese names typed as codes, map to
their code; anything else becomes ``other``. Empty categories stay empty. Going down keeps the mapped
codes (the old free text is not recoverable, and is not needed by the older code).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from linzhang.db.base import PathString, UTCDateTime

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

revision: str = "0003_task_rules"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

VOCABULARY = {
    "afforestation": "造林绿化",
    "forest_quality": "森林质量提升",
    "ecological_restoration": "生态修复",
    "fire_prevention": "森林防火",
    "pest_control": "有害生物防治",
    "resource_protection": "资源保护",
    "illegal_logging": "乱砍滥伐",
    "illegal_land_use": "违法占地",
    "seedlings": "种苗保障",
    "carbon_sink": "林业碳汇",
    "reform": "改革创新",
    "forest_chief_system": "林长制建设",
    "other": "其他",
}
OLD_CODES = {
    # the 2021 plan's first categories
    "ancient_trees": "resource_protection",
    "corridor_greening": "afforestation",
    "duties": "forest_chief_system",
    "forest_city": "afforestation",
    "forest_monitoring": "resource_protection",
    "four_mountains": "resource_protection",
    "green_villages": "afforestation",
    "land_use_control": "resource_protection",
    "law_enforcement": "illegal_logging",
    "legislation": "forest_chief_system",
    "planning": "forest_chief_system",
    "quality": "forest_quality",
    "restoration": "ecological_restoration",
    "rural_greening": "afforestation",
    "tenure_reform": "reform",
    "urban_greening": "afforestation",
    "voluntary_planting": "afforestation",
    "volunteer_forests": "afforestation",
    # what people typed
    "病虫害": "pest_control",
    "病虫害防治": "pest_control",
    "防火": "fire_prevention",
    "森林火灾": "fire_prevention",
    "盗伐": "illegal_logging",
    "滥伐": "illegal_logging",
    "毁林": "illegal_logging",
    "占地": "illegal_land_use",
    "非法占地": "illegal_land_use",
    "造林": "afforestation",
}
CATEGORY_COLUMNS = (("tasks_tasks", "category"), ("chiefs_inbox_items", "category"), ("assessments_tasks", "category"))


def category_code(old: str) -> str:
    """The vocabulary code an old free-text category becomes."""
    value = old.strip()
    if value in VOCABULARY:
        return value
    by_name = {name: code for code, name in VOCABULARY.items()}
    return OLD_CODES.get(value) or OLD_CODES.get(value.lower()) or by_name.get(value) or "other"


def _map_categories() -> None:
    connection = op.get_bind()
    for table, column in CATEGORY_COLUMNS:
        t = sa.table(table, sa.column(column, sa.String(50)))
        found = connection.execute(sa.select(t.c[column]).where(t.c[column].is_not(None)).distinct()).scalars()
        for old in list(found):
            new = category_code(old)
            if new != old:
                connection.execute(sa.update(t).where(t.c[column] == old).values({column: new}))


def upgrade() -> None:
    with op.batch_alter_table("tasks_tasks", schema=None) as batch_op:
        batch_op.add_column(sa.Column("submitted_on", sa.Date(), nullable=True))
    op.create_table(
        "tasks_summonses",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("task_id", BIG_ID, nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("summoning_code", sa.String(length=32), nullable=False),
        sa.Column("summoned_code", sa.String(length=32), nullable=False),
        sa.Column("summoned_path", PathString, nullable=False),
        sa.Column("planned_on", sa.Date(), nullable=True),
        sa.Column("held_on", sa.Date(), nullable=True),
        sa.Column("place", sa.String(length=200), nullable=True),
        sa.Column("attendees", sa.Text(), nullable=False),
        sa.Column("minutes", sa.Text(), nullable=True),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint("status IN ('planned', 'held')", name=op.f("ck_tasks_summonses_status")),
        sa.ForeignKeyConstraint(["task_id"], ["tasks_tasks.id"], name=op.f("fk_tasks_summonses_task_id_tasks_tasks")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tasks_summonses")),
    )
    with op.batch_alter_table("tasks_summonses", schema=None) as batch_op:
        batch_op.create_index("ix_tasks_summonses_task", ["task_id", "id"], unique=False)
    with op.batch_alter_table("chiefs_inbox_items", schema=None) as batch_op:
        batch_op.add_column(sa.Column("summons_id", sa.BigInteger(), nullable=True))
        batch_op.drop_constraint("uq_chiefs_inbox_items_task_id_box_jurisdiction_code", type_="unique")
        batch_op.create_unique_constraint(
            op.f("uq_chiefs_inbox_items_task_id_box_reason_jurisdiction_code"),
            ["task_id", "box", "reason", "jurisdiction_code"],
        )
    _map_categories()


def downgrade() -> None:
    connection = op.get_bind()
    # The older code knows no summonses' items, and its unique key has no room for them.
    connection.execute(sa.text("DELETE FROM chiefs_inbox_items WHERE reason = 'summons'"))
    with op.batch_alter_table("chiefs_inbox_items", schema=None) as batch_op:
        batch_op.drop_constraint("uq_chiefs_inbox_items_task_id_box_reason_jurisdiction_code", type_="unique")
        batch_op.create_unique_constraint(
            op.f("uq_chiefs_inbox_items_task_id_box_jurisdiction_code"), ["task_id", "box", "jurisdiction_code"]
        )
        batch_op.drop_column("summons_id")
    with op.batch_alter_table("tasks_summonses", schema=None) as batch_op:
        batch_op.drop_index("ix_tasks_summonses_task")
    op.drop_table("tasks_summonses")
    with op.batch_alter_table("tasks_tasks", schema=None) as batch_op:
        batch_op.drop_column("submitted_on")
